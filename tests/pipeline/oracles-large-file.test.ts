// oracles-large-file -- `--oracle outputs` and `--depth 2` on a 12 MiB PM
// file (tests/fixtures/big_counter.c: a redo slot in the first line, the
// count in the last, a marker in the middle), and the images pmfit checks
// against the files real kills leave (`pmfit crash k`): at workload crash
// points under sequential, and for a crash during recovery, the two images
// `pmfit reproduce --at K:J` rebuilds.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crashStates } from '../../harness/persistency/model';
import type { Results, RunResult } from '../../harness/results/schema';
import { TraceReader } from '../../harness/trace/format';
import { fixture } from '../fixtures';
import { counterAllcounts } from '../helpers/counter-allcounts';
import { runPmfit } from '../helpers/run-pmfit';

const SIZE = 12 * 1024 * 1024;
const counter = fixture('big_counter');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-large-oracles-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function allcounts(incr: string[], recover: string, extra: string[]) {
  return counterAllcounts(dir, counter, `${counter} init {file} ${SIZE}`, incr, recover, extra);
}

const runOf = (results: Results, model: string) => results.runs.find((r) => r.model === model) as RunResult;

/** A fresh counter file, as the setup makes it. */
function freshFile(name: string): string {
  const file = path.join(fs.mkdtempSync(path.join(dir, 'kill-')), name);
  execFileSync(counter, ['init', file, String(SIZE)]);
  return file;
}

/** killAt -- FILE after `pmfit crash K` of ARGV (a real SIGKILL there). */
function killAt(k: number, argv: string[], extra: string[] = []): void {
  const result = runPmfit(['crash', String(k), ...extra, '--', ...argv]);
  expect({ k, code: result.code, stderr: result.stderr }).toEqual({ k, code: 0, stderr: '' });
  expect(result.stdout).toContain(`Program terminated after ${k} instructions`);
}

function expectSameFile(actual: string, expected: string, what: string): void {
  const a = fs.readFileSync(actual);
  const b = fs.readFileSync(expected);
  expect({ what, size: a.length }).toEqual({ what, size: SIZE });
  const at = a.findIndex((byte, i) => byte !== b[i]);
  expect({ what, firstDifference: at }).toEqual({ what, firstDifference: -1 });
}

describe('--oracle outputs on a 12 MiB PM file', () => {
  const recover = `${counter} recover {file}`;

  it('finds the returned increment a crash loses (flushed, px86); the exit status does not', () => {
    const lost = allcounts(['2', 'lose'], recover, ['--oracle', 'outputs']);
    expect(lost.result.code).toBe(1);
    expect(lost.results.targets[0].check).toMatchObject({ outputs: ['count 0', 'count 1', 'count 2'] });
    expect(runOf(lost.results, 'sequential').violations).toBe(0);
    for (const model of ['flushed', 'px86']) {
      const run = runOf(lost.results, model);
      const groups = run.groups.filter((g) => g.violation);
      expect(groups.length).toBeGreaterThan(0);
      expect(groups.every((g) => g.kind === 'invariant' && /^output equivalence: /.test(g.failed[0]))).toBe(true);
      // the last crash point: both increments returned, the file says 0
      const atEnd = groups.filter((g) => g.crashPoints.split(',').some((r) => r.endsWith(String(run.instructions))));
      expect(atEnd.map((g) => g.failed[0])).toContain(
        'output equivalence: the recovery printed "count 0", but every operation before the crash had returned and ' +
          'the uncrashed file then gives "count 2" (a completed operation was lost)',
      );
    }

    const exitOnly = allcounts(['2', 'lose'], recover, []);
    expect(exitOnly.result.code).toBe(0);
    expect(exitOnly.results.runs.map((r) => r.violations)).toEqual([0, 0, 0]);
  });
});

describe('--depth 2 on a 12 MiB PM file', () => {
  const flags = ['--oracle', 'outputs', '--depth', '2', '--recover-function', 'recover_slot'];

  it('the crash-safe recovery passes every model, each recovery traced', () => {
    const { result, results } = allcounts(['2'], `${counter} recover {file}`, flags);
    expect(result.code).toBe(0);
    for (const run of results.runs) {
      expect({ model: run.model, violations: run.violations }).toEqual({ model: run.model, violations: 0 });
      expect(run.recoveryCrashes?.traced).toBeGreaterThan(0);
      expect(run.recoveryCrashes?.withoutRegion).toBeLessThan(run.recoveryCrashes?.traced as number);
    }
  });

  let early: ReturnType<typeof allcounts>;

  it('clearing the slot before the redo is found under every model, only at depth 2', () => {
    const recover = `${counter} recover {file} early-clear`;
    expect(allcounts(['2'], recover, ['--oracle', 'outputs']).results.runs.map((r) => r.violations)).toEqual([0, 0, 0]);
    // --exact: its crash points are compared below with `pmfit crash k` kills, which count instructions
    early = allcounts(['2'], recover, [...flags, '--exact']);
    expect(early.result.code).toBe(1);
    for (const run of early.results.runs) {
      const kinds = new Set(run.groups.filter((g) => g.violation).map((g) => g.kind));
      expect({ model: run.model, kinds: [...kinds] }).toEqual({ model: run.model, kinds: ['recovery-not-crash-safe'] });
    }
    // the outputs compared are the uninterrupted recovery's, not a window's
    const failed = runOf(early.results, 'sequential').groups.flatMap((g) => (g.violation ? g.failed : []));
    const message =
      /^recovery is not crash-safe: a crash at recovery instruction \d+ of \d+ leaves an image whose recovery prints "count 1" where the uninterrupted recovery printed "count 2"$/;
    expect(failed.filter((f) => message.test(f))).toHaveLength(1);
  });

  it('the images pmfit checks are what real kills leave: workload crash points, and a crash during recovery', async () => {
    expect(early).toBeDefined();
    const { results, reports } = early;
    const argv = (file: string) => [counter, 'incr', file, '2'];

    // (1) workload crash points: the sequential images the run recovered
    const reader = TraceReader.open(path.join(reports, results.targets[0].trace as string));
    try {
      const { regions, instructions } = reader.header;
      const trace = {
        images: reader.images(),
        events: { [Symbol.iterator]: () => reader.events() },
        instructions,
      };
      const points = new Set([0, instructions, Math.floor(instructions / 2)]);
      for (const r of regions) for (const k of [r.begin, r.begin + 3, r.end - 1, r.end]) points.add(k);
      const images = new Map<number, string>();
      for (const group of crashStates('sequential', trace, { maxStates: 64, seed: 1 })) {
        expect(group.states).toHaveLength(1);
        for (const k of points) {
          if (k < group.first || k > group.last) continue;
          const file = path.join(fs.mkdtempSync(path.join(dir, 'image-')), 'c.pm');
          images.set(k, file);
          // written as the checker writes every image it recovers
          await group.states[0].patch().writeFile(0, file);
        }
      }
      expect([...images.keys()].sort((a, b) => a - b)).toEqual([...points].sort((a, b) => a - b));
      for (const [k, image] of images) {
        const file = freshFile('c.pm');
        killAt(k, argv(file));
        expectSameFile(file, image, `workload crash point ${k}`);
      }
    } finally {
      reader.close();
    }

    // (2) a crash during recovery: reproduce's two images, and two kills
    const group = runOf(results, 'sequential').groups.find((g) => g.kind === 'recovery-not-crash-safe');
    expect(group?.example.recoveryCrash).toBeDefined();
    const { k } = group!.example;
    const j = group!.example.recoveryCrash!.k;
    const out = path.join(dir, 'reproduced');
    const again = runPmfit([
      'reproduce',
      path.join(reports, 'results.json'),
      group!.id,
      '--at',
      `${k}:${j}`,
      '-o',
      out,
    ]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('the violation reproduces');
    const file = freshFile('c.pm');
    killAt(k, argv(file));
    expectSameFile(file, path.join(out, 'crash', 'c.pm'), `workload crash point ${k}`);
    killAt(j, [counter, 'recover', file, 'early-clear'], ['--function', 'recover_slot']);
    expectSameFile(file, path.join(out, 'recovery-crash', 'c.pm'), `recovery crash point ${j} after ${k}`);
  });
});
