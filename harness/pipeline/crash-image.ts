// crash-image -- one crash image of a trace rebuilt: the state a model
// produced at crash point k, picked by its content hash, the way the run that
// reported it produced it (same model, --max-states, --seed and
// --merge-versions, so px86's states are the same).

import type { ImagePatch } from '../image/image-patch';
import { crashStates, ModelName, type ResolvedCrashStateOptions } from '../persistency/model';
import type { TraceReader } from '../trace/format';

export type FoundImage =
  | { kind: 'found'; image: ImagePatch; states: number }
  /** No state at k has the hash: the trace is not the one the run checked,
   *  or the model's options differ. `hashes` are the states' hashes at k. */
  | { kind: 'missing'; hashes: string[] };

export interface CrashImageQuery {
  model: ModelName;
  k: number;
  hash: string;
  /** The run's model options (results/model-options.ts). */
  modelOptions: ResolvedCrashStateOptions;
}

/** crashImage -- one walk of the trace up to k. */
export function crashImage(reader: TraceReader, query: CrashImageQuery): FoundImage {
  const trace = {
    images: reader.images(),
    events: { [Symbol.iterator]: () => reader.events() },
    instructions: reader.header.instructions,
  };
  for (const group of crashStates(query.model, trace, query.modelOptions)) {
    if (query.k < group.first || query.k > group.last) continue;
    const state = group.states.find((candidate) => candidate.hash === query.hash);
    if (state) return { kind: 'found', image: state.patch(), states: group.states.length };
    return { kind: 'missing', hashes: group.states.map((candidate) => candidate.hash) };
  }
  return { kind: 'missing', hashes: [] };
}
