// decode.test -- instruction classification against bytes assembled with GNU as
// (`as` + `objdump -d -M intel`); each case names its source line.

import fc from 'fast-check';
import { decodeInstruction, decodeRun } from '../../harness/record/decode';
import { InsnFlag, InsnFlow, MemKind, NativeMemOperand, Reg, Seg, Vec } from '../../harness/tracer/native';

const AT = 0x401000;

function decode(hex: string, address = AT) {
  return decodeInstruction(Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex')), address);
}

function mem(partial: Partial<NativeMemOperand>): NativeMemOperand {
  return { base: Reg.None, index: Reg.None, scale: 1, disp: 0, size: 8, seg: Seg.None, ...partial };
}

describe('decodeInstruction', () => {
  test('mov [rax+8], rdx: a plain 8-byte store', () => {
    const d = decode('48 89 50 08');
    expect(d.info).toEqual({
      length: 4,
      flags: 0,
      writes: [mem({ base: Reg.Rax, disp: 8, size: 8 })],
      flow: InsnFlow.Next,
    });
    expect(d.length).toBe(4);
    expect(d.mnemonic).toBe('mov');
    expect(d.text).toBe('mov qword [rax+8], rdx');
  });

  test('mov [rip+0x100], eax: rip-relative becomes absolute', () => {
    const d = decode('89 05 00 01 00 00');
    // next ip 0x401006 + 0x100
    expect(d.info.writes).toEqual([mem({ disp: 0x401106, size: 4 })]);
    expect(d.info.flags).toBe(0);
  });

  test('mov dword [rbx+rcx*4-16], 1: index, scale, negative displacement', () => {
    const d = decode('c7 44 8b f0 01 00 00 00');
    expect(d.info.writes).toEqual([mem({ base: Reg.Rbx, index: Reg.Rcx, scale: 4, disp: -16, size: 4 })]);
    expect(d.length).toBe(8);
  });

  test('push rax: implicit stack write at rsp-8', () => {
    const d = decode('50');
    expect(d.info.writes).toEqual([mem({ base: Reg.Rsp, disp: -8, size: 8 })]);
  });

  test('call: implicit stack write', () => {
    // call .+5
    const d = decode('e8 00 00 00 00');
    expect(d.info.writes).toEqual([mem({ base: Reg.Rsp, disp: -8, size: 8 })]);
  });

  // how rsp moves, for the fence hunt's walk past returns (fence_hunt.h Stack)
  test.each([
    ['50', 'push rax', -8],
    ['66 50', 'push ax', -2],
    ['5b', 'pop rbx', 8],
    ['c3', 'ret', 8],
    ['c2 10 00', 'ret 0x10', 24],
    ['e8 00 00 00 00', 'call .+5', -8],
    ['48 83 ec 58', 'sub rsp, 0x58', -0x58],
    ['48 81 c4 00 01 00 00', 'add rsp, 0x100', 0x100],
    ['48 8d 64 24 f0', 'lea rsp, [rsp-0x10]', -0x10],
    ['48 89 e5', 'mov rbp, rsp', 0],
    ['48 8b 04 24', 'mov rax, [rsp]', 0],
  ])('%s (%s): rsp moved by %d alone', (hex, _text, add) => {
    const d = decode(hex);
    expect(d.info.rspAdd ?? 0).toBe(add);
    expect(d.info.flags & InsnFlag.RspOther).toBe(0);
  });

  test.each([
    ['c9', 'leave'],
    ['5c', 'pop rsp'],
    ['48 89 ec', 'mov rsp, rbp'],
    ['48 83 e4 f0', 'and rsp, -16'],
    ['48 94', 'xchg rax, rsp'],
    ['83 c4 08', 'add esp, 8'],
    ['67 48 8d 64 24 08', 'lea rsp, [esp+8]'],
  ])('%s (%s): rsp written otherwise', (hex) => {
    const d = decode(hex);
    expect(d.info.flags & InsnFlag.RspOther).toBe(InsnFlag.RspOther);
    expect(d.info.rspAdd).toBeUndefined();
  });

  test('a Code that wrote nothing in its register form still writes in its memory form', () => {
    // mov rax, rdx and mov [rax+8], rdx are both Mov_rm64_r64
    for (let i = 0; i < 2; i++) expect(decode('48 89 d0').info.writes).toEqual([]);
    expect(decode('48 89 50 08').info.writes).toEqual([mem({ base: Reg.Rax, disp: 8, size: 8 })]);
    // push and call write without a memory operand, every time
    for (let i = 0; i < 2; i++) {
      expect(decode('53').info.writes).toEqual([mem({ base: Reg.Rsp, disp: -8, size: 8 })]);
      expect(decode('ff d0').info.writes).toEqual([mem({ base: Reg.Rsp, disp: -8, size: 8 })]);
    }
  });

  test('rep stosb: RepString, one element of 1 byte at rdi', () => {
    const d = decode('f3 aa');
    expect(d.info.flags).toBe(InsnFlag.RepString);
    expect(d.info.writes).toEqual([mem({ base: Reg.Rdi, size: 1 })]);
    expect(d.mnemonic).toBe('stosb');
  });

  test('rep movsq: RepString, element of 8 bytes at rdi, the rsi read ignored', () => {
    const d = decode('f3 48 a5');
    expect(d.info.flags).toBe(InsnFlag.RepString);
    expect(d.info.writes).toEqual([mem({ base: Reg.Rdi, size: 8 })]);
  });

  test('stosd without rep: an ordinary store', () => {
    const d = decode('ab');
    expect(d.info.flags).toBe(0);
    expect(d.info.writes).toEqual([mem({ base: Reg.Rdi, size: 4 })]);
  });

  test('vmovdqu [rdi], ymm0: 32-byte store', () => {
    const d = decode('c5 fe 7f 07');
    expect(d.info).toEqual({ length: 4, flags: 0, writes: [mem({ base: Reg.Rdi, size: 32 })], flow: InsnFlow.Next });
  });

  test('vmovdqu64 [rdi], zmm1: 64-byte store', () => {
    const d = decode('62 f1 fe 48 7f 0f');
    expect(d.info).toEqual({ length: 6, flags: 0, writes: [mem({ base: Reg.Rdi, size: 64 })], flow: InsnFlow.Next });
  });

  test('vmovntdq [rdi], ymm0: NtStore', () => {
    const d = decode('c5 fd e7 07');
    expect(d.info).toEqual({
      length: 4,
      flags: InsnFlag.NtStore,
      writes: [mem({ base: Reg.Rdi, size: 32 })],
      flow: InsnFlow.Next,
    });
  });

  test('movnti [rdi], rax: NtStore', () => {
    const d = decode('48 0f c3 07');
    expect(d.info).toEqual({
      length: 4,
      flags: InsnFlag.NtStore,
      writes: [mem({ base: Reg.Rdi, size: 8 })],
      flow: InsnFlow.Next,
    });
  });

  test('maskmovdqu xmm1, xmm2: NtStore to implicit [rdi], the bytes xmm2 selects', () => {
    const d = decode('66 0f f7 ca');
    expect(d.info.flags).toBe(InsnFlag.NtStore);
    expect(d.info.writes).toEqual([mem({ base: Reg.Rdi, size: 16, kind: MemKind.VecMask, reg: 2, elem: 1 })]);
  });

  test('maskmovq mm0, mm1: bytes that mm1 selects, at [rdi]', () => {
    // maskmovq %mm1, %mm0
    expect(decode('0f f7 c1').info.writes).toEqual([
      mem({ base: Reg.Rdi, size: 8, kind: MemKind.VecMask, reg: Vec.Mm + 1, elem: 1 }),
    ]);
  });

  test('movdir64b rax, [rsi]: NtStore of 64 bytes at [rax], source ignored', () => {
    const d = decode('66 0f 38 f8 06');
    expect(d.info.flags).toBe(InsnFlag.NtStore);
    expect(d.info.writes).toEqual([mem({ base: Reg.Rax, size: 64 })]);
  });

  test('clflush [rdi]: Clflush, operand of size 1', () => {
    const d = decode('0f ae 3f');
    expect(d.info).toEqual({
      length: 3,
      flags: InsnFlag.Clflush,
      writes: [mem({ base: Reg.Rdi, size: 1 })],
      flow: InsnFlow.Next,
    });
  });

  test('clflushopt [rdi]: Clflushopt', () => {
    const d = decode('66 0f ae 3f');
    expect(d.info).toEqual({
      length: 4,
      flags: InsnFlag.Clflushopt,
      writes: [mem({ base: Reg.Rdi, size: 1 })],
      flow: InsnFlow.Next,
    });
  });

  test('clwb [rdi+64]: Clwb', () => {
    const d = decode('66 0f ae 77 40');
    expect(d.info).toEqual({
      length: 5,
      flags: InsnFlag.Clwb,
      writes: [mem({ base: Reg.Rdi, disp: 64, size: 1 })],
      flow: InsnFlow.Next,
    });
  });

  test('sfence and mfence: Fence', () => {
    expect(decode('0f ae f8').info).toEqual({ length: 3, flags: InsnFlag.Fence, writes: [], flow: InsnFlow.Next });
    expect(decode('0f ae f0').info).toEqual({ length: 3, flags: InsnFlag.Fence, writes: [], flow: InsnFlow.Next });
  });

  test('lfence: no flags (it does not order stores)', () => {
    expect(decode('0f ae e8').info).toEqual({ length: 3, flags: 0, writes: [], flow: InsnFlow.Next });
  });

  test('cpuid: serializing, so Fence', () => {
    // rax, rcx, rdx, rbx
    expect(decode('0f a2').info).toEqual({
      length: 2,
      flags: InsnFlag.Fence,
      writes: [],
      flow: InsnFlow.Next,
      gprWrites: 0b1111,
    });
  });

  test('mov cr0, rax is serializing; mov rax, cr0 is not', () => {
    expect(decode('0f 22 c0').info.flags).toBe(InsnFlag.Fence);
    expect(decode('0f 20 c0').info.flags).toBe(0);
  });

  test('lock xadd [rdi], eax: Locked', () => {
    const d = decode('f0 0f c1 07');
    expect(d.info).toEqual({
      length: 4,
      flags: InsnFlag.Locked,
      writes: [mem({ base: Reg.Rdi, size: 4 })],
      flow: InsnFlow.Next,
      gprWrites: 1 << (Reg.Rax - 1),
    });
  });

  test('xchg [rdi], eax: implicitly Locked', () => {
    const d = decode('87 07');
    expect(d.info).toEqual({
      length: 2,
      flags: InsnFlag.Locked,
      writes: [mem({ base: Reg.Rdi, size: 4 })],
      flow: InsnFlow.Next,
      gprWrites: 1 << (Reg.Rax - 1),
    });
  });

  test('syscall and int 0x80: Syscall', () => {
    // the kernel's return address and flags in rcx and r11
    expect(decode('0f 05').info).toEqual({
      length: 2,
      flags: InsnFlag.Syscall,
      writes: [],
      flow: InsnFlow.Other,
      gprWrites: (1 << (Reg.Rcx - 1)) | (1 << (Reg.R11 - 1)),
    });
    expect(decode('cd 80').info).toEqual({ length: 2, flags: InsnFlag.Syscall, writes: [], flow: InsnFlow.Other });
  });

  test('mov fs:[0x10], rax: segment Fs', () => {
    const d = decode('64 48 89 04 25 10 00 00 00');
    expect(d.info.writes).toEqual([mem({ disp: 0x10, size: 8, seg: Seg.Fs })]);
  });

  test('mov [eax], ebx: 32-bit address register', () => {
    const d = decode('67 89 18');
    expect(d.info.writes).toEqual([mem({ base: Reg.Rax + Reg.Reg32, size: 4 })]);
  });

  test('mov [eax+ecx*2-16], ebx: 32-bit addressing keeps the displacement negative', () => {
    const d = decode('67 89 5c 48 f0');
    expect(d.info.writes).toEqual([
      mem({ base: Reg.Rax + Reg.Reg32, index: Reg.Rcx + Reg.Reg32, scale: 2, disp: -16, size: 4 }),
    ]);
  });

  test('mov rax, [rdi]: a load writes nothing', () => {
    expect(decode('48 8b 07').info).toEqual({
      length: 3,
      flags: 0,
      writes: [],
      flow: InsnFlow.Next,
      gprWrites: 1 << (Reg.Rax - 1),
    });
  });

  // the registers the fence hunt must not follow a branch through
  // (native/fence_hunt.h): named or implied, any part of them
  test('gprWrites: lodsq writes rax and rsi, mov al writes rax, mov [rdi], eax none', () => {
    expect(decode('48 ad').info.gprWrites).toBe((1 << (Reg.Rax - 1)) | (1 << (Reg.Rsi - 1)));
    expect(decode('b0 01').info.gprWrites).toBe(1 << (Reg.Rax - 1));
    expect(decode('89 07').info.gprWrites).toBeUndefined();
  });

  test('vpscatterdd [rax+zmm1*4]{k1}, zmm2: 16 dword elements, dword indices in zmm1', () => {
    const d = decode('62 f2 7d 49 a0 14 88');
    expect(d.info.flags).toBe(0);
    expect(d.info.writes).toEqual([
      mem({
        base: Reg.Rax,
        scale: 4,
        size: 4,
        kind: MemKind.Scatter,
        reg: 1,
        vec: 1,
        elem: 4,
        count: 16,
        indexElem: 4,
      }),
    ]);
  });

  test.each([
    // vpscatterqd [rbx+zmm1*4+8]{k1}, ymm0: 8 qword indices, 8 dwords
    ['62 f2 7d 49 a1 44 8b 02', 8, 4, 8, 4],
    // vscatterdpd [rbx+ymm1*8]{k1}, zmm0: 8 dword indices, 8 qwords
    ['62 f2 fd 49 a2 04 cb', 0, 8, 8, 8],
    // vscatterqps [rbx+xmm1*8]{k1}, xmm0: 2 qword indices, so 2 floats
    ['62 f2 7d 09 a3 04 cb', 0, 8, 2, 4],
  ])('scatter %s: as many elements as both registers hold', (hex, disp, scale, count, elem) => {
    const [write] = decode(hex).info.writes;
    expect(write).toMatchObject({
      base: Reg.Rbx,
      index: Reg.None,
      disp,
      scale,
      kind: MemKind.Scatter,
      vec: 1,
      reg: 1,
      count,
      elem,
    });
  });

  test.each([
    ['0f ae 23', MemKind.Xsave], // xsave [rbx]
    ['48 0f ae 23', MemKind.Xsave], // xsave64 [rbx]
    ['0f ae 33', MemKind.XsaveOpt], // xsaveopt [rbx]
    ['0f c7 23', MemKind.XsaveCompact], // xsavec [rbx]
    ['0f c7 2b', MemKind.XsaveCompact], // xsaves [rbx]
  ])('xsave family %s: an area the tracer lays out', (hex, kind) => {
    const d = decode(hex);
    expect(d.info.flags).toBe(0);
    expect(d.info.writes).toEqual([mem({ base: Reg.Rbx, size: 0, kind })]);
  });

  test.each([['0f ae 03'], ['48 0f ae 03']])('fxsave %s: 464 bytes (464..511 are left to software)', (hex) => {
    expect(decode(hex).info.writes).toEqual([mem({ base: Reg.Rbx, size: 464 })]);
  });

  test.each([
    ['48 0f ab 0b', Reg.Rcx, 8], // bts [rbx], rcx
    ['0f b3 4b 08', Reg.Rcx + Reg.Reg32, 4], // btr [rbx+8], ecx
    ['66 0f bb 4b 08', Reg.Rcx + Reg.Reg16, 2], // btc [rbx+8], cx
    ['f0 4c 0f ab 03', Reg.R8, 8], // lock bts [rbx], r8
  ])('bt{s,r,c} %s with a register bit offset: BitOffset', (hex, reg, size) => {
    const [write] = decode(hex).info.writes;
    expect(write).toMatchObject({ base: Reg.Rbx, size, kind: MemKind.BitOffset, reg });
  });

  test('bts dword [rbx], 5: an immediate bit offset stays in the operand', () => {
    expect(decode('0f ba 2b 05').info.writes).toEqual([mem({ base: Reg.Rbx, size: 4 })]);
  });

  test.each([
    ['62 f1 7f 49 7f 03', 64, 1, MemKind.OpMask], // vmovdqu8 [rbx]{k1}, zmm0
    ['62 f1 ff 29 7f 03', 32, 2, MemKind.OpMask], // vmovdqu16 [rbx]{k1}, ymm0
    ['62 f1 7e 09 7f 03', 16, 4, MemKind.OpMask], // vmovdqu32 [rbx]{k1}, xmm0
    ['62 f1 fe 49 7f 03', 64, 8, MemKind.OpMask], // vmovdqu64 [rbx]{k1}, zmm0
    ['62 f2 7e 49 32 03', 8, 1, MemKind.OpMask], // vpmovqb [rbx]{k1}, zmm0
    ['62 f1 7e 09 11 03', 4, 4, MemKind.OpMask], // vmovss [rbx]{k1}, xmm0
    ['62 f2 7d 49 8a 03', 64, 4, MemKind.Compress], // vcompressps [rbx]{k1}, zmm0
    ['62 f2 7d 49 63 03', 64, 1, MemKind.Compress], // vpcompressb [rbx]{k1}, zmm0
  ])('AVX-512 store %s under k1: elements the mask selects', (hex, size, elem, kind) => {
    expect(decode(hex).info.writes).toEqual([mem({ base: Reg.Rbx, size, kind, reg: 1, elem })]);
  });

  test('vmovdqu8 [rbx], zmm0 without a mask: a plain 64-byte store', () => {
    expect(decode('62 f1 7f 48 7f 03').info.writes).toEqual([mem({ base: Reg.Rbx, size: 64 })]);
  });

  test.each([
    ['c4 e2 75 2e 03', 32, 4], // vmaskmovps [rbx], ymm1, ymm0
    ['c4 e2 71 2f 03', 16, 8], // vmaskmovpd [rbx], xmm1, xmm0
    ['c4 e2 75 8e 03', 32, 4], // vpmaskmovd [rbx], ymm1, ymm0
    ['c4 e2 f5 8e 03', 32, 8], // vpmaskmovq [rbx], ymm1, ymm0
  ])('AVX2 masked store %s: elements whose mask element has its top bit set', (hex, size, elem) => {
    expect(decode(hex).info.writes).toEqual([mem({ base: Reg.Rbx, size, kind: MemKind.VecMask, reg: 1, elem })]);
  });

  test('clzero: a write no operand expresses is Unsupported', () => {
    expect(decode('0f 01 fc').info.flags & InsnFlag.Unsupported).toBeTruthy();
  });

  test('only the first instruction of the buffer is decoded', () => {
    // push rax; push rax (the tracer hands over a fixed-size window)
    expect(decode('50 50 0f 05').info.length).toBe(1);
  });

  test('garbage bytes throw with address and bytes', () => {
    expect(() => decode('ff ff ff ff')).toThrow('cannot decode instruction at 0x401000: ff ff ff ff');
    // a truncated instruction (REX prefix alone)
    expect(() => decode('48', 0x7fff0000)).toThrow('cannot decode instruction at 0x7fff0000: 48');
    expect(() => decode('')).toThrow(/^cannot decode instruction at 0x401000: $/);
  });

  test('any bytes: either the decode error or a sane instruction', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        fc.integer({ min: 0x1000, max: 0x7fffffff }),
        (bytes, address) => {
          let d;
          try {
            d = decodeInstruction(bytes, address);
          } catch (err) {
            expect((err as Error).message).toMatch(/^cannot decode instruction at 0x[0-9a-f]+: [0-9a-f ]+$/);
            return;
          }
          expect(d.length).toBeGreaterThanOrEqual(1);
          expect(d.length).toBeLessThanOrEqual(Math.min(15, bytes.length));
          expect(d.info.length).toBe(d.length);
          for (const w of d.info.writes) {
            expect([1, 2, 4, 8]).toContain(w.scale);
            expect(w.size).toBeGreaterThan(0);
            expect(Number.isSafeInteger(w.disp)).toBe(true);
            expect([Seg.None, Seg.Fs, Seg.Gs]).toContain(w.seg);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  // Where the fast recorder's fence hunt may follow control (native/fence_hunt.h)
  test.each([
    ['jne .+0x12 (75 10)', '75 10', InsnFlow.Branch, AT + 0x12],
    ['jrcxz .+0x7 (e3 05)', 'e3 05', InsnFlow.Branch, AT + 7],
    ['jmp .-0x100 (e9 fb fe ff ff)', 'e9 fb fe ff ff', InsnFlow.Jump, AT + 5 - 0x105],
    ['call .+0x20 (e8 1b 00 00 00)', 'e8 1b 00 00 00', InsnFlow.Call, AT + 0x20],
    ['ret (c3)', 'c3', InsnFlow.Return, undefined],
    ['syscall (0f 05)', '0f 05', InsnFlow.Other, undefined],
    ['int3 (cc)', 'cc', InsnFlow.Other, undefined],
    ['ud2 (0f 0b)', '0f 0b', InsnFlow.Other, undefined],
    ['xbegin .+0x10 (c7 f8 0a 00 00 00)', 'c7 f8 0a 00 00 00', InsnFlow.Other, undefined],
    ['sfence (0f ae f8)', '0f ae f8', InsnFlow.Next, undefined],
    ['lock add [rax], 1 (f0 83 00 01)', 'f0 83 00 01', InsnFlow.Next, undefined],
  ])('%s: flow', (_name, hex, flow, target) => {
    const d = decode(hex);
    expect(d.info.flow).toBe(flow);
    expect(d.info.target).toBe(target);
  });

  test('decodeRun: each instruction of a run, up to the first that does not end in the bytes', () => {
    // mov [rax+8], rdx; jne .+0x12; ret; then the first 3 bytes of a 5-byte call
    const run = decodeRun(Uint8Array.from(Buffer.from('48895008' + '7510' + 'c3' + 'e81b00', 'hex')), AT);
    expect(run.map((i) => [i.length, i.flow, i.target])).toEqual([
      [4, InsnFlow.Next, undefined],
      [2, InsnFlow.Branch, AT + 4 + 0x12],
      [1, InsnFlow.Return, undefined],
    ]);
    // each as decoding from its own address gives it
    expect(run[1]).toEqual(decode('75 10', AT + 4).info);
    expect(decodeRun(Uint8Array.from([0x0f, 0xff]), AT)).toEqual([]);
  });

  test.each([
    ['jmp .+0x10 (eb 10)', 'eb10', InsnFlow.Jump],
    ['ret (c3)', 'c3', InsnFlow.Return],
    ['jmp rax (ff e0)', 'ffe0', InsnFlow.Indirect],
    ['ud2 (0f 0b)', '0f0b', InsnFlow.Other],
  ])('decodeRun: a run ends after %s, which control does not fall through', (_name, hex, flow) => {
    // call .+5 and jne .+2 fall through: the run goes on past them
    const run = decodeRun(Uint8Array.from(Buffer.from('e800000000' + '7502' + hex + '48895008', 'hex')), AT);
    expect(run.map((i) => i.flow)).toEqual([InsnFlow.Call, InsnFlow.Branch, flow]);
  });

  test.each([
    ['jmp qword [rip+0x10] (ff 25 10 00 00 00)', 'ff 25 10 00 00 00', { via: mem({ disp: AT + 6 + 0x10 }) }],
    ['call qword [r14+0x10] (41 ff 56 10)', '41 ff 56 10', { via: mem({ base: Reg.R14, disp: 0x10 }) }],
    ['call rax (ff d0)', 'ff d0', { viaReg: Reg.Rax }],
    ['jmp r11 (41 ff e3)', '41 ff e3', { viaReg: Reg.R11 }],
  ])('%s: Indirect, where the target is', (_name, hex, where) => {
    const d = decode(hex);
    expect(d.info.flow).toBe(InsnFlow.Indirect);
    expect({ via: d.info.via, viaReg: d.info.viaReg }).toEqual({ via: undefined, viaReg: undefined, ...where });
  });

  test.each([
    ['ret 8 (c2 08 00)', 'c2 08 00', InsnFlow.Return],
    ['retf (cb)', 'cb', InsnFlow.Other],
    ['jmp far [rax] (ff 28)', 'ff 28', InsnFlow.Other],
    ['call word [rax] (66 ff 10)', '66 ff 10', InsnFlow.Other],
  ])('%s: flow', (_name, hex, flow) => {
    expect(decode(hex).info.flow).toBe(flow);
  });

  test('decoding many instructions does not grow WebAssembly memory', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wasmMemory = (require('iced-x86') as { __wasm: { memory: { buffer: ArrayBuffer } } }).__wasm.memory;
    const bytes = Uint8Array.from([0x62, 0xf1, 0xfe, 0x48, 0x7f, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (let i = 0; i < 1000; i++) decodeInstruction(bytes, AT + i);
    const before = wasmMemory.buffer.byteLength;
    for (let i = 0; i < 50000; i++) decodeInstruction(bytes, AT + i);
    expect(wasmMemory.buffer.byteLength).toBe(before);
  });
});
