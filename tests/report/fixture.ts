// fixture -- the hand-written results.json of the report tests, and a large
// synthetic one (100,000 crash points per run, tens of thousands of ranges).

import * as fs from 'fs';
import * as path from 'path';
import type { BugTable } from '../../harness/report/html';
import type { Finding, OutcomeGroup, Results, RunResult } from '../../harness/results/schema';

export const fixturePath = path.join(__dirname, 'fixtures', 'results.json');

/** A fresh copy each call: tests may change it. */
export function loadFixture(): Results {
  return JSON.parse(fs.readFileSync(fixturePath, 'utf8')) as Results;
}

export function fixtureRun(results: Results, target: string, model: string): RunResult {
  const run = results.runs.find((r) => r.target === target && r.model === model);
  if (!run) throw new Error(`fixture has no run ${target} × ${model}`);
  return run;
}

/** Deterministic pseudo-random numbers (xorshift32). */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** syntheticLarge -- one run per model over `instructions` instructions;
 *  crash points alternate between outcomes in short stretches (1 to 3
 *  crash points), so every group has thousands of tiny ranges. */
export function syntheticLarge(instructions = 100_000): Results {
  const base = loadFixture();
  const models = base.options.models;
  const runs: RunResult[] = models.map((model, m) => {
    const random = prng(1234 + m);
    const kinds: { kind: OutcomeGroup['kind']; violation: boolean; weight: number }[] = [
      { kind: 'ok', violation: false, weight: 0.55 },
      { kind: 'invariant', violation: true, weight: 0.25 },
      { kind: 'invariant', violation: true, weight: 0.12 },
      { kind: 'recovery-timeout', violation: true, weight: 0.05 },
      { kind: 'recovery-crashed', violation: true, weight: 0.03 },
    ];
    const ranges: [number, number][][] = kinds.map(() => []);
    let k = 0;
    while (k <= instructions) {
      let r = random();
      let g = 0;
      while (g < kinds.length - 1 && r >= kinds[g].weight) {
        r -= kinds[g].weight;
        g++;
      }
      const length = 1 + Math.floor(random() * 3);
      const last = Math.min(instructions, k + length - 1);
      const list = ranges[g];
      if (list.length > 0 && list[list.length - 1][1] === k - 1) list[list.length - 1][1] = last;
      else list.push([k, last]);
      k = last + 1;
    }
    const groups: OutcomeGroup[] = kinds.map((kind, g) => {
      const list = ranges[g];
      const count = list.reduce((n, [a, b]) => n + b - a + 1, 0);
      return {
        id: `${model}-${g}`,
        kind: kind.kind,
        violation: kind.violation,
        crashPoints: list.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(','),
        count,
        images: Math.ceil(count / 3),
        failed: kind.kind === 'invariant' ? [`invariant ${g} holds`] : [],
        recoveryOutput: kind.violation ? `recovery output of group ${g}\n` : '',
        example: {
          k: list[0]?.[0] ?? 0,
          hash: `${g}`.repeat(16),
          next: {
            address: '0x401000',
            symbol: 'big_loop',
            text: 'mov qword ptr [rdi], rax',
            file: 'targets/big/big.c',
            line: 10 + g,
          },
          reproduce: `pmfit replay big --model ${model} --crash-point ${list[0]?.[0] ?? 0}`,
        },
      };
    });
    const violations = groups.filter((g) => g.violation).reduce((n, g) => n + g.count, 0);
    return {
      target: 'big',
      model,
      expect: 'consistent',
      instructions,
      crashPoints: instructions + 1,
      states: (instructions + 1) * 3,
      distinctImages: 40_000,
      violations,
      seconds: 600 + m,
      status: violations > 0 ? 'fail' : 'pass',
      groups,
    };
  });
  return {
    ...base,
    targets: [
      {
        name: 'big',
        description: 'synthetic',
        expect: 'consistent',
        command: ['big'],
        pmFiles: ['/tmp/big.pool'],
        instructions,
        events: 50_000,
        regions: 1,
        recordSeconds: 30,
      },
    ],
    runs,
    status: 'fail',
  };
}

/** finding -- a finding of the kind pmfit writes (docs/findings.md), at
 *  `file:line`, with a two-frame stack and a source excerpt. */
export function finding(id: string, file: string, line: number, images = 4): Finding {
  return {
    id,
    kind: 'ordering',
    title: `store at ${path.basename(file)}:${line} became durable before the earlier store at alloc.h:201`,
    sites: [
      {
        role: 'durable-first',
        address: '0x401a3c',
        module: '/work/main/build/btree',
        symbol: 'btree_link+0x1c',
        file,
        line,
        index: 1210,
        frame: 0,
        stack: [
          { address: '0x401a3c', symbol: 'btree_link+0x1c', file, line },
          { address: '0x401b80', symbol: 'btree_insert+0x40', file, line: line + 40 },
        ],
        excerpt: [
          { line: line - 1, text: '\t/* link the new node */' },
          { line, text: '\tparent->child[i] = node; /* <b>&</b> */' },
        ],
      },
      {
        role: 'not-yet-durable',
        address: '0x401a10',
        file: '/work/main/targets/btree/alloc.h',
        line: 201,
        index: 1200,
      },
    ],
    crashPoints: '1204-1219,1225-1240',
    count: 32,
    images,
    example: { k: 1211, hash: '9f2c4e1a7b3d5f60', reproduce: `pmfit reproduce reports/results.json ${id}` },
  };
}

/** withFindings -- the fixture with `count` findings on btree × px86, at
 *  lines 100, 101, ... of btree.c. */
export function withFindings(count: number): Results {
  const results = loadFixture();
  fixtureRun(results, 'btree', 'px86').findings = Array.from({ length: count }, (_, i) =>
    finding(`btree-px86-f${i + 1}`, '/work/main/targets/btree/btree.c', 100 + i, count - i),
  );
  return results;
}

/** bugTable -- a seeded-bug table (the HTML report's `bugs` extra) of three
 *  mutants: one killed under flushed and px86, one whose name needs escaping
 *  killed under px86 only, and one equivalent; rates 0, 1/2, 2/3. */
export function bugTable(): BugTable {
  return {
    mutants: [
      {
        name: 'btree-drop-flush',
        operator: 'drop-flush',
        results: { sequential: 'survived', flushed: 'killed', px86: 'killed' },
      },
      {
        name: 'log-<swap>-fence',
        operator: 'swap-fence',
        results: { sequential: 'survived', flushed: 'survived', px86: 'killed' },
      },
      {
        name: 'log-late-fence',
        operator: 'move-fence',
        results: { sequential: 'survived', flushed: 'survived', px86: 'survived' },
        equivalent: 'the fence moves past a store to DRAM',
      },
    ],
    rates: { sequential: 0, flushed: 0.5, px86: 2 / 3 },
  };
}

/** bugTableV2 -- bugTable() as bench:bugs writes it since version 2: per
 *  check (no window, window, depth 2) and model; btree-drop-flush killed
 *  at depth 1 (depth 2 not run under sequential, where no check killed it),
 *  log-<swap>-fence killed only at depth 2 under px86. */
export function bugTableV2(): BugTable {
  const table = bugTable();
  const [dropFlush, swapFence, lateFence] = table.mutants;
  dropFlush.columns = {
    'no-window': { sequential: 'survived', flushed: 'survived', px86: 'killed' },
    window: { sequential: 'survived', flushed: 'killed', px86: 'killed' },
    depth2: { sequential: 'not-run', flushed: 'depth-1', px86: 'depth-1' },
  };
  swapFence.columns = {
    'no-window': { sequential: 'survived', flushed: 'survived', px86: 'survived' },
    window: { sequential: 'survived', flushed: 'survived', px86: 'survived' },
    depth2: { sequential: 'survived', flushed: 'survived', px86: 'killed' },
  };
  lateFence.columns = {
    'no-window': { sequential: 'survived', flushed: 'survived', px86: 'survived' },
    window: { sequential: 'survived', flushed: 'survived', px86: 'survived' },
    depth2: { sequential: 'survived', flushed: 'survived', px86: 'survived' },
  };
  return {
    ...table,
    options: { columns: ['no-window', 'window', 'depth2'] },
    columnRates: {
      'no-window': { sequential: 0, flushed: 0, px86: 0.5 },
      window: { sequential: 0, flushed: 0.5, px86: 0.5 },
      depth2: { sequential: 0, flushed: 0.5, px86: 1 },
    },
    depth2NotRun: [{ scenario: 'log-create', why: 'its recovery is a shell line' }],
  };
}
