// record -- one single-stepped pass over the regions that writes every PM
// store, flush, fence and PM syscall to a trace file (trace/format.ts).
//
// The native tracer records the instruction-level events itself; this file
// answers its questions (what is the instruction at this address, what does
// this syscall do to PM) and does the I/O.

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../_internals/errors';
import { pmFileProblem } from '../_internals/pm-file-problem';
import { onInterrupt } from '../_internals/interrupt';
import { liveDescendants } from '../_internals/descendants';
import { inRunningGroup } from '../_internals/process-groups';
import { processFlushSites } from '../elf/flush-sites';
import { readMaps } from '../elf/proc-maps';
import { loadModulesAt } from '../elf/symbolizer';
import type { MapEntry } from '../elf/proc-maps';
import { sentinelPid } from '../tracer/sentinel';
import type { NativePmRange, NativeStop, PackedInsns } from '../tracer/native';
import { InsnFlag, InsnFlow, loadNative, packInsns } from '../tracer/native';
import { formatPtr } from '../tracer/remote-ptr';
import type { ResolvedCommand } from '../tracer/resolve-command';
import { Markers, NoRegionError, type RunEnd, type RunHooks, Tracee } from '../tracer/tracee';
import { DecodeMemo } from './_internals/decode-memo';
import { EventKind, LINE } from '../trace/event';
import {
  AddressInfo,
  carriesData,
  encodeEvent,
  recordSize,
  RECORD_HEADER_SIZE,
  TraceHeader,
  TraceWriter,
} from '../trace/format';
import { SyscallEffect, syscallEffect, syscallName } from './syscall-effect';
import { pageCacheTracks } from './_internals/page-cache';
import { WrittenPages } from './_internals/written-pages';
import { PAGE, TraceImage } from './trace-image';

export interface RecordOptions {
  command: ResolvedCommand;
  /** PM files; they may be created by the target before its first region. */
  pmFiles: string[];
  output: string;
  functions?: readonly string[];
  /** Seed of the thread schedule (tracer/tracee.ts). */
  scheduleSeed?: number;
  /** Region markers other than pmfit_region_begin/_end (a recovery's). */
  markers?: Markers;
  maxSteps?: number;
  timeoutMs?: number;
  cwd?: string;
  /** Directory the PM file names are relative to, when it is not `cwd`. */
  pmDir?: string;
  env?: NodeJS.ProcessEnv;
  stdoutFd?: number;
  stderrFd?: number;
  onProgress?(index: number): void;
  /** Record past writes the tracer cannot follow (as warnings) instead of
   *  refusing the run. */
  acceptUntracedWrites?: boolean;
  /** Run regions at full speed between PM accesses instead of
   *  single-stepping every instruction (docs/recording.md, "The fast
   *  recorder"); instruction indices then count single steps only. */
  fast?: boolean;
  /** After each cross-check of the PM files (bench:record measures them):
   *  its time (with the written-page marks read or set since the last one),
   *  the pages it compared and the files it compared whole. */
  onCheck?(check: { ms: number; pages: number; wholeFiles: number }): void;
  /** Files the program may not open for writing (TraceeOptions.guardFiles). */
  guardFiles?: string[];
  /** Stop at crash point `stopAt` (Tracee.run's stopAt) and call `paused`
   *  with the tracee stopped there; it names the next crash point to stop
   *  at, or undefined to record on to the end. The stack pass
   *  (pipeline/stacks-at.ts) meets a fast trace's crash points this way,
   *  through the recorder that numbered them. */
  pause?: {
    stopAt: number;
    paused(end: Extract<RunEnd, { kind: 'stopAt' }>, tracee: Tracee): Promise<number | undefined> | number | undefined;
  };
}

/** Start of the kernel half of x86-64 addresses (exact as a double). */
const KERNEL_HALF = 0xffff800000000000;

/** Largest write event made from a file's content (a hole punched over a
 *  whole pool becomes many): bounds the memory of one read. */
const CONTENT_CHUNK = 1 << 20;

interface PmFile {
  path: string;
  /** As the user named it, for messages. */
  name: string;
  size: number;
  dev: number;
  ino: number;
}

/** aheadFlows -- what the fence hunt learns of a run decoded ahead: its
 *  instructions, or where none could be decoded (bytes that are no
 *  instruction, or none at all), one that goes nowhere, ending the line. */
function aheadFlows(infos: PackedInsns): PackedInsns {
  return infos.length > 0 ? infos : NOWHERE;
}
const NOWHERE = packInsns([{ length: 1, flags: 0, writes: [], flow: InsnFlow.Other }]);

/** recordTrace -- run the command once under the tracer and write its trace. */
export async function recordTrace(options: RecordOptions): Promise<TraceHeader> {
  const cwd = options.cwd ?? process.cwd();
  const pmPaths = options.pmFiles.map((file) => path.resolve(options.pmDir ?? cwd, file));
  options.pmFiles.forEach((name, i) => {
    const problem = pmFileProblem(pmPaths[i]);
    if (problem?.kind === 'unusable') throw usageError(`PM file ${name} ${problem.why}`);
  });
  const writer = new TraceWriter(options.output);
  const removeCleanup = onInterrupt(() => writer.abandon());
  let tracee: Tracee;
  try {
    tracee = Tracee.start({
      command: options.command,
      functions: options.functions,
      scheduleSeed: options.scheduleSeed,
      markers: options.markers,
      cwd,
      env: options.env,
      stdoutFd: options.stdoutFd,
      stderrFd: options.stderrFd,
      guardFiles: options.guardFiles,
    });
  } catch (err) {
    // A program without markers or symbols: no half trace beside the output.
    writer.abandon();
    removeCleanup();
    throw err;
  }
  const session = new RecordSession(
    tracee,
    writer,
    pmPaths,
    options.pmFiles,
    options.acceptUntracedWrites ?? false,
    options.fast ?? false,
    options.onCheck,
  );
  try {
    const hooks: RunHooks = {
      onDecode: (stop) =>
        stop.ahead ? session.decodeAhead(stop.address, stop.bytes) : session.decode(stop.address, stop.bytes),
      onSyscall: (stop) => session.syscall(stop),
      onRegionBegin: (index, thread) => session.regionBegin(index, thread),
      onRegionEnd: (index, thread) => session.regionEnd(index, thread),
      onEvents: (records) => session.append(records),
      onProgress: (index) => {
        session.progress();
        options.onProgress?.(index);
      },
      whileFree: () => session.preload(),
    };
    let stopAt = options.pause?.stopAt;
    let end: RunEnd;
    for (;;) {
      end = await tracee
        .run(
          {
            record: true,
            fast: options.fast ?? false,
            stopAt,
            maxSteps: options.maxSteps,
            timeoutMs: options.timeoutMs,
          },
          hooks,
        )
        .catch((err: unknown) => {
          throw err instanceof NoRegionError ? explainNoRegion(err, pmPaths, options.pmFiles) : err;
        });
      if (end.kind !== 'stopAt' || !options.pause) break;
      stopAt = await options.pause.paused(end, tracee);
    }
    if (end.kind !== 'exited') throw usageError('recording stopped before the program ended');
    return writer.finish({
      argv: options.command.argv,
      cwd,
      // Names hold no spaces: several are one string, as before.
      ...(options.functions?.length ? { function: options.functions.join(' ') } : {}),
      // the seed replays the interleaving: kept for traces of several threads
      ...(session.regions.some((region) => region.thread !== undefined) || (options.scheduleSeed ?? 0) !== 0
        ? { scheduleSeed: options.scheduleSeed ?? 0 }
        : {}),
      files: session.files.map((file) => ({ path: file.path, size: file.size })),
      regions: session.regions,
      instructions: end.index,
      addresses: session.addresses,
      exitCode: end.code,
      warnings: session.warnings,
      ...(options.fast
        ? {
            recorder: 'fast' as const,
            fastStops: tracee.task.fastStops(),
            ...(session.flushTrapsOff !== undefined ? { flushTrapsOff: session.flushTrapsOff } : {}),
          }
        : {}),
    });
  } catch (err) {
    writer.abandon();
    throw err;
  } finally {
    tracee.kill();
    session.close();
    removeCleanup();
  }
}

/** A program that ended before its first region often failed to open its
 *  PM file: say which one is missing or read-only, with the exit status. */
function explainNoRegion(err: NoRegionError, pmPaths: string[], names: string[]): Error {
  for (const [i, file] of pmPaths.entries()) {
    if (!fs.existsSync(file)) return usageError(`PM file ${names[i]} does not exist, and ${err.message}`);
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch {
      return usageError(`PM file ${names[i]} is not writable, and ${err.message}`);
    }
  }
  return err;
}

/** How a check treats a difference between a PM file and the trace:
 *  `record` takes it as durable writes (code between regions, syscalls
 *  without a user buffer), `error` refuses the run (it happened where every
 *  store should have been followed). */
type CheckMode =
  | { kind: 'record'; index: number; address: number; between?: boolean }
  | { kind: 'error'; index: number; when: string };

/** The time a piece of the preload (RecordSession.preload) that can be
 *  cut runs at most, about. */
const PRELOAD_PIECE_MS = 2;

/** Bytes of a whole file compared at a time. */
const COMPARE_CHUNK = 1 << 20;
/** Longest time between two collections of dirty pages during a region:
 *  far below the kernel's 30 s before it writes a dirty page back itself. */
const COLLECT_INTERVAL_MS = 1000;

/** RecordSession -- the state of one recording between tracer stops. */
class RecordSession {
  files: PmFile[] = [];
  readonly regions: { begin: number; end: number; thread?: number }[] = [];
  /** The thread of the syscall being recorded, for its events. */
  private syscallThread: { thread?: number } = {};
  /** The open region of each thread (threads run regions of their own). */
  private readonly openRegions = new Map<number, { begin: number; end: number; thread?: number }>();
  readonly addresses: Record<string, AddressInfo> = {};
  readonly warnings: string[] = [];
  /** Why a region's flushes were not trapped, the first time they were not. */
  flushTrapsOff: string | undefined;
  private ranges: NativePmRange[] = [];
  /** The files as the trace says they are; from the first region on. */
  private image: TraceImage | undefined;
  /** Descriptors of the PM files, for comparing them with the image. */
  private fds: number[] = [];
  /** Per file: whether its page cache says which pages were written. */
  private tracked: boolean[] = [];
  /** Per file: mtime and ctime after the last check. */
  private times: string[] = [];
  /** Per file: dirty pages collected during the region (before a syscall
   *  that may write them back), compared at its end. */
  private collected: Set<number>[] = [];
  private lastCollect = 0;
  /** Pages written through the tracee's own mappings (from the first
   *  region on). */
  private written: WrittenPages | undefined;
  /** A range's marks could not be read during the region: whole files. */
  private unreadMarks = false;
  /** Another process of the program's (one it forked outside regions, or
   *  an orphan of one) was alive when the region began: it may write and
   *  sync PM during the region, which leaves no mark pmfit can see. */
  private othersAtBegin = false;
  /** What the last look at pmfit's descendants found (undefined: none
   *  made yet), and the program's process creations then (otherProcesses). */
  private othersFound: boolean | undefined;
  private forksLooked = 0;
  /** Time spent on written-page marks since the last check. */
  private markMs = 0;
  /** Whole-file comparisons' buffers, one pair for the recording: a
   *  pair per comparison is garbage that Node collects late (comparisons
   *  of a 16 MiB pool at 20 region ends grew RSS by 40 MiB). */
  private chunks: { real: Buffer; implied: Buffer } | undefined;
  /** The program's decodings, from its earlier recordings where they can be. */
  private readonly decodings: DecodeMemo;

  constructor(
    private readonly tracee: Tracee,
    private readonly writer: TraceWriter,
    private readonly pmPaths: string[],
    private readonly names: string[],
    private readonly acceptUntraced: boolean,
    private readonly fast: boolean,
    private readonly onCheck?: RecordOptions['onCheck'],
  ) {
    // one memo per recorder: the exact one decodes every instruction the
    // program runs (txmap: 4,800, 1 MB of memo), the fast one what it
    // steps and looks ahead at (200), and each recording reads its memo whole
    this.decodings = new DecodeMemo(`${fast ? 'fast' : 'exact'} ${tracee.options.command.file}`);
  }

  /** close -- the descriptors (the trace is done or abandoned), and the
   *  decodings kept for the next recording. */
  close(): void {
    for (const fd of this.fds) fs.closeSync(fd);
    this.fds = [];
    this.decodings.save();
  }

  /** preload -- a piece of what the first region's stops would load then,
   *  done while the program runs free to it on the CPU the tracee leaves
   *  idle (false: nothing left): the decode memo, the symbol tables of the
   *  code the memo's instructions are in, the flush sites of the code
   *  mapped so far. It only fills caches, keyed as always by what they
   *  answer for (a file's identity, an instruction's bytes and address), so
   *  the recording is the same whether it ran, ran part way or failed: a
   *  failure is left to the stop that needs the same work to report. A
   *  piece that can be cut stops at PRELOAD_PIECE_MS, so that a program
   *  reaching its first region meanwhile waits for little. */
  preload(): boolean {
    try {
      if (!this.preloads[0]?.(performance.now() + PRELOAD_PIECE_MS)) this.preloads.shift();
    } catch {
      this.preloads.shift(); // only time lost
    }
    return this.preloads.length > 0;
  }

  /** Each piece says whether it has more to do. */
  private readonly preloads: ((deadline: number) => boolean)[] = [
    (deadline) => this.decodings.decodeSome(deadline),
    (deadline) => this.handAhead(deadline),
    () => {
      this.preloadMaps = readMaps(this.tracee.pid);
      this.preloadAddresses = this.decodings.instructionAddresses();
      this.preloadCode = this.preloadMaps.filter((entry) => entry.perms[2] === 'x');
      return false;
    },
    (deadline) => {
      // an instruction's module at a time: loadModulesAt skips those loaded
      while (this.preloadAddresses.length > 0 && performance.now() < deadline)
        loadModulesAt(this.preloadMaps, [this.preloadAddresses.pop() as number]);
      return this.preloadAddresses.length > 0;
    },
    (deadline) => {
      // a mapping's sites at a time, kept by flush-sites.ts per mapping
      while (this.preloadCode.length > 0 && performance.now() < deadline)
        processFlushSites(this.tracee.pid, [this.preloadCode.pop() as MapEntry]);
      return this.preloadCode.length > 0;
    },
    () => {
      // all of them merged, as the first region's begin will ask if nothing
      // was mapped since
      processFlushSites(this.tracee.pid, this.preloadMaps);
      return false;
    },
  ];
  private preloadMaps: MapEntry[] = [];
  private preloadAddresses: number[] = [];
  private preloadCode: MapEntry[] = [];

  decode(address: number, bytes: Buffer): void {
    // Code in the kernel half of the address space is the legacy vsyscall
    // page (execute-only: the kernel emulates each call, writing its
    // results where the caller asked, unseen). Its addresses are past 2^53
    // and reach JavaScript rounded, so an instruction set for one would
    // never be found again: refused before that loops for ever.
    if (address >= KERNEL_HALF) {
      throw usageError(
        `a call into the vsyscall page (0xffffffffff600000) inside a region: the kernel emulates it and pmfit cannot follow what it writes; call the vDSO instead (glibc does)`,
      );
    }
    const decoded = this.decodings.instruction(bytes, address);
    // Asked before its first execution: refused then (a warning with
    // --accept-untraced-writes), whatever it would write: PM or not, nobody
    // can tell.
    if (decoded.info.flags & InsnFlag.Unsupported) {
      this.untraced(
        `cannot record \`${decoded.text}\` at ${this.tracee.describe(address)}: pmfit cannot follow what it writes`,
      );
    }
    this.tracee.task.setInstruction(address, decoded.info);
    const where = this.tracee.locate(address);
    this.addresses[formatPtr(address)] = { ...where, text: decoded.text };
  }

  /** decodeAhead -- code the fast recorder's fence hunt looks ahead at: it
   *  has not run (and may never), so it is neither named nor refused here.
   *  The instructions of its line are learned, up to the first that does
   *  not fall through (decodeRun: each decoding depends only on the bytes
   *  from its own address on, so one the line never reaches is harmless,
   *  and one past the line's end costs a classification the hunt rarely
   *  uses: docs/recording.md, "Decoding ahead"); bytes that are no
   *  instruction, or none at all (unreadable), end the hunt's line there. */
  decodeAhead(address: number, bytes: Buffer): void {
    this.tracee.task.setFlows(
      address,
      address < KERNEL_HALF ? aheadFlows(this.decodings.run(bytes, address)) : NOWHERE,
    );
  }

  /** handAhead -- the memo's runs (decodeAhead's answers of earlier
   *  recordings) handed to the fence hunt, once, before the first region:
   *  a line that meets one where the code is its bytes learns it without a
   *  `decode` stop (194 stops on txmap with 20 inserts), a line that meets
   *  other bytes stops as before. A run the tracer's contract refuses is
   *  dropped from the memo and left to its stop. Handed until `deadline`
   *  (performance.now()), the rest at the next call (their infos cross
   *  packed, a Buffer a run: txmap's 194 runs take 6-8 ms of CPU in a fresh
   *  process, most of it the tracer's new memory for them, where objects
   *  crossing field by field took 15-20); true while some are left. */
  private handAhead(deadline = Infinity): boolean {
    if (!this.fast) return false;
    this.aheadRuns ??= this.decodings.knownRuns();
    while (this.aheadRuns.length > 0 && performance.now() < deadline) {
      const run = this.aheadRuns.pop() as ReturnType<DecodeMemo['knownRuns']>[number];
      try {
        this.tracee.task.knowRun(run.address, run.bytes, aheadFlows(run.infos));
      } catch {
        this.decodings.drop(run); // decoded anew at its stop
      }
    }
    return this.aheadRuns.length > 0;
  }
  private aheadRuns: ReturnType<DecodeMemo['knownRuns']> | undefined;

  /** untraced -- a write pmfit cannot follow may hide crash states: an
   *  error, or with --accept-untraced-writes a warning. */
  private untraced(message: string): void {
    if (!this.acceptUntraced)
      throw usageError(`${message}; crash images after it could be wrong (--accept-untraced-writes records anyway)`);
    this.warnings.push(message);
  }

  regionBegin(index: number, thread: number): void {
    const maps = readMaps(this.tracee.pid);
    if (this.regions.length > 0) {
      // ranges first: the check reads nothing through them, the region does
      this.refreshRanges(maps);
      this.check({ kind: 'record', index: index + 1, address: 0, between: true });
    }
    const region = { begin: index, end: index, ...(thread !== 0 ? { thread } : {}) };
    this.regions.push(region);
    this.openRegions.set(thread, region);
    if (this.regions.length === 1) {
      this.handAhead();
      this.captureInitialImages();
      this.refreshRanges(maps);
      this.files.forEach((_, fileId) => this.startInterval(fileId));
      this.written = new WrittenPages(this.tracee.task);
      this.timed(() => this.written?.watch(this.ranges));
    }
    this.othersAtBegin = this.otherProcesses();
    // Found again at every region's start: code may have been mapped or
    // unmapped since, unseen (native/breakpoints.h, "flush traps").
    if (this.fast) {
      const sites = processFlushSites(this.tracee.pid, maps);
      this.tracee.task.setFlushSites(sites.addresses, sites.complete);
      if (!sites.complete) this.flushTrapsOff ??= sites.why;
    }
  }

  /** progress -- the tracer yielded during a region: collect the dirty
   *  pages now and then, before the kernel's flusher cleans them. */
  progress(): void {
    const now = Date.now();
    if (!this.image || now - this.lastCollect < COLLECT_INTERVAL_MS) return;
    this.lastCollect = now;
    this.collectDirty();
  }

  regionEnd(index: number, thread: number): void {
    const region = this.openRegions.get(thread) ?? this.regions[this.regions.length - 1];
    this.openRegions.delete(thread);
    region.end = index;
    this.check({
      kind: 'error',
      index,
      when: `at the end of the region of instructions ${region.begin + 1}..${index}`,
    });
  }

  /** append -- event records from the tracer or the harness: to the trace,
   *  and into the trace image. */
  append(records: Buffer): void {
    let count = 0;
    for (
      let at = 0;
      at + RECORD_HEADER_SIZE <= records.length;
      at += recordSize(records[at], records.readUInt32LE(at + 4))
    ) {
      count += 1;
      const kind = records[at];
      const fileId = records[at + 1];
      if (!this.image || !carriesData(kind) || fileId >= this.files.length) continue;
      const length = records.readUInt32LE(at + 4);
      const data = records.subarray(at + RECORD_HEADER_SIZE, at + RECORD_HEADER_SIZE + length);
      this.image.apply(fileId, Number(records.readBigUInt64LE(at + 24)), data, {
        index: Number(records.readBigUInt64LE(at + 8)),
        address: Number(records.readBigUInt64LE(at + 16)),
      });
    }
    this.writer.appendRecords(records, count);
  }

  /**
   * check -- at a region boundary (and before the program exits inside a
   * region), compare each PM file with the trace image wherever it may
   * differ: the pages recorded writes touched and the pages written since
   * the last check, as the page cache's dirty state tells (a store through
   * a mapping and a write(2) by any process both leave one). The whole file
   * is compared where that state cannot be trusted: filesystems without
   * write-back (tmpfs, DAX), and between regions when the file's times
   * changed (untraced code may have written and synced pages: their dirty
   * state is gone). Then the file's write-back is started, which starts the next
   * interval.
   *
   * Between regions, untraced code runs at full speed and may write PM (or
   * sync what it wrote): a difference is taken as written and durable at
   * once, at the first instruction of the next region (`pmfit crash` at the
   * previous region's end stops before that code runs, one instruction
   * later it has run). At a region's end a difference is a write pmfit
   * missed, and every crash image after it would be wrong: an error.
   */
  private check(mode: CheckMode): void {
    this.append(this.tracee.task.takeEvents());
    this.verifySizes(
      mode.kind === 'error'
        ? mode.when
        : `between regions, before the region that began after instruction ${mode.index - 1}`,
      this.verifyPresent(mode.index),
    );
    const image = this.image;
    if (!image) return;
    const started = process.hrtime.bigint();
    let compared = 0;
    let wholeFiles = 0;
    const marked = (this.written?.take(this.ranges, this.collected) ?? true) && !this.unreadMarks;
    this.unreadMarks = false;
    // At a region's end, another process may have written and synced
    // pages: nothing marks them, so the files are compared whole (only
    // programs with such processes pay). Between regions the files' times
    // tell it.
    const others = mode.kind === 'error' && (this.othersAtBegin || this.otherProcesses());
    this.files.forEach((_, fileId) => {
      const whole =
        !this.tracked[fileId] ||
        !marked ||
        others ||
        (mode.kind === 'record' && mode.between && this.timesChanged(fileId));
      if (whole) {
        image.takeTouched(fileId);
        this.compareWhole(fileId, mode);
        wholeFiles += 1;
      } else {
        const pages = image.takeTouched(fileId);
        for (const page of this.collected[fileId]) pages.add(page);
        for (const page of loadNative().dirtyPages(this.fds[fileId], this.files[fileId].size)) pages.add(page);
        this.comparePages(fileId, pages, mode);
        compared += pages.size;
      }
      this.startInterval(fileId);
    });
    this.written?.watch(this.ranges);
    const ms = Number(process.hrtime.bigint() - started) / 1e6 + this.markMs;
    this.markMs = 0;
    this.onCheck?.({ ms, pages: compared, wholeFiles });
  }

  /** timed -- run `work` (watching or reading written-page marks outside a
   *  check); its time counts in the next check's (bench:record). */
  private timed<T>(work: () => T): T {
    const started = process.hrtime.bigint();
    try {
      return work();
    } finally {
      this.markMs += Number(process.hrtime.bigint() - started) / 1e6;
    }
  }

  /** otherProcesses -- whether a process other than the tracee that pmfit
   *  started (the program's children and their orphans, which pmfit
   *  adopts as child subreaper) is alive. pmfit's own sentinel and the
   *  commands it runs for checks are not: counting the sentinel compared
   *  every PM file whole at every region's end (20 regions of txmap over a
   *  16 MiB pool: 0.33 s of a 1.2 s recording), and counting txmap's
   *  recover servers did so in the stack pass's recording.
   *
   *  Looked for in /proc at the first region's begin (a process a setup
   *  command left behind counts too), then only while the last look found
   *  one or after the program created a process: every fork and vfork of
   *  each of its threads stops the tracer (native/task.cc, handle_event;
   *  a clone of any other kind is refused), so when the last look found
   *  none and the program forked nothing since, no process of the
   *  program's can be alive, nor an orphan of one. */
  private otherProcesses(): boolean {
    const forks = this.tracee.task.forks();
    if (this.othersFound === false && forks === this.forksLooked) return false;
    const sentinel = sentinelPid();
    this.forksLooked = forks;
    this.othersFound = liveDescendants(process.pid, sentinel).some(
      (pid) => pid !== this.tracee.pid && pid !== sentinel && !inRunningGroup(pid),
    );
    return this.othersFound;
  }

  /** startInterval -- the file's write-back started and its times noted: dirty
   *  pages from now on are new writes. */
  private startInterval(fileId: number): void {
    if (this.tracked[fileId]) loadNative().writeBack(this.fds[fileId]);
    this.collected[fileId] = new Set();
    this.times[fileId] = fileTimes(this.fds[fileId]);
  }

  private timesChanged(fileId: number): boolean {
    return fileTimes(this.fds[fileId]) !== this.times[fileId];
  }

  /** collectDirty -- the dirty pages now, kept for the region's end: a
   *  sync the program makes, or the kernel's flusher, cleans them. */
  private collectDirty(): void {
    this.files.forEach((file, fileId) => {
      if (!this.tracked[fileId]) return;
      for (const page of loadNative().dirtyPages(this.fds[fileId], file.size)) this.collected[fileId].add(page);
    });
  }

  private comparePages(fileId: number, pages: Set<number>, mode: CheckMode): void {
    const image = this.image as TraceImage;
    const size = this.files[fileId].size;
    const sorted = [...pages].filter((page) => page * PAGE < size).sort((a, b) => a - b);
    this.chunks ??= { real: Buffer.alloc(COMPARE_CHUNK), implied: Buffer.alloc(COMPARE_CHUNK) };
    const { real } = this.chunks;
    // A run of consecutive pages in one read: ext4's large folios make a
    // store dirty 16 pages at once, and a read each was 16 system calls.
    for (let at = 0; at < sorted.length;) {
      let end = at + 1;
      while (end < sorted.length && sorted[end] === sorted[end - 1] + 1 && (end - at) * PAGE < COMPARE_CHUNK) end += 1;
      const base = sorted[at] * PAGE;
      readAt(this.fds[fileId], real, Math.min((end - at) * PAGE, size - base), base);
      for (let page = sorted[at]; page < sorted[at] + (end - at); page++) {
        const offset = page * PAGE - base;
        const length = Math.min(PAGE, size - page * PAGE);
        const implied = image.page(fileId, page);
        if (real.compare(implied, 0, length, offset, offset + length) !== 0)
          this.differs(fileId, page * PAGE, real.subarray(offset, offset + length), implied.subarray(0, length), mode);
      }
      at = end;
    }
  }

  private compareWhole(fileId: number, mode: CheckMode): void {
    const image = this.image as TraceImage;
    const size = this.files[fileId].size;
    this.chunks ??= { real: Buffer.alloc(COMPARE_CHUNK), implied: Buffer.alloc(COMPARE_CHUNK) };
    const { real, implied } = this.chunks;
    for (let base = 0; base < size; base += COMPARE_CHUNK) {
      const length = Math.min(COMPARE_CHUNK, size - base);
      readAt(this.fds[fileId], real, length, base);
      image.read(fileId, base, implied.subarray(0, length));
      if (real.compare(implied, 0, length, 0, length) !== 0)
        this.differs(fileId, base, real.subarray(0, length), implied.subarray(0, length), mode);
    }
  }

  /** differs -- `now` (the file at `base`) is not what the trace says. */
  private differs(fileId: number, base: number, now: Buffer, implied: Buffer, mode: CheckMode): void {
    const file = this.files[fileId];
    if (mode.kind === 'error') {
      let at = 0;
      while (now[at] === implied[at]) at += 1;
      const offset = base + at;
      // With --accept-untraced-writes the run goes on: the difference
      // enters the trace as written at the check (below), with a warning.
      this.untraced(
        `PM file ${file.name} differs from the trace at offset 0x${offset.toString(16)} ${mode.when}: ${this.nearest(fileId, offset)}; a write pmfit did not follow (another process, or an instruction or syscall it does not know)`,
      );
    }
    let changed = 0;
    for (let at = 0; at < now.length;) {
      if (now[at] === implied[at]) {
        at += 1;
        continue;
      }
      // One event per run, bridging gaps shorter than a line.
      let end = at + 1;
      for (let same = 0; end < now.length && same < LINE; end += 1) same = now[end] === implied[end] ? same + 1 : 0;
      while (now[end - 1] === implied[end - 1]) end -= 1;
      const data = Uint8Array.prototype.slice.call(now, at, end);
      this.append(
        encodeEvent({
          kind: EventKind.Write,
          index: mode.index,
          address: mode.kind === 'record' ? mode.address : 0,
          fileId,
          offset: base + at,
          length: data.length,
          data,
        }),
      );
      changed += data.length;
      at = end;
    }
    if (changed > 0 && mode.kind === 'record' && mode.address === 0) {
      this.warnings.push(
        `${changed} bytes of ${file.name} changed between regions; taken as durable writes at instruction ${mode.index}`,
      );
    }
  }

  /** nearest -- the recorded instruction closest to a missed write. */
  private nearest(fileId: number, offset: number): string {
    const last = (this.image as TraceImage).lastWrite(fileId, Math.floor(offset / PAGE));
    if (!last) return 'no recorded write touched that page';
    const info = this.addresses[formatPtr(last.address)];
    const where = info
      ? ` (${info.symbol ? `${info.symbol}+0x${(info.symbolOffset ?? 0).toString(16)}` : `${path.basename(info.module)}+0x${info.offset.toString(16)}`}: ${info.text})`
      : '';
    return `the last recorded write to that page is instruction ${last.index} at ${formatPtr(last.address)}${where}`;
  }

  /** verifyPresent -- the PM files are still the files the trace follows;
   *  their stat()s, for verifySizes. */
  private verifyPresent(index: number): (fs.Stats | undefined)[] {
    const stats = this.files.map((file) => statIfAny(file.path));
    this.files.forEach((file, fileId) => {
      const stat = stats[fileId];
      if (!stat || stat.ino !== file.ino || stat.dev !== file.dev) {
        throw usageError(
          `PM file ${file.name} was deleted or replaced during the run (noticed at instruction ${index}); pmfit follows PM files by name, so leave them in place until the program ends`,
        );
      }
    });
    return stats;
  }

  /** The initial image is the files' content when the first region begins:
   *  the target may create or format its pool before that. */
  private captureInitialImages(): void {
    this.files = this.pmPaths.map((file, i) => {
      const name = this.names[i];
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file);
      } catch {
        throw usageError(`PM file ${name} does not exist when the first region begins`);
      }
      if (!stat.isFile()) throw usageError(`PM file ${name} is not a regular file`);
      // Nothing in an empty file can be traced (a store into its mapping
      // is a SIGBUS), so say so instead of reporting the crash.
      if (stat.size === 0)
        throw usageError(
          `PM file ${name} is empty when the first region begins; give it its full size before the region`,
        );
      return { path: file, name, size: stat.size, dev: stat.dev, ino: stat.ino };
    });
    this.fds = this.files.map((file) => fs.openSync(file.path, 'r'));
    this.tracked = this.files.map((file, fileId) => pageCacheTracks(file.path, this.fds[fileId], file.size));
    for (const file of this.files) this.writer.writeImage(file.path, file.size);
    this.writer.startEvents();
    this.image = new TraceImage(
      this.files.map((file) => file.size),
      (fileId, offset, into) => this.writer.readImage(fileId, offset, into),
    );
  }

  /** PM ranges are the MAP_SHARED mappings of PM files; stores through a
   *  MAP_PRIVATE mapping never reach the file (docs/architecture.md, "Terms"). A PM file
   *  is known by its device and inode, whatever name it was mapped through
   *  (a hard link, a bind mount); the path is compared only where the
   *  kernel shows another device in maps than stat() gives (btrfs
   *  subvolumes, overlayfs). */
  private refreshRanges(maps = readMaps(this.tracee.pid)): void {
    const ranges: NativePmRange[] = [];
    for (const entry of maps) {
      if (entry.perms[3] !== 's') continue;
      const dev = statDevice(entry.dev);
      const fileId = this.files.findIndex(
        (file) => file.ino === entry.inode && (file.dev === dev || samePath(file.path, entry.path)),
      );
      if (fileId < 0) continue;
      // Up to the file's end: past it a page may be mapped, but what is
      // stored there never reaches the file.
      const end = Math.min(entry.end, entry.start + (this.files[fileId].size - entry.offset));
      if (end > entry.start) ranges.push({ start: entry.start, end, fileId, fileOffset: entry.offset });
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

  private isProcMem(fd: number): boolean {
    try {
      return /^\/proc\/\d+\/(task\/\d+\/)?mem$/.test(fs.readlinkSync(`/proc/${this.tracee.pid}/fd/${fd}`));
    } catch {
      return false;
    }
  }

  /** Where a write of `effect` lands: the end of the file for an appending
   *  write (O_APPEND, RWF_APPEND), else the offset argument or the file
   *  position. Read before the syscall moves either. */
  private writeOffset(effect: Extract<SyscallEffect, { kind: 'write' }>): { offset: number; appends: boolean } {
    const info = fs.readFileSync(`/proc/${this.tracee.pid}/fdinfo/${effect.fd}`, 'utf8');
    const flags = parseInt(/flags:\s*([0-7]+)/.exec(info)?.[1] ?? '0', 8);
    const O_APPEND = 0o2000;
    const appends = effect.append === 'always' || (effect.append === 'fd' && (flags & O_APPEND) !== 0);
    if (appends) return { offset: fs.statSync(`/proc/${this.tracee.pid}/fd/${effect.fd}`).size, appends };
    return { offset: effect.offset ?? Number(/pos:\s*(\d+)/.exec(info)?.[1] ?? '0'), appends };
  }

  /** The 8-byte offset at `pointer` in the tracee; undefined if unreadable
   *  (the syscall then fails with EFAULT). */
  private readOffset(pointer: number): number | undefined {
    try {
      return Number(this.tracee.task.readMemory(pointer, 8).readBigInt64LE(0));
    } catch {
      return undefined;
    }
  }

  /** Where a syscall about to run will write PM file data: [file, offset]
   *  of the file its fd names, file -1 when it names none. */
  private target(effect: SyscallEffect): { fileId: number; offset: number; appends: boolean } {
    const none = { fileId: -1, offset: 0, appends: false };
    switch (effect.kind) {
      case 'write': {
        const fileId = this.fileOfFd(effect.fd);
        return fileId < 0 ? none : { fileId, ...this.writeOffset(effect) };
      }
      case 'transfer': {
        const fileId = this.fileOfFd(effect.outFd);
        if (fileId < 0) return none;
        // The kernel refuses these with an O_APPEND output (EINVAL, EBADF).
        const offset =
          effect.outPointer !== 0
            ? this.readOffset(effect.outPointer)
            : this.writeOffset({ kind: 'write', fd: effect.outFd, append: 'never' }).offset;
        return offset === undefined ? none : { fileId, offset, appends: false };
      }
      case 'fsync':
      case 'syncRange':
      case 'fallocate':
      case 'resize':
        return { ...none, fileId: this.fileOfFd(effect.fd) };
      default:
        return none;
    }
  }

  async syscall(stop: Extract<NativeStop, { kind: 'syscall' }>): Promise<NativeStop> {
    this.syscallThread = stop.thread !== 0 ? { thread: stop.thread } : {};
    const effect = syscallEffect(stop.nr, stop.args);
    const name = syscallName(stop.nr);
    if (effect.kind === 'refused') {
      throw usageError(
        `${name} at ${formatPtr(stop.address)} (instruction ${stop.index + 1}, inside a region) ${effect.why}; pmfit refuses to record it`,
      );
    }
    if (name === 'exit') {
      // a thread that ends inside its region: the region ends with it
      const open = this.openRegions.get(stop.thread);
      if (open) open.end = stop.index;
      this.openRegions.delete(stop.thread);
    }
    if (name === 'exit' || name === 'exit_group') {
      // no region end follows: the program's last writes are checked here
      this.check({
        kind: 'error',
        index: stop.index,
        when: `when the program exits inside a region (instruction ${stop.index})`,
      });
    }
    // a sync cleans dirty pages: keep them for the region's end first
    if (['fsync', 'syncRange', 'syncAll', 'msync', 'other', 'clone'].includes(effect.kind)) this.collectDirty();
    const { fileId, offset, appends } = this.target(effect);
    if (effect.kind === 'clone' && this.fileOfFd(effect.fd) >= 0) {
      throw usageError(
        `${name} at ${formatPtr(stop.address)} (instruction ${stop.index + 1}, inside a region) clones another file's blocks into PM file ${this.files[this.fileOfFd(effect.fd)].name}; pmfit refuses to record it`,
      );
    }
    // A write to /proc/PID/mem writes memory, PM perhaps, not a file.
    const memoryWrite = effect.kind === 'write' && fileId < 0 && this.isProcMem(effect.fd);
    const diff = (effect.kind === 'other' || effect.kind === 'clone' || memoryWrite) && this.ranges.length > 0;
    // Dropping page table entries (munmap, mremap, madvise) may drop the
    // marks of written pages with them: taken first.
    if (effect.kind === 'remap' || effect.kind === 'punch' || name === 'madvise') {
      if (!this.timed(() => this.written?.take(this.ranges, this.collected) ?? true)) this.unreadMarks = true;
    }
    // Syncs read and write no memory: the fast recorder keeps PM protected.
    const untouched = ['fsync', 'syncRange', 'syncAll', 'msync'].includes(effect.kind);
    const done = await this.tracee.stepSyscall(diff, untouched);
    if (done.kind !== 'syscallDone') return done;
    this.append(this.tracee.task.takeEvents());
    const result = done.result;
    if (effect.kind !== 'harmless' && effect.kind !== 'remap') {
      this.verifySizes(
        `by ${name} at ${formatPtr(stop.address)}, instruction ${done.index}${appends ? ', an appending write' : ''}`,
      );
    }
    const sync = (file: number, at: number, length: number): void => {
      const clipped = Math.min(length, this.files[file].size - at);
      if (clipped > 0)
        this.append(
          encodeEvent({
            ...this.syscallThread,
            kind: EventKind.Sync,
            index: done.index,
            address: stop.address,
            fileId: file,
            offset: at,
            length: clipped,
          }),
        );
    };
    const traceeFd = (fd: number): string => `/proc/${this.tracee.pid}/fd/${fd}`;
    switch (effect.kind) {
      case 'write':
        if (fileId >= 0 && result > 0)
          this.recordContent(fileId, traceeFd(effect.fd), offset, result, done.index, stop.address);
        break;
      case 'transfer':
        if (result >= 0) {
          if (fileId >= 0 && result > 0)
            this.recordContent(fileId, traceeFd(effect.outFd), offset, result, done.index, stop.address);
          // The kernel moves the offsets it was given past what it copied.
          for (const pointer of effect.pointers)
            if (pointer !== 0) this.recordMemory(pointer, 8, done.index, stop.address);
        }
        break;
      case 'fallocate': {
        const FALLOC_FL_PUNCH_HOLE = 0x02;
        const FALLOC_FL_ZERO_RANGE = 0x10;
        if (fileId >= 0 && result === 0 && effect.mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
          this.recordContent(fileId, traceeFd(effect.fd), effect.offset, effect.length, done.index, stop.address);
        }
        break;
      }
      case 'punch':
        if (result === 0) {
          for (const range of this.ranges) {
            const start = Math.max(range.start, effect.address);
            const end = Math.min(range.end, effect.address + effect.length);
            if (start < end)
              this.recordContent(
                range.fileId,
                this.files[range.fileId].path,
                range.fileOffset + (start - range.start),
                end - start,
                done.index,
                stop.address,
              );
          }
        }
        break;
      case 'fsync':
        if (fileId >= 0 && result === 0) sync(fileId, 0, this.files[fileId].size);
        break;
      case 'syncRange':
        if (fileId >= 0 && result === 0 && effect.durable)
          sync(fileId, effect.offset, effect.length === 0 ? this.files[fileId].size : effect.length);
        break;
      case 'syncAll':
        if (result === 0) {
          const dev = effect.fd === undefined ? undefined : fs.statSync(traceeFd(effect.fd)).dev;
          this.files.forEach((file, id) => {
            if (dev === undefined || file.dev === dev) sync(id, 0, file.size);
          });
        }
        break;
      case 'msync':
        if (result === 0) {
          for (const range of this.ranges) {
            const start = Math.max(range.start, effect.address);
            const end = Math.min(range.end, effect.address + effect.length);
            if (start < end) sync(range.fileId, range.fileOffset + (start - range.start), end - start);
          }
        }
        break;
      case 'remap':
        this.refreshRanges();
        this.timed(() => this.written?.watch(this.ranges));
        break;
      case 'resize':
      case 'harmless':
      case 'other':
      case 'clone':
        // resize: a size change was refused above, and an unchanged size
        // changes nothing; other, clone: the tracer compared the PM mappings.
        break;
    }
    return done;
  }

  /** verifySizes -- a PM file whose size changes during the run has crash
   *  images of other sizes than the trace's; refused (see docs/recording.md).
   *  `stats`: the files' stat()s, when the caller has them. */
  private verifySizes(when: string, stats = this.files.map((file) => statIfAny(file.path))): void {
    for (const [fileId, file] of this.files.entries()) {
      const stat = stats[fileId];
      // none: verifyPresent says so at the region boundary
      if (stat && stat.ino === file.ino && stat.dev === file.dev && stat.size !== file.size) {
        throw usageError(
          `PM file ${file.name} changed size from ${file.size} to ${stat.size} bytes (${when}); pmfit follows PM files of a fixed size: give the file its final size before the first region`,
        );
      }
    }
  }

  /** recordContent -- write events with the file's content in [offset,
   *  offset + length), as the kernel left it: data a syscall wrote, or
   *  zeros it put in place of what it freed. `source` reaches the file (the
   *  tracee's own descriptor reaches it even if its name is gone). */
  private recordContent(
    fileId: number,
    source: string,
    offset: number,
    length: number,
    index: number,
    address: number,
  ): void {
    const end = Math.min(offset + length, this.files[fileId].size);
    if (end <= offset) return;
    const fd = fs.openSync(source, 'r');
    try {
      for (let at = offset; at < end; at += CONTENT_CHUNK) {
        const data = Buffer.alloc(Math.min(CONTENT_CHUNK, end - at));
        for (let got = 0; got < data.length;) {
          const read = fs.readSync(fd, data, got, data.length - got, at + got);
          if (read === 0) break;
          got += read;
        }
        this.append(
          encodeEvent({
            ...this.syscallThread,
            kind: EventKind.Write,
            index,
            address,
            fileId,
            offset: at,
            length: data.length,
            data,
          }),
        );
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** recordMemory -- store events with the tracee's bytes at [pointer,
   *  pointer + length) where they are PM: memory the kernel wrote. */
  private recordMemory(pointer: number, length: number, index: number, address: number): void {
    for (const range of this.ranges) {
      const start = Math.max(range.start, pointer);
      const end = Math.min(range.end, pointer + length);
      if (start >= end) continue;
      const data = this.tracee.task.readMemory(start, end - start);
      this.append(
        encodeEvent({
          ...this.syscallThread,
          kind: EventKind.Store,
          index,
          address,
          fileId: range.fileId,
          offset: range.fileOffset + (start - range.start),
          length: data.length,
          data,
        }),
      );
    }
  }
}

/** statIfAny -- stat() of `file`, or undefined when it cannot be had. */
function statIfAny(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/** fileTimes -- mtime and ctime in nanoseconds: a write(2) or a first
 *  store to a written-back page of a mapping changes them. */
function fileTimes(fd: number): string {
  const stat = fs.fstatSync(fd, { bigint: true });
  return `${stat.mtimeNs}:${stat.ctimeNs}`;
}

/** readAt -- `length` bytes of fd at `position` into buffer (zeros past the end). */
function readAt(fd: number, buffer: Buffer, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const read = fs.readSync(fd, buffer, done, length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  buffer.fill(0, done, length);
}

/** statDevice -- maps' "major:minor" (hex) as stat() encodes st_dev
 *  (glibc's makedev: 12 bits of major and 8 of minor low, the rest high). */
function statDevice(column: string): number {
  const [major, minor] = column.split(':').map((part) => BigInt(parseInt(part, 16)));
  const dev = (minor & 0xffn) | ((major & 0xfffn) << 8n) | ((minor & ~0xffn) << 12n) | ((major & ~0xfffn) << 32n);
  return Number(dev);
}

function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return fs.realpathSync(a) === b;
  } catch {
    return false;
  }
}
