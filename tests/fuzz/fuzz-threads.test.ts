// fuzz-threads -- `pmfit fuzz` on the multithreaded tree targets, end to end
// (real tracer, real recoveries, the built CLI): tree_mt passes under every
// model; tree_mt_broken is found at a fixed seed within 10 cases, and its
// shrunk counterexample replays from the replay file, from the printed
// reproduce line and from the printed fast-check repeat line.

import * as fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultConcurrency } from '../../harness/check/worker-pool';
import { parseReplay } from '../../harness/fuzz/replay-file';
import { runThreadsFuzz } from '../../harness/fuzz/run-fuzz';
import { threadsArbitrary } from '../../harness/fuzz/threads-case';
import { readResults } from '../../harness/results/results';
import { threadsFuzzTarget } from '../../targets/fuzz-targets';
import { runPmfit } from '../helpers/run-pmfit';
import { shellWords } from '../../harness/_internals/shell-words';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-fuzz-threads-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Seed 4 generates three cases of three threads each (7 inserts per case).
const MT_SEED = 4;

test('seed 4 generates cases of three threads', () => {
  const threads: number[] = [];
  fc.assert(
    fc.property(threadsArbitrary(threadsFuzzTarget('tree_mt'), 3, 3), (c) => {
      threads.push(c.threads.length);
    }),
    { numRuns: 3, seed: MT_SEED },
  );
  expect(threads).toEqual([3, 3, 3]);
});

test.each(['sequential', 'flushed', 'px86'] as const)(
  'tree_mt: 3 cases of up to 3 threads of up to 3 inserts, %s: no failure',
  async (model) => {
    const result = await runThreadsFuzz({
      target: threadsFuzzTarget('tree_mt'),
      runs: 3,
      maxOps: 3,
      maxThreads: 3,
      seed: MT_SEED,
      model,
      maxStates: 64,
      modelSeed: 1,
      pmemMode: '',
      timeoutMs: 20_000,
      jobs: defaultConcurrency(),
    });
    expect(result.counterexample).toBeUndefined();
    expect(result.runs).toBe(3);
    expect(result.cases).toBe(3);
  },
);

describe('tree_mt_broken', () => {
  const args = ['--seed', '1', '--runs', '10', '--ops', '3', '--threads', '2'];
  let fuzzed: ReturnType<typeof runPmfit>;
  const out = () => path.join(dir, 'out');

  beforeAll(() => {
    fuzzed = runPmfit(['fuzz', 'tree_mt_broken', ...args, '-o', 'out'], { cwd: dir, timeoutMs: 600_000 });
  });

  test('is found within 10 cases, shrunk to two inserts that make a left child', () => {
    expect(fuzzed.stderr).toBe('');
    expect(fuzzed.code).toBe(1);
    expect(fuzzed.stdout).toMatch(/FAILED: case (\d+) of 10 failed; shrunk \d+ times/);
    const replay = parseReplay(fs.readFileSync(path.join(out(), 'fuzz-tree_mt_broken-1.json'), 'utf8'));
    if (replay.threads === undefined) throw new Error('the replay file has no threads');
    // One insert cannot make a left child: the smallest failing case has two,
    // and the second word sorts before the first.
    const words = replay.threads.flat().map((op) => (op as { word: string }).word);
    expect(words).toHaveLength(2);
    expect(Buffer.compare(Buffer.from(words[1]), Buffer.from(words[0]))).toBeLessThan(0);
    expect(replay.failure).toMatchObject({ stage: 'crash', phase: 'recovery', kind: 'recovery-failed' });
    expect(fuzzed.stdout).toContain(`schedule seed ${replay.scheduleSeed}):`);
    expect(fuzzed.stdout).toMatch(/interleaving \(schedule seed \d+\): t\d#1 t\d#\d/);
    expect(fuzzed.stdout).toMatch(/during operation #\d insert .* of thread \d/);

    const results = readResults(path.join(out(), 'results.json'));
    expect(results.fuzz?.maxThreads).toBe(2);
    expect(results.targets[0].check).toEqual({
      kind: 'fuzz-threads',
      threads: replay.threads,
      scheduleSeed: replay.scheduleSeed,
      pmemMode: '',
    });
  });

  test('the replay file replays the same failure', () => {
    const replayed = runPmfit(['replay', path.join('out', 'fuzz-tree_mt_broken-1.json')], { cwd: dir });
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toContain('the recorded failure reproduces (same crash point, image and verdict)');
    // the same case, interleaving and crash point as fuzz printed
    const block = (text: string) =>
      text.slice(text.indexOf('threads ('), text.indexOf('\n', text.indexOf('violating crash points:')));
    expect(block(replayed.stdout)).toBe(block(fuzzed.stdout));
  });

  test('the printed reproduce line rebuilds the image and shows the violation again', () => {
    const line = /reproduce this image \(exit 1 while it still fails\): (pmfit reproduce .*)/.exec(fuzzed.stdout)?.[1];
    expect(line).toBeDefined();
    const words = shellWords(line as string);
    const reproduced = runPmfit(words.slice(1), { cwd: dir });
    expect(reproduced.code).toBe(1);
    expect(reproduced.stdout).toContain('the violation reproduces');
    expect(reproduced.stdout).toMatch(/interleaving: thread schedule seed \d+/);
  });

  test('the printed repeat line goes straight back to the same counterexample', () => {
    const repeat = /repeat: (pmfit fuzz .*)/.exec(fuzzed.stdout)?.[1];
    expect(repeat).toBeDefined();
    const words = shellWords(repeat as string);
    const again = runPmfit([...words.slice(1), '-o', 'again'], { cwd: dir, timeoutMs: 600_000 });
    expect(again.code).toBe(1);
    const first = parseReplay(fs.readFileSync(path.join(out(), 'fuzz-tree_mt_broken-1.json'), 'utf8'));
    const second = parseReplay(fs.readFileSync(path.join(dir, 'again', 'fuzz-tree_mt_broken-1.json'), 'utf8'));
    if (first.threads === undefined || second.threads === undefined) throw new Error('a replay file has no threads');
    expect(second.threads).toEqual(first.threads);
    expect(second.scheduleSeed).toBe(first.scheduleSeed);
    expect(second.failure).toEqual(first.failure);
  });

  test('bad arguments for a multithreaded target: one line, exit 2', () => {
    const traceAll = runPmfit(['fuzz', 'tree_mt', '--trace-all', '-o', 'bad'], { cwd: dir });
    expect(traceAll.code).toBe(2);
    expect(traceAll.stderr.trim()).toBe(
      'pmfit: --trace-all is for a single-threaded fuzz target; tree_mt is traced whole',
    );
    const many = runPmfit(['fuzz', 'tree_mt', '--threads', '17', '-o', 'bad'], { cwd: dir });
    expect(many.code).toBe(2);
    expect(many.stderr.trim()).toBe('pmfit: --threads: tree_mt runs at most 16 threads, not 17');
    const single = runPmfit(['fuzz', 'tree', '--threads', '2', '-o', 'bad'], { cwd: dir });
    expect(single.code).toBe(2);
    expect(single.stderr.trim()).toMatch(/^pmfit: --threads is for a multithreaded fuzz target/);
  });
});
