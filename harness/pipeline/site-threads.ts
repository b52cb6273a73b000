// site-threads -- the thread that ran each event a report names, in a trace
// of several threads (docs/recording.md, "Threads"): a finding's or lint
// hit's site is shown with the thread of its example event, so that a reader
// of an interleaving knows whose store, flush or fence it was. Traces of one
// thread name none (their reports stay as they were).

import type { TraceEvent } from '../trace/event';
import type { TraceHeader } from '../trace/format';

/** severalThreads -- was the trace recorded from regions of more than the
 *  first thread? Only then do its reports name threads. */
export function severalThreads(header: Pick<TraceHeader, 'regions'>): boolean {
  return header.regions.some((region) => region.thread !== undefined);
}

/** nameSiteThreads -- sets `thread` on each site to the thread of the event
 *  at its instruction index (one pass over the events); nothing in a trace
 *  of one thread. */
export function nameSiteThreads(
  header: Pick<TraceHeader, 'regions'>,
  events: () => Iterable<TraceEvent>,
  sites: readonly { index: number; thread?: number }[],
): void {
  if (sites.length === 0 || !severalThreads(header)) return;
  const wanted = new Map<number, number | undefined>(sites.map((site) => [site.index, undefined]));
  let left = wanted.size;
  for (const event of events()) {
    if (!wanted.has(event.index) || wanted.get(event.index) !== undefined) continue;
    wanted.set(event.index, event.thread ?? 0);
    if (--left === 0) break;
  }
  for (const site of sites) {
    const thread = wanted.get(site.index);
    if (thread !== undefined) site.thread = thread;
  }
}
