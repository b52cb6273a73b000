// model-options -- the persistency-model options a run checked its images
// with, as results.json (and a shard file) records them: every consumer
// that rebuilds a run's crash images (reproduce, findings, explanations,
// --depth 2) must enumerate them exactly as the run did.

import type { ResolvedCrashStateOptions } from '../persistency/model';
import type { Results } from './schema';

type Recorded = Pick<Results['options'], 'maxStates' | 'seed' | 'mergeVersions'>;

/** modelOptions -- the run's maxStates, seed and px86 version merge (absent
 *  in results written before --merge-versions existed: off). */
export function modelOptions(options: Recorded): ResolvedCrashStateOptions {
  return { maxStates: options.maxStates, seed: options.seed, mergeVersions: options.mergeVersions === true };
}

/** recordedModelOptions -- the options' fields of results.json; the merge
 *  only when on, so that a run without it reads as older pmfits wrote it. */
export function recordedModelOptions(options: ResolvedCrashStateOptions): Recorded {
  return {
    maxStates: options.maxStates,
    seed: options.seed,
    ...(options.mergeVersions ? { mergeVersions: true } : {}),
  };
}
