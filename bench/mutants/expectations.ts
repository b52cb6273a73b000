// expectations -- the mutants that show what a stronger oracle adds: which
// check is the first to kill them, and why no weaker one can. bugs.ts checks
// every claim against the run, as it does equivalents.ts's (a mutant that
// does not behave as claimed is reported as an unmet expectation).
//
// The checks, weakest first (bugs.ts's columns):
//   - no window: recovery must succeed and the pool's (and tree's) invariants
//     must hold, whichever operation the crash interrupted; what a checker
//     that only sees the image can say (the exit-status oracle);
//   - window: the recovered data must also equal a state the crash's
//     operation window allows (docs/checking.md): before or after the
//     interrupted operation, and only after it once it has returned; the
//     built-in specs' reference states, `--oracle outputs` for a program of
//     one's own;
//   - depth 2: the window check, and each recovery is crashed too and
//     recovered again (`--depth 2`).

import type { CellResult, Column } from './columns';

export type MutantClass = 'lost-op' | 'recovery';

export interface Expectation {
  class: MutantClass;
  why: string;
}

/** What each class claims about the columns. */
export const CLASS_CLAIMS: Record<MutantClass, string> = {
  'lost-op':
    'a completed operation is lost: killed by the window check, never without it (every image it leaves is a valid ' +
    'state, only not the one the returned operation promised)',
  recovery:
    'a recovery that is right uninterrupted but not crash-safe: killed only by depth 2 (no crash of the workload alone ' +
    'shows it)',
};

/** EXPECTATIONS -- mutant name → its class and why. */
export const EXPECTATIONS: Record<string, Expectation> = {
  // completed operations lost: the operation's last persist removed
  'tree.c:insert:remove-persist': {
    class: 'lost-op',
    why:
      "an existing word's count increment is stored and never persisted: after the insert has returned, a crash that " +
      "loses the line leaves the old count, a valid tree (only the returned insert says it is wrong); the workloads' " +
      'last insert repeats a word, so no later persist of that line hides it',
  },
  'tree.c:insert:remove-fence': {
    class: 'lost-op',
    why:
      "in clwb mode the count's write-back is never fenced before the insert returns: px86 may still lose the line " +
      'after the return (flushed takes a line as durable at its flush), leaving the old count, a valid tree',
  },
  'patch:flush-wrong-line': {
    class: 'lost-op',
    why:
      'the count increment persists the line 64 bytes after the count instead of its own: after the insert has ' +
      'returned, a crash that loses the line leaves the old count, a valid tree',
  },
  'alloc.c:alloc_create:remove-fence': {
    class: 'lost-op',
    why:
      "in clwb mode the pool header's write-back is never fenced before `alloc init` returns: px86 may still lose the " +
      'line after the return (flushed takes a line as durable at its flush), leaving a file that is not a pool',
  },
  'alloc.c:alloc_create:remove-persist': {
    class: 'lost-op',
    why:
      'the pool header (size, signature) is never persisted: after `alloc init` has returned, a crash that loses the ' +
      'line leaves a file that is not a pool, as before creation (which an application creates again)',
  },

  // recovery paths: right when recovery runs to its end, wrong when it is crashed
  'patch:recovery-redo-unpersisted': {
    class: 'recovery',
    why:
      'the redone links of an ACTIVATING clump are stores in the page cache when the uninterrupted recovery is read; ' +
      'only a crash during recovery that keeps the persisted ACTIVE state and loses the links shows the leak',
  },
  'patch:recovery-unlink-unpersisted': {
    class: 'recovery',
    why:
      'the redone unlinking of a FREEING clump is in the page cache when the uninterrupted recovery is read; only a ' +
      'crash during recovery that keeps the persisted FREE state and loses the unlinking shows the dangling list',
  },
  'patch:recovery-state-before-redo': {
    class: 'recovery',
    why:
      'ACTIVE is persisted before the pending assignments are redone: uninterrupted, the result is the same; a crash ' +
      'between the two steps leaves an ACTIVE clump whose slots the next recovery drops',
  },
};

/** unmetExpectation -- how a mutant of class CLS contradicts its claim, given
 *  its cells (per column, per model), or undefined when it behaves as
 *  claimed. DEPTH 1: the depth-2 column was not run. */
export function unmetExpectation(
  cls: MutantClass,
  columns: Record<Column, Record<string, CellResult>>,
  models: readonly string[],
  depth: 1 | 2,
): string | undefined {
  const killedBy = (c: Column) => models.filter((m) => columns[c][m] === 'killed');
  switch (cls) {
    case 'lost-op':
      if (killedBy('no-window').length > 0) return `killed without the window (${killedBy('no-window').join(', ')})`;
      if (killedBy('window').length === 0) return 'not killed by the window check';
      return undefined;
    case 'recovery':
      if (killedBy('window').length > 0) return `killed at depth 1 (${killedBy('window').join(', ')})`;
      if (depth === 2 && killedBy('depth2').length === 0) return 'not killed at depth 2';
      return undefined;
  }
}
