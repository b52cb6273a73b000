// stacks-at -- the traced program's call stacks at the instructions that
// findings and lint warnings name (docs/findings.md, "Call stacks"): one
// more run of the workload on a fresh pool, single-stepped like the
// recording and stopped just before each of those instructions in turn,
// where libdw unwinds the stack (tracer/unwinding.ts).
//
// The trace keeps no stacks: unwinding costs about 0.3 ms, some fifteen
// single steps, and a recording would pay it at every store, while only a
// few instructions are ever named. The run is the recording's over again
// (same program, arguments, environment, a pool made by the same setup,
// no ASLR, the same thread schedule, the same recorder:
// _internals/replay-workload.ts), so instruction i is the same
// instruction; each stop is checked against the address the trace has for
// it, and an instruction met elsewhere is left without a stack. A shard of
// `allcounts --shard i/n` unwinds its share of them (shard-stacks.ts).

import type { TargetSpec } from '../check/spec';
import type { TraceHeader } from '../trace/format';
import { Tracee } from '../tracer/tracee';
import { unwinding } from '../tracer/unwinding';
import { replayStops } from './_internals/replay-workload';
import type { RawFrame } from './site-locations';

/** Frames kept per stack, innermost first. */
export const MAX_FRAMES = 32;

/** An instruction to unwind at: its index in the trace and its address. */
export interface StackSite {
  index: number;
  address: number;
}

export type StackReplay =
  /** `stacks` by instruction index: those of `sites` the run met where the
   *  trace has them. */
  | { kind: 'unwound'; stacks: Map<number, RawFrame[]>; sites: number; seconds: number }
  | { kind: 'unavailable'; why: string };

export async function stacksAt(
  spec: TargetSpec,
  header: TraceHeader,
  sites: readonly StackSite[],
  timeoutMs: number,
): Promise<StackReplay> {
  const refused = stacksRefused();
  if (refused) return { kind: 'unavailable', why: refused };
  const started = Date.now();
  const byIndex = new Map<number, number>();
  for (const site of sites) byIndex.set(site.index, site.address);
  const stacks = new Map<number, RawFrame[]>();
  if (byIndex.size === 0) return { kind: 'unwound', stacks, sites: 0, seconds: 0 };
  // Crash point index - 1: the instruction is next. When index - 1 ends a
  // region, the stop is at that region's end and the next region's first
  // instruction is one stop further.
  const replayed = await replayStops(
    spec,
    header,
    'stacks',
    timeoutMs,
    [...byIndex.keys()].map((index) => index - 1),
    (end, tracee) => {
      const address = byIndex.get(end.index + 1);
      if (end.address !== address) return 'again';
      const stack = unwindHere(tracee);
      if (stack) stacks.set(end.index + 1, stack);
      return 'next';
    },
  );
  if (replayed.kind === 'failed') return { kind: 'unavailable', why: replayed.why };
  return { kind: 'unwound', stacks, sites: byIndex.size, seconds: (Date.now() - started) / 1000 };
}

/** stacksRefused -- why no stack can be had (no libdw), or undefined.
 *  Also asked by explain-groups, which unwinds in its own replay. */
export function stacksRefused(): string | undefined {
  const available = unwinding();
  return available.kind === 'unavailable' ? available.why : undefined;
}

/** unwindHere -- the stack where the tracee stopped; none when libdw cannot
 *  read it (the site is then shown without one, the others go on). */
export function unwindHere(tracee: Tracee): RawFrame[] | undefined {
  try {
    return tracee.stack(MAX_FRAMES);
  } catch {
    return undefined;
  }
}
