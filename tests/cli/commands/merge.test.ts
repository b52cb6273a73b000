// merge.test -- `pmfit allcounts --shard i/n` on every shard, then `pmfit
// merge`, gives the results.json (findings included), HTML and JUnit of the
// unsharded run (up to timings and scratch paths), for a target with
// violations (basic, the positive control) and one without (alloc), split
// in 2, 3 and 5 shards; and merge refuses what is not the n shards of one
// run.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderHtml } from '../../../harness/report/html';
import { renderJunit } from '../../../harness/report/junit';
import type { Results } from '../../../harness/results/schema';
import type { ShardResults } from '../../../harness/results/shard-results';
import { fixture } from '../../fixtures';
import { UNWIND_LIBRARY_ENV } from '../../../harness/tracer/unwinding';
import { oneLineError, runPmfit as run } from '../../helpers/run-pmfit';
import { junitText, normalized } from '../../helpers/run-equality';

/** Every run here without call stacks (libdw unloadable): the runs with
 *  stacks, and the merge of the shards' stacks, are merge-stacks.test.ts's. */
const runPmfit = (args: string[], options: Parameters<typeof run>[1] = {}) =>
  run(args, { ...options, env: { ...options.env, [UNWIND_LIBRARY_ENV]: '/nonexistent/libdw.so.1' } });

const TARGETS = ['--target', 'basic', '--target', 'alloc', '--jobs', '2'];
const COUNTS = [2, 3, 5];
let dir: string;
let unsharded: Results;
const merged = new Map<number, { code: number | null; stderr: string; results: Results }>();

/** stderr but for the note that stacks were not unwound. */
const otherThanStacks = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('pmfit: call stacks not unwound: '))
    .join('\n');

const read = (file: string): Results => JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
const shardDir = (count: number, i: number) => path.join(dir, `shards-${count}`, `s${i}`);
const reports = (name: string) => path.join(dir, name, 'reports');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-merge-'));
  fs.mkdirSync(path.join(dir, 'single'));
  // Reports written as `-o reports` from a directory of their own, so that
  // reproduce lines (pmfit reproduce reports/results.json ID) compare equal.
  const single = runPmfit(['allcounts', ...TARGETS, '-o', 'reports'], { cwd: path.join(dir, 'single') });
  expect(single.code).toBe(0);
  unsharded = read(path.join(reports('single'), 'results.json'));
  for (const count of COUNTS) {
    fs.mkdirSync(path.join(dir, `shards-${count}`));
    fs.mkdirSync(path.join(dir, `merged-${count}`));
    for (let i = 1; i <= count; i++) {
      const shard = runPmfit(['allcounts', ...TARGETS, '--shard', `${i}/${count}`, '-o', `s${i}`], {
        cwd: path.join(dir, `shards-${count}`),
      });
      expect(otherThanStacks(shard.stderr)).toBe('');
      expect(shard.code).toBe(0);
      expect(shard.stdout).toMatch(new RegExp(`shard ${i}/${count}: checked \\d+ of \\d+ distinct images`));
    }
    // Given in any order.
    const dirs = Array.from({ length: count }, (_, i) => shardDir(count, i + 1)).reverse();
    const run = runPmfit(['merge', ...dirs, '-o', 'reports'], { cwd: path.join(dir, `merged-${count}`) });
    merged.set(count, {
      code: run.code,
      stderr: run.stderr,
      results: read(path.join(reports(`merged-${count}`), 'results.json')),
    });
  }
}, 900_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(COUNTS)('pmfit merge of allcounts --shard i/%i', (count) => {
  it('gives the unsharded results.json, findings included', () => {
    const { code, stderr, results } = merged.get(count)!;
    expect(otherThanStacks(stderr)).toBe('');
    expect(code).toBe(0);
    expect(normalized(results)).toEqual(normalized(unsharded));
    // Both targets had something to compare: violations and findings in
    // basic, neither in alloc.
    const basic = results.runs.filter((run) => run.target === 'basic');
    expect(basic.every((run) => run.violations > 0 && run.findings!.length > 0)).toBe(true);
    const alloc = results.runs.filter((run) => run.target === 'alloc');
    expect(alloc.every((run) => run.violations === 0 && run.findings === undefined)).toBe(true);
  });

  it('gives the unsharded HTML and JUnit, and they are those of its results.json', () => {
    for (const name of ['single', `merged-${count}`]) {
      const results = read(path.join(reports(name), 'results.json'));
      expect(fs.readFileSync(path.join(reports(name), 'junit.xml'), 'utf8')).toBe(renderJunit(results));
      expect(fs.readFileSync(path.join(reports(name), 'index.html'), 'utf8')).toBe(renderHtml(results));
    }
    const { results } = merged.get(count)!;
    expect(junitText(path.join(reports(`merged-${count}`), 'junit.xml'))).toBe(
      junitText(path.join(reports('single'), 'junit.xml')),
    );
    expect(renderHtml(normalized(results))).toBe(renderHtml(normalized(unsharded)));
    expect(renderJunit(normalized(results))).toBe(renderJunit(normalized(unsharded)));
  });

  it('splits the distinct images between the shards, each checked once', () => {
    const shards = Array.from(
      { length: count },
      (_, i) =>
        JSON.parse(fs.readFileSync(path.join(shardDir(count, i + 1), 'pmfit-shard.json'), 'utf8')) as ShardResults,
    );
    for (const run of unsharded.runs) {
      const parts = shards.map((shard) => shard.parts.find((p) => p.target === run.target && p.model === run.model)!);
      const sets = parts.map((part) => new Set(part.classes.flatMap((cls) => cls.hashes)));
      const all = sets.flatMap((set) => [...set]);
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(run.distinctImages);
      // No shard sits idle on a run of many images.
      if (run.distinctImages >= 3 * count) for (const set of sets) expect(set.size).toBeGreaterThan(0);
      // Each outcome of the run is listed by the one shard that checked it.
      const listed = parts.flatMap((part) => part.outcomes.map(([i]) => i)).sort((a, b) => a - b);
      expect(listed).toEqual(Array.from({ length: parts[0].outcomeCount }, (_, i) => i));
    }
  });
});

describe('a merged run', () => {
  it('keeps the traces: a merged group and a merged finding reproduce', () => {
    const run = merged.get(3)!.results.runs.find((r) => r.target === 'basic' && r.model === 'px86')!;
    for (const id of [run.groups.find((g) => g.violation)!.id, run.findings![0].id]) {
      const again = runPmfit(['reproduce', 'reports/results.json', id, '-o', `again-${id}`], {
        cwd: path.join(dir, 'merged-3'),
      });
      expect(again.code).toBe(1);
      expect(again.stdout).toContain('the violation reproduces');
    }
  });
});

describe('pmfit merge refuses what is not one run', () => {
  const shard = (i: number) => shardDir(3, i);

  it.each([
    ['a missing shard', () => [shard(1), shard(3)], /^pmfit: shard 2\/3 is missing: merge needs all 3 shards/],
    ['a shard given twice', () => [shard(1), shard(2), shard(2), shard(3)], /shard 2\/3 is given twice/],
    ['a directory without a shard file', () => [reports('single')], /pmfit-shard\.json: no such file/],
  ])('%s', (_, dirs, message) => {
    const run = runPmfit(['merge', ...dirs(), '-o', path.join(dir, 'refused')]);
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(message);
    expect(fs.existsSync(path.join(dir, 'refused'))).toBe(false);
  });

  it('a --depth 2 run is not split', () => {
    const run = runPmfit(['allcounts', '--target', 'basic', '--depth', '2', '--shard', '1/2', '-o', 'never'], {
      cwd: dir,
    });
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toBe(
      'pmfit: --shard does not split a --depth 2 run (crashes during recovery): run depth 2 unsharded',
    );
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  function altered(name: string, change: (shard: ShardResults) => void): string {
    const copy = path.join(dir, name);
    fs.cpSync(shard(2), copy, { recursive: true });
    const file = path.join(copy, 'pmfit-shard.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as ShardResults;
    change(data);
    fs.writeFileSync(file, JSON.stringify(data));
    return copy;
  }

  it('shards of runs with different options', () => {
    const other = altered('other-seed', (data) => {
      data.options.seed += 1;
    });
    const run = runPmfit(['merge', shard(1), other, shard(3), '-o', path.join(dir, 'refused')]);
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(
      /differ in options \(--model, --max-states, --seed, --merge-versions, --timeout\)/,
    );
  });

  it('a shard run with --merge-versions among shards run without', () => {
    const other = altered('other-merge', (data) => {
      data.options.mergeVersions = true;
    });
    const run = runPmfit(['merge', shard(1), other, shard(3), '-o', path.join(dir, 'refused')]);
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(/differ in options \(.*--merge-versions/);
    expect(fs.existsSync(path.join(dir, 'refused'))).toBe(false);
  });

  it("shards whose outcomes do not make up the run's", () => {
    const other = altered('other-outcomes', (data) => {
      const part = data.parts.find((p) => p.outcomes.length > 0)!;
      part.outcomes.pop();
    });
    const run = runPmfit(['merge', shard(1), other, shard(3), '-o', path.join(dir, 'refused')]);
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(/^pmfit: the shards' outcomes of \w+ under \w+ do not make up one run/);
    expect(fs.existsSync(path.join(dir, 'refused'))).toBe(false);
  });

  it('shards whose traces differ', () => {
    const other = altered('other-trace', (data) => {
      data.targets[1].traceDigest = '0'.repeat(64);
    });
    const run = runPmfit(['merge', shard(1), other, shard(3), '-o', path.join(dir, 'refused')]);
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(
      /^pmfit: target alloc was recorded differently by shard 2\/3 .* \(trace digests differ/,
    );
  });
});

describe('pmfit merge of a configured target on a 16 MiB PM file', () => {
  it('gives the unsharded results.json, findings placed by the shards where the program is gone', () => {
    const work = path.join(dir, 'big');
    fs.mkdirSync(work);
    fs.copyFileSync(fixture('user_record'), path.join(work, 'user_record'));
    fs.chmodSync(path.join(work, 'user_record'), 0o755);
    const setup = './user_record init {file} && truncate -s 16M {file}';
    const target = { pm: 'rec.pm', setup, recover: './user_record check {file}' };
    fs.writeFileSync(
      path.join(work, 'pmfit.config.json'),
      JSON.stringify({
        targets: [
          { ...target, name: 'torn', command: ['./user_record', 'set', 'rec.pm', '7', 'unsafe'] },
          { ...target, name: 'safe', command: ['./user_record', 'set', 'rec.pm', '7'] },
        ],
        models: ['flushed', 'px86'],
      }),
    );
    const single = runPmfit(['allcounts', '-o', 'reports'], { cwd: work });
    expect(single.code).toBe(1);
    for (const i of [1, 2])
      expect(runPmfit(['allcounts', '--shard', `${i}/2`, '-o', `s${i}`], { cwd: work }).code).toBe(0);
    fs.renameSync(path.join(work, 'reports'), path.join(work, 'single'));
    // As in a CI merge job, which does not build the program: the findings'
    // source lines come from the shards.
    fs.rmSync(path.join(work, 'user_record'));
    const run = runPmfit(['merge', 's1', 's2', '-o', 'reports'], { cwd: work });
    expect(run.code).toBe(1);
    const expected = read(path.join(work, 'single', 'results.json'));
    const got = read(path.join(work, 'reports', 'results.json'));
    expect(normalized(got)).toEqual(normalized(expected));
    const torn = got.runs.find((r) => r.target === 'torn' && r.model === 'px86')!;
    expect(torn.violations).toBeGreaterThan(0);
    expect(torn.findings![0].sites[0]).toMatchObject({ file: expect.stringMatching(/user_record\.c$/) });
    expect(torn.findings![0].sites[0].excerpt!.length).toBeGreaterThan(0);
  });
});
