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
// (pending), and after a clflushopt or clwb, that store waiting for a fence
// (clflush needs none). Events are
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

/** durabilityLint -- the lint hits of a trace, by kind and address, in
 *  order of first occurrence. */
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
  /** Per file and line: the first store since the line's last flush. */
  const dirty = new Map<string, Pending>();
  /** Lines flushed (with a store before) since the last fence: the store. */
  const flushed = new Map<string, Pending>();
  /** Non-temporal stores waiting for a fence. */
  const nonTemporal = new Map<string, Pending>();
  let region = 0;

  const endRegion = (): void => {
    for (const store of dirty.values()) hit('not-durable', store);
    for (const store of nonTemporal.values()) hit('not-durable', store);
    for (const store of flushed.values()) hit('unfenced-flush', store);
    dirty.clear();
    nonTemporal.clear();
    flushed.clear();
  };

  for (const event of events) {
    while (region < regions.length && event.index > regions[region].end) {
      endRegion();
      region++;
    }
    const site = { address: event.address, index: event.index };
    const lines = (): string[] => {
      const keys: string[] = [];
      const first = Math.floor(event.offset / LINE);
      const last = event.length > 0 ? Math.floor((event.offset + event.length - 1) / LINE) : first;
      for (let line = first; line <= last; line++) keys.push(`${event.fileId}:${line}`);
      return keys;
    };
    switch (event.kind) {
      case EventKind.Store:
        for (const key of lines()) {
          if (!dirty.has(key)) dirty.set(key, site);
          flushed.delete(key);
        }
        break;
      case EventKind.NtStore:
        for (const key of lines()) if (!nonTemporal.has(key)) nonTemporal.set(key, site);
        break;
      case EventKind.Clflush:
      case EventKind.Clflushopt:
      case EventKind.Clwb: {
        const key = `${event.fileId}:${Math.floor(event.offset / LINE)}`;
        const store = dirty.get(key);
        if (!store) {
          if (!flushed.has(key)) hit('redundant-flush', site);
          break;
        }
        dirty.delete(key);
        // clflush is ordered by itself (durable at once, as px86 has it);
        // clflushopt and clwb wait for a fence.
        if (event.kind !== EventKind.Clflush) flushed.set(key, store);
        break;
      }
      case EventKind.Fence:
        if (flushed.size === 0 && nonTemporal.size === 0 && explicitFence(event.address)) hit('empty-fence', site);
        flushed.clear();
        nonTemporal.clear();
        break;
      case EventKind.Sync:
        for (const key of lines()) {
          dirty.delete(key);
          flushed.delete(key);
          nonTemporal.delete(key);
        }
        break;
      case EventKind.Write:
        break;
    }
  }
  while (region < regions.length) {
    endRegion();
    region++;
  }
  return [...hits.values()];
}
