// temp-root -- one temporary directory per pmfit process, removed at exit.
//
// Everything pmfit writes besides its reports (crash images, recovery
// scratch files, traces of allcounts) lives under this directory, so that one
// removal cleans up after a normal exit, an error, Ctrl-C or SIGTERM.
// PMFIT_TMPDIR overrides the parent directory (tests use it to check that
// nothing is left behind).
//
// The directory is named pmfit-<pid>-<start time>-XXXXXX after the process
// that owns it, and a later run removes such directories whose owner is gone
// (pmfit was killed with SIGKILL, which runs no cleanup).
//
// Crash images checked by the runner (imageDir) go to a memory file system
// when the temporary directory is on a disk: a second root of the same name
// in /dev/shm, removed with the first. A recovery that syncs its file
// (libpmemobj msyncs the pool header on every open and close) otherwise
// waits for the disk, per image, for a file deleted right after: on the
// txmap target that doubled a px86 run's wall time under load. Only where
// the memory file system has room to spare (MEMORY_HEADROOM), and never
// when PMFIT_TMPDIR names the place.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ownerAlive, runToken } from './descendants';
import { isNoSpace, usageError } from './errors';

let root: string | undefined;
let memoryRoot: string | undefined;
let memoryRootFailed = false;
let counter = 0;

/** Linux statfs f_type of the file systems held in memory: tmpfs, ramfs. */
const MEMORY_FS_TYPES = new Set([0x01021994, 0x858458f6]);

/** Where crash images go when the temporary directory is on a disk. */
export const MEMORY_PARENT = '/dev/shm';

/** Free room a memory file system must keep beyond MEMORY_IMAGE_FACTOR
 *  times an image set's size for the image to go there (a recovery that
 *  writes into a full tmpfs dies of SIGBUS, a false verdict). */
const MEMORY_HEADROOM = 256 * 1024 * 1024;
const MEMORY_IMAGE_FACTOR = 8;

/** tempParent -- where the temporary root goes, as an absolute path: the
 *  programs pmfit runs get paths below it, in other working directories. */
export function tempParent(): string {
  return path.resolve(process.env.PMFIT_TMPDIR || os.tmpdir());
}

/** memoryFree -- free bytes in `dir` when it is a directory of a memory
 *  file system this process can write, else undefined. */
function memoryFree(dir: string): number | undefined {
  try {
    const stats = fs.statfsSync(dir);
    if (!MEMORY_FS_TYPES.has(stats.type)) return undefined;
    fs.accessSync(dir, fs.constants.W_OK);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

/** memoryParent -- the memory file system crash images go to instead of
 *  tempParent(), or undefined when they stay there (PMFIT_TMPDIR set, the
 *  temporary directory already in memory, no writable /dev/shm). */
export function memoryParent(): string | undefined {
  if (process.env.PMFIT_TMPDIR) return undefined;
  if (memoryFree(tempParent()) !== undefined) return undefined;
  return memoryFree(MEMORY_PARENT) !== undefined ? MEMORY_PARENT : undefined;
}

/** imageGoesToMemory -- the rule: memory when it has room for an image set
 *  of `bytes` with MEMORY_HEADROOM to spare. */
export function imageGoesToMemory(bytes: number, memoryFreeBytes: number | undefined): boolean {
  return memoryFreeBytes !== undefined && memoryFreeBytes >= MEMORY_IMAGE_FACTOR * bytes + MEMORY_HEADROOM;
}

/** tempParentProblem -- why no directory can be created in `parent`. */
function tempParentProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return 'is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'is not writable (permission denied)';
    case 'EROFS':
      return 'is on a read-only file system';
    default:
      return `cannot hold a new directory (${code ?? String(err)})`;
  }
}

/** tempRoot -- the process's temporary directory, created on first use. */
export function tempRoot(): string {
  if (!root) {
    const parent = tempParent();
    try {
      root = fs.mkdtempSync(path.join(parent, `pmfit-${runToken()}-`));
    } catch (err) {
      if (isNoSpace(err)) throw err;
      const source = process.env.PMFIT_TMPDIR ? 'PMFIT_TMPDIR' : 'the system temporary directory';
      throw usageError(
        `temporary directory ${parent} (${source}) ${tempParentProblem(err)}; set PMFIT_TMPDIR to a writable directory`,
      );
    }
    process.once('exit', removeTempRoot);
    removeStaleRoots(parent);
  }
  return root;
}

/** imageDir -- a fresh directory for one crash image set of `bytes` (the
 *  files' sizes), under the memory root when memoryParent() has room for
 *  it, else under the temporary root; named <n>-image either way
 *  (outcome-groups.ts turns its path into {dir} in outputs). */
export function imageDir(bytes: number): string {
  const parent = memoryRootFailed ? undefined : memoryParent();
  if (!parent || !imageGoesToMemory(bytes, memoryFree(parent))) return tempDir('image');
  if (!memoryRoot) {
    tempRoot(); // its exit handler removes both roots
    removeStaleRoots(parent);
    try {
      memoryRoot = fs.mkdtempSync(path.join(parent, `pmfit-${runToken()}-`));
    } catch {
      // writable a moment ago; the temporary directory will do
      memoryRootFailed = true;
      return tempDir('image');
    }
  }
  counter += 1;
  const dir = path.join(memoryRoot, `${counter}-image`);
  fs.mkdirSync(dir);
  return dir;
}

/** tempParents -- every parent this process's roots may be under. */
export function tempParents(): string[] {
  const memory = memoryParent();
  return memory ? [tempParent(), memory] : [tempParent()];
}

/** removeStaleRoots -- temporary roots of runs whose process is gone;
 *  only this user's directories, never through links. */
function removeStaleRoots(parent: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(parent);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const entry of entries) {
    const owner = /^pmfit-(\d+)-(\d+)-[A-Za-z0-9]{6}$/.exec(entry);
    if (!owner || ownerAlive(Number(owner[1]), owner[2])) continue;
    const dir = path.join(parent, entry);
    try {
      const stat = fs.lstatSync(dir);
      if (stat.isDirectory() && stat.uid === uid) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // removed by someone else meanwhile, or not ours to remove
    }
  }
}

/** tempPath -- a fresh name under the temporary root (nothing is created). */
export function tempPath(label: string): string {
  counter += 1;
  return path.join(tempRoot(), `${counter}-${label}`);
}

/** underTempRoot -- whether `file` is under this process's temporary root
 *  (removed at exit). */
export function underTempRoot(file: string): boolean {
  return root !== undefined && path.resolve(file).startsWith(`${root}${path.sep}`);
}

/** tempDir -- a fresh directory under the temporary root. */
export function tempDir(label: string): string {
  const dir = tempPath(label);
  fs.mkdirSync(dir);
  return dir;
}

export function removeTempRoot(): void {
  for (const dir of [memoryRoot, root]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  memoryRoot = undefined;
  root = undefined;
}

/** Free space below which a failure is blamed on the temporary directory. */
const SHORT_OF_SPACE = 1 << 20;

/** tempSpaceShort -- why a failure may be the temporary directory's fault
 *  (a program killed by SIGBUS on a full tmpfs says nothing about space),
 *  or undefined when it has room. */
export function tempSpaceShort(): string | undefined {
  try {
    const stats = fs.statfsSync(tempParent());
    const free = stats.bavail * stats.bsize;
    if (free >= SHORT_OF_SPACE) return undefined;
    return `the temporary directory ${tempParent()} has only ${Math.floor(free / 1024)} KiB free; set PMFIT_TMPDIR to a directory with more room`;
  } catch {
    return undefined;
  }
}
