// px86 -- what px86 costs, and where the time goes, on the libpmemobj
// target (txmap, 20 inserts) and the tree target (40 words); with
// `--before DIR`, the same measured side by side for another build of
// pmfit (a checkout of an older commit, built with npm ci and
// build:programs), so that before and after come from one run on one load.
//
// Per configuration (each in a child process of its own, so that its peak
// RSS, process.resourceUsage().maxRSS of pmfit's process, stands alone):
//   record s      the fast recorder's pass (the same in both builds)
//   states        crash states px86 yields (crash point x image choices)
//   images        distinct images among them
//   enum s        walking the model over the trace, every state's hash
//                 computed (hashing is incremental, part of the walk)
//   write ms/img  materialising one distinct image as a file (patch and
//                 sparse write) in the temporary directory, measured over
//                 every distinct image (the pipeline itself writes them in
//                 /dev/shm when the temporary directory is on a disk,
//                 docs/checking.md "Where the crash images are written")
//   px86 s        the pipeline's px86 run: every distinct image written,
//                 recovered by the target's own recovery and checked, with
//                 --jobs J (wall time)
//   total s       record + px86 (wall time)
//   cpu s         user + system time of the whole pipeline run (record and
//                 px86, pmfit and every process it started and reaped), from
//                 /usr/bin/time: on a machine shared with other work, wall
//                 time measures the load as much as pmfit
//   viol          violations found (0 expected: both targets are correct)
//
// Usage: npm run bench:px86 [-- --before DIR] [--inserts N] [--words N] [--jobs J]

import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { installInterruptHandlers } from '../harness/_internals/interrupt';
import { projectRoot } from '../harness/_internals/paths';

interface One {
  recordSeconds: number;
  states: number;
  images: number;
  enumSeconds: number;
  writeMs: number;
  px86Seconds: number;
  violations: number;
  maxRssMiB: number;
  cpuSeconds: number;
}

/** The child, as a script run with `node -e` against a build's dist/: only
 *  APIs every build has (runTarget, the specs, crashStates, TraceReader). */
const CHILD = String.raw`
const [dist, target, n, jobs, part] = process.argv.slice(1);
const fs = require('fs');
const path = require('path');
const { runTarget } = require(dist + '/harness/pipeline/run-target');
const { crashStates } = require(dist + '/harness/persistency/model');
const { TraceReader } = require(dist + '/harness/trace/format');
const { recordWorkload } = require(dist + '/harness/pipeline/record-workload');
const { runCommands } = require(dist + '/harness/check/run-commands');
const { tempDir, tempPath } = require(dist + '/harness/_internals/temp-root');
const spec = target === 'txmap'
  ? require(dist + '/targets/txmap/spec').txmapSpec(Array.from({ length: +n }, (_, i) => (i * 7 + 1) + '=' + (i + 1)))
  : require(dist + '/targets/tree/spec').treeSpec(Array.from({ length: +n }, (_, i) => (i < 4 ? ['one', 'two', 'three', 'four'][i] : 'w' + (i % 37))));
(async () => {
  if (part === 'pipeline') {
    let record, run;
    await runTarget({ spec, models: ['px86'], maxStates: 64, seed: 1, jobs: +jobs, timeoutMs: 60000, fast: true,
      onTarget: (x) => (record = x), onRun: (x) => (run = x) });
    process.stdout.write(JSON.stringify({ recordSeconds: record.recordSeconds, px86Seconds: run.seconds,
      violations: run.violations, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
    return;
  }
  // the model alone, on a trace of its own
  const work = tempDir('px86-bench');
  await runCommands(spec.setup, work, { timeoutMs: 60000, env: spec.env, files: spec.pmFiles });
  const trace = tempPath('px86-bench.trace');
  const header = await recordWorkload(spec, work, { output: trace, fast: true });
  const reader = TraceReader.open(trace);
  const traceOf = () => ({ images: reader.images(), events: { [Symbol.iterator]: () => reader.events() }, instructions: header.instructions });
  let states = 0;
  const seen = new Set();
  let t = process.hrtime.bigint();
  for (const g of crashStates('px86', traceOf(), { maxStates: 64, seed: 1 })) for (const s of g.states) { states++; seen.add(s.hash); }
  const enumSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const written = new Set();
  const file = path.join(tempDir('px86-bench-img'), spec.pmFiles[0]);
  t = process.hrtime.bigint();
  for (const g of crashStates('px86', traceOf(), { maxStates: 64, seed: 1 }))
    for (const s of g.states) if (!written.has(s.hash)) { written.add(s.hash); await s.patch().writeFile(0, file); }
  const writeMs = Number(process.hrtime.bigint() - t) / 1e6 / Math.max(1, written.size);
  reader.close();
  process.stdout.write(JSON.stringify({ states, images: seen.size, enumSeconds, writeMs }) + '\n');
})().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(2); });
`;

function run(dist: string, target: string, n: number, jobs: number, part: string): { out: object; stderr: string } {
  const args = [process.execPath, '-e', CHILD, dist, target, String(n), String(jobs), part];
  const result = spawnSync('/usr/bin/time', ['-f', 'pmfit-bench-cpu %U %S', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0) throw new Error(`${dist} ${target} ${n} ${part} failed: ${result.stderr.trim()}`);
  return { out: JSON.parse(result.stdout.trim().split('\n').pop() as string) as object, stderr: result.stderr };
}

function child(dist: string, target: string, n: number, jobs: number): One {
  const model = run(dist, target, n, jobs, 'model').out;
  const pipeline = run(dist, target, n, jobs, 'pipeline');
  const cpu = /pmfit-bench-cpu ([\d.]+) ([\d.]+)/.exec(pipeline.stderr);
  if (!cpu) throw new Error(`/usr/bin/time gave no times: ${pipeline.stderr.trim()}`);
  return { ...model, ...pipeline.out, cpuSeconds: Number(cpu[1]) + Number(cpu[2]) } as One;
}

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);

function main(): void {
  installInterruptHandlers();
  const args = process.argv.slice(2);
  const before = args.includes('--before') ? path.resolve(option(args, '--before', ''), 'dist') : undefined;
  const inserts = Number(option(args, '--inserts', '20'));
  const words = Number(option(args, '--words', '40'));
  const jobs = Number(option(args, '--jobs', '2'));
  const builds: [string, string][] = [
    ...(before ? [['before', before] as [string, string]] : []),
    ['this', path.join(projectRoot, 'dist')],
  ];
  const load = () => os.loadavg()[0].toFixed(1);
  process.stdout.write(`bench:px86 -- --jobs ${jobs}; load ${load()}\n`);
  if (before) process.stdout.write(`before: ${before}\n`);
  process.stdout.write(
    '\ntarget     build   record s  states  images  enum s  write ms/img  px86 s  total s  cpu s  viol  peak RSS MiB\n',
  );
  for (const [target, n] of [
    ['txmap', inserts],
    ['tree', words],
  ] as const) {
    if (n <= 0) continue;
    const results = builds.map(([label, dist]) => [label, child(dist, target, n, jobs)] as const);
    for (const [label, r] of results) {
      process.stdout.write(
        `${`${target} ${n}`.padEnd(11)}${label.padEnd(8)}${fmt(r.recordSeconds).padStart(8)}  ${String(r.states).padStart(6)}  ${String(r.images).padStart(6)}  ${fmt(r.enumSeconds).padStart(6)}  ${fmt(r.writeMs).padStart(12)}  ${fmt(r.px86Seconds).padStart(6)}  ${fmt(r.recordSeconds + r.px86Seconds).padStart(7)}  ${fmt(r.cpuSeconds, 1).padStart(5)}  ${String(r.violations).padStart(4)}  ${fmt(r.maxRssMiB, 0).padStart(12)}\n`,
      );
    }
    if (results.length === 2) {
      const [[, a], [, b]] = results;
      process.stdout.write(
        `${`${target} ${n}`.padEnd(11)}before/this: images ${fmt(a.images / b.images, 2)}x, px86 ${fmt(a.px86Seconds / b.px86Seconds, 2)}x, ` +
          `total ${fmt((a.recordSeconds + a.px86Seconds) / (b.recordSeconds + b.px86Seconds), 2)}x, ` +
          `cpu ${fmt(a.cpuSeconds / b.cpuSeconds, 2)}x, peak RSS ${fmt(a.maxRssMiB / b.maxRssMiB, 2)}x\n`,
      );
    }
  }
  process.stdout.write(`load at the end ${load()}\n`);
}

main();
