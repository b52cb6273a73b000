// merge-versions -- `pmfit allcounts --merge-versions` end to end, on
// tree_broken run as a user's program: px86 checks no more images than
// without the merge, results.json and the reports say the merge was on, and
// `pmfit reproduce` rebuilds each violating image with the run's merge (the
// number of images it finds at the crash point is the merged model's, which
// differs from the complete model's there), and --depth 2 crashes the
// recoveries under the merged model as well.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crashStates } from '../../harness/persistency/model';
import type { Results } from '../../harness/results/schema';
import { TraceReader } from '../../harness/trace/format';
import { copyTreeBroken, treeBrokenUserOptions } from '../helpers/tree-broken-user';
import { runPmfit } from '../helpers/run-pmfit';

let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-merge-versions-'));
  copyTreeBroken(work);
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function allcounts(output: string, extra: string[]): { code: number | null; stdout: string; results: Results } {
  const run = runPmfit(['allcounts', ...treeBrokenUserOptions, '--model', 'px86', '-o', output, ...extra], {
    cwd: work,
  });
  expect(run.stderr).toBe('');
  const results = JSON.parse(fs.readFileSync(path.join(work, output, 'results.json'), 'utf8')) as Results;
  return { code: run.code, stdout: run.stdout, results };
}

/** The number of px86 states at each crash point in `ks`, from a kept trace. */
function statesAt(trace: string, ks: number[], mergeVersions: boolean): Map<number, number> {
  const reader = TraceReader.open(trace);
  try {
    const found = new Map<number, number>();
    const walk = crashStates(
      'px86',
      {
        images: reader.images(),
        events: { [Symbol.iterator]: () => reader.events() },
        instructions: reader.header.instructions,
      },
      { mergeVersions },
    );
    for (const group of walk)
      for (const k of ks) if (k >= group.first && k <= group.last) found.set(k, group.states.length);
    return found;
  } finally {
    reader.close();
  }
}

describe('allcounts --merge-versions', () => {
  it('checks fewer px86 images, records the merge, and its groups reproduce with it', () => {
    const complete = allcounts('complete', []);
    const merged = allcounts('merged', ['--merge-versions']);
    expect([complete.code, merged.code]).toEqual([1, 1]);

    // Recorded only when on: a run without it reads as older pmfits wrote it.
    expect(complete.results.options).not.toHaveProperty('mergeVersions');
    expect(merged.results.options.mergeVersions).toBe(true);
    const [before] = complete.results.runs;
    const [after] = merged.results.runs;
    expect(after.distinctImages).toBeLessThan(before.distinctImages);
    expect(after.states).toBeLessThanOrEqual(before.states);
    expect(after.violations).toBeGreaterThan(0);

    // Both reports say so; neither does without it.
    expect(merged.stdout).toContain('px86 ran with --merge-versions');
    expect(complete.stdout).not.toContain('--merge-versions');
    expect(fs.readFileSync(path.join(work, 'merged', 'index.html'), 'utf8')).toContain('px86 version merge on');
    expect(fs.readFileSync(path.join(work, 'complete', 'index.html'), 'utf8')).not.toContain('version merge');

    const trace = path.join(work, 'merged', merged.results.targets[0].trace as string);
    const violating = after.groups.filter((group) => group.violation);
    expect(violating.length).toBeGreaterThan(0);
    const ks = violating.map((group) => group.example.k);
    const mergedAt = statesAt(trace, ks, true);
    const completeAt = statesAt(trace, ks, false);
    // The check below could not tell the models apart otherwise.
    expect(ks.some((k) => mergedAt.get(k) !== completeAt.get(k))).toBe(true);
    for (const group of violating) {
      const run = runPmfit(['reproduce', path.join('merged', 'results.json'), group.id, '-o', `rep-${group.id}`], {
        cwd: work,
      });
      expect({ id: group.id, code: run.code, stderr: run.stderr }).toEqual({ id: group.id, code: 1, stderr: '' });
      const k = group.example.k;
      expect(run.stdout).toContain(
        `its hash matches results.json (one of the ${mergedAt.get(k)} images px86 has at k=${k})`,
      );
      expect(run.stdout).toContain('the violation reproduces');
    }
  }, 300_000);

  it('--depth 2 crashes the recoveries under the merged model too', () => {
    const complete = allcounts('depth2', ['--depth', '2']).results.runs[0].recoveryCrashes;
    const merged = allcounts('depth2-merged', ['--depth', '2', '--merge-versions']).results.runs[0].recoveryCrashes;
    expect(complete).toBeDefined();
    expect(merged).toBeDefined();
    // The same recoveries traced (the same instructions), crashed at fewer
    // states: the recoveries' own stores were enumerated with the merge.
    expect(merged?.traced).toBe(complete?.traced);
    expect(merged?.instructions).toBe(complete?.instructions);
    expect(merged?.traced).toBeGreaterThan(0);
    expect(merged?.states).toBeLessThan(complete?.states ?? 0);
  }, 300_000);

  it('shards made with it merge into the unsharded run', () => {
    const whole = allcounts('whole', ['--merge-versions']).results;
    for (const i of [1, 2]) {
      const shard = runPmfit(
        [
          'allcounts',
          ...treeBrokenUserOptions,
          '--model',
          'px86',
          '--merge-versions',
          '--shard',
          `${i}/2`,
          '-o',
          `shard${i}`,
        ],
        { cwd: work },
      );
      expect({ code: shard.code, stderr: shard.stderr }).toEqual({ code: 0, stderr: '' });
    }
    const merge = runPmfit(['merge', 'shard1', 'shard2', '-o', 'merged-shards'], { cwd: work });
    expect(merge.code).toBe(1);
    const merged = JSON.parse(fs.readFileSync(path.join(work, 'merged-shards', 'results.json'), 'utf8')) as Results;
    expect(merged.options.mergeVersions).toBe(true);
    // The same images, groups (their examples' hashes and line versions)
    // and findings as the run made in one piece.
    const shape = (results: Results) =>
      results.runs.map((run) => ({
        images: run.distinctImages,
        states: run.states,
        violations: run.violations,
        groups: run.groups.map((group) => [group.id, group.example.k, group.example.hash, group.example.describe]),
        findings: (run.findings ?? []).map((finding) => finding.id),
      }));
    expect(shape(merged)).toEqual(shape(whole));
    expect(whole.runs[0].findings?.length).toBeGreaterThan(0);
  }, 300_000);
});
