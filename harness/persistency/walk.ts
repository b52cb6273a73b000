// walk -- turn one model's event-by-event state into crash-state groups.
//
// Events are sparse: a trace of N = 10,000,000 instructions may hold a few
// thousand events, so nothing here is done per crash point. The walk applies
// events in order and closes the current group [first, i-1] only just before
// applying the first event of instruction i > first that can change the
// model's crash states (ModelMachine.affects); events that cannot (a fence in
// the sequential model, a store in the flushed one) are applied inside the
// open group. Because the group is yielded before that event is applied, its
// states' patch() and describe() still see the right model state until
// the consumer asks for the next group; after that they throw (a Lease
// per group marks them stale) rather than return another point's image.

import { EventKind, LINE, NO_FILE, TraceEvent } from '../trace/event';
import { CrashGroup, CrashState, PersistencyTrace } from './types';

/** Lease -- whether the states of one yielded group may still be read. */
export class Lease {
  private live = true;

  end(): void {
    this.live = false;
  }

  /** check -- throw when the group's generator has moved on. */
  check(): void {
    if (!this.live) {
      throw new Error(
        'crash state read after its generator moved on: patch() and describe() are valid only until the next group is requested',
      );
    }
  }
}

/** One persistency model, fed one event at a time. */
export interface ModelMachine {
  /** Whether applying `event` now may change the set of crash states
   *  (false only when it certainly does not). */
  affects(event: TraceEvent): boolean;
  apply(event: TraceEvent): void;
  /** The crash states of the current model state; `first` is the first crash
   *  point of the group they are for.
   *  Their patch() and describe() call lease.check() first. */
  states(first: number, lease: Lease): CrashState[];
}

function carriesData(kind: EventKind): boolean {
  return kind === EventKind.Store || kind === EventKind.NtStore || kind === EventKind.Write;
}

/** checkEvent -- reject events the models cannot apply (a trace reader bug). */
function checkEvent(event: TraceEvent, sizes: readonly number[], instructions: number, lastIndex: number): void {
  const { kind, index, fileId, offset, length } = event;
  const what = () => `trace event #${index} (kind ${kind}, file ${fileId}, offset ${offset}, length ${length})`;
  if (!Number.isSafeInteger(index) || index < lastIndex)
    throw new RangeError(`${what()}: instruction index out of order`);
  if (index > instructions) throw new RangeError(`${what()}: past the last instruction ${instructions}`);
  if (kind === EventKind.Fence) return;
  if (kind < EventKind.Store || kind > EventKind.Sync) throw new RangeError(`${what()}: unknown kind`);
  if (fileId === NO_FILE || !(fileId >= 0 && fileId < sizes.length)) throw new RangeError(`${what()}: no such PM file`);
  if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) {
    throw new RangeError(`${what()}: bad range`);
  }
  if (carriesData(kind)) {
    if (offset + length > sizes[fileId])
      throw new RangeError(`${what()}: range outside the file (${sizes[fileId]} bytes)`);
    if (!event.data || event.data.length !== length) throw new RangeError(`${what()}: data does not match the length`);
  } else if (kind === EventKind.Sync) {
    if (offset + length > sizes[fileId])
      throw new RangeError(`${what()}: range outside the file (${sizes[fileId]} bytes)`);
  } else if (offset > sizes[fileId]) {
    throw new RangeError(`${what()}: flush outside the file (${sizes[fileId]} bytes)`);
  }
}

/**
 * eventLines -- the lines [first, end) a flush or sync event names, inside
 * a file of `size` bytes. A flush names the line holding `offset` (its length
 * is ignored); a sync names every line its byte range touches.
 */
export function eventLines(event: TraceEvent, size: number): { first: number; end: number } {
  const lines = Math.ceil(size / LINE);
  const first = Math.floor(event.offset / LINE);
  let end: number;
  if (event.kind === EventKind.Sync || carriesData(event.kind)) {
    end = event.length === 0 ? first : Math.floor((event.offset + event.length - 1) / LINE) + 1;
  } else {
    end = first + 1;
  }
  return { first: Math.min(first, lines), end: Math.min(end, lines) };
}

/** walkGroups -- the groups of crash states of one model over a trace. */
export function* walkGroups(trace: PersistencyTrace, machine: ModelMachine): Generator<CrashGroup, void, undefined> {
  const n = trace.instructions;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`instruction count must be a non-negative integer, not ${n}`);
  const sizes = trace.images.map((image) => image.length);
  let first = 0;
  let lastIndex = 0;
  for (const event of trace.events) {
    checkEvent(event, sizes, n, lastIndex);
    lastIndex = event.index;
    if (event.index > first && machine.affects(event)) {
      const lease = new Lease();
      yield { first, last: event.index - 1, states: machine.states(first, lease) };
      lease.end();
      first = event.index;
    }
    machine.apply(event);
  }
  const lease = new Lease();
  yield { first, last: n, states: machine.states(first, lease) };
  lease.end();
}
