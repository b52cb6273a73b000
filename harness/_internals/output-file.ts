// output-file -- the one way pmfit writes a file of the user's: a trace
// (record -o), the reports, a replay file.
//
// An output path must be a regular file or a new name: renaming a finished
// file over a device, a FIFO or a symbolic link would replace the node
// itself (as root, `-o /dev/full` replaced the device), and nothing of the
// user's may be lost. Nor may it be one of the run's PM files, by device and
// inode (a hard link or a second name of one counts). The content goes to a
// temporary name in the same directory, is synced and renamed over the
// final name, so an interrupted run leaves the old file or the new one,
// never half of one. (Files of pmfit's temporary root are not synced:
// removed at exit, they need not outlive a crash.)

import * as fs from 'fs';
import * as path from 'path';
import { NoSpaceError, PmfitError, isNoSpace, usageError } from './errors';
import { installedPackage, projectRoot } from './paths';
import { processAlive } from './process-alive';
import { underTempRoot } from './temp-root';

interface Identity {
  dev: number;
  ino: number;
  name: string;
}

/** PM files of this run: never an output. */
const protectedFiles: Identity[] = [];
const protectedPaths = new Map<string, string>();

/** protectFromOutput -- no output of this process may be `file` (a PM file
 *  as the user named it); one that does not exist yet is matched by path. */
export function protectFromOutput(file: string): void {
  protectedPaths.set(path.resolve(file), file);
  try {
    const stat = fs.statSync(file);
    if (stat.isFile()) protectedFiles.push({ dev: stat.dev, ino: stat.ino, name: file });
  } catch {
    // created later by the program: the path is checked, and the identity
    // again just before the rename
  }
}

/** errnoText -- a failed file operation's errno in words. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'EISDIR':
      return 'it is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'name too long';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/** kindOf -- what a non-regular node is, for messages. */
export function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  return 'a special file';
}

/** directoryProblem -- why files cannot be created in `dir`, or undefined. */
function directoryProblem(dir: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? `no such directory ${dir}`
      : `directory ${dir}: ${errnoText(err)}`;
  }
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    return `directory ${dir} is not writable (${errnoText(err)})`;
  }
  return undefined;
}

/** insidePackage -- why `target` may not be written when it lies in the
 *  installed package's directory (npm replaces that directory on the next
 *  install, and a global one is often not the user's to write), or
 *  undefined. A checkout is the developer's own and writes reports/ there. */
function insidePackage(target: string): string | undefined {
  if (!installedPackage) return undefined;
  const relative = path.relative(projectRoot, path.resolve(target));
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return `it is inside pmfit's installed package (${projectRoot}); pmfit writes to ./pmfit-report in the current directory, or to -o DIR`;
}

/** checkOutputFile -- `file` may be written by writeOutputFile or
 *  OutputFile: a regular file or a new name in a writable directory, and no
 *  PM file. Throws the one-line usage error otherwise. */
export function checkOutputFile(file: string): void {
  const cannot = (why: string) => usageError(`cannot write ${file}: ${why}`);
  const pm = protectedPaths.get(path.resolve(file));
  if (pm !== undefined) throw cannot(`it is the PM file ${pm}`);
  const packaged = insidePackage(file);
  if (packaged) throw cannot(packaged);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw cannot(errnoText(err));
  }
  if (stat) {
    if (!stat.isFile()) throw cannot(`it is ${kindOf(stat)} (pmfit writes only to a regular file or a new name)`);
    const same = protectedFiles.find((pmFile) => pmFile.dev === stat!.dev && pmFile.ino === stat!.ino);
    if (same) throw cannot(`it is the PM file ${same.name} (the same file by device and inode)`);
  }
  const problem = directoryProblem(path.dirname(path.resolve(file)));
  if (problem) throw cannot(problem);
}

/** checkOutputDir -- `dir` is a writable directory, or can be created (its
 *  nearest existing ancestor is one): checked before a long run, not after. */
export function checkOutputDir(dir: string): void {
  const packaged = insidePackage(dir);
  if (packaged) throw usageError(`cannot write to ${dir}: ${packaged}`);
  const resolved = path.resolve(dir);
  let existing = resolved;
  for (;;) {
    try {
      fs.lstatSync(existing);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw usageError(`cannot write to ${dir}: ${errnoText(err)}`);
      existing = path.dirname(existing);
    }
  }
  if (existing === resolved) {
    const stat = fs.statSync(resolved, { throwIfNoEntry: false });
    if (!stat || !stat.isDirectory())
      throw usageError(`cannot write to ${dir}: ${stat ? kindOf(stat) : 'a dangling symbolic link'}, not a directory`);
  }
  const problem = directoryProblem(existing);
  if (problem) throw usageError(`cannot write to ${dir}: ${problem}`);
}

/** makeOutputDir -- create `dir` (and its parents) for output files. One
 *  level at a time, not with mkdir's `recursive`: Node's recursive mkdir
 *  retries for ever where the parent exists but refuses the name with
 *  ENOENT (`-o /proc/x` hung pmfit at 100% CPU). */
export function makeOutputDir(dir: string): void {
  checkOutputDir(dir);
  const missing: string[] = [];
  for (let part = path.resolve(dir); !fs.existsSync(part); part = path.dirname(part)) missing.unshift(part);
  for (const part of missing) {
    try {
      fs.mkdirSync(part);
    } catch (err) {
      // another process made it meanwhile: as good as made here
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(part).isDirectory()) continue;
      throw usageError(`cannot create the directory ${dir}: ${errnoText(err)}`);
    }
  }
}

let serial = 0;

/** OutputFile -- an output written in pieces (a trace): to a hidden
 *  temporary sibling, then commit() renames it over the final name, or
 *  abandon() removes it. */
export class OutputFile {
  readonly fd: number;
  readonly temp: string;
  private closed = false;

  constructor(readonly file: string) {
    checkOutputFile(file);
    this.temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++serial}.partial`);
    try {
      this.fd = fs.openSync(this.temp, 'wx', 0o666);
    } catch (err) {
      throw usageError(`cannot write ${file}: ${errnoText(err)}`);
    }
  }

  /** write -- all of `buffer` at `position`. */
  write(buffer: Uint8Array, position: number): void {
    try {
      for (let done = 0; done < buffer.length;) {
        done += fs.writeSync(this.fd, buffer, done, buffer.length - done, position + done);
      }
    } catch (err) {
      if (isNoSpace(err)) throw new NoSpaceError(`no space left on the device of ${this.file} while writing it`);
      throw usageError(`cannot write ${this.file}: ${errnoText(err)}`);
    }
  }

  /** commit -- sync, check the final name again (the run may have taken
   *  long, and the PM files may exist only now) and rename over it. A file
   *  of the temporary root (allcounts' trace) is not synced: it goes at
   *  exit, and a sync only waits for the disk (txmap's 5 MiB trace: 5 ms). */
  commit(): void {
    try {
      if (!underTempRoot(this.file)) fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.closed = true;
      checkOutputFile(this.file);
      fs.renameSync(this.temp, this.file);
    } catch (err) {
      this.abandon();
      if (err instanceof PmfitError) throw err;
      if (isNoSpace(err)) throw new NoSpaceError(`no space left on the device of ${this.file} while writing it`);
      throw usageError(`cannot write ${this.file}: ${errnoText(err)}`);
    }
  }

  /** abandon -- remove the temporary file (errors, Ctrl-C). */
  abandon(): void {
    if (!this.closed) {
      this.closed = true;
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    fs.rmSync(this.temp, { force: true });
  }
}

/** writeOutputFile -- write `content` to `file` whole, as OutputFile does. */
export function writeOutputFile(file: string, content: string | Uint8Array): void {
  const output = new OutputFile(file);
  try {
    output.write(typeof content === 'string' ? Buffer.from(content) : content, 0);
  } catch (err) {
    output.abandon();
    throw err;
  }
  output.commit();
}

const LOCK_NAME = '.pmfit.lock';
const LOCK_WAIT_MS = 60_000;

/** withDirectoryLock -- run `write` while holding `dir`'s lock file, so
 *  that two pmfit runs writing a set of files into one directory (the
 *  reports) leave one run's whole set, not a mix. A lock whose process is
 *  gone (pmfit killed by SIGKILL) is taken over. */
export function withDirectoryLock<T>(dir: string, write: () => T): T {
  const lock = path.join(dir, LOCK_NAME);
  const waitUntil = Date.now() + LOCK_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw usageError(`cannot write to ${dir}: ${errnoText(err)}`);
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(fs.readFileSync(lock, 'utf8'), 10);
    } catch {
      // released meanwhile
    }
    if (Number.isInteger(owner) && !processAlive(owner)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > waitUntil) throw usageError(`cannot write to ${dir}: another pmfit (pid ${owner}) holds ${lock}`);
    Atomics.wait(pause, 0, 0, 50);
  }
  try {
    return write();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
