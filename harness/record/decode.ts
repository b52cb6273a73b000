// decode -- what one x86-64 instruction does to memory, in the terms the
// native tracer understands (NativeInsnInfo): the operands it writes (and
// for those whose bytes are not simply the operand, how the tracer finds
// them: MemKind), and whether it is a non-temporal store, a flush, a fence,
// a locked read-modify-write, a syscall or a rep string instruction.
//
// The tracer asks once per distinct instruction address, so decoding is not
// hot, but a trace has thousands of them: the iced-x86 objects that can be
// reused (formatter, info factory, instruction) are created once, on first
// use, and the per-call ones (decoder, info, used-memory entries) are freed
// at once, because iced-x86 lives in WebAssembly memory that the JavaScript
// garbage collector does not see.

import type * as Iced from 'iced-x86';
import { loadIced } from '../_internals/iced';
import type { NativeInsnInfo, NativeMemOperand } from '../tracer/native';
import { InsnFlag, InsnFlow, MemKind, Reg, Seg, Vec } from '../tracer/native';

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
  /** Store forms of these write the elements a vector register's top bits select. */
  vecMasked: Set<Iced.Mnemonic>;
  compress: Set<Iced.Mnemonic>;
  bitOffset: Set<Iced.Mnemonic>;
  xsave: Map<Iced.Mnemonic, MemKind>;
  /** Codes seen to write nothing the tracer follows when they have no
   *  memory operand (hasMemoryOperand). */
  quiet: Set<Iced.Code>;
  /** Stack instructions whose stack pointer increment is their one write
   *  of rsp (but a pop into rsp): rspEffect. */
  stackMoves: Set<Iced.Mnemonic>;
  /** add and sub of an immediate to a 64-bit register or memory. */
  addImm: Set<Iced.Code>;
  subImm: Set<Iced.Code>;
}

let state: IcedState | undefined;

/** Loaded on first use: commands that never record need no WebAssembly. */
function icedState(): IcedState {
  if (state) return state;
  const iced = loadIced();
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
      M.Movnti,
      M.Movntdq,
      M.Movntps,
      M.Movntpd,
      M.Movntq,
      M.Movntss,
      M.Movntsd,
      M.Vmovntdq,
      M.Vmovntps,
      M.Vmovntpd,
      M.Maskmovdqu,
      M.Vmaskmovdqu,
      M.Maskmovq,
      M.Movdiri,
      M.Movdir64b,
    ]),
    // Serializing instructions drain the store buffer like mfence. lfence does
    // not order stores and is deliberately absent. Most of these are
    // privileged; they are listed so a trace of odd code stays correct.
    serializing: new Set([
      M.Sfence,
      M.Mfence,
      M.Cpuid,
      M.Serialize,
      M.Iret,
      M.Iretd,
      M.Iretq,
      M.Rsm,
      M.Wbinvd,
      M.Wbnoinvd,
      M.Invd,
      M.Invlpg,
      M.Invpcid,
      M.Lgdt,
      M.Lidt,
      M.Lldt,
      M.Ltr,
      M.Wrmsr,
      M.Xsetbv,
    ]),
    // mov to a control or debug register serializes; mov from one does not.
    serializingCodes: new Set([C.Mov_cr_r32, C.Mov_cr_r64, C.Mov_dr_r32, C.Mov_dr_r64]),
    writeAccesses: new Set([A.Write, A.CondWrite, A.ReadWrite, A.ReadCondWrite]),
    vecMasked: new Set([
      M.Vmaskmovps,
      M.Vmaskmovpd,
      M.Vpmaskmovd,
      M.Vpmaskmovq,
      M.Maskmovdqu,
      M.Vmaskmovdqu,
      M.Maskmovq,
    ]),
    compress: new Set([M.Vcompressps, M.Vcompresspd, M.Vpcompressb, M.Vpcompressw, M.Vpcompressd, M.Vpcompressq]),
    // bt only reads; its register form addresses the same way.
    bitOffset: new Set([M.Bts, M.Btr, M.Btc]),
    xsave: new Map([
      [M.Xsave, MemKind.Xsave],
      [M.Xsave64, MemKind.Xsave],
      [M.Xsaveopt, MemKind.XsaveOpt],
      [M.Xsaveopt64, MemKind.XsaveOpt],
      [M.Xsavec, MemKind.XsaveCompact],
      [M.Xsavec64, MemKind.XsaveCompact],
      [M.Xsaves, MemKind.XsaveCompact],
      [M.Xsaves64, MemKind.XsaveCompact],
    ]),
    quiet: new Set(),
    stackMoves: new Set([M.Push, M.Pop, M.Call, M.Ret, M.Pushfq, M.Popfq]),
    addImm: new Set([C.Add_rm64_imm8, C.Add_rm64_imm32]),
    subImm: new Set([C.Sub_rm64_imm8, C.Sub_rm64_imm32]),
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

/** gprCode of a 16-bit register too, with Reg.Reg16 added (bit offsets only). */
function bitOffsetCode(iced: typeof Iced, register: Iced.Register): number | undefined {
  const { Register: R } = iced;
  if (register >= R.AX && register <= R.R15W) return register - R.AX + Reg.Rax + Reg.Reg16;
  return register === R.None ? undefined : gprCode(iced, register);
}

/** Number of an xmm/ymm/zmm register (0..31), Vec.Mm + i for mm i, and its
 *  width in bytes; undefined for anything else. */
function vectorRegister(iced: typeof Iced, register: Iced.Register): { vec: number; width: number } | undefined {
  const { Register: R } = iced;
  if (register >= R.XMM0 && register <= R.XMM31) return { vec: register - R.XMM0, width: 16 };
  if (register >= R.YMM0 && register <= R.YMM31) return { vec: register - R.YMM0, width: 32 };
  if (register >= R.ZMM0 && register <= R.ZMM31) return { vec: register - R.ZMM0, width: 64 };
  if (register >= R.MM0 && register <= R.MM7) return { vec: register - R.MM0 + Vec.Mm, width: 8 };
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
  return {
    info: classify(s, instruction, bytes),
    text: s.formatter.format(instruction),
    mnemonic: (iced.Mnemonic[instruction.mnemonic] ?? 'unknown').toLowerCase(),
    length: instruction.length,
  };
}

/** classify -- the decoded instruction (whose bytes `code` starts with) in
 *  the tracer's terms. */
function classify(s: IcedState, instruction: Iced.Instruction, code: Uint8Array): NativeInsnInfo {
  const { iced } = s;
  const M = iced.Mnemonic;
  const mnemonic = instruction.mnemonic;
  let flags = 0;
  if (s.ntStores.has(mnemonic)) flags |= InsnFlag.NtStore;
  if (s.serializing.has(mnemonic) || s.serializingCodes.has(instruction.code)) flags |= InsnFlag.Fence;
  if (mnemonic === M.Syscall || mnemonic === M.Sysenter || (mnemonic === M.Int && instruction.immediate8 === 0x80)) {
    flags |= InsnFlag.Syscall;
  }
  const flush =
    mnemonic === M.Clflush
      ? InsnFlag.Clflush
      : mnemonic === M.Clflushopt
        ? InsnFlag.Clflushopt
        : mnemonic === M.Clwb
          ? InsnFlag.Clwb
          : 0;
  flags |= flush;
  // clzero writes a whole line at rax rounded down, which no operand expresses.
  if (mnemonic === M.Clzero) flags |= InsnFlag.Unsupported;

  const writes: NativeMemOperand[] = [];
  const operandless = !flush && !hasMemoryOperand(iced, instruction);
  if (!operandless || !s.quiet.has(instruction.code)) {
    let unfollowed = false;
    const info = s.factory.infoOptions(instruction, iced.InstructionInfoOptions.NoRegisterUsage);
    try {
      for (const used of info.usedMemory() as Iced.UsedMemory[]) {
        try {
          if (!flush && !s.writeAccesses.has(used.access)) continue;
          const operand = memOperand(s, instruction, used, flush !== 0);
          if (operand) writes.push(operand);
          else unfollowed = true;
        } finally {
          used.free();
        }
      }
    } finally {
      info.free();
    }
    if (unfollowed) flags |= InsnFlag.Unsupported;
    else if (operandless && writes.length === 0) s.quiet.add(instruction.code);
  }

  if (writes.length > 0) {
    // xchg with memory is locked whether or not it carries the prefix.
    if (instruction.hasLockPrefix || mnemonic === M.Xchg) flags |= InsnFlag.Locked;
    const rep = instruction.hasRepPrefix || instruction.hasRepePrefix || instruction.hasRepnePrefix;
    if (rep && instruction.isStringInstruction) flags |= InsnFlag.RepString;
  }

  // A branch with an operand-size prefix has 16-bit operands on AMD and
  // 64-bit ones on Intel: followed nowhere, whichever CPU runs it.
  const next = flowOf(iced, instruction);
  const flow = next.flow !== InsnFlow.Next && operandSizePrefixed(code) ? { flow: InsnFlow.Other } : next;
  const effect = rspEffect(s, instruction);
  // the tracer takes a 32-bit increment (sub rsp, imm32 negated may not fit)
  const rsp = effect !== undefined && Math.abs(effect) < 2 ** 31 ? effect : undefined;
  if (rsp === undefined) flags |= InsnFlag.RspOther;
  const gpr = gprWrites(s, instruction);
  return {
    length: instruction.length,
    flags,
    writes,
    ...flow,
    ...(rsp ? { rspAdd: rsp } : {}),
    ...(gpr ? { gprWrites: gpr } : {}),
  };
}

/** gprWrites -- the general registers the instruction may write, any part
 *  of them, named or implied (lods's rax and rsi, mul's rdx, syscall's
 *  rcx), as bits 1 << (Reg - 1): the fence hunt follows an indirect branch
 *  through registers no instruction of its path since the plan wrote
 *  (native/fence_hunt.h). */
function gprWrites(s: IcedState, instruction: Iced.Instruction): number {
  const { iced } = s;
  let bits = 0;
  const info = s.factory.infoOptions(instruction, iced.InstructionInfoOptions.NoMemoryUsage);
  try {
    for (const used of info.usedRegisters() as Iced.UsedRegister[]) {
      try {
        if (!s.writeAccesses.has(used.access)) continue;
        const reg = gprCode(iced, iced.RegisterExt.fullRegister(used.register));
        if (reg !== undefined && reg !== Reg.None) bits |= 1 << (reg - Reg.Rax);
      } finally {
        used.free();
      }
    }
  } finally {
    info.free();
  }
  return bits;
}

/** rspEffect -- how the instruction moves rsp, for the fence hunt's
 *  tracking of return addresses (native/fence_hunt.h): 0 when it does not
 *  write rsp, the increment when that is its one write of rsp (push, pop,
 *  call, ret, pushfq, popfq; add or sub of an immediate; lea rsp,
 *  [rsp+disp]), undefined when it writes rsp any other way or may (leave,
 *  enter, a pop into rsp, any other instruction naming rsp as a register
 *  but a mov from it). Instructions that write rsp without naming it are
 *  all stack instructions (isStackInstruction). */
function rspEffect(s: IcedState, instruction: Iced.Instruction): number | undefined {
  const { iced } = s;
  const { Code: C, OpKind: K, Register: R } = iced;
  const named: boolean[] = [];
  for (let i = 0; i < instruction.opCount; i++)
    named.push(
      instruction.opKind(i) === K.Register && iced.RegisterExt.fullRegister(instruction.opRegister(i)) === R.RSP,
    );
  if (instruction.isStackInstruction) {
    const intoRsp = instruction.mnemonic === iced.Mnemonic.Pop && named[0] === true;
    return s.stackMoves.has(instruction.mnemonic) && !intoRsp ? instruction.stackPointerIncrement : undefined;
  }
  if (!named.includes(true)) return 0;
  const code = instruction.code;
  if (named[0] && instruction.op0Register === R.RSP) {
    if (s.addImm.has(code)) return Number(BigInt.asIntN(64, instruction.immediate(1)));
    if (s.subImm.has(code)) return -Number(BigInt.asIntN(64, instruction.immediate(1)));
    // lea ignores segments; a 32-bit address names esp, not rsp
    if (code === C.Lea_r64_m && instruction.memoryBase === R.RSP && instruction.memoryIndex === R.None)
      return Number(BigInt.asIntN(64, instruction.memoryDisplacement));
    return undefined;
  }
  // mov r64, rsp (mov rbp, rsp of a prologue) only reads it
  if ((code === C.Mov_r64_rm64 || code === C.Mov_rm64_r64) && !named[0]) return 0;
  return undefined;
}

/** hasMemoryOperand -- whether an operand of the instruction is in memory
 *  (string instructions' implicit ones included).
 *
 *  Most instructions have none, and asking iced's info factory what they
 *  write cost most of a decoding (a WebAssembly call that builds the
 *  info, then one per used-memory entry and its fields, then the frees).
 *  Without a memory operand, what an instruction writes is implied by its
 *  Code alone (push and call write the stack, whatever they push or call)
 *  or by its prefixes, and whether it writes at all depends on the Code
 *  alone: so once a Code was seen writing nothing without one
 *  (IcedState's `quiet`), its other instructions without one are not
 *  asked again. Codes that write (push, call, enter) are asked each time. */
function hasMemoryOperand(iced: typeof Iced, instruction: Iced.Instruction): boolean {
  const count = instruction.opCount;
  // OpKind lists the memory kinds last, MemorySegSI first.
  for (let i = 0; i < count; i++) if (instruction.opKind(i) >= iced.OpKind.MemorySegSI) return true;
  return false;
}

/** Legacy prefixes and REX, which come before the opcode. */
const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/** operandSizePrefixed -- whether the prefixes of the instruction at the
 *  start of `code` hold 0x66. */
function operandSizePrefixed(code: Uint8Array): boolean {
  for (const byte of code) {
    if (byte === 0x66) return true;
    if (!PREFIXES.has(byte) && (byte & 0xf0) !== 0x40) return false;
  }
  return false;
}

/** Flows after which the next instruction in memory is no successor: the
 *  fence hunt's line goes on there only if a branch leads there. */
const LINE_ENDS: ReadonlySet<InsnFlow | undefined> = new Set([
  InsnFlow.Jump,
  InsnFlow.Return,
  InsnFlow.Indirect,
  InsnFlow.Other,
]);

/** decodeRun -- the instructions one after another from the start of
 *  `bytes` (at `address`), up to the first that control does not fall
 *  through (a jmp, ret, indirect branch or other flow: what follows it is
 *  reached, if at all, from elsewhere, and the hunt asks for it then), or
 *  up to the first that is invalid or does not end within them; one
 *  decoder for all. */
export function decodeRun(bytes: Uint8Array, address: number): NativeInsnInfo[] {
  const s = icedState();
  const { iced, instruction } = s;
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  const out: NativeInsnInfo[] = [];
  try {
    decoder.ip = BigInt(address);
    while (decoder.canDecode) {
      const at = decoder.position;
      decoder.decodeOut(instruction);
      if (instruction.isInvalid || at + instruction.length > bytes.length) break;
      const info = classify(s, instruction, bytes.subarray(at));
      out.push(info);
      if (LINE_ENDS.has(info.flow)) break;
    }
  } finally {
    decoder.free();
  }
  return out;
}

/** flowOf -- where control goes after the instruction, for the fence hunt:
 *  only near direct branches have a target it may follow. */
function flowOf(
  iced: typeof Iced,
  instruction: Iced.Instruction,
): Pick<NativeInsnInfo, 'flow' | 'target' | 'via' | 'viaReg'> {
  const F = iced.FlowControl;
  const control = instruction.flowControl;
  if (control === F.Next) return { flow: InsnFlow.Next };
  const near = instruction.op0Kind === iced.OpKind.NearBranch64;
  const target = near ? Number(instruction.nearBranchTarget) : NaN;
  const direct = near && Number.isSafeInteger(target);
  switch (control) {
    case F.ConditionalBranch:
      return direct ? { flow: InsnFlow.Branch, target } : { flow: InsnFlow.Other };
    case F.UnconditionalBranch:
      return direct ? { flow: InsnFlow.Jump, target } : { flow: InsnFlow.Other };
    case F.Call:
      return direct ? { flow: InsnFlow.Call, target } : { flow: InsnFlow.Other };
    case F.Return:
      return instruction.mnemonic === iced.Mnemonic.Ret ? { flow: InsnFlow.Return } : { flow: InsnFlow.Other };
    case F.IndirectBranch:
    case F.IndirectCall:
      return indirectFlow(iced, instruction);
    default:
      return { flow: InsnFlow.Other };
  }
}

/** indirectFlow -- a near jmp or call through a 64-bit register or an
 *  8-byte memory operand: where the target is read from; Other for
 *  anything else (far, 16-bit, an address the tracer cannot compute). */
function indirectFlow(
  iced: typeof Iced,
  instruction: Iced.Instruction,
): Pick<NativeInsnInfo, 'flow' | 'via' | 'viaReg'> {
  const { OpKind: K, Register: R } = iced;
  if (instruction.op0Kind === K.Register) {
    const reg = instruction.op0Register;
    return reg >= R.RAX && reg <= R.R15
      ? { flow: InsnFlow.Indirect, viaReg: reg - R.RAX + Reg.Rax }
      : { flow: InsnFlow.Other };
  }
  if (instruction.op0Kind !== K.Memory || instruction.memorySize !== iced.MemorySize.QwordOffset)
    return { flow: InsnFlow.Other };
  const ripRelative = instruction.memoryBase === R.RIP;
  const base = ripRelative ? Reg.None : gprCode(iced, instruction.memoryBase);
  const index = gprCode(iced, instruction.memoryIndex);
  const disp = Number(instruction.memoryDisplacement);
  if (base === undefined || index === undefined || (base | index) & Reg.Reg32 || !Number.isSafeInteger(disp))
    return { flow: InsnFlow.Other };
  const via = {
    base,
    index,
    scale: instruction.memoryIndexScale,
    disp,
    size: 8,
    seg: segCode(iced, instruction.memorySegment),
  };
  return { flow: InsnFlow.Indirect, via };
}

/** One used-memory entry as a tracer operand; undefined when the tracer cannot
 *  compute its address or size (16-bit addressing, an unknown-size operand). */
function memOperand(
  s: IcedState,
  instruction: Iced.Instruction,
  used: Iced.UsedMemory,
  flush: boolean,
): NativeMemOperand | undefined {
  const { iced } = s;
  const base = gprCode(iced, used.base);
  const vsib = !flush && instruction.isVsib ? vectorRegister(iced, used.index) : undefined;
  const index = vsib ? Reg.None : gprCode(iced, used.index);
  if (base === undefined || index === undefined) return undefined;
  const xsave = s.xsave.get(instruction.mnemonic);
  let size = flush ? 1 : xsave !== undefined ? 0 : iced.MemorySizeExt.size(used.memorySize);
  // With a rep prefix iced reports the whole operand as of unknown size; the
  // tracer wants one element, the instruction's own memory size.
  if (size === 0 && instruction.isStringInstruction) size = iced.MemorySizeExt.size(instruction.memorySize);
  // fxsave leaves bytes 464..511 of its area to software (Intel SDM, FXSAVE).
  const M = iced.MemorySize;
  if (used.memorySize === M.Fxsave_512Byte || used.memorySize === M.Fxsave64_512Byte) size = 464;
  if (size === 0 && xsave === undefined) return undefined;
  // iced gives displacements as unsigned 64-bit values, and with 32-bit
  // addressing as unsigned 32-bit ones: reinterpret them as signed so that
  // [rbx-16] reads -16. A 32-bit address (Reg32) is computed modulo 2^32 by
  // the tracer. Rip-relative operands arrive already absolute with base None.
  const addr32 = (base & Reg.Reg32) !== 0 || (index & Reg.Reg32) !== 0;
  const disp = Number(addr32 ? BigInt.asIntN(32, used.displacement) : BigInt.asIntN(64, used.displacement));
  // Only a 64-bit absolute (mov moffs64) can be this far out; such an address
  // is not canonical in user space and the store faults instead.
  if (!Number.isSafeInteger(disp)) return undefined;
  const operand: NativeMemOperand = { base, index, scale: used.scale, disp, size, seg: segCode(iced, used.segment) };
  if (flush) return operand;
  const special = xsave !== undefined ? { kind: xsave } : specialOperand(s, instruction, used, size, vsib);
  return special === null ? undefined : { ...operand, ...special };
}

/** specialOperand -- the MemKind fields of a write whose bytes are not simply
 *  its operand; {} for a plain one, null when it cannot be followed. */
function specialOperand(
  s: IcedState,
  instruction: Iced.Instruction,
  used: Iced.UsedMemory,
  size: number,
  vsib: { vec: number; width: number } | undefined,
): Partial<NativeMemOperand> | null {
  const { iced } = s;
  const elem = iced.MemorySizeExt.elementSize(used.memorySize);
  const k = instruction.opMask === iced.Register.None ? 0 : instruction.opMask - iced.Register.K0;
  if (instruction.isVsib) {
    // Scatters have their data register as operand 1 and always an opmask;
    // qword indices with dword data use half the data register, dword
    // indices with qword data half the index register.
    const data = vectorRegister(iced, instruction.op1Register);
    if (!vsib || !data || k === 0 || elem === 0) return null;
    const indexElem = instruction.isVsib32 ? 4 : 8;
    const count = Math.min(vsib.width / indexElem, data.width / elem);
    return { kind: MemKind.Scatter, reg: k, vec: vsib.vec, elem, count, indexElem };
  }
  if (s.bitOffset.has(instruction.mnemonic) && instruction.op1Kind === iced.OpKind.Register) {
    const reg = bitOffsetCode(iced, instruction.op1Register);
    return reg === undefined ? null : { kind: MemKind.BitOffset, reg };
  }
  if (s.vecMasked.has(instruction.mnemonic)) {
    // vmaskmovps [m], mask, src; maskmovdqu has its [rdi] as iced's operand
    // 0, then src, mask, and masks bytes (iced sizes its operand as one).
    const implicit = instruction.op0Kind !== iced.OpKind.Memory;
    const mask = vectorRegister(iced, implicit ? instruction.op2Register : instruction.op1Register);
    return mask === undefined || elem === 0
      ? null
      : { kind: MemKind.VecMask, reg: mask.vec, elem: implicit ? 1 : elem };
  }
  if (k === 0) return {};
  if (elem === 0 || size % elem !== 0) return null;
  return { kind: s.compress.has(instruction.mnemonic) ? MemKind.Compress : MemKind.OpMask, reg: k, elem };
}
