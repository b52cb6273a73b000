// helpers -- shared by the reliability tests: a scratch directory per test
// file, running pmfit as an unprivileged user, and the checks every bad
// input ends with.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { CliResult, cliPath, pmfitMessage } from '../helpers/run-pmfit';

/** Scratch directory for a test file's inputs (the user's files), readable
 *  by every user so that asUser() runs can reach it; `workDir(name)` makes a
 *  fresh directory in it for one test, writable by every user. */
export function scratchDir(label: string): { path: () => string; workDir: (name: string) => string } {
  let dir: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `pmfit-${label}-`));
    fs.chmodSync(dir, 0o755);
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const workDir = (name: string): string => {
    const work = path.join(dir!, name);
    fs.mkdirSync(work);
    fs.chmodSync(work, 0o777);
    return work;
  };
  return { path: () => dir!, workDir };
}

/** The user that asUser() runs as, when the tests run as root: nobody. */
export const UNPRIVILEGED = 65534;

/** Tests run as root here, and root passes every permission check (it reads
 *  a chmod 000 file, writes a chmod 444 one). To see what a user sees,
 *  asUser() drops to nobody with setpriv; not root: runs as is. */
export function canDropPrivileges(): boolean {
  if (process.getuid?.() !== 0) return true;
  return spawnSync('setpriv', ['--version']).status === 0;
}

/** The checkout may sit below a directory only root can enter (mktemp -d
 *  makes them 0700), where nobody cannot reach pmfit at all. Ancestors
 *  without search permission for others get it (o+x: enter, not list) for
 *  the test file, and their modes are restored after it. */
const restoredModes = new Map<string, number>();
let reachable = false;

function makeProjectReachable(): void {
  if (reachable || process.getuid?.() !== 0) return;
  reachable = true;
  for (let dir = path.dirname(cliPath); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      restoredModes.set(dir, mode);
      fs.chmodSync(dir, mode | 0o001);
    }
  }
}

afterAll(() => {
  for (const [dir, mode] of restoredModes) fs.chmodSync(dir, mode);
  restoredModes.clear();
  reachable = false;
});

export interface LimitedRunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Resource limits set first, as the shell's ulimit takes them ('-n 1024'). */
  ulimit?: string;
}

export function asUser(args: string[], options: LimitedRunOptions = {}): CliResult {
  makeProjectReachable();
  const prefix =
    process.getuid?.() === 0
      ? ['setpriv', `--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups', '--']
      : [];
  return runCli(prefix, args, options);
}

/** underLimits -- pmfit as the test's own user, under `options.ulimit`. */
export function underLimits(args: string[], options: LimitedRunOptions): CliResult {
  return runCli([], args, options);
}

function runCli(prefix: string[], args: string[], options: LimitedRunOptions): CliResult {
  const limits = options.ulimit !== undefined ? ['bash', '-c', `ulimit ${options.ulimit} && exec "$@"`, 'bash'] : [];
  const argv = [...limits, ...prefix, process.execPath, cliPath, ...args];
  const result = spawnSync(argv[0], argv.slice(1), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** expectUsageError -- exit 2 and one line of pmfit's own matching `pattern`. */
export function expectUsageError(result: CliResult, pattern: RegExp): void {
  expect({ code: result.code, message: pmfitMessage(result) }).toEqual({
    code: 2,
    message: expect.stringMatching(pattern),
  });
}

/** userRecordAllcounts -- the arguments of one sequential `pmfit allcounts`
 *  of the user_record fixture storing 7 into ./rec.pm, recovered by
 *  `recover`, reports to ./reports; `extra` options follow. */
export function userRecordAllcounts(recover: string, ...extra: string[]): string[] {
  const program = fixture('user_record');
  return [
    'allcounts',
    '--model',
    'sequential',
    '--cmd',
    `${program} set rec.pm 7`,
    '--pm',
    'rec.pm',
    '--recover',
    recover,
    '-o',
    'reports',
    ...extra,
  ];
}

/** readOnlyMount -- a read-only 64 KiB tmpfs mounted at DIR/ro, or undefined
 *  (with a note) where mounting needs a root this run does not have; the
 *  caller unmounts it (`umount`). */
export function readOnlyMount(dir: string): string | undefined {
  const ro = path.join(dir, 'ro');
  fs.mkdirSync(ro);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]).status !== 0) {
    console.warn('skipped: cannot mount a tmpfs here (needs root)');
    return undefined;
  }
  return ro;
}
