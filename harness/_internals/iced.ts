// iced -- iced-x86, the x86 decoder of the recorder (record/decode.ts) and
// of the flush-site proof (elf/flush-sites.ts), loaded once on first use:
// commands that never decode need no WebAssembly.
//
// Before it loads, V8 is told to keep WebAssembly at its baseline compiler
// (Liftoff, `--liftoff-only`). pmfit decodes a few thousand instructions per
// process, most of them once: V8 compiling iced's hot functions again with
// its optimizing tier cost more than it saved. Measured (docs/recording.md,
// "Proving flush sites"): decoding libpmem's flush candidates 15-22 ms CPU
// instead of 60-74; a node process that sets up and records txmap with 20
// inserts 0.63-0.81 s user CPU instead of 0.92-1.13. The flag is
// process-wide: pmfit runs no other WebAssembly.

import type * as Iced from 'iced-x86';
import * as v8 from 'v8';

let iced: typeof Iced | undefined;

/** icedVersion -- the installed iced-x86's version, without loading it: what
 *  a result cached across runs from its decoding depends on. */
export function icedVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('iced-x86/package.json') as { version: string }).version;
}

export function loadIced(): typeof Iced {
  if (iced) return iced;
  v8.setFlagsFromString('--liftoff-only');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  iced = require('iced-x86') as typeof Iced;
  return iced;
}
