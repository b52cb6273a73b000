// outcome-groups -- crash points collated by outcome, in the style of the
// original `allcounts` ("Output for iterations: 1-1989,2001").
//
// Two outcomes are in the same class when their verdicts have the same kind,
// the same details (signal, exit status and command, failed invariant
// messages) and the same recovery output after normalization: the temporary
// image directory's path becomes {dir}, and trailing blanks at line ends and
// at the end go away. Output does not separate ok outcomes.

import * as path from 'path';

import { Span, collateSpans, mergeSpans } from '../_internals/collate';
import { tempParents } from '../_internals/temp-root';
import type { CrashOutcome } from './runner';
import { Verdict, VerdictKind, verdictLabel } from './verdict';

export interface OutcomeGroup {
  /** The class (see outcomeClass). */
  key: string;
  kind: VerdictKind;
  label: string;
  /** The first outcome's verdict, as the class's example. */
  verdict: Verdict;
  /** Crash points of the class, merged and sorted. */
  spans: Span[];
  /** "1-1989,2001" */
  ranges: string;
  /** Number of distinct crash points. */
  crashPoints: number;
  /** Distinct image hashes, in the order met. */
  hashes: string[];
}

/** Image directories made by the runner: <parent>/pmfit-<pid>-<start>-XXXXXX/<n>-image,
 *  the parent being the temporary directory or the memory file system
 *  crash images go to (_internals/temp-root.ts). */
function imageDirPattern(): RegExp {
  const parents = tempParents().map((parent) => path.resolve(parent).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`(?:${parents.join('|')})/pmfit-\\d+-\\d+-[A-Za-z0-9]{6}/\\d+-image`, 'g');
}

export function normalizeOutput(output: string): string {
  return output
    .replace(imageDirPattern(), '{dir}')
    .replace(/[ \t\r]+$/gm, '')
    .trimEnd();
}

/** outcomeClass -- the key outcomes are grouped by. */
export function outcomeClass(verdict: Verdict): string {
  const parts: unknown[] = [verdict.kind];
  switch (verdict.kind) {
    case 'ok':
      break;
    case 'recovery-crashed':
      parts.push(verdict.signal, normalizeOutput(verdict.output));
      break;
    case 'recovery-timeout':
      parts.push(verdict.timeoutMs, normalizeOutput(verdict.output));
      break;
    case 'recovery-failed':
      parts.push(verdict.exitCode, verdict.command, normalizeOutput(verdict.output));
      break;
    case 'invariant':
      parts.push(verdict.failed, normalizeOutput(verdict.output));
      break;
    case 'recovery-not-crash-safe':
      // Not the recovery crash point: one failure of the recovery, wherever
      // its crash fell, is one group.
      parts.push(verdict.why, normalizeOutput(verdict.output));
      break;
  }
  return JSON.stringify(parts);
}

/** collateOutcomes -- one group per outcome class, ordered by the first crash
 *  point of each group. A crash point with several states can be in several
 *  groups. */
export function collateOutcomes(outcomes: Iterable<CrashOutcome>): OutcomeGroup[] {
  const building = new Map<string, { verdict: Verdict; spans: Span[]; hashes: Set<string> }>();
  for (const outcome of outcomes) {
    const key = outcomeClass(outcome.verdict);
    let entry = building.get(key);
    if (!entry) {
      entry = { verdict: outcome.verdict, spans: [], hashes: new Set() };
      building.set(key, entry);
    }
    const top = entry.spans[entry.spans.length - 1];
    // Outcomes come in order of k: extend the last span when possible.
    if (top && outcome.first >= top.first && outcome.first <= top.last + 1) {
      top.last = Math.max(top.last, outcome.last);
    } else {
      entry.spans.push({ first: outcome.first, last: outcome.last });
    }
    entry.hashes.add(outcome.hash);
  }
  const groups: OutcomeGroup[] = [];
  for (const [key, entry] of building) {
    const spans = mergeSpans(entry.spans);
    groups.push({
      key,
      kind: entry.verdict.kind,
      label: verdictLabel(entry.verdict),
      verdict: entry.verdict,
      spans,
      ranges: collateSpans(spans),
      crashPoints: spans.reduce((sum, span) => sum + span.last - span.first + 1, 0),
      hashes: [...entry.hashes],
    });
  }
  groups.sort((a, b) => a.spans[0].first - b.spans[0].first);
  return groups;
}
