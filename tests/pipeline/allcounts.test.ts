// allcounts -- the main job end to end, through the CLI as CI runs it.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { oneLineError, runPmfit } from '../helpers/run-pmfit';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-allcounts-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function readResults(reports: string): Results {
  return JSON.parse(fs.readFileSync(path.join(reports, 'results.json'), 'utf8')) as Results;
}

describe('pmfit allcounts on the built-in targets', () => {
  let results: Results;
  let stdout: string;
  let code: number | null;

  // Four targets, txmap's libpmemobj recoveries the longest part (README).
  beforeAll(() => {
    const reports = path.join(dir, 'builtin');
    const run = runPmfit(['allcounts', '-o', reports], { timeoutMs: 600_000 });
    ({ stdout, code } = run);
    results = readResults(reports);
    expect(fs.existsSync(path.join(reports, 'index.html'))).toBe(true);
    expect(fs.existsSync(path.join(reports, 'junit.xml'))).toBe(true);
  }, 600_000);

  it('passes the gate: exit 0, every run as expected', () => {
    expect(code).toBe(0);
    expect(results.status).toBe('pass');
    expect(results.runs.map((run) => `${run.target}/${run.model}`)).toEqual([
      'basic/sequential',
      'basic/flushed',
      'basic/px86',
      'alloc/sequential',
      'alloc/flushed',
      'alloc/px86',
      'tree/sequential',
      'tree/flushed',
      'tree/px86',
      'txmap/sequential',
      'txmap/flushed',
      'txmap/px86',
    ]);
  });

  it.each(['alloc', 'tree', 'txmap'])('%s shows no violation under any model', (target) => {
    for (const run of results.runs.filter((r) => r.target === target)) {
      expect(run.violations).toBe(0);
      expect(run.crashPoints).toBe(run.instructions + 1);
      expect(run.distinctImages).toBeGreaterThan(1);
    }
  });

  it('basic shows torn strings under flushed and px86', () => {
    for (const model of ['flushed', 'px86']) {
      const run = results.runs.find((r) => r.target === 'basic' && r.model === model)!;
      expect(run.violations).toBeGreaterThan(0);
      const torn = run.groups.filter((group) => group.violation);
      expect(torn.length).toBeGreaterThan(0);
      expect(torn[0].failed.join(' ')).toMatch(/all-or-nothing append/);
    }
  });

  it('prints collated ranges in the original allcounts style and a summary', () => {
    expect(stdout).toMatch(/Output for iterations: \d+(-\d+)?(,\d+(-\d+)?)*/);
    // the default (fast) recorder counts "N steps"
    expect(stdout).toMatch(/tree\s+px86\s+\d+ steps\s+\d+\s+\d+\s+0\s/);
  });

  it('px86 sees at least as many distinct images as sequential', () => {
    for (const target of ['alloc', 'tree']) {
      const of = (model: string) => results.runs.find((r) => r.target === target && r.model === model)!;
      expect(of('px86').distinctImages).toBeGreaterThanOrEqual(of('sequential').distinctImages);
    }
  });
});

describe('pmfit allcounts --cmd', () => {
  const program = fixture('user_record');

  function runUser(mode: string[]) {
    const work = fs.mkdtempSync(path.join(dir, 'user-'));
    execFileSync(program, ['init', path.join(work, 'rec.pm')]);
    const before = fs.readFileSync(path.join(work, 'rec.pm'));
    const reports = path.join(work, 'reports');
    const result = runPmfit(
      [
        'allcounts',
        '--cmd',
        [program, 'set', 'rec.pm', '7', ...mode].join(' '),
        '--pm',
        'rec.pm',
        '--recover',
        `${program} check {file}`,
        '-o',
        reports,
      ],
      { cwd: work },
    );
    // The user's own file is never written.
    expect(fs.readFileSync(path.join(work, 'rec.pm')).equals(before)).toBe(true);
    return { result, results: readResults(reports) };
  }

  it('a correct program is consistent under every model', () => {
    const { result, results } = runUser([]);
    expect(result.code).toBe(0);
    expect(results.runs.map((run) => run.violations)).toEqual([0, 0, 0]);
  });

  it('an in-place update tears, and the recovery exit status says so', () => {
    const { result, results } = runUser(['unsafe']);
    expect(result.code).toBe(1);
    const px86 = results.runs.find((run) => run.model === 'px86')!;
    expect(px86.violations).toBeGreaterThan(0);
    expect(
      px86.groups.some((group) => group.kind === 'recovery-failed' && /torn record/.test(group.recoveryOutput)),
    ).toBe(true);
  });
});

describe('pmfit allcounts usage errors', () => {
  it.each([
    [['--target', 'nope'], /unknown target 'nope'/],
    [['--model', 'tso'], /unknown model 'tso'/],
    [['--cmd', 'true'], /--cmd needs exactly one --pm FILE/],
    [['--pm', 'x.pm'], /--pm belongs with --cmd/],
  ])('%j', (args, pattern) => {
    const result = runPmfit(['allcounts', ...args, '-o', path.join(dir, 'unused')]);
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toMatch(pattern);
  });
});
