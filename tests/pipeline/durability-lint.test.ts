// durability-lint -- what the trace alone says about persistence: on
// hand-built event lists (each kind, clflush needing no fence, a line
// reported once per operation), and end to end on a program with a store
// planted that is never persisted (tests/fixtures/lint_unpersisted.c):
// the lint names its line, a warning by default and exit 1 with --strict.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { durabilityLint } from '../../harness/pipeline/durability-lint';
import type { Results } from '../../harness/results/schema';
import { EventKind, TraceEvent } from '../../harness/trace/event';
import { runPmfit } from '../helpers/run-pmfit';
import { fence, flush, store } from '../persistency/reference';
import { lintUnpersisted, lintUnpersistedOptions } from '../helpers/lint-unpersisted';

const at = (event: TraceEvent, address: number): TraceEvent => ({ ...event, address });

describe('durabilityLint on events', () => {
  const regions = [
    { begin: 0, end: 20 },
    { begin: 20, end: 40 },
  ];

  test('a store never flushed is not durable at the end of its operation, once per operation', () => {
    const hits = durabilityLint([at(store(2, 0, 0, [1]), 0x10), at(store(22, 0, 0, [2]), 0x10)], regions);
    expect(hits).toEqual([{ kind: 'not-durable', address: 0x10, index: 2, count: 2 }]);
  });

  test('clwb then sfence is durable; clwb alone is an unfenced flush; clflush needs no fence', () => {
    const hits = durabilityLint(
      [
        at(store(1, 0, 0, [1]), 0x10),
        at(flush(EventKind.Clwb, 2, 0, 0), 0x20),
        at(fence(3), 0x30),
        at(store(4, 0, 64, [1]), 0x11),
        at(flush(EventKind.Clwb, 5, 0, 64), 0x21),
        at(store(6, 0, 128, [1]), 0x12),
        at(flush(EventKind.Clflush, 7, 0, 128), 0x22),
      ],
      regions,
    );
    expect(hits).toEqual([{ kind: 'unfenced-flush', address: 0x11, index: 4, count: 1 }]);
  });

  test("threads in flight at once: a region's end blames its own thread's stores, a fence completes its own flushes", () => {
    const on = (thread: number, event: TraceEvent): TraceEvent => ({ ...event, thread });
    // thread 1's operation (0..30) is in flight while thread 2's (10..20)
    // runs whole: thread 2 persists its own store; thread 1 flushes but
    // never fences, and thread 2's fence does not complete thread 1's clwb
    const hits = durabilityLint(
      [
        on(1, at(store(5, 0, 0, [1]), 0x10)),
        on(1, at(flush(EventKind.Clwb, 6, 0, 0), 0x20)),
        on(2, at(store(12, 0, 64, [2]), 0x11)),
        on(2, at(flush(EventKind.Clwb, 13, 0, 64), 0x21)),
        on(2, at(fence(14), 0x30)),
        on(1, at(store(25, 0, 128, [3]), 0x12)),
      ],
      [
        { begin: 0, end: 30, thread: 1 },
        { begin: 10, end: 20, thread: 2 },
      ],
    );
    expect(hits).toEqual([
      { kind: 'not-durable', address: 0x12, index: 25, count: 1 },
      { kind: 'unfenced-flush', address: 0x10, index: 5, count: 1 },
    ]);
  });

  test('a flush with nothing new and a fence with nothing pending are noted; a locked instruction is not a fence here', () => {
    const hits = durabilityLint(
      [
        at(store(1, 0, 0, [1]), 0x10),
        at(flush(EventKind.Clflush, 2, 0, 0), 0x20),
        at(flush(EventKind.Clflush, 3, 0, 0), 0x21),
        at(fence(4), 0x30),
        at(fence(5), 0x31),
      ],
      regions,
      (address) => address === 0x30,
    );
    expect(hits).toEqual([
      { kind: 'redundant-flush', address: 0x21, index: 3, count: 1 },
      { kind: 'empty-fence', address: 0x30, index: 4, count: 1 },
    ]);
  });
});

describe('lint_unpersisted: a planted store never persisted', () => {
  const program = lintUnpersisted;
  const source = path.join(__dirname, '..', 'fixtures', 'lint_unpersisted.c');
  const planted =
    fs
      .readFileSync(source, 'utf8')
      .split('\n')
      .findIndex((line) => line.includes('/* PLANTED:')) + 1;
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-lint-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const allcounts = (extra: string[]) => runPmfit(['allcounts', ...extra, ...lintUnpersistedOptions], { cwd: dir });

  test('a warning naming the planted line, with its source; the run passes', () => {
    const run = allcounts([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('lint warning: store at lint_unpersisted.c:' + planted);
    expect(run.stdout).toContain(`${String(planted).padStart(5)} | \tlog[1] = value; /* PLANTED: never flushed */`);
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    const lint = results.targets[0].lint!;
    expect(
      lint.map((item) => [item.kind, item.severity, path.basename(item.site.file!), item.site.line, item.count]),
    ).toEqual([['not-durable', 'warning', 'lint_unpersisted.c', planted, 3]]);
  });

  test('--strict: the same store is an error and the run fails (exit 1)', () => {
    const run = allcounts(['--strict']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('lint error: store at lint_unpersisted.c:' + planted);
    expect(run.stdout).toContain('pmfit: stores not durable when their operation ended (durability lint, --strict)');
  });

  test('--strict --shard: the merged run fails as the unsharded one does', () => {
    for (const i of [1, 2]) {
      expect(allcounts(['--strict', '--shard', `${i}/2`]).code).toBe(0);
      fs.renameSync(path.join(dir, 'reports'), path.join(dir, `strict-${i}`));
    }
    const merged = runPmfit(['merge', 'strict-1', 'strict-2', '-o', 'merged'], { cwd: dir });
    expect(merged.code).toBe(1);
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'merged', 'results.json'), 'utf8')) as Results;
    expect(results.status).toBe('fail');
    expect(results.runs.every((run) => run.status === 'pass')).toBe(true);
    // A shard run without --strict is not a shard of the same run.
    expect(allcounts(['--shard', '2/2']).code).toBe(0);
    const mixed = runPmfit(['merge', 'strict-1', 'reports', '-o', 'mixed'], { cwd: dir });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/differ in --strict: they are not shards of one run/);
  });

  /** allcounts --strict on the fixture declared in a config file whose
   *  target allows `allow` (allowNotDurable). */
  const allowing = (allow: string[]) => {
    fs.writeFileSync(
      path.join(dir, 'pmfit.config.json'),
      JSON.stringify({
        targets: [
          {
            name: 'log',
            command: [program, 'append', '{file}', '3'],
            pm: 'log.pm',
            setup: `${program} init {file}`,
            recover: `${program} check {file}`,
            allowNotDurable: allow,
          },
        ],
      }),
    );
    const run = runPmfit(['allcounts', '--strict', '-o', 'reports'], { cwd: dir });
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    return { run, lint: results.targets[0].lint! };
  };

  test.each([['lint_unpersisted.c:LINE'], ['fixtures/lint_unpersisted.c:LINE'], ['main']])(
    'allowNotDurable %s: the planted store is a note, and --strict passes',
    (entry) => {
      const allowed = entry.replace('LINE', String(planted));
      const { run, lint } = allowing([allowed]);
      expect(run.code).toBe(0);
      expect(run.stdout).not.toContain('lint error');
      expect(run.stdout).not.toContain('lint warning');
      expect(lint.map((item) => [item.kind, item.severity, item.site.line, item.allowed])).toEqual([
        ['not-durable', 'note', planted, allowed],
      ]);
      expect(lint[0].title).toContain(`(allowed: ${allowed})`);
    },
  );

  test('allowNotDurable naming other sites: the planted store still fails --strict', () => {
    const { run, lint } = allowing([`lint_unpersisted.c:${planted + 1}`, `other.c:${planted}`, 'append_other']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('lint error: store at lint_unpersisted.c:' + planted);
    expect(lint.map((item) => [item.severity, item.allowed])).toEqual([['warning', undefined]]);
  });
});

describe('built-in alloc: the reserved block header it persists in a later operation', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-lint-alloc-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('is allowed by its spec (a note, not a warning): --strict passes', () => {
    const run = runPmfit(['allcounts', '--target', 'alloc', '--model', 'sequential', '--strict', '-o', 'reports'], {
      cwd: dir,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('lint error');
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    const lint = results.targets[0].lint!;
    expect(lint.filter((item) => item.severity === 'warning')).toEqual([]);
    const header = lint.find((item) => item.kind === 'not-durable')!;
    expect([path.basename(header.site.file!), header.site.line, header.allowed]).toEqual(['main.c', 222, 'main.c:222']);
    expect(header.site.excerpt?.[1].text).toContain('b->tag = TAG_BASE | op->handle;');
  });
});
