// threads-case -- a multithreaded fuzz case: the generated cases, the
// command that runs them, and the reference states of an interleaving
// (pure, on the tree_mt target's real model; no processes).

import * as fc from 'fast-check';
import { FuzzCaseError } from '../../harness/fuzz/case-plan';
import { describeThreadsWindow } from '../../harness/fuzz/format-threads-failure';
import {
  checkThreadsCase,
  interleave,
  MAX_SCHEDULE_SEED,
  threadsArbitrary,
  ThreadsCase,
  threadsSpec,
} from '../../harness/fuzz/threads-case';
import type { AnyThreadsFuzzTarget } from '../../harness/fuzz/threads-target';
import { treeMtFuzz } from '../../targets/tree/fuzz-mt';

const target = treeMtFuzz('tree') as AnyThreadsFuzzTarget;
const insert = (word: string) => ({ kind: 'insert', word });

/** A region order the schedule could give: a random merge of the threads. */
function someInterleaving(threadsCase: ThreadsCase, picks: number[]): { thread: number }[] {
  const left = threadsCase.threads.map((ops) => ops.length);
  const regions: { thread: number }[] = [];
  let i = 0;
  while (left.some((n) => n > 0)) {
    const ready = left.flatMap((n, t) => (n > 0 ? [t] : []));
    const t = ready[(picks[i++ % picks.length] ?? 0) % ready.length];
    left[t] -= 1;
    regions.push({ thread: t + 1 });
  }
  return regions;
}

describe('tree_mt cases', () => {
  const cases = threadsArbitrary(target, 4, 5);

  test('generated cases are valid: 1..4 threads of 1..5 inserts, a schedule seed in range', () => {
    fc.assert(
      fc.property(cases, (c) => {
        expect(() => checkThreadsCase(target, c)).not.toThrow();
        expect(c.threads.length).toBeGreaterThanOrEqual(1);
        expect(c.threads.length).toBeLessThanOrEqual(4);
        for (const ops of c.threads) expect(ops.length).toBeLessThanOrEqual(5);
        expect(c.scheduleSeed).toBeLessThanOrEqual(MAX_SCHEDULE_SEED);
      }),
    );
  });

  test('the command gives thread t its own words, in order, and the spec runs with the case seed', () => {
    const c: ThreadsCase = { threads: [[insert('b'), insert('a')], [insert('c')], [insert('a')]], scheduleSeed: 7 };
    const spec = threadsSpec(target, c, { PMEM_MODE: '' });
    expect(spec.workload.argv.slice(1)).toEqual(['mtinsert', '{dir}/tree.pm', '2,1,1', 'b', 'a', 'c', 'a']);
    expect(spec.scheduleSeed).toBe(7);
    expect(spec.name).toBe('tree_mt');
    // one thread: N = 1, which gives thread 1 every word (a lone count would be N)
    const one = threadsSpec(target, { threads: [[insert('b'), insert('a')]], scheduleSeed: 0 }, {});
    expect(one.workload.argv.slice(3)).toEqual(['1', 'b', 'a']);
  });

  test('every interleaving ends with the same words; each state adds the next word of its thread', () => {
    fc.assert(
      fc.property(cases, fc.array(fc.nat(10), { minLength: 1, maxLength: 20 }), (c, picks) => {
        const regions = someInterleaving(c, picks);
        const { states, origins } = interleave(target, c, regions);
        expect(states).toHaveLength(regions.length + 1);
        const next = c.threads.map(() => 0);
        origins.forEach((origin, i) => {
          expect(origin.thread).toBe(regions[i].thread);
          expect(origin.op).toBe(next[origin.thread - 1]++);
          const word = (c.threads[origin.thread - 1][origin.op] as { word: string }).word;
          const before = states[i] as Record<string, number>;
          const after = states[i + 1] as Record<string, number>;
          expect(after).toEqual({ ...before, [word]: (before[word] ?? 0) + 1 });
        });
        const all: Record<string, number> = {};
        for (const ops of c.threads) for (const op of ops as { word: string }[]) all[op.word] = (all[op.word] ?? 0) + 1;
        expect(states[states.length - 1]).toEqual(all);
      }),
    );
  });

  test('regions that do not fit the case are refused', () => {
    const c: ThreadsCase = { threads: [[insert('a')], [insert('b')]], scheduleSeed: 0 };
    expect(() => interleave(target, c, [{ thread: 0 }])).toThrow(FuzzCaseError);
    expect(() => interleave(target, c, [{ thread: 3 }])).toThrow(/thread 3, which runs no operation/);
    expect(() => interleave(target, c, [{ thread: 1 }, { thread: 1 }])).toThrow(/past the operations/);
    expect(() => checkThreadsCase(target, { threads: [], scheduleSeed: 0 })).toThrow(/no thread/);
    expect(() => checkThreadsCase(target, { threads: [[]], scheduleSeed: 0 })).toThrow(/thread 1 has no operation/);
    expect(() => checkThreadsCase(target, { threads: Array(17).fill([insert('a')]), scheduleSeed: 0 })).toThrow(
      /at most 16/,
    );
  });

  test('a crash window is named by the thread and operation that ran there', () => {
    const c: ThreadsCase = { threads: [[insert('b'), insert('a')], [insert('c')]], scheduleSeed: 3 };
    const { origins } = interleave(target, c, [{ thread: 1 }, { thread: 2 }, { thread: 1 }]);
    expect(describeThreadsWindow(target, c, origins, 'op2')).toBe('during operation #2 insert "a" of thread 1');
    expect(describeThreadsWindow(target, c, origins, 's2')).toBe(
      'after operation #1 insert "c" of thread 2 (region 2 of the interleaving)',
    );
    expect(describeThreadsWindow(target, c, origins, 's0')).toBe('before the first region of any thread');
  });
});
