// scenarios -- the workloads the detection benchmark checks mutants with:
// the built-in targets' own specs (the allcounts workloads), pointed at a
// mutant binary and run in one flushing mode, plus those the classic bugs
// and pool creation need.

import { shellQuote } from '../../harness/_internals/shell-words';
import type { CheckedSpec, CheckInput } from '../../harness/check/spec';
import { readPool, SIGNATURE } from '../../targets/alloc/pool';
import { allocSpec, DEFAULT_OPS } from '../../targets/alloc/spec';
import { DEFAULT_WORDS, treeSpec } from '../../targets/tree/spec';
import type { PmemMode } from './operators';

export type ProgramName = 'alloc' | 'tree';

export interface Scenario {
  name: string;
  program: ProgramName;
  description: string;
  /** Can its recoveries be crashed (depth 2)? The tracer runs one program,
   *  not the shell line that creating() wraps recovery in. */
  depth2: boolean;
  /** Without depth 2: why, in the table's words. */
  noDepth2?: string;
  /** The spec, running PROGRAM (a path) with PMEM_MODE=MODE. */
  spec(program: string, mode: PmemMode): CheckedSpec;
}

/** Offset of the count of the first node of a fresh tree pool: the first
 *  clump's header is at 16384, its data (the node) at 16448, and the count
 *  16 bytes into the node (targets/tree/tree.c). A wrong offset would make
 *  the unmutated run of tree-carry fail its reference states, which the
 *  bench reports as a false positive. */
const FIRST_COUNT_OFFSET = 16384 + 64 + 16;

/** The smaller workloads the mutants run (see bugs.ts for why): two blocks
 *  reserved (each a split) and activated (three pending assignments each),
 *  then freed, the first with no free neighbour and the second coalescing
 *  with both; a new word at the root, one below it, and a count update as
 *  the last operation. */
export const SMALL_OPS = ['r1:100', 'a1', 'r2:100', 'a2', 'f1', 'f2'];
export const SMALL_WORDS = ['one', 'two', 'one'];

/** The reference state of a file that is not a pool yet: creation
 *  (alloc_create, one region) was interrupted before the signature was
 *  durable. */
export const NO_POOL = 'no pool';

/** creating -- BASE with pool creation as its first operation, in PROGRAM:
 *  a file without an intact signature is "no pool", allowed only up to the
 *  end of creation. Recovery runs only on a file that carries the signature,
 *  as an application that finds no pool would create it again (alloc_map
 *  rejects such a file). */
function creating(base: CheckedSpec, program: string): CheckedSpec {
  return {
    ...base,
    setup: [],
    states: [NO_POOL, ...base.states],
    recover: base.recover.map((command) => ({
      shell: `if grep -q -- ${shellQuote(SIGNATURE)} {file}; then ${command.argv ? command.argv.map(shellQuote).join(' ') : command.shell}; fi`,
      env: command.env,
    })),
    check: (input: CheckInput) => {
      if (readPool(input.files[0]).signatureOk)
        return base.check({ ...input, allowed: input.allowed.filter((state) => state !== NO_POOL) });
      if (input.allowed.includes(NO_POOL)) return [];
      return [`atomicity: ${program} reported the pool created, but the file has no intact signature after the crash`];
    },
  };
}

/** Why creating()'s scenarios have no depth 2. */
const CREATING_NO_DEPTH2 =
  'its recovery is a shell line (recover only a file with an intact signature, as an application that finds no pool creates it again), and depth 2 traces one program; its mutants run depth 2 in their first other scenario';

export const SCENARIOS: Scenario[] = [
  {
    name: 'alloc',
    program: 'alloc',
    description: `alloc run ${DEFAULT_OPS.join(' ')} (the allcounts workload)`,
    depth2: true,
    spec: (program, mode) => allocSpec(DEFAULT_OPS, { PMEM_MODE: mode }, { program }),
  },
  {
    name: 'tree',
    program: 'tree',
    description: `tree insert ${DEFAULT_WORDS.join(' ')} (the allcounts workload)`,
    depth2: true,
    spec: (program, mode) => treeSpec(DEFAULT_WORDS, { path: program, env: { PMEM_MODE: mode } }),
  },
  {
    name: 'alloc-small',
    program: 'alloc',
    description: `alloc run ${SMALL_OPS.join(' ')}`,
    depth2: true,
    spec: (program, mode) => ({ ...allocSpec(SMALL_OPS, { PMEM_MODE: mode }, { program }), name: 'alloc-small' }),
  },
  {
    name: 'tree-small',
    program: 'tree',
    description: `tree insert ${SMALL_WORDS.join(' ')}`,
    depth2: true,
    spec: (program, mode) => ({
      ...treeSpec(SMALL_WORDS, { path: program, env: { PMEM_MODE: mode } }),
      name: 'tree-small',
    }),
  },
  {
    name: 'alloc-create',
    program: 'alloc',
    description: 'alloc init: formatting a new pool (one region)',
    depth2: false,
    noDepth2: CREATING_NO_DEPTH2,
    spec: (program, mode) => {
      const base = allocSpec([], { PMEM_MODE: mode }, { program });
      return creating(
        { ...base, name: 'alloc-create', workload: { argv: [program, 'init', '{dir}/alloc.pm', '64K'] } },
        'alloc init',
      );
    },
  },
  {
    name: 'tree-create',
    program: 'tree',
    description:
      'tree insert into a FILE that does not exist yet (insert creates the pool, one region, before its inserts)',
    depth2: false,
    noDepth2: CREATING_NO_DEPTH2,
    spec: (program, mode) =>
      creating(
        { ...treeSpec(['one', 'two'], { path: program, env: { PMEM_MODE: mode } }), name: 'tree-create' },
        'tree insert',
      ),
  },
  {
    name: 'tree-carry',
    program: 'tree',
    description:
      'tree insert of a word whose count is 2^32 - 1 (set up untraced), so that the increment carries into the high half',
    depth2: true,
    spec: (program, mode) => {
      const base = treeSpec(['big'], { path: program, env: { PMEM_MODE: mode } });
      return {
        ...base,
        name: 'tree-carry',
        setup: [
          ...base.setup,
          { argv: [program, 'insert', '{dir}/tree.pm', 'big'] },
          {
            shell: `printf '\\377\\377\\377\\377' | dd of={dir}/tree.pm bs=1 seek=${FIRST_COUNT_OFFSET} conv=notrunc status=none`,
          },
        ],
        states: [{ big: 2 ** 32 - 1 }, { big: 2 ** 32 }],
      };
    },
  },
];

export function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`unknown scenario '${name}' (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  return found;
}
