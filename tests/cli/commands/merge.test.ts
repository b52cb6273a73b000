// merge.test -- `pmfit allcounts --shard i/n` on every shard, then `pmfit
// merge`, gives the results.json, HTML and JUnit of the unsharded run (up to
// timings and scratch paths), for a target with violations (basic, the
// positive control) and one without (alloc); and merge refuses what is not
// the n shards of one run.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderHtml } from '../../../harness/report/html';
import { renderJunit } from '../../../harness/report/junit';
import type { Results } from '../../../harness/results/schema';
import type { ShardResults } from '../../../harness/results/shard-results';
import { fixture } from '../../fixtures';
import { oneLineError, runPmfit } from '../../helpers/run-pmfit';

const TARGETS = ['--target', 'basic', '--target', 'alloc', '--jobs', '2'];
const SHARDS = 3;
let dir: string;
let unsharded: Results;
let merged: Results;
let mergeCode: number | null;

const read = (file: string): Results => JSON.parse(fs.readFileSync(file, 'utf8')) as Results;

/** Timings, and the scratch directory each run records in, set aside; and
 *  findings (docs/findings.md), which a merge does not compute yet: they
 *  need every image's verdict at once (docs/sharding.md). */
function normalized(results: Results): Results {
  const copy = JSON.parse(JSON.stringify(results)) as Results;
  copy.startedAt = copy.finishedAt = 'T';
  for (const run of copy.runs) {
    delete run.findings;
    delete run.findingsUnexamined;
  }
  for (const target of copy.targets) {
    target.recordSeconds = 0;
    target.command = target.command.map((arg) => arg.replace(/^.*\/pmfit-\d+-\d+-\w+\/\d+-/, 'SCRATCH/'));
  }
  for (const run of copy.runs) run.seconds = 0;
  return copy;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-merge-'));
  for (const name of ['single', 'shards', 'merged']) fs.mkdirSync(path.join(dir, name));
  // Reports written as `-o reports` from a directory of their own, so that
  // reproduce lines (pmfit reproduce reports/results.json ID) compare equal.
  const single = runPmfit(['allcounts', ...TARGETS, '-o', 'reports'], { cwd: path.join(dir, 'single') });
  expect(single.code).toBe(0);
  unsharded = read(path.join(dir, 'single', 'reports', 'results.json'));
  for (let i = 1; i <= SHARDS; i++) {
    const shard = runPmfit(['allcounts', ...TARGETS, '--shard', `${i}/${SHARDS}`, '-o', `s${i}`], {
      cwd: path.join(dir, 'shards'),
    });
    expect(shard.stderr).toBe('');
    expect(shard.code).toBe(0);
    expect(shard.stdout).toMatch(new RegExp(`shard ${i}/${SHARDS}: checked \\d+ of \\d+ distinct images`));
  }
  const shardDirs = Array.from({ length: SHARDS }, (_, i) => path.join(dir, 'shards', `s${i + 1}`));
  // Given in any order.
  const run = runPmfit(['merge', ...shardDirs.reverse(), '-o', 'reports'], { cwd: path.join(dir, 'merged') });
  mergeCode = run.code;
  merged = read(path.join(dir, 'merged', 'reports', 'results.json'));
}, 600_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('pmfit merge of allcounts --shard i/n', () => {
  it('gives the unsharded results.json', () => {
    expect(mergeCode).toBe(0);
    expect(normalized(merged)).toEqual(normalized(unsharded));
    expect(merged.runs.some((run) => run.findings !== undefined)).toBe(false);
    // Both targets had something to compare: violations in basic, none in alloc.
    const basic = merged.runs.filter((run) => run.target === 'basic');
    expect(basic.every((run) => run.violations > 0)).toBe(true);
    expect(merged.runs.filter((run) => run.target === 'alloc').every((run) => run.violations === 0)).toBe(true);
  });

  it('gives the unsharded HTML and JUnit, and they are those of its results.json', () => {
    const reports = (name: string) => path.join(dir, name, 'reports');
    for (const name of ['single', 'merged']) {
      const results = read(path.join(reports(name), 'results.json'));
      expect(fs.readFileSync(path.join(reports(name), 'junit.xml'), 'utf8')).toBe(renderJunit(results));
      expect(fs.readFileSync(path.join(reports(name), 'index.html'), 'utf8')).toBe(renderHtml(results));
    }
    expect(renderHtml(normalized(merged))).toBe(renderHtml(normalized(unsharded)));
    expect(renderJunit(normalized(merged))).toBe(renderJunit(normalized(unsharded)));
  });

  it('splits the distinct images between the shards, each checked once', () => {
    const shards = Array.from(
      { length: SHARDS },
      (_, i) =>
        JSON.parse(fs.readFileSync(path.join(dir, 'shards', `s${i + 1}`, 'pmfit-shard.json'), 'utf8')) as ShardResults,
    );
    for (const run of unsharded.runs) {
      const sets = shards.map(
        (shard) =>
          new Set(
            shard.parts
              .filter((part) => part.target === run.target && part.model === run.model)
              .flatMap((part) => part.classes.flatMap((cls) => cls.hashes)),
          ),
      );
      const all = sets.flatMap((set) => [...set]);
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(run.distinctImages);
      // No shard sits idle on a run of many images.
      if (run.distinctImages >= 3 * SHARDS) for (const set of sets) expect(set.size).toBeGreaterThan(0);
    }
  });

  it('keeps the traces: a merged group reproduces', () => {
    const group = merged.runs
      .find((run) => run.target === 'basic' && run.model === 'px86')!
      .groups.find((g) => g.violation)!;
    const again = runPmfit(['reproduce', 'reports/results.json', group.id, '-o', 'again'], {
      cwd: path.join(dir, 'merged'),
    });
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('the violation reproduces');
  });
});

describe('pmfit merge refuses what is not one run', () => {
  const shardDir = (i: number) => path.join(dir, 'shards', `s${i}`);

  it.each([
    ['a missing shard', () => [shardDir(1), shardDir(3)], /^pmfit: shard 2\/3 is missing: merge needs all 3 shards/],
    ['a shard given twice', () => [shardDir(1), shardDir(2), shardDir(2), shardDir(3)], /shard 2\/3 is given twice/],
    [
      'a directory without a shard file',
      () => [path.join(dir, 'single', 'reports')],
      /pmfit-shard\.json: no such file/,
    ],
  ])('%s', (_, dirs, message) => {
    const run = runPmfit(['merge', ...dirs(), '-o', path.join(dir, 'refused')]);
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(message);
    expect(fs.existsSync(path.join(dir, 'refused'))).toBe(false);
  });

  function altered(name: string, change: (shard: ShardResults) => void): string {
    const copy = path.join(dir, name);
    fs.cpSync(shardDir(2), copy, { recursive: true });
    const file = path.join(copy, 'pmfit-shard.json');
    const shard = JSON.parse(fs.readFileSync(file, 'utf8')) as ShardResults;
    change(shard);
    fs.writeFileSync(file, JSON.stringify(shard));
    return copy;
  }

  it('shards of runs with different options', () => {
    const other = altered('other-seed', (shard) => {
      shard.options.seed += 1;
    });
    const run = runPmfit(['merge', shardDir(1), other, shardDir(3), '-o', path.join(dir, 'refused')]);
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(/differ in options \(--model, --max-states, --seed, --timeout\)/);
  });

  it('shards whose traces differ', () => {
    const other = altered('other-trace', (shard) => {
      shard.targets[1].traceDigest = '0'.repeat(64);
    });
    const run = runPmfit(['merge', shardDir(1), other, shardDir(3), '-o', path.join(dir, 'refused')]);
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(
      /^pmfit: target alloc was recorded differently by shard 2\/3 .* \(trace digests differ/,
    );
  });
});

describe('pmfit merge of a configured target on a 16 MiB PM file', () => {
  it('gives the unsharded results.json', () => {
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
    const run = runPmfit(['merge', 's1', 's2', '-o', 'reports'], { cwd: work });
    expect(run.code).toBe(1);
    const expected = read(path.join(work, 'single', 'results.json'));
    const got = read(path.join(work, 'reports', 'results.json'));
    expect(normalized(got)).toEqual(normalized(expected));
    expect(got.runs.find((r) => r.target === 'torn' && r.model === 'px86')!.violations).toBeGreaterThan(0);
  });
});
