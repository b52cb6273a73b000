// columns -- the checks of the detection table, weakest first, and how one
// allcounts run gives the first two.
//
// The built-in specs (targets/alloc/spec.ts, targets/tree/spec.ts and the
// scenarios' creating()) check a recovered image in two steps: their
// invariants first, returning those that fail; only when every invariant
// holds, whether the data equals a state the crash's operation window
// allows, failing with one message that starts 'atomicity:'. So the check
// without the window (no reference states, what a checker that only sees
// the image can do) fails on an image exactly when the window check fails
// on it for another reason than that one message: one run with the window
// gives both columns, and the recoveries are not run twice.

import type { OutcomeGroup, RunResult } from '../../harness/results/schema';

export type Column = 'no-window' | 'window' | 'depth2';

export const COLUMNS: readonly Column[] = ['no-window', 'window', 'depth2'];

/** One cell: killed; survived; killed at depth 1, so depth 2 (which checks
 *  the same images before it crashes their recoveries) was not run; or
 *  depth 2 not run, since another model killed the mutant at depth 1
 *  (bugs.ts's header says why). */
export type CellResult = 'killed' | 'survived' | 'depth-1' | 'not-run';

/** Headings, in the table's words. */
export const COLUMN_TITLES: Record<Column, string> = {
  'no-window': 'no window',
  window: 'window',
  depth2: 'depth 2',
};

const WINDOW_MESSAGE = 'atomicity:';

/** windowOnly -- a violation the window check alone finds: the invariants
 *  held, and only the recovered data matched no allowed state. */
export function windowOnly(group: Pick<OutcomeGroup, 'kind' | 'failed'>): boolean {
  return (
    group.kind === 'invariant' &&
    group.failed.length > 0 &&
    group.failed.every((message) => message.startsWith(WINDOW_MESSAGE))
  );
}

/** windowlessViolations -- the run's violating groups that the check without
 *  the window also finds. */
export function windowlessViolations(run: Pick<RunResult, 'groups'>): number {
  return run.groups.filter((group) => group.violation && !windowOnly(group)).length;
}
