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

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ownerAlive, runToken } from './descendants';
import { isNoSpace, usageError } from './errors';

let root: string | undefined;
let counter = 0;

/** tempParent -- where the temporary root goes, as an absolute path: the
 *  programs pmfit runs get paths below it, in other working directories. */
export function tempParent(): string {
  return path.resolve(process.env.PMFIT_TMPDIR || os.tmpdir());
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

/** tempDir -- a fresh directory under the temporary root. */
export function tempDir(label: string): string {
  const dir = tempPath(label);
  fs.mkdirSync(dir);
  return dir;
}

export function removeTempRoot(): void {
  if (root) {
    fs.rmSync(root, { recursive: true, force: true });
    root = undefined;
  }
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
