// stopped -- pmfit stopped and continued (Ctrl-Z, fg: SIGSTOP, SIGCONT)
// while a recovery runs. The recovery runs in a process group of its own and
// goes on while pmfit is stopped; the time pmfit was stopped must not count
// against the recovery's --timeout, and an exit that came while pmfit was
// stopped is an exit, not a timeout.
//
// The first recovery waits for a file the test creates, so each step below
// waits for a condition; the only waits on time are for the time limit
// itself to pass while pmfit is stopped.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { taggedProcesses, useLeftovers } from '../helpers/leftovers';
import { waitFor } from '../helpers/processes';
import { startPmfit } from '../helpers/run-pmfit';
import { scratchDir, userRecordAllcounts } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('stopped');
const program = fixture('user_record');
const TIMEOUT_S = 2;

/** allcounts with one job and a recovery whose first run waits for `go`;
 *  resolves once that recovery runs. */
async function startBlockedCheck() {
  const dir = fs.mkdtempSync(path.join(scratch.path(), 'work-'));
  execFileSync(program, ['init', path.join(dir, 'rec.pm')]);
  leftovers.current().keep(path.join(dir, 'rec.pm'));
  const [first, started, go] = ['first', 'started', 'go'].map((name) => path.join(dir, name));
  const recover =
    `if mkdir ${first} 2>/dev/null; then touch ${started}; while [ ! -e ${go} ]; do sleep 0.01; done; fi; ` +
    `${program} check {file}`;
  const run = startPmfit(userRecordAllcounts(recover, '--jobs', '1', '--timeout', String(TIMEOUT_S)), {
    cwd: dir,
    env: leftovers.current().env,
  });
  expect(await waitFor(() => fs.existsSync(started), 30_000)).toBe(true);
  const startedAt = Date.now();
  return { dir, run, startedAt, release: () => fs.writeFileSync(go, '') };
}

/** pmfit's sentinel (harness/tracer/sentinel.ts), by its program's name. */
function isSentinel(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pmfit_sentinel');
  } catch {
    return false;
  }
}

/** Wait until the time limit has passed in wall-clock time since `since`. */
async function limitPassed(since: number): Promise<void> {
  expect(await waitFor(() => Date.now() - since > TIMEOUT_S * 1000 + 1500, 30_000)).toBe(true);
}

function expectConsistent(dir: string, result: { code: number | null; stdout: string; stderr: string }): void {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
  expect(results.runs.map((run) => ({ status: run.status, violations: run.violations }))).toEqual([
    { status: 'pass', violations: 0 },
  ]);
  expect(result.stdout).not.toContain('timed out');
}

it('a recovery that exits while pmfit is stopped past the time limit is not a timeout', async () => {
  const { dir, run, release } = await startBlockedCheck();
  const pmfit = run.child.pid!;
  process.kill(pmfit, 'SIGSTOP');
  const stoppedAt = Date.now();
  release();
  // The recovery finishes while pmfit is stopped: nothing of the run but
  // pmfit itself and its sentinel (which lives as long as pmfit) is left.
  expect(
    await waitFor(
      () => taggedProcesses(leftovers.current().tag).every((pid) => pid === pmfit || isSentinel(pid)),
      30_000,
    ),
  ).toBe(true);
  await limitPassed(stoppedAt);
  process.kill(pmfit, 'SIGCONT');
  expectConsistent(dir, await run.done);
});

it('the time pmfit is stopped does not count against a running recovery', async () => {
  const { dir, run, release } = await startBlockedCheck();
  const pmfit = run.child.pid!;
  process.kill(pmfit, 'SIGSTOP');
  await limitPassed(Date.now());
  process.kill(pmfit, 'SIGCONT');
  // Still running, with most of its time left: it finishes now.
  release();
  expectConsistent(dir, await run.done);
});
