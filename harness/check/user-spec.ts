// user-spec -- a TargetSpec for a user's own program, from `pmfit allcounts
// --cmd ... --pm FILE --recover "CMD {file}"`: the recovery command's exit
// status is the verdict (0 consistent), as users of pmreorder know it.
//
// The user's PM file is copied into the working directory and never written:
// an argument naming it is redirected to the copy.

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../_internals/errors';
import { shellWords } from '../_internals/shell-words';
import type { TargetSpec } from './spec';

export interface UserSpecOptions {
  cmd: string;
  pm: string;
  setup?: string;
  recover: string;
  cwd: string;
}

export function userSpec(options: UserSpecOptions): TargetSpec {
  const pmPath = path.resolve(options.cwd, options.pm);
  const name = path.basename(pmPath);
  const argv = shellWords(options.cmd);
  if (argv.length === 0) throw usageError('--cmd is empty');
  if (!options.recover.includes('{file}')) throw usageError('--recover must name the crash image as {file}, for example --recover "myprog check {file}"');
  const program = argv[0].includes('/') ? path.resolve(options.cwd, argv[0]) : argv[0];
  const workload = [program, ...argv.slice(1).map((arg) => {
    if (arg === '{file}' || path.resolve(options.cwd, arg) === pmPath) return `{dir}/${name}`;
    return arg.split('{file}').join(`{dir}/${name}`);
  })];
  const setup = [];
  if (options.setup !== undefined) {
    // Setup runs in the working directory, so a relative PM name already
    // lands there; {file} names it explicitly.
    setup.push({ shell: options.setup });
  } else {
    if (!fs.existsSync(pmPath)) throw usageError(`PM file ${options.pm} does not exist (create it, or pass --setup "CMD" to create it)`);
    if (!fs.statSync(pmPath).isFile()) throw usageError(`PM file ${options.pm} is not a regular file`);
    setup.push({ argv: ['cp', '--', pmPath, `{dir}/${name}`] });
    // cp keeps a read-only file read-only; the copy is the program's to write.
    setup.push({ argv: ['chmod', 'u+w', '--', `{dir}/${name}`] });
  }
  return {
    name: path.basename(program),
    description: `${options.cmd} (user command)`,
    expect: 'consistent',
    pmFiles: [name],
    setup,
    workload: { argv: workload },
    states: [],
    // no check: the recovery's exit status is the verdict
    recover: [{ shell: options.recover }],
  };
}
