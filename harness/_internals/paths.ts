// paths -- where the installed package keeps its build outputs.
//
// Code runs both from TypeScript sources (ts-jest) and from dist/ (the CLI),
// so the project root is found by walking up to pmfit's package.json rather
// than by a fixed number of "..".

import * as fs from 'fs';
import * as path from 'path';

function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      try {
        if (JSON.parse(fs.readFileSync(candidate, 'utf8')).name === 'pmfit') return dir;
      } catch {
        // an unreadable package.json of some other tree: keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find pmfit's package.json above ${start}`);
    dir = parent;
  }
}

export const projectRoot = findProjectRoot(__dirname);

/** node-gyp's output: the tracer addon and every built C program. */
export const buildDir = path.join(projectRoot, 'build', 'Release');

/** The directory of pmfit.h, the region markers users include (shipped in
 *  the package; `pmfit include-dir`, `pmfit cflags`). */
export const includeDir = path.join(projectRoot, 'targets', 'include');

/** Where reports go without -o (results.json, index.html, junit.xml,
 *  traces, replay files): relative, so under the directory pmfit was started
 *  in, never under the package. This repository's own `npm run allcounts`
 *  passes `-o reports`. */
export const defaultReportsDir = 'pmfit-report';

/** Whether this pmfit runs from an installed package (under node_modules/,
 *  a local or a global install) rather than from a checkout: its directory
 *  then belongs to npm, and pmfit writes nothing into it. */
export const installedPackage = projectRoot.split(path.sep).includes('node_modules');

/** Path of a C program built by `npm ci` (targets, fixtures, benchmarks). */
export function builtProgram(name: string): string {
  return path.join(buildDir, name);
}
