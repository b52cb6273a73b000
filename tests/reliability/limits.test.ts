// limits -- --timeout values outside what a timer can mean: too small to
// let any program run (only false timeouts), too large for Node's 32-bit
// timers (which turned 2147484 s into 1 ms), and a setup that times out
// named as the user wrote it (no literal {dir}), and a --recover command
// that does not exist (exit 127 on the uncrashed image: a setup error; on a
// later crash image: an environment error, not a violation).

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { pmfitMessage, runPmfit } from '../helpers/run-pmfit';
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
  expectUsageError(
    result,
    /^pmfit: the recovery could not run on an uncrashed file \(the initial image, as the first region found it\): no-such-recovery-command \S+ exited with status 127 \(.*not found\); check that/,
  );
});

it.each([
  [
    '127, a command not found',
    'no-such-recovery-command {file}',
    /status 127 \(.*no-such-recovery-command: not found\)/,
  ],
  ['126, a command that cannot be executed', './not-executable {file}', /status 126 \(.*Permission denied\)/],
])(
  'a recovery the shell cannot run (%s) only on a later crash image: exit 2 naming the image, no violation',
  (_what, missing, why) => {
    // The preflight's two recoveries run the real check; from the third
    // recovery on (the run's own crash images) the command is one the shell
    // cannot run, as when a branch of the script reaches a missing tool.
    const dir = workDir();
    fs.writeFileSync(path.join(dir, 'not-executable'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const recover =
      `n=$(cat runs 2>/dev/null || echo 0); echo $((n + 1)) > runs; ` +
      `if [ "$n" -lt 2 ]; then ${program} check {file}; else ${missing}; fi`;
    const result = runPmfit(userRecordAllcounts(recover, '--jobs', '1'), { cwd: dir, env: leftovers.current().env });
    expectUsageError(
      result,
      /^pmfit: the recovery could not run on the crash image of crash points? [0-9-]+ \(image [0-9a-f]{32}\): /,
    );
    expect(pmfitMessage(result)).toMatch(why);
    expect(Number(fs.readFileSync(path.join(dir, 'runs'), 'utf8'))).toBeGreaterThanOrEqual(3);
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    expect(results.incomplete).toBe(true);
    expect(results.runs.flatMap((run) => run.groups).filter((group) => group.violation)).toEqual([]);
  },
);
