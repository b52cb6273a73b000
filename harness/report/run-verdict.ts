// run-verdict -- what one run (a target under a model) means for the gate, shared by every report
// generator so the HTML, JUnit and annotations never disagree.
//
//   consistent      a consistent target, no violation found
//   violations      a consistent target with violations (the gate fails)
//   control-found   a positive control (expect: "violations") that found some
//   control-missed  a positive control that found none (the gate fails)
//   control-other-schedule
//                   one thread schedule of a positive control that found
//                   none while another schedule of it did under the same
//                   model (results/settle-schedules.ts): the control is met
//   incomplete      the run stopped before every crash point was checked and
//                   what it saw decides nothing (no violation in a consistent
//                   target, none yet in a control)
//
// Violations found before an interruption are still violations, so a partial
// run of a consistent target with violations is "violations", and a partial
// control that already found some is "control-found".

import type { OutcomeGroup, Results, RunResult } from '../results/schema';
import { parseSpans, spansSize, type Span } from '../_internals/collate';
import { schedulesThatFound } from '../results/settle-schedules';

export type RunVerdict =
  'consistent' | 'violations' | 'control-found' | 'control-missed' | 'control-other-schedule' | 'incomplete';

export const runVerdictLabel: Record<RunVerdict, string> = {
  consistent: 'consistent',
  violations: 'violations',
  'control-found': 'expected violations',
  'control-missed': 'control found none',
  'control-other-schedule': 'none in this schedule',
  incomplete: 'incomplete',
};

export function violationGroups(run: RunResult): OutcomeGroup[] {
  return run.groups.filter((group) => group.violation);
}

/** checkedCrashPoints -- distinct crash points that some group covers. */
export function checkedCrashPoints(run: RunResult): number {
  const all: Span[] = [];
  for (const group of run.groups) {
    try {
      all.push(...parseSpans(group.crashPoints));
    } catch {
      // a malformed list counts as nothing checked (readResults rejects it)
    }
  }
  return spansSize(all);
}

/** runIncomplete -- the run's own flag when results.json carries one,
 *  otherwise: the results are partial and some crash point 0..N of this run
 *  is in no group. */
export function runIncomplete(results: Results, run: RunResult): boolean {
  const flag = (run as RunResult & { incomplete?: unknown }).incomplete;
  if (typeof flag === 'boolean') return flag;
  if (!results.incomplete) return false;
  return checkedCrashPoints(run) < run.instructions + 1;
}

export function runVerdict(results: Results, run: RunResult): RunVerdict {
  const found = run.violations > 0 || run.groups.some((group) => group.violation);
  if (run.expect === 'violations') {
    if (found) return 'control-found';
    if (schedulesThatFound(results.runs, run).length > 0) return 'control-other-schedule';
    return runIncomplete(results, run) ? 'incomplete' : 'control-missed';
  }
  if (found || (run.status === 'fail' && !runIncomplete(results, run))) return 'violations';
  return runIncomplete(results, run) ? 'incomplete' : 'consistent';
}

/** Models the results were meant to cover, in option order, then those
 *  only a target's own `models` names, then any other model a run names. */
export function modelsOf(results: Results): string[] {
  const models: string[] = [...results.options.models];
  for (const target of results.targets)
    for (const model of target.models ?? []) if (!models.includes(model)) models.push(model);
  for (const run of results.runs) if (!models.includes(run.model)) models.push(run.model);
  return models;
}

/** targetModels -- the models a target was to be checked under: its own
 *  (`models` of its config) or the run's. A pair outside them is not a
 *  missing run: the target was never meant to run there. */
export function targetModels(results: Results, target: string): readonly string[] {
  return results.targets.find((record) => record.name === target)?.models ?? results.options.models;
}

/** Targets in record order, then any target only a run names. */
export function targetNamesOf(results: Results): string[] {
  const names = results.targets.map((target) => target.name);
  for (const run of results.runs) if (!names.includes(run.target)) names.push(run.target);
  return names;
}

export function findRun(results: Results, target: string, model: string): RunResult | undefined {
  return results.runs.find((run) => run.target === target && run.model === model);
}

/** stripAnsi -- terminal colour and cursor sequences of a recovery output. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g, '');
}

/** threadText -- " in thread 2" for a site of a trace of several threads,
 *  "" otherwise. */
export function threadText(site: { thread?: number } | undefined): string {
  return site?.thread !== undefined ? ` in thread ${site.thread}` : '';
}

/** siteText -- "mov [rax], rdx in btree_insert (libfoo.so) at 0x401234, btree.c:120"
 *  (", thread 1" added in a trace of several threads; "..., reached from
 *  insert tree.c:240" when the stack places it in the caller's line) */
export function siteText(site: OutcomeGroup['example']['next']): string {
  if (!site) return '';
  const parts: string[] = [site.text ? site.text : '(unknown instruction)'];
  if (site.symbol) parts.push(`in ${site.symbol}${site.module ? ` (${site.module})` : ''}`);
  else if (site.module) parts.push(`in ${site.module}`);
  parts.push(`at ${site.address}`);
  let text = parts.join(' ');
  const location = sourceLocation(site);
  // With a stack, file:line is the program's own frame, which called the
  // function the instruction is in (memmove, a flush helper).
  const own = site.frame !== undefined && site.frame > 0 ? site.stack?.[site.frame] : undefined;
  const caller = own?.symbol?.replace(/\+0x[0-9a-f]+$/, '');
  if (location) text += own ? `, reached from ${caller ? `${caller} ` : ''}${location}` : `, ${location}`;
  if (site.thread !== undefined) text += `, thread ${site.thread}`;
  return text;
}

export function sourceLocation(site: OutcomeGroup['example']['next']): string | undefined {
  if (!site?.file) return undefined;
  return site.line !== undefined ? `${site.file}:${site.line}` : site.file;
}
