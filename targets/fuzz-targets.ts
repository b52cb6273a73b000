// fuzz-targets -- the fuzz targets `pmfit fuzz` and `pmfit replay` know, by name.
// tree_broken is tree.c built with -DTREE_BROKEN (links a new node before
// persisting it): the fuzzer's bug to find. tree_mt and tree_mt_broken are
// multithreaded (an operation sequence per thread, targets/tree/fuzz-mt.ts);
// tree_mt_broken's bug shows only in some cases and interleavings.

import { usageError } from '../harness/_internals/errors';
import { allocFuzz } from './alloc/fuzz';
import { basicFuzz } from './basic/fuzz';
import { treeFuzz } from './tree/fuzz';
import { treeMtFuzz } from './tree/fuzz-mt';
import type { AnyFuzzTarget } from '../harness/fuzz/fuzz-target';
import type { AnyThreadsFuzzTarget } from '../harness/fuzz/threads-target';

/** A fuzz target by its kind: one operation sequence, or one per thread. */
export type SomeFuzzTarget =
  { kind: 'sequence'; target: AnyFuzzTarget } | { kind: 'threads'; target: AnyThreadsFuzzTarget };

const factories: Record<string, () => SomeFuzzTarget> = {
  basic: () => ({ kind: 'sequence', target: basicFuzz() }),
  alloc: () => ({ kind: 'sequence', target: allocFuzz() }),
  tree: () => ({ kind: 'sequence', target: treeFuzz('tree') }),
  tree_broken: () => ({ kind: 'sequence', target: treeFuzz('tree_broken') }),
  tree_mt: () => ({ kind: 'threads', target: treeMtFuzz('tree') as AnyThreadsFuzzTarget }),
  tree_mt_broken: () => ({ kind: 'threads', target: treeMtFuzz('tree_mt_broken') as AnyThreadsFuzzTarget }),
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
