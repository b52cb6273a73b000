import fc from 'fast-check';

import { OpWindows, Region, allowedStates } from '../../harness/check/allowed-states';
import { opsDoneEnv } from '../../harness/check/ops-done-env';

/** The rules of allowed-states.ts, read literally (a later
 *  operation wins where an empty one makes two rules meet). */
function reference(regions: Region[], states: number[], k: number): number[] {
  let allowed = [states[0]];
  for (let i = 0; i < regions.length; i += 1) {
    if (k >= regions[i].end) allowed = [states[i + 1]];
    else if (k > regions[i].begin) allowed = [states[i], states[i + 1]];
    else break;
  }
  return allowed;
}

const regionsArbitrary = fc.array(fc.record({ gap: fc.nat(6), length: fc.nat(6) }), { maxLength: 8 }).map((parts) => {
  let at = 0;
  return parts.map(({ gap, length }) => {
    const begin = at + gap;
    at = begin + length;
    return { begin, end: at };
  });
});

test('every crash point is in exactly one window; windows are contiguous; allowed states follow the rules', () => {
  fc.assert(
    fc.property(regionsArbitrary, fc.nat(5), (regions, extra) => {
      const states = Array.from({ length: regions.length + 1 }, (_, i) => i * 10);
      const windows = new OpWindows(regions, states);
      const list = windows.windows;
      expect(list[0].first).toBe(0);
      for (let j = 1; j < list.length; j += 1) expect(list[j].first).toBe(list[j - 1].last + 1);
      expect(list[list.length - 1].last).toBe(Infinity);
      expect(new Set(list.map((w) => w.key)).size).toBe(list.length);

      const n = (regions.length > 0 ? regions[regions.length - 1].end : 0) + extra;
      for (let k = 0; k <= n; k += 1) {
        const containing = list.filter((w) => w.first <= k && k <= w.last);
        expect(containing).toHaveLength(1);
        expect(windows.windowAt(k)).toBe(containing[0]);
        expect(containing[0].allowed).toEqual(reference(regions, states, k));
        expect(allowedStates(regions, states, k)).toEqual({ allowed: containing[0].allowed, key: containing[0].key });
      }
    }),
  );
});

test('split cuts a range at window boundaries and covers it exactly', () => {
  fc.assert(
    fc.property(regionsArbitrary, fc.nat(60), fc.nat(60), (regions, a, b) => {
      const [first, last] = a <= b ? [a, b] : [b, a];
      const windows = new OpWindows(regions, []);
      const parts = windows.split(first, last);
      expect(parts[0].first).toBe(first);
      expect(parts[parts.length - 1].last).toBe(last);
      for (let j = 0; j < parts.length; j += 1) {
        const { first: f, last: l, window } = parts[j];
        expect(f).toBeLessThanOrEqual(l);
        expect(windows.windowAt(f)).toBe(window);
        expect(windows.windowAt(l)).toBe(window);
        if (j > 0) {
          expect(f).toBe(parts[j - 1].last + 1);
          expect(window).not.toBe(parts[j - 1].window);
        }
      }
    }),
  );
});

test('examples: before, during, at the end marker, between, after', () => {
  const regions = [
    { begin: 3, end: 7 },
    { begin: 10, end: 12 },
  ];
  const states = ['A', 'B', 'C'];
  const at = (k: number) => allowedStates(regions, states, k);
  expect(at(0)).toEqual({ allowed: ['A'], key: 's0' });
  expect(at(3)).toEqual({ allowed: ['A'], key: 's0' });
  expect(at(4)).toEqual({ allowed: ['A', 'B'], key: 'op0' });
  expect(at(6)).toEqual({ allowed: ['A', 'B'], key: 'op0' });
  expect(at(7)).toEqual({ allowed: ['B'], key: 's1' }); // the end marker's call is done
  expect(at(10)).toEqual({ allowed: ['B'], key: 's1' });
  expect(at(11)).toEqual({ allowed: ['B', 'C'], key: 'op1' });
  expect(at(12)).toEqual({ allowed: ['C'], key: 's2' });
  expect(at(1000)).toEqual({ allowed: ['C'], key: 's2' });
  expect(new OpWindows(regions, states).split(2, 11).map((r) => [r.first, r.last, r.window.key])).toEqual([
    [2, 3, 's0'],
    [4, 6, 'op0'],
    [7, 10, 's1'],
    [11, 11, 'op1'],
  ]);
});

test('no regions: one window; no reference states: nothing allowed', () => {
  expect(new OpWindows([], ['only']).windows).toEqual([
    { key: 's0', kind: 'between', index: 0, done: 0, inFlight: [], first: 0, last: Infinity, allowed: ['only'] },
  ]);
  expect(allowedStates([{ begin: 1, end: 4 }], [], 2)).toEqual({ allowed: [], key: 'op0' });
});

test('inconsistent input is refused', () => {
  expect(() => new OpWindows([{ begin: 1, end: 4 }], ['a'])).toThrow(/expected 2 states/);
  expect(() => new OpWindows([{ begin: 5, end: 4 }], [])).toThrow(/not a valid instruction range/);
  expect(
    () =>
      new OpWindows(
        [
          { begin: 1, end: 6 },
          { begin: 5, end: 9 },
        ],
        [],
      ),
  ).toThrow(/^region 1 \(begin 5\) overlaps region 0 of the same thread \(end 6\)$/);
  expect(
    () =>
      new OpWindows(
        [
          { begin: 5, end: 6 },
          { begin: 1, end: 9, thread: 1 },
        ],
        [],
      ),
  ).toThrow(/^region 1 begins at 1, before region 0 \(at 5\)$/);
});

/** Regions of up to three threads, each thread's one after another, in
 *  the order they began: operations of different threads overlap. */
const threadedArbitrary = fc
  .array(fc.record({ thread: fc.nat(2), gap: fc.nat(6), length: fc.nat(9) }), { maxLength: 9 })
  .map((parts) => {
    const at = [0, 0, 0];
    const regions: Region[] = parts.map(({ thread, gap, length }) => {
      const begin = at[thread] + gap;
      at[thread] = begin + length;
      return { begin, end: at[thread], thread };
    });
    return regions.sort((a, b) => a.begin - b.begin);
  });

test('threads in flight at once: each window has what is done and what is in flight at its crash points', () => {
  fc.assert(
    fc.property(threadedArbitrary, (regions) => {
      const windows = new OpWindows(regions, []);
      const list = windows.windows;
      expect(list[0].first).toBe(0);
      for (let j = 1; j < list.length; j += 1) expect(list[j].first).toBe(list[j - 1].last + 1);
      expect(new Set(list.map((w) => w.key)).size).toBe(list.length);
      const n = Math.max(0, ...regions.map((region) => region.end)) + 2;
      for (let k = 0; k <= n; k += 1) {
        const window = windows.windowAt(k);
        const done = regions.filter((region) => region.end <= k).length;
        const inFlight = regions.flatMap((region, i) => (region.begin < k && k < region.end ? [i] : []));
        expect({ done: window.done, inFlight: window.inFlight }).toEqual({ done, inFlight });
        // a done operation must have taken effect; each in flight may have
        const perThread = [...new Set(regions.map((region) => region.thread ?? 0))]
          .sort((a, b) => a - b)
          .map((thread) => {
            const own = regions.filter((region) => (region.thread ?? 0) === thread);
            const ended = own.filter((region) => region.end <= k).length;
            const busy = own.some((region) => region.begin < k && k < region.end);
            return `${thread}:${ended}-${ended + (busy ? 1 : 0)}`;
          });
        expect(opsDoneEnv(window)).toEqual({
          PMFIT_OPS_DONE_MIN: String(done),
          PMFIT_OPS_DONE_MAX: String(done + inFlight.length),
          ...(regions.some((region) => region.thread !== undefined)
            ? { PMFIT_THREAD_OPS_DONE: perThread.join(' ') }
            : {}),
        });
      }
    }),
  );
});

test('threads in flight at once: the windows of two overlapping operations', () => {
  // thread 1's operation 0 spans 2..10; thread 2's operation 1 runs 4..7 inside it
  const regions = [
    { begin: 2, end: 10, thread: 1 },
    { begin: 4, end: 7, thread: 2 },
  ];
  const windows = new OpWindows(regions, []);
  expect(windows.windows.map((w) => [w.first, w.last, w.key, w.done, w.inFlight])).toEqual([
    [0, 2, 's0', 0, []],
    [3, 4, 'op0', 0, [0]],
    [5, 6, 'op0+1', 0, [0, 1]],
    [7, 9, 'op0:2', 1, [0]], // operation 1 has returned and must have taken effect
    [10, Infinity, 's2', 2, []],
  ]);
  // per thread: thread 2 done at 7 while thread 1 is still in flight
  expect(windows.windows.map((w) => opsDoneEnv(w).PMFIT_THREAD_OPS_DONE)).toEqual([
    '1:0-0 2:0-0',
    '1:0-1 2:0-0',
    '1:0-1 2:0-1',
    '1:0-1 2:1-1',
    '1:1-1 2:1-1',
  ]);
  // reference states are prefixes: they cannot say "1 applied, 0 not"
  expect(() => new OpWindows(regions, ['A', 'B', 'C'])).toThrow(
    /^region 1 \(thread 2\) is in flight or done while region 0 \(thread 1\) is in flight at crash point 5: reference states need one operation at a time/,
  );
});
