// merge -- `pmfit merge DIR...`: the reports directories of the n shards of
// one `pmfit allcounts --shard i/n` run (each holding pmfit-shard.json and
// traces/) combined into the results.json, index.html and junit.xml a
// single run gives, with the traces kept beside them for `pmfit reproduce`,
// and the findings found on those traces as allcounts finds them, from the
// outcomes the shards checked, the source lines they located and the call
// stacks they unwound.
// Refused with one line (exit 2): a directory without a shard file, a shard
// missing or given twice, shards of different runs (options, targets, pmfit
// versions) and shards whose traces differ. Exit 0 / 1 as allcounts.

import * as fs from 'fs';
import * as path from 'path';
import { ExitCode, PmfitError, usageError } from '../../_internals/errors';
import { readBoundedJson } from '../../_internals/input-file';
import { type FindingsContext, targetFindings } from '../../pipeline/find-findings';
import { keepTrace } from '../../pipeline/keep-trace';
import { formatRun, formatStacksUnavailable, formatSummary } from '../../report/console-report';
import { publishReports } from '../../report/publish-reports';
import { checkReportsDir } from '../../report/write-reports';
import { buildResults, validateResults, validateShard } from '../../results/results';
import { modelOptions } from '../../results/model-options';
import type { ResolvedCrashStateOptions } from '../../persistency/model';
import type { RunResult, StackFrame, TargetRecord } from '../../results/schema';
import {
  mergeOutcomes,
  mergeRuns,
  SHARD_FILE,
  type RunPart,
  type ShardResults,
  type Excerpt,
  type LocatedStacks,
  type ShardStacks,
  type ShardTarget,
} from '../../results/shard-results';
import type { BareOutcome } from '../../check/runner';
import { TraceReader } from '../../trace/format';
import { reproduceLine } from '../reproduce-line';

export interface MergeOptions {
  output: string;
  version: string;
}

interface Shard {
  dir: string;
  file: string;
  data: ShardResults;
}

function readShard(dir: string): Shard {
  const file = fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? path.join(dir, SHARD_FILE) : dir;
  const value = readBoundedJson(
    file,
    1 << 30,
    'a pmfit shard file',
    'pmfit allcounts --shard i/n writes it into its reports directory',
  );
  return { dir: path.dirname(file), file, data: validateShard(value, file) };
}

const name = (shard: Shard): string => `shard ${shard.data.shard.index}/${shard.data.shard.count} (${shard.file})`;

/** checkSameRun -- the shards are the n parts of one run. */
function checkSameRun(shards: Shard[]): Shard[] {
  const [first] = shards;
  const count = first.data.shard.count;
  const byIndex = new Map<number, Shard>();
  for (const shard of shards) {
    if (shard.data.shard.count !== count)
      throw usageError(`${name(shard)} is of a run in ${shard.data.shard.count} shards, ${name(first)} of ${count}`);
    const twice = byIndex.get(shard.data.shard.index);
    if (twice)
      throw usageError(`shard ${shard.data.shard.index}/${count} is given twice: ${twice.file} and ${shard.file}`);
    byIndex.set(shard.data.shard.index, shard);
  }
  for (let i = 1; i <= count; i++)
    if (!byIndex.has(i)) throw usageError(`shard ${i}/${count} is missing: merge needs all ${count} shards of the run`);
  const same = (what: string, of: (data: ShardResults) => unknown): void => {
    const want = JSON.stringify(of(first.data));
    for (const shard of shards) {
      if (JSON.stringify(of(shard.data)) !== want)
        throw usageError(`${name(shard)} and ${name(first)} differ in ${what}: they are not shards of one run`);
    }
  };
  same('pmfit version', (d) => d.pmfitVersion);
  same('options (--model, --max-states, --seed, --merge-versions, --timeout)', (d) => [
    d.options.models,
    d.options.maxStates,
    d.options.seed,
    d.options.mergeVersions === true,
    d.options.timeoutMs,
  ]);
  same('targets', (d) => d.planned);
  same('--strict', (d) => d.strictLint === true);
  const ordered = [...byIndex.values()].sort((a, b) => a.data.shard.index - b.data.shard.index);
  for (const shard of ordered) {
    for (const target of shard.data.targets) {
      const other = first.data.targets.find((t) => t.record.name === target.record.name);
      if (!other) continue;
      if (other.traceDigest !== target.traceDigest)
        throw usageError(
          `target ${target.record.name} was recorded differently by ${name(shard)} and ${name(first)} (trace digests differ: another program, PM file or setup); the shards checked different crash states`,
        );
      // The command names the shard's own scratch directory: not compared.
      const bare = (r: TargetRecord) =>
        JSON.stringify([r.description, r.pmFiles, r.expect, r.check, r.timeoutMs, r.models]);
      if (bare(other.record) !== bare(target.record))
        throw usageError(`target ${target.record.name} is defined differently in ${name(shard)} and ${name(first)}`);
    }
  }
  return ordered;
}

export async function merge(dirs: string[], options: MergeOptions): Promise<number> {
  if (dirs.length === 0) throw usageError("pmfit merge needs the shards' directories (pmfit merge DIR...)");
  const shards = checkSameRun(dirs.map(readShard));
  const outputDir = path.resolve(options.output);
  checkReportsDir(outputDir);
  const [first] = shards;
  const reasons = shards
    .filter((shard) => shard.data.incompleteReason !== undefined)
    .map((shard) => `shard ${shard.data.shard.index}/${shard.data.shard.count}: ${shard.data.incompleteReason}`);
  // A target is complete when every shard recorded it; a run when every
  // shard checked it (not so in an incomplete shard).
  const recorded = first.data.targets
    .filter((target) => shards.every((shard) => shard.data.targets.some((t) => t.record.name === target.record.name)))
    .map((target) => {
      // A target's own models (its config's) or the run's, as allcounts ran them.
      const runs = (target.record.models ?? first.data.options.models).flatMap((model) => {
        const parts = shards.map((shard) =>
          shard.data.parts.find((part) => part.target === target.record.name && part.model === model),
        );
        if (parts.some((part) => part === undefined)) return [];
        const outcomes = mergeOutcomes(parts as RunPart[]);
        if (!outcomes)
          throw usageError(
            `the shards' outcomes of ${target.record.name} under ${model} do not make up one run (each outcome checked by one shard): they are not shards of one run`,
          );
        return [{ parts: parts as RunPart[], outcomes }];
      });
      return { ...target, runs };
    });
  const reproduce = reproduceLine(outputDir);
  const targets: TargetRecord[] = [];
  const runs: RunResult[] = [];
  for (const shardTarget of recorded) {
    const { record } = shardTarget;
    const target: TargetRecord = { ...record };
    if (record.trace !== undefined) {
      delete target.trace;
      const trace = path.resolve(first.dir, record.trace);
      const kept = fs.existsSync(trace)
        ? keepTrace(trace, outputDir, record.name)
        : { kind: 'not-kept' as const, why: `the trace was not among the shard's files (${trace})` };
      if (kept.kind === 'kept') target.trace = kept.file;
      else target.traceNotKept = kept.why;
    }
    targets.push(target);
    // As allcounts: `pmfit reproduce` lines, which say why when the trace is not kept.
    const merged = shardTarget.runs.map(({ parts, outcomes }) => ({ run: mergeRuns(parts, reproduce), outcomes }));
    runs.push(...merged.map(({ run }) => run));
    const ofTarget = shards.map(
      (shard) => shard.data.targets.find((t) => t.record.name === record.name) as ShardTarget,
    );
    await mergedFindings(target, outputDir, ofTarget, merged, {
      modelOptions: modelOptions(first.data.options),
      reproduce,
    });
  }
  const startedAt = shards.map((shard) => shard.data.startedAt).sort()[0];
  const results = validateResults(
    buildResults({
      pmfitVersion: first.data.pmfitVersion,
      startedAt,
      options: first.data.options,
      targets,
      runs,
      incompleteReason: reasons.length > 0 ? reasons.join('; ') : undefined,
      strictLint: first.data.strictLint === true,
    }),
    'the merged results',
  );
  for (const run of runs)
    process.stdout.write(`${formatRun(run, undefined, targets.find((t) => t.name === run.target)?.recorder)}\n\n`);
  process.stderr.write(formatStacksUnavailable(targets));
  process.stdout.write(`${formatSummary(results)}\n`);
  publishReports(results, outputDir);
  if (results.incomplete) throw new PmfitError(`the merged results are incomplete: ${results.incompleteReason}`);
  return results.status === 'pass' ? ExitCode.Ok : ExitCode.Violations;
}

/** The stacks the shards unwound for one target, put together
 *  (pipeline/shard-stacks.ts): every shard's share, or why there are none
 *  (a shard could not unwind, as the single run could not). Undefined
 *  when a shard carries none: it stopped first, and the merge is incomplete. */
type MergedStacks =
  | { kind: 'located'; located: LocatedStacks; lint: readonly number[]; seconds: number }
  | { kind: 'unavailable'; why: string };

function mergedStacks(parts: readonly (ShardStacks | undefined)[]): MergedStacks | undefined {
  if (parts.some((part) => part === undefined)) return undefined;
  const unavailable = parts.find((part) => part?.kind === 'unavailable');
  if (unavailable?.kind === 'unavailable') return unavailable;
  const stacks = new Map<number, StackFrame[]>();
  const excerpts: Record<string, Excerpt> = {};
  let seconds = 0;
  let lint: number[] = [];
  for (const part of parts) {
    if (part?.kind !== 'unwound') continue;
    for (const [index, position] of part.at) stacks.set(index, part.frames[position]);
    Object.assign(excerpts, part.excerpts);
    seconds += part.seconds;
    lint = part.lint;
  }
  return { kind: 'located', located: { stacks, excerpts }, lint, seconds };
}

/** mergedFindings -- the findings of a target's merged runs, found as
 *  allcounts finds them (pipeline/find-findings.ts) on the kept trace, from
 *  the run's outcomes the shards checked, the source lines they located
 *  and the call stacks they unwound. */
async function mergedFindings(
  target: TargetRecord,
  outputDir: string,
  shardTargets: readonly ShardTarget[],
  merged: { run: RunResult; outcomes: BareOutcome[] }[],
  options: { modelOptions: ResolvedCrashStateOptions; reproduce(id: string): string },
): Promise<void> {
  const stacks = mergedStacks(shardTargets.map((shard) => shard.stacks));
  // The shards' records tell of their own replays: the run's is counted here.
  delete target.stacks;
  // What the single run's stack replay reports, for the sites it would
  // unwind: the lint's and the findings' (run-target.ts).
  const stacksFor = (causeSites: readonly { index: number }[]): Pick<FindingsContext, 'located'> | undefined => {
    if (!stacks || ((target.lint ?? []).length === 0 && causeSites.length === 0)) return undefined;
    if (stacks.kind === 'unavailable') {
      target.stacks = { kind: 'unavailable', why: stacks.why };
      return undefined;
    }
    const sites = new Set([...stacks.lint, ...causeSites.map((site) => site.index)]);
    const unwound = [...sites].filter((index) => stacks.located.stacks.has(index)).length;
    target.stacks = { kind: 'unwound', sites: sites.size, unwound, seconds: stacks.seconds };
    return { located: stacks.located };
  };
  if (!merged.some(({ run }) => run.violations > 0)) {
    stacksFor([]);
    return;
  }
  if (target.trace === undefined) {
    stacksFor([]);
    process.stderr.write(
      `pmfit: note: ${target.name}: the merged runs have no findings (violations by cause): they are found on the trace, which was not kept (${target.traceNotKept ?? 'no trace'})\n`,
    );
    return;
  }
  const reader = TraceReader.open(path.join(outputDir, target.trace));
  try {
    await targetFindings(
      merged.map(({ run, outcomes }) => ({
        run,
        context: {
          header: reader.header,
          reader,
          model: run.model,
          modelOptions: options.modelOptions,
          report: { outcomes },
          reproduce: (id: string) => options.reproduce(id),
          sites: shardTargets[0].sites,
        },
      })),
      async (causeSites) => stacksFor(causeSites),
    );
  } finally {
    reader.close();
  }
}
