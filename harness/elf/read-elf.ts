// read-elf -- the parts of an x86-64 ELF file pmfit needs: type, entry,
// whether it loads shared libraries, its symbols (to place breakpoints and
// name addresses) and its loadable segments (to turn run-time addresses into
// link-time ones).
//
// Pure over a Buffer, or over ElfBytes for a caller that reads only the
// parts it needs: the caller reads the file. Anything that is not a
// well-formed ELF64 little-endian x86-64 file is a failure value, never a
// throw, because it is the user's input and deserves a one-line answer.

export type ElfSymbolType = 'func' | 'object' | 'other';
export type ElfSymbolBind = 'local' | 'global' | 'weak' | 'other';

export interface ElfSymbol {
  name: string;
  /** Link-time virtual address. */
  value: number;
  size: number;
  /** 'func' is STT_FUNC only: an ifunc symbol's value is its resolver. */
  type: ElfSymbolType;
  bind: ElfSymbolBind;
}

/** A PT_LOAD segment. `flags` holds PF_X = 1, PF_W = 2, PF_R = 4. */
export interface ElfSegment {
  vaddr: number;
  memsz: number;
  offset: number;
  filesz: number;
  flags: number;
}

/** A section header. `flags` holds SHF_WRITE = 1, SHF_ALLOC = 2,
 *  SHF_EXECINSTR = 4; `type` is sh_type (SHT_NOBITS = 8 has no file bytes). */
export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfFile {
  /** ET_EXEC is loaded at its link-time addresses, ET_DYN (PIE, libraries) anywhere. */
  type: 'exec' | 'dyn' | 'other';
  /** e_machine; always 62 (x86-64) for a successful read. */
  machine: number;
  entry: number;
  /** Loads no shared libraries: no PT_INTERP and no DT_NEEDED (static and static-pie). */
  isStatic: boolean;
  /** Program interpreter (PT_INTERP), e.g. /lib64/ld-linux-x86-64.so.2. */
  interp?: string;
  /** Defined symbols of .symtab, then those of .dynsym not already listed,
   *  then one "NAME@plt" per PLT stub (as objdump shows them, so that traced
   *  calls into shared libraries have names). Undefined, absolute, section
   *  and file symbols are left out. */
  symbols: ElfSymbol[];
  /** Has a .symtab section (local symbols included). */
  hasSymtab: boolean;
  /** No .symtab: only exported (.dynsym) names, if any, are known. */
  stripped: boolean;
  /** PT_LOAD segments in file order. */
  segments: ElfSegment[];
  /** Section headers in file order (index 0, the null section, included);
   *  empty when the file has none. */
  sections: ElfSection[];
}

/** An ELF file's bytes: the whole file in memory (bufferBytes), or read
 *  from an open file a range at a time, so that a caller that needs a few
 *  sections of a large library reads only those. */
export interface ElfBytes {
  /** The file's length. */
  size: number;
  /** The `length` bytes at file offset `offset` (within `size`), index 0
   *  being that offset. The result may be a view that the next call
   *  overwrites: use it before reading again. */
  read(offset: number, length: number): Buffer;
}

/** bufferBytes -- ElfBytes of a whole file held in memory. */
export function bufferBytes(buf: Buffer): ElfBytes {
  return { size: buf.length, read: (offset, length) => buf.subarray(offset, offset + length) };
}

export type ElfFailureReason = 'not-elf' | 'not-64-bit' | 'not-x86-64' | 'truncated';

export type ReadElfResult =
  | { ok: true; elf: ElfFile }
  /** `message` is a phrase without the file name, e.g. "32-bit ELF file (ELFCLASS32)". */
  | { ok: false; reason: ElfFailureReason; message: string };

const EM_X86_64 = 62;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const DYN_SIZE = 16;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const PN_XNUM = 0xffff;
const DT_NULL = 0;
const DT_NEEDED = 1;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_SECTION = 3;
const STT_FILE = 4;
const SHN_XINDEX = 0xffff;
const RELA_SIZE = 24;
const R_X86_64_GLOB_DAT = 6;
const R_X86_64_JUMP_SLOT = 7;

const MACHINES: Record<number, string> = {
  2: 'SPARC',
  3: 'x86 (i386)',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  22: 'IBM S/390',
  40: 'ARM',
  43: 'SPARC V9',
  50: 'IA-64',
  183: 'AArch64',
  243: 'RISC-V',
  258: 'LoongArch',
};

/** A failure found while walking the tables; turned into a result at the top. */
class Truncated extends Error {}

/** Little-endian fields read from the bytes themselves: Buffer's readers
 *  validate their offset through a wrapper that allocates its arguments
 *  in cold code (the symbolizer's first parse of libpmem, libpmemobj and
 *  txmap in a fresh process: 24-42 ms of CPU, median 27, and 552-678 page
 *  faults with them; 20-37 ms, median 22, and 498-526 without, as
 *  docs/recording.md says after "Runs packed"). Out of range throws
 *  RangeError, as theirs does. */
function u16(buf: Buffer, at: number): number {
  if (!(at >= 0 && at + 2 <= buf.length)) throw new RangeError(`offset ${at} is out of range`);
  return buf[at] + buf[at + 1] * 2 ** 8;
}

function u32(buf: Buffer, at: number): number {
  if (!(at >= 0 && at + 4 <= buf.length)) throw new RangeError(`offset ${at} is out of range`);
  return buf[at] + buf[at + 1] * 2 ** 8 + buf[at + 2] * 2 ** 16 + buf[at + 3] * 2 ** 24;
}

function i32(buf: Buffer, at: number): number {
  const value = u32(buf, at);
  return value >= 2 ** 31 ? value - 2 ** 32 : value;
}

/** A 64-bit field as a Number (rounded past 2^53 as Number(BigInt) is):
 *  two 32-bit reads, cheaper than a BigInt in cold code. */
function u64(buf: Buffer, at: number): number {
  return u32(buf, at) + u32(buf, at + 4) * 2 ** 32;
}

function describeStart(buf: Buffer): string {
  if (buf.length === 0) return 'empty file';
  const head = buf.subarray(0, 16);
  const printable = head.every((byte) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127));
  if (printable) return `text starting with ${JSON.stringify(head.toString('latin1'))}`;
  return `starts with bytes ${Array.from(head.subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join(' ')}`;
}

export interface ReadElfOptions {
  /** false: leave `symbols` empty, for callers that need only the file's
   *  layout (segments, sections); naming every symbol of a large library
   *  costs more than the rest of the parse. */
  symbols?: boolean;
}

/** Why a file whose first bytes are `head` (as many of its first 64 as it
 *  has) and whose length is `size` is not an ELF64 little-endian x86-64
 *  file, or undefined when it is one as far as its ELF header says. */
function identFailure(head: Buffer, size: number): ReadElfResult | undefined {
  if (size < 4 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    return { ok: false, reason: 'not-elf', message: `not an ELF file (${describeStart(head)})` };
  }
  if (size < 6) return { ok: false, reason: 'truncated', message: `truncated ELF file (${size} bytes)` };
  const elfClass = head[4];
  if (elfClass === 1) return { ok: false, reason: 'not-64-bit', message: '32-bit ELF file (ELFCLASS32)' };
  if (elfClass !== 2)
    return { ok: false, reason: 'not-elf', message: `not a valid ELF file (unknown class ${elfClass})` };
  if (head[5] !== 1) {
    return { ok: false, reason: 'not-x86-64', message: 'big-endian ELF file (x86-64 is little-endian)' };
  }
  if (size < EHDR_SIZE) {
    return {
      ok: false,
      reason: 'truncated',
      message: `truncated ELF file (${size} bytes, shorter than the 64-byte ELF header)`,
    };
  }
  const machine = u16(head, 18);
  if (machine !== EM_X86_64) {
    const name = MACHINES[machine] ?? 'an unknown machine';
    return { ok: false, reason: 'not-x86-64', message: `ELF file for ${name} (e_machine ${machine}), not x86-64` };
  }
  return undefined;
}

/** readElf -- parse an ELF64 little-endian x86-64 file held in memory. */
export function readElf(buf: Buffer, options: ReadElfOptions = {}): ReadElfResult {
  const failure = identFailure(buf.subarray(0, EHDR_SIZE), buf.length);
  if (failure) return failure;
  const withSymbols = options.symbols ?? true;
  return parsed(() => {
    const layout = parseLayout(bufferBytes(buf));
    return withSymbols ? { ...layout.elf, ...symbolsOf(buf, layout.sections) } : layout.elf;
  });
}

/** readElfLayout -- readElf without symbols of a file read through
 *  `bytes`: its ELF header, program and section headers, section names,
 *  PT_INTERP and PT_DYNAMIC, nothing else. */
export function readElfLayout(bytes: ElfBytes): ReadElfResult {
  const failure = identFailure(bytes.read(0, Math.min(bytes.size, EHDR_SIZE)), bytes.size);
  if (failure) return failure;
  return parsed(() => parseLayout(bytes).elf);
}

function parsed(parse: () => ElfFile): ReadElfResult {
  try {
    return { ok: true, elf: parse() };
  } catch (err) {
    if (err instanceof Truncated)
      return { ok: false, reason: 'truncated', message: `truncated or corrupt ELF file (${err.message})` };
    throw err;
  }
}

interface Section extends ElfSection {
  link: number;
  entsize: number;
}

interface Layout {
  elf: ElfFile;
  /** The section headers with what reading symbols needs too. */
  sections: Section[];
}

/** Everything of ElfFile but its symbols, through `bytes`. Each read is
 *  used up before the next, since it may be a view the next overwrites. */
function parseLayout(bytes: ElfBytes): Layout {
  const { size } = bytes;
  const head = bytes.read(0, EHDR_SIZE);
  const eType = u16(head, 16);
  const entry = u64(head, 24);
  const phoff = u64(head, 32);
  const shoff = u64(head, 40);
  const phentsize = u16(head, 54);
  let phnum = u16(head, 56);
  const shentsize = u16(head, 58);
  let shnum = u16(head, 60);
  let shstrndx = u16(head, 62);

  // Section 0 carries the real counts when they overflow 16 bits.
  if (shoff !== 0) {
    if (shentsize !== SHDR_SIZE) throw new Truncated(`section header size ${shentsize}, expected ${SHDR_SIZE}`);
    within(size, shoff, SHDR_SIZE, 'section header table');
    const first = bytes.read(shoff, SHDR_SIZE);
    if (shnum === 0) shnum = u64(first, 32);
    if (phnum === PN_XNUM) phnum = u32(first, 44);
    if (shstrndx === SHN_XINDEX) shstrndx = u32(first, 40);
  }
  if (phnum > 0 && phentsize !== PHDR_SIZE)
    throw new Truncated(`program header size ${phentsize}, expected ${PHDR_SIZE}`);
  within(size, phoff, phnum * PHDR_SIZE, 'program header table');
  if (shoff !== 0) within(size, shoff, shnum * SHDR_SIZE, 'section header table');

  const segments: ElfSegment[] = [];
  let interpAt: { offset: number; size: number } | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  const phdrs = bytes.read(phoff, phnum * PHDR_SIZE);
  for (let i = 0; i < phnum; i++) {
    const at = i * PHDR_SIZE;
    const type = u32(phdrs, at);
    const offset = u64(phdrs, at + 8);
    const filesz = u64(phdrs, at + 32);
    if (type === PT_LOAD) {
      segments.push({
        vaddr: u64(phdrs, at + 16),
        memsz: u64(phdrs, at + 40),
        offset,
        filesz,
        flags: u32(phdrs, at + 4),
      });
    } else if (type === PT_INTERP) {
      within(size, offset, filesz, 'PT_INTERP');
      interpAt = { offset, size: filesz };
    } else if (type === PT_DYNAMIC) {
      within(size, offset, filesz, 'PT_DYNAMIC');
      dynamic = { offset, size: filesz };
    }
  }
  const interp = interpAt && cString(bytes.read(interpAt.offset, interpAt.size), 0, interpAt.size);

  let needed = false;
  if (dynamic) {
    const entries = bytes.read(dynamic.offset, dynamic.size);
    for (let at = 0; at + DYN_SIZE <= dynamic.size; at += DYN_SIZE) {
      const tag = Number(entries.readBigInt64LE(at));
      if (tag === DT_NULL) break;
      if (tag === DT_NEEDED) needed = true;
    }
  }

  const sections: Section[] = [];
  const nameOffsets: number[] = [];
  const shdrs = shoff !== 0 ? bytes.read(shoff, shnum * SHDR_SIZE) : Buffer.alloc(0);
  for (let i = 0; shoff !== 0 && i < shnum; i++) {
    const at = i * SHDR_SIZE;
    nameOffsets.push(u32(shdrs, at));
    sections.push({
      name: '',
      type: u32(shdrs, at + 4),
      flags: u64(shdrs, at + 8),
      addr: u64(shdrs, at + 16),
      offset: u64(shdrs, at + 24),
      size: u64(shdrs, at + 32),
      link: u32(shdrs, at + 40),
      entsize: u64(shdrs, at + 56),
    });
  }
  const names = sections[shstrndx];
  if (names && names.type !== SHT_NOBITS) {
    within(size, names.offset, names.size, 'section name table');
    const table = bytes.read(names.offset, names.size);
    sections.forEach((section, i) => {
      if (nameOffsets[i] < names.size) section.name = cString(table, nameOffsets[i], names.size);
    });
  }
  const hasSymtab = sections.some((section) => section.type === SHT_SYMTAB);
  const elf: ElfFile = {
    type: eType === 2 ? 'exec' : eType === 3 ? 'dyn' : 'other',
    machine: EM_X86_64,
    entry,
    isStatic: interp === undefined && !needed,
    ...(interp !== undefined ? { interp } : {}),
    symbols: [],
    hasSymtab,
    stripped: !hasSymtab,
    segments,
    sections: sections.map(({ name, type, flags, addr, offset, size }) => ({ name, type, flags, addr, offset, size })),
  };
  return { elf, sections };
}

/** The defined symbols of .symtab, then those of .dynsym not already
 *  listed, then the PLT stubs' (ElfFile.symbols). */
function symbolsOf(buf: Buffer, sections: Section[]): { symbols: ElfSymbol[] } {
  const symtab = sections.find((section) => section.type === SHT_SYMTAB);
  const dynsym = sections.find((section) => section.type === SHT_DYNSYM);
  const symbols: ElfSymbol[] = [];
  const seen = new Set<string>();
  const tables = [symtab, dynsym].filter((table): table is Section => table !== undefined);
  for (const symbol of [
    ...tables.flatMap((table) => readSymbols(buf, table, sections)),
    ...pltSymbols(buf, sections),
  ]) {
    const key = `${symbol.name}\0${symbol.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    symbols.push(symbol);
  }
  return { symbols };
}

function within(fileSize: number, offset: number, size: number, what: string): void {
  if (offset + size > fileSize) {
    throw new Truncated(`${what} at offset ${offset}, ${size} bytes, ends past the end of the ${fileSize}-byte file`);
  }
}

function cString(buf: Buffer, start: number, limit: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 || end > limit ? limit : end);
}

/** Name of symbol `index` of a symbol table, '' if there is none. */
function symbolName(buf: Buffer, table: Section, index: number, sections: Section[]): string {
  const strings = sections[table.link];
  const at = table.offset + index * SYM_SIZE;
  if (!strings || index === 0 || at + SYM_SIZE > table.offset + table.size) return '';
  within(buf.length, table.offset, table.size, 'symbol table');
  within(buf.length, strings.offset, strings.size, 'string table');
  const nameOffset = u32(buf, at);
  return nameOffset < strings.size ? cString(buf, strings.offset + nameOffset, strings.offset + strings.size) : '';
}

/** PLT stubs, named the way objdump names them: every stub is (or, after
 *  an endbr64, contains) `jmp *slot(%rip)`, and the GOT slot it jumps
 *  through is the target of a JUMP_SLOT or GLOB_DAT relocation naming the
 *  symbol. Decoding the jump instead of assuming an entry order works for
 *  lazy .plt, .plt.sec (IBT) and .plt.got alike. */
function pltSymbols(buf: Buffer, sections: Section[]): ElfSymbol[] {
  const slots = new Map<number, string>();
  for (const rela of sections) {
    if (rela.type !== SHT_RELA || rela.entsize !== RELA_SIZE) continue;
    const table = sections[rela.link];
    if (!table || (table.type !== SHT_DYNSYM && table.type !== SHT_SYMTAB)) continue;
    within(buf.length, rela.offset, rela.size, 'relocation table');
    for (let at = rela.offset; at + RELA_SIZE <= rela.offset + rela.size; at += RELA_SIZE) {
      const type = u32(buf, at + 8);
      if (type !== R_X86_64_JUMP_SLOT && type !== R_X86_64_GLOB_DAT) continue;
      const name = symbolName(buf, table, u32(buf, at + 12), sections);
      if (name !== '') slots.set(u64(buf, at), name);
    }
  }
  const symbols: ElfSymbol[] = [];
  if (slots.size === 0) return symbols;
  for (const plt of sections) {
    if (plt.type === SHT_NOBITS || !/^\.plt(\.sec|\.got)?$/.test(plt.name)) continue;
    within(buf.length, plt.offset, plt.size, `${plt.name} section`);
    const entry = plt.entsize >= 8 && plt.entsize <= 32 ? plt.entsize : 16;
    for (let start = 0; start + entry <= plt.size; start += entry) {
      for (let i = start; i + 6 <= start + entry; i++) {
        // ff 25 disp32: jmp *disp32(%rip), possibly after endbr64 or a bnd prefix
        if (buf[plt.offset + i] !== 0xff || buf[plt.offset + i + 1] !== 0x25) continue;
        const slot = plt.addr + i + 6 + i32(buf, plt.offset + i + 2);
        const name = slots.get(slot);
        if (name !== undefined)
          symbols.push({ name: `${name}@plt`, value: plt.addr + start, size: entry, type: 'func', bind: 'local' });
        break;
      }
    }
  }
  return symbols;
}

function readSymbols(buf: Buffer, table: Section, sections: Section[]): ElfSymbol[] {
  if (table.type === SHT_NOBITS || table.size === 0) return [];
  if (table.entsize !== SYM_SIZE) throw new Truncated(`symbol size ${table.entsize}, expected ${SYM_SIZE}`);
  within(buf.length, table.offset, table.size, 'symbol table');
  const strings = sections[table.link];
  if (!strings) throw new Truncated(`symbol table names string table ${table.link}, which does not exist`);
  within(buf.length, strings.offset, strings.size, 'string table');
  const symbols: ElfSymbol[] = [];
  const count = Math.floor(table.size / SYM_SIZE);
  for (let i = 1; i < count; i++) {
    const at = table.offset + i * SYM_SIZE;
    const info = buf[at + 4];
    const kind = info & 0xf;
    const shndx = u16(buf, at + 6);
    // Undefined symbols are imports; absolute ones are not addresses in the
    // image; section and file symbols name no code. SHN_XINDEX (the index
    // is elsewhere) still means defined, which is all that matters here.
    if (shndx === SHN_UNDEF || shndx === SHN_ABS || kind === STT_SECTION || kind === STT_FILE) continue;
    const nameOffset = u32(buf, at);
    if (nameOffset >= strings.size) throw new Truncated(`symbol name offset ${nameOffset} past its string table`);
    const name = cString(buf, strings.offset + nameOffset, strings.offset + strings.size);
    if (name === '') continue;
    const bindBits = info >> 4;
    symbols.push({
      name,
      value: u64(buf, at + 8),
      size: u64(buf, at + 16),
      type: kind === STT_FUNC ? 'func' : kind === STT_OBJECT ? 'object' : 'other',
      bind: bindBits === 0 ? 'local' : bindBits === 1 ? 'global' : bindBits === 2 ? 'weak' : 'other',
    });
  }
  return symbols;
}
