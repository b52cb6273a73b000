// flush-sites -- every clflush, clflushopt and clwb a process can run, by
// address, proven to be the first byte of an instruction, so that the
// recorder may put an int3 there instead of keeping a page PROT_NONE to make
// a flush of it fault. An int3 anywhere else would corrupt the program, and a
// flush left out would run unseen, so anything not proven is said to be so.
//
// The proof, per ELF file: every byte pair 0F AE followed by a ModRM with
// mod != 3 and reg 6 or 7 in an executable section is a candidate (every
// encoding of the three has one, whatever its prefixes: 0F AE /7 clflush,
// 66 0F AE /7 clflushopt, 66 0F AE /6 clwb). A candidate is settled by
// decoding linearly from the start of the FDE (harness/elf/eh-frame.ts) that
// covers it, a function's first instruction as its compiler marked it: the
// flushes that decoding meets are sites, and a candidate that it passes
// inside another instruction (an immediate, a displacement, xsaveopt) is
// none. A candidate in no FDE, in more than one, or behind bytes that do not
// decode is unproven. Only FDEs with candidates are decoded: most code has
// none, so most files cost a read and a byte search.

import * as fs from 'fs';
import type * as Iced from 'iced-x86';
import type { FdeRange } from './eh-frame';
import { readEhFrame } from './eh-frame';
import type { MapEntry } from './proc-maps';
import { mapsDevice } from './proc-maps';
import type { ElfFile, ElfSegment } from './read-elf';
import { readElf } from './read-elf';

export interface UnprovenCandidate {
  /** Link-time address of the candidate's 0F byte. */
  vaddr: number;
  why: string;
}

export interface FlushSites {
  /** Link-time addresses of the flush instructions' first bytes, sorted. */
  sites: number[];
  /** Candidates neither proven a site nor proven none, in address order. */
  unproven: UnprovenCandidate[];
}

export type FileFlushSites =
  | ({ ok: true; segments: ElfSegment[] } & FlushSites)
  /** `why` is a phrase without the file name. */
  | { ok: false; why: string };

export interface ProcessFlushSites {
  /** Run-time addresses of every flush site in the process's code, sorted, no duplicates. */
  addresses: number[];
  /** Every executable mapping was proven: its flushes are all in `addresses`. */
  complete: boolean;
  /** When not complete, the first reason, one line naming the mapping. */
  why?: string;
}

const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const SHT_NOBITS = 8;
const PF_X = 1;
const OPCODE = Buffer.from([0x0f, 0xae]);

const hex = (value: number) => `0x${value.toString(16)}`;

/** candidateOffsets -- offsets in `bytes` of the 0F of every 0F AE whose
 *  ModRM has mod != 3 and reg 6 or 7. */
function candidateOffsets(bytes: Buffer): number[] {
  const found: number[] = [];
  for (let at = bytes.indexOf(OPCODE); at >= 0 && at + 2 < bytes.length; at = bytes.indexOf(OPCODE, at + 1)) {
    const modrm = bytes[at + 2];
    const reg = (modrm >> 3) & 7;
    if (modrm >> 6 !== 3 && (reg === 6 || reg === 7)) found.push(at);
  }
  return found;
}

interface CodeRange {
  addr: number;
  bytes: Buffer;
}

/** The file's executable code: its allocated SHF_EXECINSTR sections, or its
 *  executable segments when it has no section headers. */
function codeRanges(buf: Buffer, elf: ElfFile): CodeRange[] {
  const slice = (offset: number, size: number) => buf.subarray(offset, Math.min(offset + size, buf.length));
  if (elf.sections.length === 0) {
    return elf.segments
      .filter((segment) => segment.flags & PF_X)
      .map((segment) => ({ addr: segment.vaddr, bytes: slice(segment.offset, segment.filesz) }));
  }
  return elf.sections
    .filter(
      (section) =>
        section.type !== SHT_NOBITS && (section.flags & (SHF_ALLOC | SHF_EXECINSTR)) === (SHF_ALLOC | SHF_EXECINSTR),
    )
    .map((section) => ({ addr: section.addr, bytes: slice(section.offset, section.size) }));
}

/** The iced-x86 objects a decoding needs, made on first use: most files have
 *  no candidate and need no WebAssembly. */
interface Decoding {
  iced: typeof Iced;
  instruction: Iced.Instruction;
  flushes: Set<Iced.Mnemonic>;
}

let decoding: Decoding | undefined;

function decodingState(): Decoding {
  if (decoding) return decoding;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const iced = require('iced-x86') as typeof Iced;
  const { Mnemonic: M } = iced;
  decoding = { iced, instruction: new iced.Instruction(), flushes: new Set([M.Clflush, M.Clflushopt, M.Clwb]) };
  return decoding;
}

interface LinearDecode {
  /** Start and end of each flush instruction met. */
  flushes: { start: number; end: number }[];
  /** Where the first instruction that does not decode (or runs past the
   *  FDE's end) starts; absent when decoding got past the last candidate. */
  failedAt?: number;
}

/** Decode `bytes`, the FDE's code at link-time address `begin`, one
 *  instruction after another, up to the one that holds `last`. */
function decodeLinearly(bytes: Buffer, begin: number, last: number): LinearDecode {
  const { iced, instruction, flushes: mnemonics } = decodingState();
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  const flushes: LinearDecode['flushes'] = [];
  try {
    decoder.ip = BigInt(begin);
    for (let at = begin; decoder.canDecode && at <= last; at = begin + decoder.position) {
      decoder.decodeOut(instruction);
      if (instruction.isInvalid) return { flushes, failedAt: at };
      if (mnemonics.has(instruction.mnemonic)) flushes.push({ start: at, end: at + instruction.length });
    }
  } finally {
    decoder.free();
  }
  return { flushes };
}

/** The FDEs covering `address`: `fdes` sorted by begin, `reach[i]` the
 *  largest end among fdes[0..i]. */
function coveringFdes(fdes: FdeRange[], reach: number[], address: number): FdeRange[] {
  let lo = 0;
  let hi = fdes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fdes[mid].begin <= address) lo = mid + 1;
    else hi = mid;
  }
  const found: FdeRange[] = [];
  for (let i = lo - 1; i >= 0 && reach[i] > address; i--) if (address < fdes[i].end) found.push(fdes[i]);
  return found;
}

/** findFlushSites -- the flush sites of a parsed ELF file (`buf` its bytes). */
export function findFlushSites(buf: Buffer, elf: ElfFile): FlushSites {
  const code = codeRanges(buf, elf);
  const candidates = code.flatMap((range) => candidateOffsets(range.bytes).map((offset) => range.addr + offset));
  if (candidates.length === 0) return { sites: [], unproven: [] };
  candidates.sort((a, b) => a - b);

  const eh = readEhFrame(buf, elf);
  const fdes = [...eh.fdes].sort((a, b) => a.begin - b.begin);
  const reach: number[] = [];
  fdes.forEach((fde, i) => reach.push(Math.max(fde.end, i > 0 ? reach[i - 1] : 0)));

  const unproven = new Map<number, string>();
  const byFde = new Map<FdeRange, number[]>();
  for (const candidate of candidates) {
    const covering = coveringFdes(fdes, reach, candidate);
    if (covering.length === 0) {
      unproven.set(candidate, `in no FDE${eh.problem ? ` (.eh_frame: ${eh.problem})` : ''}`);
    } else if (covering.length > 1) {
      unproven.set(candidate, `in ${covering.length} overlapping FDEs`);
    } else {
      const inside = byFde.get(covering[0]);
      if (inside) inside.push(candidate);
      else byFde.set(covering[0], [candidate]);
    }
  }

  const sites: number[] = [];
  for (const [fde, inside] of byFde) {
    const name = `FDE ${hex(fde.begin)}-${hex(fde.end)}`;
    const range = code.find((r) => r.addr <= fde.begin && fde.end <= r.addr + r.bytes.length);
    if (!range) {
      for (const candidate of inside) unproven.set(candidate, `in ${name}, which is not within one executable section`);
      continue;
    }
    const bytes = range.bytes.subarray(fde.begin - range.addr, fde.end - range.addr);
    const decoded = decodeLinearly(bytes, fde.begin, inside[inside.length - 1]);
    const { failedAt } = decoded;
    if (failedAt !== undefined) {
      for (const candidate of inside) {
        if (candidate >= failedAt)
          unproven.set(candidate, `in ${name}, whose linear decoding fails at ${hex(failedAt)} before reaching it`);
      }
    }
    // A flush whose own opcode bytes are unproven (another FDE covers them
    // too) is not a site either.
    for (const flush of decoded.flushes) {
      let proven = true;
      for (let at = flush.start; at < flush.end; at++) if (unproven.has(at)) proven = false;
      if (proven) sites.push(flush.start);
    }
  }
  return {
    sites: [...new Set(sites)].sort((a, b) => a - b),
    unproven: [...unproven].map(([vaddr, why]) => ({ vaddr, why })).sort((a, b) => a.vaddr - b.vaddr),
  };
}

const files = new Map<string, FileFlushSites>();

/** fileFlushSites -- findFlushSites of the file at `path` as it is now (its
 *  `stat`), cached for the life of the process per path, device, inode, size
 *  and modification time: the same libraries come back in every run. */
export function fileFlushSites(path: string, stat: fs.Stats): FileFlushSites {
  const key = `${path}\0${stat.dev}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
  const cached = files.get(key);
  if (cached) return cached;
  let result: FileFlushSites;
  try {
    const buf = fs.readFileSync(path);
    const read = readElf(buf, { symbols: false });
    result = read.ok
      ? { ok: true, segments: read.elf.segments, ...findFlushSites(buf, read.elf) }
      : { ok: false, why: read.message };
  } catch (err) {
    result = { ok: false, why: `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  files.set(key, result);
  return result;
}

/** File offset of link-time address `vaddr`, through the executable segment
 *  that loads it from the file. */
function fileOffsetOf(segments: ElfSegment[], vaddr: number): number | undefined {
  const segment = segments.find((s) => s.flags & PF_X && s.vaddr <= vaddr && vaddr < s.vaddr + s.filesz);
  return segment ? segment.offset + (vaddr - segment.vaddr) : undefined;
}

function describe(entry: MapEntry): string {
  return `${entry.path || '[anonymous]'} at ${hex(entry.start)}-${hex(entry.end)}`;
}

/** Why a file-backed executable mapping is not proven, or its sites. */
function mappedFileSites(entry: MapEntry): { addresses: number[]; why?: string } {
  const where = describe(entry);
  if (entry.path.endsWith(' (deleted)')) return { addresses: [], why: `${where}: the file was deleted or replaced` };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(entry.path);
  } catch (err) {
    return { addresses: [], why: `${where}: cannot stat it (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  if (stat.ino !== entry.inode || mapsDevice(stat.dev) !== entry.dev)
    return { addresses: [], why: `${where}: the file at that path is no longer the one mapped` };
  const file = fileFlushSites(entry.path, stat);
  if (!file.ok) return { addresses: [], why: `${where}: ${file.why}` };
  const mapped = (vaddr: number): number | undefined => {
    const offset = fileOffsetOf(file.segments, vaddr);
    if (offset === undefined || offset < entry.offset || offset >= entry.offset + (entry.end - entry.start))
      return undefined;
    return entry.start + (offset - entry.offset);
  };
  const addresses = file.sites.map(mapped).filter((address): address is number => address !== undefined);
  const unproven = file.unproven.filter((candidate) => mapped(candidate.vaddr) !== undefined);
  if (unproven.length === 0) return { addresses };
  const first = unproven[0];
  const more = unproven.length > 1 ? ` (and ${unproven.length - 1} more)` : '';
  return {
    addresses,
    why: `${where}: possible flush at link-time ${hex(first.vaddr)} unproven: ${first.why}${more}`,
  };
}

/** Why code with no ELF file to prove it ([vdso], anonymous memory) is not
 *  proven: any candidate at all, or its bytes cannot be read. */
function unbackedCode(pid: number, entry: MapEntry): string | undefined {
  const where = describe(entry);
  const bytes = Buffer.alloc(entry.end - entry.start);
  let fd: number | undefined;
  try {
    fd = fs.openSync(`/proc/${pid}/mem`, 'r');
    const read = fs.readSync(fd, bytes, 0, bytes.length, entry.start);
    if (read !== bytes.length) return `${where}: read ${read} of its ${bytes.length} bytes from /proc/${pid}/mem`;
  } catch (err) {
    return `${where}: cannot read /proc/${pid}/mem (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const found = candidateOffsets(bytes);
  if (found.length === 0) return undefined;
  return `${where}: possible flush at ${hex(entry.start + found[0])} in code without an ELF file to prove it`;
}

/** processFlushSites -- the flush sites of every executable mapping of
 *  process `pid` (`maps` its /proc/PID/maps), at their run-time addresses. */
export function processFlushSites(pid: number, maps: MapEntry[]): ProcessFlushSites {
  const addresses = new Set<number>();
  let why: string | undefined;
  for (const entry of maps) {
    if (entry.perms[2] !== 'x') continue;
    // The legacy vsyscall page: the kernel's own fixed code (or a trap that
    // emulates it), which the program cannot change and which has no flush.
    if (entry.path === '[vsyscall]') continue;
    let reason: string | undefined;
    if (entry.perms[1] === 'w') {
      reason = `${describe(entry)} is writable and executable: its code can change without a system call`;
    } else if (entry.perms[3] === 's') {
      reason = `${describe(entry)} is a shared executable mapping: its code can change without a system call`;
    } else if (entry.path === '' || entry.path.startsWith('[')) {
      reason = unbackedCode(pid, entry);
    } else {
      const found = mappedFileSites(entry);
      for (const address of found.addresses) addresses.add(address);
      reason = found.why;
    }
    why ??= reason;
  }
  return {
    addresses: [...addresses].sort((a, b) => a - b),
    complete: why === undefined,
    ...(why !== undefined ? { why } : {}),
  };
}
