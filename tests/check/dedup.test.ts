// Recovery runs once per distinct image; checks once per (image, window).

import { removeTempRoot } from '../../harness/_internals/temp-root';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { shellQuote } from '../../harness/_internals/shell-words';
import { RecoveryCache } from '../../harness/check/recovery-cache';
import { checkCrashStates } from '../../harness/check/runner';
import type { CheckInput } from '../../harness/check/spec';
import type { CrashGroup, CrashState } from '../../harness/persistency/model';
import { StateLog, group, makeSpec, state, wholeImage } from './helpers';

let scratch: string;
let counter: string;

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-check-dedup-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
beforeEach(() => {
  counter = path.join(scratch, `counter-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(counter, '');
});

const recoveries = () => fs.readFileSync(counter, 'utf8').split('\n').filter(Boolean);
const countingRecovery = () => [{ shell: `echo "$(cat {file})" >> ${shellQuote(counter)}` }];

test('identical images from different crash points are recovered and checked once', async () => {
  const log: StateLog = { materialized: [] };
  const checked: string[] = [];
  const spec = makeSpec(countingRecovery(), (input) => {
    checked.push(input.files[0].toString());
    return input.files[0].toString() === 'bad' ? ['bad data'] : [];
  });
  const A = () => state('hA', 'good', log);
  const B = () => state('hB', 'bad', log);
  const C = () => state('hC', 'other', log);
  const groups = [group(0, 2, A()), group(3, 3, B()), group(4, 6, A(), B()), group(7, 7, C(), A()), group(8, 9, B())];
  const report = await checkCrashStates({ groups, regions: [], spec, jobs: 2 });

  expect(recoveries().sort()).toEqual(['bad', 'good', 'other']);
  expect(log.materialized.sort()).toEqual(['hA', 'hB', 'hC']);
  expect(checked.sort()).toEqual(['bad', 'good', 'other']);
  expect(report).toMatchObject({ distinctImages: 3, recoveryRuns: 3, checks: 3 });
  expect(report.outcomes.map((o) => [o.first, o.last, o.hash, o.verdict.kind])).toEqual([
    [0, 2, 'hA', 'ok'],
    [3, 3, 'hB', 'invariant'],
    [4, 6, 'hA', 'ok'],
    [4, 6, 'hB', 'invariant'],
    [7, 7, 'hC', 'ok'],
    [7, 7, 'hA', 'ok'],
    [8, 9, 'hB', 'invariant'],
  ]);
});

test('a group spanning several operation windows is split; the image is recovered once and checked per window', async () => {
  const allowedSeen: unknown[] = [];
  const spec = makeSpec(
    countingRecovery(),
    (input: CheckInput) => {
      allowedSeen.push(input.allowed);
      return input.allowed.includes(input.files[0].toString()) ? [] : ['not an allowed state'];
    },
    { states: ['old', 'new'] },
  );
  const regions = [{ begin: 2, end: 5 }];
  const report = await checkCrashStates({
    groups: [group(0, 9, state('hOld', 'old')), group(10, 12, state('hOld', 'old'))],
    regions,
    spec,
  });
  expect(recoveries()).toEqual(['old']);
  expect(report).toMatchObject({ distinctImages: 1, recoveryRuns: 1, checks: 3 });
  expect(allowedSeen).toEqual([['old'], ['old', 'new'], ['new']]);
  expect(report.outcomes.map((o) => [o.first, o.last, o.window, o.verdict.kind])).toEqual([
    [0, 2, 's0', 'ok'],
    [3, 4, 'op0', 'ok'],
    [5, 9, 's1', 'invariant'],
    [10, 12, 's1', 'invariant'],
  ]);
});

test('an image whose recovered files were evicted from the LRU is recovered again', async () => {
  const log: StateLog = { materialized: [] };
  const spec = makeSpec(countingRecovery(), () => [], { states: ['x', 'y'] });
  const regions = [{ begin: 1, end: 5 }];
  const run = (cache: RecoveryCache, first: number) =>
    checkCrashStates({ groups: [group(first, first, state('hA', 'a', log))], regions, spec, cache, jobs: 1 });

  // Kept: meeting the image in another window only re-runs the check.
  const roomy = new RecoveryCache();
  await run(roomy, 0);
  expect(await run(roomy, 2)).toMatchObject({ distinctImages: 1, recoveryRuns: 0, checks: 1 });
  expect(roomy.keptImages).toBe(1);

  // Evicted: recovered again, from the image materialized again.
  log.materialized.length = 0;
  const tiny = new RecoveryCache({ maxRecoveredBytes: 0 });
  await run(tiny, 0);
  expect(await run(tiny, 2)).toMatchObject({ distinctImages: 1, recoveryRuns: 1, checks: 1 });
  expect(log.materialized).toEqual(['hA', 'hA']);
  expect(tiny.keptImages).toBe(0);
  expect(tiny.recoveryRuns).toBe(2);
});

test('the LRU keeps the most recently used images within its byte bound', () => {
  const cache = new RecoveryCache({ maxRecoveredBytes: 30 });
  const put = (hash: string) => cache.putRecovered(hash, { files: [Buffer.alloc(10)], stdout: '', output: '' });
  put('a');
  put('b');
  put('c');
  expect(cache.getRecovered('a')).toBeDefined(); // a is now the most recent
  put('d'); // evicts b
  expect(cache.getRecovered('b')).toBeUndefined();
  expect(['a', 'c', 'd'].every((h) => cache.getRecovered(h) !== undefined)).toBe(true);
  expect(cache.keptBytes).toBe(30);
});

test('a shared cache carries recoveries and verdicts over to the next call (another model)', async () => {
  const spec = makeSpec(countingRecovery(), (input) => (input.files[0].toString() === 'b' ? ['b is bad'] : []));
  const cache = new RecoveryCache();
  const groups = () => [group(0, 3, state('hA', 'a')), group(4, 4, state('hA', 'a'), state('hB', 'b'))];
  const first = await checkCrashStates({ groups: groups(), regions: [], spec, cache });
  const second = await checkCrashStates({ groups: groups(), regions: [], spec, cache });
  expect(first).toMatchObject({ distinctImages: 2, recoveryRuns: 2, checks: 2 });
  expect(second).toMatchObject({ distinctImages: 2, recoveryRuns: 0, checks: 0 });
  expect(second.outcomes).toEqual(first.outcomes);
  expect(recoveries().sort()).toEqual(['a', 'b']);
  expect(cache.recoveryRuns).toBe(2);
});

test('a failed recovery is remembered for its image in every window', async () => {
  const spec = makeSpec([{ shell: `echo "$(cat {file})" >> ${shellQuote(counter)}; exit 5` }], () => [], {
    states: ['s', 't'],
  });
  const report = await checkCrashStates({
    groups: [group(0, 6, state('hF', 'f'))],
    regions: [{ begin: 2, end: 4 }],
    spec,
  });
  expect(recoveries()).toEqual(['f']);
  expect(report.recoveryRuns).toBe(1);
  expect(report.checks).toBe(0);
  expect(report.outcomes.map((o) => [o.window, o.verdict.kind])).toEqual([
    ['s0', 'recovery-failed'],
    ['op0', 'recovery-failed'],
    ['s1', 'recovery-failed'],
  ]);
});

test('states are materialized before the generator advances, and images in flight are bounded', async () => {
  const spec = makeSpec([{ shell: `sleep 0.02; echo x >> ${shellQuote(counter)}` }]);
  const maxInFlightImages = 3;
  let generation = 0;
  const lagging: string[] = [];
  function* groups(): Generator<CrashGroup> {
    for (let k = 0; k < 30; k += 1) {
      generation += 1;
      const mine = generation;
      const valid = () => {
        if (generation !== mine) throw new Error(`state of group ${k} used after the generator advanced`);
      };
      const st: CrashState = {
        hash: `h${k}`,
        patch: () => {
          valid();
          const done = recoveries().length;
          if (done < k - maxInFlightImages + 1) lagging.push(`group ${k}: only ${done} recoveries done`);
          return wholeImage([Buffer.from(`image ${k}`)]);
        },
        describe: () => {
          valid();
          return [];
        },
      };
      yield group(k, k, st);
    }
  }
  const progress: Array<[number, number | undefined]> = [];
  const report = await checkCrashStates({
    groups: groups(),
    regions: [],
    spec,
    jobs: 2,
    maxInFlightImages,
    crashPoints: 30,
    onProgress: (done, total) => progress.push([done, total]),
  });
  expect(lagging).toEqual([]);
  expect(report).toMatchObject({ distinctImages: 30, recoveryRuns: 30, checks: 30 });
  expect(report.outcomes.map((o) => o.first)).toEqual(Array.from({ length: 30 }, (_, k) => k));
  expect(progress[progress.length - 1]).toEqual([30, 30]);
  expect(progress.map(([done]) => done)).toEqual(Array.from({ length: 30 }, (_, k) => k + 1));
});

test('images are written under the spec pmFiles names, one per file', async () => {
  const spec = makeSpec(
    [{ shell: 'cat meta/log pool2' }],
    (input) => [`${input.files.map((f) => f.toString()).join('+')} / ${input.recoveryOutput}`],
    { pmFiles: ['meta/log', 'pool2'] },
  );
  const st: CrashState = {
    hash: 'two',
    patch: () => wholeImage([Buffer.from('L'), Buffer.from('P')]),
    describe: () => [],
  };
  const report = await checkCrashStates({ groups: [group(0, 0, st)], regions: [], spec });
  expect(report.outcomes[0].verdict).toMatchObject({ kind: 'invariant', failed: ['L+P / LP'] });
});

// Jest workers do not run process 'exit' handlers reliably.
afterAll(() => removeTempRoot());
