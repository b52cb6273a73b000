// proc-maps -- a process's memory mappings as /proc/PID/maps lists them:
// where PM files are mapped (shared or private) and where each module's code
// sits, for breakpoints and for naming addresses.

import * as fs from 'fs';

export interface MapEntry {
  readonly start: number;
  /** One past the last byte. */
  readonly end: number;
  /** "rwxp" / "r--s": the fourth letter is 's' for MAP_SHARED, 'p' for private. */
  readonly perms: string;
  /** File offset mapped at `start`. */
  readonly offset: number;
  /** Device as the kernel prints it, "major:minor" in hex (e.g. "fd:01"). */
  readonly dev: string;
  readonly inode: number;
  /** File path, a pseudo name ("[heap]", "[stack]", "[vdso]"), or "" for
   *  anonymous memory. A file removed since it was mapped ends in " (deleted)". */
  readonly path: string;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+([0-9a-f]+)\s+([0-9a-f]+:[0-9a-f]+)\s+(\d+)(?:\s(.*))?$/;

/** parseMaps -- the entries of a maps text; lines that do not parse are skipped. */
export function parseMaps(text: string): MapEntry[] {
  const entries: MapEntry[] = [];
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    entries.push({
      start: parseInt(match[1], 16),
      end: parseInt(match[2], 16),
      perms: match[3],
      offset: parseInt(match[4], 16),
      dev: match[5],
      inode: Number(match[6]),
      // the kernel pads the path column with spaces; a path never starts with one
      path: (match[7] ?? '').trimStart(),
    });
  }
  return entries;
}

/** mapsDevice -- the "major:minor" form /proc/PID/maps uses for a stat()
 *  device number, to tell whether a file is the one a mapping maps. */
export function mapsDevice(dev: number): string {
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

/** The text of the last maps read and its entries: the recorder reads them
 *  at every region's begin, and between most regions nothing was mapped or
 *  unmapped (txmap: 18 of its 20), so the same text need not be parsed again. */
let last: { text: string; entries: readonly MapEntry[] } | undefined;

/** readMaps -- the current mappings of process `pid`; throws if it is gone.
 *  The entries (readonly) are shared with other calls that read the same
 *  text; the array is the caller's. */
export function readMaps(pid: number): MapEntry[] {
  const text = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  if (last?.text !== text) last = { text, entries: parseMaps(text) };
  return last.entries.slice();
}
