// no-space -- the temporary directory fills up (ENOSPC) in the middle of
// `pmfit allcounts`: one line that says so (exit 2), the runs finished
// before it saved in results.json marked incomplete, the temporary root
// removed.
//
// The full directory is a 128 KiB tmpfs mounted on the test's PMFIT_TMPDIR:
// room for the basic target's pool, trace and crash images, not for tree's
// (its 64 KiB pool, a copy in the trace, and the images). Mounting needs
// root (CAP_SYS_ADMIN); without it the test says so and does nothing.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';
import { expectUsageError, scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('no-space');
const mounted: string[] = [];

function mountTmpfs(dir: string, size: string): boolean {
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (result.status !== 0) return false;
  mounted.push(dir);
  return true;
}

function unmount(dir: string): void {
  if (mounted.includes(dir) && spawnSync('umount', [dir]).status === 0) mounted.splice(mounted.indexOf(dir), 1);
}

afterAll(() => {
  for (const dir of [...mounted]) unmount(dir);
});

it('temporary space full: a clear message, the results so far saved and marked incomplete', () => {
  const { tmp, env } = leftovers.current();
  if (!mountTmpfs(tmp, '128k')) {
    console.warn('skipped: cannot mount a tmpfs here (needs root); ENOSPC is not simulated');
    return;
  }
  try {
    const reports = path.join(scratch.path(), 'reports');
    const result = runPmfit(['allcounts', '--target', 'basic', '--target', 'tree', '-o', reports], { env });
    expectUsageError(
      result,
      new RegExp(
        `^pmfit: no space left for temporary files in ${tmp} \\(set PMFIT_TMPDIR to a directory with more room\\): `,
      ),
    );
    const results = JSON.parse(fs.readFileSync(path.join(reports, 'results.json'), 'utf8')) as Results;
    expect(results.incomplete).toBe(true);
    expect(results.incompleteReason).toMatch(/^no space left for temporary files/);
    expect(results.runs.map((run) => `${run.target}/${run.model}`)).toEqual([
      'basic/sequential',
      'basic/flushed',
      'basic/px86',
    ]);
    expect(result.stdout).toMatch(/\nincomplete: no space left for temporary files/);
    expect(result.stdout).toMatch(/\npmfit: results are incomplete; every run checked so far is as expected\n/);
    // The tmpfs itself is empty, before it goes.
    expect(fs.readdirSync(tmp)).toEqual([]);
  } finally {
    unmount(tmp);
  }
});
