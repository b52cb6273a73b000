// recovery-crashes -- crashes during recovery (allcounts --depth 2) on the
// real tree program and on builds of it whose recovery is not crash-safe
// (bench/mutants/patches/recovery-*.patch): only depth 2 finds them, as
// their own kind of violation, and pmfit reproduce gives them again.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Builder, readSources } from '../../bench/mutants/build';
import { loadPatches } from '../../bench/mutants/patches';
import { scenario } from '../../bench/mutants/scenarios';
import { projectRoot } from '../../harness/_internals/paths';
import { recoveryLaunch, sampleOf } from '../../harness/pipeline/recovery-crashes';
import { runTarget } from '../../harness/pipeline/run-target';
import { type ModelName, resolveOptions } from '../../harness/persistency/model';
import type { Results } from '../../harness/results/schema';
import { treeSpec } from '../../targets/tree/spec';
import { runPmfit } from '../helpers/run-pmfit';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-depth2-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function build(patch: string | undefined): Promise<string> {
  const sources = readSources();
  const builder = new Builder(dir, sources);
  const out = path.join(dir, patch ?? 'real');
  if (!patch) {
    const real = await builder.build(out, ['tree']);
    expect(real.error).toBeUndefined();
    return real.programs.tree as string;
  }
  const { mutants } = loadPatches(path.join(projectRoot, 'bench', 'mutants', 'patches'), sources);
  const mutant = mutants.find((m) => m.name === `patch:${patch}`);
  expect(mutant).toBeDefined();
  const built = await builder.build(out, ['tree'], { file: 'alloc.c', text: mutant!.text });
  expect(built.error).toBeUndefined();
  return built.programs.tree as string;
}

async function run(program: string, models: ModelName[], depth2: boolean) {
  const spec = scenario('tree-small').spec(program, 'clflush');
  return runTarget({
    spec,
    models,
    modelOptions: resolveOptions(),
    jobs: 2,
    timeoutMs: 10_000,
    ...(depth2 ? { recoveryCrashes: {} } : {}),
  });
}

describe('crashes during recovery', () => {
  test('the real tree recovery is crash-safe: depth 2 traces every recovery and finds nothing', async () => {
    const outcome = await run(await build(undefined), ['flushed'], true);
    const [flushed] = outcome.runs;
    expect(flushed.violations).toBe(0);
    const summary = flushed.recoveryCrashes!;
    expect(summary.traced).toBe(summary.candidates);
    expect(summary.traced).toBe(flushed.distinctImages);
    // alloc_recover is marked (pmfit_recovery_begin/_end) and runs on every open
    expect(summary.instructions).toBeGreaterThan(summary.traced * 50);
    expect(summary.withoutRegion).toBe(0);
    expect(summary.distinctImages).toBeGreaterThan(0);
  }, 120_000);

  test('redone links left unpersisted: invisible at depth 1, not crash-safe at depth 2 under flushed', async () => {
    const program = await build('recovery-redo-unpersisted');
    const depth1 = await run(program, ['sequential', 'flushed'], false);
    expect(depth1.runs.map((r) => r.violations)).toEqual([0, 0]);
    const depth2 = await run(program, ['sequential', 'flushed'], true);
    const [sequential, flushed] = depth2.runs;
    // sequential keeps every store, so the missing persist cannot show there
    expect(sequential.violations).toBe(0);
    expect(flushed.violations).toBeGreaterThan(0);
    const groups = flushed.groups.filter((g) => g.violation);
    expect(groups.every((g) => g.kind === 'recovery-not-crash-safe')).toBe(true);
    const example = groups[0].example;
    expect(example.recoveryCrash!.k).toBeGreaterThan(0);
    expect(example.recoveryCrash!.k).toBeLessThanOrEqual(example.recoveryCrash!.instructions);
    expect(groups[0].failed[0]).toMatch(/recovery is not crash-safe: a crash at recovery instruction \d+ of \d+/);
    expect(flushed.recoveryCrashes!.failures).toBeGreaterThan(0);
  }, 180_000);

  test('state set before the redo: not crash-safe under every model, sequential included', async () => {
    const program = await build('recovery-state-before-redo');
    const depth2 = await run(program, ['sequential'], true);
    expect(depth2.runs[0].violations).toBeGreaterThan(0);
    expect(depth2.runs[0].groups.filter((g) => g.violation).map((g) => g.kind)).toEqual(
      expect.arrayContaining(['recovery-not-crash-safe']),
    );
  }, 120_000);

  test('a sample bounds the work: --recovery-crashes N traces N recoveries', async () => {
    const spec = scenario('tree-small').spec(await build(undefined), 'clflush');
    const outcome = await runTarget({
      spec,
      models: ['sequential'],
      modelOptions: resolveOptions(),
      jobs: 2,
      timeoutMs: 10_000,
      recoveryCrashes: { sample: 3 },
    });
    expect(outcome.runs[0].recoveryCrashes!.traced).toBe(3);
    expect(outcome.runs[0].recoveryCrashes!.candidates).toBeGreaterThan(3);
  }, 120_000);
});

describe('allcounts --cmd --depth 2 and pmfit reproduce', () => {
  test('the reproduce line names both crash points, and reproduces the recovery crash', async () => {
    const tree = await build('recovery-redo-unpersisted');
    const work = fs.mkdtempSync(path.join(dir, 'cli-'));
    const run = runPmfit(
      [
        'allcounts',
        '--cmd',
        `${tree} insert t.pm one two one`,
        '--pm',
        't.pm',
        '--setup',
        `${tree} init {file} 64K`,
        '--recover',
        `${tree} check {file}`,
        '--depth',
        '2',
        '--model',
        'flushed',
        '-o',
        'reports',
      ],
      { cwd: work },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/VIOLATION \(recovery-not-crash-safe\): recovery is not crash-safe/);
    const results = JSON.parse(fs.readFileSync(path.join(work, 'reports', 'results.json'), 'utf8')) as Results;
    expect(results.options.recoveryCrashes).toEqual({});
    const group = results.runs[0].groups.find((g) => g.kind === 'recovery-not-crash-safe')!;
    const { k, recoveryCrash } = group.example;
    expect(group.example.reproduce).toBe(
      `pmfit reproduce reports/results.json ${group.id} --at ${k}:${recoveryCrash!.k}`,
    );
    expect(fs.readFileSync(path.join(work, 'reports', 'junit.xml'), 'utf8')).toContain('kind: recovery-not-crash-safe');

    const again = runPmfit(['reproduce', 'reports/results.json', group.id, '--at', `${k}:${recoveryCrash!.k}`], {
      cwd: work,
    });
    expect(again.stdout).toContain(`then a crash at j=${recoveryCrash!.k} of its recovery`);
    expect(again.stdout).toContain('the violation reproduces');
    expect(again.code).toBe(1);
    const wrong = runPmfit(['reproduce', 'reports/results.json', group.id, '--at', `${k}:${recoveryCrash!.k + 1}`], {
      cwd: work,
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/example is at/);
  }, 180_000);

  test('a --recover with shell syntax is refused at depth 2, with a one-line error', () => {
    const work = fs.mkdtempSync(path.join(dir, 'cli-'));
    const tree = path.join(projectRoot, 'build', 'Release', 'tree');
    const run = runPmfit(
      [
        'allcounts',
        '--cmd',
        `${tree} insert t.pm one`,
        '--pm',
        't.pm',
        '--setup',
        `${tree} init {file} 64K`,
        '--recover',
        `${tree} check {file} && true`,
        '--recovery-crashes',
        '2',
        '--model',
        'sequential',
        '-o',
        'reports',
      ],
      { cwd: work },
    );
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/must be a plain command/);
  });
});

describe('recovery-crashes helpers', () => {
  test('sampleOf keeps the order, is seeded, and takes everything when N is large', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const a = sampleOf(items, 5, 1);
    expect(a).toHaveLength(5);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(sampleOf(items, 5, 1)).toEqual(a);
    expect(sampleOf(items, 50, 1)).toEqual(items);
  });

  test('recoveryLaunch: argv commands as they are, plain shell lines split, shell syntax refused', () => {
    const tree = treeSpec(['a']);
    expect(recoveryLaunch(tree, '/d').argv.slice(1)).toEqual(['check', '/d/tree.pm']);
    const user = { ...tree, recover: [{ shell: 'FOO=1 ./prog check {file}' }] };
    expect(recoveryLaunch(user, '/d')).toMatchObject({ argv: ['./prog', 'check', '/d/tree.pm'], env: { FOO: '1' } });
    expect(() => recoveryLaunch({ ...tree, recover: [{ shell: './prog check {file} | grep ok' }] }, '/d')).toThrow(
      /must be a plain command/,
    );
  });
});
