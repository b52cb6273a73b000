// allcounts -- `pmfit allcounts`: the main job. For each target and model:
// record once, enumerate every crash state, recover and check each distinct
// image, print collated ranges and a summary, write reports/, and exit 0 when
// every run is as expected, 1 otherwise.

import * as path from 'path';
import { ExitCode, isNoSpace, PmfitError, usageError } from '../../_internals/errors';
import { Interrupted } from '../../_internals/interrupt';
import { makeOutputDir, protectFromOutput, withDirectoryLock, writeOutputFile } from '../../_internals/output-file';
import { tempParent, tempSpaceShort } from '../../_internals/temp-root';
import { resolveJobs } from '../resolve-jobs';
import { formatLint, formatRun, formatStacksUnavailable, formatSummary } from '../../report/console-report';
import { Progress } from '../../pipeline/progress';
import { runTarget } from '../../pipeline/run-target';
import { buildResults } from '../../results/results';
import { modelOptions, recordedModelOptions } from '../../results/model-options';
import type { RunResult, TargetRecord } from '../../results/schema';
import { publishReports } from '../../report/publish-reports';
import { checkReportsDir } from '../../report/write-reports';
import { type AllcountsCliOptions, planAllcounts } from '../allcounts-plan';
import { findConfig } from '../config-file';
import { reproduceLine } from '../reproduce-line';
import { ShardPlan } from '../../pipeline/shard-plan';
import {
  parseShard,
  type RunPart,
  SHARD_FILE,
  SHARD_SCHEMA,
  SHARD_VERSION,
  type ShardResults,
  type ShardTarget,
} from '../../results/shard-results';

/** writeShard -- pmfit-shard.json into the reports directory, whole or not
 *  at all, under the directory's lock as the reports are. */
function writeShard(dir: string, shard: ShardResults): string {
  const file = path.join(dir, SHARD_FILE);
  makeOutputDir(dir);
  withDirectoryLock(dir, () => writeOutputFile(file, `${JSON.stringify(shard)}\n`));
  return file;
}

export interface AllcountsOptions extends AllcountsCliOptions {
  /** --shard i/n: check this shard's share, write pmfit-shard.json. */
  shard?: string;
  /** --config PATH; default: pmfit.config.json here, when there is one. */
  config?: string;
  /** --strict: a "not durable" lint warning fails the run (exit 1). */
  strict?: boolean;
  version: string;
}

export async function allcounts(options: AllcountsOptions): Promise<number> {
  // Without target options, the targets of pmfit.config.json when there is one.
  const config = options.cmd === undefined || options.config !== undefined ? findConfig(options.config) : undefined;
  const plan = planAllcounts(options, config);
  for (const { spec } of plan.targets) for (const file of spec.userFiles ?? []) protectFromOutput(file);
  // Found now rather than after the whole check.
  checkReportsDir(plan.output);
  const { models } = plan;
  const jobs = resolveJobs(plan.jobs);
  const startedAt = new Date().toISOString();
  const chosen = modelOptions(plan);
  const outputDir = plan.output;
  const shard = options.shard !== undefined ? parseShard(options.shard) : undefined;
  // A shard's part has no place for the depth-2 summary, and its sampled
  // images are drawn from the whole run's: refused rather than merged wrong.
  if (shard && plan.recoveryCrashes)
    throw usageError('--shard does not split a --depth 2 run (crashes during recovery): run depth 2 unsharded');
  const sharding = shard
    ? { plan: new ShardPlan(shard.index, shard.count), targets: [] as ShardTarget[], parts: [] as RunPart[] }
    : undefined;
  const targets: TargetRecord[] = [];
  const runs: RunResult[] = [];
  const progress = new Progress();
  let incompleteReason: string | undefined;
  let failure: unknown;
  let printed = 0;
  const printRuns = (): void => {
    for (const run of runs.slice(printed))
      process.stdout.write(`${formatRun(run, undefined, targets.find((t) => t.name === run.target)?.recorder)}\n\n`);
    printed = runs.length;
  };
  try {
    for (const { spec, acceptUntracedWrites } of plan.targets) {
      await runTarget({
        spec,
        models,
        modelOptions: chosen,
        jobs,
        timeoutMs: plan.timeoutMs,
        maxSteps: plan.maxSteps,
        acceptUntracedWrites,
        fast: plan.recorder === 'fast',
        recoveryCrashes: plan.recoveryCrashes,
        onPhase: (phase, total) => progress.phase(phase, total),
        onProgress: (done) => progress.update(done),
        onTarget: (target) => targets.push(target),
        onRun: (run) => runs.push(run),
        keep: { dir: outputDir, reproduce: reproduceLine(outputDir) },
        shard: sharding && {
          plan: sharding.plan,
          onTarget: (target) => sharding.targets.push(target),
          onPart: (part) => sharding.parts.push(part),
        },
      });
      progress.stop();
      for (const warning of targets[targets.length - 1]?.warnings ?? [])
        process.stderr.write(`pmfit: warning: ${spec.name}: ${warning}\n`);
      process.stdout.write(formatLint(spec.name, targets[targets.length - 1]?.lint ?? [], options.strict === true));
      printRuns();
    }
    process.stderr.write(formatStacksUnavailable(targets));
  } catch (err) {
    progress.stop();
    printRuns();
    // The runs finished so far are worth keeping, whatever stopped the rest:
    // Ctrl-C, a full temporary directory, a target that cannot be traced.
    if (isNoSpace(err)) {
      failure = new PmfitError(
        `no space left for temporary files in ${tempParent()} (set PMFIT_TMPDIR to a directory with more room): ${(err as Error).message}`,
      );
    } else if (err instanceof PmfitError) {
      // A program killed by SIGBUS on a full tmpfs says nothing about space.
      const short = err instanceof Interrupted ? undefined : tempSpaceShort();
      failure = short ? new PmfitError(`${err.message} (${short})`, err.exitCode) : err;
    } else {
      throw err;
    }
    incompleteReason = (failure as PmfitError).message;
  }
  if (sharding && shard) {
    const file = writeShard(outputDir, {
      schema: SHARD_SCHEMA,
      version: SHARD_VERSION,
      pmfitVersion: options.version,
      startedAt,
      finishedAt: new Date().toISOString(),
      shard,
      options: { models, ...recordedModelOptions(chosen), jobs, timeoutMs: plan.timeoutMs },
      planned: plan.targets.map(({ spec }) => spec.name),
      ...(options.strict === true ? { strictLint: true as const } : {}),
      targets: sharding.targets,
      parts: sharding.parts,
      ...(incompleteReason !== undefined ? { incompleteReason } : {}),
    });
    const mine = sharding.parts.reduce((sum, part) => sum + new Set(part.classes.flatMap((c) => c.hashes)).size, 0);
    const all = sharding.parts.reduce((sum, part) => sum + part.distinctImages, 0);
    process.stdout.write(
      `shard ${shard.index}/${shard.count}: checked ${mine} of ${all} distinct images (per model); partial results: ${path.relative(process.cwd(), file) || file}\n` +
        `combine the shards' directories with: pmfit merge DIR...\n`,
    );
    if (failure) throw failure;
    return ExitCode.Ok;
  }
  const results = buildResults({
    pmfitVersion: options.version,
    startedAt,
    options: {
      models,
      ...recordedModelOptions(chosen),
      jobs,
      timeoutMs: plan.timeoutMs,
      ...(plan.recoveryCrashes ? { recoveryCrashes: plan.recoveryCrashes } : {}),
    },
    targets,
    runs,
    incompleteReason,
    strictLint: options.strict === true,
  });
  process.stdout.write(`${formatSummary(results)}\n`);
  publishReports(results, outputDir);
  if (failure) throw failure;
  return results.status === 'pass' ? ExitCode.Ok : ExitCode.Violations;
}
