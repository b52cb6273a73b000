// to-run-result -- one model's check report, collated into the results.json
// form: outcome groups with ranges, counts, a status and a way to reproduce.

import { shellQuote } from '../_internals/shell-words';
import { mergeSpans } from '../_internals/collate';
import { collateOutcomes, normalizeOutput } from '../check/outcome-groups';
import type { CheckReport } from '../check/runner';
import type { TargetSpec } from '../check/spec';
import { placeholders, shellLine, workloadLaunch } from '../check/spec-command';
import { describeVerdict, isViolation, Verdict } from '../check/verdict';
import type { ModelName } from '../persistency/model';
import type { OutcomeGroup, RunResult } from '../results/schema';
import type { TraceHeader } from '../trace/format';

export interface RunResultInput {
  spec: TargetSpec;
  model: ModelName;
  header: TraceHeader;
  report: CheckReport;
  seconds: number;
  /** The shell line that reproduces a group (`pmfit reproduce RESULTS ID`),
   *  when the run's trace is kept; otherwise a `pmfit crash` line, which
   *  leaves a killed process's files (the sequential model's image only). */
  reproduce?(groupId: string): string;
}

function verdictOutput(verdict: Verdict): string {
  return verdict.kind === 'ok' ? '' : normalizeOutput(verdict.output);
}

/** reproduceCommand -- shell lines that set up a fresh pool in a new
 *  directory and crash the workload at k the way `pmfit crash` does: the
 *  image a killed process leaves, which is the sequential model's. */
export function reproduceCommand(spec: TargetSpec, k: number, header?: TraceHeader): string {
  // A fast trace numbers crash points by its single steps: `pmfit crash k`
  // would stop elsewhere, so no such line is offered.
  if (header?.recorder === 'fast')
    return `crash point ${k} of a fast recording: keep the trace (pmfit allcounts) and use pmfit reproduce, or record with --exact for a pmfit crash line`;
  const launch = workloadLaunch(spec, '.');
  const env = Object.entries(launch.env)
    .map(([name, value]) => `${name}=${shellQuote(value)} `)
    .join('');
  const setup = spec.setup.map((command) => shellLine(command, placeholders('.', spec.pmFiles)));
  const workload = launch.argv.map(shellQuote).join(' ');
  const options =
    (spec.functions ?? []).map((name) => ` --function ${shellQuote(name)}`).join('') +
    (spec.scheduleSeed ? ` --schedule-seed ${spec.scheduleSeed}` : '');
  return [
    'cd "$(mktemp -d)"',
    ...setup.map((line) => `${env}${line}`),
    `${env}pmfit crash ${k}${options} -- ${workload}`,
  ].join(' && ');
}

export function toRunResult(input: RunResultInput): RunResult {
  const { spec, model, header, report } = input;
  const states = report.outcomes.reduce((sum, outcome) => sum + (outcome.last - outcome.first + 1), 0);
  const violating = mergeSpans(report.outcomes.filter((outcome) => isViolation(outcome.verdict)));
  const violations = violating.reduce((sum, span) => sum + (span.last - span.first + 1), 0);
  const groups: OutcomeGroup[] = collateOutcomes(report.outcomes).map((group, i) => {
    const k = group.spans[0].first;
    const hash = group.hashes[0];
    const example =
      report.outcomes.find((outcome) => outcome.hash === hash && outcome.first <= k && k <= outcome.last) ??
      report.outcomes.find((outcome) => outcome.hash === hash);
    const id = `${spec.name}-${model}-${i + 1}`;
    return {
      id,
      kind: group.kind,
      violation: isViolation(group.verdict),
      crashPoints: group.ranges,
      count: group.crashPoints,
      images: group.hashes.length,
      failed:
        group.verdict.kind === 'invariant'
          ? group.verdict.failed
          : group.verdict.kind === 'recovery-not-crash-safe'
            ? [describeVerdict(group.verdict)]
            : [],
      recoveryOutput: verdictOutput(group.verdict),
      example: {
        k,
        hash,
        describe: example?.describe,
        ...(group.verdict.kind === 'recovery-not-crash-safe'
          ? {
              recoveryCrash: {
                k: group.verdict.at,
                hash: group.verdict.hash,
                instructions: group.verdict.instructions,
              },
            }
          : {}),
        reproduce: input.reproduce
          ? `${input.reproduce(id)}${group.verdict.kind === 'recovery-not-crash-safe' ? ` --at ${k}:${group.verdict.at}` : ''}`
          : reproduceCommand(spec, k, header),
      },
    };
  });
  const expected = spec.expect === 'violations' ? violations > 0 : violations === 0;
  return {
    target: spec.name,
    model,
    expect: spec.expect,
    instructions: header.instructions,
    crashPoints: header.instructions + 1,
    states,
    distinctImages: report.distinctImages,
    violations,
    seconds: input.seconds,
    status: expected ? 'pass' : 'fail',
    ...(spec.scheduleOf !== undefined ? { schedule: { target: spec.scheduleOf, seed: spec.scheduleSeed ?? 0 } } : {}),
    groups,
  };
}
