// allcounts -- `pmfit allcounts`: the main job. For each target and model:
// record once, enumerate every crash state, recover and check each distinct
// image, print collated ranges and a summary, write reports/, and exit 0 when
// every run is as expected, 1 otherwise.

import * as fs from 'fs';
import * as path from 'path';
import { shellQuote } from '../../_internals/shell-words';
import { ExitCode, isNoSpace, PmfitError, usageError } from '../../_internals/errors';
import { Interrupted } from '../../_internals/interrupt';
import { protectFromOutput } from '../../_internals/output-file';
import { installedPackage } from '../../_internals/paths';
import { tempParent, tempSpaceShort } from '../../_internals/temp-root';
import { resolveJobs } from '../resolve-jobs';
import type { TargetSpec } from '../../check/spec';
import { Oracle, oracleNames, userSpec } from '../../check/user-spec';
import { isModelName, ModelName, modelNames } from '../../persistency/model';
import { formatRun, formatSummary } from '../../report/console-report';
import { Progress } from '../../pipeline/progress';
import { runTarget } from '../../pipeline/run-target';
import { buildResults } from '../../results/results';
import type { RunResult, TargetRecord } from '../../results/schema';
import { publishReports } from '../../report/publish-reports';
import { checkReportsDir } from '../../report/write-reports';
import { builtInSpecs } from '../../../targets/specs';

export interface AllcountsOptions {
  target: string[];
  model: string[];
  maxStates: number;
  seed: number;
  jobs?: number;
  timeout: number;
  maxSteps?: number;
  output: string;
  cmd?: string;
  pm?: string[];
  setup?: string;
  recover?: string;
  function?: string;
  acceptUntracedWrites?: boolean;
  /** With --cmd: `exit` (default) or `outputs` (check/user-spec.ts). */
  oracle?: string;
  version: string;
}

function chooseSpecs(options: AllcountsOptions): TargetSpec[] {
  if (options.cmd !== undefined) {
    if (options.target.length > 0) throw usageError('--cmd and --target cannot be combined');
    if (!options.pm || options.pm.length !== 1) throw usageError('--cmd needs exactly one --pm FILE');
    if (options.recover === undefined)
      throw usageError('--cmd needs --recover "CMD {file}" (its exit status is the verdict)');
    const oracle = options.oracle ?? 'exit';
    if (!(oracleNames as readonly string[]).includes(oracle))
      throw usageError(`unknown oracle '${oracle}' (oracles: ${oracleNames.join(', ')})`);
    const spec = userSpec({
      cmd: options.cmd,
      pm: options.pm[0],
      setup: options.setup,
      recover: options.recover,
      cwd: process.cwd(),
      oracle: oracle as Oracle,
    });
    return [options.function !== undefined ? { ...spec, functionName: options.function } : spec];
  }
  if (options.oracle !== undefined)
    throw usageError(
      '--oracle belongs with --cmd (a user program); built-in targets check their reference states through their spec, by the same window rule',
    );
  for (const flag of ['pm', 'setup', 'recover', 'function'] as const) {
    const value = options[flag];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
      throw usageError(`--${flag} belongs with --cmd (a user program); built-in targets bring their own`);
    }
  }
  const specs = builtInSpecs();
  const chosen =
    options.target.length === 0
      ? specs
      : [...new Set(options.target)].map((name) => {
          const spec = specs.find((candidate) => candidate.name === name);
          if (!spec)
            throw usageError(`unknown target '${name}' (built-in targets: ${specs.map((s) => s.name).join(', ')})`);
          return spec;
        });
  for (const spec of chosen) {
    const program = spec.workload.argv[0];
    if (!fs.existsSync(program)) {
      const needs = spec.requires ? `; it needs ${spec.requires}` : '';
      // An installed package builds the tracer addon alone: the built-in
      // targets are this repository's examples, built in a checkout.
      throw new PmfitError(
        installedPackage
          ? `target ${spec.name} is one of pmfit's built-in examples, built only in a checkout of pmfit; check your own program with --cmd or pmfit.config.json`
          : `target ${spec.name} is not built (${program} is missing${needs}): run npm run build:programs`,
      );
    }
  }
  return chosen;
}

function chooseModels(names: string[]): ModelName[] {
  if (names.length === 0) return [...modelNames];
  // --model px86 --model px86 is one run: run ids must be unique.
  return [...new Set(names)].map((name) => {
    if (!isModelName(name)) throw usageError(`unknown model '${name}' (models: ${modelNames.join(', ')})`);
    return name;
  });
}

export async function allcounts(options: AllcountsOptions): Promise<number> {
  const specs = chooseSpecs(options);
  for (const pm of options.pm ?? []) protectFromOutput(pm);
  // Found now rather than after the whole check.
  checkReportsDir(options.output);
  const models = chooseModels(options.model);
  if (options.maxStates < 2)
    throw usageError('--max-states must be at least 2 (px86 always checks the oldest and newest image)');
  const jobs = resolveJobs(options.jobs);
  const startedAt = new Date().toISOString();
  const outputDir = path.resolve(options.output);
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
    for (const spec of specs) {
      await runTarget({
        spec,
        models,
        maxStates: options.maxStates,
        seed: options.seed,
        jobs,
        timeoutMs: options.timeout,
        maxSteps: options.maxSteps,
        acceptUntracedWrites: options.acceptUntracedWrites,
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
    options: { models, maxStates: options.maxStates, seed: options.seed, jobs, timeoutMs: options.timeout },
    targets,
    runs,
    incompleteReason,
  });
  process.stdout.write(`${formatSummary(results)}\n`);
  publishReports(results, outputDir);
  if (failure) throw failure;
  return results.status === 'pass' ? ExitCode.Ok : ExitCode.Violations;
}
