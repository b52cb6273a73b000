// fuzz -- `pmfit fuzz TARGET`: property-based crash testing
// (harness/fuzz/run-fuzz.ts). fast-check generates operation sequences, each
// case crashes one operation at every point under one persistency model and
// checks recovery and the rest of the sequence; a failing case is shrunk,
// printed, and written as a replay file (`pmfit replay FILE` runs it again).
// The reports (results.json, index.html, junit.xml) say what ran and, for a
// failure, show the shrunk case's check like an allcounts run.
//
// Exit status: 0 no failure, 1 a counterexample (also for basic, the positive
// control, which is expected to fail), 2 usage or environment error.

import * as path from 'path';
import { ExitCode, usageError } from '../../_internals/errors';
import { makeOutputDir, writeOutputFile } from '../../_internals/output-file';
import { shellQuote } from '../../_internals/shell-words';
import { resolveJobs } from '../resolve-jobs';
import { stderrRedraws } from '../../_internals/terminal';
import { formatCaseFailure, replayFailure } from '../../fuzz/format-failure';
import { REPLAY_FORMAT, REPLAY_VERSION, ReplayFile, serializeReplay } from '../../fuzz/replay-file';
import { CaseReport, runCase } from '../../fuzz/run-case';
import { FuzzOptions, runFuzz } from '../../fuzz/run-fuzz';
import { fuzzTarget } from '../../../targets/fuzz-targets';
import { DEFAULT_MAX_STATES, DEFAULT_SEED, isModelName, ModelName, modelNames } from '../../persistency/model';
import { buildResults } from '../../results/results';
import type { FuzzRecord, Results } from '../../results/schema';
import { publishReports } from '../../report/publish-reports';
import { checkReportsDir } from '../../report/write-reports';

export interface FuzzCommandOptions {
  runs: number;
  /** fast-check seed; a random one when not given (printed either way). */
  seed?: number;
  /** fast-check counterexample path (with --seed): go straight to a failure. */
  path?: string;
  model: string;
  /** Longest generated sequence. */
  ops: number;
  traceAll?: boolean;
  maxStates?: number;
  /** Limit of one command, in milliseconds. */
  timeout: number;
  jobs?: number;
  /** Reports directory for the replay file. */
  output: string;
  version?: string;
}

export const DEFAULT_FUZZ_RUNS = 20;
export const DEFAULT_FUZZ_OPS = 6;

function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/** repeatCommand -- the command line that repeats this run. */
function repeatCommand(target: string, options: FuzzCommandOptions, seed: number, fcPath?: string): string {
  const words = ['pmfit', 'fuzz', target, '--seed', String(seed)];
  if (fcPath !== undefined) words.push('--path', fcPath);
  words.push('--runs', String(options.runs), '--ops', String(options.ops), '--model', options.model);
  if (options.traceAll) words.push('--trace-all');
  if (options.maxStates !== undefined && options.maxStates !== DEFAULT_MAX_STATES)
    words.push('--max-states', String(options.maxStates));
  return words.map(shellQuote).join(' ');
}

/** fuzzResults -- results.json of a fuzz run: the fuzz record and, for a
 *  counterexample, its explained check as the one run. */
function fuzzResults(
  options: FuzzCommandOptions,
  fuzzRecord: FuzzRecord,
  startedAt: string,
  caseOptions: FuzzOptions,
  explained?: CaseReport,
): Results {
  return buildResults({
    pmfitVersion: options.version ?? '',
    startedAt,
    options: {
      models: [fuzzRecord.model],
      maxStates: caseOptions.maxStates,
      seed: caseOptions.modelSeed,
      jobs: caseOptions.jobs,
      timeoutMs: caseOptions.timeoutMs,
    },
    targets: explained?.target ? [explained.target] : [],
    runs: explained?.run ? [explained.run] : [],
    fuzz: fuzzRecord,
  });
}

export async function fuzz(targetName: string, options: FuzzCommandOptions): Promise<number> {
  const target = fuzzTarget(targetName);
  if (!isModelName(options.model))
    throw usageError(`unknown model '${options.model}' (models: ${modelNames.join(', ')})`);
  if (options.seed !== undefined && options.seed > 0x7fffffff)
    throw usageError(`--seed must be below 2^31 (a fast-check seed), not ${options.seed}`);
  if (options.path !== undefined && options.seed === undefined)
    throw usageError('--path needs the --seed of the run it comes from');
  if (options.path !== undefined && !/^\d+(:\d+)*$/.test(options.path))
    throw usageError(`--path must look like 3:0:1, not '${options.path}'`);
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  if (maxStates < 2)
    throw usageError('--max-states must be at least 2 (px86 always checks the oldest and newest image)');
  const model = options.model;
  const seed = options.seed ?? randomSeed();
  const pmemMode = process.env.PMEM_MODE ?? '';
  const out = process.stdout;
  const tty = stderrRedraws();
  const startedAt = new Date().toISOString();
  const dir = path.resolve(options.output);
  checkReportsDir(dir);

  out.write(
    `fuzz ${target.name}: ${options.runs} runs of up to ${options.ops} operations, model ${model}, seed ${seed}\n`,
  );
  const caseOptions: FuzzOptions = {
    target,
    runs: options.runs,
    maxOps: options.ops,
    seed,
    path: options.path,
    traceAll: options.traceAll === true,
    model,
    maxStates,
    modelSeed: DEFAULT_SEED,
    pmemMode,
    timeoutMs: options.timeout,
    jobs: resolveJobs(options.jobs),
    maxSteps: undefined,
    onCase: tty
      ? ({ cases, shrinking, failed }) => {
          process.stderr.write(
            `\r\x1b[K${shrinking ? 'shrinking' : 'checking'}: ${cases} case${cases === 1 ? '' : 's'}${failed ? ' (failed)' : ''}`,
          );
        }
      : undefined,
  };
  const result = await runFuzz(caseOptions).finally(() => {
    if (tty) process.stderr.write('\r\x1b[K');
  });
  const fuzzRecord: FuzzRecord = {
    target: target.name,
    model: model as ModelName,
    runs: options.runs,
    cases: result.cases,
    maxOps: options.ops,
    seed,
  };

  if (!result.counterexample) {
    out.write(`no failure in ${result.runs} cases (seed ${seed})\n`);
    publishReports(fuzzResults(options, fuzzRecord, startedAt, caseOptions), dir);
    return ExitCode.Ok;
  }

  const { fuzzCase, report, path: fcPath } = result.counterexample;
  const failure = report.failure;
  if (!failure) throw new Error('a counterexample without a failure');
  const trimmed =
    result.trimmed > 0 ? `, then ${result.trimmed} trailing operation${result.trimmed === 1 ? '' : 's'} dropped` : '';
  out.write(
    `FAILED: case ${result.runs} of ${options.runs} failed; shrunk ${result.shrinks} time${result.shrinks === 1 ? '' : 's'}${trimmed} (${result.cases} case${result.cases === 1 ? '' : 's'} checked in all)\n`,
  );
  if (report.spec.expect === 'violations') {
    out.write(`(${target.name} is a positive control without crash protection: violations are expected)\n`);
  }

  // The shrunk case once more, its check collated and explained for the
  // report, its trace kept beside results.json: every group's reproduce
  // line is `pmfit reproduce`, which rebuilds the group's exact image under
  // any model (`pmfit crash k` cannot: it kills a process).
  const relative = path.relative(process.cwd(), path.join(dir, 'results.json'));
  const resultsShown = relative.startsWith('..') ? path.join(dir, 'results.json') : relative;
  const explained = await runCase(target, fuzzCase, {
    ...caseOptions,
    explain: true,
    keep: { dir, reproduce: (groupId) => `pmfit reproduce ${shellQuote(resultsShown)} ${groupId}` },
  });
  const reproduceLine =
    failure.stage === 'crash'
      ? explained.run?.groups.find((group) => group.violation && group.example.k === failure.k)?.example.reproduce
      : undefined;
  const failureLines = formatCaseFailure(target, fuzzCase, report, model, reproduceLine);
  for (const line of failureLines) out.write(`${line}\n`);

  const replay: ReplayFile = {
    format: REPLAY_FORMAT,
    version: REPLAY_VERSION,
    pmfit: options.version ?? '',
    createdAt: new Date().toISOString(),
    target: target.name,
    ops: fuzzCase.ops,
    split: fuzzCase.split,
    traceAll: fuzzCase.traceAll,
    model,
    maxStates,
    modelSeed: DEFAULT_SEED,
    pmemMode,
    timeoutMs: options.timeout,
    fastCheck: { seed, path: fcPath, runs: options.runs, maxOps: options.ops },
    failure: replayFailure(failure),
  };
  makeOutputDir(dir);
  const file = path.join(dir, `fuzz-${target.name}-${seed}.json`);
  writeOutputFile(file, serializeReplay(replay));
  const shown = path.relative(process.cwd(), file) || file;
  const replayCommand = `pmfit replay ${shellQuote(shown)}`;
  const repeat = repeatCommand(target.name, options, seed, fcPath);
  out.write(`replay file: ${shown}  (run it again: ${replayCommand})\n`);
  out.write(`fast-check: seed ${seed}, path ${fcPath}; repeat: ${repeat}\n`);

  fuzzRecord.counterexample = {
    ops: fuzzCase.ops.map((op) => target.showOp(op)),
    failure: failureLines,
    replay: replayCommand,
    repeat,
  };
  publishReports(fuzzResults(options, fuzzRecord, startedAt, caseOptions, explained), dir);
  return ExitCode.Violations;
}
