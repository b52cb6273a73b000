// fuzz -- `pmfit fuzz TARGET`: property-based crash testing
// (harness/fuzz/run-fuzz.ts). fast-check generates operation sequences (for
// a multithreaded target one per thread, and a schedule seed), each
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
import { DEFAULT_FUZZ_THREADS } from '../fuzz-defaults';
import { stderrRedraws } from '../../_internals/terminal';
import { formatCaseFailure, replayFailure } from '../../fuzz/format-failure';
import {
  REPLAY_FORMAT,
  REPLAY_VERSION,
  ReplayFile,
  SequenceReplay,
  serializeReplay,
  ThreadsReplay,
} from '../../fuzz/replay-file';
import { formatThreadsFailure } from '../../fuzz/format-threads-failure';
import { CaseOptions, CheckReport, runCase } from '../../fuzz/run-case';
import { runFuzz, runThreadsFuzz, SearchOptions, SearchResult } from '../../fuzz/run-fuzz';
import { runThreadsCase } from '../../fuzz/run-threads-case';
import { anyFuzzTarget, SomeFuzzTarget } from '../../../targets/fuzz-targets';
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
  /** Longest generated sequence (of each thread). */
  ops: number;
  /** Multithreaded targets: most threads of a case. */
  threads?: number;
  traceAll?: boolean;
  maxStates?: number;
  /** Limit of one command, in milliseconds. */
  timeout: number;
  jobs?: number;
  /** Reports directory for the replay file. */
  output: string;
  version?: string;
}

function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/** repeatCommand -- the command line that repeats this run. */
function repeatCommand(
  target: string,
  options: FuzzCommandOptions,
  seed: number,
  fcPath?: string,
  maxThreads?: number,
): string {
  const words = ['pmfit', 'fuzz', target, '--seed', String(seed)];
  if (fcPath !== undefined) words.push('--path', fcPath);
  words.push('--runs', String(options.runs), '--ops', String(options.ops));
  if (maxThreads !== undefined) words.push('--threads', String(maxThreads));
  words.push('--model', options.model);
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
  caseOptions: SearchOptions,
  explained?: CheckReport,
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
  const found = anyFuzzTarget(targetName);
  if (!isModelName(options.model))
    throw usageError(`unknown model '${options.model}' (models: ${modelNames.join(', ')})`);
  if (options.seed !== undefined && options.seed > 0x7fffffff)
    throw usageError(`--seed must be below 2^31 (a fast-check seed), not ${options.seed}`);
  if (options.path !== undefined && options.seed === undefined)
    throw usageError('--path needs the --seed of the run it comes from');
  if (options.path !== undefined && !/^\d+(:\d+)*$/.test(options.path))
    throw usageError(`--path must look like 3:0:1, not '${options.path}'`);
  if (found.kind === 'sequence' && options.threads !== undefined)
    throw usageError(`--threads is for a multithreaded fuzz target; ${targetName} runs one operation sequence`);
  if (found.kind === 'threads' && options.traceAll)
    throw usageError(`--trace-all is for a single-threaded fuzz target; ${targetName} is traced whole`);
  if (found.kind === 'threads' && options.threads !== undefined && options.threads > found.target.maxThreads)
    throw usageError(
      `--threads: ${targetName} runs at most ${found.target.maxThreads} threads, not ${options.threads}`,
    );
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
  const target = found.target;
  const maxThreads = found.kind === 'threads' ? (options.threads ?? DEFAULT_FUZZ_THREADS) : undefined;

  out.write(
    `fuzz ${target.name}: ${options.runs} runs of up to ${maxThreads !== undefined ? `${maxThreads} threads of up to ${options.ops} operations each` : `${options.ops} operations`}, model ${model}, seed ${seed}\n`,
  );
  const searchOptions: SearchOptions = {
    runs: options.runs,
    maxOps: options.ops,
    seed,
    path: options.path,
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
  const searched = await searchFound(found, searchOptions, options, maxThreads).finally(() => {
    if (tty) process.stderr.write('\r\x1b[K');
  });
  const result = searched.result;
  const fuzzRecord: FuzzRecord = {
    target: target.name,
    model: model as ModelName,
    runs: options.runs,
    cases: result.cases,
    maxOps: options.ops,
    ...(maxThreads !== undefined ? { maxThreads } : {}),
    seed,
  };

  if (!searched.counterexample) {
    out.write(`no failure in ${result.runs} cases (seed ${seed})\n`);
    publishReports(fuzzResults(options, fuzzRecord, startedAt, searchOptions), dir);
    return ExitCode.Ok;
  }

  const { report, path: fcPath } = searched.counterexample;
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
  const explained = await searched.counterexample.explain({
    ...searchOptions,
    explain: true,
    keep: { dir, reproduce: (groupId) => `pmfit reproduce ${shellQuote(resultsShown)} ${groupId}` },
  });
  const reproduceLine =
    failure.stage === 'crash'
      ? explained.run?.groups.find((group) => group.violation && group.example.k === failure.k)?.example.reproduce
      : undefined;
  const failureLines = searched.counterexample.format(reproduceLine);
  for (const line of failureLines) out.write(`${line}\n`);

  const replay: ReplayFile = {
    format: REPLAY_FORMAT,
    version: REPLAY_VERSION,
    pmfit: options.version ?? '',
    createdAt: new Date().toISOString(),
    target: target.name,
    ...searched.counterexample.replayCase,
    model,
    maxStates,
    modelSeed: DEFAULT_SEED,
    pmemMode,
    timeoutMs: options.timeout,
    fastCheck: {
      seed,
      path: fcPath,
      runs: options.runs,
      maxOps: options.ops,
      ...(maxThreads !== undefined ? { maxThreads } : {}),
    },
    failure: replayFailure(failure),
  };
  makeOutputDir(dir);
  const file = path.join(dir, `fuzz-${target.name}-${seed}.json`);
  writeOutputFile(file, serializeReplay(replay));
  const shown = path.relative(process.cwd(), file) || file;
  const replayCommand = `pmfit replay ${shellQuote(shown)}`;
  const repeat = repeatCommand(target.name, options, seed, fcPath, maxThreads);
  out.write(`replay file: ${shown}  (run it again: ${replayCommand})\n`);
  out.write(`fast-check: seed ${seed}, path ${fcPath}; repeat: ${repeat}\n`);

  fuzzRecord.counterexample = {
    ops: searched.counterexample.shownOps,
    failure: failureLines,
    replay: replayCommand,
    repeat,
  };
  publishReports(fuzzResults(options, fuzzRecord, startedAt, searchOptions, explained), dir);
  return ExitCode.Violations;
}

/** What the search of either kind of target found, in the terms the
 *  command prints and writes. */
interface Found {
  result: { runs: number; cases: number; shrinks: number; trimmed: number };
  counterexample?: Counterexample;
}

interface Counterexample {
  report: CheckReport;
  path: string;
  /** The case checked again with `explain`. */
  explain(options: CaseOptions): Promise<CheckReport>;
  /** The console lines of its failure. */
  format(reproduce?: string): string[];
  /** The case's part of the replay file. */
  replayCase: SequenceReplay | ThreadsReplay;
  /** Its operations as the target shows them (results.json). */
  shownOps: string[];
}

async function searchFound(
  found: SomeFuzzTarget,
  searchOptions: SearchOptions,
  options: FuzzCommandOptions,
  maxThreads: number | undefined,
): Promise<Found> {
  const model = searchOptions.model;
  if (found.kind === 'threads') {
    const { target } = found;
    const result = await runThreadsFuzz({ ...searchOptions, target, maxThreads: maxThreads ?? DEFAULT_FUZZ_THREADS });
    return foundOf(result, (fuzzCase, report) => ({
      explain: (caseOptions) => runThreadsCase(target, fuzzCase, caseOptions),
      format: (reproduce) => formatThreadsFailure(target, fuzzCase, report, model, reproduce),
      replayCase: { threads: fuzzCase.threads, scheduleSeed: fuzzCase.scheduleSeed },
      shownOps: fuzzCase.threads.flatMap((ops, t) => ops.map((op) => `thread ${t + 1}: ${target.showOp(op)}`)),
    }));
  }
  const { target } = found;
  const result = await runFuzz({ ...searchOptions, target, traceAll: options.traceAll === true });
  return foundOf(result, (fuzzCase, report) => ({
    explain: (caseOptions) => runCase(target, fuzzCase, caseOptions),
    format: (reproduce) => formatCaseFailure(target, fuzzCase, report, model, reproduce),
    replayCase: { ops: fuzzCase.ops, split: fuzzCase.split, traceAll: fuzzCase.traceAll },
    shownOps: fuzzCase.ops.map((op) => target.showOp(op)),
  }));
}

/** foundOf -- a search's result, its counterexample in the command's terms
 *  (`shown`: what depends on the kind of case). */
function foundOf<C, R extends CheckReport>(
  result: SearchResult<C, R>,
  shown: (fuzzCase: C, report: R) => Omit<Counterexample, 'report' | 'path'>,
): Found {
  if (!result.counterexample) return { result };
  const { fuzzCase, report, path: fcPath } = result.counterexample;
  return { result, counterexample: { report, path: fcPath, ...shown(fuzzCase, report) } };
}
