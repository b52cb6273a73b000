// parse-options -- option values checked once, with messages that name the
// option and the bad value.

import { usageError } from '../_internals/errors';

/** nonNegativeInteger -- a parser for commander options and arguments. */
export function nonNegativeInteger(what: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value.trim())) {
      throw usageError(`${what} must be a non-negative integer, not '${value}'`);
    }
    const number = Number(value);
    if (!Number.isSafeInteger(number)) throw usageError(`${what} is too large: ${value}`);
    return number;
  };
}

/** integerAtLeast -- an integer of at least `min`; `why` explains the bound. */
export function integerAtLeast(min: number, what: string, why?: string): (value: string) => number {
  const parse = nonNegativeInteger(what);
  return (value: string) => {
    const number = parse(value);
    if (number < min) throw usageError(`${what} must be at least ${min}${why ? ` (${why})` : ''}`);
    return number;
  };
}

export function positiveInteger(what: string): (value: string) => number {
  return integerAtLeast(1, what);
}

/** px86 keeps the two images every crash point has at least. */
export const maxStatesOption = integerAtLeast(2, '--max-states', 'px86 always checks the oldest and newest image');

/** The shortest time limit: no program starts, runs and exits reliably in
 *  less on a loaded machine, so a smaller one only makes false timeouts. */
export const MIN_TIMEOUT_SECONDS = 0.1;
/** The longest: a year (timers longer than Node's 24.8 days are armed in
 *  chunks, _internals/deadline.ts). */
export const MAX_TIMEOUT_SECONDS = 365 * 24 * 3600;

/** seconds -- "10", "0.5" → milliseconds, within the limits above. */
export function secondsToMs(what: string): (value: string) => number {
  return (value: string) => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
      throw usageError(`${what} must be a positive number of seconds, not '${value}'`);
    }
    if (number < MIN_TIMEOUT_SECONDS || number > MAX_TIMEOUT_SECONDS) {
      throw usageError(
        `${what} must be between ${MIN_TIMEOUT_SECONDS} and ${MAX_TIMEOUT_SECONDS} seconds, not '${value}'`,
      );
    }
    return Math.round(number * 1000);
  };
}

/** collect -- repeatable options (--pm A --pm B). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** requireDoubleDash -- the traced command follows `--`, so that its own
 *  options are never taken for pmfit's. */
export function requireDoubleDash(rawArgs: string[], usage: string): void {
  if (!rawArgs.includes('--')) {
    throw usageError(`missing -- before the command to trace (usage: ${usage})`);
  }
}

/** Which recorder makes a trace (docs/recording.md): `fast` runs regions at
 *  full speed between PM accesses, `exact` single-steps every instruction. */
export type RecorderName = 'fast' | 'exact';

/** chooseRecorder -- `--exact` / `--fast` as given (undefined: neither);
 *  both at once is a usage error. */
export function chooseRecorder(options: { exact?: boolean; fast?: boolean }): RecorderName | undefined {
  if (options.exact === true && options.fast === true)
    throw usageError('--exact and --fast choose different recorders: give one');
  if (options.exact === true) return 'exact';
  if (options.fast === true) return 'fast';
  return undefined;
}
