// threads -- px86 and flushed over the interleaving of several threads: a fence
// completes the flushes and non-temporal stores of its own thread only, and a
// flush writes back the line as it is, with other threads' stores in it.

import { crashStates } from '../../harness/persistency/model';
import { EventKind, TraceEvent } from '../../harness/trace/event';
import { collect, fence, flush, hex, ntStore, store } from './reference';

/** on -- the event as run by `thread`. */
const on = (thread: number, event: TraceEvent): TraceEvent => (thread === 0 ? event : { ...event, thread });

/** The hex images at the last crash point. */
function finalStates(events: TraceEvent[]): string[] {
  const instructions = events.reduce((max, e) => Math.max(max, e.index), 0);
  const groups = collect(crashStates('px86', { images: [new Uint8Array(128)], events, instructions }));
  return groups[groups.length - 1].states.map((s) => hex(s.image)).sort();
}

function image(bytes: Record<number, number>): string {
  const out = new Uint8Array(128);
  for (const [at, value] of Object.entries(bytes)) out[Number(at)] = value;
  return hex([out]);
}

describe('px86 with threads', () => {
  it("another thread's fence does not complete a clwb", () => {
    const events = [on(1, store(1, 0, 0, [7])), on(1, flush(EventKind.Clwb, 2, 0, 0)), on(2, fence(3))];
    expect(finalStates(events)).toEqual([image({}), image({ 0: 7 })].sort());
  });

  it('the fence of the thread that flushed completes it', () => {
    const events = [
      on(1, store(1, 0, 0, [7])),
      on(1, flush(EventKind.Clwb, 2, 0, 0)),
      on(2, fence(3)),
      on(1, fence(4)),
    ];
    expect(finalStates(events)).toEqual([image({ 0: 7 })]);
  });

  it("a flush writes back another thread's store in its line (the store came first in the interleaving)", () => {
    const events = [
      on(1, store(1, 0, 0, [7])),
      on(2, store(2, 0, 8, [9])),
      on(2, flush(EventKind.Clwb, 3, 0, 0)),
      on(2, fence(4)),
    ];
    expect(finalStates(events)).toEqual([image({ 0: 7, 8: 9 })]);
  });

  it('marks of two threads on one line: each fence guarantees its own version', () => {
    const events = [
      on(1, store(1, 0, 0, [1])),
      on(1, flush(EventKind.Clwb, 2, 0, 0)),
      on(2, store(3, 0, 0, [2])),
      on(2, flush(EventKind.Clwb, 4, 0, 0)),
      on(1, fence(5)),
    ];
    // thread 1's version is guaranteed; thread 2's is still only possible
    expect(finalStates(events)).toEqual([image({ 0: 1 }), image({ 0: 2 })].sort());
    expect(finalStates([...events, on(2, fence(6))])).toEqual([image({ 0: 2 })]);
  });

  it("a non-temporal store waits for its own thread's fence", () => {
    const events = [on(1, ntStore(1, 0, 64, [5])), on(0, fence(2))];
    expect(finalStates(events)).toEqual([image({}), image({ 64: 5 })].sort());
    expect(finalStates([...events, on(1, fence(3))])).toEqual([image({ 64: 5 })]);
  });
});

// A store still in its thread's store buffer (x86-TSO) is not in the cache
// yet, so no write-back can carry it: a crash image without it must exist
// until a flush of its line that x86 orders after it, and a fence, made it
// durable (docs/models.md, "Store buffers").
describe('stores a store buffer may still hold', () => {
  it('px86: a store is not durable because its own thread fenced (a fence drains the buffer into the cache only)', () => {
    const events = [on(1, store(1, 0, 0, [7])), on(1, fence(2))];
    expect(finalStates(events)).toEqual([image({}), image({ 0: 7 })].sort());
  });

  it("px86: a thread's older store may be lost while another thread's newer store to another line is durable", () => {
    const events = [
      on(1, store(1, 0, 0, [7])),
      on(2, store(2, 0, 64, [9])),
      on(2, flush(EventKind.Clwb, 3, 0, 64)),
      on(2, fence(4)),
    ];
    // the image in which thread 1's store still sat in its buffer is there
    expect(finalStates(events)).toEqual([image({ 64: 9 }), image({ 0: 7, 64: 9 })].sort());
  });

  it('flushed: a store its own thread fenced but nobody flushed is lost', () => {
    const instructions = 2;
    const events = [on(1, store(1, 0, 0, [7])), on(1, fence(2))];
    const groups = collect(crashStates('flushed', { images: [new Uint8Array(128)], events, instructions }));
    expect(hex(groups[groups.length - 1].states[0].image)).toBe(image({}));
  });
});

describe('flushed with threads', () => {
  function flushedFinal(events: TraceEvent[]): string {
    const instructions = events.reduce((max, e) => Math.max(max, e.index), 0);
    const groups = collect(crashStates('flushed', { images: [new Uint8Array(128)], events, instructions }));
    return hex(groups[groups.length - 1].states[0].image);
  }

  it("a non-temporal store is durable at its own thread's fence, not another's", () => {
    const events = [on(1, ntStore(1, 0, 64, [5])), on(2, fence(2))];
    expect(flushedFinal(events)).toBe(image({}));
    expect(flushedFinal([...events, on(1, fence(3))])).toBe(image({ 64: 5 }));
  });

  it("a fence never puts back an older version than another thread's fenced one", () => {
    const events = [on(1, ntStore(1, 0, 64, [1])), on(2, ntStore(2, 0, 64, [2])), on(2, fence(3)), on(1, fence(4))];
    expect(flushedFinal(events)).toBe(image({ 64: 2 }));
  });
});
