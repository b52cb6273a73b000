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
// decode is unproven. Only FDEs with candidates are decoded, each up to its
// last candidate's instruction. A file is never read whole: its headers,
// its code a chunk at a time into one reused buffer, and only when that
// holds a candidate its .eh_frame and the FDEs to decode. Most code has
// none, so most files cost reading their code and a byte search.

import * as crypto from 'crypto';
import * as fs from 'fs';
import type * as Iced from 'iced-x86';
import { icedVersion, loadIced } from '../_internals/iced';
import { isCount, isObject } from '../_internals/json-shape';
import { readCacheEntry, writeCacheEntry } from '../_internals/user-cache';
import type { FdeRange } from './eh-frame';
import { readEhFrame } from './eh-frame';
import type { MapEntry } from './proc-maps';
import { mapsDevice } from './proc-maps';
import type { ElfBytes, ElfFile, ElfSegment } from './read-elf';
import { readElfLayout } from './read-elf';

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
/** The longest x86 instruction. */
const MAX_INSTRUCTION = 15;

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

/** Executable code of a file: `size` bytes at file offset `offset`, loaded
 *  at link-time address `addr`. */
interface CodeRange {
  addr: number;
  offset: number;
  size: number;
}

/** The file's executable code: its allocated SHF_EXECINSTR sections, or its
 *  executable segments when it has no section headers; cut at the file's
 *  end. */
function codeRanges(elf: ElfFile, fileSize: number): CodeRange[] {
  const range = (addr: number, offset: number, size: number) => ({
    addr,
    offset,
    size: Math.max(0, Math.min(size, fileSize - offset)),
  });
  if (elf.sections.length === 0) {
    return elf.segments
      .filter((segment) => segment.flags & PF_X)
      .map((segment) => range(segment.vaddr, segment.offset, segment.filesz));
  }
  return elf.sections
    .filter(
      (section) =>
        section.type !== SHT_NOBITS && (section.flags & (SHF_ALLOC | SHF_EXECINSTR)) === (SHF_ALLOC | SHF_EXECINSTR),
    )
    .map((section) => range(section.addr, section.offset, section.size));
}

/** Bytes of code searched at a time: small enough that a file read into
 *  one reused buffer costs no fresh memory, which (page faults) costs more
 *  than the read itself. */
const SCAN_CHUNK = 1 << 18;

/** The link-time addresses of the candidates in `range`, read a chunk at a
 *  time; chunks overlap by the candidate's 2 bytes after the first, so that
 *  one across a chunk boundary is found once. */
function rangeCandidates(bytes: ElfBytes, range: CodeRange): number[] {
  const found: number[] = [];
  for (let start = 0; ; start += SCAN_CHUNK - 2) {
    const length = Math.min(SCAN_CHUNK, range.size - start);
    for (const offset of candidateOffsets(bytes.read(range.offset + start, length)))
      found.push(range.addr + start + offset);
    if (start + length >= range.size) return found;
  }
}

/** The iced-x86 objects a decoding needs, made on first use: most files have
 *  no candidate and need no WebAssembly. */
interface Decoding {
  iced: typeof Iced;
  instruction: Iced.Instruction;
  flushes: Set<Iced.Code>;
}

let decoding: Decoding | undefined;

function decodingState(): Decoding {
  if (decoding) return decoding;
  const iced = loadIced();
  const { Code: C } = iced;
  decoding = {
    iced,
    instruction: new iced.Instruction(),
    flushes: new Set([C.Clflush_m8, C.Clflushopt_m8, C.Clwb_m8]),
  };
  return decoding;
}

interface LinearDecode {
  /** Start and end of each flush instruction met. */
  flushes: { start: number; end: number }[];
  /** Where the first instruction that does not decode (or runs past the
   *  FDE's end) starts; absent when decoding got past the last candidate. */
  failedAt?: number;
}

/** Decode `bytes`, the FDE's code at link-time address `begin` up to its
 *  end or further than the instruction that holds `last`, one instruction
 *  after another, up to that instruction. Each step asks the WebAssembly
 *  for the instruction's code and length alone: a crossing costs more than
 *  JavaScript's own arithmetic. */
function decodeLinearly(bytes: Buffer, begin: number, last: number): LinearDecode {
  const { iced, instruction, flushes: codes } = decodingState();
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  const flushes: LinearDecode['flushes'] = [];
  try {
    for (let at = begin; at <= last && at < begin + bytes.length;) {
      decoder.decodeOut(instruction);
      const code = instruction.code;
      if (code === iced.Code.INVALID) return { flushes, failedAt: at };
      const end = at + instruction.length;
      if (codes.has(code)) flushes.push({ start: at, end });
      at = end;
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

/** findFlushSites -- the flush sites of a parsed ELF file, read through
 *  `bytes`: its code, then only when that holds a candidate, .eh_frame
 *  and the FDEs that hold candidates, each up to its last candidate's
 *  instruction. */
export function findFlushSites(bytes: ElfBytes, elf: ElfFile): FlushSites {
  const code = codeRanges(elf, bytes.size);
  const candidates = code.flatMap((range) => rangeCandidates(bytes, range));
  if (candidates.length === 0) return { sites: [], unproven: [] };
  candidates.sort((a, b) => a - b);

  const eh = readEhFrame(bytes, elf, candidates);
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
    const range = code.find((r) => r.addr <= fde.begin && fde.end <= r.addr + r.size);
    if (!range) {
      for (const candidate of inside) unproven.set(candidate, `in ${name}, which is not within one executable section`);
      continue;
    }
    const last = inside[inside.length - 1];
    // The instruction that holds `last` starts at or before it and ends
    // within MAX_INSTRUCTION bytes of it, or runs past the FDE's end.
    const length = Math.min(fde.end, last + MAX_INSTRUCTION) - fde.begin;
    const decoded = decodeLinearly(bytes.read(range.offset + (fde.begin - range.addr), length), fde.begin, last);
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

/** The buffer that fileBytes reads into, kept for the life of the process. */
let scratch = Buffer.allocUnsafeSlow(SCAN_CHUNK);

/** ElfBytes of the open file `fd` of `size` bytes, read at offsets into one
 *  reused buffer: a view of it is good until the next read. */
function fileBytes(fd: number, size: number): ElfBytes {
  return {
    size,
    read(offset, length) {
      if (length > scratch.length) scratch = Buffer.allocUnsafeSlow(length);
      const view = scratch.subarray(0, length);
      for (let done = 0; done < length;) {
        const read = fs.readSync(fd, view, done, length - done, offset + done);
        if (read === 0) throw new Error(`EOF at ${offset + done} of its ${size} bytes`);
        done += read;
      }
      return view;
    },
  };
}

/** A file's proven sites are kept in this process's memory and in pmfit's
 *  cache (_internals/user-cache.ts) under a key of everything they depend
 *  on: the file (path, device, inode, size, modification and change times in
 *  nanoseconds) and the prover (its code, iced-x86's version). A change of
 *  the file's content changes its change time (ctime: write(2), a store
 *  through a mapping, a truncation; unlike mtime no call can set it back);
 *  replacing it, its inode or device. */
const CACHE_KIND = 'flush-sites';

/** A change within this many milliseconds before the proof began may share
 *  its ctime with a later one (timestamps have the file system's
 *  granularity, 2 s on FAT, a clock tick on most): such a proof is kept
 *  for no one, as git treats its "racy" index entries. */
const RACY_MS = 3000n;

let prover: string | undefined;

/** The prover's own version: a hash of this file's code and the ELF
 *  readers it runs, and iced-x86's version. Another build of pmfit or of
 *  iced-x86 proves again. */
function proverVersion(): string {
  if (prover !== undefined) return prover;
  const hash = crypto.createHash('sha256');
  for (const file of [__filename, require.resolve('./eh-frame'), require.resolve('./read-elf')])
    hash.update(fs.readFileSync(file));
  hash.update(icedVersion());
  prover = hash.digest('hex').slice(0, 32);
  return prover;
}

function fileKey(path: string, stat: fs.BigIntStats): string {
  return [proverVersion(), path, stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join('\0');
}

type ProvenFile = Extract<FileFlushSites, { ok: true }>;

/** A cache entry's result when it is one for `key`, of the right shape. */
function cachedResult(entry: unknown, key: string): ProvenFile | undefined {
  if (!isObject(entry) || entry.key !== key || !isObject(entry.result)) return undefined;
  const { segments, sites, unproven } = entry.result;
  const sound =
    Array.isArray(segments) &&
    segments.every(
      (s) =>
        isObject(s) &&
        isCount(s.vaddr) &&
        isCount(s.memsz) &&
        isCount(s.offset) &&
        isCount(s.filesz) &&
        isCount(s.flags),
    ) &&
    Array.isArray(sites) &&
    sites.every(isCount) &&
    Array.isArray(unproven) &&
    unproven.every((u) => isObject(u) && isCount(u.vaddr) && typeof u.why === 'string');
  return sound ? ({ ok: true, segments, sites, unproven } as ProvenFile) : undefined;
}

/** Proven per key in this process (the same libraries come back at every region). */
const files = new Map<string, FileFlushSites>();

/** fileFlushSites -- findFlushSites of the file at `path`, `stat` its
 *  stat() now: from this process's memory, else from pmfit's cache, else
 *  proven from the file and kept in both. */
export function fileFlushSites(path: string, stat: fs.BigIntStats): FileFlushSites {
  const key = fileKey(path, stat);
  const known = files.get(key);
  if (known) return known;
  const cached = cachedResult(readCacheEntry(CACHE_KIND, path), key);
  if (cached) {
    files.set(key, cached);
    return cached;
  }
  const began = BigInt(Date.now());
  let result: FileFlushSites;
  let after: fs.BigIntStats | undefined;
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const bytes = fileBytes(fd, Number(stat.size));
    const read = readElfLayout(bytes);
    result = read.ok
      ? { ok: true, segments: read.elf.segments, ...findFlushSites(bytes, read.elf) }
      : { ok: false, why: read.message };
    after = fs.fstatSync(fd, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    result = { ok: false, why: `cannot read it (${code ?? (err instanceof Error ? err.message : String(err))})` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  // Kept only when the file read is the one stat()ed, unchanged since, and
  // last changed well before the proof began.
  if (after !== undefined && fileKey(path, after) === key && after.ctimeNs / 1_000_000n + RACY_MS <= began) {
    files.set(key, result);
    if (result.ok) writeCacheEntry(CACHE_KIND, path, { key, result });
  }
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

/** What one executable mapping contributes: its sites, or why not all its
 *  code is proven. */
type MappingSites = { addresses: number[]; why?: string };

/** Sites of a mapping of a file kept in `files`, per its key and where it
 *  is mapped: the same mappings come back at every region. */
const mappings = new Map<string, MappingSites>();

/** Why a file-backed executable mapping is not proven, or its sites. A
 *  mapping seen before costs a stat() and its key (the recorder asks at
 *  every region's begin). */
function mappedFileSites(entry: MapEntry): MappingSites {
  const notProven = (why: string) => ({ addresses: [], why: `${describe(entry)}: ${why}` });
  if (entry.path.endsWith(' (deleted)')) return notProven('the file was deleted or replaced');
  let stat: fs.BigIntStats;
  try {
    stat = fs.statSync(entry.path, { bigint: true });
  } catch (err) {
    return notProven(`cannot stat it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (Number(stat.ino) !== entry.inode || mapsDevice(Number(stat.dev)) !== entry.dev)
    return notProven('the file at that path is no longer the one mapped');
  const key = fileKey(entry.path, stat);
  const mappingKey = `${key}\0${entry.start}\0${entry.end}\0${entry.offset}`;
  // kept only for a file kept in `files` under the same key
  const known = mappings.get(mappingKey);
  if (known) return known;
  const file = fileFlushSites(entry.path, stat);
  if (!file.ok) return notProven(file.why);
  const found = sitesInMapping(file, entry);
  if (files.get(key) === file) mappings.set(mappingKey, found);
  return found;
}

/** The run-time addresses of `file`'s sites that `entry` maps, and why not
 *  all its code is proven. */
function sitesInMapping(file: ProvenFile, entry: MapEntry): MappingSites {
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
    why: `${describe(entry)}: possible flush at link-time ${hex(first.vaddr)} unproven: ${first.why}${more}`,
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

/** What each executable mapping contributed to the last call, and its
 *  result, a function of those alone: at most regions nothing was mapped,
 *  unmapped or rewritten since the last one, and merging a library's sites
 *  again (libpmem: 930) cost more than finding them. */
let lastCall: { parts: MappingSites[]; result: ProcessFlushSites } | undefined;

function sameParts(a: MappingSites[], b: MappingSites[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (part, i) =>
        part === b[i] || (part.addresses.length === 0 && b[i].addresses.length === 0 && part.why === b[i].why),
    )
  );
}

/** processFlushSites -- the flush sites of every executable mapping of
 *  process `pid` (`maps` its /proc/PID/maps), at their run-time addresses.
 *  Every mapping is looked at again at each call (its file stat()ed, code
 *  without a file read): the result is the last call's only when each
 *  mapping contributes what it did then. */
export function processFlushSites(pid: number, maps: MapEntry[]): ProcessFlushSites {
  const parts: MappingSites[] = [];
  // Files mapped shared too, whatever the permissions (a PM mapping the
  // recorder protected shows r--s): a page of a private mapping not copied
  // yet shows its file as it is, so a store through the shared mapping
  // rewrites the code with no system call, and an int3 written there would
  // copy the page, which then no longer shows the program's own writes.
  const fileOf = (entry: MapEntry) => `${entry.dev} ${entry.inode}`;
  const shared = new Set(maps.filter((entry) => entry.perms[3] === 's' && entry.inode !== 0).map(fileOf));
  for (const entry of maps) {
    if (entry.perms[2] !== 'x') continue;
    // The legacy vsyscall page: the kernel's own fixed code (or a trap that
    // emulates it), which the program cannot change and which has no flush.
    if (entry.path === '[vsyscall]') continue;
    if (entry.perms[1] === 'w') {
      parts.push({
        addresses: [],
        why: `${describe(entry)} is writable and executable: its code can change without a system call`,
      });
    } else if (entry.perms[3] === 's') {
      parts.push({
        addresses: [],
        why: `${describe(entry)} is a shared executable mapping: its code can change without a system call`,
      });
    } else if (entry.inode !== 0 && shared.has(fileOf(entry))) {
      parts.push({
        addresses: [],
        why: `${describe(entry)} maps a file the program also maps shared: its code can change without a system call`,
      });
    } else if (entry.path === '' || entry.path.startsWith('[')) {
      parts.push({ addresses: [], why: unbackedCode(pid, entry) });
    } else {
      parts.push(mappedFileSites(entry));
    }
  }
  if (lastCall && sameParts(parts, lastCall.parts)) return lastCall.result;
  const addresses = new Set<number>();
  let why: string | undefined;
  for (const part of parts) {
    for (const address of part.addresses) addresses.add(address);
    why ??= part.why;
  }
  const result = {
    addresses: [...addresses].sort((a, b) => a - b),
    complete: why === undefined,
    ...(why !== undefined ? { why } : {}),
  };
  lastCall = { parts, result };
  return result;
}
