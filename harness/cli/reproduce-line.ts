// reproduce-line -- the `pmfit reproduce RESULTS GROUP` line of a group, with
// RESULTS as the user can type it where pmfit was started: relative inside
// the current directory, absolute outside it. allcounts and merge write the
// same lines for the same results.json.

import * as path from 'path';
import { shellQuote } from '../_internals/shell-words';

export function reproduceLine(outputDir: string): (groupId: string) => string {
  const relative = path.relative(process.cwd(), path.join(outputDir, 'results.json'));
  const shown = relative.startsWith('..') ? path.join(outputDir, 'results.json') : relative;
  return (groupId) => `pmfit reproduce ${shellQuote(shown)} ${groupId}`;
}
