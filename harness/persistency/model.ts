// model -- choose a persistency model by name.
//
// docs/models.md: each model turns a trace into the set of
// images that a crash at point k can leave.
//
// | model        | what survives a crash at k                                   | states per crash point |
// | `sequential` | every PM write up to k (a killed process, or a platform with eADR) | 1 |
// | `flushed`    | for each line, its content at its last flush (`clflush`, `clflushopt`, `clwb`, `msync`) or write syscall up to k; unflushed stores are lost; flushes need no fence; a non-temporal store becomes durable at the next fence. The original libpmem "fit" mode | 1 |
// | `px86`       | x86 with ADR (power failure): per line, any version between its last *guaranteed* durable version and its current version (cache eviction can write a line back at any moment) | product over unsettled lines |
//
// Each model is documented in full next to its implementation (sequential.ts,
// flushed.ts, px86.ts).

import { flushedCrashStates } from './flushed';
import { px86CrashStates } from './px86';
import { sequentialCrashStates } from './sequential';
import { CrashGroup, CrashStateOptions, PersistencyTrace, resolveOptions } from './types';

export type {
  CrashGroup,
  CrashState,
  CrashStateOptions,
  LineChoice,
  PersistencyTrace,
  ResolvedCrashStateOptions,
} from './types';
export { DEFAULT_MAX_STATES, DEFAULT_SEED, resolveOptions } from './types';

export type ModelName = 'sequential' | 'flushed' | 'px86';

export const modelNames: readonly ModelName[] = ['sequential', 'flushed', 'px86'];

export function isModelName(name: string): name is ModelName {
  return (modelNames as readonly string[]).includes(name);
}

/**
 * crashStates -- the crash-state groups of `trace` under `model`: consecutive
 * groups covering crash points 0..N. A state's patch() / describe() are
 * valid until the generator is advanced.
 */
export function crashStates(
  model: ModelName,
  trace: PersistencyTrace,
  options?: CrashStateOptions,
): Generator<CrashGroup, void, undefined> {
  const resolved = resolveOptions(options);
  switch (model) {
    case 'sequential':
      return sequentialCrashStates(trace);
    case 'flushed':
      return flushedCrashStates(trace);
    case 'px86':
      return px86CrashStates(trace, resolved);
    default: {
      const unknown: never = model;
      throw new RangeError(`unknown persistency model ${String(unknown)}`);
    }
  }
}
