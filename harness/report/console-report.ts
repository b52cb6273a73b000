// console-report -- the terminal form of results: collated ranges in the
// style of the original allcounts, then a summary table. Colours follow
// --no-color, FORCE_COLOR, NO_COLOR and whether stdout is a terminal
// (_internals/color.ts).

import { parseSpans } from '../_internals/collate';
import { type Colors, terminalColors } from '../_internals/color';
import type { Finding, FindingSite, LintFinding, Results, RunResult, TargetRecord } from '../results/schema';
import { sourceLocation, threadText } from './run-verdict';
import { exampleRecovery, findingFix } from './finding-advice';
import { shortStack } from './stack-text';

const MAX_OUTPUT_LINES = 6;
/** Findings printed per run; the rest are in the report. */
export const MAX_CONSOLE_FINDINGS = 3;

function indent(text: string): string {
  const lines = text.trimEnd().split('\n');
  const shown = lines.slice(0, MAX_OUTPUT_LINES).map((line) => `    ${line}`);
  if (lines.length > MAX_OUTPUT_LINES) shown.push(`    ... (${lines.length - MAX_OUTPUT_LINES} more lines)`);
  return shown.join('\n');
}

/** overlapping -- do two groups share a crash point? Under px86 a crash
 *  point has several images, and it belongs to the group of each outcome one
 *  of them has. */
function overlapping(run: RunResult): boolean {
  // The spans of one group never overlap each other.
  const spans = run.groups.flatMap((group) => parseSpans(group.crashPoints)).sort((a, b) => a.first - b.first);
  return spans.some((span, i) => i > 0 && span.first <= spans[i - 1].last);
}

/** formatRun -- one run's section; `recorder` is its target's
 *  (TargetRecord.recorder): a fast recording counts steps, not instructions. */
export function formatRun(run: RunResult, paint: Colors = terminalColors(), recorder?: 'fast'): string {
  const out: string[] = [];
  const counted = recorder === 'fast' ? 'steps of the fast recorder' : 'instructions';
  const title = `${run.target} / ${run.model}: ${run.instructions} ${counted}, ${run.crashPoints} crash points, ${run.distinctImages} distinct images, ${run.violations} violating crash points`;
  out.push(paint.bold(`== ${title}`));
  const depth2 = run.recoveryCrashes;
  if (depth2) {
    out.push(
      `(depth 2: ${depth2.traced} of ${depth2.candidates} recoveries crashed, ${depth2.instructions} recovery instructions, ${depth2.distinctImages} distinct images recovered again, ${depth2.failures} not crash-safe)`,
    );
  }
  if (overlapping(run)) {
    out.push(
      `(${run.model} leaves several images per crash point (${run.states} states in all): a crash point is listed under each outcome one of its images has, so ranges overlap)`,
    );
  }
  // With findings, the unexpected violation groups (one per distinct
  // recovery output, often one per operation) are left to the report and
  // the causes shown here; a positive control's expected groups stay.
  const findings = run.expect === 'consistent' ? (run.findings ?? []) : [];
  // Recoveries that are not crash-safe (--depth 2) have no finding: always shown.
  const shown = (group: RunResult['groups'][number]): boolean =>
    !group.violation || group.kind === 'recovery-not-crash-safe';
  for (const group of findings.length > 0 ? run.groups.filter(shown) : run.groups) {
    out.push(`Output for iterations: ${group.crashPoints}`);
    if (group.recoveryOutput.trim()) out.push(indent(group.recoveryOutput));
    const verdict = group.violation
      ? paint.red(`VIOLATION (${group.kind})${group.failed.length ? `: ${group.failed.slice(0, 3).join('; ')}` : ''}`)
      : paint.green('consistent');
    out.push(`  verdict: ${verdict}`);
    // In an interleaving of threads, which thread the crash interrupted;
    // with a call stack, where in the program (the own frame) and how it
    // got there.
    const next = group.example.next;
    const stack = next && shortStack(next);
    if (group.violation && next && (next.thread !== undefined || stack)) {
      const thread = next.thread !== undefined ? ` thread ${next.thread}` : '';
      out.push(`  interrupted:${thread} at ${sourceLocation(next) ?? next.symbol ?? next.address}`);
      if (stack) out.push(`  stack: ${stack}`);
    }
    if (group.violation) out.push(`  reproduce: ${group.example.reproduce}`);
  }
  if (findings.length > 0) {
    const groups = run.groups.filter((group) => group.violation && !shown(group)).length;
    out.push(
      `${groups} violation group${groups === 1 ? '' : 's'} (${run.violations} crash points), by cause: ${findings.length} finding${findings.length === 1 ? '' : 's'}`,
    );
    for (const finding of findings.slice(0, MAX_CONSOLE_FINDINGS)) out.push(...formatFinding(finding, paint, run));
    const more = findings.length - MAX_CONSOLE_FINDINGS;
    if (more > 0) out.push(`  ${more} more finding${more === 1 ? '' : 's'} in the report`);
  }
  return out.join('\n');
}

/** formatStacksUnavailable -- the one line saying why sites have no call
 *  stack (each reason once), empty when stacks were unwound or not needed. */
export function formatStacksUnavailable(targets: readonly TargetRecord[]): string {
  const why = new Set(targets.flatMap((target) => (target.stacks?.kind === 'unavailable' ? [target.stacks.why] : [])));
  return [...why].map((reason) => `pmfit: call stacks not unwound: ${reason}\n`).join('');
}

/** Lint findings printed per target; the rest are in the report. */
export const MAX_CONSOLE_LINT = 5;

/** formatLint -- a target's durability lint under a heading naming the
 *  target (it is printed before the target's runs, right after the previous
 *  target's): its warnings (at most MAX_CONSOLE_LINT, with source lines), its
 *  notes counted. With --strict a "not durable" warning is an error. Empty
 *  when there is nothing. */
export function formatLint(
  target: string,
  lint: readonly LintFinding[],
  strict: boolean,
  paint: Colors = terminalColors(),
): string {
  const warnings = lint.filter((item) => item.severity === 'warning');
  const notes = lint.length - warnings.length;
  if (lint.length === 0) return '';
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const out = [
    paint.bold(`== ${target}: durability lint, ${count(warnings.length, 'warning')}, ${count(notes, 'note')}`),
  ];
  for (const item of warnings.slice(0, MAX_CONSOLE_LINT)) {
    const error = strict && item.kind === 'not-durable';
    out.push(`${error ? paint.red('lint error') : paint.yellow('lint warning')}: ${item.title}`);
    out.push(...formatSite(item.site, false));
  }
  const more = warnings.length - MAX_CONSOLE_LINT;
  if (more > 0) out.push(`${more} more lint warning${more === 1 ? '' : 's'} in the report`);
  if (notes > 0)
    out.push(
      `${notes} lint note${notes === 1 ? '' : 's'} (redundant flushes, empty fences, library stores, allowed stores) in the report`,
    );
  return `${out.join('\n')}\n\n`;
}

/** formatSite -- where a site is (its own frame's function when unwound,
 *  else the instruction's symbol), the source line and the one before,
 *  and the stack in one line; a site without a line shows its address
 *  only when `always`. */
function formatSite(site: FindingSite, always: boolean): string[] {
  const out: string[] = [];
  if (site.file === undefined && !always) return out;
  const where = site.file !== undefined ? `${site.file}:${site.line}` : site.address;
  const own = site.frame !== undefined ? site.stack?.[site.frame] : undefined;
  const symbol = own ? own.symbol?.replace(/\+0x[0-9a-f]+$/, '') : site.symbol;
  out.push(`  at ${where}${symbol ? ` (${symbol})` : ''}${threadText(site)}`);
  for (const line of site.excerpt ?? []) out.push(`    ${String(line.line).padStart(5)} | ${line.text}`);
  const stack = shortStack(site);
  if (stack) out.push(`  stack: ${stack}`);
  return out;
}

/** formatFinding -- a finding in a few lines: what, where (with the source
 *  line and the one before), what the recovery said of its example image
 *  and where in the PM file it differs (from `run`'s group of that image),
 *  the change it asks for, and how to see it again. */
export function formatFinding(finding: Finding, paint: Colors = terminalColors(), run?: RunResult): string[] {
  const out = [
    `${paint.red(`finding ${finding.id}`)} (${finding.kind}; ${finding.images} image${finding.images === 1 ? '' : 's'} at ${finding.count} crash point${finding.count === 1 ? '' : 's'})`,
    `  ${finding.title}`,
  ];
  const site = finding.sites[0];
  if (site) out.push(...formatSite(site, true));
  const example = run && exampleRecovery(run, finding);
  if (example) {
    out.push(`  recovery of the example (crash point ${finding.example.k}): ${example.said}`);
    const lines = example.group.example.lines ?? [];
    if (lines.length > 0)
      out.push(
        `  PM lines differing from the last guaranteed durable state: ${lines
          .slice(0, 3)
          .map((line) => `${line.file} +0x${line.offset.toString(16)}`)
          .join(', ')}${lines.length > 3 ? ` (${lines.length - 3} more in the report)` : ''}`,
      );
  }
  out.push(`  fix: ${findingFix(finding)}`);
  out.push(`  reproduce: ${finding.example.reproduce}`);
  return out;
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

export function formatSummary(results: Results, paint: Colors = terminalColors()): string {
  const header = ['target', 'model', 'instructions', 'crash points', 'images', 'violations', 'seconds', 'status'];
  // The fast recorder counts its single steps, not instructions.
  const fast = new Set(results.targets.filter((target) => target.recorder === 'fast').map((target) => target.name));
  const rows = results.runs.map((run) => [
    run.target,
    run.model,
    fast.has(run.target) ? `${run.instructions} steps` : String(run.instructions),
    String(run.crashPoints),
    String(run.distinctImages),
    String(run.violations),
    run.seconds.toFixed(1),
    run.status === 'pass'
      ? run.expect === 'violations'
        ? run.violations > 0
          ? 'pass (control: violations found)'
          : 'pass (control: found in another schedule)'
        : 'pass'
      : run.expect === 'violations'
        ? 'FAIL (control found no violations)'
        : 'FAIL',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const numeric = (i: number) => i >= 2 && i <= 6;
  const line = (cells: string[]) => cells.map((cell, i) => pad(cell, widths[i], numeric(i))).join('  ');
  const out = [paint.bold(line(header))];
  for (const row of rows) {
    const text = line(row);
    out.push(row[7].startsWith('pass') ? text : paint.red(text));
  }
  // Said beside the counts it shrank: a pass under it is a weaker claim.
  if (results.options.mergeVersions === true && results.runs.some((run) => run.model === 'px86'))
    out.push(
      paint.yellow(
        'px86 ran with --merge-versions: images a real crash can leave were not checked (docs/models.md, "Version merge")',
      ),
    );
  if (results.incomplete) out.push(paint.yellow(`incomplete: ${results.incompleteReason ?? 'interrupted'}`));
  if (results.status === 'pass') out.push(paint.green('pmfit: all runs as expected'));
  else if (results.runs.some((run) => run.status !== 'pass'))
    out.push(paint.red('pmfit: crash-consistency violations found'));
  else if (!results.incomplete && !results.fuzz?.counterexample)
    out.push(paint.red('pmfit: stores not durable when their operation ended (durability lint, --strict)'));
  // Stopped early with nothing wrong so far: not a verdict either way.
  else out.push(paint.yellow('pmfit: results are incomplete; every run checked so far is as expected'));
  return out.join('\n');
}
