// pm-file-problem -- why a path the user gave as a PM file cannot be one,
// in the words of the one-line error that names it.

import * as fs from 'fs';

export type PmFileProblem = { kind: 'missing' } | { kind: 'unusable'; why: string };

/** pmFileProblem -- undefined for a regular file (through symbolic links);
 *  `missing` when no file is there (the program may create it); otherwise
 *  what is wrong: a symbolic link loop, a directory, a device... */
export function pmFileProblem(file: string): PmFileProblem | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    switch ((err as NodeJS.ErrnoException).code) {
      case 'ENOENT':
        return fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()
          ? { kind: 'unusable', why: 'is a symbolic link to a missing file' }
          : { kind: 'missing' };
      case 'ELOOP':
        return { kind: 'unusable', why: 'is a symbolic link loop' };
      case 'ENOTDIR':
        return { kind: 'unusable', why: 'has a part that is not a directory' };
      case 'EACCES':
        return { kind: 'unusable', why: 'cannot be reached (permission denied)' };
      default:
        return { kind: 'unusable', why: `cannot be used (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
    }
  }
  if (!stat.isFile()) return { kind: 'unusable', why: 'is not a regular file' };
  return undefined;
}
