// report -- `pmfit report [RESULTS] [-o DIR]`: regenerate index.html and
// junit.xml from a results.json (by default next to it), print the paths, and
// under GitHub Actions print an annotation per unexpected violation.
// Always exits 0 when the reports were written: the gate is the checking
// command's exit code, not this one's.

import * as path from 'path';
import { defaultReportsDir } from '../../_internals/paths';
import { githubAnnotations } from '../../report/github-annotations';
import { readResults } from '../../results/results';
import { checkReportsDir, writeReports } from '../../report/write-reports';

export interface ReportOptions {
  /** Directory for the reports; default: the directory of results.json. */
  output?: string;
}

export async function report(
  file = path.join(defaultReportsDir, 'results.json'),
  options: ReportOptions = {},
): Promise<number> {
  const results = readResults(file);
  const dir = options.output ?? path.dirname(file);
  checkReportsDir(dir);
  // Into another directory, results.json goes along so that the reports
  // there keep their source; next to it, it is left untouched.
  const elsewhere = path.resolve(dir) !== path.resolve(path.dirname(file));
  const paths = writeReports(results, dir, { json: elsewhere });
  process.stdout.write(`${paths.html}\n${paths.junit}\n`);
  if (elsewhere) process.stdout.write(`${paths.json}\n`);
  if (process.env.GITHUB_ACTIONS === 'true') {
    const lines = githubAnnotations(results, { workspace: process.env.GITHUB_WORKSPACE ?? process.cwd() });
    for (const line of lines) process.stdout.write(`${line}\n`);
  }
  return 0;
}
