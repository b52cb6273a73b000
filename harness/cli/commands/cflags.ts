// cflags -- `pmfit cflags` and `pmfit include-dir`: where pmfit.h is, and the
// compiler flags that make a program's reports useful, for
// `cc $(pmfit cflags) prog.c -o prog`.
//
//   -g            source lines in reports and reproduce output, not bare
//                 addresses
//   -Wl,-z,now    resolve every library function at start-up: with lazy
//                 binding the first call of each function inside a region
//                 runs the dynamic linker's resolver there, hundreds of
//                 single-stepped instructions (and crash points) that are
//                 not the program's

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../../_internals/errors';
import { includeDir } from '../../_internals/paths';

export const RECOMMENDED_FLAGS = ['-g', '-Wl,-z,now'];

function headerDir(): string {
  if (!fs.existsSync(path.join(includeDir, 'pmfit.h')))
    throw usageError(`pmfit.h is missing from ${includeDir}: the pmfit installation is incomplete; reinstall it`);
  return includeDir;
}

/** includeDirCommand -- print the directory that holds pmfit.h. */
export async function includeDirCommand(): Promise<number> {
  process.stdout.write(`${headerDir()}\n`);
  return 0;
}

/** cflags -- print -I<dir> and the recommended flags on one line. */
export async function cflags(): Promise<number> {
  const dir = headerDir();
  // $(pmfit cflags) splits on white space: such a directory needs quoting
  // that only the user's shell can do.
  if (/\s/.test(dir))
    process.stderr.write(`pmfit: warning: ${dir} contains white space; use -I"$(pmfit include-dir)" instead\n`);
  process.stdout.write(`${[`-I${dir}`, ...RECOMMENDED_FLAGS].join(' ')}\n`);
  return 0;
}
