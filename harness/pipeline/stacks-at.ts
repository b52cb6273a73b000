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
// no ASLR, the same thread schedule), so instruction i is the same
// instruction; each stop is checked against the address the trace has for
// it, and an instruction met elsewhere is left without a stack.

import * as fs from 'fs';
import { Interrupted } from '../_internals/interrupt';
import type { TargetSpec } from '../check/spec';
import type { TraceHeader } from '../trace/format';
import { Tracee } from '../tracer/tracee';
import { unwinding } from '../tracer/unwinding';
import { startReplay } from './_internals/replay-workload';
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
  const refused = stacksRefused(header);
  if (refused) return { kind: 'unavailable', why: refused };
  const started = Date.now();
  const byIndex = new Map<number, number>();
  for (const site of sites) byIndex.set(site.index, site.address);
  const stacks = new Map<number, RawFrame[]>();
  if (byIndex.size === 0) return { kind: 'unwound', stacks, sites: 0, seconds: 0 };
  const replay = await startReplay(spec, header, 'stacks', timeoutMs);
  if (replay.kind === 'failed') return { kind: 'unavailable', why: replay.why };
  const { tracee, work } = replay;
  try {
    for (const index of [...byIndex.keys()].sort((a, b) => a - b)) {
      const address = byIndex.get(index);
      // Crash point index - 1: the instruction is next. When index - 1
      // ends a region, the stop is at that region's end and the next
      // region's first instruction is one stop further.
      let end = await tracee.run({ stopAt: index - 1, timeoutMs });
      if (end.kind === 'stopAt' && end.address !== address && end.index === index - 1)
        end = await tracee.run({ stopAt: index - 1, timeoutMs });
      if (end.kind !== 'stopAt') break;
      if (end.address === address) {
        const stack = unwindHere(tracee);
        if (stack) stacks.set(index, stack);
      }
    }
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    // A run that goes otherwise than recorded gives the stacks it reached;
    // the rest of the sites are shown without one.
  } finally {
    tracee.kill();
    await fs.promises.rm(work, { recursive: true, force: true });
  }
  return { kind: 'unwound', stacks, sites: byIndex.size, seconds: (Date.now() - started) / 1000 };
}

/** stacksRefused -- why no stack can be had for this trace's instructions
 *  (no libdw, or a trace an exact replay does not meet), or undefined.
 *  Also asked by explain-groups, which unwinds in its own replay. */
export function stacksRefused(header: TraceHeader): string | undefined {
  const available = unwinding();
  if (available.kind === 'unavailable') return available.why;
  // Its indices count the fast recorder's single steps, which only the
  // fast recorder's own run reproduces.
  if (header.recorder === 'fast')
    return 'the trace was recorded with --fast, whose instruction indices an exact run does not meet; record without --fast for stacks';
  return undefined;
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
