// command-not-run -- a recovery that the shell could not start on an image.
//
// `sh -c CMD` exits 127 when CMD is not found and 126 when it is found but
// cannot be executed (no execute permission, a directory, a bad
// interpreter). Neither says anything about the crash image: the recovery
// never looked at it. The preflight catches a recovery that cannot run at
// all; one that reaches a missing command only on some images (a branch of
// the script, a tool removed while pmfit ran) would otherwise turn those
// images into recovery-failed violations, a wrong verdict. It is an
// environment error instead (exit 2), naming the image and the shell's own
// message.

import { PmfitError } from '../_internals/errors';
import type { SpecCommand } from './spec';

/** Shell statuses that mean the command could not run. */
const NOT_RUN: Record<number, string> = { 126: 'cannot be executed', 127: 'not found' };

export class CommandNotRunError extends PmfitError {
  constructor(
    readonly command: string,
    readonly status: number,
    /** The shell's message: the last line of the command's output. */
    readonly shellMessage: string,
  ) {
    super(CommandNotRunError.text(command, status, shellMessage, 'an image'));
  }

  /** onImage -- the same error, naming the image it happened on. */
  onImage(image: string): PmfitError {
    return new PmfitError(CommandNotRunError.text(this.command, this.status, this.shellMessage, image));
  }

  private static text(command: string, exitCode: number, shellMessage: string, image: string): string {
    const why = shellMessage !== '' ? shellMessage : `a command ${NOT_RUN[exitCode]}`;
    return `the recovery could not run on ${image}: ${command} exited with status ${exitCode} (${why}); check that every command it runs exists and is executable`;
  }
}

/** commandNotRun -- the error for a recovery command that failed with
 *  `exitCode`, when that status means the shell could not run it. */
export function commandNotRun(
  command: SpecCommand,
  shown: string,
  exitCode: number,
  output: string,
): CommandNotRunError | undefined {
  if (command.shell === undefined || NOT_RUN[exitCode] === undefined) return undefined;
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  return new CommandNotRunError(shown, exitCode, (lines[lines.length - 1] ?? '').trim());
}
