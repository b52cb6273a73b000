// descendants -- processes the traced program leaves behind (a child forked
// before its region, with or without setsid, a double-forked daemon) and
// daemons started by --setup or --recover do not outlive pmfit
// (harness/_internals/descendants.ts). A later run removes a temporary root
// whose owner is gone (pmfit killed with SIGKILL). The leftovers check after each test asserts that no
// process of the run is alive and the temporary parent is empty.

import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { memoryParent } from '../../harness/_internals/temp-root';
import { fixture } from '../fixtures';
import { taggedProcesses, useLeftovers } from '../helpers/leftovers';
import { isSingleStepped, waitFor } from '../helpers/processes';
import { runPmfit, startPmfit } from '../helpers/run-pmfit';
import { asUser, canDropPrivileges, scratchDir, userRecordAllcounts } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('descendants');
const daemon = fixture('fork_daemon');
const program = fixture('user_record');
const MODES = ['child', 'setsid', 'daemon'] as const;

function workDir(): string {
  const dir = fs.mkdtempSync(path.join(scratch.path(), 'work-'));
  fs.chmodSync(dir, 0o777);
  execFileSync(program, ['init', path.join(dir, 'rec.pm')]);
  fs.chmodSync(path.join(dir, 'rec.pm'), 0o644);
  leftovers.current().keep(path.join(dir, 'rec.pm'));
  return dir;
}

describe.each(MODES)('fork_daemon %s', (mode) => {
  it('traced: what it leaves running is killed when pmfit exits', () => {
    const result = runPmfit(['count', '--json', '--', daemon, mode], leftovers.current());
    expect({ code: result.code, out: JSON.parse(result.stdout) }).toEqual({
      code: 0,
      out: { instructions: expect.any(Number), exitCode: 0 },
    });
  });

  it('traced, as an unprivileged user', () => {
    if (!canDropPrivileges()) {
      console.warn('skipped: setpriv is missing; cannot run as an unprivileged user');
      return;
    }
    fs.chmodSync(leftovers.current().tmp, 0o777);
    const result = asUser(['count', '--', daemon, mode], { env: leftovers.current().env });
    expect(result.code).toBe(0);
  });
});

it('daemons started by --setup and --recover are killed when pmfit exits', () => {
  const dir = workDir();
  const result = runPmfit(
    userRecordAllcounts(
      `${daemon} daemon && ${daemon} setsid && ${program} check {file}`,
      '--setup',
      `${daemon} daemon && ${program} init {file}`,
    ),
    { cwd: dir, env: leftovers.current().env },
  );
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
});

it('a later run removes a temporary root whose owner is gone, and keeps a live one', () => {
  const { tmp } = leftovers.current();
  // A process that has exited: its pid names no process, or another one.
  const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
  const stale = path.join(tmp, `pmfit-${gone}-1-AbC123`);
  fs.mkdirSync(stale);
  fs.writeFileSync(path.join(stale, 'image'), 'left by a killed run');
  const stat = fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const live = path.join(tmp, `pmfit-${process.pid}-${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}-XyZ789`);
  fs.mkdirSync(live);
  const dir = workDir();
  const result = runPmfit(userRecordAllcounts(`${program} check {file}`), { cwd: dir, env: leftovers.current().env });
  expect(result.code).toBe(0);
  expect(fs.readdirSync(tmp)).toEqual([path.basename(live)]);
  fs.rmdirSync(live);
});

describe('pmfit killed with SIGKILL (the sentinel, harness/_internals/sentinel.ts)', () => {
  // SIGKILL runs none of pmfit's own cleanup; the sentinel sees pmfit's end
  // and kills every process of the run. The leftovers check then finds none
  // alive and the temporary root removed.
  const running = (exe: string) => leftovers.current().running(exe);

  it.each(MODES)('during checking, a recovery that started a daemon (fork_daemon %s): none survives', async (mode) => {
    const dir = workDir();
    const run = startPmfit(userRecordAllcounts(`${daemon} ${mode} && sleep 600 && ${program} check {file}`), {
      cwd: dir,
      env: leftovers.current().env,
    });
    // The preflight's first recovery runs: its daemon is up, the shell sleeps.
    expect(await waitFor(() => running(daemon).length > 0 && running('/usr/bin/sleep').length > 0, 30_000)).toBe(true);
    run.child.kill('SIGKILL');
    await run.done;
    expect(await waitFor(() => taggedProcesses(leftovers.current().tag).length === 0)).toBe(true);
    expect(await waitFor(() => fs.readdirSync(leftovers.current().tmp).length === 0)).toBe(true);
  });

  it('without PMFIT_TMPDIR, crash images in /dev/shm: the sentinel removes that root too', async () => {
    const dir = workDir();
    // Preflight recovers in the temporary directory; crash images go to
    // /dev/shm when it is on a disk (temp-root.ts): that recovery sleeps.
    const run = startPmfit(userRecordAllcounts(`case {dir} in /dev/shm/*) sleep 600;; esac; ${program} check {file}`), {
      cwd: dir,
      env: { ...leftovers.current().env, PMFIT_TMPDIR: '' },
    });
    const pid = run.child.pid as number;
    const roots = () =>
      ['/dev/shm', os.tmpdir()].flatMap((parent) =>
        fs.existsSync(parent)
          ? fs.readdirSync(parent).filter((entry) => entry.startsWith(`pmfit-${String(pid).padStart(7, '0')}-`))
          : [],
      );
    const inMemory = () =>
      fs.existsSync('/dev/shm') &&
      fs.readdirSync('/dev/shm').some((entry) => entry.startsWith(`pmfit-${String(pid).padStart(7, '0')}-`));
    const saved = process.env.PMFIT_TMPDIR;
    delete process.env.PMFIT_TMPDIR;
    const memory = memoryParent();
    if (saved !== undefined) process.env.PMFIT_TMPDIR = saved;
    if (memory === undefined) {
      // the temporary directory is in memory already: nothing goes to /dev/shm
      const result = await run.done;
      expect(result.code).toBe(0);
      expect(inMemory()).toBe(false);
      return;
    }
    expect(await waitFor(() => inMemory() && running('/usr/bin/sleep').length > 0, 60_000)).toBe(true);
    run.child.kill('SIGKILL');
    await run.done;
    expect(await waitFor(() => taggedProcesses(leftovers.current().tag).length === 0)).toBe(true);
    expect(await waitFor(() => roots().length === 0)).toBe(true);
  });

  it.each(MODES)('mid-region, a child the traced program forked before it (%s): none survives', async (mode) => {
    const run = startPmfit(['count', '--max-steps', '1000000000', '--', daemon, mode, 'loop'], {
      env: leftovers.current().env,
    });
    // The tracee single-steps its endless region; what it forked lingers.
    expect(await waitFor(() => running(daemon).length === 2 && running(daemon).some(isSingleStepped), 30_000)).toBe(
      true,
    );
    run.child.kill('SIGKILL');
    await run.done;
    expect(await waitFor(() => taggedProcesses(leftovers.current().tag).length === 0)).toBe(true);
  });
});
