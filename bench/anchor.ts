// anchor -- the fast recorder (`--fast`) against the exact one, in one run:
// the libpmemobj target (txmap) with 20 inserts, and the tree target with 4,
// 40 and 400 words, under every model (sequential, flushed, px86) unless
// --models says otherwise. For each: recording time, then per model the
// distinct images, the time to check them and the total (recording plus
// that model's check), and the peak RSS of pmfit's process; then the ratios
// exact / fast.
//
// Each configuration runs the allcounts pipeline (runTarget: setup, record
// once, every model, check each distinct image) in a child process of its
// own (`node dist/bench/anchor.js --one ...`), so that its peak RSS
// (process.resourceUsage().maxRSS: pmfit's process, not the recoveries it
// starts) stands alone. The two recorders must give the same distinct images
// and the same violations per model (tests/record/fast-recorder.test.ts
// proves it image by image); the bench prints both and flags a difference.
//
// pmfit's cache (flush-site proofs and decodings kept across runs,
// docs/recording.md) changes what a fresh process pays, so the fast
// recorder runs twice: `fast` with the cache off, as a first run on a new
// machine, and `fast+cache` with a cache of the bench's own that one
// recording of the same workload (`--fill`, unmeasured) filled first, as
// every later run. The exact recorder runs with the cache off.
//
// One recording's time swings by a quarter from run to run on a shared
// machine (the exact recorder of txmap 5.8-8.2 s in one hour), enough to
// move a ratio from 18x to 22x; so each recorder runs --repeat times (3
// unless told), the three in turn, and the table shows medians, with the
// range of the recording times beside them. Images and verdicts must be
// the same in every repeat.
//
// Usage: npm run bench:anchor [-- --models M,M] [--inserts N] [--words N,N]
//                              [--jobs J] [--repeat R]   (--inserts 0: no txmap)

import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { installInterruptHandlers } from '../harness/_internals/interrupt';
import { tempDir } from '../harness/_internals/temp-root';
import { runSetup } from '../harness/check/run-setup';
import { ModelName, isModelName, modelNames, resolveOptions } from '../harness/persistency/model';
import { recordWorkload } from '../harness/pipeline/record-workload';
import { runTarget } from '../harness/pipeline/run-target';
import type { RunResult, TargetRecord } from '../harness/results/schema';
import { treeSpec } from '../targets/tree/spec';
import { txmapSpec } from '../targets/txmap/spec';

interface One {
  recordSeconds: number;
  instructions: number;
  events: number;
  runs: { model: ModelName; images: number; violations: number; seconds: number }[];
  maxRssMiB: number;
}

function specFor(target: string, n: number) {
  if (target === 'txmap') return txmapSpec(Array.from({ length: n }, (_, i) => `${i * 7 + 1}=${i + 1}`));
  const base = ['one', 'two', 'three', 'four'];
  // words repeat (the tree counts them): 400 distinct ones overflow its pool
  return treeSpec(Array.from({ length: n }, (_, i) => (i < base.length ? base[i] : `w${i % 37}`)));
}

/** one -- the child: one target, one recorder, every model asked for. */
async function one(recorder: string, target: string, n: number, models: ModelName[], jobs: number): Promise<void> {
  let record: TargetRecord | undefined;
  const runs: RunResult[] = [];
  await runTarget({
    spec: specFor(target, n),
    models,
    modelOptions: resolveOptions(),
    jobs,
    timeoutMs: 60_000,
    fast: recorder === 'fast',
    onTarget: (t) => (record = t),
    onRun: (r) => runs.push(r),
  });
  const out: One = {
    recordSeconds: record?.recordSeconds ?? NaN,
    instructions: record?.instructions ?? 0,
    events: record?.events ?? 0,
    runs: runs.map((r) => ({ model: r.model, images: r.distinctImages, violations: r.violations, seconds: r.seconds })),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** fill -- the child that fills the cache: the workload recorded once by
 *  the fast recorder, nothing checked. */
async function fill(target: string, n: number): Promise<void> {
  const spec = specFor(target, n);
  const work = tempDir('fill');
  await runSetup(spec, work, 60_000);
  await recordWorkload(spec, work, { output: path.join(work, 'fill.trace'), fast: true });
}

/** child -- `args` in a child process with PMFIT_CACHE_DIR `cache`; its
 *  last line of output. */
function child(args: string[], cache: string): string {
  const result = spawnSync(process.execPath, [__filename, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, PMFIT_CACHE_DIR: cache },
  });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout.trim().split('\n').pop() as string;
}

function measured(recorder: string, target: string, n: number, models: ModelName[], jobs: number, cache: string) {
  const args = ['--one', recorder, target, String(n), models.join(','), String(jobs)];
  return JSON.parse(child(args, cache)) as One;
}

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Repeated -- one recorder's repeats: the medians the table shows, the
 *  range of its recording times, and whether the repeats agreed on the
 *  images and verdicts of every model. */
interface Repeated extends One {
  recordRange: [number, number];
  agreed: boolean;
}

function summarize(repeats: One[]): Repeated {
  const [first] = repeats;
  const times = repeats.map((r) => r.recordSeconds);
  return {
    recordSeconds: median(times),
    recordRange: [Math.min(...times), Math.max(...times)],
    instructions: first.instructions,
    events: first.events,
    runs: first.runs.map((run, i) => ({ ...run, seconds: median(repeats.map((r) => r.runs[i].seconds)) })),
    maxRssMiB: median(repeats.map((r) => r.maxRssMiB)),
    agreed: repeats.every((r) =>
      r.runs.every((run, i) => run.images === first.runs[i].images && run.violations === first.runs[i].violations),
    ),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--one') {
    await one(args[1], args[2], Number(args[3]), args[4].split(',') as ModelName[], Number(args[5]));
    return;
  }
  if (args[0] === '--fill') {
    await fill(args[1], Number(args[2]));
    return;
  }
  installInterruptHandlers();
  const models = option(args, '--models', modelNames.join(',')).split(',');
  for (const m of models) if (!isModelName(m)) throw new Error(`unknown model ${m}`);
  const inserts = Number(option(args, '--inserts', '20'));
  const words = option(args, '--words', '4,40,400').split(',').map(Number);
  const jobs = Number(option(args, '--jobs', '2'));
  const repeat = Number(option(args, '--repeat', '3'));
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a whole number of at least 1`);
  const configs: [string, number][] = [
    ...(inserts > 0 ? [['txmap', inserts] as [string, number]] : []),
    ...words.map((w): [string, number] => ['tree', w]),
  ];
  const load = () => os.loadavg()[0].toFixed(1);
  process.stdout.write(
    `bench:anchor -- models ${models.join(', ')}; --jobs ${jobs}; medians of ${repeat}; load ${load()}\n\n`,
  );
  process.stdout.write(
    'target        recorder  record s (range)      steps     events  model       images  viol  check s  total s  peak RSS MiB\n',
  );
  for (const [target, n] of configs) {
    const name = `${target} ${n}`;
    const cache = tempDir('cache');
    child(['--fill', target, String(n)], cache);
    const repeats: [One[], One[], One[]] = [[], [], []];
    for (let i = 0; i < repeat; i++) {
      repeats[0].push(measured('exact', target, n, models as ModelName[], jobs, 'off'));
      repeats[1].push(measured('fast', target, n, models as ModelName[], jobs, 'off'));
      repeats[2].push(measured('fast', target, n, models as ModelName[], jobs, cache));
    }
    const [exact, fast, cached] = repeats.map(summarize);
    for (const [label, r] of [
      ['exact', exact],
      ['fast', fast],
      ['fast+cache', cached],
    ] as const) {
      r.runs.forEach((run, i) => {
        const head =
          i === 0
            ? `${name.padEnd(14)}${label.padEnd(10)}${fmt(r.recordSeconds).padStart(8)} ${`(${fmt(r.recordRange[0])}-${fmt(r.recordRange[1])})`.padEnd(13)}${String(r.instructions).padEnd(10)}${String(r.events).padEnd(8)}`
            : ' '.repeat(64);
        const rss = i === 0 ? fmt(r.maxRssMiB, 0).padStart(12) : '';
        process.stdout.write(
          `${head}${run.model.padEnd(12)}${String(run.images).padStart(6)}  ${String(run.violations).padStart(4)}  ${fmt(run.seconds).padStart(7)}  ${fmt(r.recordSeconds + run.seconds).padStart(7)}  ${rss}\n`,
        );
      });
    }
    const total = (r: One) => r.recordSeconds + r.runs.reduce((s, x) => s + x.seconds, 0);
    const same = [exact, fast, cached].every(
      (other) =>
        other.agreed &&
        exact.runs.every(
          (run, i) => run.images === other.runs[i].images && run.violations > 0 === other.runs[i].violations > 0,
        ),
    );
    process.stdout.write(
      `${name.padEnd(14)}ratio exact/fast: record ${fmt(exact.recordSeconds / fast.recordSeconds, 1)}x ` +
        `(${fmt(exact.recordSeconds / cached.recordSeconds, 1)}x with the cache), ` +
        exact.runs
          .map(
            (run, i) =>
              `${run.model} check ${fmt(run.seconds / fast.runs[i].seconds, 1)}x total ${fmt((exact.recordSeconds + run.seconds) / (fast.recordSeconds + fast.runs[i].seconds), 1)}x`,
          )
          .join(', ') +
        `, all models ${fmt(total(exact) / total(fast), 1)}x, peak RSS ${fmt(exact.maxRssMiB / fast.maxRssMiB, 2)}x; ` +
        `${same ? 'same images and verdicts per model' : 'IMAGES OR VERDICTS DIFFER'}\n\n`,
    );
  }
  process.stdout.write(`load at the end ${load()}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:anchor: ${(err as Error).message}\n`);
  process.exit(2);
});
