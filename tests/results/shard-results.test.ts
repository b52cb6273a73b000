// shard-results.test -- mergeRuns makes of the shards' parts the run a single
// check makes: classes united by key, in the order of their first outcome,
// the example from the shard that met the class first, explanations only
// for the first violation groups.

import type { OutcomeGroup } from '../../harness/results/schema';
import {
  MAX_EXPLAINED_GROUPS,
  mergeOutcomes,
  mergeRuns,
  parseShard,
  type OutcomePart,
  type ClassPart,
  type RunPart,
} from '../../harness/results/shard-results';

function group(kind: OutcomeGroup['kind'], k: number, hash: string, explained = false): OutcomeGroup {
  return {
    id: 'local',
    kind,
    violation: kind !== 'ok',
    crashPoints: '',
    count: 0,
    images: 0,
    failed: [],
    recoveryOutput: kind === 'ok' ? '' : `out ${kind}`,
    example: {
      k,
      hash,
      reproduce: 'pmfit reproduce shard/results.json local',
      ...(explained ? { next: { address: `0x${k.toString(16)}` }, lines: [] } : {}),
    },
  };
}

function cls(key: string, order: number, crashPoints: string, hashes: string[], g: OutcomeGroup): ClassPart {
  return { key, order, crashPoints, hashes, group: g };
}

function part(classes: ClassPart[], violating: string, seconds = 1, outcomes: OutcomePart[] = []): RunPart {
  return {
    outcomeCount: 4,
    outcomes,
    target: 't',
    model: 'px86',
    expect: 'consistent',
    instructions: 20,
    crashPoints: 21,
    states: 30,
    distinctImages: 5,
    violating,
    seconds,
    classes,
  };
}

describe('mergeRuns', () => {
  it('unites classes across shards, ordered by their first outcome', () => {
    const run = mergeRuns(
      [
        part(
          [
            cls('ok', 2, '3-20', ['b', 'c'], group('ok', 3, 'b')),
            cls('bad', 5, '7', ['d'], group('invariant', 7, 'd', true)),
          ],
          '7',
        ),
        part(
          [
            cls('ok', 0, '0-2', ['a'], group('ok', 0, 'a')),
            cls('bad', 9, '9-10', ['e'], group('invariant', 9, 'e', true)),
          ],
          '9-10',
        ),
      ],
      (id) => `pmfit reproduce merged/results.json ${id}`,
    );
    expect(run.groups.map((g) => [g.id, g.crashPoints, g.count, g.images, g.example.k, g.example.hash])).toEqual([
      ['t-px86-1', '0-20', 21, 3, 0, 'a'],
      ['t-px86-2', '7,9-10', 3, 2, 7, 'd'],
    ]);
    expect(run.groups[1].example.reproduce).toBe('pmfit reproduce merged/results.json t-px86-2');
    expect(run.groups[1].example.next).toEqual({ address: '0x7' });
    expect(run).toMatchObject({ violations: 3, states: 30, distinctImages: 5, seconds: 2, status: 'fail' });
  });

  it('keeps the explanations of the first violation groups only', () => {
    const count = MAX_EXPLAINED_GROUPS + 2;
    const classes = Array.from({ length: count }, (_, i) =>
      cls(`v${i}`, i, String(i), [`h${i}`], group('recovery-failed', i, `h${i}`, true)),
    );
    const run = mergeRuns([
      part(
        classes.filter((_, i) => i % 2 === 0),
        '',
      ),
      part(
        classes.filter((_, i) => i % 2 === 1),
        '',
      ),
    ]);
    expect(run.groups.map((g) => g.example.next !== undefined)).toEqual(
      Array.from({ length: count }, (_, i) => i < MAX_EXPLAINED_GROUPS),
    );
    // Without a reproduce function, the shards' own lines stay.
    expect(run.groups[0].example.reproduce).toBe('pmfit reproduce shard/results.json local');
  });

  it("judges the merged run by the target's expectation", () => {
    const control = (p: RunPart): RunPart => ({ ...p, expect: 'violations' });
    expect(mergeRuns([control(part([], '')), control(part([], ''))]).status).toBe('fail');
    expect(mergeRuns([control(part([], '')), control(part([], '4'))]).status).toBe('pass');
  });
});

describe('mergeOutcomes', () => {
  const a: OutcomePart = [0, 0, 2, 'a', 'ok'];
  const b: OutcomePart = [1, 3, 3, 'b', 'invariant'];
  const c: OutcomePart = [2, 3, 3, 'c', 'ok'];
  const d: OutcomePart = [3, 4, 9, 'a', 'recovery-not-crash-safe'];

  it("rebuilds the run's outcome list from the shards' own outcomes", () => {
    expect(mergeOutcomes([part([], '', 1, [b, d]), part([], '', 1, [a, c])])).toEqual([
      { first: 0, last: 2, hash: 'a', verdict: { kind: 'ok' } },
      { first: 3, last: 3, hash: 'b', verdict: { kind: 'invariant' } },
      { first: 3, last: 3, hash: 'c', verdict: { kind: 'ok' } },
      { first: 4, last: 9, hash: 'a', verdict: { kind: 'recovery-not-crash-safe' } },
    ]);
  });

  it('refuses outcomes missing, listed twice or out of the list', () => {
    expect(mergeOutcomes([part([], '', 1, [b, d]), part([], '', 1, [a])])).toBeUndefined();
    expect(mergeOutcomes([part([], '', 1, [a, b, d]), part([], '', 1, [a, c])])).toBeUndefined();
    expect(mergeOutcomes([part([], '', 1, [a, b, c, d, [4, 10, 10, 'e', 'ok']])])).toBeUndefined();
    expect(mergeOutcomes([part([], '', 1, [a, b]), { ...part([], '', 1, [c, d]), outcomeCount: 5 }])).toBeUndefined();
  });
});

describe('parseShard', () => {
  it('reads i/n and refuses the rest', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/4', '5/4', '2', '2/0', 'a/b', '-1/2'])
      expect(() => parseShard(bad)).toThrow(`--shard must be i/n with 1 <= i <= n (for example 2/4), not '${bad}'`);
  });
});
