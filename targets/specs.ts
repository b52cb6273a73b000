// specs -- the built-in targets, in the order allcounts runs them.

import type { TargetSpec } from '../harness/check/spec';
import { allocSpec } from './alloc/spec';
import { basicSpec } from './basic/spec';
import { treeMtSpec } from './tree/mt-spec';
import { treeSpec } from './tree/spec';
import { txmapSpec } from './txmap/spec';

/** The targets allcounts runs when none is named. */
export function builtInSpecs(): TargetSpec[] {
  return [basicSpec(), allocSpec(), treeSpec(), txmapSpec()];
}

/** Built-in targets run only when named (--target): the multithreaded
 *  ones, checked over several schedules (--schedules). */
export function namedOnlySpecs(): TargetSpec[] {
  return [treeMtSpec('tree'), treeMtSpec('tree_mt_broken')];
}
