// signals -- Ctrl-C (SIGINT), SIGTERM, SIGHUP (the terminal closed) and
// SIGQUIT (Ctrl-\) while pmfit records and while it checks: exit 130 / 143 /
// 129 / 131 with one line, tracees and recovery commands
// killed, temporary files removed, and for allcounts the runs finished so
// far saved in results.json marked incomplete, as the console says.
//
// Covered elsewhere: `pmfit count` mid-region, tests/cli/signals.test.ts.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { isSingleStepped, waitFor } from '../helpers/processes';
import { runPmfit, startPmfit } from '../helpers/run-pmfit';
import { scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('signals');
const looper = fixture('loop_forever');
const SIGNALS = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
  ['SIGQUIT', 131],
] as const;

/** Wait until the test's loop_forever is in its region: single-stepped
 *  (its region never ends). */
async function looperInRegion(): Promise<void> {
  expect(await waitFor(() => leftovers.current().running(looper).some(isSingleStepped), 20_000)).toBe(true);
}

/** The state letter of /proc/PID/stat ('' once it is gone). */
function processState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return '';
  }
}

function workDir(): string {
  return fs.mkdtempSync(path.join(scratch.path(), 'work-'));
}

function readResults(dir: string): Results {
  return JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
}

describe('interrupted while recording', () => {
  it.each(SIGNALS)('pmfit record, %s: exit %d, no trace and no partial trace', async (signal, code) => {
    const dir = workDir();
    fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(4096));
    leftovers.current().keep(path.join(dir, 'pm.bin'));
    const run = startPmfit(
      ['record', '--exact', '--max-steps', '1000000000', '--pm', 'pm.bin', '-o', 'run.trace', '--', looper],
      {
        cwd: dir,
        env: leftovers.current().env,
      },
    );
    await looperInRegion();
    run.child.kill(signal);
    const result = await run.done;
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: `pmfit: interrupted by ${signal}\n` });
    // The trace is written whole or not at all.
    expect(fs.readdirSync(dir)).toEqual(['pm.bin']);
  });

  it.each(SIGNALS)(
    'pmfit record, %s while the tracee blocks in a syscall inside its region: exit %d',
    async (signal, code) => {
      const dir = workDir();
      const sleeper = fixture('sleep_in_region');
      // not kept byte-identical: the program itself stores to it (so that its
      // sleep is stepped with the PM mapping diffed around it)
      fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(4096));
      const run = startPmfit(['record', '--pm', 'pm.bin', '-o', 'run.trace', '--', sleeper, 'pm.bin'], {
        cwd: dir,
        env: leftovers.current().env,
      });
      // asleep in the kernel ('S'), not stopped by the tracer between steps ('t')
      const asleep = () =>
        leftovers
          .current()
          .running(sleeper)
          .some((pid) => processState(pid) === 'S');
      expect(await waitFor(asleep, 20_000)).toBe(true);
      run.child.kill(signal);
      const result = await run.done;
      expect({ code: result.code, stderr: result.stderr }).toEqual({
        code,
        stderr: `pmfit: interrupted by ${signal}\n`,
      });
      expect(fs.readdirSync(dir)).toEqual(['pm.bin']);
    },
  );

  it.each(SIGNALS)('pmfit allcounts, %s: exit %d, results.json marked incomplete', async (signal, code) => {
    const dir = workDir();
    fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(4096));
    leftovers.current().keep(path.join(dir, 'pm.bin'));
    const run = startPmfit(
      [
        'allcounts',
        // --exact: looperInRegion knows the region by its single steps
        '--exact',
        '--max-steps',
        '1000000000',
        '--cmd',
        looper,
        '--pm',
        'pm.bin',
        '--recover',
        'true {file}',
        '-o',
        'reports',
      ],
      { cwd: dir, env: leftovers.current().env },
    );
    await looperInRegion();
    run.child.kill(signal);
    const result = await run.done;
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: `pmfit: interrupted by ${signal}\n` });
    expect(readResults(dir)).toMatchObject({
      incomplete: true,
      incompleteReason: `interrupted by ${signal}`,
      runs: [],
    });
    expect(result.stdout).toContain(`\nincomplete: interrupted by ${signal}\n`);
  });
});

describe('interrupted while checking', () => {
  it.each(SIGNALS)('pmfit allcounts, %s: exit %d, the finished runs saved, marked incomplete', async (signal, code) => {
    const dir = workDir();
    const program = fixture('user_record');
    execFileSync(program, ['init', path.join(dir, 'rec.pm')]);
    leftovers.current().keep(path.join(dir, 'rec.pm'));
    const cmd = `${program} set rec.pm 7`;
    // How many recoveries the first model needs, counted: with one job and an
    // empty cache, the preflight's two (initial and final image) and one per
    // distinct image and operation window (a user recovery sees its window).
    const counted = path.join(dir, 'counted');
    const first = runPmfit(
      [
        'allcounts',
        '--jobs',
        '1',
        '--model',
        'sequential',
        '--cmd',
        cmd,
        '--pm',
        'rec.pm',
        '--recover',
        `echo x >> ${counted}; ${program} check {file}`,
        '-o',
        'first',
      ],
      { cwd: dir, env: leftovers.current().env },
    );
    expect(first.code).toBe(0);
    const needed = fs.readFileSync(counted, 'utf8').split('\n').length - 1;
    const firstRun = (JSON.parse(fs.readFileSync(path.join(dir, 'first', 'results.json'), 'utf8')) as Results).runs[0];
    expect(needed).toBeGreaterThanOrEqual(2 + firstRun.distinctImages);
    // The recovery after those blocks (px86 has an image the others do not),
    // so the signal arrives while a recovery command runs.
    const log = path.join(dir, 'recoveries');
    const blocked = path.join(dir, 'blocked');
    const recover =
      `n=$(cat ${log} 2>/dev/null | wc -l); echo x >> ${log}; ` +
      `if [ "$n" -ge ${needed} ]; then touch ${blocked}; sleep 60; fi; ${program} check {file}`;
    const run = startPmfit(
      ['allcounts', '--jobs', '1', '--cmd', cmd, '--pm', 'rec.pm', '--recover', recover, '-o', 'reports'],
      { cwd: dir, env: leftovers.current().env },
    );
    expect(await waitFor(() => fs.existsSync(blocked), 20_000)).toBe(true);
    run.child.kill(signal);
    const result = await run.done;
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: `pmfit: interrupted by ${signal}\n` });
    const results = readResults(dir);
    expect(results).toMatchObject({ incomplete: true, incompleteReason: `interrupted by ${signal}`, status: 'fail' });
    expect(results.runs[0]).toMatchObject({ model: 'sequential', violations: 0 });
    expect(results.runs.map((r) => r.model)).not.toContain('px86');
    expect(result.stdout).toContain(
      `\nincomplete: interrupted by ${signal}\npmfit: results are incomplete; every run checked so far is as expected\n`,
    );
  });
});
