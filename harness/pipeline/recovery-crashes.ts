// recovery-crashes -- crashes during recovery (allcounts --depth 2): is the
// recovery itself crash-safe?
//
// For each distinct crash image whose recovery passed (all of them, or a
// seeded sample of --recovery-crashes N), in one model:
//
// 1. recover the image once more, uninterrupted, and note which of its
//    window's allowed states the result matched (the expected outcome; for
//    a spec without reference states, "the check passes"; for a user's exit
//    status, "exits 0"; under --oracle outputs, the output it printed);
// 2. record the recovery command on a copy of the image with the same
//    recorder as the workload, its regions being the recovery's markers
//    (pmfit_recovery_begin/_end of pmfit.h) or every call of
//    --recover-function NAME;
// 3. compute that trace's crash images under the same model (the image the
//    first crash left is the recovery's durable starting point) and recover
//    each distinct one again, uninterrupted;
// 4. a second recovery that fails, or whose check fails where the expected
//    outcome held, makes the original image's verdict
//    'recovery-not-crash-safe', naming the first such recovery crash point.
//
// Cost: one traced recovery per sampled image plus one recovery per distinct
// image of its trace (recoveries write little, so those are few); the
// sample bounds it. Traced recoveries run one at a time (ptrace is driven
// from the one JavaScript thread); second recoveries run --jobs at once.

import * as fs from 'fs';
import * as path from 'path';
import { usageError } from '../_internals/errors';
import { shellWords } from '../_internals/shell-words';
import { tempDir, tempPath } from '../_internals/temp-root';
import { OpWindow, OpWindows } from '../check/allowed-states';
import { normalizeOutput } from '../check/outcome-groups';
import { opsDoneEnv } from '../check/ops-done-env';
import { checkRecovered, recoveredVerdict, recoverImage } from '../check/recover-image';
import type { RecoveryResult } from '../check/recovery-cache';
import type { CheckReport, CrashOutcome } from '../check/runner';
import { referenceStates, type ReferenceState, type TargetSpec } from '../check/spec';
import { invocation, placeholders } from '../check/spec-command';
import { describeVerdict, isViolation, Verdict } from '../check/verdict';
import { mapPool } from '../check/worker-pool';
import type { ImagePatch } from '../image/image-patch';
import { crashStates, ModelName, type ResolvedCrashStateOptions } from '../persistency/model';
import type { RecoveryCrashSummary } from '../results/schema';
import { Prng } from '../persistency/prng';
import { recordTrace } from '../record/record';
import { TraceReader } from '../trace/format';
import { resolveCommand } from '../tracer/resolve-command';
import { NoRegionError, RECOVERY_MARKERS } from '../tracer/tracee';

export interface RecoveryCrashOptions {
  spec: TargetSpec;
  /** The workload's trace, whose crash images were checked. */
  reader: TraceReader;
  model: ModelName;
  /** The run's model options: the same images, and the recoveries'
   *  own crash states enumerated alike. */
  modelOptions: ResolvedCrashStateOptions;
  timeoutMs: number;
  jobs: number;
  /** --recovery-crashes N: a seeded sample of N images (default: all). */
  sample?: number;
  /** --recover-function NAME instead of the recovery markers. */
  recoverFunction?: string;
  maxSteps?: number;
  onProgress?(done: number, total: number): void;
}

export type RecoveryCrashReport = RecoveryCrashSummary;

/** A recovery command as the tracer runs it: a program and its arguments. */
interface RecoveryLaunch {
  argv: string[];
  env: Record<string, string>;
}

const SHELL_SYNTAX = /[;&|<>`$(){}*?[\]~#\n]/;

/** recoveryLaunch -- the spec's one recovery command in DIR, as argv. A shell
 *  line must be plain words (leading NAME=VALUE words set the environment):
 *  the tracer follows the program it starts, not a shell's children. */
export function recoveryLaunch(spec: TargetSpec, dir: string): RecoveryLaunch {
  if (spec.recover.length !== 1)
    throw usageError(
      `crashes during recovery trace one recovery command; ${spec.name} has ${spec.recover.length} (--depth 2)`,
    );
  const command = spec.recover[0];
  const values = placeholders(dir, spec.pmFiles);
  const env = { ...spec.env, ...command.env };
  if (command.shell === undefined) {
    const { file, args } = invocation(command, values);
    return { argv: [file, ...args], env };
  }
  if (SHELL_SYNTAX.test(command.shell.replace(/\{(file|dir)\}/g, '')))
    throw usageError(
      `--depth 2 runs --recover under the tracer as one program, so it must be a plain command (no shell operators, variables, quotes of them or globs): ${command.shell}`,
    );
  const words = shellWords(command.shell);
  while (words.length > 1 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const word = words.shift() as string;
    env[word.slice(0, word.indexOf('='))] = word.slice(word.indexOf('=') + 1);
  }
  const fill = (word: string): string =>
    word.replace(/\{(dir|file)\}/g, (_, name: 'dir' | 'file') => values[name] ?? '');
  return { argv: words.map(fill), env };
}

/** One recovery to crash: an image, in the windows it passed in. */
interface Candidate {
  hash: string;
  /** Windows in which the image's verdict is ok (one when the recovery is
   *  told its window: the recovery may differ per window). */
  windows: OpWindow[];
  outcomes: CrashOutcome[];
}

function candidatesOf(report: CheckReport, windows: OpWindows, windowEnv: boolean): Candidate[] {
  const byKey = new Map<string, Candidate>();
  const windowByKey = new Map(windows.windows.map((window) => [window.key, window]));
  for (const outcome of report.outcomes) {
    if (isViolation(outcome.verdict)) continue;
    const key = windowEnv ? `${outcome.window}\n${outcome.hash}` : outcome.hash;
    let candidate = byKey.get(key);
    if (!candidate) {
      candidate = { hash: outcome.hash, windows: [], outcomes: [] };
      byKey.set(key, candidate);
    }
    const window = windowByKey.get(outcome.window);
    if (window && !candidate.windows.includes(window)) candidate.windows.push(window);
    candidate.outcomes.push(outcome);
  }
  return [...byKey.values()];
}

/** sampleOf -- N of the candidates, chosen by the seed, in their order. */
export function sampleOf<T>(items: T[], n: number | undefined, seed: number): T[] {
  if (n === undefined || n >= items.length) return items;
  const prng = new Prng(seed, 0x5eed);
  const indices = items.map((_, i) => i);
  for (let i = 0; i < n; i += 1) {
    const j = i + prng.below(indices.length - i);
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  return indices
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]);
}

export async function recoverIn(
  spec: TargetSpec,
  image: ImagePatch,
  timeoutMs: number,
  env: Record<string, string>,
): Promise<RecoveryResult> {
  const dir = tempDir('image');
  try {
    return await recoverImage(spec, image, dir, timeoutMs, env);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** expectedStates -- the allowed states of WINDOW that the uninterrupted
 *  recovery matched: a second recovery must match one of them too. */
export function expectedStates(
  spec: TargetSpec,
  result: RecoveryResult,
  window: OpWindow,
): ReferenceState[] | undefined {
  if (result.kind === 'failed') return undefined;
  if (!spec.check || window.allowed.length === 0) return window.allowed;
  const matched = window.allowed.filter((state) => !isViolation(checkRecovered(spec, result.recovered, [state])));
  return matched.length > 0 ? matched : undefined;
}

export interface TracedRecovery {
  reader: TraceReader;
  file: string;
}

/** traceRecovery -- record the spec's recovery on IMAGE; undefined when the
 *  recovery entered no region (it had nothing to recover). */
export async function traceRecovery(
  spec: TargetSpec,
  image: ImagePatch,
  env: Record<string, string>,
  options: { recoverFunction?: string; maxSteps?: number; timeoutMs: number },
): Promise<TracedRecovery | undefined> {
  const dir = tempDir('recovery');
  const file = tempPath('recovery.trace');
  try {
    for (let i = 0; i < spec.pmFiles.length; i += 1) {
      const target = path.join(dir, spec.pmFiles[i]);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await image.writeFile(i, target);
    }
    const launch = recoveryLaunch(spec, dir);
    const log = fs.openSync('/dev/null', 'w');
    try {
      await recordTrace({
        command: resolveCommand(launch.argv),
        pmFiles: spec.pmFiles,
        pmDir: dir,
        cwd: spec.cwd ?? dir,
        output: file,
        env: { ...process.env, ...launch.env, ...env },
        stdoutFd: log,
        stderrFd: log,
        ...(options.recoverFunction !== undefined
          ? { functions: [options.recoverFunction] }
          : { markers: RECOVERY_MARKERS }),
        maxSteps: options.maxSteps,
        timeoutMs: options.timeoutMs,
      });
    } catch (error) {
      if (error instanceof NoRegionError) return undefined;
      throw error;
    } finally {
      fs.closeSync(log);
    }
    return { reader: TraceReader.open(file), file };
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** A crash state of a traced recovery: its first crash point and image. */
export interface RecoveryCrashState {
  at: number;
  hash: string;
  image: ImagePatch;
}

/** recoveryCrashStates -- the distinct crash images of a traced recovery
 *  under MODEL, each with its first crash point; the recovery's starting
 *  image (ORIGINAL) is left out, its outcome is known. */
export function recoveryCrashStates(
  traced: TraceReader,
  model: ModelName,
  original: string,
  options: ResolvedCrashStateOptions,
): { states: number; distinct: RecoveryCrashState[] } {
  const trace = {
    images: traced.images(),
    events: { [Symbol.iterator]: () => traced.events() },
    instructions: traced.header.instructions,
  };
  const seen = new Set([original]);
  const distinct: RecoveryCrashState[] = [];
  let states = 0;
  for (const group of crashStates(model, trace, options)) {
    for (const state of group.states) {
      states += group.last - group.first + 1;
      if (seen.has(state.hash)) continue;
      seen.add(state.hash);
      distinct.push({ at: group.first, hash: state.hash, image: state.patch() });
    }
  }
  return { states, distinct };
}

/** secondVerdict -- a second recovery's result against the expected states. */
export function secondVerdict(
  spec: TargetSpec,
  result: RecoveryResult,
  expected: ReferenceState[],
  at: number,
  instructions: number,
  hash: string,
): Verdict {
  const verdict = recoveredVerdict(spec, result, expected);
  if (!isViolation(verdict)) return verdict;
  // Under --oracle outputs the expected states are what the uninterrupted
  // recovery printed, not the outputs of a window: the oracle's own message
  // would speak of an operation lost.
  const why =
    verdict.kind === 'invariant' && spec.oracle === 'outputs' && result.kind === 'recovered'
      ? `prints ${JSON.stringify(normalizeOutput(result.recovered.stdout))} where the uninterrupted recovery printed ${expected.map((state) => JSON.stringify(state)).join(' or ')}`
      : verdict.kind === 'invariant'
        ? `fails the check the uninterrupted recovery passed: ${verdict.failed.join('; ')}`
        : describeVerdict(verdict).replace(/^recovery /, '');
  return {
    kind: 'recovery-not-crash-safe',
    at,
    instructions,
    hash,
    why,
    output: verdict.kind === 'ok' ? '' : verdict.output,
  };
}

/** checkRecoveryCrashes -- crash the recoveries of REPORT's images (see the
 *  top of this file); a failure replaces the verdict of the image's
 *  outcomes in that window. */
export async function checkRecoveryCrashes(
  report: CheckReport,
  options: RecoveryCrashOptions,
): Promise<RecoveryCrashReport> {
  const { spec, reader, model } = options;
  const windows = new OpWindows(reader.header.regions, referenceStates(spec, reader.header.regions));
  const all = candidatesOf(report, windows, spec.windowEnv === true);
  const chosen = sampleOf(all, options.sample, options.modelOptions.seed);
  const summary: RecoveryCrashReport = {
    candidates: all.length,
    traced: 0,
    withoutRegion: 0,
    instructions: 0,
    states: 0,
    distinctImages: 0,
    failures: 0,
  };
  if (chosen.length === 0) return summary;

  // The chosen images, taken from one more walk of the workload's trace.
  const wanted = new Set(chosen.map((candidate) => candidate.hash));
  const images = new Map<string, ImagePatch>();
  const trace = {
    images: reader.images(),
    events: { [Symbol.iterator]: () => reader.events() },
    instructions: reader.header.instructions,
  };
  for (const group of crashStates(model, trace, options.modelOptions)) {
    for (const state of group.states) {
      if (wanted.has(state.hash) && !images.has(state.hash)) images.set(state.hash, state.patch());
    }
    if (images.size === wanted.size) break;
  }

  let done = 0;
  for (const candidate of chosen) {
    const image = images.get(candidate.hash);
    if (!image) continue;
    const env = spec.windowEnv ? opsDoneEnv(candidate.windows[0]) : {};
    const uninterrupted = await recoverIn(spec, image, options.timeoutMs, env);
    const expected = candidate.windows.map((window) => expectedStates(spec, uninterrupted, window));
    const traced = await traceRecovery(spec, image, env, options);
    summary.traced += 1;
    if (!traced) {
      summary.withoutRegion += 1;
    } else {
      try {
        const instructions = traced.reader.header.instructions;
        summary.instructions += instructions;
        const { states, distinct } = recoveryCrashStates(traced.reader, model, candidate.hash, options.modelOptions);
        summary.states += states;
        summary.distinctImages += distinct.length;
        const results = await mapPool(distinct, (state) => recoverIn(spec, state.image, options.timeoutMs, env), {
          concurrency: options.jobs,
        });
        candidate.windows.forEach((window, w) => {
          const states = expected[w];
          if (states === undefined) return; // the recovery differs from the run's: not ours to judge
          const failure = distinct
            .map((state, i) => secondVerdict(spec, results[i], states, state.at, instructions, state.hash))
            .find(isViolation);
          if (!failure) return;
          summary.failures += 1;
          for (const outcome of candidate.outcomes) if (outcome.window === window.key) outcome.verdict = failure;
        });
      } finally {
        traced.reader.close();
        await fs.promises.rm(traced.file, { force: true });
      }
    }
    done += 1;
    options.onProgress?.(done, chosen.length);
  }
  return summary;
}
