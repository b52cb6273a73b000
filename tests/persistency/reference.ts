// reference -- naive persistency models and trace generators for the tests.
//
// The reference models replay the events with index <= k on plain copies of
// the whole images, for one k at a time: slow and obviously right.

import * as fc from 'fast-check';
import { hashImages } from '../../harness/image/line-hash';
import { CrashGroup, PersistencyTrace } from '../../harness/persistency/types';
import { EventKind, LINE, NO_FILE, TraceEvent } from '../../harness/trace/event';

export interface TestTrace {
  images: Uint8Array[];
  events: TraceEvent[];
  instructions: number;
}

export function asTrace(t: TestTrace): PersistencyTrace {
  return { images: t.images, events: t.events, instructions: t.instructions };
}

// --- hand-built events --------------------------------------------------------

export function store(index: number, fileId: number, offset: number, bytes: number[] | Uint8Array): TraceEvent {
  const data = Uint8Array.from(bytes);
  return { kind: EventKind.Store, index, address: 0x401000, fileId, offset, length: data.length, data };
}

export function ntStore(index: number, fileId: number, offset: number, bytes: number[] | Uint8Array): TraceEvent {
  return { ...store(index, fileId, offset, bytes), kind: EventKind.NtStore };
}

export function writeSyscall(index: number, fileId: number, offset: number, bytes: number[] | Uint8Array): TraceEvent {
  return { ...store(index, fileId, offset, bytes), kind: EventKind.Write };
}

export function flush(
  kind: EventKind.Clflush | EventKind.Clflushopt | EventKind.Clwb,
  index: number,
  fileId: number,
  offset: number,
): TraceEvent {
  return { kind, index, address: 0x401000, fileId, offset: Math.floor(offset / LINE) * LINE, length: LINE };
}

export function fence(index: number): TraceEvent {
  return { kind: EventKind.Fence, index, address: 0x401000, fileId: NO_FILE, offset: 0, length: 0 };
}

export function sync(index: number, fileId: number, offset: number, length: number): TraceEvent {
  return { kind: EventKind.Sync, index, address: 0x401000, fileId, offset, length };
}

// --- collecting a model's output ------------------------------------------------

export interface Collected {
  first: number;
  last: number;
  states: { hash: string; image: Uint8Array[]; describe: ReturnType<CrashGroup['states'][number]['describe']> }[];
}

/** collect -- every group, each state materialized as soon as it is received. */
export function collect(groups: Iterable<CrashGroup>): Collected[] {
  const out: Collected[] = [];
  for (const group of groups) {
    out.push({
      first: group.first,
      last: group.last,
      states: group.states.map((s) => ({ hash: s.hash, image: s.patch().toBytes(), describe: s.describe() })),
    });
  }
  return out;
}

export function groupAt(groups: Collected[], k: number): Collected {
  const found = groups.find((g) => g.first <= k && k <= g.last);
  if (!found) throw new Error(`no group holds crash point ${k}`);
  return found;
}

export function hex(images: Uint8Array[]): string {
  return images.map((image) => Buffer.from(image).toString('hex')).join('|');
}

export function copyImages(images: readonly Uint8Array[]): Uint8Array[] {
  return images.map((image) => Uint8Array.from(image));
}

function linesTouched(offset: number, length: number): number[] {
  const lines: number[] = [];
  if (length === 0) return lines;
  for (let line = Math.floor(offset / LINE); line <= Math.floor((offset + length - 1) / LINE); line++) lines.push(line);
  return lines;
}

function lineCount(size: number): number {
  return Math.ceil(size / LINE);
}

function lineBytes(image: Uint8Array, line: number): Uint8Array {
  return image.slice(line * LINE, Math.min(image.length, (line + 1) * LINE));
}

/** flushLinesOf -- lines named by a flush (its line) or a sync (its range). */
function namedLines(event: TraceEvent, size: number): number[] {
  if (event.kind === EventKind.Sync) return linesTouched(event.offset, event.length).filter((l) => l < lineCount(size));
  const line = Math.floor(event.offset / LINE);
  return line < lineCount(size) ? [line] : [];
}

// --- reference models -----------------------------------------------------------

export function sequentialAt(trace: TestTrace, k: number): Uint8Array[] {
  const images = copyImages(trace.images);
  for (const e of trace.events) {
    if (e.index > k) break;
    if (e.kind === EventKind.Store || e.kind === EventKind.NtStore || e.kind === EventKind.Write) {
      images[e.fileId].set(e.data as Uint8Array, e.offset);
    }
  }
  return images;
}

export function flushedAt(trace: TestTrace, k: number): Uint8Array[] {
  const cached = copyImages(trace.images);
  const durable = copyImages(trace.images);
  // Per line ("file:line"): its content right after its latest non-temporal store not yet fenced.
  const pending = new Map<string, { fileId: number; line: number; bytes: Uint8Array }>();
  const copyLine = (fileId: number, line: number) => {
    durable[fileId].set(lineBytes(cached[fileId], line), line * LINE);
    pending.delete(`${fileId}:${line}`);
  };
  for (const e of trace.events) {
    if (e.index > k) break;
    switch (e.kind) {
      case EventKind.Store:
        cached[e.fileId].set(e.data as Uint8Array, e.offset);
        break;
      case EventKind.NtStore:
        cached[e.fileId].set(e.data as Uint8Array, e.offset);
        for (const line of linesTouched(e.offset, e.length)) {
          pending.set(`${e.fileId}:${line}`, {
            fileId: e.fileId,
            line,
            bytes: Uint8Array.from(lineBytes(cached[e.fileId], line)),
          });
        }
        break;
      case EventKind.Fence:
        for (const { fileId, line, bytes } of pending.values()) durable[fileId].set(bytes, line * LINE);
        pending.clear();
        break;
      case EventKind.Write:
        cached[e.fileId].set(e.data as Uint8Array, e.offset);
        for (const line of linesTouched(e.offset, e.length)) copyLine(e.fileId, line);
        break;
      case EventKind.Clflush:
      case EventKind.Clflushopt:
      case EventKind.Clwb:
      case EventKind.Sync:
        for (const line of namedLines(e, cached[e.fileId].length)) copyLine(e.fileId, line);
        break;
      default:
        break;
    }
  }
  return durable;
}

/** Per line: its versions from the last guaranteed one to the current one. */
export interface Px86Lines {
  /** lines[fileId][line] = versions (whole-line copies); pending index or -1. */
  lines: { versions: Uint8Array[]; pending: number }[][];
}

/** With `mergeVersions` (off by default, as in the model), docs/models.md's "Version
 *  merge": a plain store replaces its line's newest version instead of
 *  adding one when that version is not the guaranteed one, was made by a
 *  plain store, no fence has guaranteed anything since, and no flush marked
 *  it pending. */
export function px86LinesAt(trace: TestTrace, k: number, options: { mergeVersions?: boolean } = {}): Px86Lines {
  const merge = options.mergeVersions ?? false;
  const lines = trace.images.map((image) =>
    Array.from({ length: lineCount(image.length) }, (_, line) => ({
      versions: [lineBytes(image, line)],
      pending: -1,
      // per version: the fence epoch of the plain store that made it, or -1
      made: [-1],
    })),
  );
  let epoch = 0;
  const newVersion = (fileId: number, offset: number, data: Uint8Array, plain: boolean) => {
    const touched: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const at = offset + i;
      const line = Math.floor(at / LINE);
      const entry = lines[fileId][line];
      if (touched[touched.length - 1] !== line) {
        const last = entry.versions.length - 1;
        const merges = merge && plain && last >= 1 && entry.made[last] === epoch && entry.pending !== last;
        if (!merges) {
          entry.versions.push(Uint8Array.from(entry.versions[last]));
          entry.made.push(plain ? epoch : -1);
        }
        touched.push(line);
      }
      entry.versions[entry.versions.length - 1][at - line * LINE] = data[i];
    }
    return touched;
  };
  const settle = (fileId: number, line: number) => {
    const entry = lines[fileId][line];
    entry.versions = [entry.versions[entry.versions.length - 1]];
    entry.made = [-1];
    entry.pending = -1;
  };
  for (const e of trace.events) {
    if (e.index > k) break;
    switch (e.kind) {
      case EventKind.Store:
        newVersion(e.fileId, e.offset, e.data as Uint8Array, true);
        break;
      case EventKind.NtStore:
        for (const line of newVersion(e.fileId, e.offset, e.data as Uint8Array, false)) {
          const entry = lines[e.fileId][line];
          entry.pending = entry.versions.length - 1;
        }
        break;
      case EventKind.Write:
        for (const line of newVersion(e.fileId, e.offset, e.data as Uint8Array, false)) settle(e.fileId, line);
        break;
      case EventKind.Clflush:
      case EventKind.Sync:
        for (const line of namedLines(e, trace.images[e.fileId].length)) settle(e.fileId, line);
        break;
      case EventKind.Clflushopt:
      case EventKind.Clwb:
        for (const line of namedLines(e, trace.images[e.fileId].length)) {
          const entry = lines[e.fileId][line];
          entry.pending = entry.versions.length - 1;
        }
        break;
      case EventKind.Fence:
        // a fence that guarantees a version newer than the guaranteed one starts an epoch
        if (lines.some((file) => file.some((entry) => entry.pending >= 1))) epoch += 1;
        for (const file of lines) {
          for (const entry of file) {
            if (entry.pending >= 0) {
              entry.versions = entry.versions.slice(entry.pending);
              entry.made = [-1, ...entry.made.slice(entry.pending + 1)];
            }
            entry.pending = -1;
          }
        }
        break;
      default:
        break;
    }
  }
  return { lines };
}

export function px86Product(state: Px86Lines): number {
  let product = 1;
  for (const file of state.lines) for (const entry of file) product *= entry.versions.length;
  return product;
}

/** px86Pick -- the image where each line takes pick(fileId, line, count) of its versions. */
export function px86Image(
  state: Px86Lines,
  pick: (fileId: number, line: number, count: number) => number,
): Uint8Array[] {
  return state.lines.map((file, fileId) => {
    const size = file.reduce((sum, entry) => sum + entry.versions[0].length, 0);
    const image = new Uint8Array(size);
    file.forEach((entry, line) => image.set(entry.versions[pick(fileId, line, entry.versions.length)], line * LINE));
    return image;
  });
}

/** px86AllAt -- every combination (only for small products). */
export function px86AllAt(state: Px86Lines): Uint8Array[][] {
  const unsettled: [number, number][] = [];
  state.lines.forEach((file, fileId) =>
    file.forEach((entry, line) => {
      if (entry.versions.length > 1) unsettled.push([fileId, line]);
    }),
  );
  const all: Uint8Array[][] = [];
  const choice = new Map<string, number>();
  const visit = (i: number) => {
    if (i === unsettled.length) {
      all.push(px86Image(state, (fileId, line) => choice.get(`${fileId}:${line}`) ?? 0));
      return;
    }
    const [fileId, line] = unsettled[i];
    for (let v = 0; v < state.lines[fileId][line].versions.length; v++) {
      choice.set(`${fileId}:${line}`, v);
      visit(i + 1);
    }
  };
  visit(0);
  return all;
}

export function sortedHexes(images: Uint8Array[][]): string[] {
  return images.map(hex).sort();
}

export { hashImages };

// --- generated traces -------------------------------------------------------------

const kindArb = fc.constantFrom(
  EventKind.Store,
  EventKind.Store,
  EventKind.Store,
  EventKind.Store,
  EventKind.NtStore,
  EventKind.Write,
  EventKind.Clflush,
  EventKind.Clflushopt,
  EventKind.Clwb,
  EventKind.Clwb,
  EventKind.Fence,
  EventKind.Fence,
  EventKind.Sync,
);

/** Mostly stores: many unsettled lines, for the px86 selection. */
const storeHeavyKindArb = fc.constantFrom(
  EventKind.Store,
  EventKind.Store,
  EventKind.Store,
  EventKind.Store,
  EventKind.Store,
  EventKind.Store,
  EventKind.NtStore,
  EventKind.Clwb,
  EventKind.Fence,
  EventKind.Clflush,
);

const rawEventArb = (kinds: fc.Arbitrary<EventKind>) =>
  fc.record({
    kind: kinds,
    file: fc.nat(),
    position: fc.nat(),
    length: fc.integer({ min: 0, max: 72 }),
    fill: fc.uint8Array({ minLength: 72, maxLength: 72 }),
    step: fc.integer({ min: 0, max: 3 }),
  });

/** traceArb -- small images (sizes not all multiples of 64), and events of every kind. */
export function traceArb(
  options: { maxFiles?: number; maxSize?: number; maxEvents?: number; storeHeavy?: boolean } = {},
): fc.Arbitrary<TestTrace> {
  const maxFiles = options.maxFiles ?? 2;
  const maxSize = options.maxSize ?? 200;
  return fc.array(fc.integer({ min: 1, max: maxSize }), { minLength: 1, maxLength: maxFiles }).chain((sizes) =>
    fc
      .record({
        images: fc.tuple(...sizes.map((size) => fc.uint8Array({ minLength: size, maxLength: size }))),
        raw: fc.array(rawEventArb(options.storeHeavy ? storeHeavyKindArb : kindArb), {
          maxLength: options.maxEvents ?? 30,
        }),
        tail: fc.integer({ min: 0, max: 3 }),
        startAtZero: fc.boolean(),
      })
      .map(({ images, raw, tail, startAtZero }) => {
        const events: TraceEvent[] = [];
        let index = startAtZero ? 0 : 1;
        for (const r of raw) {
          index += r.step;
          const fileId = r.file % images.length;
          const size = images[fileId].length;
          const offset = r.position % size;
          const length = Math.min(r.length, size - offset);
          const base = { index, address: 0x400000 + index, fileId };
          switch (r.kind) {
            case EventKind.Store:
            case EventKind.NtStore:
            case EventKind.Write: {
              const n = r.kind === EventKind.Write ? length : Math.min(length, 16);
              events.push({ ...base, kind: r.kind, offset, length: n, data: r.fill.slice(0, n) });
              break;
            }
            case EventKind.Sync:
              events.push({ ...base, kind: r.kind, offset, length });
              break;
            case EventKind.Fence:
              events.push({ ...base, kind: r.kind, fileId: NO_FILE, offset: 0, length: 0 });
              break;
            default:
              events.push({ ...base, kind: r.kind, offset: Math.floor(offset / LINE) * LINE, length: LINE });
          }
        }
        return { images: images.map((image) => Uint8Array.from(image)), events, instructions: index + tail };
      }),
  );
}
