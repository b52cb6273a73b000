// config.test -- pmfit.config.json through the CLI: `pmfit init`, then
// `pmfit allcounts` with no target options runs every configured target into
// one results.json; --target picks, command-line options win; a bad config is
// one line and exit 2.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { oneLineError, runPmfit } from '../helpers/run-pmfit';

const program = fixture('user_record');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-config-'));
  // The program is found relative to the config's directory.
  fs.copyFileSync(program, path.join(dir, 'user_record'));
  fs.chmodSync(path.join(dir, 'user_record'), 0o755);
  fs.writeFileSync(
    path.join(dir, 'pmfit.config.json'),
    JSON.stringify({
      targets: [
        {
          name: 'safe',
          command: ['./user_record', 'set', 'rec.pm', '7'],
          pm: 'rec.pm',
          setup: './user_record init {file}',
          recover: './user_record check {file}',
        },
        {
          name: 'torn',
          command: ['./user_record', 'set', 'rec.pm', '7', 'unsafe'],
          pm: 'rec.pm',
          setup: './user_record init {file}',
          recover: './user_record check {file}',
          expect: 'violations',
        },
      ],
      models: ['flushed'],
      output: 'out',
    }),
  );
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const results = (reports: string): Results =>
  JSON.parse(fs.readFileSync(path.join(reports, 'results.json'), 'utf8')) as Results;

describe('pmfit allcounts with pmfit.config.json', () => {
  it('runs every configured target into one set of reports', () => {
    const run = runPmfit(['allcounts'], { cwd: dir });
    expect(run.code).toBe(0);
    const out = results(path.join(dir, 'out'));
    expect(out.targets.map((t) => t.name)).toEqual(['safe', 'torn']);
    expect(out.runs.map((r) => [r.target, r.model, r.status])).toEqual([
      ['safe', 'flushed', 'pass'],
      ['torn', 'flushed', 'pass'],
    ]);
    expect(out.runs[1].violations).toBeGreaterThan(0);
    expect(out.options.models).toEqual(['flushed']);
    for (const file of ['index.html', 'junit.xml']) expect(fs.existsSync(path.join(dir, 'out', file))).toBe(true);
    // --setup made a fresh file each time: nothing was created beside the config.
    expect(fs.existsSync(path.join(dir, 'rec.pm'))).toBe(false);
  });

  it('--target picks a target, and command-line options win over the config', () => {
    const reports = path.join(dir, 'picked');
    const run = runPmfit(['allcounts', '--target', 'torn', '--model', 'sequential', '-o', reports], { cwd: dir });
    expect(run.code).toBe(0);
    const out = results(reports);
    expect(out.runs.map((r) => [r.target, r.model])).toEqual([['torn', 'sequential']]);
  });

  it('--config names a config elsewhere; its commands run from its directory', () => {
    const reports = path.join(dir, 'elsewhere');
    const run = runPmfit(
      ['allcounts', '--config', path.join(dir, 'pmfit.config.json'), '--target', 'safe', '-o', reports],
      { cwd: os.tmpdir() },
    );
    expect(run.code).toBe(0);
    expect(results(reports).runs.map((r) => r.target)).toEqual(['safe']);
  });

  it('refuses a bad config with one line naming the JSON path', () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ targets: [{ name: 'x', command: ['./p'], pm: 'p.pm', recovr: 'x' }] }));
    const run = runPmfit(['allcounts', '--config', bad], { cwd: dir });
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(
      /^pmfit: .*bad\.json: \$\.targets\[0\]\.recovr is not a known key \(did you mean recover\? known: /,
    );
    const unknown = runPmfit(['allcounts', '--target', 'nope'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(oneLineError(unknown)).toBe("pmfit: unknown target 'nope' (targets in pmfit.config.json: safe, torn)");
  });
});

describe("a target's own timeout", () => {
  // Setup takes over a second; the limits are far from it either way. The
  // run's timeout is 0.5 s; `patient` gives itself 60 s, `limited` (only
  // run with --target) gives itself 0.5 s under a run timeout of 60 s.
  const slowSetup = 'sleep 1.5 && ./user_record init {file}';
  const target = (name: string, timeout?: number) => ({
    name,
    command: ['./user_record', 'set', 'rec.pm', '7'],
    pm: 'rec.pm',
    setup: slowSetup,
    recover: './user_record check {file}',
    ...(timeout !== undefined ? { timeout } : {}),
  });
  const config = (dir: string, timeout: number, targets: object[]): string => {
    const file = path.join(dir, `timeouts-${timeout}.json`);
    fs.writeFileSync(file, JSON.stringify({ targets, models: ['sequential'], timeout }));
    return file;
  };

  it('applies to that target and not to the others', () => {
    const file = config(dir, 0.5, [target('patient', 60), target('hasty')]);
    const reports = path.join(dir, 'timeouts');
    const run = runPmfit(['allcounts', '--config', file, '-o', reports], { cwd: dir });
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(/^pmfit: setup of hasty failed \(.*timed out after 0\.5 s \(--timeout\)\)$/);
    const out = results(reports);
    expect(out.incomplete).toBe(true);
    expect(out.runs.map((r) => [r.target, r.status])).toEqual([['patient', 'pass']]);
    expect(out.targets.map((t) => [t.name, t.timeoutMs])).toEqual([['patient', 60_000]]);
    expect(out.options.timeoutMs).toBe(500);
  });

  it("is shorter than the run's when it says so, and --timeout wins over both", () => {
    const file = config(dir, 60, [target('limited', 0.5), target('other')]);
    const short = runPmfit(['allcounts', '--config', file, '--target', 'limited', '-o', path.join(dir, 'limited')], {
      cwd: dir,
    });
    expect(short.code).toBe(2);
    expect(oneLineError(short)).toMatch(
      /^pmfit: setup of limited failed \(.*timed out after 0\.5 s \(the target's timeout\)\)$/,
    );
    const cli = path.join(dir, 'cli-timeout');
    const run = runPmfit(['allcounts', '--config', file, '--target', 'limited', '--timeout', '30', '-o', cli], {
      cwd: dir,
    });
    expect(run.code).toBe(0);
    expect(results(cli).targets.map((t) => [t.name, t.timeoutMs])).toEqual([['limited', undefined]]);
    expect(results(cli).options.timeoutMs).toBe(30_000);
  });
});

describe("a target's own models", () => {
  // `torn` is checked under flushed and px86 (its own models), `safe` under
  // the top-level sequential and flushed.
  const file = (): string => {
    const config = path.join(dir, 'models.json');
    const base = { pm: 'rec.pm', setup: './user_record init {file}', recover: './user_record check {file}' };
    fs.writeFileSync(
      config,
      JSON.stringify({
        targets: [
          { ...base, name: 'safe', command: ['./user_record', 'set', 'rec.pm', '7'] },
          {
            ...base,
            name: 'torn',
            command: ['./user_record', 'set', 'rec.pm', '7', 'unsafe'],
            expect: 'violations',
            models: ['flushed', 'px86'],
          },
        ],
        models: ['sequential', 'flushed'],
      }),
    );
    return config;
  };

  it('win over the top-level models, and results.json, JUnit, HTML and reproduce carry them', () => {
    const reports = path.join(dir, 'own-models');
    const run = runPmfit(['allcounts', '--config', file(), '-o', reports], { cwd: dir });
    expect(run.code).toBe(0);
    const out = results(reports);
    expect(out.runs.map((r) => [r.target, r.model, r.status])).toEqual([
      ['safe', 'sequential', 'pass'],
      ['safe', 'flushed', 'pass'],
      ['torn', 'flushed', 'pass'],
      ['torn', 'px86', 'pass'],
    ]);
    expect(out.options.models).toEqual(['sequential', 'flushed']);
    expect(out.targets.map((t) => [t.name, t.models])).toEqual([
      ['safe', undefined],
      ['torn', ['flushed', 'px86']],
    ]);
    // No case or row for a model a target does not run, none skipped.
    const junit = fs.readFileSync(path.join(reports, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="pmfit" tests="\d+" failures="0" errors="0" skipped="0"/);
    expect(junit).not.toContain('classname="pmfit.torn.sequential"');
    expect(junit).not.toContain('classname="pmfit.safe.px86"');
    const html = fs.readFileSync(path.join(reports, 'index.html'), 'utf8');
    expect(html).not.toContain('data-target="torn" data-model="sequential"');
    expect(html).not.toContain('data-target="safe" data-model="px86"');
    expect(html).not.toContain('not run');
    // A px86 group, a model only the target's own models name, reproduces.
    const group = out.runs[3].groups.find((g) => g.violation)!;
    const again = runPmfit(['reproduce', path.join(reports, 'results.json'), group.id, '-o', path.join(dir, 'again')], {
      cwd: dir,
    });
    expect(again.stdout).toContain(`reproduce ${group.id}: torn, model px86,`);
    expect(again.stdout).toContain('the violation reproduces');
    expect(again.code).toBe(1);
  });

  it('yield to --model, which every target runs under', () => {
    const reports = path.join(dir, 'cli-models');
    const run = runPmfit(['allcounts', '--config', file(), '--model', 'sequential', '-o', reports], { cwd: dir });
    expect(run.code).toBe(0);
    const out = results(reports);
    expect(out.runs.map((r) => [r.target, r.model])).toEqual([
      ['safe', 'sequential'],
      ['torn', 'sequential'],
    ]);
    expect(out.targets.map((t) => t.models)).toEqual([undefined, undefined]);
  });

  it('refuses an unknown model in a target with one line', () => {
    const bad = path.join(dir, 'bad-models.json');
    const target = { name: 'x', command: ['./user_record'], pm: 'p.pm', recover: 'x {file}', models: ['tso'] };
    fs.writeFileSync(bad, JSON.stringify({ targets: [target] }));
    const run = runPmfit(['allcounts', '--config', bad], { cwd: dir });
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(
      /^pmfit: .*bad-models\.json: \$\.targets\[0\]\.models\[0\] is not one of "sequential", "flushed", "px86"$/,
    );
  });
});

describe('pmfit init', () => {
  it('writes a config that allcounts runs, and refuses to replace it', () => {
    const work = fs.mkdtempSync(path.join(dir, 'init-'));
    const init = runPmfit(
      [
        'init',
        '--cmd',
        `${program} set rec.pm 7 unsafe`,
        '--pm',
        'rec.pm',
        '--setup',
        `${program} init {file}`,
        '--recover',
        `${program} check {file}`,
      ],
      { cwd: work },
    );
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('Wrote pmfit.config.json with target user_record');
    const before = fs.readFileSync(path.join(work, 'pmfit.config.json'), 'utf8');
    const again = runPmfit(['init'], { cwd: work });
    expect(again.code).toBe(2);
    expect(oneLineError(again)).toMatch(/pmfit\.config\.json already exists/);
    expect(fs.readFileSync(path.join(work, 'pmfit.config.json'), 'utf8')).toBe(before);
    const run = runPmfit(['allcounts', '--model', 'flushed', '-o', 'reports'], { cwd: work });
    expect(run.code).toBe(1);
    expect(results(path.join(work, 'reports')).runs[0].violations).toBeGreaterThan(0);
  });
});
