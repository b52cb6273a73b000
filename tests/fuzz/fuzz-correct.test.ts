// fuzz-correct -- bounded fuzz runs over the crash-consistent targets find
// nothing under px86 (real tracer, real recoveries). Kept small: a few short
// sequences each, so the whole suite stays within its time budget.

import { runFuzz } from '../../harness/fuzz/run-fuzz';
import { fuzzTarget } from '../../harness/fuzz/targets';
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
