// user-file-guard -- the user's own PM file (allcounts --cmd --pm FILE) is
// never the file the program runs on: pmfit gives it a copy, and rewrites
// every argument that names the original, by any path, to the copy. A
// program that still reaches the original (a name built inside it, an
// environment variable, a configuration file) is refused by the tracer's
// seccomp guard before it writes (native/user_file_guard.h). This is the
// check behind it, for what the guard does not see (a recovery command, a
// process outside the traced tree): every run checks afterwards that the
// original is the same file with the same size and times, and fails loudly
// otherwise.

import * as fs from 'fs';
import { usageError } from '../../_internals/errors';

interface Fingerprint {
  file: string;
  stat: fs.BigIntStats | undefined;
}

function fingerprint(file: string): Fingerprint {
  try {
    return { file, stat: fs.statSync(file, { bigint: true }) };
  } catch {
    return { file, stat: undefined };
  }
}

function same(a: fs.BigIntStats | undefined, b: fs.BigIntStats | undefined): boolean {
  if (!a || !b) return a === b;
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** guardUserFiles -- remember `files` now; check() throws the one-line
 *  error if one changed since (`during` says what ran). */
export function guardUserFiles(files: readonly string[]): { check(during: string): void } {
  const before = files.map(fingerprint);
  return {
    check(during: string): void {
      for (const { file, stat } of before) {
        if (same(stat, fingerprint(file).stat)) continue;
        throw usageError(
          `your PM file ${file} was changed ${during}: the program reached it by a path pmfit did not see ` +
            '(a name built in the program, an environment variable), not the copy pmfit gives it; name the PM file in --cmd, ' +
            'for example --cmd "prog {file}"',
        );
      }
    },
  };
}
