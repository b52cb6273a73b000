// reproduce -- every group's reproduce line, run in a shell as a user would
// paste it, exits 1 for a violation and 0 for a consistent group: on the
// positive control basic, on tree_broken run as a user's program (relative
// ./prog, --setup {file}, --recover ./check {file}), on the libpmemobj target
// txmap and on its broken build with a 16 MiB pool. Also: the image's hash
// is checked, the crash image is left to look at, and a results.json that
// no longer matches its trace is a one-line error (exit 2).

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { OutcomeGroup, Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { cliPath, oneLineError, runPmfit } from '../helpers/run-pmfit';
import { copyTreeBroken, treeBrokenUserOptions } from '../helpers/tree-broken-user';

let dir: string;
let bin: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-reproduce-'));
  // The reproduce lines say `pmfit`, as after `npm link`.
  bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'pmfit'), `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`, {
    mode: 0o755,
  });
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function readResults(reports: string): Results {
  return JSON.parse(fs.readFileSync(path.join(reports, 'results.json'), 'utf8')) as Results;
}

function groups(results: Results): OutcomeGroup[] {
  return results.runs.flatMap((run) => run.groups);
}

function shell(line: string, cwd: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('/bin/sh', ['-c', line], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every group's line exits as its verdict says, the image hash matching. */
function expectEveryGroupReproduces(results: Results, cwd: string): void {
  const all = groups(results);
  expect(all.length).toBeGreaterThan(0);
  for (const group of all) {
    expect(group.example.reproduce).toMatch(/^pmfit reproduce \S+ \S+$/);
    const run = shell(group.example.reproduce, cwd);
    expect({ id: group.id, code: run.code, stderr: run.stderr }).toEqual({
      id: group.id,
      code: group.violation ? 1 : 0,
      stderr: '',
    });
    expect(run.stdout).toContain('its hash matches results.json');
    expect(run.stdout).toContain(group.violation ? 'the violation reproduces' : 'consistent, as recorded');
  }
}

describe('basic, the positive control', () => {
  let reports: string;
  let results: Results;
  let stdout: string;

  beforeAll(() => {
    const work = path.join(dir, 'basic');
    fs.mkdirSync(work);
    reports = path.join(work, 'reports');
    const run = runPmfit(['allcounts', '--target', 'basic', '-o', 'reports'], { cwd: work });
    expect(run.code).toBe(0);
    stdout = run.stdout;
    results = readResults(reports);
  }, 120_000);

  it('keeps the trace beside results.json and names it', () => {
    expect(results.targets[0]).toMatchObject({ trace: 'traces/basic.trace', check: { kind: 'spec' } });
    expect(fs.statSync(path.join(reports, 'traces', 'basic.trace')).isFile()).toBe(true);
  });

  it('every group of every model reproduces: exit 1 for its violations, 0 for the rest', () => {
    expect(groups(results).filter((group) => group.violation).length).toBeGreaterThanOrEqual(3);
    expectEveryGroupReproduces(results, path.dirname(reports));
  }, 300_000);

  it('every finding reproduces its example image as a violation', () => {
    const findings = results.runs.flatMap((run) => run.findings ?? []);
    expect(findings.length).toBeGreaterThanOrEqual(3);
    for (const finding of findings) {
      expect(finding.example.reproduce).toBe(`pmfit reproduce reports/results.json ${finding.id}`);
      const run = shell(finding.example.reproduce, path.dirname(reports));
      expect({ id: finding.id, code: run.code, stderr: run.stderr }).toEqual({ id: finding.id, code: 1, stderr: '' });
      expect(run.stdout).toContain('the violation reproduces');
    }
  }, 300_000);

  it('the console names the reproduce line of each violation, and says why px86 ranges overlap', () => {
    for (const group of groups(results).filter((g) => g.violation))
      expect(stdout).toContain(`  reproduce: pmfit reproduce reports/results.json ${group.id}\n`);
    expect(stdout).toMatch(
      /px86 leaves several images per crash point \(\d+ states in all\): a crash point is listed under each outcome one of its images has, so ranges overlap/,
    );
  });

  it('leaves the crash image untouched in a fresh directory, and the recovered copy beside it', () => {
    const group = groups(results).find((g) => g.violation && g.id.includes('px86'))!;
    const out = path.join(dir, 'basic-image');
    const run = runPmfit(['reproduce', path.join(reports, 'results.json'), group.id, '-o', out]);
    expect(run.code).toBe(1);
    expect(fs.statSync(path.join(out, 'crash', 'basic.pm')).size).toBeGreaterThan(0);
    expect(fs.statSync(path.join(out, 'recovered', 'basic.pm')).size).toBeGreaterThan(0);
    // -o names a new directory only.
    const again = runPmfit(['reproduce', path.join(reports, 'results.json'), group.id, '-o', out]);
    expect(again.code).toBe(2);
    expect(oneLineError(again)).toMatch(/exists: pmfit reproduce writes into a new directory only/);
  });

  it('a group that is not there, a hash the trace does not give, a missing trace: one line, exit 2', () => {
    const file = path.join(reports, 'results.json');
    const unknown = runPmfit(['reproduce', file, 'basic-px86-99']);
    expect(unknown.code).toBe(2);
    expect(oneLineError(unknown)).toMatch(/has no group basic-px86-99 \(groups: basic-sequential-1, /);

    const tampered = path.join(reports, 'tampered.json');
    const copy = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
    copy.runs[2].groups[1].example.hash = '0'.repeat(32);
    fs.writeFileSync(tampered, JSON.stringify(copy));
    const mismatch = runPmfit(['reproduce', tampered, copy.runs[2].groups[1].id]);
    expect(mismatch.code).toBe(2);
    expect(oneLineError(mismatch)).toMatch(/has the recorded image hash 0{32} .*not the one this run checked/);

    const badCheck = JSON.parse(fs.readFileSync(file, 'utf8')) as { targets: { check: unknown }[] };
    badCheck.targets[0].check = { kind: 'recover', recover: 'not a list' };
    const badFile = path.join(reports, 'bad-check.json');
    fs.writeFileSync(badFile, JSON.stringify(badCheck));
    const bad = runPmfit(['reproduce', badFile, 'basic-px86-2']);
    expect(bad.code).toBe(2);
    expect(oneLineError(bad)).toMatch(/does not match the results schema: \$\.targets\[0\]\.check/);

    const moved = path.join(dir, 'moved');
    fs.mkdirSync(moved);
    fs.copyFileSync(file, path.join(moved, 'results.json'));
    const gone = runPmfit(['reproduce', path.join(moved, 'results.json'), 'basic-px86-2']);
    expect(gone.code).toBe(2);
    expect(oneLineError(gone)).toMatch(/the trace of basic is gone: .*traces\/basic\.trace/);
  });
});

describe('tree_broken as a user program: --cmd ./tb, --setup and --recover with {file}', () => {
  it('every group reproduces from the directory it ran in', () => {
    const work = path.join(dir, 'tree');
    fs.mkdirSync(work);
    copyTreeBroken(work);
    const run = runPmfit(['allcounts', ...treeBrokenUserOptions, '-o', 'reports'], { cwd: work });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: '' });
    const results = readResults(path.join(work, 'reports'));
    expect(results.targets[0].check).toEqual({ kind: 'recover', recover: ['./tb check {file}'], cwd: work, env: {} });
    expect(results.runs.every((r) => r.violations > 0)).toBe(true);
    // k = 0 is consistent: the relative ./tb ran where pmfit was started.
    expect(results.runs.every((r) => r.groups[0].crashPoints.startsWith('0-') && !r.groups[0].violation)).toBe(true);
    expectEveryGroupReproduces(results, work);
    // The user's directory holds only what was there and the reports.
    expect(fs.readdirSync(work).sort()).toEqual(['reports', 'tb']);
  }, 300_000);
});

describe('the libpmemobj target txmap', () => {
  it('built in (consistent): every group of every model reproduces with exit 0', () => {
    const work = path.join(dir, 'txmap');
    fs.mkdirSync(work);
    const run = runPmfit(['allcounts', '--target', 'txmap', '-o', 'reports'], { cwd: work, timeoutMs: 300_000 });
    expect(run.code).toBe(0);
    const results = readResults(path.join(work, 'reports'));
    // recorded by the default, fast recorder: no pmfit crash line anywhere
    expect(results.targets[0].recorder).toBe('fast');
    expect(run.stdout).not.toContain('pmfit crash');
    expectEveryGroupReproduces(results, work);
  }, 400_000);

  it('its broken build with a 16 MiB pool, environment set in --cmd: every group reproduces', () => {
    const work = path.join(dir, 'txmap-broken');
    fs.mkdirSync(work);
    fs.copyFileSync(fixture('txmap_broken_noadd'), path.join(work, 'tbn'));
    fs.chmodSync(path.join(work, 'tbn'), 0o755);
    const run = runPmfit(
      [
        'allcounts',
        '--cmd',
        'PMEM_IS_PMEM_FORCE=1 ./tbn insert p.pm 1=10 9=90',
        '--pm',
        'p.pm',
        '--setup',
        './tbn create {file} 16M',
        '--recover',
        'PMEM_IS_PMEM_FORCE=1 ./tbn check {file}',
        '-o',
        'reports',
      ],
      { cwd: work, timeoutMs: 300_000 },
    );
    expect(run.code).toBe(1);
    const reports = path.join(work, 'reports');
    const results = readResults(reports);
    expect(results.targets[0].recorder).toBe('fast');
    expect(run.stdout).not.toContain('pmfit crash');
    expect(results.runs.every((r) => r.violations > 0)).toBe(true);
    // PMEM_IS_PMEM_FORCE=1 in --cmd reached the program: libpmem flushes
    // with instructions (without it, it calls msync on a tmpfs file).
    const show = runPmfit(['trace', 'show', '--json', path.join(reports, results.targets[0].trace!)]);
    const kinds = new Set(
      (JSON.parse(show.stdout) as { events: { kind: string }[] }).events.map((event) => event.kind),
    );
    expect(['clflush', 'clflushopt', 'clwb'].some((kind) => kinds.has(kind))).toBe(true);
    // The 16 MiB pool's trace is kept sparse: its zero runs take no blocks.
    const trace = fs.statSync(path.join(reports, results.targets[0].trace!));
    expect(trace.size).toBeGreaterThan(16 * 2 ** 20);
    expect(trace.blocks * 512).toBeLessThan(trace.size / 2);
    expectEveryGroupReproduces(results, work);
  }, 400_000);
});

describe('pmfit fuzz', () => {
  // Every group of the counterexample's run, not only the counterexample:
  // `pmfit crash k` lines rebuilt a killed process's file, never a px86 or
  // flushed image, so they did not reproduce those groups.
  it.each([
    ['basic', 'px86', '5'],
    ['tree_broken', 'flushed', '10'],
  ])(
    '%s under %s: the trace is kept, every group reproduces (exit 1 violation, 0 consistent), the console names the line',
    (target, model, runs) => {
      const work = path.join(dir, `fuzz-${target}`);
      fs.mkdirSync(work);
      const run = runPmfit(['fuzz', target, '--seed', '1', '--runs', runs, '--model', model, '-o', 'reports'], {
        cwd: work,
        timeoutMs: 300_000,
      });
      expect(run.code).toBe(1);
      const results = readResults(path.join(work, 'reports'));
      expect(results.targets[0]).toMatchObject({
        trace: `traces/${target}.trace`,
        check: { kind: 'fuzz', split: expect.any(Number) },
      });
      expect(groups(results).some((group) => group.violation)).toBe(true);
      expect(groups(results).some((group) => !group.violation)).toBe(true);
      expect(run.stdout).not.toContain('pmfit crash');
      const failing = groups(results).find((group) => group.violation && run.stdout.includes(group.example.reproduce));
      expect(run.stdout).toContain(
        `reproduce this image (exit 1 while it still fails): ${failing?.example.reproduce}\n`,
      );
      expectEveryGroupReproduces(results, work);
    },
    300_000,
  );
});
