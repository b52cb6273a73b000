// event -- the record of one thing that changed or ordered PM during a traced run.

/** Event kinds; the numbers are the trace file's encoding (trace/format.ts). */
export const enum EventKind {
  /** A store through a MAP_SHARED mapping of a PM file. */
  Store = 1,
  /** A non-temporal store (movnti, movntdq, ...): bypasses the cache, pending until a fence. */
  NtStore = 2,
  Clflush = 3,
  Clflushopt = 4,
  Clwb = 5,
  /** sfence, mfence, a locked read-modify-write or a serializing instruction. */
  Fence = 6,
  /** A write-family syscall on a PM file: applied and durable at once. */
  Write = 7,
  /** msync, fsync or fdatasync: the range's current content becomes durable. */
  Sync = 8,
}

export const eventKindNames: Record<EventKind, string> = {
  [EventKind.Store]: 'store',
  [EventKind.NtStore]: 'ntstore',
  [EventKind.Clflush]: 'clflush',
  [EventKind.Clflushopt]: 'clflushopt',
  [EventKind.Clwb]: 'clwb',
  [EventKind.Fence]: 'fence',
  [EventKind.Write]: 'write',
  [EventKind.Sync]: 'sync',
};

/** File id of events that concern no file (fences). */
export const NO_FILE = 255;

export interface TraceEvent {
  kind: EventKind;
  /** Instruction index of the instruction that caused it (1-based). A crash at
   *  point k sees the events with index <= k. */
  index: number;
  /** Address of that instruction in the tracee. */
  address: number;
  /** Index into the trace's PM file list, NO_FILE for fences. */
  fileId: number;
  /** Byte offset in the file. Flushes name their whole 64-byte line. */
  offset: number;
  length: number;
  /** Number of the thread that ran the instruction, when not the first
   *  (0, absent): threads are numbered 1, 2, ... in order of creation. */
  thread?: number;
  /** Bytes written, for Store, NtStore and Write; absent otherwise. */
  data?: Uint8Array;
}

/** Size of a cache line, the unit of flushing and of tearing. */
export const LINE = 64;
