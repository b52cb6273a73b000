// flushed -- the persistency model of the original libpmem "fit" mode.
//
// docs/models.md:
//   `flushed`: for each line, its content at its last flush (`clflush`,
//   `clflushopt`, `clwb`, `msync`) or write syscall up to k; unflushed stores
//   are lost; fences order nothing for flushes. This is the original libpmem
//   "fit" mode. States per crash point: 1.
//
// Non-temporal stores (`movnti`, `movntdq`, `vmovntdq`, ...) are the one
// thing a fence completes here: each leaves its line as it was right after
// the store (the bytes stored, and the rest of the line, which x86 writes
// back when a non-temporal store hits a cached line) pending, and the next
// fence makes that version durable. That is what x86 does and what libpmem's
// non-temporal memcpy/memset (used by libpmemobj for undo logs and large
// copies) relies on: it ends with `sfence`, not with flushes. Before the
// fence the store is lost, as on x86 with ADR. (docs/models.md)
//
// Two images over the same base: `cached`, every line's current content
// (stores, non-temporal stores and write syscalls applied in order), and
// `durable`, what a crash leaves. A flush, or a sync (msync/fsync/fdatasync)
// of a range, copies the named lines' current content into the durable image;
// a write syscall does the same for the lines it touches (their whole current
// content: the rest of the line was written back with it). Either drops the
// line's pending non-temporal version: what it made durable is newer.
// `dirty` lists the lines whose cached content may differ from the durable
// one, so that flushing a clean line is known not to change anything;
// `pending` holds, per thread and line, the line's version after that
// thread's latest non-temporal store to it not yet fenced: a fence completes
// its own thread's non-temporal stores only (docs/models.md, "Threads"; events
// without a thread are thread 0). Each version keeps its place in the
// interleaving, so that a fence never makes a line older than a version
// another thread's fence already made durable.

import { BaseImage, ImageSet } from '../image/image';
import { EventKind, TraceEvent } from '../trace/event';
import { CrashGroup, CrashState, PersistencyTrace } from './types';
import { Lease, ModelMachine, eventLines, walkGroups } from './walk';

export class FlushedMachine implements ModelMachine {
  private readonly cached: ImageSet;
  private readonly durable: ImageSet;
  private readonly dirty: Set<number>[];
  /** thread -> per file, line -> its pending version and its place. */
  private readonly pending = new Map<number, Map<number, { bytes: Uint8Array; seq: number }>[]>();
  /** Per file, line -> place of its durable non-temporal version. */
  private readonly durableSeq: Map<number, number>[];
  private pendingCount = 0;
  private seq = 0;

  constructor(base: BaseImage) {
    this.cached = new ImageSet(base, { hashed: false });
    this.durable = new ImageSet(base, { hashed: true });
    this.dirty = base.files.map(() => new Set<number>());
    this.durableSeq = base.files.map(() => new Map<number, number>());
  }

  affects(event: TraceEvent): boolean {
    switch (event.kind) {
      case EventKind.Write:
        return event.length > 0;
      case EventKind.Clflush:
      case EventKind.Clflushopt:
      case EventKind.Clwb:
      case EventKind.Sync:
        return this.anyDirty(event);
      case EventKind.Fence:
        return this.pendingCount > 0 && this.pending.has(event.thread ?? 0);
      default:
        return false;
    }
  }

  apply(event: TraceEvent): void {
    switch (event.kind) {
      case EventKind.Store:
      case EventKind.NtStore: {
        if (event.length === 0) return;
        this.cached.write(event.fileId, event.offset, event.data as Uint8Array);
        const { first, end } = eventLines(event, this.cached.size(event.fileId));
        for (let line = first; line < end; line++) {
          this.dirty[event.fileId].add(line);
          if (event.kind === EventKind.NtStore) this.setPending(event.thread ?? 0, event.fileId, line);
        }
        return;
      }
      case EventKind.Fence:
        if (this.pendingCount > 0) this.fence(event.thread ?? 0);
        return;
      case EventKind.Write: {
        if (event.length === 0) return;
        this.cached.write(event.fileId, event.offset, event.data as Uint8Array);
        const { first, end } = eventLines(event, this.cached.size(event.fileId));
        for (let line = first; line < end; line++) this.flushLine(event.fileId, line);
        return;
      }
      case EventKind.Clflush:
      case EventKind.Clflushopt:
      case EventKind.Clwb:
      case EventKind.Sync:
        for (const line of this.dirtyLines(event)) this.flushLine(event.fileId, line);
        return;
      default:
        return;
    }
  }

  states(_first: number, lease: Lease): CrashState[] {
    const durable = this.durable;
    return [
      {
        hash: durable.hash(),
        patch: () => {
          lease.check();
          return durable.patch();
        },
        describe: () => {
          lease.check();
          return [];
        },
      },
    ];
  }

  private flushLine(fileId: number, line: number): void {
    this.durable.copyLine(this.cached, fileId, line);
    this.dirty[fileId].delete(line);
    for (const [thread, files] of this.pending) {
      if (files[fileId].delete(line)) this.pendingCount--;
      if (files.every((lines) => lines.size === 0)) this.pending.delete(thread);
    }
    this.durableSeq[fileId].delete(line);
  }

  /** setPending -- the line's current content becomes its pending non-temporal version. */
  private setPending(thread: number, fileId: number, line: number): void {
    let files = this.pending.get(thread);
    if (!files) {
      files = this.dirty.map(() => new Map());
      this.pending.set(thread, files);
    }
    const lines = files[fileId];
    if (!lines.has(line)) this.pendingCount++;
    // Uint8Array's slice copies (line() may return a view that later stores change).
    lines.set(line, { bytes: Uint8Array.prototype.slice.call(this.cached.line(fileId, line)), seq: ++this.seq });
  }

  /** fence -- every pending non-temporal version becomes durable; a line not
   *  stored to since is clean again. */
  private fence(thread: number): void {
    const files = this.pending.get(thread);
    if (!files) return;
    files.forEach((lines, fileId) => {
      for (const [line, { bytes, seq }] of lines) {
        this.pendingCount--;
        // a later non-temporal version of another thread is durable already
        if ((this.durableSeq[fileId].get(line) ?? 0) > seq) continue;
        this.durable.setLine(fileId, line, bytes);
        this.durableSeq[fileId].set(line, seq);
        if (Buffer.compare(bytes, this.cached.line(fileId, line)) === 0) this.dirty[fileId].delete(line);
      }
    });
    this.pending.delete(thread);
  }

  private anyDirty(event: TraceEvent): boolean {
    for (const _ of this.dirtyLines(event)) return true;
    return false;
  }

  /** dirtyLines -- the dirty lines a flush or sync names (by lookup for small
   *  ranges, by scanning the dirty set for large ones). */
  private *dirtyLines(event: TraceEvent): Generator<number> {
    const dirty = this.dirty[event.fileId];
    const { first, end } = eventLines(event, this.cached.size(event.fileId));
    if (end - first <= dirty.size) {
      for (let line = first; line < end; line++) if (dirty.has(line)) yield line;
    } else {
      for (const line of [...dirty]) if (line >= first && line < end) yield line;
    }
  }
}

/** flushedCrashStates -- one state per crash point: each line as of its last flush, write
 *  syscall or fenced non-temporal store. */
export function flushedCrashStates(trace: PersistencyTrace): Generator<CrashGroup, void, undefined> {
  return walkGroups(trace, new FlushedMachine(BaseImage.of(trace.images)));
}
