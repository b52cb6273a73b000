// shard-results -- pmfit-shard.json, what `pmfit allcounts --shard i/n`
// writes instead of results.json: the same run's targets, and for each run
// (target × model) the part this shard checked. `pmfit merge` turns the n
// parts back into the results.json a single run gives (mergeRuns).
//
// Every shard records every target (recording is deterministic) and
// enumerates every crash state, then recovers only the distinct images
// assigned to it (pipeline/shard-plan.ts). So each part knows the run's
// totals (states, distinct images) and, for its own images, each outcome
// class as toRunResult collates it: its crash points, its images, and the
// group its first outcome makes, explained. A class's first outcome over all
// shards is the one with the smallest `order` (its index in the run's
// outcome list, the same in every shard), so the merged group is that
// shard's group with the crash points and images of all shards.
//
// Findings (docs/findings.md) read every image's verdict at once, so each
// part also lists its own outcomes as findings read them (their crash
// points, image and verdict kind, at their index in the run's outcome
// list), and each target the source lines of the instructions that stored
// to PM, as the shard's files gave them: mergeOutcomes rebuilds the run's
// outcome list, and pmfit merge finds the findings on the kept trace with
// the code a single run uses (pipeline/find-findings.ts).

import { collateSpans, mergeSpans, parseSpans, type Span } from '../_internals/collate';
import { usageError } from '../_internals/errors';
import type { BareOutcome } from '../check/runner';
import type { VerdictKind } from '../check/verdict';
import type { OutcomeGroup, Results, RunResult, StackFrame, TargetRecord } from './schema';

export const SHARD_SCHEMA = 'pmfit-shard';
export const SHARD_VERSION = 3;
export const SHARD_FILE = 'pmfit-shard.json';

/** Violation groups explained per run (pipeline/explain-groups.ts): the
 *  merged groups past them carry no explanation, as in a single run. */
export const MAX_EXPLAINED_GROUPS = 12;

/** One outcome class of a run, as far as one shard saw it. */
export interface ClassPart {
  /** outcomeClass (check/outcome-groups.ts): equal in every shard. */
  key: string;
  /** Index of the class's first outcome in the run's outcome list. */
  order: number;
  /** Crash points of the class in this shard ("1-5,9"). */
  crashPoints: string;
  /** Distinct images of the class in this shard. */
  hashes: string[];
  /** The group this shard's outcomes of the class make, explained. */
  group: OutcomeGroup;
}

/** One of a shard's own outcomes: [index in the run's outcome list, first
 *  and last crash point, image hash, verdict kind]. */
export type OutcomePart = [number, number, number, string, VerdictKind];

/** One shard's part of a run (a target under a model): the run's fields
 *  that every shard knows (states and distinctImages are the run's totals),
 *  and what the shard found among its own images. */
export interface RunPart extends Pick<
  RunResult,
  'target' | 'model' | 'expect' | 'instructions' | 'crashPoints' | 'states' | 'distinctImages' | 'seconds' | 'schedule'
> {
  /** Crash points with a violating image among this shard's. */
  violating: string;
  classes: ClassPart[];
  /** Length of the run's outcome list (runner.ts), the same in every shard. */
  outcomeCount: number;
  outcomes: OutcomePart[];
}

/** Source line of a PM-storing instruction (keyed by its address in hex),
 *  with the excerpt findings show (pipeline/site-locations.ts). */
export type SiteLines = Record<string, { file: string; line: number; excerpt?: { line: number; text: string }[] }>;

/** The source excerpt of a file:line (site-locations.ts, addExcerpt). */
export type Excerpt = { line: number; text: string }[];

/** Call stacks located in the shard's build, by instruction index: what a
 *  site's location, stack and excerpt are made of (find-findings.ts). */
export interface LocatedStacks {
  stacks: ReadonlyMap<number, readonly StackFrame[]>;
  /** Keyed "file:line", for the lines stacks place sites at. */
  excerpts: Readonly<Record<string, Excerpt>>;
}

/** The call stacks one shard unwound for pmfit merge
 *  (pipeline/shard-stacks.ts): at every lint hit, and at its 1/n of the
 *  instructions that stored to PM (every finding's site is one). */
export type ShardStacks =
  | {
      kind: 'unwound';
      seconds: number;
      /** Instruction indices of the lint's hits (every shard's are the same). */
      lint: number[];
      /** The distinct located stacks, innermost frame first. */
      frames: StackFrame[][];
      /** [instruction index, position in frames] of each stack unwound. */
      at: [number, number][];
      excerpts: Record<string, Excerpt>;
    }
  | { kind: 'unavailable'; why: string };

export interface ShardTarget {
  record: TargetRecord;
  /** sha256 of what was recorded (pipeline/trace-digest.ts): shards that
   *  recorded differently checked different crash states. */
  traceDigest: string;
  /** Located where the program and its sources are: a merge elsewhere
   *  gives the findings of the shards' build. */
  sites: SiteLines;
  /** Absent only from a shard stopped before it unwound them. */
  stacks?: ShardStacks;
}

export interface ShardResults {
  schema: typeof SHARD_SCHEMA;
  version: number;
  pmfitVersion: string;
  startedAt: string;
  finishedAt: string;
  shard: { index: number; count: number };
  options: Results['options'];
  /** The targets the run was asked for, in order (recorded or not). */
  planned: string[];
  /** --strict: a "not durable" lint warning fails the merged run. */
  strictLint?: true;
  targets: ShardTarget[];
  parts: RunPart[];
  incompleteReason?: string;
}

/** mergeRuns -- the run the parts of all shards make, as toRunResult makes
 *  it from one unsharded check. `reproduce` gives the kept-trace reproduce
 *  line of a group id; without it the shards' own lines stay (they depend
 *  on the crash point only). */
export function mergeRuns(parts: RunPart[], reproduce?: (groupId: string) => string): RunResult {
  const [first] = parts;
  const classes = new Map<string, { best: ClassPart; spans: Span[]; hashes: Set<string> }>();
  const violating: Span[] = [];
  for (const part of parts) {
    violating.push(...parseSpans(part.violating));
    for (const cls of part.classes) {
      let entry = classes.get(cls.key);
      if (!entry) {
        entry = { best: cls, spans: [], hashes: new Set() };
        classes.set(cls.key, entry);
      }
      if (cls.order < entry.best.order) entry.best = cls;
      entry.spans.push(...parseSpans(cls.crashPoints));
      for (const hash of cls.hashes) entry.hashes.add(hash);
    }
  }
  let explained = 0;
  const groups = [...classes.values()]
    .sort((a, b) => a.best.order - b.best.order)
    .map(({ best, spans, hashes }, i): OutcomeGroup => {
      const id = `${first.target}-${first.model}-${i + 1}`;
      const merged = mergeSpans(spans);
      const example = { ...best.group.example, reproduce: reproduce ? reproduce(id) : best.group.example.reproduce };
      if (best.group.violation && explained++ >= MAX_EXPLAINED_GROUPS) {
        delete example.next;
        delete example.lines;
      }
      return {
        ...best.group,
        id,
        crashPoints: collateSpans(merged),
        count: merged.reduce((sum, span) => sum + span.last - span.first + 1, 0),
        images: hashes.size,
        example,
      };
    });
  const violations = mergeSpans(violating).reduce((sum, span) => sum + span.last - span.first + 1, 0);
  const expected = first.expect === 'violations' ? violations > 0 : violations === 0;
  return {
    target: first.target,
    model: first.model,
    expect: first.expect,
    instructions: first.instructions,
    crashPoints: first.crashPoints,
    states: first.states,
    distinctImages: first.distinctImages,
    violations,
    seconds: parts.reduce((sum, part) => sum + part.seconds, 0),
    status: expected ? 'pass' : 'fail',
    ...(first.schedule ? { schedule: first.schedule } : {}),
    groups,
  };
}

/** mergeOutcomes -- the run's outcome list from the shards' own outcomes;
 *  undefined unless they cover it exactly (each outcome in one shard). */
export function mergeOutcomes(parts: readonly RunPart[]): BareOutcome[] | undefined {
  const count = parts[0].outcomeCount;
  const outcomes = new Array<BareOutcome | undefined>(count);
  let filled = 0;
  for (const part of parts) {
    if (part.outcomeCount !== count) return undefined;
    for (const [i, first, last, hash, kind] of part.outcomes) {
      if (!(i >= 0 && i < count) || outcomes[i] !== undefined) return undefined;
      outcomes[i] = { first, last, hash, verdict: { kind } };
      filled++;
    }
  }
  return filled === count ? (outcomes as BareOutcome[]) : undefined;
}

/** parseShard -- "2/4" as { index: 2, count: 4 }. */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count)
    throw usageError(`--shard must be i/n with 1 <= i <= n (for example 2/4), not '${text}'`);
  return { index, count };
}
