// format -- the trace file: one recorded run, written as a stream.
//
// Layout (little endian):
//   magic "PMFITTRC", u32 format version, u32 reserved
//   initial images of the PM files, concatenated in header order
//   event records (below), in instruction order
//   header: JSON (TraceHeader)
//   footer: u64 events offset, u64 header offset, u64 header length, "PMFITEND"
// The JSON header sits at the end so that the file can be written in one
// pass without knowing the counts in advance; readers start from the footer.
//
// Event record (8-byte aligned): u8 kind (EventKind), u8 file id (255 = none),
// u16 thread (0: the first thread; traces of one thread have zero there), u32 length, u64 instruction index, u64 instruction address,
// u64 file offset, then `length` data bytes for store, ntstore and write
// events, zero-padded to a multiple of 8. The native tracer writes records in
// this layout directly.

import * as fs from 'fs';
import { addExtent, ChunkedBytes, CHUNK_BYTES, Extent, EXTENT, nonZeroUnits } from '../_internals/chunked-bytes';
import { usageError } from '../_internals/errors';
import { fields, invalid, isCount, isObject, object, ShapeError } from '../_internals/json-shape';
import { errnoText, kindOf, OutputFile } from '../_internals/output-file';
import { type FastStops, loadNative } from '../tracer/native';
import { EventKind, NO_FILE, TraceEvent } from './event';

/** Bytes of an initial image read at a time (TraceReader.readSparse): a
 *  multiple of the 64 KiB extent. */
const SPARSE_CHUNK = 1 << 20;

export const TRACE_MAGIC = 'PMFITTRC';
export const TRACE_END = 'PMFITEND';
export const TRACE_VERSION = 1;
export const PREAMBLE_SIZE = 16;
export const FOOTER_SIZE = 32;
export const RECORD_HEADER_SIZE = 32;

export interface TraceFile {
  path: string;
  size: number;
}

/** Where a recorded instruction lives, for reports and `trace show`. */
export interface AddressInfo {
  module: string;
  offset: number;
  symbol?: string;
  symbolOffset?: number;
  text: string;
}

export interface TraceHeader {
  format: 'pmfit-trace';
  version: number;
  argv: string[];
  cwd: string;
  function?: string;
  /** Seed of the thread schedule the trace was recorded with; present for
   *  traces of several threads (and any nonzero seed). */
  scheduleSeed?: number;
  files: TraceFile[];
  /** Instruction-index span of each region entry: instructions begin+1..end;
   *  `thread` names the thread that ran it when that is not the first. */
  regions: { begin: number; end: number; thread?: number }[];
  instructions: number;
  events: number;
  /** Keyed by the instruction address in hex ("0x401136"). */
  addresses: Record<string, AddressInfo>;
  exitCode: number | null;
  warnings: string[];
  /** 'fast' when the fast recorder made the trace: instruction indices
   *  then count the single steps around PM accesses, not every
   *  instruction, so `pmfit crash k` does not reach crash point k.
   *  Absent: the exact recorder. */
  recorder?: 'fast';
  /** Fast traces: the recorder's stops of the program by cause, and why
   *  flushes were not trapped (the first reason; absent when every
   *  region's flush sites were proven): docs/recording.md, "Where the
   *  fast recorder's time goes". */
  fastStops?: FastStops;
  flushTrapsOff?: string;
}

const FAST_STOP_CAUSES: (keyof FastStops)[] = [
  'faults',
  'watchFaults',
  'flushTraps',
  'frontier',
  'syscalls',
  'mprotects',
  'emulated',
];

/** LATER_CAUSES -- counts older traces do not have: read as 0. */
const LATER_CAUSES: (keyof FastStops)[] = ['watchFaults', 'emulated'];

export function carriesData(kind: number): boolean {
  return kind === EventKind.Store || kind === EventKind.NtStore || kind === EventKind.Write;
}

export function recordSize(kind: number, length: number): number {
  return RECORD_HEADER_SIZE + (carriesData(kind) ? (length + 7) & ~7 : 0);
}

/** encodeEvent -- one record, for events the harness makes itself (syscalls). */
export function encodeEvent(event: TraceEvent): Buffer {
  const record = Buffer.alloc(recordSize(event.kind, event.length));
  record.writeUInt8(event.kind, 0);
  record.writeUInt8(event.fileId, 1);
  record.writeUInt16LE(event.thread ?? 0, 2);
  record.writeUInt32LE(event.length, 4);
  record.writeBigUInt64LE(BigInt(event.index), 8);
  record.writeBigUInt64LE(BigInt(event.address), 16);
  record.writeBigUInt64LE(BigInt(event.offset), 24);
  if (event.data) record.set(event.data, RECORD_HEADER_SIZE);
  return record;
}

/** TraceWriter -- writes to a hidden temporary name beside the output and
 *  renames it when complete, so an interrupted run leaves no half trace. */
export class TraceWriter {
  private readonly out: OutputFile;
  private position = 0;
  private eventsOffset = -1;
  private readonly images: { position: number; size: number }[] = [];
  private readFd: number | undefined;
  events = 0;

  constructor(readonly output: string) {
    this.out = new OutputFile(output);
    const preamble = Buffer.alloc(PREAMBLE_SIZE);
    preamble.write(TRACE_MAGIC, 0, 'latin1');
    preamble.writeUInt32LE(TRACE_VERSION, 8);
    try {
      this.write(preamble);
    } catch (err) {
      this.abandon();
      throw err;
    }
  }

  /** readImage -- fill `into` with the bytes at `offset` of the initial
   *  image written at `imageIndex` by writeImage (zeros past its end), read
   *  back from the partial trace. The caller's buffer, so that comparing a
   *  whole file reuses one (record.ts). */
  readImage(imageIndex: number, offset: number, into: Buffer): void {
    const image = this.images[imageIndex];
    const want = Math.max(0, Math.min(into.length, image.size - offset));
    if (this.readFd === undefined) this.readFd = fs.openSync(this.out.temp, 'r');
    let done = 0;
    while (done < want) {
      const read = fs.readSync(this.readFd, into, done, want - done, image.position + offset + done);
      if (read === 0) break; // a hole at the end, not yet followed by a write
      done += read;
    }
    into.fill(0, done);
  }

  /** writeImage -- copy a PM file's content as its initial image, each
   *  EXTENT (64 KiB) of zeros left as a hole: a sparse pool makes a sparse
   *  trace, and a pool with scattered data (txmap's 16 MiB: 3.3 MiB in 52
   *  units) writes only its units. Only the file's data ranges are read
   *  (its holes are zeros), in chunks small enough to stay in the CPU's
   *  cache, each unit tested there by the addon (native/nonzero_units.h);
   *  adjacent non-zero units go in one write. Measured on that pool, 1 MiB
   *  chunks compared whole in JavaScript against 256 KiB ones by 64 KiB:
   *  20-25 ms against 10-12; the data ranges: docs/recording.md, "The
   *  initial image". */
  writeImage(file: string, size: number): void {
    const base = this.position;
    this.images.push({ position: base, size });
    const native = loadNative();
    const source = fs.openSync(file, 'r');
    try {
      const chunk = Buffer.allocUnsafe(Math.min(size, IMAGE_CHUNK) || 1);
      const ranges = native.dataRanges(source, size, EXTENT);
      for (let range = 0; range < ranges.length; range += 2) {
        for (let at = ranges[range]; at < ranges[range + 1]; at += chunk.length) {
          const part = chunk.subarray(0, Math.min(chunk.length, ranges[range + 1] - at));
          const runs = native.nonZeroUnits(source, at, part, EXTENT);
          for (let run = 0; run < runs.length; run += 2)
            this.out.write(part.subarray(runs[run], runs[run + 1]), base + at + runs[run]);
        }
      }
    } finally {
      fs.closeSync(source);
    }
    // zeros (units of zeros, the file's holes, bytes past its end if it
    // shrank since it was measured) are holes: the writes after them, at
    // the latest the header and footer, give the file its size
    this.position = base + size;
  }

  /** appendRecords -- `count` whole records (the caller walks them anyway). */
  appendRecords(records: Buffer, count: number): void {
    if (records.length === 0) return;
    if (this.eventsOffset < 0) this.eventsOffset = this.position;
    this.events += count;
    this.write(records);
  }

  startEvents(): void {
    if (this.eventsOffset < 0) this.eventsOffset = this.position;
  }

  finish(header: Omit<TraceHeader, 'events' | 'format' | 'version'>): TraceHeader {
    this.startEvents();
    const full: TraceHeader = { format: 'pmfit-trace', version: TRACE_VERSION, ...header, events: this.events };
    const json = Buffer.from(JSON.stringify(full));
    const headerOffset = this.position;
    this.write(json);
    const footer = Buffer.alloc(FOOTER_SIZE);
    footer.writeBigUInt64LE(BigInt(this.eventsOffset), 0);
    footer.writeBigUInt64LE(BigInt(headerOffset), 8);
    footer.writeBigUInt64LE(BigInt(json.length), 16);
    footer.write(TRACE_END, 24, 'latin1');
    this.write(footer);
    this.closeReader();
    this.out.commit();
    return full;
  }

  /** abandon -- remove the partial file (errors, Ctrl-C). */
  abandon(): void {
    this.closeReader();
    this.out.abandon();
  }

  private closeReader(): void {
    if (this.readFd !== undefined) fs.closeSync(this.readFd);
    this.readFd = undefined;
  }

  private write(buffer: Buffer): void {
    this.out.write(buffer, this.position);
    this.position += buffer.length;
  }
}

/** Bytes of an initial image read at a time. */
const IMAGE_CHUNK = 1 << 18;

const isString = (v: unknown): boolean => typeof v === 'string';
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every(isString);

/** headerProblem -- what is wrong with a parsed header, checked as far as
 *  its readers rely on it (worded by _internals/json-shape.ts); undefined
 *  when it is sound. */
function headerProblem(value: unknown): string | undefined {
  try {
    const header = object(value, '$');
    if (header.format !== 'pmfit-trace') throw invalid('$.format', '"pmfit-trace"');
    fields(header, '$', {
      argv: [isStrings, 'a list of strings'],
      cwd: [isString, 'a string'],
      files: [
        (v) => Array.isArray(v) && v.every((file) => isObject(file) && isString(file.path) && isCount(file.size)),
        'a list of {path, size}',
      ],
      regions: [
        (v) =>
          Array.isArray(v) &&
          v.every((r) => isObject(r) && isCount(r.begin) && isCount(r.end) && (r.begin as number) <= (r.end as number)),
        'a list of {begin, end}',
      ],
      instructions: [isCount, 'a count'],
      events: [isCount, 'a count'],
      addresses: [
        (v) => isObject(v) && Object.values(v).every((at) => isObject(at) && isString(at.text)),
        'a map of instructions',
      ],
      exitCode: [(v) => v === null || typeof v === 'number', 'a number or null'],
      warnings: [isStrings, 'a list of strings'],
      function: [(v) => v === undefined || isString(v), 'a string'],
      scheduleSeed: [(v) => v === undefined || isCount(v), 'a count'],
      recorder: [(v) => v === undefined || v === 'fast', '"fast"'],
      fastStops: [
        (v) =>
          v === undefined ||
          (isObject(v) &&
            FAST_STOP_CAUSES.every((cause) => isCount(v[cause]) || (LATER_CAUSES.includes(cause) && !(cause in v))) &&
            Object.keys(v).every((key) => (FAST_STOP_CAUSES as string[]).includes(key))),
        'an object of seven counts',
      ],
      flushTrapsOff: [(v) => v === undefined || isString(v), 'a string'],
    });
    const files = header.files as unknown[];
    if (files.length >= NO_FILE) throw invalid('$.files', `a list of at most ${NO_FILE - 1} files`);
    return undefined;
  } catch (err) {
    if (err instanceof ShapeError) return err.message;
    throw err;
  }
}

/** TraceReader -- validated access to a trace file; every defect is a
 *  one-line error naming the file. */
export class TraceReader {
  readonly header: TraceHeader;
  private readonly eventsOffset: number;
  private initial: ChunkedBytes[] | undefined;
  private readonly eventsEnd: number;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    size: number,
  ) {
    const corrupt = (why: string) => usageError(`${path}: not a valid pmfit trace (${why})`);
    if (size < PREAMBLE_SIZE + FOOTER_SIZE) throw corrupt('file too short');
    const preamble = this.read(0, PREAMBLE_SIZE);
    if (preamble.toString('latin1', 0, 8) !== TRACE_MAGIC) throw corrupt('bad magic');
    const version = preamble.readUInt32LE(8);
    if (version !== TRACE_VERSION) {
      throw usageError(
        `${path}: trace format version ${version} is not supported (this pmfit reads version ${TRACE_VERSION})`,
      );
    }
    const footer = this.read(size - FOOTER_SIZE, FOOTER_SIZE);
    if (footer.toString('latin1', 24, 32) !== TRACE_END) throw corrupt('truncated: no end marker');
    const eventsOffset = Number(footer.readBigUInt64LE(0));
    const headerOffset = Number(footer.readBigUInt64LE(8));
    const headerLength = Number(footer.readBigUInt64LE(16));
    if (
      headerOffset + headerLength !== size - FOOTER_SIZE ||
      eventsOffset < PREAMBLE_SIZE ||
      eventsOffset > headerOffset
    ) {
      throw corrupt('inconsistent footer');
    }
    let header: TraceHeader;
    try {
      header = JSON.parse(this.read(headerOffset, headerLength).toString('utf8')) as TraceHeader;
    } catch {
      throw corrupt('unreadable header');
    }
    const problem = headerProblem(header);
    if (problem) throw corrupt(`header: ${problem}`);
    // traces written before watched pages or emulated stores existed
    // count fewer causes
    const stops = header.fastStops;
    if (stops) for (const cause of LATER_CAUSES) stops[cause] ??= 0;
    const imagesSize = header.files.reduce((sum, file) => sum + file.size, 0);
    if (PREAMBLE_SIZE + imagesSize !== eventsOffset) throw corrupt('image sizes do not match the header');
    this.header = header;
    this.eventsOffset = eventsOffset;
    this.eventsEnd = headerOffset;
  }

  static open(path: string): TraceReader {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      throw usageError(`cannot open trace ${path}: ${errnoText(err)}`);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw usageError(`cannot open trace ${path}: it is ${kindOf(stat)}, not a trace file`);
      return new TraceReader(path, fd, stat.size);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** images -- the PM files' content when the first region began, with
   *  their data extents; read once, the same arrays on every call (do not
   *  modify them). */
  images(): ChunkedBytes[] {
    if (!this.initial) {
      let at = PREAMBLE_SIZE;
      this.initial = this.header.files.map((file) => {
        const image = this.readImage(at, file.size);
        at += file.size;
        return image;
      });
    }
    return this.initial;
  }

  /** events -- the records in order, checked one by one. */
  *events(): Generator<TraceEvent> {
    const { files, instructions } = this.header;
    const chunkSize = 1 << 20;
    let buffer: Buffer = Buffer.alloc(0);
    let bufferStart = this.eventsOffset;
    let at = this.eventsOffset;
    let lastIndex = 0;
    let seen = 0;
    while (at < this.eventsEnd) {
      const corrupt = (why: string) => usageError(`${this.path}: corrupt event at byte ${at}: ${why}`);
      if (at + RECORD_HEADER_SIZE > bufferStart + buffer.length) {
        bufferStart = at;
        buffer = this.read(at, Math.min(Math.max(chunkSize, RECORD_HEADER_SIZE), this.eventsEnd - at));
      }
      const local = at - bufferStart;
      if (local + RECORD_HEADER_SIZE > buffer.length) throw corrupt('record cut short');
      const kind = buffer[local];
      const fileId = buffer[local + 1];
      const length = buffer.readUInt32LE(local + 4);
      const index = Number(buffer.readBigUInt64LE(local + 8));
      const address = Number(buffer.readBigUInt64LE(local + 16));
      const offset = Number(buffer.readBigUInt64LE(local + 24));
      if (kind < EventKind.Store || kind > EventKind.Sync) throw corrupt(`unknown kind ${kind}`);
      if (index < lastIndex || index > instructions) throw corrupt(`instruction index ${index} out of order`);
      if (kind === EventKind.Fence) {
        if (fileId !== NO_FILE) throw corrupt('fence with a file');
      } else if (
        fileId >= files.length ||
        offset > files[fileId].size ||
        (carriesData(kind) || kind === EventKind.Sync ? offset + length > files[fileId].size : false)
      ) {
        throw corrupt('range outside the PM files');
      }
      const size = recordSize(kind, length);
      if (at + size > this.eventsEnd) throw corrupt('record runs past the event section');
      if (local + size > buffer.length) {
        bufferStart = at;
        buffer = this.read(at, Math.max(size, Math.min(chunkSize, this.eventsEnd - at)));
      }
      const start = at - bufferStart;
      const event: TraceEvent = { kind, index, address, fileId, offset, length };
      const thread = buffer.readUInt16LE(local + 2);
      if (thread !== 0) event.thread = thread;
      if (carriesData(kind))
        event.data = Uint8Array.prototype.slice.call(
          buffer,
          start + RECORD_HEADER_SIZE,
          start + RECORD_HEADER_SIZE + length,
        );
      lastIndex = index;
      seen += 1;
      at += size;
      yield event;
    }
    if (seen !== this.header.events) {
      throw usageError(`${this.path}: corrupt trace: ${seen} events found, header says ${this.header.events}`);
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** readImage -- one file's initial image: one Buffer up to CHUNK_BYTES,
   *  chunks of it beyond (a Buffer holds at most 4 GiB), and its extents. */
  private readImage(position: number, length: number): ChunkedBytes {
    const chunks: Buffer[] = [];
    const extents: Extent[] = [];
    let done = 0;
    do {
      chunks.push(this.readSparse(position, done, Math.min(CHUNK_BYTES, length - done), extents));
      done += CHUNK_BYTES;
    } while (done < length);
    return new ChunkedBytes(chunks, extents);
  }

  /**
   * readSparse -- read() of `length` bytes at `offset` of an image that
   * starts at `position`, a part at a time, copying only the 64 KiB units
   * that hold a non-zero byte and adding them to `extents`. A fresh
   * Buffer.alloc of this size is zero pages the kernel has not backed yet,
   * so a mostly-zero 1 GiB image costs the memory of its data, as long as
   * nothing reads its holes (chunked-bytes.ts).
   */
  private readSparse(position: number, offset: number, length: number, extents: Extent[]): Buffer {
    const image = Buffer.alloc(length);
    const part = Buffer.allocUnsafe(Math.min(length, SPARSE_CHUNK));
    for (let done = 0; done < length;) {
      const want = Math.min(part.length, length - done);
      // Whole parts: their units start at multiples of 64 KiB.
      for (let got = 0; got < want;) {
        const read = fs.readSync(this.fd, part, got, want - got, position + offset + done + got);
        if (read === 0) throw usageError(`${this.path}: not a valid pmfit trace (truncated)`);
        got += read;
      }
      for (const [start, end] of nonZeroUnits(part.subarray(0, want))) {
        part.copy(image, done + start, start, end);
        addExtent(extents, offset + done + start, offset + done + end);
      }
      done += want;
    }
    return image;
  }

  private read(position: number, length: number): Buffer {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const read = fs.readSync(this.fd, buffer, done, length - done, position + done);
      if (read === 0) break;
      done += read;
    }
    if (done !== length) throw usageError(`${this.path}: not a valid pmfit trace (truncated)`);
    return buffer;
  }
}
