// mt-spec -- tree_mt and tree_mt_broken: the tree's words inserted by
// several threads (`tree mtinsert`), one lock around each insert, so that
// each insert is one region of the thread that made it. The order of the
// inserts is the thread schedule's, different for each --schedule-seed, so
// the reference states come from the trace: region i is the next word of
// the thread that ran it (worker t, numbered from 1 in creation order, has
// the words t-1, t-1+N, ...).

import { PmfitError } from '../../harness/_internals/errors';
import { builtProgram } from '../../harness/_internals/paths';
import type { CheckedSpec } from '../../harness/check/spec';
import { checkTree, WordCounts } from './spec';

/** Two threads; thread 1 inserts a and c, thread 2 b. tree_mt_broken links
 *  a new left child before persisting it, which happens only when b is
 *  inserted after c, or a after b: not in every schedule. */
export const MT_WORDS = ['a', 'b', 'c'];
export const MT_THREADS = 2;

/** mtReferenceStates -- word counts after each region of a trace. */
export function mtReferenceStates(
  words: string[],
  threads: number,
  regions: readonly { thread?: number }[],
): WordCounts[] {
  const queues = Array.from({ length: threads }, (_, t) => words.filter((_, i) => i % threads === t));
  const states: WordCounts[] = [{}];
  regions.forEach((region, i) => {
    const thread = region.thread ?? 0;
    const word = thread >= 1 && thread <= threads ? queues[thread - 1].shift() : undefined;
    if (word === undefined)
      throw new PmfitError(`region ${i} of thread ${thread} is no insert of tree mtinsert with ${threads} threads`);
    const previous = states[states.length - 1];
    states.push({ ...previous, [word]: (previous[word] ?? 0) + 1 });
  });
  return states;
}

export function treeMtSpec(
  program: 'tree' | 'tree_mt_broken' = 'tree',
  words: string[] = MT_WORDS,
  threads: number = MT_THREADS,
): CheckedSpec {
  const tree = builtProgram(program);
  const broken = program === 'tree_mt_broken';
  return {
    name: broken ? 'tree_mt_broken' : 'tree_mt',
    description: broken
      ? 'tree inserts from two threads; new left children are linked before they are persisted (a bug only some schedules reach)'
      : 'tree inserts from two threads under one lock; the order of the inserts is the thread schedule',
    expect: broken ? 'violations' : 'consistent',
    pmFiles: ['tree.pm'],
    setup: [{ argv: [tree, 'init', '{dir}/tree.pm', '64K'] }],
    workload: { argv: [tree, 'mtinsert', '{dir}/tree.pm', String(threads), ...words] },
    states: [],
    statesOf: (regions) => mtReferenceStates(words, threads, regions),
    recover: [{ argv: [tree, 'check', '{dir}/tree.pm'] }],
    check: checkTree,
    env: {},
  };
}
