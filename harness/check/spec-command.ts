// spec-command -- a spec's commands made concrete for one working directory,
// by the rule check/spec.ts documents: `{dir}` becomes the directory and
// `{file}` the first PM file in it, in every argument of an argv command; in
// a shell line both become shell-quoted words. Every place that runs or
// shows a spec command (recording, explaining, recovering, reproduce lines)
// goes through here, so the rule holds the same everywhere.

import * as path from 'path';
import { PmfitError } from '../_internals/errors';
import { shellQuote } from '../_internals/shell-words';
import type { SpecCommand, TargetSpec } from './spec';

/** What `{dir}` and `{file}` stand for. */
export interface Placeholders {
  dir: string;
  /** Absent when the spec names no PM file: `{file}` then stays as written. */
  file?: string;
}

/** placeholders -- the values in `dir` for a spec with these PM files
 *  (names relative to the directory; `{file}` is the first). */
export function placeholders(dir: string, pmFiles: readonly string[]): Placeholders {
  return pmFiles.length > 0 ? { dir, file: path.join(dir, pmFiles[0]) } : { dir };
}

function fill(text: string, values: Placeholders, quote: (word: string) => string): string {
  return text.replace(/\{(dir|file)\}/g, (whole, name: 'dir' | 'file') => {
    const value = values[name];
    return value === undefined ? whole : quote(value);
  });
}

/** A command ready for spawn: the program, its arguments, and whether it
 *  is `/bin/sh -c LINE`. */
export interface Invocation {
  file: string;
  args: string[];
  shell: boolean;
}

/** invocation -- `command` with its placeholders filled in. */
export function invocation(command: SpecCommand, values: Placeholders): Invocation {
  if (command.shell !== undefined) {
    return { file: '/bin/sh', args: ['-c', fill(command.shell, values, shellQuote)], shell: true };
  }
  if (command.argv.length === 0) throw new PmfitError('spec command with an empty argv');
  const [file, ...args] = command.argv.map((arg) => fill(arg, values, (word) => word));
  return { file, args, shell: false };
}

/** shellLine -- `command` with its placeholders filled in, as one line a
 *  shell runs the same way (for reproduce lines). */
export function shellLine(command: SpecCommand, values: Placeholders): string {
  if (command.shell !== undefined) return fill(command.shell, values, shellQuote);
  return command.argv.map((arg) => shellQuote(fill(arg, values, (word) => word))).join(' ');
}

/** The traced workload of a spec in one directory. */
export interface WorkloadLaunch {
  argv: string[];
  /** What the workload adds to pmfit's environment: the spec's `env`, then
   *  the workload's own. */
  env: Record<string, string>;
}

/** workloadLaunch -- how to start `spec`'s workload in `dir`. */
export function workloadLaunch(spec: TargetSpec, dir: string): WorkloadLaunch {
  const { file, args } = invocation(spec.workload, placeholders(dir, spec.pmFiles));
  return { argv: [file, ...args], env: { ...spec.env, ...spec.workload.env } };
}
