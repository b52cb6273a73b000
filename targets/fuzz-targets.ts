// fuzz-targets -- the fuzz targets `pmfit fuzz` and `pmfit replay` know, by name.
// tree_broken is tree.c built with -DTREE_BROKEN (links a new node before
// persisting it): the fuzzer's bug to find. tree_mt and tree_mt_broken are
// multithreaded (an operation sequence per thread, targets/tree/fuzz-mt.ts);
// tree_mt_broken's bug shows only in some cases and interleavings.

import { usageError } from '../harness/_internals/errors';
import type { AnyFuzzTarget } from '../harness/fuzz/fuzz-target';
import type { AnyThreadsFuzzTarget } from '../harness/fuzz/threads-target';

/** A fuzz target by its kind: one operation sequence, or one per thread. */
export type SomeFuzzTarget =
  { kind: 'sequence'; target: AnyFuzzTarget } | { kind: 'threads'; target: AnyThreadsFuzzTarget };

// Each target's module is loaded when the target is asked for: they load
// fast-check (80 ms), and every command's help lists these names.
/* eslint-disable @typescript-eslint/no-require-imports */
const alloc = (): typeof import('./alloc/fuzz') => require('./alloc/fuzz');
const basic = (): typeof import('./basic/fuzz') => require('./basic/fuzz');
const tree = (): typeof import('./tree/fuzz') => require('./tree/fuzz');
const treeMt = (): typeof import('./tree/fuzz-mt') => require('./tree/fuzz-mt');
/* eslint-enable @typescript-eslint/no-require-imports */

const factories: Record<string, () => SomeFuzzTarget> = {
  basic: () => ({ kind: 'sequence', target: basic().basicFuzz() }),
  alloc: () => ({ kind: 'sequence', target: alloc().allocFuzz() }),
  tree: () => ({ kind: 'sequence', target: tree().treeFuzz('tree') }),
  tree_broken: () => ({ kind: 'sequence', target: tree().treeFuzz('tree_broken') }),
  tree_mt: () => ({ kind: 'threads', target: treeMt().treeMtFuzz('tree') as AnyThreadsFuzzTarget }),
  tree_mt_broken: () => ({ kind: 'threads', target: treeMt().treeMtFuzz('tree_mt_broken') as AnyThreadsFuzzTarget }),
};

export const fuzzTargetNames: readonly string[] = Object.keys(factories);

/** anyFuzzTarget -- the target called NAME, of either kind; a usage error
 *  for an unknown name. */
export function anyFuzzTarget(name: string): SomeFuzzTarget {
  const factory = Object.prototype.hasOwnProperty.call(factories, name) ? factories[name] : undefined;
  if (!factory) throw usageError(`unknown fuzz target '${name}' (fuzz targets: ${fuzzTargetNames.join(', ')})`);
  return factory();
}

/** fuzzTarget -- the single-threaded target called NAME. */
export function fuzzTarget(name: string): AnyFuzzTarget {
  const found = anyFuzzTarget(name);
  if (found.kind !== 'sequence')
    throw usageError(`fuzz target '${name}' is multithreaded (an operation sequence per thread)`);
  return found.target;
}

/** threadsFuzzTarget -- the multithreaded target called NAME. */
export function threadsFuzzTarget(name: string): AnyThreadsFuzzTarget {
  const found = anyFuzzTarget(name);
  if (found.kind !== 'threads') throw usageError(`fuzz target '${name}' is not multithreaded`);
  return found.target;
}
