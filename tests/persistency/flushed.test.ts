// flushed -- each line as of its last flush or write syscall.

import * as fc from 'fast-check';
import { crashStates } from '../../harness/persistency/model';
import { EventKind } from '../../harness/trace/event';
import {
  asTrace,
  collect,
  fence,
  flush,
  flushedAt,
  groupAt,
  hex,
  ntStore,
  store,
  sync,
  traceArb,
  writeSyscall,
} from './reference';

function finalImage(trace: Parameters<typeof asTrace>[0]): Uint8Array {
  const groups = collect(crashStates('flushed', asTrace(trace)));
  return groups[groups.length - 1].states[0].image[0];
}

describe('flushed model', () => {
  it('at every k, yields one image: each line as of its last flush or write syscall', () => {
    fc.assert(
      fc.property(traceArb(), (trace) => {
        const groups = collect(crashStates('flushed', asTrace(trace)));
        for (let k = 0; k <= trace.instructions; k++) {
          const group = groupAt(groups, k);
          expect(group.states).toHaveLength(1);
          expect(hex(group.states[0].image)).toBe(hex(flushedAt(trace, k)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('loses unflushed stores even after a fence, and non-temporal stores until the next fence', () => {
    const events = [store(1, 0, 0, [1]), ntStore(2, 0, 64, [2]), store(3, 0, 65, [3]), fence(4), store(5, 0, 66, [4])];
    const groups = collect(crashStates('flushed', asTrace({ images: [new Uint8Array(128)], events, instructions: 5 })));
    const at = (k: number) => groupAt(groups, k).states[0].image[0];
    // Before the fence the non-temporal store is lost; at the fence its line
    // becomes durable as it was right after the store (not the later store at 65).
    expect([at(3)[0], at(3)[64], at(3)[65]]).toEqual([0, 0, 0]);
    expect([at(4)[0], at(4)[64], at(4)[65], at(4)[66]]).toEqual([0, 2, 0, 0]);
    expect([at(5)[64], at(5)[65], at(5)[66]]).toEqual([2, 0, 0]);
  });

  it('keeps the rest of the line a non-temporal store hits, as it was at that store', () => {
    const image = finalImage({
      images: [new Uint8Array(64)],
      events: [store(1, 0, 0, [7]), ntStore(2, 0, 8, [8]), fence(3)],
      instructions: 3,
    });
    expect([image[0], image[8]]).toEqual([7, 8]);
  });

  it('does not let a fence take back a line flushed after its non-temporal store', () => {
    const image = finalImage({
      images: [new Uint8Array(64)],
      events: [ntStore(1, 0, 0, [1]), store(2, 0, 1, [2]), flush(EventKind.Clwb, 3, 0, 0), fence(4)],
      instructions: 4,
    });
    expect([image[0], image[1]]).toEqual([1, 2]);
  });

  it('starts a new group at a fence only when a non-temporal store is pending', () => {
    const groups = collect(
      crashStates('flushed', {
        images: [new Uint8Array(128)],
        events: [fence(1), ntStore(2, 0, 0, [1]), fence(3), fence(4), store(5, 0, 64, [1]), fence(6)],
        instructions: 6,
      }),
    );
    expect(groups.map((g) => [g.first, g.last])).toEqual([
      [0, 2],
      [3, 6],
    ]);
  });

  it('keeps a line flushed by any flush kind, as it was at the flush, without a fence', () => {
    for (const kind of [EventKind.Clflush, EventKind.Clflushopt, EventKind.Clwb] as const) {
      const image = finalImage({
        images: [new Uint8Array(128)],
        events: [store(1, 0, 10, [1]), store(2, 0, 70, [5]), flush(kind, 3, 0, 0), store(4, 0, 11, [2])],
        instructions: 4,
      });
      expect([image[10], image[11], image[70]]).toEqual([1, 0, 0]);
    }
  });

  it('makes a write syscall durable with the rest of its lines, and a sync its range', () => {
    const image = finalImage({
      images: [new Uint8Array(256)],
      events: [
        store(1, 0, 0, [1]),
        writeSyscall(2, 0, 1, [2]),
        store(3, 0, 128, [3]),
        store(4, 0, 192, [4]),
        sync(5, 0, 130, 10),
      ],
      instructions: 5,
    });
    expect([image[0], image[1], image[128], image[192]]).toEqual([1, 2, 3, 0]);
  });

  it('does not start a new group for stores or for flushes of clean lines', () => {
    const groups = collect(
      crashStates('flushed', {
        images: [new Uint8Array(128)],
        events: [
          store(1, 0, 0, [1]),
          store(2, 0, 1, [1]),
          flush(EventKind.Clwb, 3, 0, 64),
          fence(4),
          flush(EventKind.Clwb, 5, 0, 0),
          store(6, 0, 2, [1]),
        ],
        instructions: 8,
      }),
    );
    expect(groups.map((g) => [g.first, g.last])).toEqual([
      [0, 4],
      [5, 8],
    ]);
  });
});
