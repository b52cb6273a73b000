// allcounts -- `pmfit allcounts`: the main job. For each target and model:
// record once, enumerate every crash state, recover and check each distinct
// image, print collated ranges and a summary, write reports/, and exit 0 when
// every run is as expected, 1 otherwise.

import * as path from 'path';
import { shellQuote } from '../../_internals/shell-words';
import { ExitCode, isNoSpace, PmfitError } from '../../_internals/errors';
import { Interrupted } from '../../_internals/interrupt';
import { protectFromOutput } from '../../_internals/output-file';
import { tempParent, tempSpaceShort } from '../../_internals/temp-root';
import { resolveJobs } from '../resolve-jobs';
import { formatRun, formatSummary } from '../../report/console-report';
import { Progress } from '../../pipeline/progress';
import { runTarget } from '../../pipeline/run-target';
import { buildResults } from '../../results/results';
import type { RunResult, TargetRecord } from '../../results/schema';
import { publishReports } from '../../report/publish-reports';
import { checkReportsDir } from '../../report/write-reports';
import { type AllcountsCliOptions, planAllcounts } from '../allcounts-plan';
import { findConfig } from '../config-file';

export interface AllcountsOptions extends AllcountsCliOptions {
  /** --config PATH; default: pmfit.config.json here, when there is one. */
  config?: string;
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
  const outputDir = plan.output;
  // As the user can type it here: relative inside the current directory.
  const relative = path.relative(process.cwd(), path.join(outputDir, 'results.json'));
  const resultsShown = relative.startsWith('..') ? path.join(outputDir, 'results.json') : relative;
  const targets: TargetRecord[] = [];
  const runs: RunResult[] = [];
  const progress = new Progress();
  let incompleteReason: string | undefined;
  let failure: unknown;
  let printed = 0;
  const printRuns = (): void => {
    for (const run of runs.slice(printed)) process.stdout.write(`${formatRun(run)}\n\n`);
    printed = runs.length;
  };
  try {
    for (const { spec, acceptUntracedWrites } of plan.targets) {
      await runTarget({
        spec,
        models,
        maxStates: plan.maxStates,
        seed: plan.seed,
        jobs,
        timeoutMs: plan.timeoutMs,
        maxSteps: plan.maxSteps,
        acceptUntracedWrites,
        onPhase: (phase, total) => progress.phase(phase, total),
        onProgress: (done) => progress.update(done),
        onTarget: (target) => targets.push(target),
        onRun: (run) => runs.push(run),
        keep: { dir: outputDir, reproduce: (groupId) => `pmfit reproduce ${shellQuote(resultsShown)} ${groupId}` },
      });
      progress.stop();
      for (const warning of targets[targets.length - 1]?.warnings ?? [])
        process.stderr.write(`pmfit: warning: ${spec.name}: ${warning}\n`);
      printRuns();
    }
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
  const results = buildResults({
    pmfitVersion: options.version,
    startedAt,
    options: { models, maxStates: plan.maxStates, seed: plan.seed, jobs, timeoutMs: plan.timeoutMs },
    targets,
    runs,
    incompleteReason,
  });
  process.stdout.write(`${formatSummary(results)}\n`);
  publishReports(results, outputDir);
  if (failure) throw failure;
  return results.status === 'pass' ? ExitCode.Ok : ExitCode.Violations;
}
