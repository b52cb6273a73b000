// flushed -- each line as of its last flush or write syscall.

import * as fc from 'fast-check';
import { crashStates } from '../../harness/persistency/model';
import { EventKind } from '../../harness/trace/event';
import { asTrace, collect, fence, flush, flushedAt, groupAt, hex, ntStore, store, sync, traceArb, writeSyscall } from './reference';

function finalImage(trace: Parameters<typeof asTrace>[0]): Uint8Array {
  const groups = collect(crashStates('flushed', asTrace(trace)));
  return groups[groups.length - 1].states[0].image[0];
}

describe('flushed model', () => {
  it('at every k, yields one image: each line as of its last flush or write syscall', () => {
    fc.assert(fc.property(traceArb(), (trace) => {
      const groups = collect(crashStates('flushed', asTrace(trace)));
      for (let k = 0; k <= trace.instructions; k++) {
        const group = groupAt(groups, k);
        expect(group.states).toHaveLength(1);
        expect(hex(group.states[0].image)).toBe(hex(flushedAt(trace, k)));
      }
    }), { numRuns: 300 });
  });

  it('loses unflushed stores, and non-temporal stores too, even after a fence', () => {
    const image = finalImage({ images: [new Uint8Array(128)], events: [store(1, 0, 0, [1]), ntStore(2, 0, 64, [2]), fence(3)], instructions: 3 });
    expect([image[0], image[64]]).toEqual([0, 0]);
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
      events: [store(1, 0, 0, [1]), writeSyscall(2, 0, 1, [2]), store(3, 0, 128, [3]), store(4, 0, 192, [4]), sync(5, 0, 130, 10)],
      instructions: 5,
    });
    expect([image[0], image[1], image[128], image[192]]).toEqual([1, 2, 3, 0]);
  });

  it('does not start a new group for stores or for flushes of clean lines', () => {
    const groups = collect(crashStates('flushed', {
      images: [new Uint8Array(128)],
      events: [store(1, 0, 0, [1]), store(2, 0, 1, [1]), flush(EventKind.Clwb, 3, 0, 64), fence(4), flush(EventKind.Clwb, 5, 0, 0), store(6, 0, 2, [1])],
      instructions: 8,
    }));
    expect(groups.map((g) => [g.first, g.last])).toEqual([[0, 4], [5, 8]]);
  });
});
