// continuation -- the second stage of a fuzz case: run the rest of the
// operation sequence on every recovered image and check where it ends, which
// shows corruption that only matters later (a pointer the next insert
// follows, a free list the next reservation trusts).
//
// The crash states were recovered by the first stage (check/runner.ts), whose
// RecoveryCache keeps the recovered PM files by crash-image hash. Many crash
// images recover to the same few states, so the continuation runs once per
// distinct recovered content (content hash of its files), concurrently: in a
// fresh temporary directory the recovered files get the continuation's
// invocations (each recovers on open), then the target's recover commands
// again. A command that crashes, hangs or exits non-zero is a violation, as
// in the first stage.
//
// Then, for every crash state that the first stage found consistent, in order
// of crash points: the state's window allows some StatePairs {now, final};
// the recovered image matches some of their `now`s (by the target spec's own
// check); the continued image must satisfy the spec's check against the
// `final`s of exactly those pairs. An image that recovered to the state before
// the interrupted operation must so end where the sequence ends from before.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PmfitError } from '../_internals/errors';
import { tempDir } from '../_internals/temp-root';
import type { OpWindows } from '../check/allowed-states';
import { recoveryVerdict } from '../check/recovery-verdict';
import { runCommands } from '../check/run-commands';
import type { CrashOutcome, RecoveryCache } from '../check/runner';
import type { CheckedSpec } from '../check/spec';
import type { Verdict } from '../check/verdict';
import { WorkerPool } from '../check/worker-pool';
import type { CasePlan, StatePair } from './case-plan';
import { matchingPairs } from './case-spec';

export interface ContinuationInput {
  /** The target's own spec (pmFiles, recover, check, env). */
  base: CheckedSpec;
  plan: CasePlan;
  /** The first stage's outcomes; only consistent ones are continued. */
  outcomes: readonly CrashOutcome[];
  windows: OpWindows;
  /** The first stage's cache, holding the recovered files. */
  cache: RecoveryCache;
  timeoutMs: number;
  jobs: number;
  /** Prefix of invariant messages: "after continuing with ...". */
  label: string;
}

export interface ContinuationReport {
  /** The violating outcome with the lowest crash point, and its verdict. */
  first?: { outcome: CrashOutcome; verdict: Exclude<Verdict, { kind: 'ok' }> };
  /** Outcomes (crash-point ranges) whose continuation failed, with the
   *  verdict of their continuation. */
  violating: Array<{ outcome: CrashOutcome; verdict: Exclude<Verdict, { kind: 'ok' }> }>;
  /** Continuations run (distinct recovered images). */
  runs: number;
}

type Continued =
  | { kind: 'ok'; files: Buffer[]; stdout: string; output: string }
  | { kind: 'failed'; verdict: Exclude<Verdict, { kind: 'ok' }> };

function contentHash(files: readonly Buffer[]): string {
  const hash = crypto.createHash('sha256');
  for (const file of files) hash.update(`${file.length}:`).update(file);
  return hash.digest('hex');
}

async function continueImage(input: ContinuationInput, files: readonly Buffer[]): Promise<Continued> {
  const { base } = input;
  const dir = tempDir('image'); // named like the first stage's, so outputs normalize the same way
  try {
    base.pmFiles.forEach((name, i) => fs.writeFileSync(path.join(dir, name), files[i]));
    const outcome = await runCommands([...input.plan.continuation, ...base.recover], dir, {
      timeoutMs: input.timeoutMs,
      env: base.env,
      files: base.pmFiles,
    });
    if (outcome.kind !== 'ok') return { kind: 'failed', verdict: recoveryVerdict(outcome) };
    const after: Buffer[] = [];
    for (const name of base.pmFiles) {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) {
        return {
          kind: 'failed',
          verdict: {
            kind: 'invariant',
            failed: [`${input.label}: PM file ${name} is missing`],
            output: outcome.output,
          },
        };
      }
      after.push(fs.readFileSync(file));
    }
    return { kind: 'ok', files: after, stdout: outcome.stdout, output: outcome.output };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function checkContinuations(input: ContinuationInput): Promise<ContinuationReport> {
  const { base } = input;
  const consistent = input.outcomes
    .filter((outcome) => outcome.verdict.kind === 'ok')
    .sort((a, b) => a.first - b.first);

  // One continuation per distinct recovered content.
  const pool = new WorkerPool(input.jobs);
  const continued = new Map<string, Promise<Continued>>();
  const keyOf = new Map<string, string>();
  for (const outcome of consistent) {
    if (keyOf.has(outcome.hash)) continue;
    const recovered = input.cache.getRecovered(outcome.hash);
    if (!recovered) throw new PmfitError(`the recovered image of crash state ${outcome.hash} is no longer cached`);
    const key = contentHash(recovered.files);
    keyOf.set(outcome.hash, key);
    if (!continued.has(key))
      continued.set(
        key,
        pool.run(() => continueImage(input, recovered.files)),
      );
  }
  const results = new Map<string, Continued>();
  const settled = await Promise.allSettled(
    [...continued].map(async ([key, promise]) => results.set(key, await promise)),
  );
  const rejected = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected) throw rejected.reason;

  const report: ContinuationReport = { violating: [], runs: continued.size };
  const verdicts = new Map<string, Verdict>();
  for (const outcome of consistent) {
    const key = keyOf.get(outcome.hash) as string;
    const result = results.get(key) as Continued;
    let verdict: Verdict;
    if (result.kind === 'failed') verdict = result.verdict;
    else {
      const window = input.windows.windows.find((w) => w.key === outcome.window);
      const pairs = (window?.allowed ?? []) as StatePair[];
      const recovered = input.cache.getRecovered(outcome.hash);
      if (!recovered) throw new PmfitError(`the recovered image of crash state ${outcome.hash} is no longer cached`);
      const matching = matchingPairs(base, recovered.files, recovered.stdout, pairs);
      const finals = (matching.length > 0 ? matching : pairs).map((pair) => pair.final);
      const checkKey = `${key}\n${JSON.stringify(finals)}`;
      const known = verdicts.get(checkKey);
      if (known) verdict = known;
      else {
        let failed: string[];
        try {
          failed = base.check({ files: result.files, recoveryOutput: result.stdout, allowed: finals });
        } catch (error) {
          failed = [`check threw: ${error instanceof Error ? error.message : String(error)}`];
        }
        verdict =
          failed.length > 0
            ? {
                kind: 'invariant',
                failed: failed.map((message) => `${input.label}: ${message}`),
                output: result.output,
              }
            : { kind: 'ok' };
        verdicts.set(checkKey, verdict);
      }
    }
    if (verdict.kind === 'ok') continue;
    report.violating.push({ outcome, verdict });
    report.first ??= { outcome, verdict };
  }
  return report;
}
