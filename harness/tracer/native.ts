// native -- typed view of the ptrace addon (native/), the contract between
// TypeScript and C++. Arguments are validated by Task (task.ts) before they
// cross; the addon throws plain Error objects with a one-line message.
//
// Every call on one NativeTask must come from the JavaScript thread that
// created it: ptrace requests are only accepted from the thread that attached
// the tracee (docs/architecture.md, "Native tracer rules").

import * as path from 'path';
import { installedPackage, projectRoot } from '../_internals/paths';
import { PmfitError } from '../_internals/errors';

/** Options for starting a tracee. The addon forks, pins parent thread and child
 *  to `cpu`, disables ASLR, sets PTRACE_O_EXITKILL and stops the child right
 *  after execve (PTRACE_EVENT_EXEC). */
export interface NativeSpawnOptions {
  /** Absolute path of the ELF executable. */
  file: string;
  /** argv[0..]; argv[0] is usually `file`. */
  argv: string[];
  /** Environment as "NAME=value" strings. */
  env: string[];
  cwd: string;
  /** CPU index for tracer thread and tracee; -1 leaves affinity alone. */
  cpu: number;
  /** File descriptors of this process to install as the tracee's 0, 1 and 2. */
  stdinFd: number;
  stdoutFd: number;
  stderrFd: number;
  /** Absolute paths of files the program and its children may not open
   *  for writing or truncate, by any path (native/user_file_guard.h);
   *  empty: no guard. */
  guardFiles: string[];
}

/** Breakpoint roles. */
export const enum BreakpointKind {
  /** Entry of pmfit_region_begin: the region starts when it returns. */
  RegionBegin = 0,
  /** Entry of pmfit_region_end: the region ends with the call that reaches it. */
  RegionEnd = 1,
  /** Entry of a --function: the region is that call, up to and including its ret. */
  Function = 2,
}

/** Instruction classification flags, decided by record/decode.ts. */
export const enum InsnFlag {
  NtStore = 1 << 0,
  Clflush = 1 << 1,
  Clflushopt = 1 << 2,
  Clwb = 1 << 3,
  /** sfence, mfence or a serializing instruction. */
  Fence = 1 << 4,
  /** Locked read-modify-write: a store that also orders like a fence. */
  Locked = 1 << 5,
  Syscall = 1 << 6,
  /** rep stos / rep movs: the written range is derived from rdi before and after. */
  RepString = 1 << 7,
  /** A write the tracer cannot follow (clzero): recording refuses the run. */
  Unsupported = 1 << 8,
  /** Writes rsp other than by `rspAdd` (leave, mov rsp, ...): the fence
   *  hunt forgets where the stack is. */
  RspOther = 1 << 9,
}

/** Registers usable in an address: x86 encoding order plus one, 0 = none.
 *  Add Reg32 for a 32-bit register (the value is then truncated to 32 bits);
 *  Reg16 only for a bit offset (MemKind.BitOffset), which is signed. */
export const enum Reg {
  None = 0,
  Rax = 1,
  Rcx,
  Rdx,
  Rbx,
  Rsp,
  Rbp,
  Rsi,
  Rdi,
  R8,
  R9,
  R10,
  R11,
  R12,
  R13,
  R14,
  R15,
  Reg32 = 32,
  Reg16 = 64,
}

/** Vector registers in NativeMemOperand: xmm/ymm/zmm by number (0..31),
 *  mm i as Mm + i. */
export const enum Vec {
  Mm = 32,
}

/** How the bytes a write operand writes follow from the operand and the
 *  registers before the step (native/ MemKind). Only Plain operands are
 *  `size` bytes at the address. */
export const enum MemKind {
  Plain = 0,
  /** bt{s,r,c} m, reg: `size` bytes at address + (bit offset >> log2(8 *
   *  size)) * size, the offset being the signed register `reg`. */
  BitOffset = 1,
  /** Element i (`elem` bytes) of the `size` bytes, if bit i of opmask
   *  register k`reg` is set (AVX-512 stores with {k}). */
  OpMask = 2,
  /** Element i, if the top bit of element i of vector register `reg` (a Vec)
   *  is set (vmaskmov*, vpmaskmov*, maskmovdqu, maskmovq). */
  VecMask = 3,
  /** As many elements as opmask k`reg` selects among size / elem, written
   *  contiguously from the address (vcompress*, vpcompress*). */
  Compress = 4,
  /** Element i at address + signed index i of vector register `vec` (elements
   *  of `indexElem` bytes) * scale, if bit i of k`reg` is set before the
   *  step; `count` elements (vpscatter*, vscatter*). */
  Scatter = 5,
  /** An xsave area at the address, laid out by CPUID leaf 0xd: standard
   *  format, every component of the requested-feature bitmap edx:eax & XCR0. */
  Xsave = 6,
  /** Standard format, only the components the header's XSTATE_BV marks as
   *  saved after the step (xsaveopt: init and modified optimizations). */
  XsaveOpt = 7,
  /** Compacted format (xsavec, xsaves), the saved components as XSTATE_BV
   *  marks them after the step. */
  XsaveCompact = 8,
}

export const enum Seg {
  None = 0,
  Fs = 1,
  Gs = 2,
}

/** One memory operand that the instruction writes (or flushes, for clflush*). */
export interface NativeMemOperand {
  base: number; // Reg
  index: number; // Reg
  scale: number; // 1, 2, 4, 8
  /** Displacement; for rip-relative operands the absolute address (base None). */
  disp: number;
  /** Bytes written (for flushes: 1, the line is derived by the tracer);
   *  for MemKind.Xsave* 0: the tracer lays the area out. */
  size: number;
  seg: number; // Seg
  /** The fields below are absent for MemKind.Plain; see MemKind. */
  kind?: number; // MemKind
  reg?: number;
  vec?: number;
  elem?: number;
  count?: number;
  indexElem?: number;
}

/** Where control goes after an instruction (native/insn.h InsnFlow): the
 *  fast recorder's fence hunt follows the direct ones (native/fence_hunt.h). */
export const enum InsnFlow {
  Next = 0,
  /** A conditional direct branch: `target` or the next instruction. */
  Branch = 1,
  /** A direct jmp to `target`. */
  Jump = 2,
  /** A direct call of `target`. */
  Call = 3,
  /** Anything else (far, interrupt, xbegin, syscall); also when absent. */
  Other = 4,
  /** A near ret: to the address at rsp. */
  Return = 5,
  /** A near jmp or call through `viaReg` or the 8 bytes at `via`. */
  Indirect = 6,
}

export interface NativeInsnInfo {
  length: number;
  flags: number; // InsnFlag bits
  writes: NativeMemOperand[];
  flow?: InsnFlow;
  /** Branch, Jump, Call: where it goes. */
  target?: number;
  /** Indirect: the memory operand holding the target (size 8)... */
  via?: NativeMemOperand;
  /** ...or the register (Reg) holding it. */
  viaReg?: number;
  /** rsp += rspAdd is the instruction's one write of rsp (absent: 0),
   *  unless its flags say RspOther. */
  rspAdd?: number;
  /** The general registers it may write, any part of them: bits
   *  1 << (Reg - 1) (absent: none). */
  gprWrites?: number;
}

/** The fields of a packed record (packInsns), in their order; `writes`
 *  and `via` hold how many operand records of theirs follow the record. */
const PACKED_INSN = ['length', 'flags', 'writes', 'flow', 'target', 'via', 'viaReg', 'rspAdd', 'gprWrites'] as const;
const PACKED_OPERAND = [
  'base',
  'index',
  'scale',
  'disp',
  'size',
  'seg',
  'kind',
  'reg',
  'vec',
  'elem',
  'count',
  'indexElem',
] as const;

/** NativeInsnInfo[] packed (packInsns): what a run of decodings crosses
 *  into C++ as, one Buffer where objects cross field by field. */
export type PackedInsns = Buffer & { readonly packed: unique symbol };

/** packInsns -- infos as the addon reads them at once (native/binding.cc
 *  PackedFields): float64s, a record per instruction (a mask of the fields
 *  present, bit i for PACKED_INSN[i], then their values in that order),
 *  after each its write operands and then its `via`, each a record of
 *  PACKED_OPERAND's fields the same way. */
export function packInsns(infos: readonly NativeInsnInfo[]): PackedInsns {
  const numbers: number[] = [];
  const record = (fields: readonly string[], values: Record<string, unknown>) => {
    const at = numbers.push(0) - 1;
    fields.forEach((name, bit) => {
      const value = values[name];
      if (value === undefined) return;
      numbers[at] += 2 ** bit;
      numbers.push(typeof value === 'number' ? value : name === 'writes' ? (value as unknown[]).length : 1);
    });
  };
  for (const info of infos) {
    record(PACKED_INSN, info as unknown as Record<string, unknown>);
    for (const write of info.writes) record(PACKED_OPERAND, write as unknown as Record<string, unknown>);
    if (info.via !== undefined) record(PACKED_OPERAND, info.via as unknown as Record<string, unknown>);
  }
  return Buffer.from(new Float64Array(numbers).buffer) as PackedInsns;
}

/** One PM mapping in the tracee: [start, end) maps file `fileId` at `fileOffset`. */
export interface NativePmRange {
  start: number;
  end: number;
  fileId: number;
  fileOffset: number;
}

export interface NativeResumeOptions {
  /** Stop with `stopAt` once the instruction index equals this value (-1: never).
   *  0 stops at the first region entry, before its first instruction. */
  stopAt: number;
  /** Stop with `maxSteps` once the index reaches this value. */
  maxSteps: number;
  /** Return `yield` after about this many single steps, so JavaScript can run. */
  budget: number;
  /** Record events (needs instruction info, reports syscalls and region edges). */
  record: boolean;
  /** Record mode: run regions at full speed between PM accesses (the fast
   *  recorder; indices then count the single steps around them). */
  fast?: boolean;
  /** A tracee running free outside regions is looked at once: `yield` when
   *  it has not stopped, so that JavaScript works meanwhile; the tracer
   *  thread leaves the tracee's CPU until the tracee stops. */
  poll?: boolean;
}

/** Why resume() or stepSyscall() returned. `index` is always the number of
 *  traced instructions completed so far. */
export type NativeStop =
  | { kind: 'exited'; index: number; thread: number; code: number; inRegion: boolean }
  | { kind: 'signaled'; index: number; thread: number; signal: number; inRegion: boolean; address: number }
  /** `address`: the instruction that would have run next. */
  | { kind: 'stopAt'; index: number; thread: number; address: number }
  | { kind: 'maxSteps'; index: number; thread: number; address: number }
  | { kind: 'yield'; index: number; thread: number; inRegion: boolean }
  /** A single step over a syscall has not finished within its slice (the
   *  syscall blocks); call the same function again to go on waiting. */
  | { kind: 'blocked'; index: number; thread: number; inRegion: boolean }
  /** record mode: instruction at `address` is unknown; call setInstruction and
   *  resume. `ahead`: it has not run, the fast recorder's fence hunt looks
   *  ahead at it: call setFlows instead (its bytes may end unreadable). */
  | { kind: 'decode'; index: number; thread: number; address: number; bytes: Buffer; ahead?: boolean }
  /** record mode: the next instruction is a syscall; call stepSyscall. */
  | { kind: 'syscall'; index: number; thread: number; address: number; nr: number; args: number[] }
  /** stepSyscall finished: `result` is rax after the syscall. */
  | { kind: 'syscallDone'; index: number; thread: number; result: number }
  /** record mode: a region was entered / left. */
  | { kind: 'regionBegin'; index: number; thread: number }
  | { kind: 'regionEnd'; index: number; thread: number }
  /** record mode: the event buffer is over its limit; call takeEvents. */
  | { kind: 'buffer'; index: number; thread: number }
  | {
      kind: 'unsupported';
      index: number;
      thread: number;
      /** exit-leader: the first thread ends alone (SYS_exit, pthread_exit
       *  in main) while other threads go on. */
      what: 'fork' | 'vfork' | 'clone' | 'exec' | 'exit-leader';
      inRegion: boolean;
      address: number;
    };

/** FastStops -- native/fast_stops.h: the fast recorder's stops of the
 *  tracee by cause (its single steps are the trace's instruction count). */
export interface FastStops {
  /** Accesses of protected PM: stores, and loads and flushes of PROT_NONE pages. */
  faults: number;
  /** Stores to private pages watched for the fence hunt (then unwatched). */
  watchFaults: number;
  /** Flushes stopped at their trap. */
  flushTraps: number;
  /** Stops at the fence hunt's int3s. */
  frontier: number;
  /** System calls taken back at their entry. */
  syscalls: number;
  /** mprotect calls made in the tracee. */
  mprotects: number;
  /** Stores to protected PM the tracer made itself (native/store_emulation.h):
   *  faults that cost no mprotect. */
  emulated: number;
}

export interface NativeTask {
  readonly pid: number;
  setBreakpoints(kind: BreakpointKind, addresses: number[]): void;
  /** The fast recorder's flush traps (native/breakpoints.h): the start of
   *  every clflush, clflushopt and clwb of the executable code, set at a
   *  region's start; `complete` false: not every one is proven, no traps. */
  setFlushSites(addresses: number[], complete: boolean): void;
  setPmRanges(ranges: NativePmRange[]): void;
  setInstruction(address: number, info: NativeInsnInfo): void;
  /** The decodings of code the fence hunt looks ahead at (a `decode` stop
   *  with `ahead`), one instruction after the other from `address`:
   *  neither recorded nor refused, as it has not run. */
  setFlows(address: number, infos: PackedInsns): void;
  /** Such decodings made before from `bytes` (a decode stop's there): the
   *  hunt learns them itself, without the stop, where the code at
   *  `address` is those bytes, readable exactly as far (native/fence_hunt.h
   *  FenceHunt::know). */
  knowRun(address: number, bytes: Buffer, infos: PackedInsns): void;
  resume(options: NativeResumeOptions): NativeStop;
  /** Single-step the pending syscall; with `diff`, compare every PM range
   *  before and after and record changed bytes as store events. */
  /** untouched: the syscall reads and writes no memory of the tracee (a
   *  sync): the fast recorder keeps PM protected across it. */
  stepSyscall(diff: boolean, untouched?: boolean): NativeStop;
  /** Drains recorded events (trace/format.ts describes the record layout). */
  takeEvents(): Buffer;
  readMemory(address: number, length: number): Buffer;
  /** SIGKILL the tracee and reap it. Idempotent. */
  kill(): void;
  /** One line per open of a guardFiles file refused so far (EACCES). */
  guardRefusals(): string[];
  /** The fast recorder's stops of the tracee so far, by cause. */
  fastStops(): FastStops;
  /** The processes the program has created so far: its fork and vfork
   *  events, of every thread, from its start on. */
  forks(): number;
  /** The seed of the thread schedule (threads.cc); set before resume(). */
  setScheduleSeed(seed: number): void;
  /** Watch the ranges for writes through the tracee's own mappings
   *  (native/written_pages.h; the tracee must be stopped): every page
   *  write-protected, to be reported once written. False when the kernel
   *  cannot (no userfaultfd write-protection or PAGEMAP_SCAN). */
  watchWrites(ranges: { start: number; end: number }[]): boolean;
  /** Start addresses of the pages of [start, end) written since they were
   *  watched or last taken; write-protects them again. */
  takeWrittenPages(start: number, end: number): number[];
  /** The call stack of the thread that last stopped, innermost first, at
   *  most `maxFrames` (1 to 4096); needs loadUnwinder first
   *  (native/unwinder.h). `caller`: a return address, not where the
   *  thread is. */
  stack(maxFrames: number): { address: number; caller: boolean }[];
}

export interface NativeBinding {
  Task: new (options: NativeSpawnOptions) => NativeTask;
  /** Pages (indexes) of [0, size) of open file fd whose page-cache folio
   *  is dirty: written since the last write-back (cachestat). */
  dirtyPages(fd: number, size: number): number[];
  /** Start writing every dirty page of fd back (sync_file_range, not waited
   *  for: a page under write-back still counts in dirtyPages). */
  writeBack(fd: number): void;
  /** The ranges [start, end) (flat, ascending) of [0, size) of open file
   *  fd outside its holes (SEEK_DATA, SEEK_HOLE), widened to whole
   *  `unit`-byte units and merged: every byte outside them is zero
   *  (native/nonzero_units.h). */
  dataRanges(fd: number, size: number, unit: number): number[];
  /** Read bytes [offset, offset + into.length) of open file fd into
   *  `into`; the runs [start, end) (flat, counted from offset, adjacent
   *  ones merged) of its `unit`-byte units that hold a non-zero byte.
   *  Bytes past the file's end count as zeros. */
  nonZeroUnits(fd: number, offset: number, into: Buffer, unit: number): number[];
  /** PR_SET_CHILD_SUBREAPER on this process: orphaned descendants are
   *  re-parented to it (harness/_internals/descendants.ts kills them). */
  becomeSubreaper(): void;
  /** Start the sentinel program (sentinelProgram, tracer/sentinel.ts)
   *  unknown to libuv, its stdin a pipe pmfit holds until it ends; its pid. */
  startSentinel(file: string, argv: string[], env: string[]): number;
  /** dlopen elfutils' libdw (a soname or path) for Task.stack: '' when it
   *  is ready, else why not, in one line. Once loaded, always ''. */
  loadUnwinder(library: string): string;
}

let binding: NativeBinding | undefined;

/** node-gyp-build's resolver: build/Release/ of a checkout or a source
 *  install first, then the prebuilt binary shipped in prebuilds/linux-x64/. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };

/** How to build the addon from source here. */
const BUILD_HINT = installedPackage
  ? 'build it from source with npm rebuild pmfit --build-from-source (needs g++, make, python3)'
  : 'run npm run build:native';

/** addonFile -- the addon node-gyp-build would load; throws PmfitError
 *  when there is none. */
function addonFile(): string {
  try {
    return nodeGypBuild.path(projectRoot);
  } catch {
    // A checkout that was never built, or an install without a prebuilt
    // binary for this system whose install script did not run (npm 11
    // runs a dependency's install script only once it is approved).
    throw new PmfitError(
      `the tracer addon is not built (no build/Release/pmfit_tracer.node or prebuilt binary in ${projectRoot}): ${BUILD_HINT}`,
    );
  }
}

/** sentinelProgram -- the sentinel program (native/sentinel_main.cc), built
 *  and shipped beside the addon; throws PmfitError without an addon. */
export function sentinelProgram(): string {
  return path.join(path.dirname(addonFile()), 'pmfit_sentinel');
}

export function loadNative(): NativeBinding {
  if (!binding) {
    const file = addonFile();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      binding = require(file) as NativeBinding;
    } catch (err) {
      // A build that failed half way, or a prebuilt binary this system cannot load.
      throw new PmfitError(
        `cannot load the tracer addon ${file}: ${(err as Error).message.split('\n')[0]}; ${BUILD_HINT}`,
      );
    }
  }
  return binding;
}
