// junit -- reports/junit.xml for CI test dashboards.
//
//   <testsuites>            every target
//     <testsuite name=T>    one target
//       <testcase classname="pmfit.T" name=MODEL>   one run
//         <failure .../>    one, listing the violation groups of a consistent target
//       <testcase classname="pmfit.T.MODEL" name=FINDING-ID>   one per finding
//         <failure .../>    the finding: cause, sites, stacks, reproduce line
//
// A positive control (expect: "violations") passes when it found at least one
// violation (its groups are listed in <system-out>) and fails with a single
// "positive control found no violations" otherwise. A run that stopped early
// with nothing decided (see run-verdict.ts) is <skipped>, as is a target × model
// pair the options asked for that results.json lacks.
//
// XML 1.0 forbids most control characters even as character references:
// they are removed (terminal colour sequences first, whole), and every other
// text is escaped for its context.

import type { Finding, OutcomeGroup, Results, RunResult } from '../results/schema';
import { schedulesThatFound } from '../results/settle-schedules';
import { abbreviateRanges } from './abbreviate-ranges';
import { exampleRecovery, findingFix } from './finding-advice';
import { stackLines } from './stack-text';
import {
  checkedCrashPoints,
  findRun,
  modelsOf,
  targetModels,
  runIncomplete,
  runVerdict,
  siteText,
  threadText,
  sourceLocation,
  stripAnsi,
  targetNamesOf,
  violationGroups,
} from './run-verdict';

// Characters XML 1.0 allows: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// (With the u flag a lone surrogate is one code point outside these ranges.)
const FORBIDDEN = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(value: unknown): string {
  return stripAnsi(String(value))
    .replace(FORBIDDEN, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** xmlAttr -- attribute value between double quotes; tabs and line breaks
 *  as character references so attribute normalisation keeps them. */
export function xmlAttr(value: unknown): string {
  return xmlText(value).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function time(seconds: number): string {
  return Number.isFinite(seconds) && seconds > 0 ? seconds.toFixed(3) : '0.000';
}

function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The failure text of one violation group: everything needed to act on it
 *  without opening the HTML report. */
export function groupFailureBody(group: OutcomeGroup): string {
  const lines: string[] = [];
  lines.push(`kind: ${group.kind}`);
  lines.push(
    `crash points: ${abbreviateRanges(group.crashPoints, 1000)} (${plural(group.count, 'crash point')}, ${plural(group.images, 'distinct image')})`,
  );
  lines.push(`example: crash point ${group.example.k}, image ${group.example.hash}`);
  const next = group.example.next;
  if (next) lines.push(`next instruction: ${siteText(next)}`);
  const location = sourceLocation(next);
  if (location) lines.push(`source: ${location}`);
  if (next?.stack?.length) lines.push('call stack:', ...stackLines(next).map((line) => `  ${line}`));
  if (group.failed.length > 0) {
    lines.push('failed invariants:');
    for (const failed of group.failed) lines.push(`  - ${failed}`);
  }
  if (group.example.lines && group.example.lines.length > 0) {
    lines.push('PM lines differing from the last guaranteed durable state:');
    for (const line of group.example.lines) lines.push(`  ${line.file} +0x${line.offset.toString(16)}`);
  }
  if (group.recoveryOutput) {
    lines.push('recovery output:');
    lines.push(indent(group.recoveryOutput.replace(/\s+$/, '')));
  }
  lines.push('reproduce:');
  lines.push(`  ${group.example.reproduce}`);
  return lines.join('\n');
}

export function groupFailureMessage(group: OutcomeGroup): string {
  return `${group.kind} at crash points ${abbreviateRanges(group.crashPoints, 200)} (${plural(group.count, 'crash point')})`;
}

interface Case {
  xml: string;
  failures: number;
  skipped: number;
  seconds: number;
}

function skippedCase(target: string, model: string, message: string, seconds = 0, out = ''): Case {
  return {
    xml: `    <testcase classname="pmfit.${xmlAttr(target)}" name="${xmlAttr(model)}" time="${time(seconds)}">
      <skipped message="${xmlAttr(message)}"/>${out}
    </testcase>`,
    failures: 0,
    skipped: 1,
    seconds,
  };
}

function systemOut(text: string): string {
  return text ? `\n      <system-out>${xmlText(text)}</system-out>` : '';
}

function runCase(results: Results, run: RunResult): Case {
  const verdict = runVerdict(results, run);
  const classname = `pmfit.${run.target}`;
  const stats = `${run.instructions} instructions, ${run.crashPoints} crash points, ${run.states} states, ${run.distinctImages} distinct images, ${run.violations} crash points with violations`;
  const partial = runIncomplete(results, run)
    ? `\nincomplete: checked ${checkedCrashPoints(run)} of ${run.instructions + 1} crash points${results.incompleteReason ? ` (${results.incompleteReason})` : ''}`
    : '';
  if (verdict === 'incomplete') {
    return skippedCase(
      run.target,
      run.model,
      `incomplete: checked ${checkedCrashPoints(run)} of ${run.instructions + 1} crash points before the run stopped`,
      run.seconds,
      systemOut(stats + partial),
    );
  }
  const children: string[] = [];
  let failures = 0;
  if (verdict === 'control-missed') {
    failures = 1;
    children.push(
      `      <failure message="positive control found no violations" type="positive-control">${xmlText(`${run.target} is expected to show violations under ${run.model}, and none of its ${run.crashPoints} crash points did: the harness may be blind to its bugs.\n${stats}`)}</failure>`,
    );
  } else if (verdict === 'control-other-schedule') {
    const found = schedulesThatFound(results.runs, run).join(', ');
    children.push(
      systemOut(
        `${stats}\npositive control: this thread schedule did not reach the bug; ${found} did under ${run.model}, which meets the control${partial}`,
      ).replace(/^\n/, ''),
    );
  } else if (verdict === 'control-found') {
    const found = violationGroups(run)
      .map((group) => `expected ${groupFailureMessage(group)}`)
      .join('\n');
    children.push(
      systemOut(`${stats}\npositive control: found violations as expected\n${found}${partial}`).replace(/^\n/, ''),
    );
  } else {
    // One failure per testcase (the common JUnit schema allows no more, and
    // dashboards count failed tests): the groups go into its text, and each
    // finding is a testcase of its own (findingCase).
    const groups = violationGroups(run);
    if (groups.length > 0) {
      failures = 1;
      const findings = run.findings?.length ?? 0;
      const message = `${plural(groups.length, 'violation group')} at ${plural(run.violations, 'crash point')}${findings > 0 ? `, ${plural(findings, 'finding')}` : ''}`;
      // The findings first: they, not the groups, say what to change.
      const lead =
        findings > 0
          ? `by cause: ${plural(findings, 'finding')}, each a testcase of its own (${run.findings?.map((finding) => finding.id).join(', ')}); the violation groups follow\n\n`
          : '';
      children.push(
        `      <failure message="${xmlAttr(message)}" type="violations">${xmlText(lead + groups.map(groupFailureBody).join('\n\n'))}</failure>`,
      );
    }
    if (failures === 0 && run.status === 'fail') {
      failures = 1;
      children.push(
        `      <failure message="run failed" type="run">${xmlText(`${stats}\nthe run's status is fail without a violation group`)}</failure>`,
      );
    }
    children.push(systemOut(stats + partial).replace(/^\n/, ''));
  }
  return {
    xml: `    <testcase classname="${xmlAttr(classname)}" name="${xmlAttr(run.model)}" time="${time(run.seconds)}">
${children.join('\n')}
    </testcase>`,
    failures,
    skipped: 0,
    seconds: run.seconds,
  };
}

/** The failure text of a finding: its cause, where, its stack, its images,
 *  what the recovery said of its example (`run`'s group of that image) and
 *  the change it asks for. */
export function findingFailureBody(finding: Finding, run?: RunResult): string {
  const lines = [finding.title, `kind: ${finding.kind}`];
  for (const site of finding.sites) {
    lines.push(
      `${site.role}: ${sourceLocation(site) ?? site.address}${site.symbol ? ` (${site.symbol})` : ''}${threadText(site)}`,
    );
    for (const line of site.excerpt ?? []) lines.push(`  ${String(line.line).padStart(5)} | ${line.text}`);
    for (const frame of site.stack ?? [])
      lines.push(`    at ${frame.symbol ?? frame.address}${frame.file ? ` ${frame.file}:${frame.line}` : ''}`);
  }
  lines.push(
    `crash points: ${abbreviateRanges(finding.crashPoints, 1000)} (${plural(finding.count, 'crash point')}, ${plural(finding.images, 'distinct image')})`,
  );
  lines.push(`example: crash point ${finding.example.k}, image ${finding.example.hash}`);
  const example = run && exampleRecovery(run, finding);
  if (example) {
    lines.push(`recovery of the example (group ${example.group.id}): ${example.said}`);
    const differing = example.group.example.lines ?? [];
    if (differing.length > 0) lines.push('PM lines differing from the last guaranteed durable state:');
    for (const line of differing) lines.push(`  ${line.file} +0x${line.offset.toString(16)}`);
  }
  lines.push(`fix: ${findingFix(finding)}`);
  lines.push('reproduce:', `  ${finding.example.reproduce}`);
  return lines.join('\n');
}

function findingCase(run: RunResult, finding: Finding): Case {
  return {
    xml: `    <testcase classname="pmfit.${xmlAttr(run.target)}.${xmlAttr(run.model)}" name="${xmlAttr(finding.id)}" time="0.000">
      <failure message="${xmlAttr(finding.title)}" type="${xmlAttr(finding.kind)}">${xmlText(findingFailureBody(finding, run))}</failure>
    </testcase>`,
    failures: 1,
    skipped: 0,
    seconds: 0,
  };
}

/** renderJunit -- the JUnit XML document of the results. */
export function renderJunit(results: Results): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  let seconds = 0;
  const timestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(results.startedAt)?.[0];
  for (const target of targetNamesOf(results)) {
    const record = results.targets.find((t) => t.name === target);
    const cases: Case[] = [];
    for (const model of modelsOf(results)) {
      const run = findRun(results, target, model);
      if (run) {
        cases.push(runCase(results, run));
        if (runVerdict(results, run) === 'violations')
          cases.push(...(run.findings ?? []).map((f) => findingCase(run, f)));
      } else if (targetModels(results, target).includes(model)) {
        cases.push(skippedCase(target, model, results.incomplete ? 'not run: results are incomplete' : 'not run'));
      }
    }
    const suiteFailures = cases.reduce((n, c) => n + c.failures, 0);
    const suiteSkipped = cases.reduce((n, c) => n + c.skipped, 0);
    const suiteSeconds = cases.reduce((n, c) => n + c.seconds, 0) + (record?.recordSeconds ?? 0);
    tests += cases.length;
    failures += suiteFailures;
    skipped += suiteSkipped;
    seconds += suiteSeconds;
    const properties = record
      ? `    <properties>
      <property name="expect" value="${xmlAttr(record.expect)}"/>
      <property name="command" value="${xmlAttr(record.command.join(' '))}"/>
      <property name="instructions" value="${record.instructions}"/>
      <property name="events" value="${record.events}"/>
    </properties>\n`
      : '';
    suites.push(`  <testsuite name="${xmlAttr(target)}" tests="${cases.length}" failures="${suiteFailures}" errors="0" skipped="${suiteSkipped}" time="${time(suiteSeconds)}"${timestamp ? ` timestamp="${timestamp}"` : ''}>
${properties}${cases.map((c) => c.xml).join('\n')}
  </testsuite>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="pmfit" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${time(seconds)}">
${suites.join('\n')}
</testsuites>
`;
}
