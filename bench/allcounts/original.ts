// original -- the original allcounts method, on pmfit's own tracer: for every
// crash point k, set up a fresh pool, re-run the workload under the tracer up
// to instruction k of the regions, SIGKILL it there, hash the PM files as the
// kill left them, run the target's recovery on them in place and check the
// result. Nothing is shared between crash points except the resolved command
// and the windows of the reference states.
//
// The workload runs in-process through the Tracee class (what `pmfit crash k`
// does), not by spawning `pmfit crash k` per crash point: that would add a
// Node start-up (tens of ms) to every crash point and make the original look
// slower than the method is. The command is resolved (ELF read) once per mode,
// for the same reason; the pool is rebuilt by the spec's setup command every
// time, as the original did.
//
// Two modes of libpmem stand for the two models that have a re-run equivalent:
//   shared (default MAP_SHARED mapping): the kill leaves every store in the
//     file, the `sequential` model;
//   fit (PMEM_MODE=fit for the workload only): the file is mapped MAP_PRIVATE
//     and flushes pwrite whole lines back, so the kill leaves only flushed
//     lines, the `flushed` model.
// Setup and recovery run as the spec says in both modes.
//
// The original needed N (its icount pass) before the loop; here that pass is
// one recording of the workload in the same mode, because the region
// boundaries are needed too (for the reference states allowed at k) and the
// tracer's count mode does not report them. It is timed with the method.

import * as fs from 'fs';
import * as path from 'path';

import { tempDir, tempPath } from '../../harness/_internals/temp-root';
import { OpWindows, Region } from '../../harness/check/allowed-states';
import { recoveryVerdict } from '../../harness/check/recovery-verdict';
import { runCommands } from '../../harness/check/run-commands';
import type { CheckedSpec } from '../../harness/check/spec';
import type { Verdict } from '../../harness/check/verdict';
import { hashImages } from '../../harness/image/line-hash';
import { workloadLaunch, type WorkloadLaunch } from '../../harness/check/spec-command';
import { recordTrace } from '../../harness/record/record';
import { resolveCommand, ResolvedCommand } from '../../harness/tracer/resolve-command';
import { Tracee } from '../../harness/tracer/tracee';

export type OriginalMode = 'shared' | 'fit';

export interface PointResult {
  k: number;
  /** Hash of the PM files right after the kill (line-hash.ts, the same
   *  function pmfit's models use, so hashes compare across methods). */
  hash: string;
  window: string;
  verdict: Verdict;
  seconds: number;
}

export interface OriginalOptions {
  spec: CheckedSpec;
  mode: OriginalMode;
  timeoutMs: number;
  /** Wall-time budget for the crash-point loop; beyond it, a sample. */
  budgetSeconds: number;
  /** Crash points measured first, to estimate the full cost. */
  pilotPoints: number;
  onProgress?(line: string): void;
}

export interface OriginalResult {
  mode: OriginalMode;
  instructions: number;
  regions: Region[];
  /** Every measured crash point, by k. */
  points: Map<number, PointResult>;
  /** True when every crash point 0..N was measured. */
  full: boolean;
  /** Wall time of the count pass (one recording). */
  countSeconds: number;
  /** Wall time actually spent (count pass + every measured crash point). */
  measuredSeconds: number;
  /** Full: measuredSeconds. Sampled: count pass + the fitted per-point cost
   *  a + b·k summed over k = 0..N (extrapolated). */
  totalSeconds: number;
  /** Per-point cost fit, seconds: a + b·k. */
  fit: { a: number; b: number };
}

/** uniformPoints -- `count` crash points spread evenly over 0..n, ends included. */
export function uniformPoints(n: number, count: number): number[] {
  if (count >= n + 1) return Array.from({ length: n + 1 }, (_, k) => k);
  if (count <= 1) return [0];
  const points = new Set<number>();
  for (let i = 0; i < count; i++) points.add(Math.round((i * n) / (count - 1)));
  return [...points].sort((x, y) => x - y);
}

/** linearFit -- least squares of seconds against k. */
function linearFit(points: PointResult[]): { a: number; b: number } {
  const n = points.length;
  if (n === 0) return { a: 0, b: 0 };
  const mk = points.reduce((s, p) => s + p.k, 0) / n;
  const ms = points.reduce((s, p) => s + p.seconds, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.k - mk) ** 2;
    sxy += (p.k - mk) * (p.seconds - ms);
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: ms - b * mk, b };
}

/** fittedTotal -- Σ_{k=0..n} (a + b·k). */
function fittedTotal(fit: { a: number; b: number }, n: number): number {
  return (n + 1) * fit.a + (fit.b * n * (n + 1)) / 2;
}

function workloadEnv(launch: WorkloadLaunch, mode: OriginalMode): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...launch.env };
  if (mode === 'fit') env.PMEM_MODE = 'fit';
  return env;
}

/** recoverAndCheck -- the same classification as pmfit's runner: a recovery that
 *  crashes, times out or exits non-zero, or a missing PM file, is a
 *  violation; otherwise the spec's check with the window's allowed states. */
async function recoverAndCheck(
  spec: CheckedSpec,
  dir: string,
  allowed: unknown[],
  timeoutMs: number,
): Promise<Verdict> {
  const outcome = await runCommands(spec.recover, dir, { timeoutMs, env: spec.env, files: spec.pmFiles });
  if (outcome.kind !== 'ok') return recoveryVerdict(outcome);
  const files: Buffer[] = [];
  for (const name of spec.pmFiles) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      return { kind: 'invariant', failed: [`PM file ${name} is missing after recovery`], output: outcome.output };
    }
    files.push(fs.readFileSync(file));
  }
  let failed: string[];
  try {
    failed = spec.check({ files, recoveryOutput: outcome.stdout, allowed });
  } catch (error) {
    failed = [`check threw: ${error instanceof Error ? error.message : String(error)}`];
  }
  return failed.length > 0 ? { kind: 'invariant', failed, output: outcome.output } : { kind: 'ok' };
}

class Runner {
  private readonly dir: string;
  private readonly command: ResolvedCommand;
  private readonly env: NodeJS.ProcessEnv;
  private readonly devnull: number;
  windows?: OpWindows;

  constructor(private readonly options: OriginalOptions) {
    const { spec, mode } = options;
    // One fixed working directory per mode, emptied before each crash point,
    // so the workload's argv is the same every time.
    this.dir = tempDir(`original-${spec.name}-${mode}`);
    const launch = workloadLaunch(spec, this.dir);
    this.command = resolveCommand(launch.argv);
    this.env = workloadEnv(launch, mode);
    this.devnull = fs.openSync('/dev/null', 'w');
  }

  close(): void {
    fs.closeSync(this.devnull);
  }

  private async freshPool(): Promise<void> {
    for (const entry of fs.readdirSync(this.dir))
      fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    const setup = await runCommands(this.options.spec.setup, this.dir, {
      timeoutMs: this.options.timeoutMs,
      env: this.options.spec.env,
    });
    if (setup.kind !== 'ok') throw new Error(`setup failed (${setup.kind}): ${setup.output.trim()}`);
  }

  /** countPass -- N and the region boundaries of this mode's run. */
  async countPass(): Promise<{ instructions: number; regions: Region[] }> {
    await this.freshPool();
    const header = await recordTrace({
      command: this.command,
      pmFiles: this.options.spec.pmFiles,
      output: tempPath(`original-${this.options.mode}.trace`),
      cwd: this.dir,
      env: this.env,
      stdoutFd: this.devnull,
      stderrFd: this.devnull,
      functions: this.options.spec.functions,
      timeoutMs: this.options.timeoutMs,
    });
    if (header.exitCode !== 0) throw new Error(`workload (${this.options.mode}) exited with status ${header.exitCode}`);
    this.windows = new OpWindows(header.regions, this.options.spec.states);
    return { instructions: header.instructions, regions: header.regions };
  }

  /** crashAt -- one crash point, start to verdict. */
  async crashAt(k: number): Promise<PointResult> {
    const started = process.hrtime.bigint();
    const { spec } = this.options;
    await this.freshPool();
    const tracee = Tracee.start({
      command: this.command,
      functions: spec.functions,
      cwd: this.dir,
      env: this.env,
      stdoutFd: this.devnull,
      stderrFd: this.devnull,
    });
    try {
      // stopAt k: stops after the k-th region instruction (k = 0: at the
      // first region's entry; k = N: after the last region instruction).
      const end = await tracee.run({ stopAt: k, timeoutMs: this.options.timeoutMs });
      if (end.kind === 'exited') throw new Error(`crash point ${k} is past the end (${end.index} instructions)`);
    } finally {
      tracee.kill();
    }
    const images = spec.pmFiles.map((name) => fs.readFileSync(path.join(this.dir, name)));
    const hash = hashImages(images);
    const window = this.windows!.windowAt(k);
    const verdict = await recoverAndCheck(spec, this.dir, window.allowed, this.options.timeoutMs);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { k, hash, window: window.key, verdict, seconds };
  }
}

/** runOriginal -- the whole original method for one mode, full when the
 *  pilot's estimate fits the budget, otherwise on a uniform sample. */
export async function runOriginal(options: OriginalOptions): Promise<OriginalResult> {
  const runner = new Runner(options);
  const say = options.onProgress ?? (() => undefined);
  const started = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const { instructions: n, regions } = await runner.countPass();
    const countSeconds = elapsed();
    const points = new Map<number, PointResult>();
    let lastReport = Date.now();
    const measure = async (ks: number[], label: string): Promise<void> => {
      for (const k of ks) {
        if (points.has(k)) continue;
        points.set(k, await runner.crashAt(k));
        if (Date.now() - lastReport > 15000) {
          lastReport = Date.now();
          say(`original ${options.mode}: ${label} ${points.size} crash points measured, ${elapsed().toFixed(0)} s`);
        }
      }
    };

    const pilot = uniformPoints(n, options.pilotPoints);
    await measure(pilot, 'pilot');
    const pilotFit = linearFit([...points.values()]);
    const estimate = countSeconds + fittedTotal(pilotFit, n);
    if (estimate <= options.budgetSeconds) {
      say(
        `original ${options.mode}: N = ${n}, estimated ${estimate.toFixed(0)} s in full, within the ${options.budgetSeconds} s budget: measuring every crash point`,
      );
      await measure(
        Array.from({ length: n + 1 }, (_, k) => k),
        'full',
      );
    } else {
      const perPoint = estimate / (n + 1);
      const count = Math.max(options.pilotPoints, Math.floor((options.budgetSeconds - elapsed()) / perPoint));
      say(
        `original ${options.mode}: N = ${n}, estimated ${estimate.toFixed(0)} s in full, over the ${options.budgetSeconds} s budget: measuring a uniform sample of ~${count} crash points`,
      );
      await measure(uniformPoints(n, count), 'sample');
    }
    const measuredSeconds = elapsed();
    const fit = linearFit([...points.values()]);
    const full = points.size === n + 1;
    return {
      mode: options.mode,
      instructions: n,
      regions,
      points,
      full,
      countSeconds,
      measuredSeconds,
      totalSeconds: full ? measuredSeconds : countSeconds + fittedTotal(fit, n),
      fit,
    };
  } finally {
    runner.close();
  }
}
