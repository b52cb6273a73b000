// eh-frame.test -- FDE ranges of real libraries against readelf's, and of
// hand-assembled .eh_frame sections for the encodings and layouts gcc does
// not emit (other pointer formats, 64-bit lengths, damage).

import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import { FdeRange, readEhFrame } from '../../harness/elf/eh-frame';
import { bufferBytes, ElfFile, readElf } from '../../harness/elf/read-elf';

/** FDE ranges readelf lists, empty ones left out. */
function readelfFdes(file: string): FdeRange[] {
  // readelf exits 1 on some libraries with nothing on stderr (libc of
  // Debian 12); what it printed is still the whole section.
  const out = spawnSync('readelf', ['--debug-dump=frames', file], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
  expect(out).toContain('Contents of the .eh_frame section');
  const fdes: FdeRange[] = [];
  for (const match of out.matchAll(/ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/g)) {
    const begin = parseInt(match[1], 16);
    const end = parseInt(match[2], 16);
    if (end > begin) fdes.push({ begin, end });
  }
  return fdes;
}

/** Shared objects of this machine's libc, and libpmem where PMDK is installed. */
function systemLibraries(): string[] {
  const listed = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
  return ['libc.so.6', 'libpmem.so.1']
    .map((name) => new RegExp(`\\s${name.replace(/\./g, '\\.')} \\(libc6,x86-64\\) => (\\S+)`).exec(listed)?.[1])
    .filter((file): file is string => file !== undefined);
}

describe('readEhFrame on real libraries', () => {
  const libraries = systemLibraries();

  test('libc is found', () => {
    expect(libraries.some((file) => /libc\.so\.6$/.test(file))).toBe(true);
  });

  test.each(libraries)('%s: the FDE ranges readelf lists, in order', (file) => {
    const buf = fs.readFileSync(file);
    const read = readElf(buf, { symbols: false });
    if (!read.ok) throw new Error(read.message);
    const eh = readEhFrame(bufferBytes(buf), read.elf);
    expect(eh.problem).toBeUndefined();
    expect(eh.fdes.length).toBeGreaterThan(100);
    expect(eh.fdes).toEqual(readelfFdes(file));
  });

  test.each(libraries)('%s: asked about addresses, only the FDEs that cover one', (file) => {
    const buf = fs.readFileSync(file);
    const read = readElf(buf, { symbols: false });
    if (!read.ok) throw new Error(read.message);
    const all = readEhFrame(bufferBytes(buf), read.elf).fdes;
    // a first byte, a last byte, one past an end, and an address before every FDE
    const [a, b, c] = [all[3], all[40], all[all.length - 1]];
    const addresses = [0, a.begin, b.end - 1, c.end].sort((x, y) => x - y);
    const covers = (fde: FdeRange) => addresses.some((address) => fde.begin <= address && address < fde.end);
    const some = readEhFrame(bufferBytes(buf), read.elf, addresses);
    expect(some.fdes).toEqual(all.filter(covers));
    expect(some.fdes).toEqual(expect.arrayContaining([a, b]));
  });
});

// A hand-assembled .eh_frame at link-time address ADDR, file offset 0.
const ADDR = 0x10000;

function u8(value: number): Buffer {
  return Buffer.from([value]);
}
function u32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(value >>> 0);
  return buf;
}
function uleb(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}
function sleb(value: number): Buffer {
  const bytes: number[] = [];
  for (;;) {
    const byte = ((value % 128) + 128) % 128;
    value = Math.floor(value / 128);
    if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) {
      bytes.push(byte);
      return Buffer.from(bytes);
    }
    bytes.push(byte | 0x80);
  }
}

/** The bytes of `value` in pointer format `format` (the low nibble of a DW_EH_PE encoding). */
function encode(format: number, value: number): Buffer {
  const fixed = (size: number, write: (buf: Buffer) => void) => {
    const buf = Buffer.alloc(size);
    write(buf);
    return buf;
  };
  switch (format) {
    case 0x00:
    case 0x04:
      return fixed(8, (buf) => buf.writeBigUInt64LE(BigInt(value)));
    case 0x01:
      return uleb(value);
    case 0x02:
      return fixed(2, (buf) => buf.writeUInt16LE(value));
    case 0x03:
      return fixed(4, (buf) => buf.writeUInt32LE(value));
    case 0x09:
      return sleb(value);
    case 0x0a:
      return fixed(2, (buf) => buf.writeInt16LE(value));
    case 0x0b:
      return fixed(4, (buf) => buf.writeInt32LE(value));
    case 0x0c:
      return fixed(8, (buf) => buf.writeBigInt64LE(BigInt(value)));
  }
  throw new Error(`format ${format}`);
}

class Frame {
  private parts: Buffer[] = [];
  size = 0;

  private add(body: Buffer, extended: boolean): void {
    const head = extended ? Buffer.concat([u32(0xffffffff), encode(0x04, body.length)]) : u32(body.length);
    this.raw(Buffer.concat([head, body]));
  }

  raw(bytes: Buffer): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  /** A CIE; returns its offset. `augmentationData` follows a 'z'. */
  cie(augmentation: string, augmentationData: Buffer, options: { version?: number; extended?: boolean } = {}): number {
    const at = this.size;
    const version = options.version ?? 1;
    this.add(
      Buffer.concat([
        u32(0),
        u8(version),
        Buffer.from(`${augmentation}\0`, 'latin1'),
        uleb(1), // code alignment
        sleb(-8), // data alignment
        version === 1 ? u8(16) : uleb(16), // return address register
        augmentation.startsWith('z')
          ? Buffer.concat([uleb(augmentationData.length), augmentationData])
          : Buffer.alloc(0),
        Buffer.from([0x0c, 0x07, 0x08]), // DW_CFA_def_cfa rsp+8
      ]),
      options.extended ?? false,
    );
    return at;
  }

  /** An FDE of CIE `cie`; `fields(address)` gives the pc_begin and pc_range
   *  bytes when pc_begin's field sits at link-time `address`. */
  fde(cie: number, fields: (address: number) => Buffer, augmentationData?: Buffer, extended = false): void {
    const idField = this.size + (extended ? 12 : 4);
    this.add(
      Buffer.concat([
        u32(idField - cie),
        fields(ADDR + idField + 4),
        augmentationData ? Buffer.concat([uleb(augmentationData.length), augmentationData]) : Buffer.alloc(0),
        Buffer.from([0x41, 0x0e, 0x10]), // DW_CFA_advance_loc 1; DW_CFA_def_cfa_offset 16
      ]),
      extended,
    );
  }

  elf(): { buf: Buffer; elf: ElfFile } {
    const buf = Buffer.concat(this.parts);
    const elf: ElfFile = {
      type: 'dyn',
      machine: 62,
      entry: 0,
      isStatic: true,
      symbols: [],
      hasSymtab: false,
      stripped: true,
      segments: [],
      sections: [
        { name: '', type: 0, flags: 0, addr: 0, offset: 0, size: 0 },
        { name: '.eh_frame', type: 1, flags: 2, addr: ADDR, offset: 0, size: buf.length },
      ],
    };
    return { buf, elf };
  }
}

function read(frame: Frame) {
  const { buf, elf } = frame.elf();
  return readEhFrame(bufferBytes(buf), elf);
}

const PCREL_SDATA4 = 0x1b;

describe('readEhFrame on hand-assembled sections', () => {
  test('gcc\'s "zR" with pcrel sdata4, and an FDE whose range is empty left out', () => {
    const frame = new Frame();
    const cie = frame.cie('zR', u8(PCREL_SDATA4));
    frame.fde(cie, (at) => Buffer.concat([encode(0x0b, 0x1000 - at), encode(0x0b, 0x40)]), Buffer.alloc(0));
    frame.fde(cie, (at) => Buffer.concat([encode(0x0b, 0x2000 - at), encode(0x0b, 0)]), Buffer.alloc(0));
    frame.fde(cie, (at) => Buffer.concat([encode(0x0b, 0x1040 - at), encode(0x0b, 0x10)]), Buffer.alloc(0));
    expect(read(frame)).toEqual({
      fdes: [
        { begin: 0x1000, end: 0x1040 },
        { begin: 0x1040, end: 0x1050 },
      ],
    });
  });

  test.each([
    ['udata2', 0x02, 0x1234],
    ['udata4', 0x03, 0x12345678],
    ['udata8', 0x04, 0x123456789ab],
    ['uleb128', 0x01, 0x123456789],
    ['sdata2', 0x0a, 0x7000],
    ['sdata4', 0x0b, 0x7000000],
    ['sdata8', 0x0c, 0x123456789ab],
    ['sleb128', 0x09, 0x123456789],
  ])('absolute %s pc_begin and pc_range', (_name, format, begin) => {
    const frame = new Frame();
    const cie = frame.cie('zR', u8(format));
    frame.fde(cie, () => Buffer.concat([encode(format, begin), encode(format, 0x31)]), Buffer.alloc(0));
    expect(read(frame)).toEqual({ fdes: [{ begin, end: begin + 0x31 }] });
  });

  test.each([
    ['sdata2', 0x1a],
    ['sleb128', 0x19],
    ['sdata8', 0x1c],
  ])('pcrel %s reaching backwards', (_name, encoding) => {
    const frame = new Frame();
    const cie = frame.cie('zR', u8(encoding));
    frame.fde(
      cie,
      (at) => Buffer.concat([encode(encoding & 0x0f, 0xf000 - at), encode(encoding & 0x0f, 0x20)]),
      Buffer.alloc(0),
    );
    expect(read(frame)).toEqual({ fdes: [{ begin: 0xf000, end: 0xf020 }] });
  });

  test('no augmentation: absptr, and a version 3 CIE with a uleb128 return register', () => {
    const frame = new Frame();
    const v1 = frame.cie('', Buffer.alloc(0));
    frame.fde(v1, () => Buffer.concat([encode(0, 0x4000), encode(0, 0x80)]));
    const v3 = frame.cie('', Buffer.alloc(0), { version: 3 });
    frame.fde(v3, () => Buffer.concat([encode(0, 0x5000), encode(0, 0x8)]));
    expect(read(frame)).toEqual({
      fdes: [
        { begin: 0x4000, end: 0x4080 },
        { begin: 0x5000, end: 0x5008 },
      ],
    });
  });

  test('"zPLRS": an indirect personality, an LSDA in the FDE, a signal frame', () => {
    const frame = new Frame();
    const personality = Buffer.concat([u8(0x9b), encode(0x0b, -0x100)]);
    const cie = frame.cie('zPLRS', Buffer.concat([personality, u8(PCREL_SDATA4), u8(PCREL_SDATA4)]));
    frame.fde(cie, (at) => Buffer.concat([encode(0x0b, 0x3000 - at), encode(0x0b, 0x55)]), encode(0x0b, 0x40));
    expect(read(frame)).toEqual({ fdes: [{ begin: 0x3000, end: 0x3055 }] });
  });

  test('64-bit extended lengths, and an FDE naming a CIE that is not the latest', () => {
    const frame = new Frame();
    const first = frame.cie('zR', u8(0x03), { extended: true });
    const second = frame.cie('zR', u8(PCREL_SDATA4));
    frame.fde(first, () => Buffer.concat([encode(0x03, 0x6000), encode(0x03, 0x10)]), Buffer.alloc(0), true);
    frame.fde(second, (at) => Buffer.concat([encode(0x0b, 0x7000 - at), encode(0x0b, 0x10)]), Buffer.alloc(0));
    frame.fde(first, () => Buffer.concat([encode(0x03, 0x6010), encode(0x03, 0x10)]), Buffer.alloc(0));
    expect(read(frame)).toEqual({
      fdes: [
        { begin: 0x6000, end: 0x6010 },
        { begin: 0x7000, end: 0x7010 },
        { begin: 0x6010, end: 0x6020 },
      ],
    });
  });

  test('the zero terminator ends the walk', () => {
    const frame = new Frame();
    const cie = frame.cie('zR', u8(0x03));
    frame.fde(cie, () => Buffer.concat([encode(0x03, 0x1000), encode(0x03, 0x10)]), Buffer.alloc(0));
    frame.raw(u32(0));
    frame.fde(cie, () => Buffer.concat([encode(0x03, 0x2000), encode(0x03, 0x10)]), Buffer.alloc(0));
    expect(read(frame)).toEqual({ fdes: [{ begin: 0x1000, end: 0x1010 }] });
  });

  test.each([
    ['an unknown augmentation letter', 'zX', Buffer.from([0]), /unknown 'X'/],
    ['a datarel FDE encoding', 'zR', u8(0x3b), /datarel/],
    ['an indirect FDE encoding', 'zR', u8(0x9b), /indirect/],
    ['an unknown pointer format', 'zR', u8(0x05), /pointer format 0x5/],
  ])('%s stops the walk with a problem, the FDEs before it kept', (_name, augmentation, data, problem) => {
    const frame = new Frame();
    const good = frame.cie('zR', u8(0x03));
    frame.fde(good, () => Buffer.concat([encode(0x03, 0x1000), encode(0x03, 0x10)]), Buffer.alloc(0));
    const bad = frame.cie(augmentation, data);
    frame.fde(bad, () => Buffer.concat([encode(0x0b, 0x2000), encode(0x0b, 0x10)]), Buffer.alloc(0));
    frame.fde(good, () => Buffer.concat([encode(0x03, 0x3000), encode(0x03, 0x10)]), Buffer.alloc(0));
    const eh = read(frame);
    expect(eh.fdes).toEqual([{ begin: 0x1000, end: 0x1010 }]);
    expect(eh.problem).toMatch(problem);
  });

  test('an entry longer than the section, and a CIE pointer out of it, are problems', () => {
    const frame = new Frame();
    const cie = frame.cie('zR', u8(0x03));
    frame.fde(cie, () => Buffer.concat([encode(0x03, 0x1000), encode(0x03, 0x10)]), Buffer.alloc(0));
    frame.fde(-0x100, () => Buffer.concat([encode(0x03, 0x2000), encode(0x03, 0x10)]), Buffer.alloc(0));
    expect(read(frame)).toEqual({
      fdes: [{ begin: 0x1000, end: 0x1010 }],
      problem: expect.stringMatching(/CIE pointer leads outside/),
    });
    const cut = new Frame();
    cut.cie('zR', u8(0x03));
    cut.raw(Buffer.concat([u32(0x40), u32(8)]));
    expect(read(cut)).toEqual({ fdes: [], problem: expect.stringMatching(/ends past \.eh_frame/) });
  });

  test('no .eh_frame section, and a relocatable object, are problems', () => {
    const { buf, elf } = new Frame().elf();
    expect(readEhFrame(bufferBytes(buf), { ...elf, sections: [] })).toEqual({
      fdes: [],
      problem: 'no .eh_frame section',
    });
    expect(readEhFrame(bufferBytes(buf), { ...elf, type: 'other' }).problem).toMatch(
      /not an executable or shared object/,
    );
  });
});
