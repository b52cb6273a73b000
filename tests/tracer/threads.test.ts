// threads -- multithreaded programs under the tracer (native/threads.cc):
// every thread is traced, one runs at a time in an interleaving fixed by the
// schedule seed, and a crash point replays that interleaving.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';

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
    for (const command of [['record', '--exact', '-o', path.join(dir, `${mode}.trace`)], ['count']]) {
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
  it('are refused by allcounts in one line naming both regions and their threads, exit 2', () => {
    const run = runPmfit(
      [
        'allcounts',
        '--cmd',
        `${fixture('threads')} inside pm.bin`,
        '--pm',
        'pm.bin',
        '--setup',
        'truncate -s 4096 {file}',
        '--recover',
        'test -s {file}',
        '--model',
        'sequential',
        '-o',
        'reports',
      ],
      { cwd: dir, env: leftovers.current().env, timeoutMs: 60_000 },
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(
        /^pmfit: region 1 \(thread 1, from instruction \d+\) begins before region 0 \(thread 0\) ends at \d+: operations of different threads in flight at once are not supported; take a lock around each operation, outside its region\n$/,
      ),
    });
    // the reports say the run is incomplete rather than passed
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8'));
    expect({ incomplete: results.incomplete, reason: results.incompleteReason }).toEqual({
      incomplete: true,
      reason: expect.stringMatching(/begins before region 0/),
    });
  });
});

/** storedValue -- the fixture's n-th store to a line: main stores 1 to line 0,
 *  worker i stores i * 100 + n to line i. */
function storedValue(n: number, line: number): number {
  return line === 0 ? 1 : (line / 64) * 100 + n;
}
