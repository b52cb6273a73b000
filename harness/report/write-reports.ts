// write-reports -- results.json, index.html and junit.xml into one directory.
// Each file is written by writeOutputFile (_internals/output-file.ts):
// through a temporary name, and never over anything but a regular file.

import * as fs from 'fs';
import * as path from 'path';
import {
  checkOutputDir,
  checkOutputFile,
  makeOutputDir,
  withDirectoryLock,
  writeOutputFile,
} from '../_internals/output-file';
import type { Results } from '../results/schema';
import { renderHtml, type HtmlExtras } from './html';
import { renderJunit } from './junit';

export interface ReportPaths {
  html: string;
  junit: string;
  json: string;
}

export interface WriteReportsOptions {
  /** Write results.json too (default true). */
  json?: boolean;
  extras?: HtmlExtras;
}

const REPORT_NAMES = ['results.json', 'index.html', 'junit.xml'];

/** checkReportsDir -- the reports can be written into `dir`: checked before
 *  a long run, so that a bad -o is found at once, not after the work. */
export function checkReportsDir(dir: string): void {
  checkOutputDir(dir);
  if (fs.existsSync(dir)) for (const name of REPORT_NAMES) checkOutputFile(path.join(dir, name));
}

/** readBugs -- the mutant detection table of `npm run bench:bugs`
 *  (bugs.json in the reports directory), when there is one. */
function readBugs(dir: string): unknown {
  const file = path.join(dir, 'bugs.json');
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return { unreadable: file }; // rendered as a table of unknown format
  }
}

/** writeReports -- render and write the reports into `dir` (created when
 *  missing); returns the paths written (json: the results file, written or
 *  not). */
export function writeReports(results: Results, dir: string, options: WriteReportsOptions = {}): ReportPaths {
  makeOutputDir(dir);
  const paths: ReportPaths = {
    json: path.join(dir, 'results.json'),
    html: path.join(dir, 'index.html'),
    junit: path.join(dir, 'junit.xml'),
  };
  // One run's whole set: another pmfit writing into the same directory waits.
  withDirectoryLock(dir, () => {
    // results.json first: the other two are derived from it.
    if (options.json !== false) writeOutputFile(paths.json, `${JSON.stringify(results, null, 2)}\n`);
    writeOutputFile(
      paths.html,
      renderHtml(results, { ...options.extras, bugs: options.extras?.bugs ?? readBugs(dir) }),
    );
    writeOutputFile(paths.junit, renderJunit(results));
  });
  return paths;
}
