// tracee -- the one object that owns a traced process (rr's Task): starts it
// under the native tracer, places the region breakpoints, drives it in
// slices that leave the event loop free (signals, progress, timeouts), and
// kills it on every way out.

import * as fs from 'fs';
import * as path from 'path';
import { PmfitError, usageError } from '../_internals/errors';
import { Deadline } from '../_internals/deadline';
import { ensureSentinel } from './sentinel';
import { onInterrupt, throwIfInterrupted } from '../_internals/interrupt';
import { findFunction } from '../elf/find-symbol';
import { loadBias } from '../elf/load-bias';
import { readMaps } from '../elf/proc-maps';
import { symbolContaining } from '../elf/symbol-containing';
import { type AddressLocation, Symbolizer } from '../elf/symbolizer';
import { formatPtr } from './remote-ptr';
import type { ResolvedCommand } from './resolve-command';
import { BreakpointKind, loadNative, NativeStop, NativeTask } from './native';
import { currentCpu } from './current-cpu';
import { signalName } from './signal-name';

export const MARKER_BEGIN = 'pmfit_region_begin';
export const MARKER_END = 'pmfit_region_end';

/** A pair of marker functions whose calls bound the traced regions. */
export interface Markers {
  begin: string;
  end: string;
  /** What the regions are, for messages ("region", "recovery region"). */
  what: string;
}

export const REGION_MARKERS: Markers = { begin: MARKER_BEGIN, end: MARKER_END, what: 'region' };
/** The recovery's own markers (pmfit.h), for crashes during recovery. */
export const RECOVERY_MARKERS: Markers = {
  begin: 'pmfit_recovery_begin',
  end: 'pmfit_recovery_end',
  what: 'recovery region',
};
export const DEFAULT_MAX_STEPS = 50_000_000;

/** Single steps per native call: about a second of tracing at most, so
 *  Ctrl-C and progress bars are served promptly. */
const SLICE_STEPS = 20_000;
/** Longest time between two turns of the event loop in a run (runSlices). */
const PAUSE_EVERY_MS = 100;
/** Stops after which the run goes on at once (yields pause anyway). */
const GOES_ON: ReadonlySet<NativeStop['kind']> = new Set(['syscall', 'decode', 'buffer', 'regionBegin', 'regionEnd']);

/** Most frames Tracee.stack unwinds (the addon's limit). */
export const MAX_STACK_FRAMES = 4096;

/** One frame of Tracee.stack: where it is, and whether `address` is a
 *  return address (`caller`: its call is the byte before) or where the
 *  thread is. */
export interface UnwoundFrame extends AddressLocation {
  address: number;
  caller: boolean;
}

/** The program ended without entering a region; `code` is its exit status
 *  (a recorder adds what it knows about the PM files to the message). */
export class NoRegionError extends PmfitError {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export interface TraceeOptions {
  command: ResolvedCommand;
  /** Trace every call of these functions instead of marker regions (a
   *  call made inside a region is part of it). */
  functions?: readonly string[];
  /** Seed of the thread schedule (native/scheduler.h); the same seed runs a
   *  multithreaded program in the same interleaving. Default 0. */
  scheduleSeed?: number;
  /** The markers of the regions (default: pmfit_region_begin/_end). */
  markers?: Markers;
  /** File descriptors for the tracee's stdout and stderr (default: ours). */
  stdoutFd?: number;
  stderrFd?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The user's own files (allcounts --pm): the program and every process
   *  it forks get EACCES when they open one for writing or truncate it,
   *  by whatever path, and the run ends in a one-line error naming the
   *  path the program used. */
  guardFiles?: string[];
}

export interface RunOptions {
  /** Stop when this many region instructions have run (crash point). */
  stopAt?: number;
  maxSteps?: number;
  /** Wall-clock limit for the whole run, in milliseconds. */
  timeoutMs?: number;
  record?: boolean;
  /** With record: the fast recorder (NativeResumeOptions.fast). */
  fast?: boolean;
}

/** Record-mode callbacks; each may be async. */
export interface RunHooks {
  onDecode?(stop: Extract<NativeStop, { kind: 'decode' }>): void;
  /** Must execute the syscall (stepSyscall) and return what that returned. */
  onSyscall?(stop: Extract<NativeStop, { kind: 'syscall' }>): Promise<NativeStop> | NativeStop;
  /** `thread`: the number of the thread that entered or left it (0: the
   *  first thread, then in order of creation). */
  onRegionBegin?(index: number, thread: number): Promise<void> | void;
  onRegionEnd?(index: number, thread: number): Promise<void> | void;
  onEvents?(records: Buffer): void;
  onProgress?(index: number): void;
  /** Work done while the program runs free to its first region, on the
   *  CPU the tracee leaves idle (the recorder's preload), a piece at a time
   *  (false: nothing left); nothing that a run needs, only what makes it
   *  faster: the pieces left when a region (or any stop) comes are not done. */
  whileFree?(): boolean;
}

/** How a run ended when nothing went wrong. */
export type RunEnd =
  | { kind: 'exited'; index: number; code: number; regions: number }
  | { kind: 'stopAt'; index: number; regions: number; address: number; thread: number };

export class Tracee {
  private readonly native: NativeTask;
  private readonly removeCleanup: () => void;
  private symbolizer?: Symbolizer;
  private regionsEntered = 0;
  private bias = 0;
  private dead = false;
  /** The current run's --timeout (undefined: none), in pmfit's running
   *  time: the tracee stands still while pmfit is stopped (Ctrl-Z). */
  private deadline: Deadline | undefined;

  private constructor(
    readonly options: TraceeOptions,
    stdinFd: number,
  ) {
    const { command } = options;
    ensureSentinel();
    // The run's mark (sentinel.ts), also when the caller made the
    // environment before the sentinel existed.
    const env = Object.entries({ PMFIT_RUN: process.env.PMFIT_RUN, ...(options.env ?? process.env) })
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => `${name}=${value}`);
    try {
      this.native = new (loadNative().Task)({
        file: command.file,
        argv: command.argv,
        env,
        cwd: options.cwd ?? process.cwd(),
        cpu: currentCpu(),
        stdinFd,
        stdoutFd: options.stdoutFd ?? 1,
        stderrFd: options.stderrFd ?? 2,
        guardFiles: (options.guardFiles ?? []).map((file) => path.resolve(file)),
      });
    } catch (err) {
      // The program was not started: the system refused (no descriptors,
      // no processes left, exec failed), an environment problem to report.
      throw usageError(`cannot start ${command.argv[0]}: ${(err as Error).message}`);
    }
    this.removeCleanup = onInterrupt(() => this.kill());
  }

  /** start -- run the command up to its first instruction and arm the regions. */
  static start(options: TraceeOptions): Tracee {
    // Tracees get an empty stdin: a target that reads it inside a region
    // would otherwise wait for the terminal forever.
    const stdinFd = fs.openSync('/dev/null', 'r');
    let tracee: Tracee;
    try {
      tracee = new Tracee(options, stdinFd);
    } finally {
      fs.closeSync(stdinFd);
    }
    try {
      tracee.native.setScheduleSeed(options.scheduleSeed ?? 0);
      tracee.armRegions();
    } catch (err) {
      tracee.kill();
      throw err;
    }
    return tracee;
  }

  get pid(): number {
    return this.native.pid;
  }

  get task(): NativeTask {
    return this.native;
  }

  private armRegions(): void {
    const { command, functions } = this.options;
    const maps = readMaps(this.pid);
    const bias = loadBias(maps, command.file, command.elf);
    this.bias = bias;
    const name = command.argv[0];
    const at = (symbol: string) => findFunction(command.elf, symbol).map((address) => address + bias);
    if (functions !== undefined && functions.length > 0) {
      const entries = functions.flatMap((functionName) => {
        const found = at(functionName);
        if (found.length === 0) {
          // A stripped program keeps only its exported (dynamic) symbols, so
          // "not found" would blame the name when the missing table is the cause.
          throw usageError(
            command.elf.hasSymtab
              ? `function ${functionName} not found in ${name}`
              : `function ${functionName} not found: ${name} is stripped (no symbol table) and --function needs symbols; rebuild it without stripping`,
          );
        }
        return found;
      });
      this.native.setBreakpoints(BreakpointKind.Function, [...new Set(entries)]);
      return;
    }
    const markers = this.options.markers ?? REGION_MARKERS;
    const begins = at(markers.begin);
    const ends = at(markers.end);
    if (begins.length === 0 || ends.length === 0) {
      if (!command.elf.hasSymtab) {
        throw usageError(
          `${name} is stripped: pmfit finds ${markers.begin} and --function by symbol; rebuild it without stripping`,
        );
      }
      if (markers !== REGION_MARKERS) {
        throw usageError(
          `${name} has no ${markers.what} markers (${markers.begin}): include pmfit.h and call ${markers.begin}()/${markers.end}() around the recovery, or pass --recover-function NAME`,
        );
      }
      throw usageError(
        `${name} has no region markers (${MARKER_BEGIN}): include pmfit.h and call ${MARKER_BEGIN}()/${MARKER_END}() around the code to test, or pass --function NAME`,
      );
    }
    this.native.setBreakpoints(BreakpointKind.RegionBegin, begins);
    this.native.setBreakpoints(BreakpointKind.RegionEnd, ends);
  }

  /** describe -- "tree_insert+0x2a (/path/tree)" for messages and traces. */
  describe(address: number): string {
    const where = this.locate(address);
    const symbol = where.symbol ? `${where.symbol}+0x${(where.symbolOffset ?? 0).toString(16)}` : formatPtr(address);
    return `${symbol} (${where.module})`;
  }

  /** stack -- the call stack where the tracee stopped (a stopAt stop),
   *  innermost first, each frame located in its module; needs
   *  unwinding() to be available (unwinding.ts). */
  stack(maxFrames: number): UnwoundFrame[] {
    if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > MAX_STACK_FRAMES)
      throw new PmfitError(`stack: maxFrames must be an integer from 1 to ${MAX_STACK_FRAMES}, not ${maxFrames}`);
    return this.native.stack(maxFrames).map((frame) => ({ ...this.locate(frame.address), ...frame }));
  }

  locate(address: number): ReturnType<Symbolizer['describe']> {
    if (!this.symbolizer || !this.symbolizer.covers(address)) {
      this.symbolizer = new Symbolizer(readMaps(this.pid));
    }
    return this.symbolizer.describe(address);
  }

  /** run -- drive the tracee until it exits or reaches stopAt; every other
   *  ending is a PmfitError naming what happened. */
  async run(options: RunOptions, hooks: RunHooks = {}): Promise<RunEnd> {
    const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.deadline = options.timeoutMs !== undefined ? new Deadline(options.timeoutMs) : undefined;
    try {
      const end = await this.runSlices(options, maxSteps, hooks);
      this.throwIfRefused();
      return end;
    } catch (err) {
      // A refused open usually ends the program early (it sees EACCES):
      // the refusal, not the exit it caused, is what to report.
      this.throwIfRefused();
      throw err;
    } finally {
      this.deadline?.cancel();
      this.deadline = undefined;
    }
  }

  /** throwIfRefused -- the guard's first refusal (TraceeOptions.guardFiles)
   *  as the run's one-line error. */
  private throwIfRefused(): void {
    const [refusal] = this.native.guardRefusals();
    if (refusal === undefined) return;
    this.kill();
    throw usageError(
      `${refusal}: pmfit refused it (EACCES), the program must write only the copy pmfit gives it; ` +
        'name the PM file in --cmd, for example --cmd "prog {file}"',
    );
  }

  private async runSlices(options: RunOptions, maxSteps: number, hooks: RunHooks): Promise<RunEnd> {
    const resumeOptions = {
      stopAt: options.stopAt ?? -1,
      maxSteps,
      budget: SLICE_STEPS,
      record: options.record ?? false,
      fast: (options.record ?? false) && (options.fast ?? false),
    };
    // Stops other than yields (a region's system calls, decodes, full event
    // buffers) can follow each other without end: the event loop, and with
    // it --timeout and Ctrl-C / SIGTERM, gets its turn at least this often.
    let lastPause = performance.now();
    const pauseIfDue = async (index: number) => {
      if (performance.now() - lastPause < PAUSE_EVERY_MS) return;
      await this.pause(index);
      lastPause = performance.now();
    };
    let free = this.regionsEntered === 0 && hooks.whileFree !== undefined;
    for (;;) {
      let stop = this.native.resume(free ? { ...resumeOptions, poll: true } : resumeOptions);
      free = free && stop.kind === 'yield' && (hooks.whileFree?.() ?? false);
      if (GOES_ON.has(stop.kind)) await pauseIfDue(stop.index);
      if (stop.kind === 'syscall') {
        const after = await hooks.onSyscall?.(stop);
        if (!after || after.kind === 'syscallDone') continue;
        stop = after;
      }
      switch (stop.kind) {
        case 'yield':
        case 'blocked':
          hooks.onProgress?.(stop.index);
          await this.pause(stop.index);
          continue;
        case 'decode':
          hooks.onDecode?.(stop);
          continue;
        case 'buffer':
          hooks.onEvents?.(this.native.takeEvents());
          continue;
        case 'regionBegin':
          this.regionsEntered += 1;
          await hooks.onRegionBegin?.(stop.index, stop.thread);
          continue;
        case 'regionEnd':
          await hooks.onRegionEnd?.(stop.index, stop.thread);
          continue;
        default:
          break;
      }
      hooks.onEvents?.(this.native.takeEvents());
      stop = stop as Exclude<
        NativeStop,
        { kind: 'yield' | 'blocked' | 'decode' | 'buffer' | 'regionBegin' | 'regionEnd' | 'syscall' }
      >;
      return this.finish(stop, maxSteps, resumeOptions.fast);
    }
  }

  /** stepSyscall -- execute the pending syscall (record mode); while it
   *  blocks, the event loop runs and Ctrl-C and the --timeout apply. */
  async stepSyscall(diff: boolean, untouched = false): Promise<NativeStop> {
    for (;;) {
      const stop = this.native.stepSyscall(diff, untouched);
      if (stop.kind !== 'blocked') return stop;
      await this.pause(stop.index);
    }
  }

  /** pause -- between two slices of a run: let the event loop serve
   *  signals and timers, then stop on Ctrl-C or past the --timeout. */
  private async pause(index: number): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    throwIfInterrupted();
    if (this.deadline?.expired()) {
      this.kill();
      throw usageError(
        `${this.options.command.argv[0]} timed out after ${this.deadline.ms} ms (--timeout) at instruction ${index}`,
      );
    }
  }

  private finish(
    stop: Exclude<
      NativeStop,
      { kind: 'yield' | 'blocked' | 'decode' | 'buffer' | 'regionBegin' | 'regionEnd' | 'syscall' }
    >,
    maxSteps: number,
    /** The fast recorder ran: --max-steps counted its single steps. */
    fast: boolean,
  ): RunEnd {
    const name = this.options.command.argv[0];
    switch (stop.kind) {
      case 'stopAt':
        return {
          kind: 'stopAt',
          index: stop.index,
          regions: this.regionsEntered,
          address: stop.address,
          thread: stop.thread,
        };
      case 'exited':
        this.markDead();
        if (stop.inRegion) {
          throw usageError(
            `${name} exited (status ${stop.code}) inside a region after ${stop.index} instructions; a region must reach ${(this.options.markers ?? REGION_MARKERS).end}() or return`,
          );
        }
        // (the fast recorder may enter regions and step nothing in them)
        if (stop.index === 0 && this.regionsEntered === 0) {
          throw new NoRegionError(
            `${name} exited with status ${stop.code} before reaching a region (${this.options.functions?.length ? this.options.functions.join(' or ') : (this.options.markers ?? REGION_MARKERS).begin} was not called)`,
            stop.code,
          );
        }
        return { kind: 'exited', index: stop.index, code: stop.code, regions: this.regionsEntered };
      case 'signaled': {
        this.markDead();
        const where = stop.inRegion
          ? `inside a region at ${formatPtr(stop.address)} in ${this.describeDead(stop.address)}`
          : 'outside any region';
        throw usageError(`${name} was killed by ${signalName(stop.signal)} ${where} after ${stop.index} instructions`);
      }
      case 'maxSteps':
        this.kill();
        throw usageError(
          fast
            ? `runaway region: ${name} made more than ${maxSteps} single steps of the fast recorder (--max-steps, which counts only those; --exact counts instructions) at ${formatPtr(stop.address)}`
            : `runaway region: ${name} ran more than ${maxSteps} instructions (--max-steps) at ${formatPtr(stop.address)}`,
        );
      case 'unsupported': {
        this.kill();
        if (stop.what === 'exit-leader')
          throw usageError(
            `${name}'s main thread ended alone (pthread_exit or the exit system call at ${formatPtr(stop.address)}) while its other threads go on: not supported; join them and return from main, or call exit()`,
          );
        const where = stop.inRegion ? 'inside a region' : 'while traced';
        throw usageError(`${name} called ${stop.what} ${where} at ${formatPtr(stop.address)}: not supported`);
      }
      case 'syscallDone':
        throw new PmfitError('tracer returned syscallDone from resume');
    }
  }

  /** The process is gone, and its maps with it: name the address from the
   *  main executable's symbols and the load bias found at start. */
  private describeDead(address: number): string {
    const { command } = this.options;
    const hit = symbolContaining(command.elf, address - this.bias);
    return hit ? `${hit.name}+0x${hit.offset.toString(16)} (${command.file})` : command.file;
  }

  private markDead(): void {
    this.dead = true;
    this.removeCleanup();
  }

  /** kill -- SIGKILL the tracee (a simulated crash) and reap it. */
  kill(): void {
    if (!this.dead) {
      this.native.kill();
      this.markDead();
    }
  }
}
