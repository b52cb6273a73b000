// record -- what recording costs: time per step against the bare ptrace
// loop, and time and memory for the tree target and for a long region.
//
//   (a) Same run, same span (the call of long_region in
//       tests/fixtures/record/record_long.c, a loop with a PM store every 64
//       rounds and a clwb + sfence every 512): bench/stepbare.c single-steps
//       it with an int3 at long_region, recordTrace records it with
//       --function long_region. Both are pinned (stepbare to the CPU we run
//       on, the tracer by the addon). The span is run twice each and the
//       faster run counts; target: record <= 1.25 x bare.
//   (b) tree insert of 4, 40 and 400 distinct words into a fresh pool, one
//       command each: instructions, events, wall time of recordTrace, us per
//       instruction, and the peak RSS of the recording process.
//   (c) a ~10,000,000-instruction region (record_long): its peak RSS must
//       stay under 512 MiB.
//   (e) the cross-check of the PM files at every region boundary
//       (docs/recording.md): tree insert of 40 words into fresh pools of
//       10 MiB and 1 GiB, the time spent in the checks (with setting and
//       reading the written-page marks) against the whole recordTrace call
//       (target: under 10%), pages compared, peak RSS.
//   (d) a syscall the recorder cannot classify inside a region over a
//       256 MiB PM file (pm_big FILE syscall): the mapping is diffed around it,
//       which needs one copy of it; peak RSS must stay under that plus
//       256 MiB.
//
// Every recording runs in a child node process (this file with --child), so
// that its peak RSS is the recording's own: VmHWM of /proc/self/status, the
// high-water mark of the process's own memory since exec (getrusage's
// maxRSS also counts the parent's memory at the fork that made it).
// Builds nothing: run `npm run build` first.
//
// Usage: npm run bench:record [-- [--span ITERATIONS] [--long ITERATIONS]
//                                 [--words 4,40,400] [--skip-long]]
//   --span  long_region rounds for (a) (default 100000, ~0.7M steps)
//   --long  long_region rounds for (c) (default 1430000, ~10M steps)

import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildDir } from '../harness/_internals/paths';
import { recordTrace } from '../harness/record/record';
import { resolveCommand } from '../harness/tracer/resolve-command';
import { currentCpu } from '../harness/tracer/current-cpu';

const recordLong = path.join(buildDir, 'record_long');
const pmBig = path.join(buildDir, 'pm_big');
const stepbare = path.join(buildDir, 'stepbare');
const tree = path.join(buildDir, 'tree');
const MIB = 1024 * 1024;
const MEMORY_LIMIT_MIB = 512;
const RATIO_TARGET = 1.25;

/** What a child reports about one recording. */
interface ChildResult {
  instructions: number;
  events: number;
  regions: number;
  wallMs: number;
  maxRssBytes: number;
  traceBytes: number;
  checkMs: number;
  checkedPages: number;
  wholeFiles: number;
}

interface ChildRequest {
  argv: string[];
  pm: string[];
  output: string;
  functionName?: string;
  maxSteps?: number;
}

/** child -- record one run and print a ChildResult as JSON on stdout. */
async function child(request: ChildRequest): Promise<void> {
  const devnull = fs.openSync('/dev/null', 'w');
  const start = process.hrtime.bigint();
  const checks = { ms: 0, pages: 0, whole: 0 };
  const header = await recordTrace({
    onCheck: (check) => {
      checks.ms += check.ms;
      checks.pages += check.pages;
      checks.whole += check.wholeFiles;
    },
    command: resolveCommand(request.argv),
    pmFiles: request.pm,
    output: request.output,
    functions: request.functionName !== undefined ? [request.functionName] : undefined,
    maxSteps: request.maxSteps,
    stdoutFd: devnull,
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  fs.closeSync(devnull);
  const result: ChildResult = {
    instructions: header.instructions,
    events: header.events,
    regions: header.regions.length,
    wallMs,
    maxRssBytes: peakRssBytes(),
    traceBytes: fs.statSync(request.output).size,
    checkMs: checks.ms,
    checkedPages: checks.pages,
    wholeFiles: checks.whole,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** peakRssBytes -- this process's peak RSS since exec (VmHWM). */
function peakRssBytes(): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (kib === undefined) throw new Error('no VmHWM in /proc/self/status');
  return Number(kib) * 1024;
}

function recordInChild(request: ChildRequest): ChildResult {
  const out = spawnSync(process.execPath, [__filename, '--child', JSON.stringify(request)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * MIB,
  });
  if (out.status !== 0)
    throw new Error(`recording ${request.argv.join(' ').slice(0, 80)} failed (status ${out.status})`);
  return JSON.parse(out.stdout.trim().split('\n').pop() as string) as ChildResult;
}

/** functionAddress -- from the symbol table; record_long is non-PIE and ASLR
 *  is off, so this is the run-time address (bench only: the harness reads
 *  ELF itself). */
function functionAddress(file: string, name: string): number {
  const out = execFileSync('nm', [file], { encoding: 'utf8' });
  const line = out.split('\n').find((entry) => new RegExp(` T ${name}$`).test(entry));
  if (!line) throw new Error(`no ${name} in ${file}`);
  return parseInt(line.split(' ')[0], 16);
}

function freshFile(dir: string, name: string, size: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.alloc(size));
  return file;
}

/** words -- n distinct lower-case words in a scrambled order, so that the
 *  tree is reasonably balanced rather than a list: the base-26 digits of
 *  i * 2654435761 mod 2^32, a bijection of 32-bit numbers. */
function words(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    let value = Math.imul(i + 1, 2654435761) >>> 0;
    let word = '';
    do {
      word += String.fromCharCode(97 + (value % 26));
      value = Math.floor(value / 26);
    } while (value > 0);
    return word;
  });
}

const mib = (bytes: number): string => (bytes / MIB).toFixed(1);

function parseArgs(argv: string[]): { span: number; long: number; words: number[]; skipLong: boolean } {
  const options = { span: 100_000, long: 1_430_000, words: [4, 40, 400], skipLong: false };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--span':
        options.span = Number(value);
        i++;
        break;
      case '--long':
        options.long = Number(value);
        i++;
        break;
      case '--words':
        options.words = value.split(',').map(Number);
        i++;
        break;
      case '--skip-long':
        options.skipLong = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return options;
}

/** (a) record mode against the bare loop over the same span. */
function benchSpan(dir: string, iterations: number): void {
  const cpu = Math.max(0, currentCpu());
  const address = functionAddress(recordLong, 'long_region');
  const pm = path.join(dir, 'span.pm');
  console.log(
    `(a) span: long_region of record_long ${iterations} (--function long_region), stepbare pinned to CPU ${cpu}`,
  );
  let bare = { steps: 0, us: Infinity };
  let rec = { steps: 0, us: Infinity, events: 0 };
  for (let round = 0; round < 2; round++) {
    fs.writeFileSync(pm, Buffer.alloc(4096));
    const out = execFileSync(stepbare, [String(cpu), address.toString(16), recordLong, pm, String(iterations)], {
      encoding: 'utf8',
    });
    const match = /steps (\d+) us_per_step ([\d.]+)/.exec(out);
    if (!match) throw new Error(`stepbare said: ${out}`);
    if (Number(match[2]) < bare.us) bare = { steps: Number(match[1]), us: Number(match[2]) };

    fs.writeFileSync(pm, Buffer.alloc(4096));
    const result = recordInChild({
      argv: [recordLong, pm, String(iterations)],
      pm: [pm],
      output: path.join(dir, 'span.trace'),
      functionName: 'long_region',
    });
    const us = (result.wallMs * 1000) / result.instructions;
    if (us < rec.us) rec = { steps: result.instructions, us, events: result.events };
  }
  console.log(`    stepbare          ${bare.us.toFixed(2)} us/step  (${bare.steps} steps)`);
  console.log(
    `    recordTrace       ${rec.us.toFixed(2)} us/step  (${rec.steps} steps, ${rec.events} events; whole recordTrace call)`,
  );
  if (rec.steps !== bare.steps) console.log(`    warning: step counts differ (${rec.steps} vs ${bare.steps})`);
  const ratio = rec.us / bare.us;
  console.log(
    `    ratio record/bare ${ratio.toFixed(3)} (target <= ${RATIO_TARGET}: ${ratio <= RATIO_TARGET ? 'met' : 'NOT met'})`,
  );
}

/** (b) tree insert of n distinct words, one command each. */
function benchTree(dir: string, counts: number[]): void {
  console.log('(b) tree insert, n distinct words in one command, fresh 1 MiB pool');
  const rows: string[][] = [['words', 'instructions', 'events', 'wall s', 'us/instr', 'peak RSS MiB']];
  for (const n of counts) {
    const pm = path.join(dir, `tree-${n}.pm`);
    fs.rmSync(pm, { force: true });
    execFileSync(tree, ['init', pm]);
    const result = recordInChild({
      argv: [tree, 'insert', pm, ...words(n)],
      pm: [pm],
      output: path.join(dir, `tree-${n}.trace`),
    });
    if (result.regions !== n) throw new Error(`tree insert of ${n} words made ${result.regions} regions`);
    rows.push([
      String(n),
      String(result.instructions),
      String(result.events),
      (result.wallMs / 1000).toFixed(2),
      ((result.wallMs * 1000) / result.instructions).toFixed(2),
      mib(result.maxRssBytes),
    ]);
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) console.log(`    ${row.map((cell, column) => cell.padStart(widths[column])).join('  ')}`);
}

/** (e) the cross-check's share of recording, tree on large pools. */
function benchCrossCheck(dir: string): boolean {
  console.log('(e) cross-check at every region boundary: tree insert of 40 words, fresh pool');
  const rows: string[][] = [['pool', 'regions', 'wall s', 'checks ms', 'share', 'pages', 'whole', 'peak RSS MiB']];
  let ok = true;
  for (const [label, size] of [
    ['10 MiB', '10M'],
    ['1 GiB', '1G'],
  ]) {
    const pm = path.join(dir, `check-${size}.pm`);
    fs.rmSync(pm, { force: true });
    execFileSync(tree, ['init', pm, size]);
    const result = recordInChild({
      argv: [tree, 'insert', pm, ...words(40)],
      pm: [pm],
      output: path.join(dir, `check-${size}.trace`),
    });
    const share = result.checkMs / result.wallMs;
    ok &&= share < 0.1;
    rows.push([
      label,
      String(result.regions),
      (result.wallMs / 1000).toFixed(2),
      result.checkMs.toFixed(0),
      `${(share * 100).toFixed(1)}%`,
      String(result.checkedPages),
      String(result.wholeFiles),
      mib(result.maxRssBytes),
    ]);
    fs.rmSync(pm, { force: true });
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) console.log(`    ${row.map((cell, column) => cell.padStart(widths[column])).join('  ')}`);
  console.log(`    target: checks under 10% of recording: ${ok ? 'met' : 'NOT met'}`);
  return ok;
}

/** (c) peak memory of a ~10M-instruction region. */
function benchLong(dir: string, iterations: number): boolean {
  const pm = freshFile(dir, 'long.pm', 4096);
  console.log(`(c) long region: record_long ${iterations} (markers), recording's peak RSS`);
  const result = recordInChild({
    argv: [recordLong, pm, String(iterations)],
    pm: [pm],
    output: path.join(dir, 'long.trace'),
    maxSteps: 100_000_000,
  });
  const ok = result.maxRssBytes < MEMORY_LIMIT_MIB * MIB;
  console.log(
    `    ${result.instructions} instructions, ${result.events} events, trace ${mib(result.traceBytes)} MiB, ` +
      `${(result.wallMs / 1000).toFixed(1)} s (${((result.wallMs * 1000) / result.instructions).toFixed(2)} us/instr)`,
  );
  console.log(`    peak RSS ${mib(result.maxRssBytes)} MiB (limit ${MEMORY_LIMIT_MIB} MiB: ${ok ? 'met' : 'NOT met'})`);
  return ok;
}

/** (d) peak memory of a syscall diffed over a large mapping. */
function benchSyscallDiff(dir: string): boolean {
  const size = 256 * MIB;
  const pm = path.join(dir, 'diff.pm');
  fs.writeFileSync(pm, '');
  fs.truncateSync(pm, size);
  const limit = size + 256 * MIB;
  console.log(`(d) a syscall diffed over a ${mib(size)} MiB mapping: pm_big syscall, recording's peak RSS`);
  const result = recordInChild({
    argv: [pmBig, pm, 'syscall'],
    pm: [pm],
    output: path.join(dir, 'diff.trace'),
    maxSteps: 1_000_000,
  });
  const ok = result.maxRssBytes < limit;
  console.log(
    `    ${result.instructions} instructions, ${result.events} events, ${(result.wallMs / 1000).toFixed(2)} s`,
  );
  console.log(`    peak RSS ${mib(result.maxRssBytes)} MiB (limit ${mib(limit)} MiB: ${ok ? 'met' : 'NOT met'})`);
  return ok;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await child(JSON.parse(process.argv[3]) as ChildRequest);
    return;
  }
  const options = parseArgs(process.argv.slice(2));
  for (const file of [recordLong, pmBig, stepbare, tree]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-bench-record-'));
  try {
    benchSpan(dir, options.span);
    benchTree(dir, options.words);
    if (!benchCrossCheck(dir)) process.exitCode = 1;
    if (!options.skipLong && !benchLong(dir, options.long)) process.exitCode = 1;
    if (!benchSyscallDiff(dir)) process.exitCode = 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:record: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
});
