// load-bias -- how far a process's executable sits from its link-time
// addresses: run-time address = symbol value + bias. Breakpoints on symbols
// and the naming of addresses both need it.

import * as fs from 'fs';
import type { MapEntry } from './proc-maps';
import { mapsDevice } from './proc-maps';
import type { ElfFile } from './read-elf';

const PAGE = 4096;

/** mappingMatcher -- does this maps entry map the file at `file`? By resolved
 *  path, or by device and inode when the names differ (bind mounts, a
 *  file reached through another mount). */
function mappingMatcher(file: string): (entry: MapEntry) => boolean {
  let real = file;
  let stat: fs.Stats | undefined;
  try {
    real = fs.realpathSync(file);
    stat = fs.statSync(real);
  } catch {
    // the file is gone; only its name can match
  }
  const dev = stat ? mapsDevice(stat.dev) : undefined;
  return (entry) =>
    entry.path === real ||
    entry.path === file ||
    (stat !== undefined && entry.inode === stat.ino && entry.dev === dev && entry.inode !== 0);
}

/** The link-time address mapped at file offset 0: the first PT_LOAD's
 *  address less its offset, at page granularity. */
function linkBase(elf: ElfFile): number {
  if (elf.segments.length === 0) return 0;
  const lowest = elf.segments.reduce((a, b) => (b.vaddr < a.vaddr ? b : a));
  return Math.floor((lowest.vaddr - lowest.offset) / PAGE) * PAGE;
}

/** loadBias -- 0 for ET_EXEC; for ET_DYN the start of the executable's
 *  mapping of file offset 0 less its link-time page. Throws when the process
 *  has no such mapping (it is not running `exePath`). */
export function loadBias(maps: MapEntry[], exePath: string, elf: ElfFile): number {
  if (elf.type !== 'dyn') return 0;
  const matches = mappingMatcher(exePath);
  let start: number | undefined;
  for (const entry of maps) {
    if (entry.offset === 0 && matches(entry) && (start === undefined || entry.start < start)) start = entry.start;
  }
  if (start === undefined)
    throw new Error(`${exePath} is not mapped in the process (no mapping of its offset 0 in /proc/PID/maps)`);
  return start - linkBase(elf);
}
