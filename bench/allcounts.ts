// allcounts -- pmfit's pipeline against the original allcounts method, on the
// tree target (4 words: one two three four), in the same run.
//
// pmfit: runTarget (setup → record once → models → check each distinct image),
// once per model (its own recording and recovery cache, so each model's time
// stands alone) and once with all three models (the overall time, where the
// models share one recording and one recovery cache).
//
// Original (bench/allcounts/original.ts): for every crash point k = 0..N, a
// fresh pool, a traced re-run of the workload to k with pmfit's tracer
// (Tracee, in-process), SIGKILL, hash of the files, the target's recovery
// (tree check) and the spec's check with the reference states allowed at k.
//   sequential ↔ default libpmem mode (MAP_SHARED: the kill leaves every store)
//   flushed    ↔ libpmem fit mode (PMEM_MODE=fit: only flushed lines reach the file)
//   px86       ↔ none: a re-run can only leave what a killed process leaves;
//                the images of a power failure with lines partly evicted from
//                the cache cannot be produced by killing a process.
// The original is measured in full when a pilot of uniformly spread crash
// points estimates the full loop under the budget (default 600 s per mode);
// otherwise on a uniform sample, with its time extrapolated from a linear fit
// of per-point cost against k, and labelled so.
//
// Fairness: pmfit runs with --jobs recoveries at once (default 1, so both
// sides use one CPU for the work; the tracer is pinned to one CPU either
// way); the original is serial, as it was. The original is favoured where it
// costs nothing: no Node start-up per crash point, the command resolved once.
//
// Cross-check on every measured crash point (bench/allcounts/compare.ts):
// sequential by k (window, image, verdict); flushed by (window, image), since
// fit mode runs other instructions. Disagreements are printed in full.
//
// pmfit's runs take seconds and this machine is shared, so each pmfit
// measurement is the median of --reps runs (default 3); the load average is
// printed with the results.
//
// The tree binary is copied to a private directory at the start and both
// methods run that copy (a rebuild of build/Release during the bench would
// otherwise break it, or swap the binary between the two methods).
//
// Usage: npm run bench:allcounts [-- --budget SECONDS] [--jobs N] [--pilot N] [--timeout MS] [--reps N]
// Builds nothing: run `npm run build` first.

import * as fs from 'fs';
import * as path from 'path';

import { treeSpec } from '../targets/tree/spec';
import { builtProgram } from '../harness/_internals/paths';
import { tempDir } from '../harness/_internals/temp-root';
import type { CheckedSpec, SpecCommand } from '../harness/check/spec';
import type { ModelName } from '../harness/persistency/model';
import { compareFlushed, compareSequential, Comparison } from './allcounts/compare';
import { OriginalMode, OriginalResult, runOriginal } from './allcounts/original';
import { modelImages, PmfitRun, timedRunTarget, verdictsByPoint } from './allcounts/pmfit-side';

const WORDS = ['one', 'two', 'three', 'four'];
const MODELS: ModelName[] = ['sequential', 'flushed', 'px86'];
const EQUIVALENT: Partial<Record<ModelName, OriginalMode>> = { sequential: 'shared', flushed: 'fit' };
const MODE_LABEL: Record<OriginalMode, string> = {
  shared: 'original MAP_SHARED re-run',
  fit: 'original fit-mode re-run',
};

interface Args {
  budget: number;
  jobs: number;
  pilot: number;
  timeout: number;
  reps: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { budget: 600, jobs: 1, pilot: 24, timeout: 10000, reps: 3 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '') as keyof Args;
    const value = Number(argv[i + 1]);
    if (!(name in args) || !Number.isFinite(value) || value <= 0) {
      throw new Error(
        `usage: allcounts [--budget SECONDS] [--jobs N] [--pilot N] [--timeout MS] [--reps N] (bad: ${argv[i]})`,
      );
    }
    args[name] = value;
    i++;
  }
  return args;
}

function log(line: string): void {
  process.stderr.write(`[allcounts] ${line}\n`);
}

function violationsOf(original: OriginalResult): number {
  let count = 0;
  for (const point of original.points.values()) if (point.verdict.kind !== 'ok') count++;
  return count;
}

function distinctOf(original: OriginalResult): number {
  return new Set([...original.points.values()].map((point) => point.hash)).size;
}

interface Row {
  model: string;
  method: string;
  seconds: string;
  points: string;
  images: string;
  violations: string;
  ratio: string;
  speedup: string;
  note: string;
}

const HEAD: Row = {
  model: 'model',
  method: 'method',
  seconds: 'wall s',
  points: 'crash points',
  images: 'images',
  violations: 'violations',
  ratio: 'pmfit/orig',
  speedup: 'speedup',
  note: 'note',
};

function printTable(rows: Row[]): void {
  const keys = Object.keys(HEAD) as (keyof Row)[];
  const right = new Set<keyof Row>(['seconds', 'points', 'images', 'violations', 'ratio', 'speedup']);
  const width = (key: keyof Row) => Math.max(...[HEAD, ...rows].map((row) => row[key].length));
  const line = (row: Row) =>
    keys
      .map((key) => (right.has(key) ? row[key].padStart(width(key)) : row[key].padEnd(width(key))))
      .join('  ')
      .trimEnd();
  console.log(line(HEAD));
  console.log(keys.map((key) => '-'.repeat(width(key))).join('  '));
  for (const row of rows) console.log(row.model === '' && row.method === '' ? '' : line(row));
}

const BLANK: Row = {
  model: '',
  method: '',
  seconds: '',
  points: '',
  images: '',
  violations: '',
  ratio: '',
  speedup: '',
  note: '',
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A pmfit measurement: the median wall time of several identical runs. */
interface PmfitMeasure {
  seconds: number;
  all: number[];
  run: PmfitRun;
}

function pmfitRow(model: string, method: string, measure: PmfitMeasure): Row {
  const runs = measure.run.runs;
  return {
    ...BLANK,
    model,
    method,
    seconds: measure.seconds.toFixed(2),
    points: runs.map((run) => `${run.crashPoints}/${run.crashPoints}`).join(' + '),
    images: runs.map((run) => String(run.distinctImages)).join(' + '),
    violations: runs.map((run) => String(run.violations)).join(' + '),
    note: `median of ${measure.all.length}: ${measure.all.map((s) => s.toFixed(2)).join(', ')} s`,
  };
}

function speedupCells(pmfitSeconds: number, originalSeconds: number): Pick<Row, 'ratio' | 'speedup'> {
  return {
    ratio: (pmfitSeconds / originalSeconds).toFixed(4),
    speedup: `${(originalSeconds / pmfitSeconds).toFixed(0)}x`,
  };
}

function originalRow(model: string, original: OriginalResult, pmfitSeconds: number): Row {
  const n = original.instructions + 1;
  const measured = original.points.size;
  const violations = violationsOf(original);
  return {
    model,
    method: MODE_LABEL[original.mode],
    seconds: original.totalSeconds.toFixed(2),
    points: `${measured}/${n}`,
    images: String(distinctOf(original)),
    violations: String(violations),
    ...speedupCells(pmfitSeconds, original.totalSeconds),
    note: original.full
      ? 'measured in full'
      : `SAMPLED ${measured} points (measured ${original.measuredSeconds.toFixed(1)} s): time EXTRAPOLATED; ` +
        `images/violations counted in the sample (violations ~${Math.round((violations / measured) * n)} est. over all points)`,
  };
}

function printComparison(title: string, comparison: Comparison): void {
  console.log(
    `${title}: ${comparison.agreed}/${comparison.compared} crash points agree, ${comparison.disagreements.length} disagreement(s)`,
  );
  for (const note of comparison.notes) console.log(`  note: ${note}`);
  const shown = comparison.disagreements.slice(0, 40);
  for (const d of shown) console.log(`  DISAGREE k=${d.k} ${d.what}: pmfit ${d.pmfit} | original ${d.original}`);
  if (comparison.disagreements.length > shown.length) {
    const byWhat = new Map<string, number>();
    for (const d of comparison.disagreements) byWhat.set(d.what, (byWhat.get(d.what) ?? 0) + 1);
    console.log(
      `  ... ${comparison.disagreements.length - shown.length} more; by kind: ${[...byWhat].map(([w, c]) => `${w} ${c}`).join(', ')}`,
    );
  }
}

function loadAverage(): string {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

/** snapshotSpec -- the tree spec with its program copied to a private
 *  directory first: both methods then run the very same binary for the whole
 *  bench, even if build/Release is rebuilt meanwhile (a shared machine). */
function snapshotSpec(): CheckedSpec {
  const spec = treeSpec(WORDS);
  const built = builtProgram('tree');
  if (!fs.existsSync(built)) throw new Error(`${built} is missing: run npm run build`);
  const copy = path.join(tempDir('bin'), 'tree');
  fs.copyFileSync(built, copy);
  fs.chmodSync(copy, 0o755);
  const swap = (argv: string[]) => argv.map((arg) => (arg === built ? copy : arg));
  const swapCommand = (command: SpecCommand): SpecCommand =>
    command.argv !== undefined ? { ...command, argv: swap(command.argv) } : command;
  return {
    ...spec,
    setup: spec.setup.map(swapCommand),
    workload: { ...spec.workload, argv: swap(spec.workload.argv) },
    recover: spec.recover.map(swapCommand),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const spec = snapshotSpec();
  const common = { spec, jobs: args.jobs, timeoutMs: args.timeout, maxStates: 64, seed: 1 };
  const loads: string[] = [`start ${loadAverage()}`];

  // pmfit first: per model, then all three in one run; each the median of --reps runs.
  const measurePmfit = async (models: ModelName[]): Promise<PmfitMeasure> => {
    const runs: PmfitRun[] = [];
    for (let i = 0; i < args.reps; i++) runs.push(await timedRunTarget(common, models));
    const seconds = median(runs.map((run) => run.seconds));
    const run = runs.find((candidate) => candidate.seconds === seconds) ?? runs[0];
    return { seconds, all: runs.map((r) => r.seconds), run };
  };
  const perModel = new Map<ModelName, PmfitMeasure>();
  for (const model of MODELS) {
    log(`pmfit ${model} (${args.reps} runs)...`);
    perModel.set(model, await measurePmfit([model]));
  }
  log(`pmfit, all three models in one run (${args.reps} runs)...`);
  const overall = await measurePmfit(MODELS);

  log('verification recording (untimed)...');
  const images = await modelImages(common, ['sequential', 'flushed']);

  const originals = new Map<OriginalMode, OriginalResult>();
  for (const mode of ['shared', 'fit'] as OriginalMode[]) {
    loads.push(`before original ${mode} ${loadAverage()}`);
    log(`original, ${mode} mode...`);
    const original = await runOriginal({
      spec,
      mode,
      timeoutMs: args.timeout,
      budgetSeconds: args.budget,
      pilotPoints: args.pilot,
      onProgress: log,
    });
    originals.set(mode, original);
    log(`original ${mode}: ${original.points.size} crash points, ${original.measuredSeconds.toFixed(1)} s`);
  }
  loads.push(`end ${loadAverage()}`);

  // Table.
  const shared = originals.get('shared')!;
  const fit = originals.get('fit')!;
  console.log('');
  console.log(
    `tree target, words: ${WORDS.join(' ')}; pmfit runTarget --jobs ${args.jobs}; original: serial in-process Tracee re-runs`,
  );
  console.log(`load average (1/5/15 min; 2 CPUs, shared machine): ${loads.join('; ')}`);
  console.log('');
  const rows: Row[] = [];
  for (const model of MODELS) {
    const pm = perModel.get(model)!;
    rows.push(pmfitRow(model, 'pmfit runTarget', pm));
    const mode = EQUIVALENT[model];
    if (mode) {
      rows.push(originalRow(model, originals.get(mode)!, pm.seconds));
    } else {
      rows.push({
        ...BLANK,
        model,
        method: 'original: n/a',
        seconds: '-',
        points: '-',
        images: '-',
        violations: '-',
        ratio: '-',
        speedup: '-',
        note: 'no re-run equivalent: killing a process cannot leave ADR power-failure states (lines partly written back)',
      });
    }
    rows.push(BLANK);
  }
  const originalTotal = shared.totalSeconds + fit.totalSeconds;
  const anyExtrapolated = !shared.full || !fit.full;
  rows.push(pmfitRow('overall', 'pmfit runTarget, 3 models, 1 run', overall));
  rows.push({
    model: 'overall',
    method: 'original, both modes',
    seconds: originalTotal.toFixed(2),
    points: `${shared.points.size + fit.points.size}/${shared.instructions + 1 + fit.instructions + 1}`,
    images: `${distinctOf(shared)} + ${distinctOf(fit)}`,
    violations: `${violationsOf(shared)} + ${violationsOf(fit)}`,
    ...speedupCells(overall.seconds, originalTotal),
    note: anyExtrapolated ? 'EXTRAPOLATED (at least one mode sampled)' : 'measured in full',
  });
  const pmfitTwo = perModel.get('sequential')!.seconds + perModel.get('flushed')!.seconds;
  rows.push({
    ...BLANK,
    model: 'overall',
    method: 'pmfit sequential + flushed runs',
    seconds: pmfitTwo.toFixed(2),
    ...speedupCells(pmfitTwo, originalTotal),
    note: 'the two models that have an original equivalent, vs the original both modes',
  });
  printTable(rows);

  console.log('');
  for (const model of MODELS) {
    const pm = perModel.get(model)!;
    const run = pm.run.runs[0];
    console.log(
      `pmfit ${model}: N = ${run.instructions}, record ${pm.run.recordSeconds.toFixed(2)} s, check ${run.seconds.toFixed(2)} s, ` +
        `${run.states} states, wall ${pm.run.seconds.toFixed(2)} s (run shown)`,
    );
  }
  for (const original of [shared, fit]) {
    const perPoint = (original.measuredSeconds - original.countSeconds) / original.points.size;
    console.log(
      `${MODE_LABEL[original.mode]}: N = ${original.instructions}, count pass ${original.countSeconds.toFixed(2)} s, ` +
        `${(perPoint * 1000).toFixed(1)} ms per crash point on average (fit ${(original.fit.a * 1000).toFixed(1)} ms + ${(original.fit.b * 1e6).toFixed(2)} us*k), ` +
        `${original.full ? 'measured in full' : 'SAMPLED, total extrapolated'}`,
    );
  }

  const target = 100;
  console.log('');
  for (const model of ['sequential', 'flushed'] as ModelName[]) {
    const original = originals.get(EQUIVALENT[model]!)!;
    const speedup = original.totalSeconds / perModel.get(model)!.seconds;
    console.log(
      `target >= ${target}x faster, ${model}: ${speedup.toFixed(1)}x ${speedup >= target ? 'MET' : 'NOT MET'}${original.full ? '' : ' (EXTRAPOLATED)'}`,
    );
  }
  const overallSpeedup = originalTotal / overall.seconds;
  console.log(
    `target >= ${target}x faster, overall (pmfit 3 models vs original 2 modes): ${overallSpeedup.toFixed(1)}x ${overallSpeedup >= target ? 'MET' : 'NOT MET'}${anyExtrapolated ? ' (EXTRAPOLATED)' : ''}`,
  );
  const seqRun = perModel.get('sequential')!.run.runs[0];
  const flushedRun = perModel.get('flushed')!.run.runs[0];
  console.log(
    `crash points covered: sequential pmfit ${seqRun.crashPoints}/${seqRun.crashPoints}, original ${shared.points.size}/${shared.instructions + 1} (same run, same numbering); ` +
      `flushed pmfit ${flushedRun.crashPoints}/${flushedRun.crashPoints} of the clflush run, original ${fit.points.size}/${fit.instructions + 1} of the fit-mode run (other instructions: pwrite instead of clflush)`,
  );

  console.log('');
  printComparison(
    'cross-check sequential vs original MAP_SHARED (by k: window, image, verdict)',
    compareSequential(shared, images.get('sequential')!, verdictsByPoint(seqRun), seqRun.instructions),
  );
  printComparison(
    'cross-check flushed vs original fit mode (by window+image, verdict)',
    compareFlushed(fit, images.get('flushed')!, verdictsByPoint(flushedRun)),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
