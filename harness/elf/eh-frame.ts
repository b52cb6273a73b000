// eh-frame -- the address ranges an ELF file's .eh_frame describes: one
// [begin, end) per FDE, each the extent of one function (or one part of
// it) as its compiler or assembler marked it with .cfi_startproc and
// .cfi_endproc. A range starts at an instruction and ends where one ends,
// which is what the flush-site finder needs to decode linearly from a known
// instruction boundary (harness/elf/flush-sites.ts).
//
// Pure over ElfBytes (harness/elf/read-elf.ts), of which it reads the
// section alone. The format is the Linux Standard Base's ("Exception
// Frames"): CIEs and FDEs one after another up to a zero length or the end
// of the section, each with a 32-bit length (0xffffffff announcing a 64-bit
// one) and a 32-bit CIE id (0 in a CIE) or CIE pointer (in an FDE, the
// distance back from that field to its CIE). An FDE's pc_begin is encoded
// as its CIE's 'R' augmentation says (absptr by default) and its pc_range in
// the same format without the application. Damage or an encoding this
// reader does not know ends the walk with a `problem`: the FDEs read until
// then are kept, and whatever lies in the ones that were not read counts as
// covered by none, which the callers treat as unknown rather than as code.

import type { ElfBytes, ElfFile, ElfSection } from './read-elf';

export interface FdeRange {
  /** Link-time address of the first instruction. */
  begin: number;
  /** One past the last byte. */
  end: number;
}

export interface EhFrame {
  /** In section order; FDEs whose range is empty are left out, and those
   *  that cover none of the addresses asked about. */
  fdes: FdeRange[];
  /** Why the walk stopped before the section's end or its terminator, or why
   *  there is nothing to walk; one phrase. */
  problem?: string;
}

const SHT_NOBITS = 8;

// Pointer encodings (DW_EH_PE_*): the low nibble is the format, bits 4-6 the
// application, bit 7 "indirect".
const PE_ABSPTR = 0x00;
const PE_ULEB128 = 0x01;
const PE_UDATA2 = 0x02;
const PE_UDATA4 = 0x03;
const PE_UDATA8 = 0x04;
const PE_SLEB128 = 0x09;
const PE_SDATA2 = 0x0a;
const PE_SDATA4 = 0x0b;
const PE_SDATA8 = 0x0c;
const PE_PCREL = 0x10;
const PE_DATAREL = 0x30;
const PE_INDIRECT = 0x80;
const PE_PCREL_SDATA4 = PE_PCREL | PE_SDATA4;

/** A damaged or unsupported entry; turned into `problem` at the top. */
class Stop extends Error {}

/** Reads one entry's fields, never past `limit`. */
class Cursor {
  constructor(
    private readonly buf: Buffer,
    public at: number,
    private readonly limit: number,
  ) {}

  private need(bytes: number): void {
    if (this.at + bytes > this.limit) throw new Stop(`entry truncated at .eh_frame offset 0x${this.at.toString(16)}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++];
  }

  fixed(bytes: 2 | 4 | 8, signed: boolean): number {
    this.need(bytes);
    const at = this.at;
    this.at += bytes;
    if (bytes === 2) return signed ? this.buf.readInt16LE(at) : this.buf.readUInt16LE(at);
    if (bytes === 4) return signed ? this.buf.readInt32LE(at) : this.buf.readUInt32LE(at);
    return Number(signed ? this.buf.readBigInt64LE(at) : this.buf.readBigUInt64LE(at));
  }

  leb(signed: boolean): number {
    let value = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = this.u8();
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    if (signed && byte & 0x40) value -= scale;
    return value;
  }

  cString(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0 || end >= this.limit)
      throw new Stop(`unterminated augmentation string at offset 0x${this.at.toString(16)}`);
    const text = this.buf.toString('latin1', this.at, end);
    this.at = end + 1;
    return text;
  }
}

/** The value of a pointer encoded as `encoding`, its field at link-time
 *  address `fieldAddress`. `dataBase` is what datarel counts from, where the
 *  caller knows it. */
function readEncoded(cursor: Cursor, encoding: number, fieldAddress: number, dataBase?: number): number {
  let value: number;
  switch (encoding & 0x0f) {
    case PE_ABSPTR:
    case PE_UDATA8:
      value = cursor.fixed(8, false);
      break;
    case PE_ULEB128:
      value = cursor.leb(false);
      break;
    case PE_UDATA2:
      value = cursor.fixed(2, false);
      break;
    case PE_UDATA4:
      value = cursor.fixed(4, false);
      break;
    case PE_SLEB128:
      value = cursor.leb(true);
      break;
    case PE_SDATA2:
      value = cursor.fixed(2, true);
      break;
    case PE_SDATA4:
      value = cursor.fixed(4, true);
      break;
    case PE_SDATA8:
      value = cursor.fixed(8, true);
      break;
    default:
      throw new Stop(`unknown pointer format 0x${(encoding & 0x0f).toString(16)}`);
  }
  switch (encoding & 0x70) {
    case 0:
      return value;
    case PE_PCREL:
      return fieldAddress + value;
    case PE_DATAREL:
      if (dataBase === undefined) throw new Stop('datarel pointer without a data base');
      return dataBase + value;
    default:
      throw new Stop(`unsupported pointer application 0x${(encoding & 0x70).toString(16)}`);
  }
}

/** The part of a CIE its FDEs need. */
interface Cie {
  /** Encoding of pc_begin and pc_range ('R'); absptr without one. */
  fdeEncoding: number;
  /** 'z': FDEs carry an augmentation data length before their instructions. */
  hasAugmentationData: boolean;
}

/** A CIE whose section (the buffer `cursor` reads, from its offset 0) is
 *  loaded at `sectionAddress`. */
function readCie(cursor: Cursor, end: number, sectionAddress: number): Cie {
  const version = cursor.u8();
  if (version !== 1 && version !== 3) throw new Stop(`CIE version ${version}`);
  const augmentation = cursor.cString();
  cursor.leb(false); // code alignment factor
  cursor.leb(true); // data alignment factor
  if (version === 1) cursor.u8();
  else cursor.leb(false); // return address register
  const cie: Cie = { fdeEncoding: PE_ABSPTR, hasAugmentationData: false };
  if (augmentation === '') return cie;
  if (augmentation[0] !== 'z') throw new Stop(`CIE augmentation "${augmentation}"`);
  cie.hasAugmentationData = true;
  const length = cursor.leb(false);
  const dataEnd = cursor.at + length;
  if (dataEnd > end) throw new Stop('CIE augmentation data past its entry');
  for (const letter of augmentation.slice(1)) {
    if (letter === 'R') cie.fdeEncoding = cursor.u8();
    else if (letter === 'L')
      cursor.u8(); // LSDA encoding: FDE augmentation data, skipped by its length
    else if (letter === 'P') {
      // The personality routine: read only to step over it; an indirect
      // one points at a GOT slot, which is not dereferenced here.
      const encoding = cursor.u8();
      readEncoded(cursor, encoding & ~PE_INDIRECT, sectionAddress + cursor.at, 0);
    } else if (letter !== 'S') throw new Stop(`CIE augmentation "${augmentation}" (unknown '${letter}')`);
  }
  if (cursor.at > dataEnd) throw new Stop('CIE augmentation data longer than its length');
  if (cie.fdeEncoding & PE_INDIRECT) throw new Stop('indirect FDE pointer encoding');
  return cie;
}

function ehFrameSection(elf: ElfFile): ElfSection | undefined {
  return elf.sections.find((section) => section.name === '.eh_frame' && section.type !== SHT_NOBITS);
}

/** Whether an address of `sorted` lies in [begin, end). */
function coversAny(sorted: number[], begin: number, end: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < begin) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] < end;
}

/** readEhFrame -- the FDE ranges of a parsed ELF file (`bytes` its bytes);
 *  given `covering` (sorted addresses), only the FDEs that cover one of
 *  them: a caller that needs few (libcrypto has 10,911 FDEs for its 4
 *  flush candidates) then neither keeps nor sorts the others. */
export function readEhFrame(bytes: ElfBytes, elf: ElfFile, covering?: number[]): EhFrame {
  // A relocatable object's pc_begin fields wait for the linker's relocations.
  if (elf.type === 'other') return { fdes: [], problem: 'not an executable or shared object' };
  const section = ehFrameSection(elf);
  if (!section) return { fdes: [], problem: 'no .eh_frame section' };
  if (section.offset + section.size > bytes.size)
    return { fdes: [], problem: '.eh_frame ends past the end of the file' };
  // Offsets from here on are within the section.
  const buf = bytes.read(section.offset, section.size);
  // The walk's cost is that of cold JavaScript (it runs once per file and
  // process): the common entry is read with DataView's built-in calls
  // alone, and a Cursor only for what is rare (CIEs, 64-bit lengths, an
  // encoding other than gcc's and clang's pcrel sdata4).
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const fdes: FdeRange[] = [];
  const cies = new Map<number, Cie>();
  const sectionEnd = section.size;
  const addressOf = (offset: number) => section.addr + offset;
  let at = 0;
  try {
    while (at + 4 <= sectionEnd) {
      let length = view.getUint32(at, true);
      let idField = at + 4;
      if (length === 0) break; // the terminator
      if (length === 0xffffffff) {
        const head = new Cursor(buf, idField, sectionEnd);
        length = head.fixed(8, false);
        idField = head.at;
      }
      const end = idField + length;
      if (end > sectionEnd) throw new Stop(`entry at offset 0x${at.toString(16)} ends past .eh_frame`);
      if (idField + 4 > end) throw new Stop(`entry truncated at .eh_frame offset 0x${idField.toString(16)}`);
      const id = view.getUint32(idField, true);
      const fields = idField + 4;
      if (id === 0) {
        cies.set(at, readCie(new Cursor(buf, fields, end), end, section.addr));
      } else {
        const cieAt = idField - id;
        let cie = cies.get(cieAt);
        if (!cie) {
          // A CIE after its FDE, or one this walk skipped: read it where it is.
          cie = readCieAt(buf, cieAt, section.addr);
          cies.set(cieAt, cie);
        }
        let begin: number;
        let range: number;
        if (cie.fdeEncoding === PE_PCREL_SDATA4 && fields + 8 <= end) {
          begin = addressOf(fields) + view.getInt32(fields, true);
          range = view.getInt32(fields + 4, true);
        } else {
          const cursor = new Cursor(buf, fields, end);
          begin = readEncoded(cursor, cie.fdeEncoding, addressOf(cursor.at));
          range = readEncoded(cursor, cie.fdeEncoding & 0x0f, addressOf(cursor.at));
        }
        if (range > 0 && (!covering || coversAny(covering, begin, begin + range)))
          fdes.push({ begin, end: begin + range });
      }
      at = end;
    }
  } catch (err) {
    if (err instanceof Stop) return { fdes, problem: err.message };
    throw err;
  }
  return { fdes };
}

/** The CIE at offset `at` of the section `buf` holds, loaded at `sectionAddress`. */
function readCieAt(buf: Buffer, at: number, sectionAddress: number): Cie {
  if (at < 0 || at + 8 > buf.length)
    throw new Stop(`FDE's CIE pointer leads outside .eh_frame (offset 0x${at.toString(16)})`);
  const head = new Cursor(buf, at, buf.length);
  let length = head.fixed(4, false);
  if (length === 0xffffffff) length = head.fixed(8, false);
  const end = head.at + length;
  if (length === 0 || end > buf.length) throw new Stop(`no CIE at .eh_frame offset 0x${at.toString(16)}`);
  const cursor = new Cursor(buf, head.at, end);
  if (cursor.fixed(4, false) !== 0) throw new Stop(`FDE's CIE pointer leads to an FDE (offset 0x${at.toString(16)})`);
  return readCie(cursor, end, sectionAddress);
}
