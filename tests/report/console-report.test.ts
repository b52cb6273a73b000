// console-report -- the terminal form of a run: px86's overlapping ranges
// explained once above the groups, and each violation's reproduce line.

import { formatLint, formatRun, formatStacksUnavailable, formatSummary } from '../../harness/report/console-report';
import type { LintFinding, OutcomeGroup, RunResult, TargetRecord } from '../../harness/results/schema';
import { finding, loadFixture } from './fixture';

function group(id: string, crashPoints: string, violation: boolean): OutcomeGroup {
  return {
    id,
    kind: violation ? 'invariant' : 'ok',
    violation,
    crashPoints,
    count: 1,
    images: 1,
    failed: violation ? ['torn'] : [],
    recoveryOutput: '',
    example: {
      k: Number(crashPoints.split(/[-,]/)[0]),
      hash: '0'.repeat(32),
      reproduce: `pmfit reproduce reports/results.json ${id}`,
    },
  };
}

function run(model: RunResult['model'], groups: OutcomeGroup[]): RunResult {
  return {
    target: 't',
    model,
    expect: 'consistent',
    instructions: 20,
    crashPoints: 21,
    states: 40,
    distinctImages: 3,
    violations: 2,
    seconds: 0.1,
    status: 'fail',
    groups,
  };
}

const NOTE =
  /leaves several images per crash point \(40 states in all\): a crash point is listed under each outcome one of its images has, so ranges overlap/;

describe('formatRun', () => {
  it('explains overlapping ranges, and names the reproduce line of each violation only', () => {
    const text = formatRun(run('px86', [group('t-px86-1', '0-20', false), group('t-px86-2', '5-6,9', true)]));
    expect(text).toMatch(NOTE);
    expect(text.split('\n')).toContain('  reproduce: pmfit reproduce reports/results.json t-px86-2');
    expect(text).not.toContain('t-px86-1');
  });

  it('says nothing of overlaps when the ranges do not meet', () => {
    const text = formatRun(run('px86', [group('a', '0-4,7-20', false), group('b', '5-6', true)]));
    expect(text).not.toMatch(NOTE);
  });
});

describe('formatRun with findings', () => {
  it('prints the findings in place of the violation groups, at most 3, with source lines', () => {
    const groups = [
      group('t-px86-1', '0-3', false),
      ...Array.from({ length: 40 }, (_, i) => group(`v${i}`, `${4 + i}`, true)),
    ];
    const result = {
      ...run('px86', groups),
      findings: [1, 2, 3, 4, 5].map((i) => finding(`t-px86-f${i}`, '/src/tree.c', 250 + i)),
    };
    const text = formatRun(result);
    const lines = text.split('\n');
    expect(text).not.toContain('v0');
    expect(lines).toContain('40 violation groups (2 crash points), by cause: 5 findings');
    expect(text).toContain('finding t-px86-f1 (ordering; 4 images at 32 crash points)');
    // the own frame's function, and the stack from the instruction to one caller past it
    expect(lines).toContain('  at /src/tree.c:251 (btree_link)');
    expect(lines).toContain('  stack: btree_link tree.c:251 <- btree_insert tree.c:291');
    expect(lines).toContain('      251 | \tparent->child[i] = node; /* <b>&</b> */');
    expect(lines).toContain('  reproduce: pmfit reproduce reports/results.json t-px86-f3');
    expect(text).not.toContain('t-px86-f4');
    expect(lines[lines.length - 1]).toBe('  2 more findings in the report');
    expect(lines.length).toBeLessThan(30);
  });
});

describe('formatStacksUnavailable', () => {
  const target = (stacks: TargetRecord['stacks']): TargetRecord => ({
    name: 't',
    description: '',
    expect: 'consistent',
    command: ['t'],
    pmFiles: ['t.pm'],
    instructions: 1,
    events: 1,
    regions: 1,
    recordSeconds: 0,
    ...(stacks ? { stacks } : {}),
  });

  it('says once why stacks are missing, with the way to get them', () => {
    const why =
      "libdw.so.1: cannot open shared object file; install elfutils' libdw (Debian and Ubuntu: apt-get install libdw1)";
    const text = formatStacksUnavailable([
      target({ kind: 'unavailable', why }),
      target({ kind: 'unavailable', why }),
      target(undefined),
    ]);
    expect(text).toBe(`pmfit: call stacks not unwound: ${why}\n`);
  });

  it('says nothing when stacks were unwound or not needed', () => {
    expect(
      formatStacksUnavailable([target({ kind: 'unwound', sites: 3, unwound: 3, seconds: 0.1 }), target(undefined)]),
    ).toBe('');
  });
});

describe('a --fast recording', () => {
  it("counts the fast recorder's steps, not instructions, in the run's title and the summary", () => {
    const groups = [group('a', '0-20', false)];
    expect(formatRun(run('sequential', groups), undefined, 'fast').split('\n')[0]).toBe(
      '== t / sequential: 20 steps of the fast recorder, 21 crash points, 3 distinct images, 2 violating crash points',
    );
    expect(formatRun(run('sequential', groups)).split('\n')[0]).toMatch(/^== t \/ sequential: 20 instructions, /);

    const results = loadFixture();
    const [fast, ...exact] = results.targets;
    fast.recorder = 'fast';
    const rows = formatSummary(results).split('\n');
    for (const r of results.runs) {
      const row = rows.find((line) => line.startsWith(`${r.target} `) && line.includes(` ${r.model} `));
      expect(row).toContain(r.target === fast.name ? ` ${r.instructions} steps ` : ` ${r.instructions} `);
      if (r.target !== fast.name) expect(row).not.toContain('steps');
    }
    expect(exact.length).toBeGreaterThan(0);
    expect(results.runs.some((r) => r.target === fast.name)).toBe(true);
  });

  it('says when px86 ran with --merge-versions, and only then', () => {
    const results = loadFixture();
    expect(results.options.models).toContain('px86');
    expect(formatSummary(results)).not.toContain('merge-versions');
    results.options.mergeVersions = true;
    expect(formatSummary(results).split('\n')).toContain(
      'px86 ran with --merge-versions: images a real crash can leave were not checked (docs/models.md, "Version merge")',
    );
    // px86 ran for a target of its own models only: said all the same.
    results.options.models = ['flushed'];
    expect(formatSummary(results)).toContain('px86 ran with --merge-versions');
    results.runs = results.runs.filter((run) => run.model !== 'px86');
    expect(formatSummary(results)).not.toContain('merge-versions');
  });
});

describe('formatLint', () => {
  const item = (id: string, severity: LintFinding['severity']): LintFinding => ({
    id,
    kind: severity === 'warning' ? 'not-durable' : 'empty-fence',
    severity,
    title: `${id} title`,
    site: { role: 'store', address: '0x401000', index: 7, file: '/src/bank.c', line: 86 },
    count: 1,
  });

  it("names its target: it is printed between the previous target's runs and its own", () => {
    const lines = formatLint('bank-bug', [item('w', 'warning'), item('n1', 'note'), item('n2', 'note')], false).split(
      '\n',
    );
    expect(lines.slice(0, 3)).toEqual([
      '== bank-bug: durability lint, 1 warning, 2 notes',
      'lint warning: w title',
      '  at /src/bank.c:86',
    ]);
    expect(lines).toContain(
      '2 lint notes (redundant flushes, empty fences, library stores, allowed stores) in the report',
    );
    expect(formatLint('bank', [], false)).toBe('');
  });
});
