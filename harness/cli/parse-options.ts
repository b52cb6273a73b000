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

export function positiveInteger(what: string): (value: string) => number {
  const parse = nonNegativeInteger(what);
  return (value: string) => {
    const number = parse(value);
    if (number === 0) throw usageError(`${what} must be at least 1`);
    return number;
  };
}

/** seconds -- "10", "0.5" → milliseconds. */
export function secondsToMs(what: string): (value: string) => number {
  return (value: string) => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
      throw usageError(`${what} must be a positive number of seconds, not '${value}'`);
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
