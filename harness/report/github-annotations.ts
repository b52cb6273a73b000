// github-annotations -- GitHub Actions workflow commands that put each
// unexpected violation on the source line of the instruction it interrupts:
//
//   ::error file=btree.c,line=120,title=pmfit: invariant in btree (px86)::crash points 1-5 ...
//
// Escaping follows GitHub's workflow-command rules: in the message (data)
// "%", "\r" and "\n" become %25, %0D, %0A; in properties also ":" and ","
// become %3A and %2C.
//
// Emitted for every violation group of a consistent target (with file= and
// line= when the example's next instruction has a source location), and for a
// positive control that found no violation. Expected violations of a
// positive control are not annotated.

import * as path from 'path';
import type { OutcomeGroup, Results, RunResult } from '../results/schema';
import { abbreviateRanges } from './abbreviate-ranges';
import { runVerdict, siteText, stripAnsi, violationGroups } from './run-verdict';

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
  if (run.expect !== 'consistent') return [];
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

/** githubAnnotations -- one "::error ...::..." line per unexpected violation
 *  group (and per positive control that found none). */
export function githubAnnotations(results: Results, options: AnnotationOptions = {}): string[] {
  const workspace = options.workspace ?? process.env.GITHUB_WORKSPACE ?? undefined;
  return results.runs.flatMap((run) => runAnnotations(results, run, workspace));
}
