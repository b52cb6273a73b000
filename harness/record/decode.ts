// decode -- what one x86-64 instruction does to memory, in the terms the
// native tracer understands (NativeInsnInfo): the operands it writes, and
// whether it is a non-temporal store, a flush, a fence, a locked
// read-modify-write, a syscall or a rep string instruction.
//
// The tracer asks once per distinct instruction address, so decoding is not
// hot, but a trace has thousands of them: the iced-x86 objects that can be
// reused (formatter, info factory, instruction) are created once, on first
// use, and the per-call ones (decoder, info, used-memory entries) are freed
// at once, because iced-x86 lives in WebAssembly memory that the JavaScript
// garbage collector does not see.

import type * as Iced from 'iced-x86';
import type { NativeInsnInfo, NativeMemOperand } from '../tracer/native';
import { InsnFlag, Reg, Seg } from '../tracer/native';

export interface DecodedInstruction {
  info: NativeInsnInfo;
  /** Disassembly in NASM syntax, e.g. "mov qword [rax+8], rdx". */
  text: string;
  /** Bare lower-case mnemonic without prefixes, e.g. "stosb" for "rep stosb". */
  mnemonic: string;
  length: number;
}

/** The iced-x86 module and the objects shared by every call. */
interface IcedState {
  iced: typeof Iced;
  formatter: Iced.Formatter;
  factory: Iced.InstructionInfoFactory;
  instruction: Iced.Instruction;
  ntStores: Set<Iced.Mnemonic>;
  serializing: Set<Iced.Mnemonic>;
  serializingCodes: Set<Iced.Code>;
  writeAccesses: Set<Iced.OpAccess>;
}

let state: IcedState | undefined;

/** Loaded on first use: commands that never record need no WebAssembly. */
function icedState(): IcedState {
  if (state) return state;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const iced = require('iced-x86') as typeof Iced;
  const { Mnemonic: M, Code: C, OpAccess: A } = iced;
  const formatter = new iced.Formatter(iced.FormatterSyntax.Nasm);
  formatter.hexPrefix = '0x';
  formatter.hexSuffix = '';
  formatter.spaceAfterOperandSeparator = true;
  formatter.memorySizeOptions = iced.MemorySizeOptions.Always;
  state = {
    iced,
    formatter,
    factory: new iced.InstructionInfoFactory(),
    instruction: new iced.Instruction(),
    // Stores that bypass the cache: pending until the next fence (docs/models.md, px86).
    // movntdqa / vmovntdqa are loads and are not here.
    ntStores: new Set([
      M.Movnti, M.Movntdq, M.Movntps, M.Movntpd, M.Movntq, M.Movntss, M.Movntsd,
      M.Vmovntdq, M.Vmovntps, M.Vmovntpd,
      M.Maskmovdqu, M.Vmaskmovdqu, M.Maskmovq,
      M.Movdiri, M.Movdir64b,
    ]),
    // Serializing instructions drain the store buffer like mfence. lfence does
    // not order stores and is deliberately absent. Most of these are
    // privileged; they are listed so a trace of odd code stays correct.
    serializing: new Set([
      M.Sfence, M.Mfence,
      M.Cpuid, M.Serialize, M.Iret, M.Iretd, M.Iretq, M.Rsm,
      M.Wbinvd, M.Wbnoinvd, M.Invd, M.Invlpg, M.Invpcid,
      M.Lgdt, M.Lidt, M.Lldt, M.Ltr, M.Wrmsr, M.Xsetbv,
    ]),
    // mov to a control or debug register serializes; mov from one does not.
    serializingCodes: new Set([C.Mov_cr_r32, C.Mov_cr_r64, C.Mov_dr_r32, C.Mov_dr_r64]),
    writeAccesses: new Set([A.Write, A.CondWrite, A.ReadWrite, A.ReadCondWrite]),
  };
  return state;
}

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

/** Reg code of a general-purpose register, Reg.Reg32 added for 32-bit ones;
 *  undefined for anything the tracer cannot read (vector, rip, 16-bit). */
function gprCode(iced: typeof Iced, register: Iced.Register): number | undefined {
  const { Register: R } = iced;
  if (register === R.None) return Reg.None;
  if (register >= R.RAX && register <= R.R15) return register - R.RAX + Reg.Rax;
  if (register >= R.EAX && register <= R.R15D) return register - R.EAX + Reg.Rax + Reg.Reg32;
  return undefined;
}

function segCode(iced: typeof Iced, register: Iced.Register): number {
  if (register === iced.Register.FS) return Seg.Fs;
  if (register === iced.Register.GS) return Seg.Gs;
  return Seg.None; // cs, ds, es, ss have base 0 in 64-bit mode
}

/** decodeInstruction -- classify the instruction at the start of `bytes`,
 *  which sits at `address` in the tracee (rip-relative operands are resolved
 *  against it). Throws when the bytes are no valid instruction. */
export function decodeInstruction(bytes: Uint8Array, address: number): DecodedInstruction {
  const s = icedState();
  const { iced, instruction } = s;
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  try {
    decoder.ip = BigInt(address);
    decoder.decodeOut(instruction);
  } finally {
    decoder.free();
  }
  if (instruction.isInvalid) {
    throw new Error(`cannot decode instruction at 0x${address.toString(16)}: ${hexBytes(bytes)}`);
  }

  const M = iced.Mnemonic;
  const mnemonic = instruction.mnemonic;
  let flags = 0;
  if (s.ntStores.has(mnemonic)) flags |= InsnFlag.NtStore;
  if (s.serializing.has(mnemonic) || s.serializingCodes.has(instruction.code)) flags |= InsnFlag.Fence;
  if (mnemonic === M.Syscall || mnemonic === M.Sysenter || (mnemonic === M.Int && instruction.immediate8 === 0x80)) {
    flags |= InsnFlag.Syscall;
  }
  const flush = mnemonic === M.Clflush ? InsnFlag.Clflush
    : mnemonic === M.Clflushopt ? InsnFlag.Clflushopt
    : mnemonic === M.Clwb ? InsnFlag.Clwb
    : 0;
  flags |= flush;
  // clzero writes a whole line at rax rounded down, which no operand expresses.
  if (mnemonic === M.Clzero) flags |= InsnFlag.Unsupported;

  const writes: NativeMemOperand[] = [];
  const info = s.factory.infoOptions(instruction, iced.InstructionInfoOptions.NoRegisterUsage);
  try {
    for (const used of info.usedMemory() as Iced.UsedMemory[]) {
      try {
        if (!flush && !s.writeAccesses.has(used.access)) continue;
        const operand = memOperand(s, instruction, used, flush !== 0);
        if (operand) writes.push(operand);
        else flags |= InsnFlag.Unsupported;
      } finally {
        used.free();
      }
    }
  } finally {
    info.free();
  }

  if (writes.length > 0) {
    // xchg with memory is locked whether or not it carries the prefix.
    if (instruction.hasLockPrefix || mnemonic === M.Xchg) flags |= InsnFlag.Locked;
    const rep = instruction.hasRepPrefix || instruction.hasRepePrefix || instruction.hasRepnePrefix;
    if (rep && instruction.isStringInstruction) flags |= InsnFlag.RepString;
  }

  return {
    info: { length: instruction.length, flags, writes },
    text: s.formatter.format(instruction),
    mnemonic: (M[mnemonic] ?? 'unknown').toLowerCase(),
    length: instruction.length,
  };
}

/** One used-memory entry as a tracer operand; undefined when the tracer cannot
 *  compute its address or size (vector index of a scatter, xsave's
 *  CPU-dependent size, ...). */
function memOperand(s: IcedState, instruction: Iced.Instruction, used: Iced.UsedMemory, flush: boolean): NativeMemOperand | undefined {
  const { iced } = s;
  const base = gprCode(iced, used.base);
  const index = gprCode(iced, used.index);
  if (base === undefined || index === undefined) return undefined;
  let size = flush ? 1 : iced.MemorySizeExt.size(used.memorySize);
  // With a rep prefix iced reports the whole operand as of unknown size; the
  // tracer wants one element, the instruction's own memory size.
  if (size === 0 && instruction.isStringInstruction) size = iced.MemorySizeExt.size(instruction.memorySize);
  if (size === 0) return undefined;
  // iced gives displacements as unsigned 64-bit values, and with 32-bit
  // addressing as unsigned 32-bit ones: reinterpret them as signed so that
  // [rbx-16] reads -16. A 32-bit address (Reg32) is computed modulo 2^32 by
  // the tracer. Rip-relative operands arrive already absolute with base None.
  const addr32 = (base & Reg.Reg32) !== 0 || (index & Reg.Reg32) !== 0;
  const disp = Number(addr32 ? BigInt.asIntN(32, used.displacement) : BigInt.asIntN(64, used.displacement));
  // Only a 64-bit absolute (mov moffs64) can be this far out; such an address
  // is not canonical in user space and the store faults instead.
  if (!Number.isSafeInteger(disp)) return undefined;
  return { base, index, scale: used.scale, disp, size, seg: segCode(iced, used.segment) };
}
