// run-commands -- run a target's recovery commands in a directory holding a
// crash image.
//
// Each command runs in order with the directory as working directory, stdin
// from /dev/null, stdout and stderr captured, in its own process group
// (detached), so that a timeout, or the end of the command, kills everything
// it started with one SIGKILL to the group. The sequence stops at the first
// command that does not exit 0. Each command gets `timeoutMs` on its own,
// counted in pmfit's running time (_internals/deadline.ts: Ctrl-Z and fg of
// pmfit do not time a recovery out).
//
// Captured output is bounded: the combined stdout+stderr (in arrival order)
// keeps its first `outputLimit` bytes, stdout alone (which a spec's check may
// parse) its first `stdoutLimit` bytes; a note marks each truncation.
//
// Ctrl-C / SIGTERM: a registered cleanup SIGKILLs every running group; the
// interrupted sequence then throws Interrupted instead of reporting a crash.

import { ensureSentinel } from '../tracer/sentinel';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { Deadline } from '../_internals/deadline';
import { PmfitError } from '../_internals/errors';
import { throwIfInterrupted } from '../_internals/interrupt';
import { shellQuote } from '../_internals/shell-words';
import type { SpecCommand } from './spec';
import { Capture } from './_internals/capture';
import { killGroup, trackGroup, untrackGroup } from '../_internals/process-groups';
import { Invocation, invocation, placeholders } from './spec-command';

export const defaultOutputLimit = 64 * 1024;
export const defaultStdoutLimit = 1024 * 1024;

export interface RunCommandsOptions {
  /** Limit for each command, in milliseconds. */
  timeoutMs: number;
  /** Added to the harness's environment (a command's own `env` wins). */
  env?: Record<string, string>;
  /** PM file names relative to `dir`; `{file}` is the first one. */
  files?: string[];
  /** Working directory of the commands when it is not `dir` (a user's
   *  commands run where pmfit was started, so that their relative paths mean
   *  what they mean in the user's shell); `{dir}` and `{file}` still name
   *  `dir`. */
  cwd?: string;
  /** Bytes of combined stdout+stderr kept (default 64 KiB). */
  outputLimit?: number;
  /** Bytes of stdout kept for the spec's check (default 1 MiB). */
  stdoutLimit?: number;
}

export type CommandsOutcome =
  | { kind: 'ok'; output: string; stdout: string }
  | { kind: 'crashed'; signal: string; output: string; stdout: string; command: string; index: number }
  | { kind: 'timeout'; timeoutMs: number; output: string; stdout: string; command: string; index: number }
  | { kind: 'failed'; exitCode: number; output: string; stdout: string; command: string; index: number };

/** Number of recovery process groups currently running (tests use it). */
export { runningGroupCount } from '../_internals/process-groups';

// ---------------------------------------------------------------------------
// Display.

/** displayCommand -- how a command is shown in verdicts and reports. */
export function displayCommand(command: SpecCommand): string {
  if (command.shell !== undefined) return command.shell;
  return command.argv.map((word) => (/^\{(dir|file)\}$/.test(word) ? word : shellQuote(word))).join(' ');
}

/** Signal name for a number, from Node's table (undefined if unknown). */
function signalFromNumber(signal: number): string | undefined {
  const entry = Object.entries(os.constants.signals).find(([, number]) => number === signal);
  return entry?.[0];
}

// ---------------------------------------------------------------------------

/** spawnFailure -- why a command could not be started, as one line; for
 *  a resource limit, which one and what to do. */
function spawnFailure(file: string, error: NodeJS.ErrnoException): PmfitError {
  switch (error.code) {
    case 'ENOENT':
      return new PmfitError(`cannot run recovery command ${file}: not found`);
    case 'EMFILE':
    case 'ENFILE':
      return new PmfitError(
        `cannot start recovery command ${file}: too many open files (${error.code}); lower --jobs or raise the limit (ulimit -n)`,
      );
    case 'EAGAIN':
      return new PmfitError(
        `cannot start recovery command ${file}: too many processes (EAGAIN); lower --jobs or raise the limit (ulimit -u)`,
      );
    case 'ENOMEM':
      return new PmfitError(`cannot start recovery command ${file}: out of memory (ENOMEM); lower --jobs`);
    default:
      return new PmfitError(`cannot run recovery command ${file}: ${error.message}`);
  }
}

/** hasExited -- the process is a zombie (exited, not yet reaped) or gone. */
function hasExited(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

interface SingleResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
}

/** How long to wait for the pipes to close after the group was killed
 *  (a process that left the group may still hold them). */
const pipeGraceMs = 1000;

function runOne(
  inv: Invocation,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  output: Capture,
  stdout: Capture,
): Promise<SingleResult> {
  return new Promise<SingleResult>((resolve, reject) => {
    let child;
    try {
      child = spawn(inv.file, inv.args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (error) {
      reject(spawnFailure(inv.file, error as NodeJS.ErrnoException));
      return;
    }
    const pid = child.pid;
    if (pid === undefined) {
      // Not started: there are no pipes to read, only the 'error' to come.
      child.on('error', (error: NodeJS.ErrnoException) => reject(spawnFailure(inv.file, error)));
      return;
    }
    let timedOut = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: Deadline | undefined;
    let settled = false;

    trackGroup(pid);
    const timer = new Deadline(timeoutMs, () => {
      // An exit that came before the limit is an exit, even when Node has
      // not read it yet (after SIGCONT it runs expired timers first).
      if (hasExited(pid)) return;
      timedOut = true;
      killGroup(pid);
    });

    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      grace?.cancel();
      killGroup(pid);
      untrackGroup(pid);
      if (error) reject(error);
      else resolve({ exitCode: exited?.code ?? null, signal: exited?.signal ?? null, timedOut });
    };

    child.stdout.on('data', (chunk: Buffer) => {
      output.add(chunk);
      stdout.add(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => output.add(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => finish(spawnFailure(inv.file, error)));
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      // Whatever the command left running in its group goes with it.
      killGroup(pid);
      timer.cancel();
      grace = new Deadline(pipeGraceMs, () => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      });
    });
    child.on('close', () => {
      if (exited) finish();
    });
  });
}

/** runCommands -- run `commands` in order in `dir`; stop at the first one
 *  that does not exit 0. Throws Interrupted after Ctrl-C / SIGTERM, and a
 *  PmfitError when a command cannot be started at all. */
export async function runCommands(
  commands: SpecCommand[],
  dir: string,
  options: RunCommandsOptions,
): Promise<CommandsOutcome> {
  // Before the environment is read: the commands inherit the run's mark.
  ensureSentinel();
  const cwd = path.resolve(dir);
  const values = placeholders(cwd, options.files ?? []);
  const output = new Capture(options.outputLimit ?? defaultOutputLimit);
  const stdout = new Capture(options.stdoutLimit ?? defaultStdoutLimit);

  for (let index = 0; index < commands.length; index += 1) {
    throwIfInterrupted();
    const command = commands[index];
    const inv = invocation(command, values);
    const env = { ...process.env, ...options.env, ...command.env };
    const result = await runOne(inv, options.cwd ?? cwd, env, options.timeoutMs, output, stdout);
    throwIfInterrupted();
    if (result.timedOut) {
      return {
        kind: 'timeout',
        timeoutMs: options.timeoutMs,
        output: output.text(),
        stdout: stdout.text(),
        command: displayCommand(command),
        index,
      };
    }
    if (result.signal !== null) {
      return {
        kind: 'crashed',
        signal: result.signal,
        output: output.text(),
        stdout: stdout.text(),
        command: displayCommand(command),
        index,
      };
    }
    const exitCode = result.exitCode ?? 0;
    if (exitCode !== 0) {
      const shellSignal = inv.shell && exitCode > 128 ? signalFromNumber(exitCode - 128) : undefined;
      if (shellSignal !== undefined) {
        return {
          kind: 'crashed',
          signal: shellSignal,
          output: output.text(),
          stdout: stdout.text(),
          command: displayCommand(command),
          index,
        };
      }
      return {
        kind: 'failed',
        exitCode,
        output: output.text(),
        stdout: stdout.text(),
        command: displayCommand(command),
        index,
      };
    }
  }
  return { kind: 'ok', output: output.text(), stdout: stdout.text() };
}
