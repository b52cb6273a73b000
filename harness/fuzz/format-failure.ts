// format-failure -- a failing fuzz case for the console, the same for
// `pmfit fuzz` (the shrunk counterexample) and `pmfit replay` (the case run
// again): the operations and what was done with each, the crash point and
// its operation, the model, the image hash and line versions, the verdict,
// the recovery output and the failed invariants, and shell lines that crash
// the traced invocation by hand.

import { displayCommand } from '../check/run-commands';
import { normalizeOutput } from '../check/outcome-groups';
import { describeVerdict } from '../check/verdict';
import type { LineChoice, ModelName } from '../persistency/model';
import { reproduceCommand } from '../pipeline/to-run-result';
import { FuzzCase, regionOperation } from './case-plan';
import type { AnyFuzzTarget } from './fuzz-target';
import type { ReplayFailure } from './replay-file';
import type { CaseFailure, CaseReport, CheckReport } from './run-case';

const MAX_OUTPUT_LINES = 12;
const MAX_LINES_SHOWN = 8;

export function indent(text: string, prefix = '    '): string[] {
  const lines = text.trimEnd().split('\n');
  const shown = lines.slice(0, MAX_OUTPUT_LINES).map((line) => `${prefix}${line}`);
  if (lines.length > MAX_OUTPUT_LINES) shown.push(`${prefix}... (${lines.length - MAX_OUTPUT_LINES} more lines)`);
  return shown;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** describeWindow -- where crash point k's window lies among the traced operations. */
export function describeWindow(target: AnyFuzzTarget, fuzzCase: FuzzCase, report: CaseReport, window: string): string {
  const { plan } = report;
  const match = /^(s|op)(\d+)$/.exec(window);
  if (!match) return window;
  const index = Number(match[2]);
  const name = (op: number) => `#${fuzzCase.split + op + 1} ${target.showOp(plan.traced[op])}`;
  if (match[1] === 'op') {
    const at = regionOperation(plan, index);
    if (!at) return `during region ${index + 1}`;
    const regions = plan.tracedRegions[at.op];
    return `during operation ${name(at.op)}${regions > 1 ? `, its region ${at.region + 1} of ${regions}` : ''}`;
  }
  if (index === 0) return `before operation ${name(0)} began its first region`;
  const at = regionOperation(plan, index - 1);
  if (!at) return `after region ${index}`;
  const regions = plan.tracedRegions[at.op];
  return at.region + 1 === regions
    ? `after operation ${name(at.op)} (all its regions done)`
    : `between regions ${at.region + 1} and ${at.region + 2} of operation ${name(at.op)}`;
}

export function describeLines(lines: readonly LineChoice[]): string {
  if (lines.length === 0) return '';
  const shown = lines.slice(0, MAX_LINES_SHOWN).map((line) => {
    const which = line.version === 0 ? 'oldest' : line.version === line.of - 1 ? 'newest' : `version ${line.version}`;
    return `${line.fileId > 0 ? `file ${line.fileId} ` : ''}line ${line.offset}: ${which} of ${line.of}`;
  });
  if (lines.length > MAX_LINES_SHOWN) shown.push(`... ${lines.length - MAX_LINES_SHOWN} more`);
  return ` (unsettled lines: ${shown.join(', ')})`;
}

/** formatCaseFailure -- the failure of a case, as console lines. */
export function formatCaseFailure(
  target: AnyFuzzTarget,
  fuzzCase: FuzzCase,
  report: CaseReport,
  model: ModelName,
  /** The failing group's `pmfit reproduce` line, when results.json keeps it. */
  reproduce?: string,
): string[] {
  const { plan, failure } = report;
  if (!failure) return ['no failure'];
  const out: string[] = [];
  const tracedEnd = fuzzCase.split + plan.traced.length;
  const continuedEnd = tracedEnd + plan.continued.length;
  out.push(`operations (${plural(fuzzCase.ops.length, 'operation')}, traced from #${fuzzCase.split + 1}):`);
  fuzzCase.ops.forEach((op, i) => {
    const role =
      i < fuzzCase.split
        ? 'setup, untraced'
        : i < tracedEnd
          ? failure.stage === 'crash'
            ? 'traced, crashed'
            : 'traced'
          : i < continuedEnd
            ? 'continued after recovery'
            : 'not continued (cannot follow every outcome of the crash)';
    out.push(`  #${i + 1}  ${target.showOp(op)}   [${role}]`);
  });

  out.push(
    ...formatFailure(
      report,
      model,
      describeWindow(target, fuzzCase, report, failure.stage === 'crash' ? failure.window : ''),
      reproduce,
    ),
  );
  return out;
}

/** formatFailure -- the failure of a checked case, after its operations:
 *  what failed, and for a crash where (`where`: its window in words), the
 *  image, the verdict and how to reproduce it. */
export function formatFailure(report: CheckReport, model: ModelName, where: string, reproduce?: string): string[] {
  const { failure } = report;
  const out: string[] = [];
  if (!failure) return out;
  switch (failure.stage) {
    case 'setup':
      out.push(`failure: the untraced setup failed, no crash needed: ${failure.command}: ${failure.why}`);
      if (failure.output.trim()) out.push('output:', ...indent(normalizeOutput(failure.output)));
      break;
    case 'workload':
      out.push(
        `failure: the traced invocation failed by itself, no crash needed: exit status ${failure.exitCode ?? '(killed)'}`,
      );
      out.push(`  command: ${displayCommand(report.spec.workload)}`);
      if (failure.output.trim()) out.push('output:', ...indent(failure.output));
      break;
    case 'crash': {
      out.push(`crash point: k=${failure.k} of ${report.instructions} traced instructions, ${where}`);
      out.push(`model: ${model}`);
      out.push(`image: ${failure.hash}${describeLines(failure.describe)}`);
      const stage = failure.phase === 'continuation' ? 'after continuing' : 'at recovery';
      out.push(
        `failure (${stage}): ${failure.verdict.kind === 'invariant' ? 'invariant violated' : describeVerdict(failure.verdict)}`,
      );
      if (failure.verdict.kind === 'invariant')
        for (const message of failure.verdict.failed) out.push(`  failed invariant: ${message}`);
      const output = normalizeOutput(failure.verdict.output);
      if (output)
        out.push(`${failure.phase === 'continuation' ? 'continuation' : 'recovery'} output:`, ...indent(output));
      out.push(`violating crash points: ${failure.violatingPoints} of ${report.instructions + 1}`);
      if (reproduce !== undefined) {
        out.push(`reproduce this image (exit 1 while it still fails): ${reproduce}`);
      } else {
        out.push(`kill it at k by hand: ${reproduceCommand(report.spec, failure.k)}`);
        out.push(
          `  then recover: ${report.spec.recover.map((command) => displayCommand(command).split('{dir}').join('.')).join(' && ')}`,
        );
      }
      break;
    }
  }
  return out;
}

/** replayFailure -- the part of a failure a replay file keeps (and compares). */
export function replayFailure(failure: CaseFailure): ReplayFailure {
  switch (failure.stage) {
    case 'setup':
      return { stage: 'setup', command: failure.command, why: failure.why };
    case 'workload':
      return { stage: 'workload', exitCode: failure.exitCode };
    case 'crash':
      return {
        stage: 'crash',
        phase: failure.phase,
        k: failure.k,
        hash: failure.hash,
        window: failure.window,
        kind: failure.verdict.kind,
        failed: failure.verdict.kind === 'invariant' ? failure.verdict.failed : [],
      };
  }
}

/** sameFailure -- does a failure reproduce a recorded one (same stage; for a
 *  crash the same crash point, image and verdict)? */
export function sameFailure(recorded: ReplayFailure, now: ReplayFailure): boolean {
  return JSON.stringify(recorded) === JSON.stringify(now);
}
