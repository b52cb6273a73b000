// pm-guard -- the traced program cannot change the user's own PM file
// (allcounts --cmd --pm FILE), whatever path it uses: a hard link or a
// symlink the setup made, a path from an environment variable, a child it
// forked, /proc/self/fd, and each call that can write or truncate a file by
// name (open, openat2, creat, truncate, open through int 0x80). The seccomp
// guard (native/user_file_guard.h) refuses the call with EACCES before
// anything is written, and the run ends with exit 2 and one line naming the
// path the program used. The user's file stays byte-identical (leftovers),
// and no process or temporary file is left.

import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';
import { asUser, canDropPrivileges, expectUsageError, scratchDir } from './helpers';

/** int80Works -- whether this kernel runs 32-bit system calls (`int
 *  0x80`) at all: a kernel without IA32 emulation (this project's
 *  Firecracker guests, Linux 6.18) kills any program that makes one with
 *  SIGSEGV, so no open can come that way and there is nothing to refuse.
 *  Probed with a program that makes getpid so. */
function int80Works(): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-int80-'));
  try {
    const probe = path.join(dir, 'int80');
    execFileSync('cc', ['-x', 'c', '-', '-o', probe], {
      input:
        'int main(void) { long r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory"); return r > 0 ? 0 : 1; }',
    });
    return spawnSync(probe).status === 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const leftovers = useLeftovers();
const scratch = scratchDir('pm-guard');
const sneak = fixture('pm_sneak');

/** A working directory with the user's pool.pm (4 KiB of 0x5a); `open`:
 *  directory and file writable by every user. */
function workDir(name: string, open = false): { dir: string; pm: string } {
  const dir = path.join(scratch.path(), name);
  fs.mkdirSync(dir);
  const pm = path.join(dir, 'pool.pm');
  fs.writeFileSync(pm, Buffer.alloc(4096, 0x5a));
  if (open) {
    fs.chmodSync(dir, 0o777);
    fs.chmodSync(pm, 0o666);
  }
  leftovers.current().keep(pm);
  return { dir, pm };
}

/** allcounts of `pm_sneak HOW SNEAK_PATH {file}`, SNEAK_PATH=`target`. */
function allcounts(how: string, target: string, extra: string[] = []): string[] {
  return [
    'allcounts',
    '--cmd',
    `SNEAK_PATH=${target} ${sneak} ${how} SNEAK_PATH {file}`,
    '--pm',
    'pool.pm',
    '--recover',
    'true {file}',
    '-o',
    'reports',
    ...extra,
  ];
}

function refused(verb: 'open' | 'truncate', pm: string, used: string): RegExp {
  const quote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^pmfit: the traced program \\(pid \\d+\\) tried to ${verb} your PM file ${quote(pm)}` +
      `${verb === 'open' ? ' for writing' : ''} by the path "${quote(used)}": pmfit refused it \\(EACCES\\)`,
  );
}

function results(dir: string): Results {
  return JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
}

describe('a path pmfit cannot see in --cmd', () => {
  it('a symbolic link the setup makes: refused, exit 2 naming the link', () => {
    const { dir, pm } = workDir('symlink');
    const result = runPmfit(allcounts('open', 'sneaky', ['--setup', `cp ${pm} {file} && ln -s ${pm} sneaky`]), {
      ...leftovers.current(),
      cwd: dir,
    });
    expectUsageError(result, refused('open', pm, 'sneaky'));
    expect(results(dir)).toMatchObject({ incomplete: true, runs: [] });
  });

  it('a hard link in another directory the setup makes: refused by device and inode', () => {
    const { dir, pm } = workDir('hardlink');
    const result = runPmfit(
      allcounts('open', 'elsewhere/other-name', [
        '--setup',
        `cp ${pm} {file} && mkdir elsewhere && ln ${pm} elsewhere/other-name`,
      ]),
      { ...leftovers.current(), cwd: dir },
    );
    expectUsageError(result, refused('open', pm, 'elsewhere/other-name'));
  });

  it('an absolute path from an environment variable: refused', () => {
    const { dir, pm } = workDir('env');
    const result = runPmfit(allcounts('open', pm), { ...leftovers.current(), cwd: dir });
    expectUsageError(result, refused('open', pm, pm));
  });

  it('a child the program forked: refused too, although the program itself exits 0', () => {
    const { dir, pm } = workDir('fork');
    const result = runPmfit(allcounts('fork', pm), { ...leftovers.current(), cwd: dir });
    expectUsageError(result, refused('open', pm, pm));
  });

  it('/proc/self/fd/N of a read-only descriptor, reopened for writing: refused', () => {
    const { dir, pm } = workDir('procfd');
    const result = runPmfit(allcounts('procfd', pm), { ...leftovers.current(), cwd: dir });
    expectUsageError(result, /by the path "\/proc\/self\/fd\/\d+": pmfit refused it/);
  });

  it.each([
    ['creat', 'open'],
    ['openat2', 'open'],
    ...(int80Works() ? [['int80', 'open'] as const] : []),
    ['truncate', 'truncate'],
  ] as const)('%s: refused', (how, verb) => {
    const { dir, pm } = workDir(how);
    const result = runPmfit(allcounts(how, pm), { ...leftovers.current(), cwd: dir });
    expectUsageError(result, refused(verb, pm, pm));
  });

  it('a read-only open of the original is allowed: the run passes', () => {
    const { dir, pm } = workDir('readonly');
    const result = runPmfit(allcounts('readonly', pm), { ...leftovers.current(), cwd: dir });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(results(dir).targets[0].events).toBeGreaterThan(0);
  });

  (canDropPrivileges() ? it : it.skip)(
    'as an unprivileged user, on a file that user may write: refused (no privilege needed)',
    () => {
      const { dir, pm } = workDir('unprivileged', true);
      // The test's temporary root (checked empty afterwards), for nobody too.
      fs.chmodSync(leftovers.current().tmp, 0o1777);
      const result = asUser(allcounts('open', pm), { cwd: dir, env: leftovers.current().env });
      expectUsageError(result, refused('open', pm, pm));
    },
  );
});
