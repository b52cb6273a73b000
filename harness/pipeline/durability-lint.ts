// durability-lint -- what the recorded trace alone says about persistence,
// without a recovery run (docs/findings.md, "Durability lint"):
//
//   not-durable      a store whose line was neither flushed and fenced nor
//                    synced before its operation (region) ended: a crash
//                    after the operation may lose it (warning; a failure
//                    with --strict)
//   unfenced-flush   a store flushed, but no fence before the operation
//                    ended: the flush may not have completed (warning)
//   redundant-flush  a flush of a line with no store since its last flush
//                    (note: costs time, loses nothing)
//   empty-fence      a fence with no flush or non-temporal store pending
//                    (note)
//
// A line's state is per 64-byte line: the first store since its last flush
// (pending), and after a clflushopt or clwb, that store waiting for the
// flushing thread's fence (clflush needs none). Events are
// counted per instruction address; the sites are located like findings'.

import { EventKind, LINE, TraceEvent } from '../trace/event';
import type { Region } from '../check/allowed-states';

export type LintKind = 'not-durable' | 'unfenced-flush' | 'redundant-flush' | 'empty-fence';

export interface LintHit {
  kind: LintKind;
  /** The instruction blamed: the store (not-durable, unfenced-flush's
   *  store is kept in `store`), the flush or the fence. */
  address: number;
  /** Instruction index of the first event counted here. */
  index: number;
  count: number;
}

interface Pending {
  address: number;
  index: number;
}

/** One thread's lint state (events without a thread are thread 0). */
interface ThreadLines {
  /** Per file and line: its first store since the line's last flush. */
  dirty: Map<string, Pending>;
  /** Non-temporal stores waiting for this thread's fence. */
  nonTemporal: Map<string, Pending>;
}

/** durabilityLint -- the lint hits of a trace, by kind and address, in
 *  order of first occurrence.
 *
 *  Threads (docs/findings.md, "Durability lint"): a store is the operation
 *  of the thread that made it, so the end of a thread's region reports that
 *  thread's stores only, even while another thread's operation is in flight
 *  (regions of several threads may overlap). A flush by any thread covers
 *  the line (the write-back takes whoever stored to it), and the flushing
 *  thread's fence completes it, as in the models (docs/models.md, "Threads"). */
export function durabilityLint(
  events: Iterable<TraceEvent>,
  regions: readonly Region[],
  /** Whether the fence at an address is an sfence or mfence (a locked
   *  instruction is a fence too, but is meant for something else). */
  explicitFence: (address: number) => boolean = () => true,
): LintHit[] {
  const hits = new Map<string, LintHit>();
  const hit = (kind: LintKind, at: Pending): void => {
    const key = `${kind} ${at.address}`;
    const known = hits.get(key);
    if (known) known.count++;
    else hits.set(key, { kind, address: at.address, index: at.index, count: 1 });
  };
  const threads = new Map<number, ThreadLines>();
  const linesOf = (thread: number): ThreadLines => {
    let state = threads.get(thread);
    if (!state) {
      state = { dirty: new Map(), nonTemporal: new Map() };
      threads.set(thread, state);
    }
    return state;
  };
  /** Per flushing thread, lines flushed (with a store before) since its
   *  last fence: the store and the thread that made it. */
  const flushed = new Map<number, Map<string, Pending & { thread: number }>>();
  // Regions in order of their end: each ends its own thread's operation.
  const ends = [...regions].sort((a, b) => a.end - b.end);
  let region = 0;

  const endRegion = (thread: number): void => {
    const state = linesOf(thread);
    for (const store of state.dirty.values()) hit('not-durable', store);
    for (const store of state.nonTemporal.values()) hit('not-durable', store);
    state.dirty.clear();
    state.nonTemporal.clear();
    for (const lines of flushed.values()) {
      for (const [key, store] of lines) {
        if (store.thread !== thread) continue;
        hit('unfenced-flush', store);
        lines.delete(key);
      }
    }
  };

  for (const event of events) {
    while (region < ends.length && event.index > ends[region].end) {
      endRegion(ends[region].thread ?? 0);
      region++;
    }
    const thread = event.thread ?? 0;
    const site = { address: event.address, index: event.index };
    const lines = (): string[] => {
      const keys: string[] = [];
      const first = Math.floor(event.offset / LINE);
      const last = event.length > 0 ? Math.floor((event.offset + event.length - 1) / LINE) : first;
      for (let line = first; line <= last; line++) keys.push(`${event.fileId}:${line}`);
      return keys;
    };
    switch (event.kind) {
      case EventKind.Store: {
        const { dirty } = linesOf(thread);
        for (const key of lines()) {
          if (!dirty.has(key)) dirty.set(key, site);
          for (const pending of flushed.values()) pending.delete(key);
        }
        break;
      }
      case EventKind.NtStore: {
        const { nonTemporal } = linesOf(thread);
        for (const key of lines()) if (!nonTemporal.has(key)) nonTemporal.set(key, site);
        break;
      }
      case EventKind.Clflush:
      case EventKind.Clflushopt:
      case EventKind.Clwb: {
        const key = `${event.fileId}:${Math.floor(event.offset / LINE)}`;
        let any = false;
        for (const [owner, state] of threads) {
          const store = state.dirty.get(key);
          if (!store) continue;
          any = true;
          state.dirty.delete(key);
          // clflush is ordered by itself (durable at once, as px86 has it);
          // clflushopt and clwb wait for the flushing thread's fence.
          if (event.kind === EventKind.Clflush) continue;
          let pending = flushed.get(thread);
          if (!pending) {
            pending = new Map();
            flushed.set(thread, pending);
          }
          if (!pending.has(key)) pending.set(key, { ...store, thread: owner });
        }
        if (!any && ![...flushed.values()].some((pending) => pending.has(key))) hit('redundant-flush', site);
        break;
      }
      case EventKind.Fence: {
        const pending = flushed.get(thread);
        const state = linesOf(thread);
        if ((pending?.size ?? 0) === 0 && state.nonTemporal.size === 0 && explicitFence(event.address))
          hit('empty-fence', site);
        flushed.delete(thread);
        state.nonTemporal.clear();
        break;
      }
      case EventKind.Sync:
        for (const key of lines()) {
          for (const state of threads.values()) {
            state.dirty.delete(key);
            state.nonTemporal.delete(key);
          }
          for (const pending of flushed.values()) pending.delete(key);
        }
        break;
      case EventKind.Write:
        break;
    }
  }
  while (region < ends.length) {
    endRegion(ends[region].thread ?? 0);
    region++;
  }
  return [...hits.values()];
}
