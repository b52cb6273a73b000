// groups -- properties every persistency model shares: groups cover 0..N,
// every state's hash is the hash of its image, events are read lazily.

import * as fc from 'fast-check';
import { hashImages } from '../../harness/image/line-hash';
import { crashStates, ModelName, modelNames } from '../../harness/persistency/model';
import { EventKind, TraceEvent } from '../../harness/trace/event';
import { asTrace, collect, fence, store, traceArb } from './reference';

const models: readonly ModelName[] = modelNames;

describe.each(models)('%s model', (model) => {
  it('yields groups that cover 0..N in order, without gaps or overlap, each with states', () => {
    fc.assert(
      fc.property(traceArb(), fc.integer({ min: 2, max: 8 }), (trace, maxStates) => {
        const groups = [...crashStates(model, asTrace(trace), { maxStates })];
        let next = 0;
        for (const group of groups) {
          expect(group.first).toBe(next);
          expect(group.last).toBeGreaterThanOrEqual(group.first);
          expect(group.states.length).toBeGreaterThan(0);
          expect(group.states.length).toBeLessThanOrEqual(model === 'px86' ? maxStates : 1);
          next = group.last + 1;
        }
        expect(next).toBe(trace.instructions + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('gives every state the hash of the image it materializes', () => {
    fc.assert(
      fc.property(traceArb(), (trace) => {
        for (const group of collect(crashStates(model, asTrace(trace), { maxStates: 16 }))) {
          for (const state of group.states) expect(state.hash).toBe(hashImages(state.image));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never modifies the initial images', () => {
    fc.assert(
      fc.property(traceArb(), (trace) => {
        const before = trace.images.map((image) => Uint8Array.from(image));
        collect(crashStates(model, asTrace(trace)));
        expect(trace.images).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });

  it('walks a long sparse trace without visiting every crash point', () => {
    // 10^15 crash points: a walk that visited each one would never end
    const n = 1e15;
    const images = [new Uint8Array(4096)];
    const events = [store(5, 0, 0, [1]), fence(6), store(n - 1000, 0, 100, [2]), fence(n - 999)];
    const groups = [...crashStates(model, { images, events, instructions: n })];
    expect(groups.length).toBeLessThanOrEqual(5);
    expect(groups[0].first).toBe(0);
    expect(groups[groups.length - 1].last).toBe(n);
  });

  it('reads the events lazily, one group ahead at most', () => {
    let read = 0;
    function* events(): Generator<TraceEvent> {
      for (let i = 1; i <= 100; i++) {
        read += 1;
        yield store(i * 10, 0, i, [i]);
        yield { kind: EventKind.Clflush, index: i * 10, address: 0, fileId: 0, offset: 0, length: 64 };
      }
    }
    const iterator = crashStates(model, {
      images: [new Uint8Array(256)],
      events: { [Symbol.iterator]: events },
      instructions: 2000,
    });
    iterator.next();
    expect(read).toBeLessThanOrEqual(2);
  });

  it('refuses to read a state once the generator moved on', () => {
    const groups = crashStates(model, { images: [new Uint8Array(64)], events: [store(2, 0, 0, [1])], instructions: 3 });
    const first = groups.next();
    if (first.done) throw new Error('no group');
    const [state] = first.value.states;
    expect(state.patch().toBytes()[0][0]).toBe(0);
    groups.next();
    expect(() => state.patch()).toThrow(/generator moved on/);
    expect(() => state.describe()).toThrow(/generator moved on/);
  });

  it('sees events at index 0 at crash point 0', () => {
    const groups = collect(
      crashStates(model, {
        images: [new Uint8Array(64)],
        events: [
          store(0, 0, 0, [7]),
          {
            kind: EventKind.Clflush,
            index: 0,
            address: 0,
            fileId: 0,
            offset: 0,
            length: 64,
          },
          fence(0),
        ],
        instructions: 3,
      }),
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ first: 0, last: 3 });
    expect(groups[0].states.map((s) => s.image[0][0])).toEqual([7]);
  });

  it('rejects events out of order, past N, or outside the files', () => {
    const images = [new Uint8Array(100)];
    const run =
      (events: TraceEvent[], instructions = 10) =>
      () => [...crashStates(model, { images, events, instructions })];
    expect(run([store(3, 0, 0, [1]), store(2, 0, 0, [1])])).toThrow(/out of order/);
    expect(run([store(11, 0, 0, [1])])).toThrow(/past the last instruction/);
    expect(run([store(1, 0, 99, [1, 2])])).toThrow(/outside the file/);
    expect(run([store(1, 1, 0, [1])])).toThrow(/no such PM file/);
    expect(run([{ ...store(1, 0, 0, [1, 2]), length: 3 }])).toThrow(/data does not match/);
  });
});

describe('crashStates', () => {
  it('rejects bad options and unknown models', () => {
    const trace = { images: [new Uint8Array(8)], events: [], instructions: 0 };
    expect(() => crashStates('px86', trace, { maxStates: 1 })).toThrow(/maxStates/);
    expect(() => crashStates('px86', trace, { seed: 1.5 })).toThrow(/seed/);
    expect(() => crashStates('bogus' as ModelName, trace)).toThrow(/unknown persistency model/);
  });

  it('gives the same image the same hash in every model', () => {
    const images = [new Uint8Array(128)];
    const events = [
      store(1, 0, 3, [9]),
      { kind: EventKind.Clflush, index: 2, address: 0, fileId: 0, offset: 0, length: 64 } as TraceEvent,
    ];
    const finals = models.map((model) => {
      const groups = collect(crashStates(model, { images, events, instructions: 2 }));
      return groups[groups.length - 1].states.map((s) => s.hash);
    });
    expect(finals[0]).toEqual(finals[1]);
    expect(finals[0]).toEqual(finals[2]);
  });
});
