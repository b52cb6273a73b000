// fuzz-correct -- bounded fuzz runs over the crash-consistent targets find
// nothing under px86 (real tracer, real recoveries). Kept small: a few short
// sequences each, so the whole suite stays within its time budget.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fuzz } from '../../harness/cli/commands/fuzz';
import { readResults } from '../../harness/results/results';
import { runFuzz } from '../../harness/fuzz/run-fuzz';
import { fuzzTarget } from '../../targets/fuzz-targets';
import { defaultConcurrency } from '../../harness/check/worker-pool';

const caseOptions = {
  model: 'px86' as const,
  maxStates: 64,
  modelSeed: 1,
  pmemMode: '',
  timeoutMs: 20_000,
  jobs: defaultConcurrency(),
};

// Seeds chosen so that the few cases still cover the interesting operations:
// tree 4 traces a free of a populated tree, continues with a free and inserts
// words longer than a cache line; alloc 20240611 frees, reserves without
// activating and activates several blocks per invocation.
test.each([
  ['tree', 4, 3, 4],
  ['alloc', 3, 3, 20240611],
])('fuzz %s: %i sequences of up to %i operations, px86: no failure', async (name, runs, maxOps, seed) => {
  let cases = 0;
  const result = await runFuzz({
    ...caseOptions,
    target: fuzzTarget(name),
    runs,
    maxOps,
    seed,
    traceAll: false,
    onCase: () => {
      cases += 1;
    },
  });
  expect(result.counterexample).toBeUndefined();
  expect(result.runs).toBe(runs);
  expect(cases).toBe(runs);
});

test('fuzz tree with --trace-all (inserts traced together) under the sequential model: no failure', async () => {
  const result = await runFuzz({
    ...caseOptions,
    model: 'sequential',
    target: fuzzTarget('tree'),
    runs: 2,
    maxOps: 4,
    seed: 7,
    traceAll: true,
  });
  expect(result.counterexample).toBeUndefined();
});

test('pmfit fuzz without a failure writes reports that say what ran', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-fuzz-correct-'));
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await fuzz('tree', {
      runs: 2,
      seed: 4,
      model: 'px86',
      ops: 2,
      timeout: 20_000,
      output: dir,
      version: 'test',
    });
    expect(code).toBe(0);
    const results = readResults(path.join(dir, 'results.json'));
    expect(results).toMatchObject({
      status: 'pass',
      runs: [],
      fuzz: { target: 'tree', model: 'px86', runs: 2, maxOps: 2, seed: 4 },
    });
    expect(results.fuzz?.counterexample).toBeUndefined();
    expect(fs.readFileSync(path.join(dir, 'index.html'), 'utf8')).toContain('no failure</span> in 2 generated cases');
    expect(fs.readdirSync(dir).sort()).toEqual(['index.html', 'junit.xml', 'results.json']);
  } finally {
    spy.mockRestore();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
