// px86 -- per line, any version between its last guaranteed version and its
// current version.

import * as fc from 'fast-check';
import { crashStates } from '../../harness/persistency/model';
import { EventKind, TraceEvent } from '../../harness/trace/event';
import {
  TestTrace,
  asTrace,
  collect,
  fence,
  flush,
  groupAt,
  hex,
  ntStore,
  px86AllAt,
  px86Image,
  px86LinesAt,
  px86Product,
  sequentialAt,
  sortedHexes,
  store,
  sync,
  traceArb,
  writeSyscall,
} from './reference';

/** The hex images of the last group (crash at N). */
function finalStates(
  events: TraceEvent[],
  options: { maxStates?: number; seed?: number; mergeVersions?: boolean } = {},
  size = 256,
): string[] {
  const instructions = events.reduce((max, e) => Math.max(max, e.index), 0);
  const groups = collect(crashStates('px86', { images: [new Uint8Array(size)], events, instructions }, options));
  return groups[groups.length - 1].states.map((s) => hex(s.image));
}

/** image -- a 256-byte image with the given bytes set. */
function image(bytes: Record<number, number>, size = 256): string {
  const out = new Uint8Array(size);
  for (const [at, value] of Object.entries(bytes)) out[Number(at)] = value;
  return hex([out]);
}

describe('px86 model', () => {
  it("when exhaustive, yields exactly every combination of versions (the reference model's)", () => {
    fc.assert(
      fc.property(traceArb(), fc.boolean(), (trace, mergeVersions) => {
        const maxStates = 512;
        const groups = collect(crashStates('px86', asTrace(trace), { maxStates, mergeVersions }));
        for (let k = 0; k <= trace.instructions; k++) {
          const reference = px86LinesAt(trace, k, { mergeVersions });
          const product = px86Product(reference);
          const group = groupAt(groups, k);
          if (product <= maxStates) {
            expect(group.states).toHaveLength(product);
            expect(sortedHexes(group.states.map((s) => s.image))).toEqual(sortedHexes(px86AllAt(reference)));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('always contains the all-newest image and the guaranteed-only image, exhaustive or not', () => {
    fc.assert(
      fc.property(
        fc.oneof(traceArb({ maxEvents: 40 }), traceArb({ maxEvents: 40, storeHeavy: true })),
        fc.integer({ min: 2, max: 20 }),
        (trace, maxStates) => {
          const groups = collect(crashStates('px86', asTrace(trace), { maxStates }));
          for (let k = 0; k <= trace.instructions; k++) {
            const hexes = groupAt(groups, k).states.map((s) => hex(s.image));
            const reference = px86LinesAt(trace, k);
            expect(hexes).toContain(hex(sequentialAt(trace, k)));
            expect(hexes).toContain(hex(px86Image(reference, () => 0)));
            expect(hexes).toContain(hex(px86Image(reference, (_f, _l, count) => count - 1)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('when sampling, yields distinct states, at most maxStates, only possible ones, the same for the same seed', () => {
    fc.assert(
      fc.property(
        traceArb({ maxEvents: 40, maxSize: 400, storeHeavy: true }),
        fc.integer({ min: 2, max: 12 }),
        fc.integer(),
        (trace, maxStates, seed) => {
          const once = collect(crashStates('px86', asTrace(trace), { maxStates, seed }));
          const again = collect(crashStates('px86', asTrace(trace), { maxStates, seed }));
          expect(again.map((g) => g.states.map((s) => s.hash))).toEqual(once.map((g) => g.states.map((s) => s.hash)));
          for (const group of once) {
            expect(group.states.length).toBeLessThanOrEqual(maxStates);
            const reference = px86LinesAt(trace, group.first);
            if (px86Product(reference) > maxStates) {
              expect(new Set(group.states.map((s) => s.hash)).size).toBe(group.states.length);
            }
            for (const state of group.states) {
              // The choices it describes rebuild its image in the reference model.
              const chosen = new Map(state.describe.map((c) => [`${c.fileId}:${c.offset}`, c]));
              const rebuilt = px86Image(reference, (fileId, line, count) => {
                const c = chosen.get(`${fileId}:${line * 64}`);
                if (!c) return 0;
                expect(c.of).toBe(count);
                return c.version;
              });
              expect(hex(state.image)).toBe(hex(rebuilt));
              expect(state.describe.length).toBe(reference.lines.flat().filter((l) => l.versions.length > 1).length);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a clwb-flushed line unsettled until a fence', () => {
    const events = [store(1, 0, 0, [1]), flush(EventKind.Clwb, 2, 0, 0)];
    expect(finalStates(events).sort()).toEqual([image({}), image({ 0: 1 })].sort());
    expect(finalStates([...events, fence(3)])).toEqual([image({ 0: 1 })]);
    expect(finalStates([store(1, 0, 0, [1]), flush(EventKind.Clflushopt, 2, 0, 0), fence(3)])).toEqual([
      image({ 0: 1 }),
    ]);
  });

  it('makes a fence guarantee the pending version, not a later store', () => {
    const states = finalStates([store(1, 0, 0, [1]), flush(EventKind.Clwb, 2, 0, 0), store(3, 0, 1, [2]), fence(4)]);
    expect(states.sort()).toEqual([image({ 0: 1 }), image({ 0: 1, 1: 2 })].sort());
  });

  it('lets the most recent pending mark win', () => {
    const states = finalStates([
      store(1, 0, 0, [1]),
      flush(EventKind.Clwb, 2, 0, 0),
      store(3, 0, 1, [2]),
      flush(EventKind.Clwb, 4, 0, 0),
      store(5, 0, 2, [3]),
      fence(6),
    ]);
    expect(states.sort()).toEqual([image({ 0: 1, 1: 2 }), image({ 0: 1, 1: 2, 2: 3 })].sort());
  });

  it('needs no fence after clflush', () => {
    expect(finalStates([store(1, 0, 0, [1]), store(2, 0, 1, [2]), flush(EventKind.Clflush, 3, 0, 0)])).toEqual([
      image({ 0: 1, 1: 2 }),
    ]);
  });

  it('needs a fence after non-temporal stores', () => {
    const events = [ntStore(1, 0, 0, [1, 2])];
    expect(finalStates(events).sort()).toEqual([image({}), image({ 0: 1, 1: 2 })].sort());
    expect(finalStates([...events, fence(2)])).toEqual([image({ 0: 1, 1: 2 })]);
  });

  it('lets a store spanning two lines tear between them, never inside a line', () => {
    const states = finalStates([store(1, 0, 62, [1, 2, 3, 4])]);
    expect(states.sort()).toEqual(
      [image({}), image({ 62: 1, 63: 2 }), image({ 64: 3, 65: 4 }), image({ 62: 1, 63: 2, 64: 3, 65: 4 })].sort(),
    );
  });

  it('makes write syscalls and syncs guaranteed at once', () => {
    expect(finalStates([store(1, 0, 0, [1]), writeSyscall(2, 0, 1, [2])])).toEqual([image({ 0: 1, 1: 2 })]);
    const synced = finalStates([store(1, 0, 0, [1]), store(2, 0, 64, [2]), store(3, 0, 200, [3]), sync(4, 0, 0, 128)]);
    expect(synced.sort()).toEqual([image({ 0: 1, 64: 2 }), image({ 0: 1, 64: 2, 200: 3 })].sort());
  });

  it('counts every version since the guaranteed one, so the exhaustive count is the product', () => {
    // line 0: 3 stores -> 4 choices; line 1: 1 store -> 2 choices; line 2: stored then clflushed.
    const events = [
      store(1, 0, 0, [1]),
      store(2, 0, 0, [2]),
      store(3, 0, 0, [3]),
      store(4, 0, 64, [4]),
      store(5, 0, 128, [5]),
      flush(EventKind.Clflush, 6, 0, 128),
    ];
    expect(finalStates(events, { mergeVersions: false })).toHaveLength(8);
    expect(finalStates(events, { maxStates: 8, mergeVersions: false })).toHaveLength(8);
    // merged, line 0's three stores are one choice: 2 x 2
    expect(finalStates(events, { mergeVersions: true })).toHaveLength(4);
    // the merge is opt-in
    expect(finalStates(events)).toHaveLength(8);
  });

  describe('version merge', () => {
    it('makes stores to a line that no fence or flush separates one choice: the last', () => {
      const events = [store(1, 0, 0, [1]), store(2, 0, 1, [2]), store(3, 0, 2, [3])];
      expect(finalStates(events, { mergeVersions: true }).sort()).toEqual(
        [image({}), image({ 0: 1, 1: 2, 2: 3 })].sort(),
      );
      // the intermediate versions are still the newest ones at their own crash points
      const groups = collect(
        crashStates('px86', { images: [new Uint8Array(256)], events, instructions: 3 }, { mergeVersions: true }),
      );
      expect(groupAt(groups, 1).states.map((s) => hex(s.image))).toContain(image({ 0: 1 }));
      expect(groupAt(groups, 2).states.map((s) => hex(s.image))).toContain(image({ 0: 1, 1: 2 }));
    });

    it('keeps a version a flush marked, and one a fence that guaranteed something separates', () => {
      const marked = [store(1, 0, 0, [1]), flush(EventKind.Clwb, 2, 0, 0), store(3, 0, 1, [2])];
      expect(finalStates(marked, { mergeVersions: true })).toHaveLength(3);
      // line 64's clwb + fence guarantees it and starts a new epoch for line 0
      const fenced = [
        store(1, 0, 0, [1]),
        store(2, 0, 64, [9]),
        flush(EventKind.Clwb, 3, 0, 64),
        fence(4),
        store(5, 0, 1, [2]),
      ];
      expect(finalStates(fenced, { mergeVersions: true }).sort()).toEqual(
        [image({ 64: 9 }), image({ 0: 1, 64: 9 }), image({ 0: 1, 1: 2, 64: 9 })].sort(),
      );
    });

    it('is not separated by a fence that guarantees nothing (the fast recorder may leave it out)', () => {
      const events = [store(1, 0, 0, [1]), fence(2), store(3, 0, 1, [2])];
      expect(finalStates(events, { mergeVersions: true })).toHaveLength(2);
      expect(finalStates(events, { mergeVersions: false })).toHaveLength(3);
    });

    it('is off by default because it drops an image a real crash can leave', () => {
      // flag (line 0), then data (line 0), then a pointer in line 1 publishing it:
      // flag and pointer durable without the data is a state only the merge loses.
      const events = [store(1, 0, 0, [1]), store(2, 0, 8, [2]), store(3, 0, 64, [1])];
      const flagAndPointerOnly = image({ 0: 1, 64: 1 });
      expect(finalStates(events)).toContain(flagAndPointerOnly);
      expect(finalStates(events, { mergeVersions: true })).not.toContain(flagAndPointerOnly);
    });

    it('never merges a non-temporal store, nor stores of different threads', () => {
      expect(finalStates([ntStore(1, 0, 0, [1]), store(2, 0, 1, [2])], { mergeVersions: true })).toHaveLength(3);
      expect(finalStates([store(1, 0, 0, [1]), ntStore(2, 0, 1, [2])], { mergeVersions: true })).toHaveLength(3);
      const threads = [
        { ...store(1, 0, 0, [1]), thread: 1 },
        { ...store(2, 0, 1, [2]), thread: 2 },
      ];
      expect(finalStates(threads, { mergeVersions: true })).toHaveLength(3);
    });
  });

  it('switches to the seeded selection above maxStates: all-oldest, all-newest, each line alone', () => {
    const events = [store(1, 0, 0, [1]), store(2, 0, 64, [2]), store(3, 0, 128, [3])];
    const states = finalStates(events, { maxStates: 7 });
    expect(states).toHaveLength(7);
    expect(states.slice(0, 5)).toEqual([
      image({}),
      image({ 0: 1, 64: 2, 128: 3 }),
      // each line alone newest, most recently changed first
      image({ 128: 3 }),
      image({ 64: 2 }),
      image({ 0: 1 }),
    ]);
    // then each line alone oldest (the 8th combination is left out by the cap)
    expect(states.slice(5)).toEqual([image({ 0: 1, 64: 2 }), image({ 0: 1, 128: 3 })]);
  });

  it('fills the selection with seeded random combinations, depending on the seed', () => {
    const events: TraceEvent[] = [];
    for (let i = 0; i < 12; i++) events.push(store(2 * i + 1, 0, (i % 3) * 64 + i, [i + 1]));
    const a = finalStates(events, { maxStates: 20, seed: 1, mergeVersions: false });
    const b = finalStates(events, { maxStates: 20, seed: 2, mergeVersions: false });
    expect(a).toHaveLength(20);
    expect(b).toHaveLength(20);
    expect(new Set(a).size).toBe(20);
    expect(a.slice(0, 8)).toEqual(b.slice(0, 8));
    expect(a).not.toEqual(b);
    expect(finalStates(events, { maxStates: 20, seed: 1, mergeVersions: false })).toEqual(a);
  });

  it('stops looking when equal versions leave fewer distinct images than the cap', () => {
    const events: TraceEvent[] = [];
    for (let i = 1; i <= 10; i++) events.push(store(i, 0, 0, [1]));
    expect(finalStates(events, { maxStates: 4 }).sort()).toEqual([image({}), image({ 0: 1 })].sort());
  });

  it('describes the version each unsettled line took', () => {
    const trace: TestTrace = {
      images: [new Uint8Array(256)],
      events: [store(1, 0, 70, [1]), store(2, 0, 70, [2]), store(3, 0, 0, [3])],
      instructions: 3,
    };
    const groups = collect(crashStates('px86', asTrace(trace), { mergeVersions: false }));
    const described = groups[groups.length - 1].states.map((s) => s.describe);
    expect(described).toHaveLength(6);
    expect(described).toContainEqual([
      { fileId: 0, offset: 0, version: 1, of: 2 },
      { fileId: 0, offset: 64, version: 2, of: 3 },
    ]);
    expect(described).toContainEqual([
      { fileId: 0, offset: 0, version: 0, of: 2 },
      { fileId: 0, offset: 64, version: 0, of: 3 },
    ]);
    expect(collect(crashStates('px86', { ...asTrace(trace), events: [] }))[0].states[0].describe).toEqual([]);
  });

  it('does not start a new group for clwb or clflushopt, nor for a fence with nothing pending', () => {
    const groups = collect(
      crashStates('px86', {
        images: [new Uint8Array(128)],
        events: [
          store(1, 0, 0, [1]),
          flush(EventKind.Clwb, 2, 0, 0),
          fence(3),
          fence(4),
          flush(EventKind.Clflushopt, 5, 0, 64),
        ],
        instructions: 6,
      }),
    );
    expect(groups.map((g) => [g.first, g.last])).toEqual([
      [0, 0],
      [1, 2],
      [3, 6],
    ]);
  });
});
