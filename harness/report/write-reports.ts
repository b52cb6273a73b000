// write-reports -- results.json, index.html and junit.xml into one directory.
// Each file is written under a temporary name in the same directory, synced
// and renamed over the final name, so an interrupted run leaves either the
// old file or the new one, never half of one.

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../_internals/errors';
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

let serial = 0;

/** writeFileAtomic -- write `file` through a temporary sibling and rename. */
export function writeFileAtomic(file: string, content: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++serial}.tmp`);
  try {
    const fd = fs.openSync(temp, 'w', 0o644);
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (err) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // never created, or already renamed
    }
    throw usageError(`cannot write ${file}: ${(err as Error).message}`);
  }
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
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw usageError(`cannot create the reports directory ${dir}: ${(err as Error).message}`);
  }
  const paths: ReportPaths = {
    json: path.join(dir, 'results.json'),
    html: path.join(dir, 'index.html'),
    junit: path.join(dir, 'junit.xml'),
  };
  // results.json first: the other two are derived from it.
  if (options.json !== false) writeFileAtomic(paths.json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileAtomic(paths.html, renderHtml(results, { ...options.extras, bugs: options.extras?.bugs ?? readBugs(dir) }));
  writeFileAtomic(paths.junit, renderJunit(results));
  return paths;
}
