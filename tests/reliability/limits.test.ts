// limits -- --timeout values outside what a timer can mean: too small to
// let any program run (only false timeouts), too large for Node's 32-bit
// timers (which turned 2147484 s into 1 ms), and a setup that times out
// named as the user wrote it (no literal {dir}), and a --recover command
// that does not exist (exit 127 on the uncrashed image: a setup error).

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';
import { expectUsageError, scratchDir, userRecordAllcounts } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('limits');
const program = fixture('user_record');

function workDir(): string {
  const dir = fs.mkdtempSync(path.join(scratch.path(), 'work-'));
  execFileSync(program, ['init', path.join(dir, 'rec.pm')]);
  leftovers.current().keep(path.join(dir, 'rec.pm'));
  return dir;
}

function allcounts(dir: string, ...extra: string[]) {
  return runPmfit(userRecordAllcounts(`${program} check {file}`, ...extra), { cwd: dir, env: leftovers.current().env });
}

it.each(['0.001', '0.0001', '1e9'])('--timeout %s: exit 2 naming the allowed range, nothing run', (value) => {
  const dir = workDir();
  const pattern = new RegExp(`^pmfit: --timeout must be between 0\\.1 and 31536000 seconds, not '${value}'$`);
  expectUsageError(allcounts(dir, '--timeout', value), pattern);
  expectUsageError(runPmfit(['count', '--timeout', value, '--', fixture('count_asm')], leftovers.current()), pattern);
  expectUsageError(runPmfit(['fuzz', 'basic', '--timeout', value], leftovers.current()), pattern);
  expect(fs.readdirSync(dir).sort()).toEqual(['rec.pm']);
});

it('--timeout Infinity: exit 2, not a number of seconds', () => {
  expectUsageError(
    allcounts(workDir(), '--timeout', 'Infinity'),
    /^pmfit: --timeout must be a positive number of seconds, not 'Infinity'$/,
  );
});

it('--timeout 2147484 (past 2^31-1 ms) is a long limit, not 1 ms', () => {
  const dir = workDir();
  const result = allcounts(dir, '--timeout', '2147484');
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
  expect(results.options.timeoutMs).toBe(2147484000);
  expect(results.runs.map((run) => run.violations)).toEqual([0]);
});

it('a setup that times out is named as written, with the limit', () => {
  const dir = workDir();
  const result = allcounts(dir, '--timeout', '0.1', '--setup', `sleep 60; ${program} init {file}`);
  expectUsageError(
    result,
    new RegExp(
      `^pmfit: setup of user_record failed \\(sleep 60; ${program} init rec\\.pm: timed out after 0\\.1 s \\(--timeout\\)\\)$`,
    ),
  );
});

it('a --recover command that does not exist: exit 2 (setup error), not violations', () => {
  const dir = workDir();
  const result = runPmfit(userRecordAllcounts('no-such-recovery-command {file}'), {
    cwd: dir,
    env: leftovers.current().env,
  });
  expectUsageError(result, /^pmfit: your check fails on an uncrashed file .*status 127/);
});
