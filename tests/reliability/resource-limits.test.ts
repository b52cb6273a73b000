// resource-limits -- more recoveries asked for than the descriptor and
// process limits allow (--jobs 1000 under ulimit -n 1024 was a 23-line
// stack trace, exit 1, no results.json and hundreds of recoveries left
// running): --jobs is lowered to what fits, with a note, and a spawn that
// still fails is a one-line error, exit 2.
//
// pm_many stores a counter N times in one region: N + 1 distinct images
// under the sequential model, so that many recoveries run at once.

import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { CliResult, pmfitMessage } from '../helpers/run-pmfit';
import { asUser, canDropPrivileges, LimitedRunOptions, scratchDir, underLimits } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('resource-limits');

function workDir(): string {
  const dir = fs.mkdtempSync(path.join(scratch.path(), 'work-'));
  fs.chmodSync(dir, 0o777);
  fs.writeFileSync(path.join(dir, 'many.pm'), Buffer.alloc(4096));
  fs.chmodSync(path.join(dir, 'many.pm'), 0o644);
  leftovers.current().keep(path.join(dir, 'many.pm'));
  return dir;
}

/** allcounts --jobs 1000 on `stores` stores, each recovery a short wait. */
function manyJobs(
  run: (args: string[], options: LimitedRunOptions) => CliResult,
  dir: string,
  stores: number,
  ulimit: string,
): CliResult {
  return run(
    [
      'allcounts',
      '--jobs',
      '1000',
      '--model',
      'sequential',
      '--cmd',
      `${fixture('pm_many')} many.pm ${stores}`,
      '--pm',
      'many.pm',
      '--recover',
      'sleep 0.1; test -s {file}',
      '-o',
      'reports',
    ],
    { cwd: dir, env: leftovers.current().env, ulimit },
  );
}

function expectAllChecked(dir: string, result: CliResult, limit: RegExp): void {
  expect(result.code).toBe(0);
  const note = result.stderr.match(/^pmfit: running (\d+) recoveries at once, not 1000: (.*)$/m);
  expect(note?.[2]).toMatch(limit);
  const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
  expect(results.options.jobs).toBe(Number(note?.[1]));
  expect(results.runs.map((run) => ({ status: run.status, violations: run.violations }))).toEqual([
    { status: 'pass', violations: 0 },
  ]);
}

it('--jobs 1000 under ulimit -n 1024: lowered to what the descriptors allow, every image checked', () => {
  const dir = workDir();
  const result = manyJobs(underLimits, dir, 1200, '-n 1024');
  expectAllChecked(dir, result, /^the open-file limit \(ulimit -n\) is 1024, with \d+ in use$/);
});

it('--jobs 1000 under ulimit -u 200 (an unprivileged user): lowered to what the process limit allows', () => {
  if (!canDropPrivileges()) {
    console.warn('skipped: setpriv is missing; cannot run as an unprivileged user (root is not held to ulimit -u)');
    return;
  }
  const dir = workDir();
  fs.chmodSync(leftovers.current().tmp, 0o777);
  const result = manyJobs(asUser, dir, 300, '-u 200');
  expectAllChecked(dir, result, /^the process limit \(ulimit -u\) is 200, with \d+ running$/);
});

it('descriptors too few for even one recovery: a one-line error naming the limit, exit 2', () => {
  // Where exactly Node and the tracer run out depends on Node's own use;
  // every limit here either works or fails cleanly, and some of them fail.
  const failures: string[] = [];
  for (let files = 21; files <= 30; files += 1) {
    const dir = workDir();
    const result = manyJobs(underLimits, dir, 20, `-n ${files}`);
    if (result.code === 0) continue;
    expect({ files, code: result.code }).toEqual({ files, code: 2 });
    const message = pmfitMessage({ ...result, stderr: result.stderr.replace(/^pmfit: running .*\n/m, '') });
    expect(message).toMatch(/(too many open files|Too many open files)/);
    failures.push(message);
  }
  expect(failures.length).toBeGreaterThan(0);
});
