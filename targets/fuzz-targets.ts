// fuzz-targets -- the fuzz targets `pmfit fuzz` and `pmfit replay` know, by name.
// tree_broken is tree.c built with -DTREE_BROKEN (links a new node before
// persisting it): the fuzzer's bug to find.

import { usageError } from '../harness/_internals/errors';
import { allocFuzz } from './alloc/fuzz';
import { basicFuzz } from './basic/fuzz';
import { treeFuzz } from './tree/fuzz';
import type { AnyFuzzTarget } from '../harness/fuzz/fuzz-target';

const factories: Record<string, () => AnyFuzzTarget> = {
  basic: basicFuzz,
  alloc: allocFuzz,
  tree: () => treeFuzz('tree'),
  tree_broken: () => treeFuzz('tree_broken'),
};

export const fuzzTargetNames: readonly string[] = Object.keys(factories);

/** fuzzTarget -- the target called NAME; a usage error for an unknown name. */
export function fuzzTarget(name: string): AnyFuzzTarget {
  const factory = Object.prototype.hasOwnProperty.call(factories, name) ? factories[name] : undefined;
  if (!factory) throw usageError(`unknown fuzz target '${name}' (fuzz targets: ${fuzzTargetNames.join(', ')})`);
  return factory();
}
