// fuzz-mt -- tree_mt and tree_mt_broken as multithreaded fuzz targets
// (harness/fuzz/threads-target.ts): each thread a sequence of inserts, run
// by `tree mtinsert FILE C1,C2,... WORD...` (thread t inserts the next Ct
// words, each insert under the one lock, so one region each). The words and
// the model are the single-threaded tree target's (fuzz.ts); tree.c has no
// threaded free, so threads only insert.
//
// tree_mt_broken links a new left child before persisting it: a case finds
// it when some insert makes a left child, which depends on the words and
// on the order the schedule gives the threads' inserts.

import * as fc from 'fast-check';
import { builtProgram } from '../../harness/_internals/paths';
import type { ThreadsFuzzTarget } from '../../harness/fuzz/threads-target';
import { treeFuzz, treeInsert, TreeOp, TreeState } from './fuzz';
import { treeMtSpec } from './mt-spec';

type InsertOp = Extract<TreeOp, { kind: 'insert' }>;

/** tree mtinsert's limit. */
const TREE_MAX_THREADS = 16;

export function treeMtFuzz(program: 'tree' | 'tree_mt_broken' = 'tree'): ThreadsFuzzTarget<InsertOp, TreeState> {
  const tree = builtProgram(program);
  const model = treeFuzz('tree');
  return {
    name: program === 'tree' ? 'tree_mt' : 'tree_mt_broken',
    maxThreads: TREE_MAX_THREADS,
    baseSpec: (env) => ({ ...treeMtSpec(program), env }),
    threadOps: (maxOps) => fc.array(treeInsert, { minLength: 1, maxLength: Math.max(1, maxOps) }),
    command: (threads) => ({
      argv: [
        tree,
        'mtinsert',
        '{dir}/tree.pm',
        // one thread: N = 1 (a lone count would read as N threads)
        threads.length === 1 ? '1' : threads.map((ops) => ops.length).join(','),
        ...threads.flatMap((ops) => ops.map((op) => op.word)),
      ],
    }),
    initial: model.initial,
    apply: (state, op) => model.apply(state, op),
    reference: model.reference,
    showOp: model.showOp,
    parseOp(value) {
      const op = model.parseOp(value);
      if (op.kind !== 'insert') throw new Error('a tree_mt operation is {"kind":"insert","word":W}');
      return op;
    },
  };
}
