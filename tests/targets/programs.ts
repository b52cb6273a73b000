// programs -- the built-in target programs for tests, and a way to run them.
//
// Uses build/Release/<name> when it is at least as new as every source file
// of the targets; otherwise compiles the program with gcc (same flags as
// targets/targets.gypi) into a cache directory named after a hash of the
// sources, so that stale builds are never tested and each jest worker reuses
// one compilation.

import { execFileSync, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { builtProgram, projectRoot } from '../../harness/_internals/paths';

export type TargetProgram = 'basic' | 'alloc' | 'tree' | 'tree_broken';

const T = (p: string) => path.join(projectRoot, 'targets', p);
const LIBPMEM = [T('libpmem/libpmem.c')];
const ALLOC = [T('alloc/alloc.c'), ...LIBPMEM];

const SOURCES: Record<TargetProgram, { files: string[]; defines: string[] }> = {
  basic: { files: [T('basic/basic.c'), ...LIBPMEM], defines: [] },
  alloc: { files: [T('alloc/main.c'), ...ALLOC], defines: [] },
  tree: { files: [T('tree/tree.c'), ...ALLOC], defines: [] },
  tree_broken: { files: [T('tree/tree.c'), ...ALLOC], defines: ['-DTREE_BROKEN'] },
};
const HEADERS = [T('include/pmfit.h'), T('libpmem/libpmem.h'), T('alloc/alloc.h')];
const CFLAGS = [
  '-std=gnu11',
  '-g',
  '-O2',
  '-Wall',
  '-Wextra',
  '-Werror',
  `-I${T('include')}`,
  `-I${T('libpmem')}`,
  `-I${T('alloc')}`,
];

const resolved = new Map<TargetProgram, string>();

/** targetProgram -- path of an up-to-date binary of NAME. */
export function targetProgram(name: TargetProgram): string {
  const known = resolved.get(name);
  if (known) return known;

  const { files, defines } = SOURCES[name];
  const inputs = [...files, ...HEADERS];
  const built = builtProgram(name);
  const newest = Math.max(...inputs.map((f) => fs.statSync(f).mtimeMs));
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= newest) {
    resolved.set(name, built);
    return built;
  }

  const flags = [...CFLAGS, ...defines];
  const hash = crypto.createHash('sha256');
  for (const f of inputs) hash.update(f).update(fs.readFileSync(f));
  hash.update(flags.join(' '));
  const dir = path.join(os.tmpdir(), `pmfit-targets-${hash.digest('hex').slice(0, 16)}`);
  const out = path.join(dir, name);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('gcc', [...flags, ...files, '-Wl,-z,now', '-o', tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
    fs.renameSync(tmp, out); // atomic: parallel workers never see half a binary
  }
  resolved.set(name, out);
  return out;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** run -- run a target program with ARGS in CWD, capturing its output. */
export function run(name: TargetProgram, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): RunResult {
  const r = spawnSync(targetProgram(name), args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PMEM_MODE: '', ...env },
    timeout: 30000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runOk -- run and insist on exit status 0; returns stdout. */
export function runOk(name: TargetProgram, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = run(name, args, cwd, env);
  if (r.status !== 0) {
    throw new Error(`${name} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  }
  return r.stdout;
}

/** scratchDir -- a fresh temporary directory, removed by the returned function. */
export function scratchDir(label: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pmfit-${label}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
