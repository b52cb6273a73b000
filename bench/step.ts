// step -- what one traced instruction costs: the addon's count mode (and
// record mode) against the barest ptrace loop (bench/stepbare.c).
//
// Fair span: both step exactly the same instructions, the call of `main` in
// bench/spin.c from its first instruction to its ret (a loop of 3N
// instructions plus strtoul), pinned to the same CPU. The addon gets main as
// a --function breakpoint, stepbare puts its own int3 there. spin is built
// non-PIE and ASLR is off in both, so nm's address of main is its run-time
// address. `npm run bench:step` builds them first (npm run build:programs).
//
// Usage: npm run bench:step [-- ITERATIONS]   (default 350000, ~1M steps)

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { currentCpu } from '../harness/tracer/current-cpu';
import { buildDir } from '../harness/_internals/paths';
import { BreakpointKind, loadNative, NativeStop } from '../harness/tracer/native';

const iterations = process.argv[2] ?? '350000';
const spin = path.join(buildDir, 'spin');
const stepbare = path.join(buildDir, 'stepbare');

/** mainAddress -- main's address from the symbol table (bench only: the
 *  harness reads ELF itself). */
function mainAddress(file: string): number {
  const out = execFileSync('nm', [file], { encoding: 'utf8' });
  const line = out.split('\n').find((entry) => / T main$/.test(entry));
  if (!line) throw new Error(`no main in ${file}`);
  return parseInt(line.split(' ')[0], 16);
}

interface Result {
  steps: number;
  usPerStep: number;
}

/** traceAddon -- the span under the addon, count mode or record mode with
 *  an instant decoder (every instruction: no writes), which adds the
 *  per-step instruction lookup and nothing else. */
function traceAddon(cpu: number, main: number, record: boolean): Result {
  const native = loadNative();
  const devnull = fs.openSync('/dev/null', 'r+');
  const task = new native.Task({
    file: spin,
    argv: [spin, iterations],
    env: [],
    cwd: process.cwd(),
    cpu,
    stdinFd: devnull,
    stdoutFd: devnull,
    stderrFd: 2,
    guardFiles: [],
  });
  fs.closeSync(devnull);
  try {
    task.setBreakpoints(BreakpointKind.Function, [main]);
    const options = { stopAt: -1, maxSteps: -1, budget: 20_000, record };
    const start = process.hrtime.bigint();
    let stop: NativeStop;
    for (;;) {
      stop = task.resume(options);
      if (stop.kind === 'yield' || stop.kind === 'regionBegin' || stop.kind === 'regionEnd') continue;
      if (stop.kind === 'decode') {
        task.setInstruction(stop.address, { length: 1, flags: 0, writes: [] });
        continue;
      }
      break;
    }
    const us = Number(process.hrtime.bigint() - start) / 1000;
    if (stop.kind !== 'exited') throw new Error(`spin stopped with ${stop.kind}`);
    return { steps: stop.index, usPerStep: us / stop.index };
  } finally {
    task.kill();
  }
}

function traceBare(cpu: number, main: number): Result {
  const out = execFileSync(stepbare, [String(cpu), main.toString(16), spin, iterations], { encoding: 'utf8' });
  const match = /steps (\d+) us_per_step ([\d.]+)/.exec(out);
  if (!match) throw new Error(`stepbare said: ${out}`);
  return { steps: Number(match[1]), usPerStep: Number(match[2]) };
}

function main(): void {
  for (const file of [spin, stepbare]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build:programs`);
  }
  const cpu = Math.max(0, currentCpu());
  const address = mainAddress(spin);
  console.log(`span: main of ${path.basename(spin)} ${iterations}, pinned to CPU ${cpu}`);
  const bare = traceBare(cpu, address);
  console.log(`stepbare        ${bare.usPerStep.toFixed(2)} us/step  (${bare.steps} steps)`);
  const count = traceAddon(cpu, address, false);
  console.log(`addon count     ${count.usPerStep.toFixed(2)} us/step  (${count.steps} steps)`);
  const record = traceAddon(cpu, address, true);
  console.log(`addon record    ${record.usPerStep.toFixed(2)} us/step  (${record.steps} steps, no writes decoded)`);
  if (count.steps !== bare.steps) console.log(`warning: step counts differ (${count.steps} vs ${bare.steps})`);
  const ratio = count.usPerStep / bare.usPerStep;
  console.log(
    `ratio count/bare ${ratio.toFixed(3)} (target <= 1.2), record/bare ${(record.usPerStep / bare.usPerStep).toFixed(3)}`,
  );
}

main();
