// html -- reports/index.html: one self-contained page (inline CSS, script and
// SVG; no fonts, scripts or images fetched from anywhere) made from
// results.json alone.
//
//   - summary: one row per target × model with the verdict's colour;
//   - for `pmfit fuzz`: what ran, and a counterexample with its replay;
//   - optional mutant detection table (extras.bugs);
//   - per run: a timeline of crash points coloured by outcome group (click a
//     band to open its group) and the list of groups;
//   - group details (next instruction, PM line hex dumps, recovery output,
//     failed invariants, reproduce command) are rendered by the inline script
//     only when a group is opened, from the results embedded as JSON, so a run
//     with 100,000 crash points stays light.
//
// Everything from results.json is escaped: HTML text and attributes through
// escapeHtml, the embedded JSON through jsonForScript (no "<" survives, so no
// "</script>" or "<!--" can end the script element early).

import type {
  Finding,
  FuzzRecord,
  OutcomeGroup,
  Results,
  RunResult,
  TargetRecord,
  VerdictKind,
} from '../results/schema';
import { CLIENT_SCRIPT } from './client';
import { abbreviateRanges } from './abbreviate-ranges';
import { TIMELINE_WIDTH, timelineBands } from './timeline';
import { exampleRecovery, findingFix } from './finding-advice';
import { stackLines } from './stack-text';
import {
  checkedCrashPoints,
  findRun,
  modelsOf,
  targetModels,
  runIncomplete,
  runVerdict,
  sourceLocation,
  targetNamesOf,
  runVerdictLabel,
  type RunVerdict,
} from './run-verdict';
import { schedulesThatFound } from '../results/settle-schedules';

/** A cell of one check (bench/mutants/columns.ts): killed; survived;
 *  killed at depth 1, so depth 2 was not run; depth 2 not run, since
 *  another model killed the mutant at depth 1. */
export type BugCell = 'killed' | 'survived' | 'depth-1' | 'not-run';

/** The mutant × model detection table of bench:bugs (bugs.json,
 *  docs/bugs.md): per model killed by any check (`results`, `rates`), and
 *  from version 2 per check (`columns`, `columnRates`). */
export interface BugTable {
  mutants: {
    name: string;
    operator: string;
    results: Record<string, 'killed' | 'survived'>;
    columns?: Record<string, Record<string, BugCell>>;
    equivalent?: string;
  }[];
  rates: Record<string, number>;
  /** Version 2: the checks run, weakest first ('no-window', 'window', 'depth2'). */
  options?: { columns?: string[] };
  columnRates?: Record<string, Record<string, number>>;
  /** Scenarios whose recoveries depth 2 could not crash, and why. */
  depth2NotRun?: { scenario: string; why: string }[];
}

export interface HtmlExtras {
  bugs?: unknown;
}

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** jsonForScript -- JSON safe inside <script type="application/json">. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function isBugTable(value: unknown): value is BugTable {
  if (!value || typeof value !== 'object') return false;
  const table = value as Partial<BugTable>;
  if (!Array.isArray(table.mutants) || !table.rates || typeof table.rates !== 'object') return false;
  for (const rate of Object.values(table.rates)) if (typeof rate !== 'number') return false;
  const numbers = (value: unknown) =>
    !!value && typeof value === 'object' && Object.values(value).every((n) => typeof n === 'number');
  const cells = (value: unknown) =>
    !!value &&
    typeof value === 'object' &&
    Object.values(value).every(
      (column) => !!column && typeof column === 'object' && Object.values(column).every(isBugCell),
    );
  const columns = table.options?.columns;
  if (columns !== undefined && !(Array.isArray(columns) && columns.every((c) => typeof c === 'string'))) return false;
  if (table.columnRates !== undefined && !Object.values(table.columnRates).every(numbers)) return false;
  if (
    table.depth2NotRun !== undefined &&
    !(
      Array.isArray(table.depth2NotRun) &&
      table.depth2NotRun.every((item) => typeof item?.scenario === 'string' && typeof item.why === 'string')
    )
  )
    return false;
  return table.mutants.every(
    (m) =>
      m &&
      typeof m === 'object' &&
      typeof m.name === 'string' &&
      typeof m.operator === 'string' &&
      !!m.results &&
      typeof m.results === 'object' &&
      Object.values(m.results).every((r) => r === 'killed' || r === 'survived') &&
      (m.columns === undefined || cells(m.columns)) &&
      (m.equivalent === undefined || typeof m.equivalent === 'string'),
  );
}

function isBugCell(value: unknown): value is BugCell {
  return value === 'killed' || value === 'survived' || value === 'depth-1' || value === 'not-run';
}

const KIND_LABEL: Record<VerdictKind, string> = {
  ok: 'ok',
  invariant: 'invariant violated',
  'recovery-crashed': 'recovery crashed',
  'recovery-timeout': 'recovery timed out',
  'recovery-failed': 'recovery failed',
  'recovery-not-crash-safe': 'recovery is not crash-safe',
};

const PALETTE: Record<VerdictKind, string[]> = {
  ok: ['#2f9e5b', '#6cc28b', '#1f7a43', '#a2dab5'],
  invariant: ['#d62839', '#9e1b2a', '#f26170', '#6e0f1a'],
  'recovery-crashed': ['#7b2cbf', '#a463e0', '#561d8a'],
  'recovery-timeout': ['#e8590c', '#f59f3a', '#b3440a'],
  'recovery-failed': ['#c2185b', '#ec5f91', '#8c1042'],
  'recovery-not-crash-safe': ['#1864ab', '#4dabf7', '#0b3d6e'],
};

function kindLabel(kind: string): string {
  return (KIND_LABEL as Record<string, string>)[kind] ?? kind;
}

/** Colours of a run's groups: by kind, shades cycling within a kind. */
function groupColours(run: RunResult): string[] {
  const used = new Map<string, number>();
  return run.groups.map((group) => {
    const palette = (PALETTE as Record<string, string[]>)[group.kind] ?? ['#6c757d', '#495057', '#adb5bd'];
    const n = used.get(group.kind) ?? 0;
    used.set(group.kind, n + 1);
    return palette[n % palette.length];
  });
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(n: number): string {
  return Number.isFinite(n) ? integer.format(n) : String(n);
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  return s < 10 ? s.toFixed(2) : s < 1000 ? s.toFixed(1) : integer.format(Math.round(s));
}

/** Shortest decimal for SVG coordinates. */
function coord(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function runAnchor(index: number): string {
  return `run-${index}`;
}

function groupAnchor(run: number, group: number): string {
  return `g-${run}-${group}`;
}

function verdictBadge(verdict: RunVerdict, extra = ''): string {
  return `<span class="badge v-${verdict}">${escapeHtml(runVerdictLabel[verdict])}${extra}</span>`;
}

/** ownModelsText -- " (store-bug: flushed, px86)": the targets whose
 *  config gave them models of their own, grouped by those models. */
function ownModelsText(results: Results): string {
  const byModels = new Map<string, string[]>();
  for (const target of results.targets) {
    if (target.models === undefined) continue;
    const key = target.models.join(', ');
    byModels.set(key, [...(byModels.get(key) ?? []), target.name]);
  }
  if (byModels.size === 0) return '';
  return ` (${[...byModels].map(([models, names]) => `${names.join(', ')}: ${models}`).join('; ')})`;
}

function renderHeader(results: Results): string {
  const o = results.options;
  const overall = results.status === 'pass' ? 'pass' : 'fail';
  const started = Date.parse(results.startedAt);
  const finished = Date.parse(results.finishedAt);
  const duration =
    Number.isFinite(started) && Number.isFinite(finished) ? ` (${formatSeconds((finished - started) / 1000)} s)` : '';
  return `<header>
<h1>pmfit report <span class="badge overall o-${overall}" id="overall">${overall === 'pass' ? 'PASS' : 'FAIL'}</span></h1>
<p class="meta">pmfit ${escapeHtml(results.pmfitVersion)} · ${escapeHtml(results.startedAt)} → ${escapeHtml(results.finishedAt)}${escapeHtml(duration)}<br>
models ${escapeHtml(o.models.join(', '))}${escapeHtml(ownModelsText(results))} · max states ${escapeHtml(o.maxStates)} · seed ${escapeHtml(o.seed)}${o.mergeVersions === true ? ' · px86 version merge on (images dropped: docs/models.md)' : ''} · jobs ${escapeHtml(o.jobs)} · recovery timeout ${escapeHtml(formatSeconds(o.timeoutMs / 1000))} s</p>
</header>`;
}

function renderIncomplete(results: Results): string {
  if (!results.incomplete) return '';
  const reason = results.incompleteReason ? `: ${escapeHtml(results.incompleteReason)}` : '';
  return `<div class="banner incomplete" role="alert" id="incomplete"><b>Incomplete results</b>${reason}. The numbers below cover only what was checked before the run stopped.</div>`;
}

const SUMMARY_COLUMNS: { key: keyof RunResult; title: string; format: (n: number) => string }[] = [
  { key: 'instructions', title: 'Instructions', format: formatCount },
  { key: 'crashPoints', title: 'Crash points', format: formatCount },
  { key: 'states', title: 'States', format: formatCount },
  { key: 'distinctImages', title: 'Distinct images', format: formatCount },
  { key: 'violations', title: 'Violations', format: formatCount },
  { key: 'seconds', title: 'Seconds', format: formatSeconds },
];

function renderSummary(results: Results, runIndex: Map<RunResult, number>): string {
  const rows: string[] = [];
  for (const target of targetNamesOf(results)) {
    let first = true;
    for (const model of modelsOf(results)) {
      const run = findRun(results, target, model);
      const nameCell = `<th scope="row" class="target${first ? '' : ' repeat'}">${escapeHtml(target)}</th>`;
      first = false;
      if (!run) {
        // A target × model pair the options (or the target's own models)
        // asked for but results lack.
        if (!targetModels(results, target).includes(model)) continue;
        rows.push(
          `<tr class="row v-incomplete" data-target="${escapeHtml(target)}" data-model="${escapeHtml(model)}">${nameCell}<td class="model">${escapeHtml(model)}</td><td class="expect">—</td>${SUMMARY_COLUMNS.map((c) => `<td class="num" data-col="${c.key}">—</td>`).join('')}<td class="status" data-col="status"><span class="badge v-incomplete">not run</span></td></tr>`,
        );
        continue;
      }
      const verdict = runVerdict(results, run);
      const partial = verdict !== 'incomplete' && runIncomplete(results, run) ? ' (partial)' : '';
      const index = runIndex.get(run) ?? 0;
      rows.push(
        `<tr class="row v-${verdict}" data-target="${escapeHtml(target)}" data-model="${escapeHtml(model)}" data-verdict="${verdict}">${nameCell}<td class="model"><a href="#${runAnchor(index)}">${escapeHtml(model)}</a></td><td class="expect">${run.expect === 'violations' ? 'violations (control)' : 'consistent'}</td>${SUMMARY_COLUMNS.map((c) => `<td class="num" data-col="${c.key}">${escapeHtml(c.format(run[c.key] as number))}</td>`).join('')}<td class="status" data-col="status">${verdictBadge(verdict, escapeHtml(partial))}</td></tr>`,
      );
    }
  }
  return `<section id="summary">
<h2>Summary</h2>
<div class="scroll"><table class="summary">
<thead><tr><th>Target</th><th>Model</th><th>Expect</th>${SUMMARY_COLUMNS.map((c) => `<th class="num">${c.title}</th>`).join('')}<th>Status</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>
<p class="legend"><span class="badge v-consistent">consistent</span> no violation in a consistent target · <span class="badge v-violations">violations</span> a consistent target with violations · <span class="badge v-control-found">expected violations</span> a positive control found the violations it must · <span class="badge v-control-missed">control found none</span> a positive control found nothing · ${results.runs.some((run) => run.schedule !== undefined) ? '<span class="badge v-control-other-schedule">none in this schedule</span> a thread schedule of a positive control that did not reach its bug while another schedule did · ' : ''}<span class="badge v-incomplete">incomplete</span> stopped before the end</p>
</section>`;
}

/** The checks of bugs.json version 2, in the table's words (bench/mutants/columns.ts). */
const BUG_COLUMN_TITLES: Record<string, string> = { 'no-window': 'no window', window: 'window', depth2: 'depth 2' };

/** What a cell says, and its tooltip. */
const BUG_CELL: Record<BugCell, { text: string; title?: string }> = {
  killed: { text: 'killed' },
  survived: { text: 'survived' },
  'depth-1': {
    text: 'killed at depth 1',
    title: 'depth 2 checks the same images first, so it kills what depth 1 kills; not run',
  },
  'not-run': { text: '—', title: 'not run: another model killed the mutant at depth 1' },
};

function renderBugs(bugs: unknown): string {
  if (bugs === undefined) return '';
  if (!isBugTable(bugs)) {
    return '<section id="bugs"><h2>Mutant detection</h2><p class="note">The detection table has a format this report does not know; it is left out.</p></section>';
  }
  const models = Object.keys(bugs.rates);
  for (const mutant of bugs.mutants)
    for (const model of Object.keys(mutant.results)) if (!models.includes(model)) models.push(model);
  // Version 2: a column group per check; version 1: one, killed by any check.
  const checks = bugs.options?.columns && bugs.columnRates ? bugs.options.columns : [undefined];
  const cell = (mutant: BugTable['mutants'][number], check: string | undefined, model: string): string => {
    const attrs = `data-model="${escapeHtml(model)}"${check ? ` data-check="${escapeHtml(check)}"` : ''}`;
    const result: BugCell | undefined = check ? mutant.columns?.[check]?.[model] : mutant.results[model];
    if (mutant.equivalent !== undefined && result !== 'killed')
      return `<td class="mut equivalent" ${attrs}>equivalent</td>`;
    if (!result) return `<td class="mut none" ${attrs}>—</td>`;
    const { text, title } = BUG_CELL[result];
    const kind = result === 'depth-1' ? 'killed depth-1' : result === 'not-run' ? 'none' : result;
    return `<td class="mut ${kind}" ${attrs}${title ? ` title="${escapeHtml(title)}"` : ''}>${escapeHtml(text)}</td>`;
  };
  const rows = bugs.mutants.map((mutant) => {
    const cells = checks.map((check) => models.map((model) => cell(mutant, check, model)).join('')).join('');
    const note =
      mutant.equivalent !== undefined ? `<span class="note">equivalent: ${escapeHtml(mutant.equivalent)}</span>` : '';
    return `<tr data-mutant="${escapeHtml(mutant.name)}"><th scope="row"><code>${escapeHtml(mutant.name)}</code>${note}</th><td>${escapeHtml(mutant.operator)}</td>${cells}</tr>`;
  });
  const rates = checks
    .map((check) =>
      models
        .map((model) => {
          const rate = check ? bugs.columnRates?.[check]?.[model] : bugs.rates[model];
          return `<td class="rate" data-model="${escapeHtml(model)}"${check ? ` data-check="${escapeHtml(check)}"` : ''}>${typeof rate === 'number' ? `${escapeHtml((rate * 100).toFixed(1))}%` : '—'}</td>`;
        })
        .join(''),
    )
    .join('');
  const modelHeads = checks.map(() => models.map((m) => `<th>${escapeHtml(m)}</th>`).join('')).join('');
  const head =
    checks[0] === undefined
      ? `<tr><th>Mutant</th><th>Operator</th>${modelHeads}</tr>`
      : `<tr><th rowspan="2">Mutant</th><th rowspan="2">Operator</th>${checks.map((check) => `<th colspan="${models.length}" class="check" data-check="${escapeHtml(check)}">${escapeHtml(BUG_COLUMN_TITLES[check as string] ?? check)}</th>`).join('')}</tr>\n<tr>${modelHeads}</tr>`;
  const notRun = checks.some((check) => check === 'depth2') ? (bugs.depth2NotRun ?? []) : [];
  const notes =
    checks[0] === undefined
      ? ''
      : `<p class="legend">no window: recovery succeeds and the invariants hold · window: the recovered data is also a state the crash's operation window allows · depth 2: the window check, with each recovery crashed too (run only for the mutants no depth-1 check of any model kills; a lower bound, — counts as not killed)</p>\n${notRun.map((item) => `<p class="note depth2-not-run">Depth 2 not run in ${escapeHtml(item.scenario)}: ${escapeHtml(item.why)}</p>\n`).join('')}`;
  return `<section id="bugs">
<h2>Mutant detection</h2>
<div class="scroll"><table class="bugs">
<thead>${head}</thead>
<tbody>
${rows.join('\n')}
</tbody>
<tfoot><tr><th scope="row">detection rate</th><td></td>${rates}</tr></tfoot>
</table></div>
${notes}</section>`;
}

/** exampleText -- what the recovery said of a finding's example image,
 *  linked to the group of that image; empty when no group has it. */
function exampleText(run: RunResult, runIndex: number, finding: Finding): string {
  const example = exampleRecovery(run, finding);
  if (!example) return '';
  const index = run.groups.indexOf(example.group);
  return `<p class="said">Recovery of the example (crash point ${escapeHtml(finding.example.k)}, group <a href="#${groupAnchor(runIndex, index)}">${escapeHtml(example.group.id)}</a>): <code>${escapeHtml(example.said)}</code></p>\n`;
}

/** renderFindings -- the unexpected violations by cause (docs/findings.md),
 *  first in the report: each finding's title, culprit with its source
 *  excerpt and stack, other sites, and the reproduce line; the crash-point
 *  detail is in the runs below. */
function renderFindings(results: Results): string {
  const items = results.runs
    .filter((run) => run.expect === 'consistent')
    .flatMap((run) => (run.findings ?? []).map((finding) => ({ run, finding })));
  if (items.length === 0) return '';
  const site = (s: Finding['sites'][number]) => {
    const where = s.file !== undefined ? `${s.file}:${s.line}` : s.address;
    const excerpt = (s.excerpt ?? []).map((line) => `${String(line.line).padStart(5)} | ${line.text}`).join('\n');
    const stack = stackLines(s).join('\n');
    return `<li><span class="meta">${escapeHtml(s.role)}</span> <code>${escapeHtml(where)}</code>${s.symbol ? ` <span class="meta">${escapeHtml(s.symbol)}</span>` : ''}${s.thread !== undefined ? ` <span class="meta thread">thread ${s.thread}</span>` : ''}${excerpt ? `<pre class="source">${escapeHtml(excerpt)}</pre>` : ''}${stack ? `<pre class="stack">${escapeHtml(stack)}</pre>` : ''}</li>`;
  };
  const unwound = new Set(
    results.targets.flatMap((target) => (target.stacks?.kind === 'unavailable' ? [target.stacks.why] : [])),
  );
  const note = [...unwound].map((why) => `<p class="meta">Call stacks not unwound: ${escapeHtml(why)}</p>\n`).join('');
  return `<section id="findings">
<h2>Findings</h2>
${note}${items
    .map(
      ({ run, finding }) => `<article class="finding" id="${escapeHtml(finding.id)}">
<h3>${escapeHtml(finding.title)}</h3>
<p class="meta">${escapeHtml(run.target)} · ${escapeHtml(run.model)} · ${escapeHtml(finding.kind)} · ${escapeHtml(formatCount(finding.images))} images at ${escapeHtml(formatCount(finding.count))} crash points · ${escapeHtml(finding.id)}</p>
<ul class="sites">${finding.sites.map(site).join('')}</ul>
${exampleText(run, results.runs.indexOf(run), finding)}<p class="fix"><b>Fix:</b> ${escapeHtml(findingFix(finding))}</p>
<div class="cmd"><pre>${escapeHtml(finding.example.reproduce)}</pre><button type="button" class="copy" data-copy="">Copy</button></div>
</article>`,
    )
    .join('\n')}
</section>`;
}

/** renderFuzz -- what `pmfit fuzz` ran; a counterexample with its
 *  operations, failure and the commands that bring it back. */
function renderFuzz(fuzz: FuzzRecord | undefined): string {
  if (!fuzz) return '';
  const ran = `<p class="meta">target ${escapeHtml(fuzz.target)} · model ${escapeHtml(fuzz.model)} · ${escapeHtml(formatCount(fuzz.runs))} generated cases of up to ${escapeHtml(fuzz.maxOps)} operations · seed ${escapeHtml(fuzz.seed)} · ${escapeHtml(formatCount(fuzz.cases))} cases checked in all (shrinking included)</p>`;
  const example = fuzz.counterexample;
  if (!example) {
    return `<section id="fuzz">
<h2>Fuzz</h2>
${ran}
<p><span class="badge v-consistent">no failure</span> in ${escapeHtml(formatCount(fuzz.runs))} generated cases</p>
</section>`;
  }
  const command = (text: string) =>
    `<div class="cmd"><pre>${escapeHtml(text)}</pre><button type="button" class="copy" data-copy="">Copy</button></div>`;
  return `<section id="fuzz">
<h2>Fuzz</h2>
${ran}
<p><span class="badge v-violations">counterexample</span> shrunk to ${escapeHtml(example.ops.length)} operation${example.ops.length === 1 ? '' : 's'}; its crash points are the run below.</p>
<ol class="ops">${example.ops.map((op) => `<li><code>${escapeHtml(op)}</code></li>`).join('')}</ol>
<h3>Failure</h3>
<pre class="output failure">${escapeHtml(example.failure.join('\n'))}</pre>
<h3>Replay</h3>
${command(example.replay)}
<h3>Back to fast-check's counterexample</h3>
${command(example.repeat)}
</section>`;
}

function renderTimeline(run: RunResult, index: number, colours: string[]): string {
  const timeline = timelineBands(run);
  const height = 28;
  const rects = timeline.bands.map((band) => {
    const group = run.groups[band.group];
    const points = band.first === band.last ? `crash point ${band.first}` : `crash points ${band.first}-${band.last}`;
    const title = `${kindLabel(group.kind)} (group ${group.id}): ${points}${band.mixed ? ', mixed with other outcomes' : ''}`;
    return `<rect class="band${group.violation ? ' viol' : ''}" x="${coord(band.x)}" y="0" width="${coord(band.width)}" height="${height}" fill="${colours[band.group]}" data-goto="${groupAnchor(index, band.group)}"><title>${escapeHtml(title)}</title></rect>`;
  });
  const last = timeline.domain - 1;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const k = Math.round(f * last);
    const left = timeline.domain > 0 ? ((k + 0.5) / timeline.domain) * 100 : 0;
    return `<span style="left:${coord(left)}%">${formatCount(k)}</span>`;
  });
  const caption = timeline.binned
    ? `x: crash point k (power lost after instruction k), 0–${formatCount(last)}. ${formatCount(timeline.domain)} crash points binned into ${TIMELINE_WIDTH} columns: a column shows its violation, if any, else its most frequent outcome. Click a band to open its group.`
    : `x: crash point k (power lost after instruction k), 0–${formatCount(last)}. Click a band to open its group. Grey: not checked.`;
  return `<figure class="timeline">
<svg class="tl" viewBox="0 0 ${TIMELINE_WIDTH} ${height}" preserveAspectRatio="none" role="img" aria-label="timeline of ${escapeHtml(run.target)} under ${escapeHtml(run.model)}" data-run="${index}" data-binned="${timeline.binned}">
<rect class="bg" x="0" y="0" width="${TIMELINE_WIDTH}" height="${height}"/>
${rects.join('\n')}
</svg>
<div class="axis">${ticks.join('')}</div>
<figcaption>${caption}</figcaption>
</figure>`;
}

function renderGroupSummary(
  run: RunResult,
  runIdx: number,
  group: OutcomeGroup,
  groupIdx: number,
  colour: string,
): string {
  const expected = group.violation && run.expect === 'violations';
  const tag = group.violation
    ? expected
      ? '<span class="tag expected">expected</span>'
      : '<span class="tag viol">violation</span>'
    : '';
  const location = sourceLocation(group.example?.next);
  const failed =
    group.failed.length > 0
      ? `<span class="first-failed">${escapeHtml(group.failed[0])}${group.failed.length > 1 ? ` (+${group.failed.length - 1})` : ''}</span>`
      : '';
  return `<details class="group${group.violation ? ' viol' : ''}" id="${groupAnchor(runIdx, groupIdx)}" data-run="${runIdx}" data-group="${groupIdx}" data-kind="${escapeHtml(group.kind)}">
<summary><span class="swatch" style="background:${colour}"></span><span class="kind">${escapeHtml(kindLabel(group.kind))}</span>${tag}<span class="count">${formatCount(group.count)} crash point${group.count === 1 ? '' : 's'}</span><code class="points">${escapeHtml(abbreviateRanges(group.crashPoints))}</code><span class="images">${formatCount(group.images)} image${group.images === 1 ? '' : 's'}</span>${location ? `<span class="src">${escapeHtml(location)}</span>` : ''}${failed}<span class="gid">${escapeHtml(group.id)}</span></summary>
<div class="detail"><noscript>Details need JavaScript; they are in results.json.</noscript></div>
</details>`;
}

/** otherSchedules -- why a control schedule without violations passes. */
function otherSchedules(results: Results, run: RunResult, verdict: RunVerdict): string {
  if (verdict !== 'control-other-schedule') return '';
  const found = schedulesThatFound(results.runs, run);
  return `<p class="note">This thread schedule did not reach the bug; ${escapeHtml(found.join(', '))} did under ${escapeHtml(run.model)}, which meets the control.</p>\n`;
}

function renderRun(results: Results, run: RunResult, index: number): string {
  const verdict = runVerdict(results, run);
  const colours = groupColours(run);
  const order = run.groups
    .map((_, i) => i)
    .sort((a, b) => Number(run.groups[b].violation) - Number(run.groups[a].violation) || a - b);
  const checked = runIncomplete(results, run)
    ? ` · <span class="partial">checked ${formatCount(checkedCrashPoints(run))} of ${formatCount(run.instructions + 1)} crash points</span>`
    : '';
  const groups = order.map((g) => renderGroupSummary(run, index, run.groups[g], g, colours[g]));
  return `<section class="run v-${verdict}" id="${runAnchor(index)}" data-target="${escapeHtml(run.target)}" data-model="${escapeHtml(run.model)}">
<h3>${escapeHtml(run.target)} <span class="sep">·</span> ${escapeHtml(run.model)} ${verdictBadge(verdict)}</h3>
${otherSchedules(results, run, verdict)}<p class="stats">${formatCount(run.instructions)} instructions · ${formatCount(run.crashPoints)} crash points · ${formatCount(run.states)} states · ${formatCount(run.distinctImages)} distinct images · ${formatCount(run.violations)} crash points with violations · ${formatSeconds(run.seconds)} s${checked}</p>
${renderTimeline(run, index, colours)}
<div class="groups">
${groups.length > 0 ? groups.join('\n') : '<p class="note">No outcome groups recorded.</p>'}
</div>
</section>`;
}

function renderTargets(targets: TargetRecord[]): string {
  if (targets.length === 0) return '';
  const rows = targets.map(
    (t) =>
      `<tr data-target="${escapeHtml(t.name)}"><th scope="row">${escapeHtml(t.name)}</th><td>${t.expect === 'violations' ? 'violations (positive control)' : 'consistent'}</td><td>${escapeHtml(t.description)}</td><td><code>${escapeHtml(t.command.join(' '))}</code></td><td>${t.pmFiles.map((f) => `<code>${escapeHtml(f)}</code>`).join('<br>')}</td><td class="num">${formatCount(t.instructions)}${t.recorder === 'fast' ? ' steps (fast recorder)' : ''}</td><td class="num">${formatCount(t.events)}</td><td class="num">${formatCount(t.regions)}</td><td class="num">${formatSeconds(t.recordSeconds)}</td></tr>${(t.warnings ?? []).map((w) => `\n<tr class="warning"><td></td><td colspan="8">recording warning: ${escapeHtml(w)}</td></tr>`).join('')}`,
  );
  return `<section id="targets">
<h2>Targets</h2>
<div class="scroll"><table class="targets">
<thead><tr><th>Target</th><th>Expect</th><th>Description</th><th>Command</th><th>PM files</th><th class="num">Instructions</th><th class="num">Events</th><th class="num">Regions</th><th class="num">Record s</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>
</section>`;
}

const STYLE = `
:root { --fg:#1d2430; --muted:#5b6675; --line:#d8dde4; --bg:#ffffff; --panel:#f5f7fa;
  --pass:#2f9e5b; --pass-bg:#e3f4e9; --fail:#c92a3a; --fail-bg:#fbe4e6; --ctl:#b26a00; --ctl-bg:#fff1d6;
  --inc:#6c757d; --inc-bg:#eceef1; --mono: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 20px 48px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
.meta { margin: 0 0 12px; color: var(--muted); }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 0 0 4px; }
h5 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
code, pre { font-family: var(--mono); font-size: 12.5px; }
a { color: #1f5fbf; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--panel); font-weight: 600; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary th.repeat { color: transparent; }
table.summary tr.row > th:first-child { box-shadow: inset 4px 0 0 var(--inc); }
table.summary tr.v-consistent > th:first-child { box-shadow: inset 4px 0 0 var(--pass); }
table.summary tr.v-violations > th:first-child, table.summary tr.v-control-missed > th:first-child { box-shadow: inset 4px 0 0 var(--fail); }
table.summary tr.v-control-found > th:first-child { box-shadow: inset 4px 0 0 var(--ctl); }
table.summary tr.v-violations, table.summary tr.v-control-missed { background: #fff4f5; }
table.summary tr.v-incomplete { background: #f7f8f9; color: #4a525c; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; border: 1px solid transparent; vertical-align: 1px; }
.v-consistent.badge { background: var(--pass-bg); color: #19613a; border-color: #a9dbbb; }
.v-violations.badge, .v-control-missed.badge { background: var(--fail); color: #fff; }
.v-control-found.badge { background: var(--ctl-bg); color: #7a4800; border: 1px dashed var(--ctl); }
.v-control-other-schedule.badge { background: var(--ctl-bg); color: #7a4800; border: 1px dotted var(--ctl); }
.v-incomplete.badge { background: var(--inc-bg); color: #4a525c; border-color: #c9ced4; }
.overall { font-size: 14px; vertical-align: 3px; }
.o-pass { background: var(--pass); color: #fff; }
.o-fail { background: var(--fail); color: #fff; }
.legend { color: var(--muted); font-size: 12.5px; line-height: 2; }
.banner { margin: 8px 0 12px; padding: 10px 14px; border-radius: 6px; }
.banner.incomplete { background: var(--inc-bg); border-left: 5px solid var(--inc); }
.note { color: var(--muted); margin-left: 8px; font-size: 12.5px; }
table.bugs td.killed { background: var(--pass-bg); color: #19613a; }
table.bugs td.survived { background: var(--fail-bg); color: #8e1b28; font-weight: 600; }
table.bugs td.equivalent { background: var(--inc-bg); color: #4a525c; font-style: italic; }
table.bugs td.depth-1 { font-weight: normal; opacity: 0.75; }
table.bugs td.none { color: #6b7580; text-align: center; }
table.bugs th.check { text-align: center; border-bottom: 1px solid var(--line); }
table.bugs tfoot td, table.bugs tfoot th { font-weight: 600; border-top: 2px solid var(--line); }
section.run { margin: 18px 0 28px; padding: 12px 14px; border: 1px solid var(--line); border-left: 5px solid var(--inc); border-radius: 6px; }
section.run.v-consistent { border-left-color: var(--pass); }
section.run.v-violations, section.run.v-control-missed { border-left-color: var(--fail); }
section.run.v-control-found { border-left-color: var(--ctl); }
.sep { color: var(--muted); }
.stats { margin: 0 0 8px; color: var(--muted); }
.partial { color: #4a525c; font-weight: 600; }
figure.timeline { margin: 6px 0 10px; }
svg.tl { display: block; width: 100%; height: 28px; border: 1px solid var(--line); border-radius: 3px; background: #eef0f3; shape-rendering: crispEdges; }
svg.tl rect.bg { fill: #e3e6ea; }
svg.tl rect.band { cursor: pointer; }
svg.tl rect.band:hover { opacity: .7; }
.axis { position: relative; height: 18px; font-size: 11.5px; color: var(--muted); font-variant-numeric: tabular-nums; }
.axis span { position: absolute; top: 2px; transform: translateX(-50%); white-space: nowrap; }
.axis span:first-child { transform: none; }
.axis span:last-child { transform: translateX(-100%); }
figcaption { font-size: 12px; color: var(--muted); }
details.group { border: 1px solid var(--line); border-radius: 5px; margin: 6px 0; background: #fff; scroll-margin-top: 12px; }
details.group.viol { border-color: #efb3ba; }
details.group[open] { box-shadow: 0 1px 4px rgba(0,0,0,.08); }
details.group.flash { animation: flash 1.2s ease-out; }
@keyframes flash { from { background: #fff6c2; } to { background: #fff; } }
details.group > summary { cursor: pointer; padding: 6px 10px; display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; }
details.group > summary::marker { color: var(--muted); }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; flex: none; }
.kind { font-weight: 600; }
.tag { font-size: 11.5px; padding: 0 6px; border-radius: 8px; }
.tag.viol { background: var(--fail); color: #fff; }
.tag.expected { background: var(--ctl-bg); color: #7a4800; border: 1px dashed var(--ctl); }
.count { font-variant-numeric: tabular-nums; }
.points { color: #39424e; max-width: 100%; overflow-wrap: anywhere; }
.images, .gid { color: var(--muted); font-size: 12.5px; }
.src { font-family: var(--mono); font-size: 12.5px; color: #1f5fbf; }
.first-failed { color: #8e1b28; font-size: 12.5px; }
.detail { padding: 4px 14px 12px; border-top: 1px solid var(--line); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 10px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; min-width: 0; }
.ranges { font-family: var(--mono); font-size: 12px; max-height: 7.5em; overflow: auto; overflow-wrap: anywhere; background: var(--panel); padding: 2px 6px; border-radius: 3px; margin-top: 2px; }
code.insn { background: #eef3fb; padding: 1px 5px; border-radius: 3px; font-weight: 600; }
ul.failed { margin: 0; padding-left: 20px; color: #8e1b28; }
.line { margin: 6px 0 12px; }
.line-head { margin-bottom: 4px; }
table.dump { font-family: var(--mono); font-size: 12px; }
table.dump th { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; font-size: 12px; }
table.dump td { white-space: pre; padding: 1px 10px; border-bottom: 0; }
table.dump td.off { color: var(--muted); }
table.dump td.ascii { color: #39424e; }
table.dump td.durable .chg { background: #ffd7db; color: #8e1b28; font-weight: 700; border-radius: 2px; }
table.dump td.image .chg { background: #ffe08a; color: #5c3c00; font-weight: 700; border-radius: 2px; }
pre.output { background: #1f2430; color: #e8ecf1; padding: 8px 10px; border-radius: 4px; max-height: 24em; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.cmd { display: flex; gap: 8px; align-items: flex-start; }
.cmd pre { flex: 1; margin: 0; background: var(--panel); padding: 6px 10px; border-radius: 4px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
button.copy { font: inherit; font-size: 12.5px; padding: 4px 12px; border: 1px solid #b9c1cc; border-radius: 4px; background: #fff; cursor: pointer; }
button.copy:hover { background: var(--panel); }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media (max-width: 700px) { main { padding: 10px; } th, td { padding: 3px 6px; } }
`;

/** renderHtml -- the whole page, from results alone (plus the optional
 *  mutant detection table). */
export function renderHtml(results: Results, extras: HtmlExtras = {}): string {
  const runIndex = new Map<RunResult, number>();
  results.runs.forEach((run, index) => runIndex.set(run, index));
  // The order of sections follows the summary: target by target, model by model.
  const ordered: RunResult[] = [];
  for (const target of targetNamesOf(results)) {
    for (const model of modelsOf(results)) {
      const run = findRun(results, target, model);
      if (run) ordered.push(run);
    }
  }
  for (const run of results.runs) if (!ordered.includes(run)) ordered.push(run);

  const data = {
    runs: results.runs.map((run) => ({ target: run.target, model: run.model, expect: run.expect, groups: run.groups })),
  };
  const title = `pmfit report — ${results.status === 'pass' ? 'pass' : 'FAIL'}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${renderHeader(results)}
${renderIncomplete(results)}
${renderFindings(results)}
${renderSummary(results, runIndex)}
${renderFuzz(results.fuzz)}
${renderBugs(extras.bugs)}
<section id="runs">
<h2>Runs</h2>
${ordered.map((run) => renderRun(results, run, runIndex.get(run) ?? 0)).join('\n')}
</section>
${renderTargets(results.targets)}
<footer>Generated by pmfit ${escapeHtml(results.pmfitVersion)} from results.json (schema ${escapeHtml(results.schema)} v${escapeHtml(results.version)}). Self-contained: nothing is loaded from the network.</footer>
</main>
<script type="application/json" id="pmfit-data">${jsonForScript(data)}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}
