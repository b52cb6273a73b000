// user-spec -- a TargetSpec for a user's own program, from `pmfit allcounts
// --cmd ... --pm FILE --recover "CMD {file}"` or a target of
// pmfit.config.json (both resolved to UserSpecOptions first): the recovery
// command's exit status is the verdict (0 consistent), as users of pmreorder
// know it; with `--oracle outputs` its output must also match the uncrashed
// file's (output-oracle.ts). The recovery commands are told the crash's
// operation window in the environment (ops-done-env.ts).
//
// The user's PM file is copied into a scratch directory and never written:
// an argument naming it, by any path (a symbolic or hard link too), is
// redirected to the copy; pipeline/_internals/user-file-guard.ts checks
// that nothing reached the original another way. The commands run in the
// directory pmfit was started in (`cwd`), so that `./prog`, `./check {file}`
// or `data/input` mean what they mean in the user's shell; `{file}` is the
// only name of the scratch PM file. The workload's environment is the
// config's `env`, or the leading `NAME=VALUE` words of --cmd (commandWords).

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../_internals/errors';
import { pmFileProblem } from '../_internals/pm-file-problem';
import { shellWords } from '../_internals/shell-words';
import type { SpecCommand, TargetSpec } from './spec';

export interface UserSpecOptions {
  /** The target's name; default: the program's file name. */
  name?: string;
  /** The traced program and its arguments, and what it adds to the environment. */
  argv: string[];
  env?: Record<string, string>;
  /** The command as the user wrote it, for the reports. */
  description: string;
  pm: string;
  setup?: string;
  /** Bytes of a fresh zero-filled PM file, instead of a copy of `pm`. */
  size?: number;
  /** The recovery command (`{file}`), or a persistent checker given each
   *  image's path on stdin (recover-server.ts): exactly one of the two. */
  recover?: string;
  recoverServer?: string;
  functions?: string[];
  expect?: 'consistent' | 'violations';
  cwd: string;
  /** `exit` (default): the recovery's exit status is the verdict; `outputs`:
   *  also its output must equal one on an uncrashed file the crash may stand
   *  for (output-oracle.ts). */
  oracle?: Oracle;
  /** How messages name the inputs: `--cmd`... or a JSON path in the config. */
  names?: { command: string; recover: string; setup: string; recoverServer?: string };
}

const flagNames = { command: '--cmd', recover: '--recover', setup: '--setup', recoverServer: '--recover-server' };

/** commandWords -- `--cmd "[VAR=V...] CMD ARGS"` split as the shell would:
 *  leading assignments are the environment, the rest the argv. */
export function commandWords(cmd: string): { argv: string[]; env: Record<string, string> } {
  const words = shellWords(cmd);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const word = words.shift() as string;
    const equals = word.indexOf('=');
    env[word.slice(0, equals)] = word.slice(equals + 1);
  }
  return { argv: words, env };
}

export type Oracle = 'exit' | 'outputs';
export const oracleNames: readonly Oracle[] = ['exit', 'outputs'];

/** samePmFile -- whether an argument names the PM file: its path, or any
 *  other name of the same file (a symbolic link, a hard link), by device and
 *  inode. */
function samePmFile(pmPath: string, cwd: string): (arg: string) => boolean {
  let pm: fs.Stats | undefined;
  try {
    pm = fs.statSync(pmPath);
  } catch {
    pm = undefined; // missing, or unusable: reported with the setup
  }
  return (arg) => {
    if (arg === '') return false;
    const resolved = path.resolve(cwd, arg);
    if (resolved === pmPath) return true;
    if (!pm?.isFile()) return false;
    try {
      const stat = fs.statSync(resolved);
      return stat.dev === pm.dev && stat.ino === pm.ino;
    } catch {
      return false;
    }
  };
}

export function userSpec(options: UserSpecOptions): TargetSpec {
  const pmPath = path.resolve(options.cwd, options.pm);
  const name = path.basename(pmPath);
  const names = options.names ?? flagNames;
  const { argv } = options;
  const env = options.env ?? {};
  if (argv.length === 0) throw usageError(`${names.command} is empty`);
  const serverName = names.recoverServer ?? 'recoverServer';
  if (options.recover !== undefined && options.recoverServer !== undefined)
    throw usageError(`give ${names.recover} or ${serverName}, not both`);
  if (options.recover === undefined && options.recoverServer === undefined)
    throw usageError(`${names.recover} "CMD {file}" or ${serverName} "CMD" is needed (its verdict is the check)`);
  if (options.recoverServer !== undefined && options.recoverServer.trim() === '')
    throw usageError(`${serverName} is empty`);
  if (options.recover !== undefined && !options.recover.includes('{file}'))
    throw usageError(
      `${names.recover} must name the crash image as {file}, for example ${names.recover} "myprog check {file}"`,
    );
  const program = argv[0].includes('/') ? path.resolve(options.cwd, argv[0]) : argv[0];
  const namesPm = samePmFile(pmPath, options.cwd);
  const workload = [
    program,
    ...argv.slice(1).map((arg) => {
      if (arg === '{file}' || namesPm(arg)) return `{dir}/${name}`;
      // --pool=PATH
      const eq = arg.indexOf('=');
      if (eq > 0 && namesPm(arg.slice(eq + 1))) return `${arg.slice(0, eq + 1)}{dir}/${name}`;
      return arg.split('{file}').join(`{dir}/${name}`);
    }),
  ];
  const setup: SpecCommand[] = [];
  if (options.setup !== undefined && options.size !== undefined)
    throw usageError(`${names.setup} and a size both make the fresh PM file: give one`);
  if (options.size !== undefined) {
    setup.push({ argv: ['truncate', '-s', String(options.size), '--', `{dir}/${name}`] });
  } else if (options.setup !== undefined) {
    // Setup runs where pmfit was started: a relative PM name would land in
    // the user's directory, so the fresh file is named {file} (or {dir}/...).
    if (!/\{(file|dir)\}/.test(options.setup)) {
      throw usageError(
        `${names.setup} must name the fresh PM file as {file}, for example ${names.setup} "myprog init {file}" (it runs in the current directory, whose ${options.pm} pmfit never writes)`,
      );
    }
    setup.push({ shell: options.setup });
  } else {
    const problem = pmFileProblem(pmPath);
    if (problem?.kind === 'missing')
      throw usageError(
        `PM file ${options.pm} does not exist (create it, or ${names === flagNames ? 'pass' : 'give'} ${names.setup} "CMD {file}" to create it)`,
      );
    if (problem) throw usageError(`PM file ${options.pm} ${problem.why}`);
    setup.push({ argv: ['cp', '--', pmPath, `{dir}/${name}`] });
    // cp keeps a read-only file read-only; the copy is the program's to write.
    setup.push({ argv: ['chmod', 'u+w', '--', `{dir}/${name}`] });
  }
  return {
    userFiles: [pmPath],
    name: options.name ?? path.basename(program),
    description: options.description,
    expect: options.expect ?? 'consistent',
    pmFiles: [name],
    setup,
    workload: { argv: workload, ...(Object.keys(env).length > 0 ? { env } : {}) },
    cwd: path.resolve(options.cwd),
    states: [],
    // no check: the recovery's exit status is the verdict (with --oracle
    // outputs, the pipeline adds the output check once it has the outputs)
    ...(options.recover !== undefined
      ? { recover: [{ shell: options.recover }], windowEnv: true }
      : // a server is told the image's path only, not its operation window
        { recover: [], recoverServer: options.recoverServer }),
    ...(options.oracle === 'outputs' ? { oracle: 'outputs' as const } : {}),
    ...(options.functions?.length ? { functions: options.functions } : {}),
  };
}
