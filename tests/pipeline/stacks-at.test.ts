// stacks-at -- call stacks at the sites findings and lint name, unwound by
// libdw in one more run of the workload: a store libpmemobj makes through
// libc's memmove is shown at the program's line that called libpmemobj,
// under the exact and the fast recorder alike,
// with the libpmemobj frame in its stack; tree_broken's memmove store at
// its memcpy call; the lint's planted store with its stack; and without
// libdw, one line saying so and the rest of the run as before.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTarget, TargetOutcome } from '../../harness/pipeline/run-target';
import { resolveOptions } from '../../harness/persistency/model';
import type { FindingSite, Results } from '../../harness/results/schema';
import { UNWIND_LIBRARY_ENV } from '../../harness/tracer/unwinding';
import { treeSpec } from '../../targets/tree/spec';
import { txmapSpec } from '../../targets/txmap/spec';
import { requireDebianPackage } from '../helpers/debian-package';
import { runPmfit } from '../helpers/run-pmfit';
import { lintUnpersistedOptions } from '../helpers/lint-unpersisted';

const ROOT = path.join(__dirname, '..', '..');
const LIBDW = '/usr/lib/x86_64-linux-gnu/libdw.so.1';

beforeAll(() => requireDebianPackage('libdw1', LIBDW), 15 * 60_000);

const base = (file: string | undefined) => (file ? path.basename(file) : undefined);
const isSystem = (module: string | undefined) => /^\/(usr\/)?lib/.test(module ?? '');

/** Every site of every finding of every run. */
function findingSites(outcome: TargetOutcome): FindingSite[] {
  return outcome.runs.flatMap((run) => (run.findings ?? []).flatMap((finding) => finding.sites));
}

/** The line of `file` holding `text`. */
function lineOf(file: string, text: string): number {
  const at = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(text));
  if (at < 0) throw new Error(`${file} has no line with ${text}`);
  return at + 1;
}

// Under both recorders: a fast trace's crash points are met by recording
// again with the fast recorder (pipeline/_internals/replay-workload.ts).
describe.each([
  ['exact', false],
  ['fast', true],
])('txmap_broken_noadd (libpmemobj), %s recorder: sites inside the library', (_recorder, fast) => {
  const TXMAP_C = path.join(ROOT, 'targets', 'txmap', 'txmap.c');
  let outcome: TargetOutcome;
  beforeAll(async () => {
    const spec = txmapSpec(['1=10', '9=90'], { program: 'txmap_broken_noadd' });
    if (!fs.existsSync(spec.workload.argv[0])) throw new Error(`txmap_broken_noadd is not built: ${spec.requires}`);
    outcome = await runTarget({
      spec,
      models: ['flushed'],
      modelOptions: resolveOptions(),
      jobs: 2,
      timeoutMs: 60_000,
      fast,
    });
  }, 600_000);

  it('unwinds every site named', () => {
    expect(outcome.target.stacks).toMatchObject({ kind: 'unwound' });
    const stacks = outcome.target.stacks as { sites: number; unwound: number };
    expect(stacks.unwound).toBe(stacks.sites);
    expect(stacks.sites).toBeGreaterThan(0);
  });

  it('a store made inside libpmemobj or libc is located at the txmap.c line that called libpmemobj', () => {
    const inside = findingSites(outcome).filter((site) => isSystem(site.module));
    expect(inside.length).toBeGreaterThan(0);
    for (const site of inside) {
      expect(base(site.file)).toBe('txmap.c');
      const stack = site.stack!;
      // the stack runs from the instruction, through libpmemobj, to the own frame
      expect(stack[0].address).toBe(site.address);
      const own = stack[site.frame!];
      expect([base(own.file), own.line]).toEqual(['txmap.c', site.line]);
      expect(stack.slice(0, site.frame).some((frame) => /libpmemobj\.so/.test(frame.module ?? ''))).toBe(true);
      expect(stack.slice(0, site.frame).every((frame) => isSystem(frame.module))).toBe(true);
    }
    // each at a line that calls libpmemobj (TX_BEGIN, TX_NEW, TX_ADD_FIELD, TX_END)
    const source = fs.readFileSync(TXMAP_C, 'utf8').split('\n');
    for (const site of inside) expect(source[site.line! - 1]).toMatch(/\bTX_[A-Z_]+|pmemobj_/);
  });

  it("each violation group's interrupted instruction has its stack, located at txmap.c as a finding's site", () => {
    const groups = outcome.runs[0].groups.filter((group) => group.violation);
    expect(groups.length).toBeGreaterThan(0);
    const source = fs.readFileSync(TXMAP_C, 'utf8').split('\n');
    let inside = 0;
    for (const group of groups) {
      const next = group.example.next!;
      const stack = next.stack!;
      expect(stack[0].address).toBe(next.address);
      const own = stack[next.frame!];
      expect([base(own.file), own.line]).toEqual(['txmap.c', next.line]);
      expect(base(next.file)).toBe('txmap.c');
      if (!isSystem(next.module)) continue;
      // interrupted inside libc or libpmem: shown at the txmap.c line that called libpmemobj
      inside++;
      expect(next.frame).toBeGreaterThan(0);
      expect(stack.slice(0, next.frame).every((frame) => isSystem(frame.module))).toBe(true);
      expect(source[next.line! - 1]).toMatch(/\bTX_[A-Z_]+|pmemobj_/);
    }
    expect(inside).toBeGreaterThan(0);
  });

  it("the lint's notes inside libpmemobj stay notes, now at the program's line", () => {
    const notes = outcome.target.lint!.filter((item) => isSystem(item.site.module));
    expect(notes.length).toBeGreaterThan(0);
    for (const item of notes) {
      expect(item.severity).toBe('note');
      expect(base(item.site.file)).toBe('txmap.c');
    }
  });
});

describe.each([
  ['exact', false],
  ['fast', true],
])('tree_broken, 40 words, %s recorder: the finding with its stack', (_recorder, fast) => {
  const TREE_C = path.join(ROOT, 'targets', 'tree', 'tree.c');
  let outcome: TargetOutcome;
  beforeAll(async () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`);
    const spec = treeSpec(words, { program: 'tree_broken' });
    outcome = await runTarget({
      spec,
      models: ['px86'],
      modelOptions: resolveOptions(),
      jobs: 2,
      timeoutMs: 60_000,
      fast,
    });
  }, 300_000);

  it('the culprit (the early link) has its stack: insert, then main', () => {
    const [finding] = outcome.runs[0].findings!;
    const culprit = finding.sites[0];
    const link = lineOf(TREE_C, '*(volatile uint64_t *)alloc_at(pool, parentp) = n;');
    expect([base(culprit.file), culprit.line]).toEqual(['tree.c', link]);
    const stack = culprit.stack!;
    expect(culprit.frame).toBe(0);
    expect(stack[0]).toMatchObject({ address: culprit.address, line: link });
    expect(stack.some((frame) => /^main\+/.test(frame.symbol ?? ''))).toBe(true);
  });

  it("each violation group's interrupted instruction has its stack, from insert to main", () => {
    const groups = outcome.runs[0].groups.filter((group) => group.violation && group.example.next);
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) {
      const next = group.example.next!;
      const stack = next.stack!;
      expect(stack[0].address).toBe(next.address);
      expect([base(next.file), next.line]).toEqual(['tree.c', stack[next.frame!].line]);
      expect(stack.some((frame) => /^main\+/.test(frame.symbol ?? ''))).toBe(true);
    }
  });

  it("a store inside libc's memmove is located at tree.c's memcpy call", () => {
    const copies = findingSites(outcome).filter((site) => /libc\.so/.test(site.module ?? ''));
    expect(copies.length).toBeGreaterThan(0);
    for (const site of copies) {
      expect(base(site.file)).toBe('tree.c');
      expect(site.frame).toBeGreaterThan(0);
      expect(fs.readFileSync(TREE_C, 'utf8').split('\n')[site.line! - 1]).toMatch(/mem(cpy|move|set)/);
    }
  });
});

describe('lint_unpersisted through the CLI', () => {
  const source = path.join(ROOT, 'tests', 'fixtures', 'lint_unpersisted.c');
  const planted = lineOf(source, '/* PLANTED:');
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-stacks-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const allcounts = (env: NodeJS.ProcessEnv = {}) => {
    const run = runPmfit(['allcounts', ...lintUnpersistedOptions], { cwd: dir, env });
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    return { run, results };
  };

  test("the planted store's warning has its stack: append, called from main", () => {
    const { run, results } = allcounts();
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('call stacks not unwound');
    const [warning] = results.targets[0].lint!;
    expect([base(warning.site.file), warning.site.line]).toEqual(['lint_unpersisted.c', planted]);
    const stack = warning.site.stack!;
    expect(stack[warning.site.frame!].line).toBe(planted);
    expect(stack.some((frame) => /^main\+/.test(frame.symbol ?? ''))).toBe(true);
    expect(run.stdout).toMatch(/ {2}stack: \S+ lint_unpersisted\.c:\d+ <- /);
  });

  test('without libdw: one line saying so, how to get it, and the same warning at the same line', () => {
    const { run, results } = allcounts({ [UNWIND_LIBRARY_ENV]: path.join(dir, 'no-libdw.so') });
    expect(run.code).toBe(0);
    const lines = run.stderr.split('\n').filter((line) => line.includes('call stacks not unwound'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^pmfit: call stacks not unwound: .*no-libdw\.so.*apt-get install libdw1\)$/);
    expect(results.targets[0].stacks).toMatchObject({ kind: 'unavailable' });
    const [warning] = results.targets[0].lint!;
    expect([warning.severity, base(warning.site.file), warning.site.line]).toEqual([
      'warning',
      'lint_unpersisted.c',
      planted,
    ]);
    expect(warning.site.stack).toBeUndefined();
    expect(run.stdout).not.toContain('stack:');
  });
});
