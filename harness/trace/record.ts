// record -- one single-stepped pass over the regions that writes every PM
// store, flush, fence and PM syscall to a trace file (trace/format.ts).
//
// The native tracer records the instruction-level events itself; this file
// answers its questions (what is the instruction at this address, what does
// this syscall do to PM) and does the I/O.

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../_internals/errors';
import { onInterrupt } from '../_internals/interrupt';
import { readMaps } from '../elf/proc-maps';
import type { NativePmRange, NativeStop } from '../tracer/native';
import { InsnFlag } from '../tracer/native';
import { formatPtr } from '../tracer/remote-ptr';
import type { ResolvedCommand } from '../tracer/resolve-command';
import { Tracee } from '../tracer/tracee';
import { decodeInstruction } from './decode';
import { EventKind, TraceEvent } from './event';
import { AddressInfo, encodeEvent, TraceHeader, TraceWriter } from './format';
import { syscallEffect } from './syscall-effect';

export interface RecordOptions {
  command: ResolvedCommand;
  /** PM files; they may be created by the target before its first region. */
  pmFiles: string[];
  output: string;
  functionName?: string;
  maxSteps?: number;
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdoutFd?: number;
  stderrFd?: number;
  onProgress?(index: number): void;
}

interface PmFile {
  path: string;
  size: number;
  dev: number;
  ino: number;
}

/** recordTrace -- run the command once under the tracer and write its trace. */
export async function recordTrace(options: RecordOptions): Promise<TraceHeader> {
  const cwd = options.cwd ?? process.cwd();
  const pmPaths = options.pmFiles.map((file) => path.resolve(cwd, file));
  for (const file of pmPaths) {
    if (fs.existsSync(file) && !fs.statSync(file).isFile()) throw usageError(`PM file ${file} is not a regular file`);
  }
  const writer = new TraceWriter(options.output);
  const removeCleanup = onInterrupt(() => writer.abandon());
  const tracee = Tracee.start({
    command: options.command,
    functionName: options.functionName,
    cwd,
    env: options.env,
    stdoutFd: options.stdoutFd,
    stderrFd: options.stderrFd,
  });
  const session = new RecordSession(tracee, writer, pmPaths);
  try {
    const end = await tracee.run({ record: true, maxSteps: options.maxSteps, timeoutMs: options.timeoutMs }, {
      onDecode: (stop) => session.decode(stop.address, stop.bytes),
      onSyscall: (stop) => session.syscall(stop),
      onRegionBegin: (index) => session.regionBegin(index),
      onRegionEnd: (index) => session.regionEnd(index),
      onEvents: (records) => writer.appendRecords(records),
      onProgress: options.onProgress,
    });
    if (end.kind !== 'exited') throw usageError('recording stopped before the program ended');
    return writer.finish({
      argv: options.command.argv,
      cwd,
      ...(options.functionName !== undefined ? { function: options.functionName } : {}),
      files: session.files.map((file) => ({ path: file.path, size: file.size })),
      regions: session.regions,
      instructions: end.index,
      addresses: session.addresses,
      exitCode: end.code,
      warnings: session.warnings,
    });
  } catch (err) {
    writer.abandon();
    throw err;
  } finally {
    tracee.kill();
    removeCleanup();
  }
}

/** RecordSession -- the state of one recording between tracer stops. */
class RecordSession {
  files: PmFile[] = [];
  readonly regions: { begin: number; end: number }[] = [];
  readonly addresses: Record<string, AddressInfo> = {};
  readonly warnings: string[] = [];
  private ranges: NativePmRange[] = [];

  constructor(private readonly tracee: Tracee, private readonly writer: TraceWriter, private readonly pmPaths: string[]) {}

  decode(address: number, bytes: Buffer): void {
    const decoded = decodeInstruction(bytes, address);
    this.tracee.task.setInstruction(address, decoded.info);
    const where = this.tracee.locate(address);
    this.addresses[formatPtr(address)] = { ...where, text: decoded.text };
    if (decoded.info.flags & InsnFlag.Unsupported) {
      this.warnings.push(`${formatPtr(address)} ${decoded.text}: writes the tracer cannot follow are not recorded`);
    }
  }

  regionBegin(index: number): void {
    this.regions.push({ begin: index, end: index });
    if (this.regions.length === 1) this.captureInitialImages();
    this.refreshRanges();
  }

  regionEnd(index: number): void {
    this.regions[this.regions.length - 1].end = index;
  }

  /** The initial image is the files' content when the first region begins:
   *  the target may create or format its pool before that. */
  private captureInitialImages(): void {
    this.files = this.pmPaths.map((file) => {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file);
      } catch {
        throw usageError(`PM file ${file} does not exist when the first region begins`);
      }
      if (!stat.isFile()) throw usageError(`PM file ${file} is not a regular file`);
      return { path: file, size: stat.size, dev: stat.dev, ino: stat.ino };
    });
    for (const file of this.files) this.writer.writeImage(file.path, file.size);
    this.writer.startEvents();
  }

  /** PM ranges are the MAP_SHARED mappings of PM files; stores through a
   *  MAP_PRIVATE mapping never reach the file (DESIGN.md, "PM"). */
  private refreshRanges(): void {
    const ranges: NativePmRange[] = [];
    for (const entry of readMaps(this.tracee.pid)) {
      if (entry.perms[3] !== 's') continue;
      const fileId = this.files.findIndex((file) => file.ino === entry.inode && samePath(file.path, entry.path));
      if (fileId >= 0) ranges.push({ start: entry.start, end: entry.end, fileId, fileOffset: entry.offset });
    }
    this.ranges = ranges;
    this.tracee.task.setPmRanges(ranges);
  }

  private fileOfFd(fd: number): number {
    try {
      const stat = fs.statSync(`/proc/${this.tracee.pid}/fd/${fd}`);
      return this.files.findIndex((file) => file.ino === stat.ino && file.dev === stat.dev);
    } catch {
      return -1;
    }
  }

  /** Position a write() without offset will write at. */
  private filePosition(fd: number, fileId: number): number {
    const info = fs.readFileSync(`/proc/${this.tracee.pid}/fdinfo/${fd}`, 'utf8');
    const flags = parseInt(/flags:\s*([0-7]+)/.exec(info)?.[1] ?? '0', 8);
    const O_APPEND = 0o2000;
    if (flags & O_APPEND) return fs.statSync(this.files[fileId].path).size;
    return Number(/pos:\s*(\d+)/.exec(info)?.[1] ?? '0');
  }

  syscall(stop: Extract<NativeStop, { kind: 'syscall' }>): NativeStop {
    const effect = syscallEffect(stop.nr, stop.args);
    const fileId = effect.kind === 'write' || effect.kind === 'fsync' ? this.fileOfFd(effect.fd) : -1;
    const offset = effect.kind === 'write' && fileId >= 0 ? effect.offset ?? this.filePosition(effect.fd, fileId) : 0;
    const diff = effect.kind === 'other' && this.ranges.length > 0;
    const done = this.tracee.stepSyscall(diff);
    if (done.kind !== 'syscallDone') return done;
    this.writer.appendRecords(this.tracee.task.takeEvents());
    const result = done.result;
    const event = (kind: EventKind, file: number, at: number, length: number, data?: Uint8Array): TraceEvent =>
      ({ kind, index: done.index, address: stop.address, fileId: file, offset: at, length, data });
    switch (effect.kind) {
      case 'write':
        if (fileId >= 0 && result > 0) {
          const data = this.readFile(fileId, offset, result);
          this.writer.appendRecords(encodeEvent(event(EventKind.Write, fileId, offset, data.length, data)));
        }
        break;
      case 'fsync':
        if (fileId >= 0 && result === 0) {
          this.writer.appendRecords(encodeEvent(event(EventKind.Sync, fileId, 0, this.files[fileId].size)));
        }
        break;
      case 'msync':
        if (result === 0) {
          for (const range of this.ranges) {
            const start = Math.max(range.start, effect.address);
            const end = Math.min(range.end, effect.address + effect.length);
            if (start >= end) continue;
            const at = range.fileOffset + (start - range.start);
            const length = Math.min(end - start, this.files[range.fileId].size - at);
            if (length > 0) this.writer.appendRecords(encodeEvent(event(EventKind.Sync, range.fileId, at, length)));
          }
        }
        break;
      case 'remap':
        this.refreshRanges();
        break;
      case 'harmless':
      case 'other':
        break;
    }
    return done;
  }

  /** Bytes a write syscall put in the file, which may extend past the
   *  recorded size; those are outside every image and dropped. */
  private readFile(fileId: number, offset: number, length: number): Uint8Array {
    const file = this.files[fileId];
    const clipped = Math.max(0, Math.min(length, file.size - offset));
    const data = Buffer.alloc(clipped);
    if (clipped > 0) {
      const fd = fs.openSync(file.path, 'r');
      try {
        fs.readSync(fd, data, 0, clipped, offset);
      } finally {
        fs.closeSync(fd);
      }
    }
    if (clipped < length) this.warnings.push(`a write syscall extended ${file.path} past its initial size; the extension is not traced`);
    return data;
  }
}

function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return fs.realpathSync(a) === b;
  } catch {
    return false;
  }
}
