// prefix-tracker -- the lines an image may show otherwise than the prefix,
// in a trace of several threads: a fence settles only the lines its own
// thread flushed, as the models have it (docs/models.md, "Threads").

import { PrefixTracker } from '../../../harness/pipeline/_internals/prefix-tracker';
import { EventKind, TraceEvent } from '../../../harness/trace/event';
import { fence, flush, ntStore, store } from '../../persistency/reference';

const on = (thread: number, event: TraceEvent): TraceEvent => ({ ...event, thread });

function tracker(events: TraceEvent[]): PrefixTracker {
  const prefix = new PrefixTracker([new Uint8Array(4 * 64)]);
  for (const event of events) prefix.apply(event);
  return prefix;
}

describe('PrefixTracker fences per thread', () => {
  test("another thread's fence leaves a clwb pending; the flushing thread's fence settles it", () => {
    const flushed = [on(1, store(1, 0, 64, [7])), on(1, flush(EventKind.Clwb, 2, 0, 64))];
    expect([...tracker([...flushed, on(2, fence(3))]).unsettled[0]]).toEqual([1]);
    expect([...tracker([...flushed, on(2, fence(3)), on(1, fence(4))]).unsettled[0]]).toEqual([]);
  });

  test("a non-temporal store waits for its own thread's fence, not another's", () => {
    const stored = [on(1, ntStore(1, 0, 128, [7]))];
    expect([...tracker([...stored, fence(2)]).unsettled[0]]).toEqual([2]);
    expect([...tracker([...stored, on(1, fence(2))]).unsettled[0]]).toEqual([]);
  });

  test("a store after another thread's clwb is not covered by that thread's fence", () => {
    const events = [
      on(1, store(1, 0, 0, [1])),
      on(1, flush(EventKind.Clwb, 2, 0, 0)),
      on(2, store(3, 0, 1, [2])),
      on(1, fence(4)),
    ];
    expect([...tracker(events).unsettled[0]]).toEqual([0]);
  });

  test('a single thread (no thread fields) settles at its fence, as before', () => {
    const events = [store(1, 0, 0, [1]), flush(EventKind.Clwb, 2, 0, 0), fence(3)];
    expect([...tracker(events).unsettled[0]]).toEqual([]);
  });
});
