// threads -- multithreaded programs under the tracer (native/threads.cc):
// every thread is traced, one runs at a time in an interleaving fixed by the
// schedule seed, and a crash point replays that interleaving.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';
import { builtProgram } from '../../harness/_internals/paths';
import { recordTrace } from '../../harness/record/record';
import { resolveCommand } from '../../harness/tracer/resolve-command';
import { Tracee } from '../../harness/tracer/tracee';

const leftovers = useLeftovers();

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-threads-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fresh zeroed PM file for the fixture. */
function freshPm(): string {
  const pm = path.join(dir, 'pm.bin');
  fs.writeFileSync(pm, Buffer.alloc(4096));
  return pm;
}

interface ShownEvent {
  index: number;
  kind: string;
  offset: number;
  length: number;
  /** Present in the traces of several threads. */
  thread?: number;
}

/** record -- the fixture's trace as JSON events, and its header. */
function record(mode: string, seed: number): { events: ShownEvent[]; trace: string } {
  const pm = freshPm();
  const trace = path.join(dir, `${mode}-${seed}.trace`);
  const recorded = runPmfit(
    ['record', '--exact', '--schedule-seed', String(seed), '--pm', pm, '-o', trace, '--', fixture('threads'), mode, pm],
    { env: leftovers.current().env },
  );
  expect({ code: recorded.code, stderr: recorded.stderr }).toEqual({
    code: 0,
    stderr: expect.stringMatching(/^pmfit: recorded \d+ instructions/),
  });
  const shown = runPmfit(['trace', 'show', '--json', trace]);
  expect(shown.code).toBe(0);
  return { events: (JSON.parse(shown.stdout) as { events: ShownEvent[] }).events, trace };
}

function count(mode: string, seed: number): number {
  const result = runPmfit(
    ['count', '--json', '--schedule-seed', String(seed), '--', fixture('threads'), mode, freshPm()],
    {
      env: leftovers.current().env,
    },
  );
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return (JSON.parse(result.stdout) as { instructions: number }).instructions;
}

describe('threads of a traced program', () => {
  it.each([
    // thread i stores to line i: main 0, the workers 1 and 2
    ['before', { 0: [0], 1: [64], 2: [128] }, 7],
    ['inside', { 0: [0], 1: [64] }, 3],
    ['exit', { 0: [0], 1: [64] }, 2],
    ['idle', { 0: [0] }, 3],
  ])('%s: each store is named with its thread; counts repeat', (mode, lines, stores) => {
    const { events } = record(mode, 0);
    const seen: Record<number, number[]> = {};
    for (const event of events.filter((e) => e.kind === 'store')) {
      const thread = event.thread ?? 0;
      seen[thread] = [...new Set([...(seen[thread] ?? []), event.offset])];
    }
    expect(seen).toEqual(lines);
    expect(events.filter((e) => e.kind === 'store')).toHaveLength(stores);
    expect(count(mode, 0)).toBe(count(mode, 0));
  });

  it('seeds give different interleavings of the same operations', () => {
    const orders = new Set<string>();
    for (const seed of [0, 1, 2, 3]) {
      const { events } = record('before', seed);
      const stores = events.filter((e) => e.kind === 'store');
      expect(stores).toHaveLength(7);
      orders.add(stores.map((e) => e.thread ?? 0).join(''));
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('a crash point replays the recorded interleaving', () => {
    const seed = 2;
    const { events, trace } = record('before', seed);
    expect(fs.existsSync(trace)).toBe(true);
    const last = Math.max(...events.map((e) => e.index));
    for (let k = 1; k <= last; k += 3) {
      const pm = freshPm();
      const crashed = runPmfit(
        ['crash', String(k), '--schedule-seed', String(seed), '--', fixture('threads'), 'before', pm],
        { env: leftovers.current().env },
      );
      expect({ k, code: crashed.code, stderr: crashed.stderr }).toEqual({ k, code: 0, stderr: '' });
      // every store at or before k is in the file, none after it
      const content = fs.readFileSync(pm);
      for (const line of [0, 64, 128]) {
        const stores = events.filter((e) => e.kind === 'store' && e.offset === line && e.index <= k);
        const expected = stores.length === 0 ? 0n : BigInt(storedValue(stores.length, line));
        expect({ k, line, value: content.readBigUInt64LE(line) }).toEqual({ k, line, value: expected });
      }
    }
  });
});

describe('a main thread that ends while the others go on', () => {
  it.each([
    ['mainexit', 'pthread_exit outside regions'],
    ['mainexitin', 'the exit system call inside a region'],
  ])('%s (%s): refused in one line, exit 2, nothing left', (mode) => {
    for (const command of [['record', '-o', path.join(dir, `${mode}.trace`)], ['count']]) {
      const pm = freshPm();
      const options = command[0] === 'record' ? ['--pm', pm] : [];
      const run = runPmfit([...command, ...options, '--', fixture('threads'), mode, pm], {
        env: leftovers.current().env,
        timeoutMs: 60_000,
      });
      expect({ code: run.code, stderr: run.stderr }).toEqual({
        code: 2,
        stderr: expect.stringMatching(
          /^pmfit: \S+'s main thread ended alone \(pthread_exit or the exit system call at 0x[0-9a-f]+\) while its other threads go on: not supported; join them and return from main, or call exit\(\)\n$/,
        ),
      });
      expect(fs.existsSync(path.join(dir, `${mode}.trace`))).toBe(false);
    }
  });
});

describe('operations of two threads in flight at once', () => {
  /** allcounts on a program of ours: exit code, stderr and results.json. */
  function allcounts(command: string, pm: string, setup: string, recover: string, extra: string[]) {
    const run = runPmfit(
      ['allcounts', '--cmd', command, '--pm', pm, '--setup', setup, '--recover', recover, ...extra, '-o', 'reports'],
      { cwd: dir, env: leftovers.current().env, timeoutMs: 180_000 },
    );
    const file = path.join(dir, 'reports', 'results.json');
    const results = fs.existsSync(file)
      ? (JSON.parse(fs.readFileSync(file, 'utf8')) as {
          incomplete: boolean;
          runs: { target: string; model: string; status: string; findings?: { kind: string }[] }[];
          targets: { lint: { kind: string; severity: string; title: string }[] }[];
        })
      : undefined;
    return { code: run.code, stderr: run.stderr, results };
  }

  /** The statuses of the runs, as "TARGET MODEL STATUS". */
  const statuses = (results: { runs: { target: string; model: string; status: string }[] } | undefined) =>
    (results?.runs ?? []).map((run) => `${run.target} ${run.model} ${run.status}`);

  it("a worker region inside main's region (threads inside): checked, each in flight applied or not", () => {
    const run = allcounts(
      `${fixture('threads')} inside pm.bin`,
      'pm.bin',
      'truncate -s 4096 {file}',
      'test -s {file}',
      [],
    );
    expect({ code: run.code, stderr: run.stderr, incomplete: run.results?.incomplete }).toEqual({
      code: 0,
      stderr: '',
      incomplete: false,
    });
  });

  // mt_log (tests/fixtures/mt_log.c): two workers append to their own logs
  // with no lock, in a 9 MiB file whose logs are past 8 MiB; its check
  // wants every counted record, the counts within PMFIT_OPS_DONE_MIN..MAX and
  // each worker's within its thread's PMFIT_THREAD_OPS_DONE range.
  const mtLog = (mode: string) =>
    allcounts(
      `${fixture('mt_log')} ${mode} pm.bin`,
      'pm.bin',
      'truncate -s 9M {file}',
      `${fixture('mt_log')} check {file}`,
      ['--schedules', '2'],
    );
  const targets = ['mt_log@0', 'mt_log@1'];
  const every = (status: (model: string) => string) =>
    targets.flatMap((target) =>
      ['sequential', 'flushed', 'px86'].map((model) => `${target} ${model} ${status(model)}`),
    );

  it('really overlap in the recorded interleaving', () => {
    const pm = path.join(dir, 'pm.bin');
    fs.writeFileSync(pm, Buffer.alloc(9 << 20));
    const trace = path.join(dir, 'mt_log.trace');
    const recorded = runPmfit(['record', '--pm', pm, '-o', trace, '--', fixture('mt_log'), 'ok', pm], {
      env: leftovers.current().env,
    });
    expect(recorded.code).toBe(0);
    const shown = runPmfit(['trace', 'show', trace]);
    const regions = /regions: (.*)/
      .exec(shown.stdout)![1]
      .split(', ')
      .map((range) => range.split('-').map(Number));
    expect(regions).toHaveLength(6);
    // some region begins before the one begun before it has ended
    expect(regions.some(([first], i) => i > 0 && first <= regions[i - 1][1])).toBe(true);
  });

  it('the correct program passes under every model and schedule', () => {
    const run = mtLog('ok');
    expect({ code: run.code, stderr: run.stderr, runs: statuses(run.results) }).toEqual({
      code: 0,
      stderr: '',
      runs: every(() => 'pass'),
    });
    expect(run.results!.targets[0].lint.filter((hit) => hit.severity === 'warning')).toEqual([]);
  });

  it('an append that returned and is lost is found under flushed and px86 (sequential keeps every store)', () => {
    const run = mtLog('nocount');
    expect({ code: run.code, runs: statuses(run.results) }).toEqual({
      code: 1,
      runs: every((model) => (model === 'sequential' ? 'pass' : 'fail')),
    });
    // each worker's count is checked against its own thread's window
    // (PMFIT_THREAD_OPS_DONE), so the lost count is not-durable, never hidden
    // behind the other worker's append in flight
    const kinds = run
      .results!.runs.filter((r) => r.status === 'fail')
      .map((r) => (r.findings ?? []).map((f) => f.kind));
    expect(kinds).toEqual([['not-durable'], ['not-durable'], ['not-durable'], ['not-durable']]);
    // the lint blames the count's store once per append, each at the end of
    // its own thread's operation
    const warnings = run.results!.targets[0].lint.filter((hit) => hit.severity === 'warning');
    expect(warnings.map((hit) => [hit.kind, hit.title])).toEqual([
      [
        'not-durable',
        expect.stringMatching(/^store at mt_log\.c:\d+ not durable when its operation ended \(6 times\)$/),
      ],
    ]);
  });

  it('a count persisted before its record is found under every model', () => {
    const run = mtLog('early');
    expect({ code: run.code, runs: statuses(run.results) }).toEqual({ code: 1, runs: every(() => 'fail') });
  });

  it('--oracle outputs, whose states are prefixes, refuses them in one line, exit 2', () => {
    const run = allcounts(
      `${fixture('mt_log')} ok pm.bin`,
      'pm.bin',
      'truncate -s 9M {file}',
      `${fixture('mt_log')} check {file}`,
      ['--oracle', 'outputs'],
    );
    expect({ code: run.code, stderr: run.stderr, incomplete: run.results?.incomplete }).toEqual({
      code: 2,
      stderr: expect.stringMatching(
        /^pmfit: target mt_log: region \d+ \(thread \d\) is in flight or done while region \d+ \(thread \d\) is in flight at crash point \d+: reference states need one operation at a time \(--oracle outputs and the built-in targets\); check this program with --oracle exit \(PMFIT_OPS_DONE_MIN\/MAX give the window\), or take a lock around each operation, outside its region\n$/,
      ),
      incomplete: true,
    });
  });
});

describe('crash points near the end of a multithreaded run', () => {
  // tree_mt_broken inserts two keys from two threads; at seed 133 the
  // schedule made a switch due right after instruction 1500 (of 1502), and a
  // stop there spun in the tracer for ever, deaf to --timeout and SIGTERM.
  // Each run has a time limit: were the loop back, the tracer's slices
  // (stepper.cc) still hand control to JavaScript, which ends the run.
  const RUN_MS = 20_000;
  const SEEDS = [133, 0, 5, 77];
  const LAST = 6;

  function treeCommand(pm: string) {
    return resolveCommand([builtProgram('tree_mt_broken'), 'mtinsert', pm, '1,1', 'b', 'a'.repeat(65)]);
  }

  function initPm(): string {
    const pm = path.join(dir, 't.pm');
    fs.rmSync(pm, { force: true });
    execFileSync(builtProgram('tree_mt_broken'), ['init', pm, '64K']);
    return pm;
  }

  /** stopAt -- a fresh run of the program from a fresh pool, to crash point k
   *  (k < 0: to its end); how it ended. */
  async function stopAt(seed: number, k: number): Promise<string> {
    const pm = initPm();
    const tracee = Tracee.start({ command: treeCommand(pm), scheduleSeed: seed });
    try {
      const end = await tracee.run({ stopAt: k, timeoutMs: RUN_MS });
      return `${end.kind} ${end.index}`;
    } finally {
      tracee.kill();
    }
  }

  it.each(SEEDS)('seed %d: the exact tracer stops at each of the last crash points', async (seed) => {
    const [kind, last] = (await stopAt(seed, -1)).split(' ');
    expect(kind).toBe('exited');
    const points = Array.from({ length: LAST + 1 }, (_, i) => Number(last) - LAST + i);
    const ends: string[] = [];
    for (const k of points) ends.push(await stopAt(seed, k));
    expect(ends).toEqual(points.map((k) => `stopAt ${k}`));
  });

  it.each(SEEDS)('seed %d: one run stops at each in turn, exact and fast recorder alike', async (seed) => {
    const [, last] = (await stopAt(seed, -1)).split(' ');
    const points = Array.from({ length: LAST + 1 }, (_, i) => Number(last) - LAST + i);
    // the exact tracer: the stops of a replay (pipeline/replay-workload.ts)
    const pm = initPm();
    const tracee = Tracee.start({ command: treeCommand(pm), scheduleSeed: seed });
    const exact: number[] = [];
    try {
      for (const k of points) {
        const end = await tracee.run({ stopAt: k, timeoutMs: RUN_MS });
        exact.push(end.index);
      }
      expect(await tracee.run({ timeoutMs: RUN_MS })).toMatchObject({ kind: 'exited', index: Number(last) });
    } finally {
      tracee.kill();
    }
    expect(exact).toEqual(points);
    // the fast recorder's replay (fastReplay): its crash points count its
    // single steps, so its own last ones
    const fastRecord = (pause?: Parameters<typeof recordTrace>[0]['pause']) => {
      const fastPm = initPm();
      return recordTrace({
        command: treeCommand(fastPm),
        pmFiles: [fastPm],
        output: path.join(dir, 'fast.trace'),
        fast: true,
        scheduleSeed: seed,
        timeoutMs: RUN_MS,
        pause,
      });
    };
    const fastLast = (await fastRecord()).instructions;
    const fastPoints = Array.from({ length: LAST + 1 }, (_, i) => fastLast - LAST + i);
    const fast: number[] = [];
    const header = await fastRecord({
      stopAt: fastPoints[0],
      paused: (end) => {
        fast.push(end.index);
        return fastPoints[fast.length];
      },
    });
    expect({ fast, instructions: header.instructions }).toEqual({ fast: fastPoints, instructions: fastLast });
  });
});

/** storedValue -- the fixture's n-th store to a line: main stores 1 to line 0,
 *  worker i stores i * 100 + n to line i. */
function storedValue(n: number, line: number): number {
  return line === 0 ? 1 : (line / 64) * 100 + n;
}
