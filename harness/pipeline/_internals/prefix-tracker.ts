// prefix-tracker -- the sequential model's image at crash point k (every PM
// write up to k), with, for every byte a store changed, which store changed
// it last. The findings (find-findings.ts) compare a crash image with it:
// a byte that differs names the store whose new version is missing.
//
// Only lines a store touched are kept, so a large pool costs its written
// lines. `unsettled` is a superset of the lines where any model's image can
// differ from this prefix: a line leaves it when it is flushed with clflush,
// flushed otherwise and then fenced by the thread that flushed it, or synced,
// with no store after. As in the models (docs/models.md, "Threads"), a fence
// completes its own thread's flushes and non-temporal stores only.

import type { ImageBytes } from '../../_internals/chunked-bytes';
import { EventKind, LINE, TraceEvent } from '../../trace/event';
import { eventLines } from '../../persistency/walk';

/** One store that changed at least one byte, by its position in `stores`. */
export interface StoreRecord {
  index: number;
  address: number;
  fileId: number;
  offset: number;
  length: number;
  /** A write syscall: durable at once, never missing. */
  durable: boolean;
  /** The thread that made it (0 for events without one). */
  thread: number;
}

interface LineState {
  bytes: Uint8Array;
  /** Per byte, the store (position in `stores`) that changed it last; -1: the initial content. */
  writer: Int32Array;
}

export class PrefixTracker {
  readonly stores: StoreRecord[] = [];
  private readonly lines: Map<number, LineState>[];
  /** Lines an image may show otherwise than this prefix, per file. */
  readonly unsettled: Set<number>[];
  /** Per thread (events without one are thread 0), lines it flushed (or
   *  non-temporally stored) since its last fence, per file. */
  private readonly flushing = new Map<number, Set<number>[]>();
  /** Lines unsettled when an operation ended and not settled since, per
   *  file: the only lines where a store of an ended operation can be
   *  missing from an image. */
  private readonly stale: Set<number>[];

  constructor(private readonly images: readonly ImageBytes[]) {
    this.lines = images.map(() => new Map());
    this.unsettled = images.map(() => new Set());
    this.stale = images.map(() => new Set());
  }

  /** endOperation -- an operation (region) ends here: its unsettled lines are stale. */
  endOperation(): void {
    this.unsettled.forEach((lines, fileId) => {
      for (const line of lines) this.stale[fileId].add(line);
    });
  }

  private settle(fileId: number, line: number): void {
    this.unsettled[fileId].delete(line);
    this.stale[fileId].delete(line);
  }

  private flushingOf(thread: number): Set<number>[] {
    let files = this.flushing.get(thread);
    if (!files) {
      files = this.images.map(() => new Set());
      this.flushing.set(thread, files);
    }
    return files;
  }

  /** unmark -- no thread's pending flush covers the line any more. */
  private unmark(fileId: number, line: number): void {
    for (const files of this.flushing.values()) files[fileId].delete(line);
  }

  private lineState(fileId: number, line: number): LineState {
    let state = this.lines[fileId].get(line);
    if (!state) {
      const bytes = new Uint8Array(LINE);
      bytes.set(this.images[fileId].subarray(line * LINE, line * LINE + LINE));
      state = { bytes, writer: new Int32Array(LINE).fill(-1) };
      this.lines[fileId].set(line, state);
    }
    return state;
  }

  apply(event: TraceEvent): void {
    switch (event.kind) {
      case EventKind.Store:
      case EventKind.NtStore:
      case EventKind.Write:
        this.store(event);
        break;
      case EventKind.Clflush: {
        // Ordered with stores: every model makes the line durable here
        // (flushed.ts, px86.ts), no fence needed.
        const { first, end } = eventLines(event, this.images[event.fileId].length);
        for (let line = first; line < end; line++) {
          this.settle(event.fileId, line);
          this.unmark(event.fileId, line);
        }
        break;
      }
      case EventKind.Clflushopt:
      case EventKind.Clwb: {
        const { first, end } = eventLines(event, this.images[event.fileId].length);
        const lines = this.flushingOf(event.thread ?? 0)[event.fileId];
        for (let line = first; line < end; line++) lines.add(line);
        break;
      }
      case EventKind.Fence: {
        // Another thread's flushes stay pending: its own fence completes them.
        const thread = event.thread ?? 0;
        this.flushing.get(thread)?.forEach((lines, fileId) => {
          for (const line of lines) this.settle(fileId, line);
        });
        this.flushing.delete(thread);
        break;
      }
      case EventKind.Sync: {
        const { first, end } = eventLines(event, this.images[event.fileId].length);
        for (let line = first; line < end; line++) this.settle(event.fileId, line);
        break;
      }
    }
  }

  private store(event: TraceEvent): void {
    const data = event.data as Uint8Array;
    const ord = this.stores.length;
    let changed = false;
    for (let at = 0; at < data.length;) {
      const offset = event.offset + at;
      const line = Math.floor(offset / LINE);
      const state = this.lineState(event.fileId, line);
      const start = offset - line * LINE;
      const stop = Math.min(LINE, start + data.length - at);
      for (let b = start; b < stop; b++, at++) {
        if (state.bytes[b] !== data[at]) {
          state.bytes[b] = data[at];
          state.writer[b] = ord;
          changed = true;
        }
      }
      if (event.kind === EventKind.Write) continue;
      this.unsettled[event.fileId].add(line);
      // A store after a flush is not covered by that flush, whichever thread
      // flushed; a non-temporal store is pending until its thread's next fence.
      this.unmark(event.fileId, line);
      if (event.kind === EventKind.NtStore) this.flushingOf(event.thread ?? 0)[event.fileId].add(line);
    }
    if (changed) {
      this.stores.push({
        index: event.index,
        address: event.address,
        fileId: event.fileId,
        offset: event.offset,
        length: event.length,
        durable: event.kind === EventKind.Write,
        thread: event.thread ?? 0,
      });
    }
  }

  /** missingStores -- the stores whose new version `line(fileId, line)` (a
   *  crash image) does not show, as positions in `stores`, ascending; with
   *  `stale`, only those in lines stale since an operation ended. */
  missingStores(
    image: (fileId: number, line: number) => Uint8Array,
    among: 'unsettled' | 'stale' = 'unsettled',
  ): number[] {
    const missing = new Set<number>();
    (among === 'stale' ? this.stale : this.unsettled).forEach((lines, fileId) => {
      for (const line of lines) {
        const state = this.lines[fileId].get(line);
        if (!state) continue;
        const shown = image(fileId, line);
        for (let b = 0; b < LINE; b++) {
          if (shown[b] !== state.bytes[b] && state.writer[b] >= 0) missing.add(state.writer[b]);
        }
      }
    });
    return [...missing].sort((a, b) => a - b);
  }

  /** present -- whether the image shows every byte store `ord` changed that
   *  no later store changed again; false when none is left. */
  present(ord: number, image: (fileId: number, line: number) => Uint8Array): boolean {
    const store = this.stores[ord];
    let live = false;
    for (let at = store.offset; at < store.offset + store.length;) {
      const line = Math.floor(at / LINE);
      const state = this.lines[store.fileId].get(line);
      const start = at - line * LINE;
      const stop = Math.min(LINE, start + store.offset + store.length - at);
      at += stop - start;
      if (!state) continue;
      const unsettled = this.unsettled[store.fileId].has(line);
      const shown = unsettled ? image(store.fileId, line) : state.bytes;
      for (let b = start; b < stop; b++) {
        if (state.writer[b] !== ord) continue;
        if (shown[b] !== state.bytes[b]) return false;
        live = true;
      }
    }
    return live;
  }
}
