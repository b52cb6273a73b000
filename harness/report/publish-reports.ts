// publish-reports -- the end of every command that checks: the reports
// written into one directory, a line saying where, and on GitHub Actions an
// annotation per explained violation.

import * as path from 'path';
import type { Results } from '../results/schema';
import { githubAnnotations } from './github-annotations';
import { writeReports } from './write-reports';

export function publishReports(results: Results, dir: string): void {
  const written = writeReports(results, dir);
  const shown = (file: string): string => path.relative(process.cwd(), file) || file;
  process.stdout.write(`reports: ${shown(written.html)}, ${shown(written.json)}, ${shown(written.junit)}\n`);
  if (process.env.GITHUB_ACTIONS === 'true') {
    for (const line of githubAnnotations(results)) process.stdout.write(`${line}\n`);
  }
}
