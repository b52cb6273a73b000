// run-target -- the main job for one target: set up a fresh pool, record the
// workload once, then for each persistency model enumerate the crash states,
// recover and check every distinct image, and collate the outcomes.

import * as fs from 'fs';
import { PmfitError, usageError } from '../_internals/errors';
import { tempDir, tempPath } from '../_internals/temp-root';
import type { CommandsOutcome } from '../check/run-commands';
import { runSetup } from '../check/run-setup';
import { closeRecoverServers } from '../check/recover-server';
import { checkCrashStates, CheckReport, RecoveryCache } from '../check/runner';
import type { TargetSpec } from '../check/spec';
import { guardUserFiles } from './_internals/user-file-guard';
import { explainGroups } from './explain-groups';
import { targetFindings } from './find-findings';
import { lintFindings, lintHits } from './lint-findings';
import { StackReplay, stacksAt } from './stacks-at';
import { shardStacks } from './shard-stacks';
import { keepTrace } from './keep-trace';
import { boundaryOutputs } from './boundary-outputs';
import { outputOracleSpec } from '../check/output-oracle';
import { preflight } from './preflight';
import { checkRecoveryCrashes, recoveryLaunch } from './recovery-crashes';
import { recordWorkload } from './record-workload';
import { targetRecord } from './target-record';
import { crashStates, ModelName, type ResolvedCrashStateOptions } from '../persistency/model';
import type { RecoveryCrashSummary, RunResult, TargetRecord } from '../results/schema';
import { TraceReader } from '../trace/format';
import { reproduceCommand, toRunResult } from './to-run-result';
import { toRunPart } from './to-run-part';
import { traceDigest } from './trace-digest';
import { siteLines } from './site-lines';
import { imageWeight, type ShardPlan } from './shard-plan';
import type { RunPart, ShardTarget } from '../results/shard-results';

export interface RunTargetOptions {
  spec: TargetSpec;
  models: ModelName[];
  /** --max-states, --seed and --merge-versions, resolved. */
  modelOptions: ResolvedCrashStateOptions;
  jobs: number;
  timeoutMs: number;
  maxSteps?: number;
  /** Record past writes the tracer cannot follow, with warnings. */
  acceptUntracedWrites?: boolean;
  /** Record with the fast recorder (recordTrace's fast). */
  fast?: boolean;
  /** --depth 2: crash the recovery of each distinct image too (or of a
   *  seeded sample of `sample` images; recovery-crashes.ts). */
  recoveryCrashes?: { sample?: number; recoverFunction?: string };
  onPhase?(phase: string, total?: number): void;
  onProgress?(done: number): void;
  /** Each part of the outcome as soon as it is known, so that a caller
   *  stopped by Ctrl-C or an error part way keeps what was finished. */
  onTarget?(target: TargetRecord): void;
  /** A model's run when its images are checked; its findings are added to
   *  the same object once every model is done. */
  onRun?(run: RunResult): void;
  /** Keep the trace beside results.json in this directory, and make every
   *  group's reproduce line with `reproduce` (`pmfit reproduce RESULTS ID`). */
  keep?: { dir: string; reproduce(groupId: string): string };
  /** `allcounts --shard i/n`: recover only this shard's images (the plan
   *  runs on across targets) and report parts instead of runs. */
  shard?: {
    plan: ShardPlan;
    onTarget(target: ShardTarget): void;
    onPart(part: RunPart): void;
  };
}

export interface TargetOutcome {
  target: TargetRecord;
  runs: RunResult[];
}

export async function runTarget(options: RunTargetOptions): Promise<TargetOutcome> {
  try {
    return await runTargetOnce(options);
  } finally {
    // A target's recover servers end with its run, however it ends.
    await closeRecoverServers();
  }
}

async function runTargetOnce(options: RunTargetOptions): Promise<TargetOutcome> {
  let { spec } = options;
  // The target's own limit, when its config gives one (docs/config.md).
  const timeoutMs = spec.timeoutMs ?? options.timeoutMs;
  // Its own models too (a control for a flush-order bug skips sequential).
  const models = spec.models ?? options.models;
  const work = tempDir(`${spec.name}-work`);
  const setup = await runSetup(spec, work, timeoutMs);
  if (setup.kind !== 'ok') {
    const limit = spec.timeoutMs === undefined ? '--timeout' : "the target's timeout";
    throw new PmfitError(`setup of ${spec.name} failed (${describeFailure(setup, spec.pmFiles[0], limit)})`);
  }

  // A recovery the tracer cannot run as one program is refused before any work.
  if (options.recoveryCrashes) recoveryLaunch(spec, work);
  // After the setup, which is the user's own command to make a pool.
  const guard = guardUserFiles(spec.userFiles ?? []);
  options.onPhase?.(`${spec.name}: recording`);
  const tracePath = tempPath(`${spec.name}.trace`);
  const logPath = tempPath(`${spec.name}-workload.log`);
  const started = Date.now();
  const header = await recordWorkload(spec, work, {
    output: tracePath,
    logPath,
    maxSteps: options.maxSteps,
    onProgress: options.onProgress,
    acceptUntracedWrites: options.acceptUntracedWrites,
    fast: options.fast,
  });
  const recordSeconds = (Date.now() - started) / 1000;
  guard.check('while the traced program ran');
  if (header.exitCode !== 0) {
    const output = fs.readFileSync(logPath, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
    throw usageError(`workload of ${spec.name} exited with status ${header.exitCode}${output ? `: ${output}` : ''}`);
  }

  const target = targetRecord(spec, header, recordSeconds);
  const reader = TraceReader.open(tracePath);
  let reproduce: ((groupId: string) => string) | undefined;
  try {
    options.onPhase?.(`${spec.name}: checking the uncrashed images`);
    await preflight(spec, reader, timeoutMs);
    if (spec.oracle === 'outputs') {
      options.onPhase?.(`${spec.name}: recording the outputs at the operation boundaries`);
      const outputs = await boundaryOutputs(spec, reader, timeoutMs);
      spec = outputOracleSpec(spec, outputs);
      if (target.check?.kind === 'recover') target.check.outputs = outputs;
    }
    if (options.keep) {
      const kept = keepTrace(tracePath, options.keep.dir, spec.name);
      if (kept.kind === 'kept') target.trace = kept.file;
      else target.traceNotKept = kept.why;
      // Also without the trace: `pmfit reproduce` then says why it cannot.
      reproduce = options.keep.reproduce;
    }
  } catch (err) {
    reader.close();
    throw err;
  }
  const lint = lintHits(header, reader);
  // Located now, so that a run stopped part way keeps it; again with the
  // stacks below.
  target.lint = await lintFindings(spec.name, { header, reader, allowNotDurable: spec.allowNotDurable }, lint);
  /** takeStacks -- a replay's stacks on the target, and its lint located
   *  again with them. */
  const takeStacks = async (replay: StackReplay): Promise<void> => {
    if (replay.kind === 'unavailable') {
      target.stacks = { kind: 'unavailable', why: replay.why };
      return;
    }
    const { stacks } = replay;
    target.stacks = { kind: 'unwound', sites: replay.sites, unwound: stacks.size, seconds: replay.seconds };
    target.lint = await lintFindings(
      spec.name,
      { header, reader, stacks, allowNotDurable: spec.allowNotDurable },
      lint,
    );
  };
  options.onTarget?.(target);
  const traceOf = () => ({
    images: reader.images(),
    events: { [Symbol.iterator]: () => reader.events() },
    instructions: header.instructions,
  });
  let skip: ((hash: string) => boolean) | undefined;
  let shardTarget: ShardTarget | undefined;
  if (options.shard) {
    const { plan } = options.shard;
    options.onPhase?.(`${spec.name}: planning shard ${plan.index}/${plan.count}`);
    shardTarget = { record: target, traceDigest: traceDigest(reader), sites: await siteLines(header, reader) };
    options.shard.onTarget(shardTarget);
    // Every distinct image of every model, each recovered by one shard.
    const weight = imageWeight(header.files.reduce((sum, file) => sum + file.size, 0));
    const images = new Map<string, number>();
    for (const model of models) {
      for (const group of crashStates(model, traceOf(), options.modelOptions))
        for (const state of group.states) images.set(state.hash, weight);
    }
    const mine = plan.assign(images);
    skip = (hash) => !mine(hash);
  }

  const cache = new RecoveryCache();
  const runs: RunResult[] = [];
  const reports: CheckReport[] = [];
  try {
    for (const model of models) {
      options.onPhase?.(`${spec.name} / ${model}: checking`, header.instructions + 1);
      const modelStarted = Date.now();
      const report = await checkCrashStates({
        groups: crashStates(model, traceOf(), options.modelOptions),
        regions: header.regions,
        spec,
        timeoutMs,
        jobs: options.jobs,
        cache,
        onProgress: (done: number) => options.onProgress?.(done),
        skip,
      });
      let depth2: RecoveryCrashSummary | undefined;
      if (options.recoveryCrashes) {
        options.onPhase?.(`${spec.name} / ${model}: crashing the recoveries (depth 2)`);
        depth2 = await checkRecoveryCrashes(report, {
          spec,
          reader,
          model,
          modelOptions: options.modelOptions,
          timeoutMs,
          jobs: options.jobs,
          maxSteps: options.maxSteps,
          ...options.recoveryCrashes,
          onProgress: (done) => options.onProgress?.(done),
        });
      }
      guard.check('while the crash images were recovered');
      const seconds = (Date.now() - modelStarted) / 1000;
      const explain = {
        spec,
        header,
        reader,
        model,
        modelOptions: options.modelOptions,
        timeoutMs,
      };
      if (options.shard) {
        options.shard.onPart(await toRunPart({ spec, model, header, report, seconds, reproduce }, explain));
        continue;
      }
      const run = toRunResult({ spec, model, header, report, seconds, reproduce });
      if (depth2) run.recoveryCrashes = depth2;
      await explainGroups(run, explain);
      runs.push(run);
      reports.push(report);
      // Handed over now, so a signal during a later model keeps this one;
      // the findings below are added to the same object.
      options.onRun?.(run);
    }
    if (options.shard && shardTarget) {
      // No shard can find the findings; it unwinds its share of the stacks
      // they may need, and the lint's (shard-stacks.ts).
      options.onPhase?.(`${spec.name}: unwinding the call stacks`);
      const { replay, carried } = await shardStacks(spec, header, reader, options.shard.plan, lint, timeoutMs);
      shardTarget.stacks = carried;
      // This shard's own replay; pmfit merge counts the run's.
      await takeStacks(replay);
      return { target, runs };
    }
    // After every model, as pmfit merge does (cli/commands/merge.ts).
    await targetFindings(
      runs.map((run, i) => ({
        run,
        context: {
          header,
          reader,
          model: run.model,
          modelOptions: options.modelOptions,
          report: reports[i],
          reproduce: (id: string, k: number) => (reproduce ? reproduce(id) : reproduceCommand(spec, k, header)),
        },
      })),
      // One more run of the workload unwinds every site findings and lint name.
      async (causeSites) => {
        const sites = [...lint, ...causeSites];
        if (sites.length === 0) return undefined;
        options.onPhase?.(`${spec.name}: unwinding the call stacks`);
        const replay = await stacksAt(spec, header, sites, timeoutMs);
        await takeStacks(replay);
        return replay.kind === 'unwound' ? { stacks: replay.stacks } : undefined;
      },
    );
  } finally {
    reader.close();
  }
  return { target, runs };
}

/** A setup command as the user reads it: it runs in the scratch directory,
 *  whose name is gone by the time the message is read, so {dir}/NAME is
 *  shown as NAME and {file} as the PM file's name. LIMIT names the setting
 *  whose time ran out. */
function describeFailure(
  outcome: Exclude<CommandsOutcome, { kind: 'ok' }>,
  pmFile: string | undefined,
  limit: string,
): string {
  const why =
    outcome.kind === 'crashed'
      ? `killed by ${outcome.signal}`
      : outcome.kind === 'timeout'
        ? `timed out after ${outcome.timeoutMs / 1000} s (${limit})`
        : `exit status ${outcome.exitCode}`;
  const last = outcome.output.trim().split('\n').slice(-1)[0];
  const command = outcome.command
    .replace(/\{dir\}\//g, '')
    .replace(/\{dir\}/g, '.')
    .replace(/\{file\}/g, pmFile ?? '{file}');
  return `${command}: ${why}${last ? `: ${last}` : ''}`;
}
