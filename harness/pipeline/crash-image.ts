// crash-image -- one crash image of a trace rebuilt: the state a model
// produced at crash point k, picked by its content hash, the way the run that
// reported it produced it (same model, --max-states and --seed, so px86's
// selection is the same).

import type { ImagePatch } from '../image/image-patch';
import { crashStates, ModelName } from '../persistency/model';
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
  maxStates: number;
  seed: number;
}

/** crashImage -- one walk of the trace up to k. */
export function crashImage(reader: TraceReader, query: CrashImageQuery): FoundImage {
  const trace = {
    images: reader.images(),
    events: { [Symbol.iterator]: () => reader.events() },
    instructions: reader.header.instructions,
  };
  for (const group of crashStates(query.model, trace, { maxStates: query.maxStates, seed: query.seed })) {
    if (query.k < group.first || query.k > group.last) continue;
    const state = group.states.find((candidate) => candidate.hash === query.hash);
    if (state) return { kind: 'found', image: state.patch(), states: group.states.length };
    return { kind: 'missing', hashes: group.states.map((candidate) => candidate.hash) };
  }
  return { kind: 'missing', hashes: [] };
}
