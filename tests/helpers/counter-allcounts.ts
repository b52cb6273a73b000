// counter-allcounts -- `pmfit allcounts` over a counter fixture's `incr`
// workload, each run in its own work directory under a test's directory.

import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { CliResult, runPmfit } from './run-pmfit';

export interface CounterRun {
  result: CliResult;
  results: Results;
  reports: string;
}

/** counterAllcounts -- COUNTER incr c.pm INCR..., set up by SETUP, recovered
 *  by RECOVER, with EXTRA options; the run must not end in a stack trace. */
export function counterAllcounts(
  parent: string,
  counter: string,
  setup: string,
  incr: string[],
  recover: string,
  extra: string[],
): CounterRun {
  const work = fs.mkdtempSync(path.join(parent, 'run-'));
  const reports = path.join(work, 'reports');
  const cmd = [counter, 'incr', 'c.pm', ...incr].join(' ');
  const args = ['allcounts', '--cmd', cmd, '--pm', 'c.pm', '--setup', setup, '--recover', recover, '-o', reports];
  const result = runPmfit([...args, ...extra], { cwd: work });
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  const results = JSON.parse(fs.readFileSync(path.join(reports, 'results.json'), 'utf8')) as Results;
  return { result, results, reports };
}
