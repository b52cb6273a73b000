// spec -- alloc, the pool allocator, driven through `alloc run`: reserves,
// activations and frees of handle blocks. Each OP is one region; after
// recovery the pool must keep its invariants and the live blocks must equal
// the reference list before or after the interrupted OP.

import { builtProgram } from '../../harness/_internals/paths';
import type { CheckedSpec, CheckInput } from '../../harness/check/spec';
import { handleViolations, liveHandles, poolViolations, readPool } from './pool';

/** Reserves that split clumps, activations that use all three pending
 *  assignments (previous tail's next, tail, handle slot), frees in the middle
 *  and at the ends of the list so that free clumps coalesce, and a reserve
 *  that reuses coalesced space. */
export const DEFAULT_OPS = ['r1:200', 'a1', 'r2:1000', 'a2', 'r3:100', 'a3', 'f2', 'f1', 'r4:1100', 'a4', 'f3'];

export type LiveBlocks = Array<[number, number]>;

/** referenceStates -- live [handle, size] after each OP, in list order. */
export function referenceStates(ops: string[]): LiveBlocks[] {
  const states: LiveBlocks[] = [[]];
  const reserved = new Map<number, number>();
  let live: LiveBlocks = [];
  for (const op of ops) {
    const handle = Number(/^[raf](\d+)/.exec(op)?.[1]);
    if (op.startsWith('r')) reserved.set(handle, Number(op.split(':')[1]));
    else if (op.startsWith('a')) live = [...live, [handle, reserved.get(handle) ?? 0]];
    else live = live.filter(([h]) => h !== handle);
    states.push(live);
  }
  return states;
}

/** options.program: path of the alloc binary to run (default: the built one;
 *  bench/bugs.ts points it at mutants). */
export function allocSpec(
  ops: string[] = DEFAULT_OPS,
  env: Record<string, string> = {},
  options: { program?: string } = {},
): CheckedSpec {
  const alloc = options.program ?? builtProgram('alloc');
  return {
    name: 'alloc',
    description: 'crash-safe pool allocator: reserve, activate with pending assignments, free, coalesce',
    expect: 'consistent',
    pmFiles: ['alloc.pm'],
    setup: [{ argv: [alloc, 'init', '{dir}/alloc.pm', '64K'] }],
    workload: { argv: [alloc, 'run', '{dir}/alloc.pm', ...ops] },
    states: referenceStates(ops),
    recover: [{ argv: [alloc, 'check', '{dir}/alloc.pm'] }],
    check: checkPool,
    env,
    // A reserved block's header (do_reserve, main.c) is persisted by the
    // activate that publishes the block, a later operation, or lost with
    // the block: meant not durable at the end of the reserve.
    allowNotDurable: ['main.c:222'],
  };
}

function checkPool({ files, allowed }: CheckInput): string[] {
  const pool = readPool(files[0]);
  const broken = [...poolViolations(pool), ...handleViolations(pool)];
  if (broken.length > 0) return broken;
  const live = JSON.stringify(liveHandles(pool));
  if (allowed.length === 0 || allowed.some((state) => JSON.stringify(state) === live)) return [];
  return [`atomicity: live blocks ${live} match neither the state before nor after the interrupted operation`];
}
