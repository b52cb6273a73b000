// fuzz -- the alloc target for `pmfit fuzz` (harness/fuzz/fuzz-target.ts):
// sequences of `alloc run` invocations.
//
// One operation is one `alloc run FILE OP...` invocation, written
// {"run": ["r0:200", "a0", "f3"]}; each OP is one region. A reservation
// (rH:SIZE) lives only until the end of its invocation (targets/alloc/main.c),
// so an activation (aH) is always in the same operation as its rH; an
// operation may also reserve a block and never activate it, which recovery at
// the next open must give back. Frees (fH) take live blocks, activated by an
// earlier operation or earlier in the same one.
//
// Generation is in two steps so that every shrunk sequence is still valid:
// fast-check generates abstract steps (reserve SIZE and activate it at once,
// reserve only, activate the i-th pending reservation, free the i-th live
// block), and `resolve` turns them into OPs, with handles numbered afresh
// (never reused, so a handle's OP is valid whatever an interrupted operation
// did) and dropping the steps that cannot be done (nothing to activate or
// free, handles used up, no sure room).
//
// Room: the pool is 64 KiB, 49088 bytes of clumps. A request of SIZE takes a
// clump of `need` = SIZE (at least 32) rounded up to 64, plus a 64-byte
// header, and possibly one more chunk (a split leaves no one-chunk
// remainder). Free clumps are always coalesced, so n allocated clumps leave at
// most n + 1 free ones; a reservation is sure to succeed when the free bytes
// are at least (n + 1) × need. The model counts an OP whose reservation is
// not sure as invalid: generated sequences never fail for lack of room.
//
// Model state: every OP done so far, in order; the live blocks come from the
// spec's reference model (referenceStates).

import * as fc from 'fast-check';
import { builtProgram } from '../../harness/_internals/paths';
import type { FuzzTarget } from '../../harness/fuzz/fuzz-target';
import { BLOCK_MIN, CHUNK, HEAP_OFF, NHANDLES } from './pool';
import { allocSpec, LiveBlocks, referenceStates } from './spec';

export interface AllocOp {
  /** The OPs of one `alloc run` invocation. */
  run: string[];
}

export interface AllocState {
  /** Every OP done so far, across invocations. */
  history: string[];
}

/** The pool size of the fuzz setup (allocSpec's `alloc init FILE 64K`). */
const FUZZ_POOL_SIZE = 64 * 1024;
const HEAP_BYTES = FUZZ_POOL_SIZE - HEAP_OFF - CHUNK;
const MAX_REQUEST = 4000;
const MAX_STEPS = 4;

/** need -- the clump bytes alloc_reserve looks for. */
function need(size: number): number {
  return Math.ceil(Math.max(size, BLOCK_MIN) / CHUNK) * CHUNK + CHUNK;
}

/** surelyFits -- can a reservation of SIZE not fail, with these requests allocated? */
export function surelyFits(allocated: readonly number[], size: number): boolean {
  const used = allocated.reduce((sum, s) => sum + need(s) + CHUNK, 0);
  return HEAP_BYTES - used >= (allocated.length + 1) * need(size);
}

type Step =
  | { kind: 'reserve'; size: number; activate: boolean }
  | { kind: 'activate'; pick: number }
  | { kind: 'free'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      size: fc.integer({ min: 1, max: MAX_REQUEST }),
      activate: fc.constant(true),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      size: fc.integer({ min: 1, max: MAX_REQUEST }),
      activate: fc.constant(false),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('activate' as const), pick: fc.nat(7) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat(7) }), weight: 3 },
);

/** resolve -- OPs from abstract steps: fresh handles, impossible steps dropped. */
function resolve(invocations: Step[][]): AllocOp[] {
  const live: Array<[number, number]> = [];
  let next = 0;
  const out: AllocOp[] = [];
  for (const steps of invocations) {
    const pending: Array<[number, number]> = [];
    const run: string[] = [];
    for (const s of steps) {
      if (s.kind === 'reserve') {
        const allocated = [...live, ...pending].map(([, size]) => size);
        if (next >= NHANDLES || !surelyFits(allocated, s.size)) continue;
        const h = next++;
        run.push(`r${h}:${s.size}`);
        if (s.activate) {
          run.push(`a${h}`);
          live.push([h, s.size]);
        } else pending.push([h, s.size]);
      } else if (s.kind === 'activate') {
        if (pending.length === 0) continue;
        const [block] = pending.splice(s.pick % pending.length, 1);
        run.push(`a${block[0]}`);
        live.push(block);
      } else {
        if (live.length === 0) continue;
        const [[h]] = live.splice(s.pick % live.length, 1);
        run.push(`f${h}`);
      }
    }
    if (run.length > 0) out.push({ run });
  }
  return out;
}

/** allocOps -- sequences of 1..maxOps `alloc run` invocations of 1..4 OPs each. */
export function allocOps(maxOps: number): fc.Arbitrary<AllocOp[]> {
  return fc
    .array(fc.array(step, { minLength: 1, maxLength: MAX_STEPS }), { minLength: 1, maxLength: Math.max(1, maxOps) })
    .map(resolve)
    .filter((ops) => ops.length > 0);
}

const OP_PATTERN = /^(?:r(\d+):(\d+)|([af])(\d+))$/;

/** validRun -- can the OPs of one invocation all be done, starting from LIVE? */
function validRun(live: LiveBlocks, run: readonly string[]): boolean {
  const blocks = new Map(live);
  const reserved = new Map<number, number>();
  for (const text of run) {
    const m = OP_PATTERN.exec(text);
    if (!m) return false;
    if (m[1] !== undefined) {
      const h = Number(m[1]);
      const size = Number(m[2]);
      if (h >= NHANDLES || blocks.has(h) || reserved.has(h) || size < 1) return false;
      if (!surelyFits([...blocks.values(), ...reserved.values()], size)) return false;
      reserved.set(h, size);
    } else {
      const h = Number(m[4]);
      if (m[3] === 'a') {
        const size = reserved.get(h);
        if (size === undefined) return false;
        reserved.delete(h);
        blocks.set(h, size);
      } else if (!blocks.delete(h)) return false;
    }
  }
  return true;
}

function current(state: AllocState): LiveBlocks {
  const states = referenceStates(state.history);
  return states[states.length - 1];
}

/** allocFuzz -- the fuzz target of the alloc program. */
export function allocFuzz(): FuzzTarget<AllocOp, AllocState> {
  const alloc = builtProgram('alloc');
  return {
    name: 'alloc',
    baseSpec: (env) => allocSpec([], env),
    ops: allocOps,
    joins: () => false,
    command: (ops) => ({ argv: [alloc, 'run', '{dir}/alloc.pm', ...ops.flatMap((op) => op.run)] }),
    initial: () => ({ history: [] }),
    apply(state, op) {
      if (!validRun(current(state), op.run)) return undefined;
      return op.run.map((_, i) => ({ history: [...state.history, ...op.run.slice(0, i + 1)] }));
    },
    reference: current,
    showOp: (op) => `run ${op.run.join(' ')}`,
    parseOp(value) {
      const op = value as Partial<Record<string, unknown>> | null;
      if (
        op === null ||
        typeof op !== 'object' ||
        Object.keys(op).length !== 1 ||
        !Array.isArray(op.run) ||
        op.run.length === 0
      ) {
        throw new Error('an alloc operation is {"run": [OP, ...]} with at least one OP');
      }
      const run = op.run.map((text: unknown) => {
        if (typeof text !== 'string' || !OP_PATTERN.test(text))
          throw new Error(`bad alloc OP ${JSON.stringify(text)} (rH:SIZE, aH or fH)`);
        return text;
      });
      return { run };
    },
  };
}
