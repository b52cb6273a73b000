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
    const { code, results, out } = allcounts('tree_mt_broken', 8);
    // the control is met under a model when one schedule shows the bug: a
    // schedule that does not reach it is no failed run (exit 0)
    expect(code).toBe(0);
    expect(results.status).toBe('pass');
    const px86 = results.runs.filter((run) => run.model === 'px86');
    expect(px86).toHaveLength(8);
    const violating = px86.filter((run) => run.violations > 0).map((run) => run.target);
    expect(violating.length).toBeGreaterThan(0);
    expect(violating.length).toBeLessThan(8);
    for (const clean of px86.filter((candidate) => candidate.violations === 0)) {
      expect(clean.status).toBe('pass');
      expect(clean.schedule).toEqual({ target: 'tree_mt_broken', seed: Number(clean.target.split('@')[1]) });
      expect(out).toMatch(new RegExp(`${clean.target} +px86 .*pass \\(control: found in another schedule\\)`));
    }
    const run = px86.find((candidate) => candidate.violations > 0)!;
    const group = run.groups.find((candidate) => candidate.violation)!;
    // every event a report names says its thread: the instruction each
    // explained crash interrupted, each finding's sites (threads 1 and 2 do
    // the inserts), and the console says which thread a crash interrupted
    const explained = run.groups.filter((candidate) => candidate.example.next !== undefined);
    expect(explained.length).toBeGreaterThan(0);
    for (const each of explained) expect([0, 1, 2]).toContain(each.example.next!.thread);
    expect(run.findings?.length).toBeGreaterThan(0);
    for (const finding of run.findings!) for (const site of finding.sites) expect([1, 2]).toContain(site.thread);
    expect(out).toMatch(/interrupted: thread [0-2] at /);
    // the group names its schedule: NAME@SEED
    expect(group.example.reproduce).toMatch(new RegExp(`^pmfit reproduce \\S*results\\.json ${run.target}-px86-\\d+$`));
    const replay = runPmfit(['reproduce', path.join(dir, 'tree_mt_broken', 'results.json'), group.id], {
      timeoutMs: 120_000,
    });
    const seed = run.schedule!.seed;
    expect(run.target).toBe(`tree_mt_broken@${seed}`);
    expect({ code: replay.code, stdout: replay.stdout }).toEqual({
      code: 1,
      stdout: expect.stringMatching(
        new RegExp(
          `interleaving: thread schedule seed ${seed}, as recorded[\\s\\S]*its hash matches results\\.json[\\s\\S]*the violation reproduces`,
        ),
      ),
    });
    // the kept trace of another schedule is another interleaving: refused
    const output = path.join(dir, 'tree_mt_broken');
    const other = results.targets.find((candidate) => candidate.name !== run.target && candidate.trace)!;
    const mine = results.targets.find((candidate) => candidate.name === run.target)!;
    fs.copyFileSync(path.join(output, other.trace!), path.join(output, mine.trace!));
    const swapped = runPmfit(['reproduce', path.join(output, 'results.json'), group.id], { timeoutMs: 120_000 });
    expect({ code: swapped.code, stderr: swapped.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(
        new RegExp(`^pmfit: \\S+ was recorded with thread schedule seed \\d+, not ${run.target}'s ${seed}: `),
      ),
    });
  });
});
