// continuation -- the second stage of a fuzz case, on synthetic recovered
// images and shell commands (no tracer): one continuation per distinct
// recovered content, the end state tied to the state the image recovered to,
// failing commands as verdicts, the lowest crash point first.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { shellQuote } from '../../harness/_internals/shell-words';
import { OpWindows } from '../../harness/check/allowed-states';
import { RecoveryCache } from '../../harness/check/runner';
import type { CrashOutcome } from '../../harness/check/runner';
import type { CheckedSpec, CheckInput } from '../../harness/check/spec';
import type { CasePlan, StatePair } from '../../harness/fuzz/case-plan';
import { checkContinuations } from '../../harness/fuzz/continuation';

let scratch: string;
let counter: string;
beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-continuation-'));
  counter = path.join(scratch, 'runs');
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A target whose PM file holds a word; the state is the word. */
const base: CheckedSpec = {
  name: 'words',
  description: 'a word in a file',
  expect: 'consistent',
  pmFiles: ['w.pm'],
  setup: [],
  workload: { argv: ['true'] },
  states: [],
  recover: [{ shell: 'cat {file}; echo' }],
  check: ({ files, allowed }: CheckInput) => {
    const word = files[0].toString();
    return allowed.length === 0 || allowed.includes(word) ? [] : [`word ${word} is none of ${allowed.join(', ')}`];
  },
  env: {},
};

/** One traced region (instructions 1..10): windows s0 (k=0), op0 (1..9), s1 (10..). */
const pairs: StatePair[] = [
  { now: 'A', final: 'AX' },
  { now: 'B', final: 'BX' },
];
const windows = new OpWindows([{ begin: 0, end: 10 }], pairs);

function plan(continuation: string): CasePlan {
  return {
    prefix: [],
    traced: ['op'],
    tracedRegions: [1],
    continued: ['next'],
    dropped: 0,
    setup: [],
    workload: { argv: ['true'] },
    continuation: [{ argv: ['sh', '-c', `echo run >> ${shellQuote(counter)}; ${continuation}`] }],
    states: pairs,
  };
}

/** Outcomes whose recovered images are WORDS, at crash points 0, 1, 2, ... (window by k). */
function recovered(words: string[]): { outcomes: CrashOutcome[]; cache: RecoveryCache } {
  const cache = new RecoveryCache();
  const outcomes = words.map((word, k): CrashOutcome => {
    const hash = k.toString(16).padStart(32, '0');
    cache.putRecovered(hash, { files: [Buffer.from(word)], stdout: `${word}\n`, output: `${word}\n` });
    return { first: k, last: k, hash, window: windows.windowAt(k).key, verdict: { kind: 'ok' }, describe: [] };
  });
  return { outcomes, cache };
}

function runs(): number {
  return fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0;
}

const options = { timeoutMs: 10_000, jobs: 2, label: 'after continuing with 1 operation (next)' };

test('continues each distinct recovered content once; consistent when each ends where its state leads', async () => {
  // k=0 must be A (window s0); 1..9 may be A or B; 10.. must be B.
  const { outcomes, cache } = recovered(['A', 'A', 'B', 'A', 'B', 'B', 'A', 'B', 'A', 'B', 'B', 'B']);
  const report = await checkContinuations({
    base,
    plan: plan('printf X >> w.pm'),
    outcomes,
    windows,
    cache,
    ...options,
  });
  expect(report.first).toBeUndefined();
  expect(report.violating).toEqual([]);
  expect(report.runs).toBe(2);
  expect(runs()).toBe(2);
});

test('an image that recovered to the state before must continue to the end reached from before', async () => {
  // Every continuation ends at BX: right for B, wrong for A (which must reach AX).
  const { outcomes, cache } = recovered(['A', 'B', 'A', 'B', 'B', 'B', 'B', 'B', 'B', 'B', 'B']);
  const report = await checkContinuations({
    base,
    plan: plan('printf BX > w.pm'),
    outcomes,
    windows,
    cache,
    ...options,
  });
  expect(report.violating.map((v) => v.outcome.first)).toEqual([0, 2]);
  expect(report.first?.outcome.first).toBe(0);
  expect(report.first?.verdict).toMatchObject({
    kind: 'invariant',
    failed: ['after continuing with 1 operation (next): word BX is none of AX'],
  });
});

test('a continuation command that fails is a verdict naming the command; skipped outcomes are not continued', async () => {
  const { outcomes, cache } = recovered(['A', 'A', 'B', 'B']);
  outcomes[1] = { ...outcomes[1], verdict: { kind: 'invariant', failed: ['first stage'], output: '' } };
  const report = await checkContinuations({
    base,
    plan: plan('if grep -q B w.pm; then echo cannot >&2; exit 3; fi; printf X >> w.pm'),
    outcomes,
    windows,
    cache,
    ...options,
  });
  expect(report.violating.map((v) => v.outcome.first)).toEqual([2, 3]);
  expect(report.first?.verdict).toMatchObject({ kind: 'recovery-failed', exitCode: 3 });
  expect(report.first?.verdict.output).toContain('cannot');
  expect(report.runs).toBe(2);
});

test('a recovered image missing from the cache is an error, not a verdict', async () => {
  const { outcomes } = recovered(['A']);
  await expect(
    checkContinuations({ base, plan: plan('true'), outcomes, windows, cache: new RecoveryCache(), ...options }),
  ).rejects.toThrow(/no longer cached/);
});
