// build-example -- a copy of one of docs/examples in a test's directory,
// its program built there as the README builds it: cc with `pmfit cflags`,
// -O2 -Wall -Werror, and the libraries it links.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../harness/_internals/paths';
import { runPmfit } from './run-pmfit';

/** buildExample -- docs/examples/NAME copied into `dir` and NAME.c built
 *  into NAME with `libs`; the copy's path. */
export function buildExample(dir: string, name: string, libs: string[]): string {
  const copy = path.join(dir, name);
  fs.cpSync(path.join(projectRoot, 'docs', 'examples', name), copy, { recursive: true });
  const cflags = runPmfit(['cflags']).stdout.trim().split(/\s+/);
  const cc = spawnSync('cc', [...cflags, '-O2', '-Wall', '-Werror', `${name}.c`, '-o', name, ...libs], {
    cwd: copy,
    encoding: 'utf8',
  });
  expect(cc.stderr).toBe('');
  return copy;
}
