// threads -- what threads that never touch PM cost a recording
// (docs/recording.md, "Threads"): bench/idle_threads.c runs the same regions
// in main (REGIONS x STORES stores, a clwb and an sfence every 8) with 0, 1,
// 2, 4 and 16 other threads that never touch PM, in two kinds:
//
//   sleep  they wait on a condition variable until main is done (a thread
//          pool with nothing to do);
//   work   they compute without system calls until main is done.
//
// Target, for each kind: any number of them costs no more than one more
// thread's scheduling, i.e. the recording beside the most of them takes at
// most 1.5 x the recording beside 1 of them. (A parked thread that waits or
// computes stays out of the schedule's draw until something may end its
// wait: native/scheduler.h, Wake.)
//
// Each recording runs once through `pmfit record` (the whole CLI, as a user
// runs it), so that the time includes starting and attaching every thread.
// `npm run bench:threads` builds the programs first. The machine's load moves the
// times: compare the rows of one run.
//
// Usage: npm run bench:threads [-- [--regions R] [--stores S] [--idle 0,1,2,4,16] [--kinds sleep,work]]

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildDir, projectRoot } from '../harness/_internals/paths';

const program = path.join(buildDir, 'idle_threads');
const pmfit = path.join(projectRoot, 'dist', 'harness', 'cli', 'main.js');
const TARGET = 1.5;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}

interface Row {
  kind: string;
  idle: number;
  instructions: number;
  seconds: number;
}

function recordOnce(dir: string, kind: string, idle: number, regions: string, stores: string): Row {
  const pm = path.join(dir, `${kind}-${idle}.pm`);
  fs.writeFileSync(pm, Buffer.alloc(4096));
  const trace = path.join(dir, `${kind}-${idle}.trace`);
  const start = process.hrtime.bigint();
  const run = spawnSync(
    process.execPath,
    [pmfit, 'record', '--pm', pm, '-o', trace, '--', program, kind, String(idle), regions, stores, pm],
    { encoding: 'utf8' },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const recorded = /recorded (\d+) instructions/.exec(run.stderr);
  if (run.status !== 0 || !recorded)
    throw new Error(`pmfit record of ${kind} ${idle} failed (status ${run.status}): ${run.stderr.trim()}`);
  return { kind, idle, instructions: Number(recorded[1]), seconds };
}

function main(): void {
  if (!fs.existsSync(program)) throw new Error(`${program} is missing: run npm run build`);
  const regions = option('regions', '20');
  const stores = option('stores', '400');
  const idles = option('idle', '0,1,2,4,16').split(',').map(Number);
  const kinds = option('kinds', 'sleep,work').split(',');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-bench-threads-'));
  const rows: Row[] = [];
  try {
    for (const kind of kinds)
      for (const idle of idles) {
        const row = recordOnce(dir, kind, idle, regions, stores);
        rows.push(row);
        process.stdout.write(
          `${kind.padEnd(5)}  ${String(idle).padStart(3)} idle threads  ${String(row.instructions).padStart(8)} instructions  ${row.seconds.toFixed(2).padStart(7)} s\n`,
        );
      }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const kind of kinds) {
    const mine = rows.filter((row) => row.kind === kind);
    const one = mine.find((row) => row.idle === 1);
    const most = mine.reduce<Row | undefined>((best, row) => (!best || row.idle > best.idle ? row : best), undefined);
    if (!one || !most || most.idle <= 1) continue;
    const ratio = most.seconds / one.seconds;
    process.stdout.write(
      `${kind}: ${most.idle} idle threads take ${ratio.toFixed(2)} x the time of 1 (target <= ${TARGET}): ${ratio <= TARGET ? 'met' : 'NOT met'}\n`,
    );
  }
}

main();
