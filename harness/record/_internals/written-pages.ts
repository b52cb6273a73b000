// written-pages -- the pages of the PM files written through the tracee's
// own mappings since the last look, from the kernel's write-protect bits
// (native/written_pages.h: userfaultfd in asynchronous write-protect mode
// and PAGEMAP_SCAN). Unlike the page cache's dirty state, a page's mark
// stays when the page is written back (a sync by anyone, the kernel's
// flusher, memory pressure), so a write pmfit missed is compared however
// long ago it happened. Writes by other processes and by write(2) leave no
// mark here: the page cache and the files' times cover those.

import type { NativePmRange, NativeTask } from '../../tracer/native';
import { PAGE } from '../trace-image';

const same =
  (a: NativePmRange) =>
  (b: NativePmRange): boolean =>
    a.start === b.start && a.end === b.end && a.fileId === b.fileId && a.fileOffset === b.fileOffset;

export class WrittenPages {
  /** Ranges registered with the kernel, as they were mapped then. */
  private watched: NativePmRange[] = [];
  private usable = true;

  constructor(private readonly task: NativeTask) {}

  /** available -- whether the kernel marks written pages (Linux 6.7 with
   *  userfaultfd); known after the first watch(). */
  get available(): boolean {
    return this.usable;
  }

  /** take -- add to `into[fileId]` the file pages written through every
   *  watched range that is still mapped as it was (`current`), and mark
   *  them unwritten again. Returns false when a range could not be read
   *  (mapped anew in its place by code pmfit did not see): the caller
   *  compares the files whole. Without the feature, nothing to add. */
  take(current: NativePmRange[], into: Set<number>[]): boolean {
    if (!this.usable) return true;
    let complete = true;
    for (const range of this.watched) {
      if (!current.some(same(range))) continue;
      let addresses: number[];
      try {
        addresses = this.task.takeWrittenPages(range.start, range.end);
      } catch {
        // watched again by the next watch()
        this.watched = this.watched.filter((other) => other !== range);
        complete = false;
        continue;
      }
      for (const address of addresses)
        into[range.fileId].add(Math.floor((range.fileOffset + (address - range.start)) / PAGE));
    }
    return complete;
  }

  /** watch -- register the ranges of `current` that are not watched yet
   *  (the tracee must be stopped); from then on the set watched is
   *  `current`. */
  watch(current: NativePmRange[]): void {
    if (!this.usable) return;
    const fresh = current.filter((range) => !this.watched.some(same(range)));
    let watching = true;
    try {
      watching = fresh.length === 0 || this.task.watchWrites(fresh.map(({ start, end }) => ({ start, end })));
    } catch {
      // a range the program watches itself (EBUSY), or a mapping the
      // kernel cannot watch: the page cache alone, as without the feature
      watching = false;
    }
    if (!watching) {
      this.usable = false;
      this.watched = [];
      return;
    }
    this.watched = current.slice();
  }
}
