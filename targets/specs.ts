// specs -- the built-in targets, in the order allcounts runs them.

import type { TargetSpec } from '../harness/check/spec';
import { allocSpec } from './alloc/spec';
import { basicSpec } from './basic/spec';
import { treeSpec } from './tree/spec';
import { txmapSpec } from './txmap/spec';

export function builtInSpecs(): TargetSpec[] {
  return [basicSpec(), allocSpec(), treeSpec(), txmapSpec()];
}
