// settle-schedules: a positive control run under several thread schedules is
// met when one schedule found violations under a model; its other schedules
// pass, and every report (results.json status, console summary, JUnit, HTML)
// says so. When no schedule found any, each fails as a lone control does.
// Consistent targets stay judged per schedule.

import { buildResults } from '../../harness/results/results';
import type { RunResult } from '../../harness/results/schema';
import { schedulesThatFound, settleSchedules } from '../../harness/results/settle-schedules';
import { runVerdict } from '../../harness/report/run-verdict';
import { formatSummary } from '../../harness/report/console-report';
import { renderJunit } from '../../harness/report/junit';
import { renderHtml } from '../../harness/report/html';
import picocolors from 'picocolors';

const noColors = picocolors.createColors(false);

function run(
  target: string,
  seed: number,
  model: RunResult['model'],
  expect: RunResult['expect'],
  violations: number,
): RunResult {
  const found = violations > 0;
  return {
    target: `${target}@${seed}`,
    model,
    expect,
    instructions: 100,
    crashPoints: 101,
    states: 101,
    distinctImages: 3,
    violations,
    seconds: 1,
    // as toRunResult judges a schedule alone
    status: (expect === 'violations') === found ? 'pass' : 'fail',
    schedule: { target, seed },
    groups: [
      {
        id: `${target}@${seed}-${model}-1`,
        kind: found ? 'invariant' : 'ok',
        violation: found,
        crashPoints: '0-100',
        count: 101,
        images: 3,
        failed: found ? ['a node is dangling'] : [],
        recoveryOutput: '',
        example: { k: 0, hash: 'ab', reproduce: `pmfit reproduce results.json ${target}@${seed}-${model}-1` },
      },
    ],
  };
}

function results(runs: RunResult[]) {
  return buildResults({
    pmfitVersion: '0.0.0',
    startedAt: new Date(0).toISOString(),
    options: { models: ['px86', 'flushed'], maxStates: 64, seed: 1, jobs: 1, timeoutMs: 1000 },
    targets: [],
    runs,
  });
}

describe('a positive control over several schedules', () => {
  const runs = [
    run('broken', 0, 'px86', 'violations', 0),
    run('broken', 1, 'px86', 'violations', 12),
    run('broken', 2, 'px86', 'violations', 0),
    run('broken', 0, 'flushed', 'violations', 0),
    run('broken', 1, 'flushed', 'violations', 0),
  ];

  it('passes the schedules that missed when another schedule found it under that model', () => {
    const settled = settleSchedules(runs);
    expect(settled.map((r) => `${r.target}/${r.model}:${r.status}`)).toEqual([
      'broken@0/px86:pass',
      'broken@1/px86:pass',
      'broken@2/px86:pass',
      // no schedule found it under flushed: the control is missed there
      'broken@0/flushed:fail',
      'broken@1/flushed:fail',
    ]);
    expect(schedulesThatFound(settled, settled[0])).toEqual(['broken@1']);
    expect(schedulesThatFound(settled, settled[3])).toEqual([]);
    // the input is not changed
    expect(runs[0].status).toBe('fail');
  });

  it('results.json, verdicts, console, JUnit and HTML agree', () => {
    const all = results(runs);
    expect(all.status).toBe('fail');
    expect(all.runs.map((r) => runVerdict(all, r))).toEqual([
      'control-other-schedule',
      'control-found',
      'control-other-schedule',
      'control-missed',
      'control-missed',
    ]);
    const onlyPx86 = results(runs.filter((r) => r.model === 'px86'));
    expect(onlyPx86.status).toBe('pass');
    const summary = formatSummary(onlyPx86, noColors);
    expect(summary).toMatch(/broken@0 +px86 .* pass \(control: found in another schedule\)/);
    expect(summary).toMatch(/broken@1 +px86 .* pass \(control: violations found\)/);
    expect(summary).toContain('pmfit: all runs as expected');
    const junit = renderJunit(onlyPx86);
    expect(junit).toMatch(/failures="0"/);
    expect(junit).toContain('this thread schedule did not reach the bug; broken@1 did under px86');
    const html = renderHtml(onlyPx86);
    expect(html).toContain('class="badge v-control-other-schedule">none in this schedule</span>');
    expect(html).toContain('broken@1 did under px86, which meets the control');
  });

  it('a consistent target is judged per schedule', () => {
    const consistent = [run('tree', 0, 'px86', 'consistent', 0), run('tree', 1, 'px86', 'consistent', 3)];
    const all = results(consistent);
    expect(all.runs.map((r) => r.status)).toEqual(['pass', 'fail']);
    expect(all.status).toBe('fail');
  });
});
