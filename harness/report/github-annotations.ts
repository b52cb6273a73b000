// github-annotations -- GitHub Actions workflow commands that put each
// unexpected violation on the source line of the instruction it interrupts:
//
//   ::error file=btree.c,line=120,title=pmfit: invariant in btree (px86)::crash points 1-5 ...
//
// Escaping follows GitHub's workflow-command rules: in the message (data)
// "%", "\r" and "\n" become %25, %0D, %0A; in properties also ":" and ","
// become %3A and %2C.
//
// Emitted once per finding of a consistent target (docs/findings.md), at its
// culprit's source line: a finding that several models show (the same kind
// at the same line) is one annotation naming the models. GitHub shows about
// ten per step, so at most MAX_ANNOTATIONS, the biggest findings first, the
// last saying how many more the report holds; findings without a source line
// are left to the report. A run with violations but no findings (results of
// an older pmfit) is annotated per violation group, within the same bound.
// A positive control that found no violation is annotated too; expected
// violations of a positive control are not.

import * as path from 'path';
import type { Finding, OutcomeGroup, Results, RunResult } from '../results/schema';
import { abbreviateRanges } from './abbreviate-ranges';
import { runVerdict, siteText, stripAnsi, violationGroups } from './run-verdict';
import { findingFix } from './finding-advice';
import { shortStack } from './stack-text';

export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export interface AnnotationOptions {
  /** Repository root: absolute source paths under it are made relative to
   *  it, as GitHub expects. Default: $GITHUB_WORKSPACE, else none. */
  workspace?: string;
}

function annotationFile(file: string, workspace: string | undefined): string {
  if (!workspace || !path.isAbsolute(file)) return file;
  const relative = path.relative(workspace, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function groupMessage(group: OutcomeGroup): string {
  const lines = [
    `${group.count} crash point${group.count === 1 ? '' : 's'} (${abbreviateRanges(group.crashPoints, 200)}) leave a PM image whose recovery fails: ${group.kind}`,
  ];
  if (group.example.next) lines.push(`power lost before: ${siteText(group.example.next)}`);
  for (const failed of group.failed.slice(0, 5)) lines.push(`failed: ${failed}`);
  if (group.failed.length > 5) lines.push(`failed: … and ${group.failed.length - 5} more`);
  const output = stripAnsi(group.recoveryOutput).trim();
  if (output) {
    const outputLines = output.split('\n');
    lines.push(`recovery output: ${outputLines.slice(0, 5).join('\n')}${outputLines.length > 5 ? '\n…' : ''}`);
  }
  lines.push(`reproduce: ${group.example.reproduce}`);
  return lines.join('\n');
}

function command(properties: [string, string | number | undefined][], message: string): string {
  const props = properties
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([name, value]) => `${name}=${escapeProperty(String(value))}`)
    .join(',');
  return `::error${props ? ` ${props}` : ''}::${escapeData(message)}`;
}

/** At most this many annotations in all. */
export const MAX_ANNOTATIONS = 10;

function findingMessage(finding: Finding, models: string[]): string {
  const lines = [`${finding.title} (${models.join(', ')})`];
  for (const site of finding.sites.slice(1)) {
    lines.push(`${site.role}: ${site.file !== undefined ? `${path.basename(site.file)}:${site.line}` : site.address}`);
  }
  const stack = finding.sites[0] && shortStack(finding.sites[0]);
  if (stack) lines.push(`stack: ${stack}`);
  lines.push(
    `${finding.images} image${finding.images === 1 ? '' : 's'} at ${finding.count} crash point${finding.count === 1 ? '' : 's'}`,
  );
  lines.push(`fix: ${findingFix(finding)}`);
  lines.push(`reproduce: ${finding.example.reproduce}`);
  return lines.join('\n');
}

function findingAnnotations(results: Results, workspace: string | undefined): { lines: string[]; more: number } {
  const merged = new Map<string, { finding: Finding; run: RunResult; models: string[] }>();
  let more = 0;
  for (const run of results.runs) {
    if (runVerdict(results, run) !== 'violations') continue;
    for (const finding of run.findings ?? []) {
      const site = finding.sites[0];
      if (site?.file === undefined || site.line === undefined) {
        more++;
        continue;
      }
      const key = JSON.stringify([run.target, finding.kind, site.file, site.line]);
      const known = merged.get(key);
      if (known) known.models.push(run.model);
      else merged.set(key, { finding, run, models: [run.model] });
    }
  }
  const all = [...merged.values()].sort((a, b) => b.finding.images - a.finding.images);
  more += Math.max(0, all.length - MAX_ANNOTATIONS);
  const lines = all.slice(0, MAX_ANNOTATIONS).map(({ finding, run, models }) => {
    const site = finding.sites[0];
    return command(
      [
        ['file', annotationFile(site.file as string, workspace)],
        ['line', site.line],
        ['title', `pmfit: ${finding.kind} in ${run.target}`],
      ],
      findingMessage(finding, models),
    );
  });
  return { lines, more };
}

function runAnnotations(results: Results, run: RunResult, workspace: string | undefined): string[] {
  const verdict = runVerdict(results, run);
  if (verdict === 'control-missed') {
    return [
      command(
        [['title', `pmfit: positive control ${run.target} (${run.model}) found no violations`]],
        `${run.target} is expected to show violations under ${run.model}; none of its ${run.crashPoints} crash points did.`,
      ),
    ];
  }
  if (run.expect !== 'consistent' || run.findings !== undefined) return [];
  return violationGroups(run).map((group) => {
    const next = group.example.next;
    const file = next?.file ? annotationFile(next.file, workspace) : undefined;
    return command(
      [
        ['file', file],
        ['line', file && next?.line !== undefined ? next.line : undefined],
        ['title', `pmfit: ${group.kind} in ${run.target} (${run.model})`],
      ],
      groupMessage(group),
    );
  });
}

/** githubAnnotations -- one "::error ...::..." line per finding (and per
 *  positive control that found none), at most MAX_ANNOTATIONS. */
export function githubAnnotations(results: Results, options: AnnotationOptions = {}): string[] {
  const workspace = options.workspace ?? process.env.GITHUB_WORKSPACE ?? undefined;
  const found = findingAnnotations(results, workspace);
  const lines = [...found.lines, ...results.runs.flatMap((run) => runAnnotations(results, run, workspace))];
  const more = found.more + Math.max(0, lines.length - MAX_ANNOTATIONS);
  const shown = lines.slice(0, MAX_ANNOTATIONS);
  if (more > 0 && shown.length > 0) {
    shown[shown.length - 1] += escapeData(`\n(${more} more in the report)`);
  }
  return shown;
}
