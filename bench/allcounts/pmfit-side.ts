// pmfit-side -- pmfit's own pipeline (runTarget: setup → record → models →
// check) timed per model and for all models in one run, plus what the
// cross-check needs: every crash point's verdict (from the collated groups)
// and its image hash under each model (from a separate, untimed recording
// walked with pmfit's models; the recording is deterministic, its N is
// compared with the timed one).

import { tempDir, tempPath } from '../../harness/_internals/temp-root';
import { parseRanges } from '../../harness/_internals/collate';
import { OpWindows } from '../../harness/check/allowed-states';
import { runCommands } from '../../harness/check/run-commands';
import type { TargetSpec } from '../../harness/check/spec';
import { crashStates, ModelName, resolveOptions } from '../../harness/persistency/model';
import { runTarget } from '../../harness/pipeline/run-target';
import { recordWorkload } from '../../harness/pipeline/record-workload';
import type { RunResult } from '../../harness/results/schema';
import { TraceReader } from '../../harness/trace/format';

export interface PmfitRun {
  models: ModelName[];
  /** Wall time of the whole runTarget call (setup, record, every model). */
  seconds: number;
  recordSeconds: number;
  runs: RunResult[];
}

export interface PmfitOptions {
  spec: TargetSpec;
  jobs: number;
  timeoutMs: number;
  maxStates: number;
  seed: number;
}

export async function timedRunTarget(options: PmfitOptions, models: ModelName[]): Promise<PmfitRun> {
  const started = process.hrtime.bigint();
  const outcome = await runTarget({
    spec: options.spec,
    models,
    modelOptions: resolveOptions({ maxStates: options.maxStates, seed: options.seed }),
    jobs: options.jobs,
    timeoutMs: options.timeoutMs,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { models, seconds, recordSeconds: outcome.target.recordSeconds, runs: outcome.runs };
}

/** verdictsByPoint -- the verdict labels of each crash point, from a run's
 *  collated groups (sequential and flushed: exactly one per point). */
export function verdictsByPoint(run: RunResult): Map<number, string[]> {
  const byPoint = new Map<number, string[]>();
  for (const group of run.groups) {
    for (const k of parseRanges(group.crashPoints)) {
      const list = byPoint.get(k);
      if (list) list.push(group.kind);
      else byPoint.set(k, [group.kind]);
    }
  }
  return byPoint;
}

export interface ModelImages {
  instructions: number;
  /** Image hash at each crash point 0..N (one state per point). */
  hashes: string[];
  /** Operation-window key at each crash point. */
  windows: string[];
}

/** modelImages -- per-crash-point image hashes of the single-state models
 *  on a fresh recording of the spec's workload. */
export async function modelImages(options: PmfitOptions, models: ModelName[]): Promise<Map<ModelName, ModelImages>> {
  const { spec } = options;
  const work = tempDir(`${spec.name}-verify`);
  const setup = await runCommands(spec.setup, work, { timeoutMs: options.timeoutMs, env: spec.env });
  if (setup.kind !== 'ok') throw new Error(`setup failed: ${setup.output}`);
  const tracePath = tempPath(`${spec.name}-verify.trace`);
  const header = await recordWorkload(spec, work, { output: tracePath });
  const windows = new OpWindows(header.regions, spec.states);
  const windowKeys: string[] = [];
  for (let k = 0; k <= header.instructions; k++) windowKeys.push(windows.windowAt(k).key);
  const reader = TraceReader.open(tracePath);
  const result = new Map<ModelName, ModelImages>();
  try {
    for (const model of models) {
      const hashes: string[] = new Array<string>(header.instructions + 1);
      const trace = {
        images: reader.images(),
        events: { [Symbol.iterator]: () => reader.events() },
        instructions: header.instructions,
      };
      for (const group of crashStates(model, trace, { maxStates: options.maxStates, seed: options.seed })) {
        if (group.states.length !== 1) throw new Error(`${model}: ${group.states.length} states at ${group.first}`);
        for (let k = group.first; k <= group.last; k++) hashes[k] = group.states[0].hash;
      }
      result.set(model, { instructions: header.instructions, hashes, windows: windowKeys });
    }
  } finally {
    reader.close();
  }
  return result;
}
