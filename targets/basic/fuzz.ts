// fuzz -- the basic target for `pmfit fuzz` (harness/fuzz/fuzz-target.ts):
// sequences of appended strings. basic has no crash protection, so fuzzing it
// finds torn strings: like its spec, it is the fuzzer's positive control.
//
// An operation is one string to append (one region; consecutive strings
// share one `basic FILE STRING...` invocation). Strings are 1 to 200 bytes of
// printable ASCII: never empty (basic cannot store an empty string, it marks
// the end), never a NUL. Each takes its length + 1 bytes of the 8192-byte
// file; strings that would not fit are dropped from a generated sequence, and
// the model counts an append that does not fit as invalid.
//
// Model state: the stored strings, in order (the spec's reference states).

import * as fc from 'fast-check';
import { builtProgram } from '../../harness/_internals/paths';
import type { FuzzTarget } from '../../harness/fuzz/fuzz-target';
import { basicSpec } from './spec';
import { BASIC_SIZE } from './strings-file';

export const MAX_STRING = 200;

function bytesUsed(strings: readonly string[]): number {
  return strings.reduce((sum, s) => sum + Buffer.byteLength(s) + 1, 0);
}

/** keepFitting -- the strings, without those that would overflow the file. */
function keepFitting(strings: string[]): string[] {
  const kept: string[] = [];
  for (const s of strings) if (bytesUsed(kept) + Buffer.byteLength(s) + 1 <= BASIC_SIZE) kept.push(s);
  return kept;
}

/** basicOps -- 1..maxOps printable-ASCII strings of 1..200 bytes that fit together. */
export function basicOps(maxOps: number): fc.Arbitrary<string[]> {
  return fc
    .array(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: MAX_STRING }), {
      minLength: 1,
      maxLength: Math.max(1, maxOps),
    })
    .map(keepFitting);
}

/** basicFuzz -- the fuzz target of the basic program. */
export function basicFuzz(): FuzzTarget<string, string[]> {
  const basic = builtProgram('basic');
  return {
    name: 'basic',
    baseSpec: (env) => basicSpec([], env),
    ops: basicOps,
    joins: () => true,
    command: (ops) => ({ argv: [basic, '{dir}/basic.pm', ...ops] }),
    initial: () => [],
    apply: (state, op) => (bytesUsed(state) + Buffer.byteLength(op) + 1 <= BASIC_SIZE ? [[...state, op]] : undefined),
    reference: (state) => state,
    showOp: (op) =>
      `append ${JSON.stringify(op.length > 40 ? `${op.slice(0, 30)}…` : op)}${op.length > 40 ? ` (${op.length} bytes)` : ''}`,
    parseOp(value) {
      if (
        typeof value !== 'string' ||
        value.length === 0 ||
        value.length > MAX_STRING ||
        !/^[\x20-\x7e]+$/.test(value)
      ) {
        throw new Error(`a basic operation is a string of 1 to ${MAX_STRING} printable ASCII characters`);
      }
      return value;
    },
  };
}
