// sequential-image -- what a kill at crash point k leaves in a PM file as the
// sequential model has it: the recorded initial image with the data of every
// event up to k applied (stores, non-temporal stores and write syscalls carry
// data; flushes, fences and syncs change no byte). Tests compare it with
// what a real kill or `pmfit crash` leaves.

import type { TraceEvent } from '../../harness/trace/event';

/** sequentialImage -- `initial` with the data of `events` (in index order)
 *  up to index k written into a copy. */
export function sequentialImage(initial: Uint8Array, events: Iterable<TraceEvent>, k: number): Buffer {
  const image = Buffer.from(initial);
  for (const event of events) {
    if (event.index > k) break;
    if (event.data) image.set(event.data, event.offset);
  }
  return image;
}
