// merge-models.test -- `pmfit merge` of the shards of a config whose targets
// give their own `models` (docs/config.md): the merged results.json, HTML
// and JUnit equal the unsharded run's, each target under its own models
// only; and a shard whose target was given other models is not one of the
// run's.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderHtml } from '../../../harness/report/html';
import { renderJunit } from '../../../harness/report/junit';
import type { Results } from '../../../harness/results/schema';
import type { ShardResults } from '../../../harness/results/shard-results';
import { UNWIND_LIBRARY_ENV } from '../../../harness/tracer/unwinding';
import { fixture } from '../../fixtures';
import { junitText, normalized } from '../../helpers/run-equality';
import { oneLineError, runPmfit as run } from '../../helpers/run-pmfit';

/** Without call stacks, as merge.test.ts: the stacks' merge is merge-stacks.test.ts's. */
const runPmfit = (args: string[], options: Parameters<typeof run>[1] = {}) =>
  run(args, { ...options, env: { ...options.env, [UNWIND_LIBRARY_ENV]: '/nonexistent/libdw.so.1' } });

const COUNTS = [2, 3];
let work: string;
const read = (file: string): Results => JSON.parse(fs.readFileSync(file, 'utf8')) as Results;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-merge-models-'));
  fs.copyFileSync(fixture('user_record'), path.join(work, 'user_record'));
  fs.chmodSync(path.join(work, 'user_record'), 0o755);
  const base = { pm: 'rec.pm', setup: './user_record init {file}', recover: './user_record check {file}' };
  fs.writeFileSync(
    path.join(work, 'pmfit.config.json'),
    JSON.stringify({
      targets: [
        {
          ...base,
          name: 'torn',
          command: ['./user_record', 'set', 'rec.pm', '7', 'unsafe'],
          expect: 'violations',
          models: ['px86', 'flushed'],
        },
        { ...base, name: 'safe', command: ['./user_record', 'set', 'rec.pm', '7'] },
      ],
      models: ['sequential'],
    }),
  );
  // Reports written as `-o reports` from a directory of their own, so that
  // reproduce lines (pmfit reproduce reports/results.json ID) compare equal.
  fs.mkdirSync(path.join(work, 'single'));
  const config = ['--config', path.join(work, 'pmfit.config.json')];
  expect(runPmfit(['allcounts', ...config, '-o', 'reports'], { cwd: path.join(work, 'single') }).code).toBe(0);
  for (const count of COUNTS) {
    for (let i = 1; i <= count; i++)
      expect(runPmfit(['allcounts', '--shard', `${i}/${count}`, '-o', `s${count}-${i}`], { cwd: work }).code).toBe(0);
    const dirs = Array.from({ length: count }, (_, i) => path.join(work, `s${count}-${i + 1}`));
    fs.mkdirSync(path.join(work, `merged-${count}`));
    expect(runPmfit(['merge', ...dirs, '-o', 'reports'], { cwd: path.join(work, `merged-${count}`) }).code).toBe(0);
  }
}, 600_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe.each(COUNTS)('pmfit merge of %i shards of targets with their own models', (count) => {
  it('gives the unsharded results.json, HTML and JUnit', () => {
    const single = read(path.join(work, 'single', 'reports', 'results.json'));
    expect(single.runs.map((r) => [r.target, r.model])).toEqual([
      ['torn', 'px86'],
      ['torn', 'flushed'],
      ['safe', 'sequential'],
    ]);
    expect(single.runs[0].violations).toBeGreaterThan(0);
    const merged = read(path.join(work, `merged-${count}`, 'reports', 'results.json'));
    expect(normalized(merged)).toEqual(normalized(single));
    expect(merged.targets.map((t) => t.models)).toEqual([['px86', 'flushed'], undefined]);
    expect(renderHtml(normalized(merged))).toBe(renderHtml(normalized(single)));
    expect(junitText(path.join(work, `merged-${count}`, 'reports', 'junit.xml'))).toBe(
      junitText(path.join(work, 'single', 'reports', 'junit.xml')),
    );
    expect(renderJunit(merged)).not.toContain('skipped="1"');
  });
});

describe('pmfit merge with a target given other models in one shard', () => {
  it('refuses it with one line', () => {
    const copy = path.join(work, 'other-models');
    fs.cpSync(path.join(work, 's2-2'), copy, { recursive: true });
    const file = path.join(copy, 'pmfit-shard.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as ShardResults;
    data.targets[0].record.models = ['px86'];
    fs.writeFileSync(file, JSON.stringify(data));
    const merge = runPmfit(['merge', 's2-1', copy, '-o', 'refused'], { cwd: work });
    expect(merge.code).toBe(2);
    expect(oneLineError(merge)).toMatch(/^pmfit: target torn is defined differently in shard 2\/2 /);
    expect(fs.existsSync(path.join(work, 'refused'))).toBe(false);
  });
});
