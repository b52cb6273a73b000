// case-plan -- how a fuzz case splits its sequence and what it expects after
// every crash: properties over the real targets' models (pure, no processes).

import * as fc from 'fast-check';
import {
  FuzzCase,
  FuzzCaseError,
  invocations,
  planCase,
  regionOperation,
  tracedCount,
} from '../../harness/fuzz/case-plan';
import type { AnyFuzzTarget } from '../../harness/fuzz/fuzz-target';
import { caseArbitrary } from '../../harness/fuzz/run-fuzz';
import { allocFuzz } from '../../targets/alloc/fuzz';
import { basicFuzz } from '../../targets/basic/fuzz';
import { treeFuzz } from '../../targets/tree/fuzz';

/** States after each region of OPS from STATE, or undefined. */
function run(target: AnyFuzzTarget, state: unknown, ops: unknown[]): unknown[] | undefined {
  const states = [state];
  for (const op of ops) {
    const after = target.apply(states[states.length - 1], op);
    if (!after) return undefined;
    states.push(...after);
  }
  return states;
}
const last = <T>(xs: T[]): T => xs[xs.length - 1];

const targets: AnyFuzzTarget[] = [treeFuzz('tree'), allocFuzz(), basicFuzz()];

describe.each(targets.map((t) => [t.name, t] as const))('%s', (_, target) => {
  const cases = fc.boolean().chain((traceAll) => caseArbitrary(target, 7, traceAll));

  test('prefix, traced, continued and dropped operations partition the sequence', () => {
    fc.assert(
      fc.property(cases, (c: FuzzCase) => {
        const plan = planCase(target, c);
        expect([...plan.prefix, ...plan.traced, ...plan.continued]).toEqual(
          c.ops.slice(0, c.ops.length - plan.dropped),
        );
        expect(plan.prefix).toHaveLength(c.split);
        expect(plan.traced.length).toBe(tracedCount(target, c.ops, c.split, c.traceAll));
        if (!c.traceAll) expect(plan.traced).toHaveLength(1);
        for (let j = 1; j < plan.traced.length; j += 1)
          expect(target.joins(plan.traced[j - 1], plan.traced[j])).toBe(true);
        const next = c.split + plan.traced.length;
        if (c.traceAll && next < c.ops.length) expect(target.joins(c.ops[next - 1], c.ops[next])).toBe(false);
      }),
    );
  });

  test('reference states: one per region boundary of the traced invocation, continued from each', () => {
    fc.assert(
      fc.property(cases, (c: FuzzCase) => {
        const plan = planCase(target, c);
        const before = last(run(target, target.initial(), plan.prefix) as unknown[]);
        const now = run(target, before, plan.traced) as unknown[];
        expect(plan.states).toHaveLength(now.length);
        expect(plan.tracedRegions.reduce((a, b) => a + b, 0)).toBe(now.length - 1);
        now.forEach((state, r) => {
          expect(plan.states[r].now).toEqual(target.reference(state));
          expect(plan.states[r].final).toEqual(target.reference(last(run(target, state, plan.continued) as unknown[])));
        });
        if (plan.dropped > 0) {
          // The first dropped operation cannot run from where some crash may leave the continuation.
          const op = c.ops[c.ops.length - plan.dropped];
          expect(
            now.some((state) => target.apply(last(run(target, state, plan.continued) as unknown[]), op) === undefined),
          ).toBe(true);
        }
        for (let region = 0; region < now.length - 1; region += 1) {
          const at = regionOperation(plan, region) as { op: number; region: number };
          expect(at.region).toBeLessThan(plan.tracedRegions[at.op]);
        }
        expect(regionOperation(plan, now.length - 1)).toBeUndefined();
      }),
    );
  });

  test('commands: the prefix and the continuation run as joined invocations', () => {
    fc.assert(
      fc.property(cases, (c: FuzzCase) => {
        const plan = planCase(target, c);
        expect(plan.setup).toEqual(invocations(target, plan.prefix).map((ops) => target.command(ops)));
        expect(plan.continuation).toEqual(invocations(target, plan.continued).map((ops) => target.command(ops)));
        const runs = invocations(target, c.ops);
        expect(runs.flat()).toEqual(c.ops);
        for (const ops of runs)
          for (let j = 1; j < ops.length; j += 1) expect(target.joins(ops[j - 1], ops[j])).toBe(true);
        for (let j = 1; j < runs.length; j += 1) expect(target.joins(last(runs[j - 1]), runs[j][0])).toBe(false);
      }),
    );
  });
});

test('an alloc free of the block whose activation is traced cannot be continued', () => {
  const alloc = allocFuzz();
  const plan = planCase(alloc, {
    ops: [{ run: ['r0:100', 'a0'] }, { run: ['r1:50', 'a1'] }, { run: ['f0'] }],
    split: 0,
    traceAll: false,
  });
  expect(plan.continued).toEqual([{ run: ['r1:50', 'a1'] }]);
  expect(plan.dropped).toBe(1);
  expect(plan.states.map((s) => s.final)).toEqual([
    [[1, 50]],
    [[1, 50]],
    [
      [0, 100],
      [1, 50],
    ],
  ]);
});

test('a tree free traced after three inserts has one region per node, freed leaf first', () => {
  const tree = treeFuzz('tree');
  const ops = ['b', 'a', 'c'].map((word) => ({ kind: 'insert', word })).concat([{ kind: 'free' } as never]);
  const plan = planCase(tree, { ops, split: 3, traceAll: false });
  expect(plan.tracedRegions).toEqual([3]);
  expect(
    plan.states.map((s) =>
      Object.keys(s.now as object)
        .sort()
        .join(''),
    ),
  ).toEqual(['abc', 'bc', 'b', '']);
  expect(plan.setup).toHaveLength(1);
});

test('cases that cannot be planned', () => {
  const tree = treeFuzz('tree');
  expect(() => planCase(tree, { ops: [], split: 0, traceAll: false })).toThrow(FuzzCaseError);
  expect(() => planCase(tree, { ops: [{ kind: 'free' }], split: 1, traceAll: false })).toThrow(FuzzCaseError);
  expect(() => planCase(allocFuzz(), { ops: [{ run: ['f0'] }], split: 0, traceAll: false })).toThrow(
    /operation #1 \(run f0\)/,
  );
});
