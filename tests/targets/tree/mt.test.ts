// mt -- the multithreaded tree targets over several thread schedules:
// tree_mt is consistent under every model in each schedule; tree_mt_broken's
// bug (a left child linked before it is persisted) shows in some schedules
// and not others, and the reproduce line of a violation replays its
// schedule's interleaving from the kept trace.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Results } from '../../../harness/results/schema';
import { runPmfit } from '../../helpers/run-pmfit';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-tree-mt-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function allcounts(target: string, schedules: number): { code: number | null; results: Results; out: string } {
  const output = path.join(dir, target);
  const run = runPmfit(['allcounts', '--target', target, '--schedules', String(schedules), '-o', output], {
    timeoutMs: 600_000,
  });
  const results = JSON.parse(fs.readFileSync(path.join(output, 'results.json'), 'utf8')) as Results;
  return { code: run.code, results, out: run.stdout };
}

describe('tree_mt and tree_mt_broken', () => {
  it('tree_mt: every model, three schedules, no violation', () => {
    const { code, results } = allcounts('tree_mt', 3);
    expect(code).toBe(0);
    expect(results.runs.map((run) => `${run.target}/${run.model}`).sort()).toEqual(
      ['tree_mt@0', 'tree_mt@1', 'tree_mt@2'].flatMap((t) => [`${t}/flushed`, `${t}/px86`, `${t}/sequential`]),
    );
    for (const run of results.runs)
      expect({ run: run.target, violations: run.violations }).toMatchObject({ violations: 0 });
  });

  it('tree_mt_broken: found in some of 8 schedules, not all; its reproduce line replays it', () => {
    const { code, results } = allcounts('tree_mt_broken', 8);
    // each schedule is judged alone: one that does not reach the bug is a
    // positive control without violations, a failed run (exit 1)
    expect(code).toBe(1);
    const px86 = results.runs.filter((run) => run.model === 'px86');
    expect(px86).toHaveLength(8);
    const violating = px86.filter((run) => run.violations > 0).map((run) => run.target);
    expect(violating.length).toBeGreaterThan(0);
    expect(violating.length).toBeLessThan(8);
    for (const clean of px86.filter((candidate) => candidate.violations === 0)) expect(clean.status).toBe('fail');
    const run = px86.find((candidate) => candidate.violations > 0)!;
    const group = run.groups.find((candidate) => candidate.violation)!;
    // the group names its schedule: NAME@SEED
    expect(group.example.reproduce).toMatch(new RegExp(`^pmfit reproduce \\S*results\\.json ${run.target}-px86-\\d+$`));
    const replay = runPmfit(['reproduce', path.join(dir, 'tree_mt_broken', 'results.json'), group.id], {
      timeoutMs: 120_000,
    });
    expect({ code: replay.code, stdout: replay.stdout }).toEqual({
      code: 1,
      stdout: expect.stringMatching(/its hash matches results\.json[\s\S]*the violation reproduces/),
    });
  });
});
