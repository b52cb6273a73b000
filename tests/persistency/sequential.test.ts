// sequential -- every PM write up to k survives.

import * as fc from 'fast-check';
import { crashStates } from '../../harness/persistency/model';
import {
  asTrace,
  collect,
  fence,
  flush,
  groupAt,
  hex,
  ntStore,
  sequentialAt,
  store,
  traceArb,
  writeSyscall,
} from './reference';
import { EventKind } from '../../harness/trace/event';

describe('sequential model', () => {
  it('at every k, yields one image: the fold of every write with index <= k', () => {
    fc.assert(
      fc.property(traceArb(), (trace) => {
        const groups = collect(crashStates('sequential', asTrace(trace)));
        for (let k = 0; k <= trace.instructions; k++) {
          const group = groupAt(groups, k);
          expect(group.states).toHaveLength(1);
          expect(hex(group.states[0].image)).toBe(hex(sequentialAt(trace, k)));
          expect(group.states[0].describe).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('applies stores, non-temporal stores and write syscalls, and ignores flushes and fences', () => {
    const trace = {
      images: [new Uint8Array(128)],
      events: [
        store(1, 0, 0, [1]),
        ntStore(2, 0, 64, [2]),
        flush(EventKind.Clwb, 3, 0, 0),
        fence(4),
        writeSyscall(5, 0, 100, [3, 4]),
      ],
      instructions: 6,
    };
    const groups = collect(crashStates('sequential', trace));
    expect(groups.map((g) => [g.first, g.last])).toEqual([
      [0, 0],
      [1, 1],
      [2, 4],
      [5, 6],
    ]);
    const last = groups[3].states[0].image[0];
    expect([last[0], last[64], last[100], last[101]]).toEqual([1, 2, 3, 4]);
  });
});
