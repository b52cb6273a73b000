// flush-sites -- what proving a process's flush sites costs
// (harness/elf/flush-sites.ts): processFlushSites of txmap (the libpmemobj
// target: libc, libpmem, libpmemobj, libndctl, libcrypto, ...) blocked in
// its check server's read, in fresh node processes (cold: nothing cached,
// iced-x86's WebAssembly not compiled), then again in the same process
// (cached), and with iced-x86 loaded beforehand, as it is when the recorder
// has decoded an instruction; those with pmfit's cache across runs off
// (PMFIT_CACHE_DIR=off), then fresh processes that find every library in
// a cache directory filled beforehand. Sites per library from the first run.
//
// Usage: npm run bench:flushsites [-- RUNS]   (default 5)

import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { builtProgram } from '../harness/_internals/paths';
import { processFlushSites } from '../harness/elf/flush-sites';
import { readMaps } from '../harness/elf/proc-maps';

interface Run {
  /** iced-x86 loaded and a decoder made, before the cold call (warm mode only). */
  icedMs?: number;
  coldMs: number;
  coldCpuMs: number;
  cachedMs: number;
  cachedCpuMs: number;
  complete: boolean;
  perLibrary: Record<string, number>;
}

function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** One measurement in this process: `pid` the waiting txmap. */
function measure(pid: number, warmIced: boolean): Run {
  let icedMs: number | undefined;
  if (warmIced) {
    const start = process.hrtime.bigint();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const iced = require('iced-x86') as typeof import('iced-x86');
    new iced.Decoder(64, new Uint8Array([0x90]), iced.DecoderOptions.None).free();
    icedMs = msSince(start);
  }
  let wall = process.hrtime.bigint();
  let cpu = process.cpuUsage();
  const maps = readMaps(pid);
  const cold = processFlushSites(pid, maps);
  const coldMs = msSince(wall);
  const coldCpuMs = cpuMsSince(cpu);
  wall = process.hrtime.bigint();
  cpu = process.cpuUsage();
  processFlushSites(pid, readMaps(pid));
  const cachedMs = msSince(wall);
  const cachedCpuMs = cpuMsSince(cpu);
  const perLibrary: Record<string, number> = {};
  for (const entry of maps) {
    if (entry.perms[2] !== 'x') continue;
    const count = cold.addresses.filter((address) => address >= entry.start && address < entry.end).length;
    perLibrary[entry.path] = (perLibrary[entry.path] ?? 0) + count;
  }
  return { icedMs, coldMs, coldCpuMs, cachedMs, cachedCpuMs, complete: cold.complete, perLibrary };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    process.stdout.write(JSON.stringify(measure(Number(process.argv[3]), process.argv[4] === 'warm')));
    return;
  }
  const runs = Number(process.argv[2] ?? '5');
  const txmap = builtProgram('txmap');
  if (!fs.existsSync(txmap)) throw new Error(`${txmap} is missing: it needs scripts/install-pmdk.sh`);
  const child = spawn(txmap, ['check-server'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const pid = child.pid!;
  try {
    // blocked in read(0, ...) once every library is loaded
    const deadline = Date.now() + 20_000;
    while (!fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('0 ')) {
      if (Date.now() > deadline) throw new Error('txmap did not block in read');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-bench-cache-'));
    const measureIn = (mode: 'cold' | 'warm', cacheDir: string): Run =>
      JSON.parse(
        execFileSync(process.execPath, [__filename, '--child', String(pid), mode], {
          encoding: 'utf8',
          env: { ...process.env, PMFIT_CACHE_DIR: cacheDir },
        }),
      ) as Run;
    const results: Record<'cold' | 'warm' | 'disk', Run[]> = { cold: [], warm: [], disk: [] };
    try {
      measureIn('cold', cache);
      for (let i = 0; i < runs; i++) {
        results.cold.push(measureIn('cold', 'off'));
        results.warm.push(measureIn('warm', 'off'));
        results.disk.push(measureIn('cold', cache));
      }
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
    const first = results.cold[0];
    console.log(`txmap: complete ${first.complete}, sites per executable mapping:`);
    for (const [library, count] of Object.entries(first.perLibrary)) console.log(`  ${count}\t${library}`);
    const row = (label: string, values: number[]) =>
      console.log(
        `${label.padEnd(44)} median ${median(values).toFixed(1)} ms (${values.map((v) => v.toFixed(0)).join(', ')})`,
      );
    console.log(`\n${runs} runs, load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}:`);
    const rows: [string, number[]][] = [
      ['cold, wall', results.cold.map((r) => r.coldMs)],
      ['cold, CPU', results.cold.map((r) => r.coldCpuMs)],
      ['iced-x86 load alone, wall', results.warm.map((r) => r.icedMs!)],
      ['cold with iced-x86 already loaded, wall', results.warm.map((r) => r.coldMs)],
      ['cold with iced-x86 already loaded, CPU', results.warm.map((r) => r.coldCpuMs)],
      ['cached in the process, wall', results.cold.map((r) => r.cachedMs)],
      ['cached in the process, CPU', results.cold.map((r) => r.cachedCpuMs)],
      ['from the cache directory, wall', results.disk.map((r) => r.coldMs)],
      ['from the cache directory, CPU', results.disk.map((r) => r.coldCpuMs)],
    ];
    for (const [label, values] of rows) row(label, values);
  } finally {
    child.kill('SIGKILL');
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
});
