// unwinding -- whether pmfit can unwind the traced program's call stacks
// here: the addon loads elfutils' libdw at run time (native/unwinder.h), so
// a machine without it traces as usual and only the stacks are missing,
// which reports say in one line with the way to get them.

import { loadNative } from './native';

/** The library the addon loads: Debian's libdw1, which elfutils' other
 *  tools (eu-stack) and many debuggers also use. */
export const UNWIND_LIBRARY = 'libdw.so.1';

/** For tests only: another library (a path that does not exist simulates a
 *  machine without libdw). Read once per process. */
export const UNWIND_LIBRARY_ENV = 'PMFIT_TEST_UNWIND_LIBRARY';

export const UNWIND_HINT = "install elfutils' libdw (Debian and Ubuntu: apt-get install libdw1)";

export type Unwinding = { kind: 'available' } | { kind: 'unavailable'; why: string };

let answer: Unwinding | undefined;

/** unwinding -- load the library once and say whether stacks can be had. */
export function unwinding(): Unwinding {
  if (!answer) {
    const library = process.env[UNWIND_LIBRARY_ENV] || UNWIND_LIBRARY;
    const why = loadNative().loadUnwinder(library);
    answer = why === '' ? { kind: 'available' } : { kind: 'unavailable', why: `${why}; ${UNWIND_HINT}` };
  }
  return answer;
}
