// symbolizer -- names an address of a traced process: which module (file
// mapping) holds it, its link-time address in that module, and the symbol
// around it, as in "tree_insert+0x2a (/path/tree)". Built from one snapshot
// of /proc/PID/maps; ELF files are parsed lazily and cached per file version
// for the life of the process, since the same libraries come back in every run.

import * as fs from 'fs';
import type { MapEntry } from './proc-maps';
import type { ElfSegment, ElfSymbol } from './read-elf';
import { readElf } from './read-elf';

export interface AddressLocation {
  /** File path of the mapping, a pseudo name such as "[vdso]", "[anonymous]"
   *  for anonymous memory or "[unmapped]". */
  module: string;
  /** Link-time virtual address in the module (what addr2line and nm show);
   *  for memory without an ELF file, the distance from the mapping's start
   *  plus its file offset. */
  offset: number;
  symbol?: string;
  /** Bytes from the symbol's start. */
  symbolOffset?: number;
}

interface ModuleInfo {
  segments: ElfSegment[];
  /** Functions and objects, by address. */
  symbols: ElfSymbol[];
}

const modules = new Map<string, ModuleInfo | null>();

/** Size-less symbols (assembly labels, _init) cover up to the next symbol, at most this much. */
const SIZELESS_REACH = 4096;
/** How far back to look for an enclosing symbol among those that start earlier. */
const LOOKBACK = 256;

const BIND_RANK: Record<ElfSymbol['bind'], number> = { global: 0, weak: 1, local: 2, other: 3 };

function better(a: ElfSymbol, b: ElfSymbol): ElfSymbol {
  if (a.type !== b.type) return a.type === 'func' ? a : b.type === 'func' ? b : a;
  return BIND_RANK[b.bind] < BIND_RANK[a.bind] ? b : a;
}

function loadModule(entry: MapEntry): ModuleInfo | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(entry.path);
  } catch {
    return null;
  }
  // A file replaced since it was mapped is not what the process runs.
  if (stat.ino !== entry.inode || !stat.isFile()) return null;
  const key = `${entry.path}\0${stat.dev}\0${stat.ino}\0${stat.size}\0${stat.mtimeMs}`;
  const cached = modules.get(key);
  if (cached !== undefined) return cached;
  let info: ModuleInfo | null = null;
  try {
    const read = readElf(fs.readFileSync(entry.path));
    if (read.ok) {
      const symbols = read.elf.symbols
        .filter((symbol) => symbol.type === 'func' || symbol.type === 'object')
        .sort((a, b) => a.value - b.value);
      info = { segments: read.elf.segments, symbols };
    }
  } catch {
    // unreadable: the address is named by module and offset only
  }
  modules.set(key, info);
  return info;
}

/** loadModulesAt -- the ELF files mapped at `addresses` in `maps`, parsed
 *  into this process's cache ahead of the describe calls that will want
 *  them (the recorder's preload, while the program runs to its first
 *  region): describe answers the same either way, from the same files. */
export function loadModulesAt(maps: MapEntry[], addresses: number[]): void {
  const entries = new Set(
    addresses.map((address) => maps.find((entry) => entry.start <= address && address < entry.end)),
  );
  for (const entry of entries) if (entry?.path.startsWith('/')) loadModule(entry);
}

/** Link-time address of a file offset, through the segment that loads it.
 *  Old layouts let two segments share a file page; the mapping's execute
 *  permission tells code from data then. */
function linkAddress(segments: ElfSegment[], fileOffset: number, perms: string): number | undefined {
  const PF_X = 1;
  const executable = perms[2] === 'x';
  let best: ElfSegment | undefined;
  for (const extent of ['filesz', 'memsz'] as const) {
    for (const segment of segments) {
      const delta = fileOffset - segment.offset;
      if (delta < 0 || delta >= segment[extent]) continue;
      if (!best || (((segment.flags & PF_X) !== 0) === executable && ((best.flags & PF_X) !== 0) !== executable))
        best = segment;
    }
    if (best) return best.vaddr + (fileOffset - best.offset);
  }
  return undefined;
}

function symbolAt(symbols: ElfSymbol[], address: number): { symbol: ElfSymbol; offset: number } | undefined {
  // last symbol starting at or below the address
  let lo = 0;
  let hi = symbols.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (symbols[mid].value <= address) lo = mid + 1;
    else hi = mid;
  }
  let found: ElfSymbol | undefined;
  let sizeless: ElfSymbol | undefined;
  for (let i = lo - 1; i >= 0 && i >= lo - LOOKBACK; i--) {
    const symbol = symbols[i];
    if (found && symbol.value !== found.value) break;
    if (symbol.size > 0 ? address < symbol.value + symbol.size : address - symbol.value < SIZELESS_REACH) {
      if (symbol.size > 0) found = found ? better(found, symbol) : symbol;
      // a label reaches only up to the next symbol
      else if (symbol.value === symbols[lo - 1].value) sizeless = sizeless ? better(sizeless, symbol) : symbol;
    }
  }
  // a sized symbol that encloses the address wins over a nearer label
  const symbol = found ?? sizeless;
  return symbol ? { symbol, offset: address - symbol.value } : undefined;
}

export class Symbolizer {
  private readonly maps: MapEntry[];
  /** Per mapping, so a module's file is looked at once per snapshot. */
  private readonly loaded = new Map<MapEntry, ModuleInfo | null>();

  constructor(maps: MapEntry[]) {
    this.maps = [...maps].sort((a, b) => a.start - b.start);
  }

  private entryAt(address: number): MapEntry | undefined {
    let lo = 0;
    let hi = this.maps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.maps[mid].start <= address) lo = mid + 1;
      else hi = mid;
    }
    const entry = this.maps[lo - 1];
    return entry && address < entry.end ? entry : undefined;
  }

  /** covers -- was the address mapped when the maps were read? If not, the
   *  caller should read the maps again (a library loaded since). */
  covers(address: number): boolean {
    return this.entryAt(address) !== undefined;
  }

  describe(address: number): AddressLocation {
    const entry = this.entryAt(address);
    if (!entry) return { module: '[unmapped]', offset: address };
    const fileOffset = address - entry.start + entry.offset;
    if (entry.path === '') return { module: '[anonymous]', offset: address - entry.start };
    if (entry.path.startsWith('[')) return { module: entry.path, offset: address - entry.start };
    let info = this.loaded.get(entry);
    if (info === undefined) {
      info = loadModule(entry);
      this.loaded.set(entry, info);
    }
    const link = info ? linkAddress(info.segments, fileOffset, entry.perms) : undefined;
    if (!info || link === undefined) return { module: entry.path, offset: fileOffset };
    const hit = symbolAt(info.symbols, link);
    return hit
      ? { module: entry.path, offset: link, symbol: hit.symbol.name, symbolOffset: hit.offset }
      : { module: entry.path, offset: link };
  }
}
