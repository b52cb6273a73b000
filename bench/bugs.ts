// bugs -- the detection benchmark: a corpus of seeded crash-consistency bugs
// in alloc and tree, and which persistency models and which checks find them.
//
// Mutants (bench/mutants/):
//   (a) remove-persist  each persist call site of alloc.c / tree.c removed
//   (b) swap-steps      each pair of consecutive persist-separated update
//                       steps swapped
//   (c) remove-fence    in clwb mode (PMEM_MODE=clwb): libpmem's sfence
//                       removed, and each drain of alloc.c / tree.c removed
//   patch:*             hand-written classic bugs (bench/mutants/patches/)
// (a), (b) and the patches run in the default clflush mode.
//
// Each mutant is the real source with one change, written into a build
// directory under the pmfit temporary root (or --keep DIR) and compiled with
// gcc (bench/mutants/build.ts). A mutant that does not compile is dropped
// and counted. One whose code is identical to the unmutated program's is
// equivalent by construction. The others are first run plainly (setup and
// workload, no tracing): a mutant whose workload fails without any crash is
// "functional", caught by any test, and left out of the rates. Then each
// scenario's allcounts pipeline (runTarget: record, every model, check) runs
// with the spec pointed at the mutant: a model kills the mutant when it
// finds a violating crash point in any scenario.
//
// Checks (the table's column groups, mutants/columns.ts): "no window", the
// recovery and the invariants alone (what a checker that sees only the
// image can tell); "window", which also wants the recovered data to be a
// state the crash's operation window allows (the specs' reference states,
// what `--oracle outputs` does for a user's program); "depth 2", the window
// check with each recovery crashed too (allcounts --depth 2). The first two
// come from one depth-1 run; depth-1 scenarios run in order and stop once
// every model has killed the mutant without the window. Depth 2 checks the
// same images first, so it kills whatever depth 1 kills ('k' cells); it is
// run only for the mutants that no depth-1 check of any model killed (the
// candidates for the recovery class and the equivalents), in their first
// scenario whose recovery is one program (alloc-small or tree-small; the
// tracer cannot run creating()'s shell line). Crashing every recovery of
// every mutant under every model took 60-140 s a mutant on the loaded
// 2-core machine, over an hour in all; the cells of models that another
// model killed at depth 1 are '-' (not run).
// expectations.ts names the mutants that show what a check adds (a lost
// completed operation: window only; a recovery that is not crash-safe:
// depth 2 only), and the bench checks each claim.
//
// Workloads: with the allcounts workloads (DEFAULT_OPS, DEFAULT_WORDS) a
// mutant that leaves lines unsettled for long gives px86 thousands of
// distinct images to recover (7,377 for the sfence-less libpmem on alloc):
// the whole bench took 9 minutes on a quiet machine and well over its
// 15-minute budget under load (500 s for single mutants). So mutants run
// smaller workloads (scenarios.ts: SMALL_OPS, SMALL_WORDS) that reach every
// persist site of the traced paths: 3 minutes, and the same table as
// --full, which runs the allcounts workloads instead. The unmutated
// programs are checked with both.
//
// The unmutated programs go through the same pipeline in every scenario and
// mode used, and at depth 2 in every scenario and mode a mutant was crashed
// in; any violation there is a false positive (must be zero).
//
// Rates: killed / counted, per check and model, where counted mutants are
// those that compiled, are not functional, and are not equivalent
// (equivalents.ts says why for each survivor of every model and check).
//
// Usage: npm run bench:bugs [-- [--only REGEX] [--keep DIR] [--output FILE]
//                                [--max-states N] [--jobs N] [--full]
//                                [--depth 1|2] [--recovery-crashes N] [--list]]
// --depth 1 leaves the depth-2 column out; --recovery-crashes N crashes the
// recoveries of a seeded sample of N images per model and scenario only.
// Writes reports/bugs.json, and reports/index.html gets a "Mutant detection"
// section (regenerated now when reports/results.json exists, and by every
// later `pmfit allcounts` / `pmfit report` into that directory).

import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../harness/_internals/paths';
import { tempDir } from '../harness/_internals/temp-root';
import { installInterruptHandlers } from '../harness/_internals/interrupt';
import { runCommands } from '../harness/check/run-commands';
import type { TargetSpec } from '../harness/check/spec';
import { ModelName, modelNames, resolveOptions } from '../harness/persistency/model';
import { runTarget } from '../harness/pipeline/run-target';
import { readResults } from '../harness/results/results';
import type { RecoveryCrashSummary } from '../harness/results/schema';
import { writeReports } from '../harness/report/write-reports';
import { writeOutputFile } from '../harness/_internals/output-file';
import { Builder, programsOf, readSources, sameCode } from './mutants/build';
import { resolveConditionals } from './mutants/c-source';
import { CellResult, COLUMN_TITLES, COLUMNS, Column, windowlessViolations } from './mutants/columns';
import { EQUIVALENTS } from './mutants/equivalents';
import { CLASS_CLAIMS, EXPECTATIONS, MutantClass, unmetExpectation } from './mutants/expectations';
import { generateMutants, Mutant, PmemMode, SourceFile } from './mutants/operators';
import { loadPatches, PatchMutant } from './mutants/patches';
import { ProgramName, scenario } from './mutants/scenarios';

const MAX_JOBS = 2;
const PLAIN_TIMEOUT_MS = 20_000;
const RECOVERY_TIMEOUT_MS = 10_000;
/** A mutant that loops inside a region is stopped here (the workloads take
 *  under 10,000 instructions). */
const MAX_STEPS = 2_000_000;

type Result = CellResult;
type Status = 'checked' | 'functional' | 'equivalent';

interface ScenarioRun {
  scenario: string;
  mode: PmemMode;
  depth: 1 | 2;
  instructions?: number;
  /** Violating crash points per model (the window check; at depth 2 with
   *  crashes during recovery). */
  violations?: Partial<Record<ModelName, number>>;
  /** Depth 1: violating groups the check without the window finds too
   *  (mutants/columns.ts). */
  windowless?: Partial<Record<ModelName, number>>;
  /** Depth 2: what crashing the recoveries took, per model. */
  recoveryCrashes?: Partial<Record<ModelName, RecoveryCrashSummary>>;
  /** The plain run or the pipeline failed: why. */
  failure?: string;
}

interface MutantRecord {
  name: string;
  operator: string;
  mode: PmemMode;
  file: string;
  line: number;
  description: string;
  status: Status;
  /** expectations.ts's class, when the mutant has one. */
  class?: MutantClass;
  /** Per model: killed by any check (the strongest column). */
  results: Record<string, Result>;
  /** Per column, per model. */
  columns: Record<Column, Record<string, Result>>;
  equivalent?: string;
  note?: string;
  runs: ScenarioRun[];
}

interface Options {
  only?: RegExp;
  keep?: string;
  output: string;
  maxStates: number;
  jobs: number;
  list: boolean;
  full: boolean;
  /** 1: no depth-2 column. */
  depth: 1 | 2;
  /** Depth 2 on a seeded sample of this many images per model and scenario
   *  (allcounts --recovery-crashes N); undefined: every image. */
  recoveryCrashes?: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    output: path.join(projectRoot, 'reports', 'bugs.json'),
    maxStates: 64,
    jobs: MAX_JOBS,
    list: false,
    full: false,
    depth: 2,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--only') options.only = new RegExp(value());
    else if (arg === '--keep') options.keep = path.resolve(value());
    else if (arg === '--output') options.output = path.resolve(value());
    else if (arg === '--max-states') options.maxStates = Number(value());
    else if (arg === '--jobs') options.jobs = Math.min(MAX_JOBS, Math.max(1, Number(value())));
    else if (arg === '--list') options.list = true;
    else if (arg === '--full') options.full = true;
    else if (arg === '--depth') {
      const depth = value();
      if (depth !== '1' && depth !== '2') throw new Error(`--depth is 1 or 2, not ${depth}`);
      options.depth = depth === '1' ? 1 : 2;
    } else if (arg === '--recovery-crashes') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error('--recovery-crashes needs a whole number of at least 1');
      options.recoveryCrashes = n;
    } else
      throw new Error(
        `unknown option ${arg} (--only REGEX, --keep DIR, --output FILE, --max-states N, --jobs N, --full, --depth 1|2, --recovery-crashes N, --list)`,
      );
  }
  return options;
}

/** The scenarios a mutant runs in, in order (patches may name their own):
 *  the programs that link its file; tree.c mutants also create a pool
 *  through `tree insert`, the others through `alloc init`. FULL: the
 *  allcounts workloads instead of the small ones. */
export function scenariosOf(m: Mutant, full = false): string[] {
  if ((m as PatchMutant).scenarios) return (m as PatchMutant).scenarios as string[];
  const alloc = full ? 'alloc' : 'alloc-small';
  const tree = full ? 'tree' : 'tree-small';
  switch (m.file) {
    case 'main.c':
      return [alloc];
    case 'tree.c':
      return [tree, 'tree-create'];
    default:
      return [alloc, tree, 'alloc-create'];
  }
}

/** allMutants -- systematic mutants and patches of the real sources. */
export function allMutants(sources: SourceFile[] = readSources()): {
  mutants: Mutant[];
  patchFailures: { name: string; reason: string }[];
} {
  const systematic = generateMutants(sources);
  const { mutants: patches, failures } = loadPatches(path.join(projectRoot, 'bench', 'mutants', 'patches'), sources);
  return { mutants: [...systematic, ...patches], patchFailures: failures };
}

/** plainRun -- setup and workload without tracing; undefined when fine. */
async function plainRun(spec: TargetSpec): Promise<string | undefined> {
  const dir = tempDir(`${spec.name}-plain`);
  try {
    const env = spec.env ?? {};
    const setup = await runCommands(spec.setup, dir, { timeoutMs: PLAIN_TIMEOUT_MS, env, files: spec.pmFiles });
    if (setup.kind !== 'ok') return `setup ${setup.kind}: ${lastLine(setup.output)}`;
    const run = await runCommands([spec.workload], dir, { timeoutMs: PLAIN_TIMEOUT_MS, env, files: spec.pmFiles });
    if (run.kind === 'ok') return undefined;
    const why =
      run.kind === 'failed'
        ? `exit status ${run.exitCode}`
        : run.kind === 'crashed'
          ? `killed by ${run.signal}`
          : 'timed out';
    return `workload ${why}: ${lastLine(run.output)}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-1)[0] ?? '';
}

/** check -- the allcounts pipeline for SPEC under MODELS, at DEPTH (2: with
 *  crashes during recovery, allcounts --depth 2). */
async function check(spec: TargetSpec, options: Options, models: ModelName[], depth: 1 | 2 = 1): Promise<ScenarioRun> {
  const outcome = await runTarget({
    spec,
    models,
    modelOptions: resolveOptions({ maxStates: options.maxStates }),
    jobs: options.jobs,
    timeoutMs: RECOVERY_TIMEOUT_MS,
    maxSteps: MAX_STEPS,
    ...(depth === 2
      ? { recoveryCrashes: options.recoveryCrashes !== undefined ? { sample: options.recoveryCrashes } : {} }
      : {}),
  });
  const run: ScenarioRun = {
    scenario: spec.name,
    mode: (spec.env?.PMEM_MODE ?? 'clflush') as PmemMode,
    depth,
    instructions: outcome.target.instructions,
    violations: {},
  };
  for (const r of outcome.runs) {
    (run.violations as Partial<Record<ModelName, number>>)[r.model] = r.violations;
    if (depth === 1) run.windowless = { ...run.windowless, [r.model]: windowlessViolations(r) };
    if (r.recoveryCrashes) run.recoveryCrashes = { ...run.recoveryCrashes, [r.model]: r.recoveryCrashes };
  }
  return run;
}

/** killedIn -- has some run of RUNS killed MODEL in COLUMN? */
function killedIn(runs: ScenarioRun[], column: Column, model: ModelName): boolean {
  return runs.some((r) =>
    column === 'no-window'
      ? r.depth === 1 && (r.windowless?.[model] ?? 0) > 0
      : (column === 'depth2' || r.depth === 1) && (r.violations?.[model] ?? 0) > 0,
  );
}

async function pool<T>(items: T[], jobs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function percent(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '—';
}

/** Width of one cell of the table. */
const CELL = 6;
const MODEL_SHORT: Record<ModelName, string> = { sequential: 'seq', flushed: 'flu', px86: 'px86' };
const CELL_MARK: Record<Result, string> = { killed: 'K', 'depth-1': 'k', survived: '.', 'not-run': '-' };
const KILLED: readonly Result[] = ['killed', 'depth-1'];

/** cellsOf -- a mutant's row of marks: per column, per model. */
function cellsOf(r: MutantRecord, columns: readonly Column[], models: readonly ModelName[]): string {
  return columns
    .map(
      (c) =>
        models
          .map((m) => {
            const result = r.columns[c][m] ?? 'survived';
            return pad(r.status === 'equivalent' && result === 'survived' ? '=' : CELL_MARK[result], CELL);
          })
          .join('') + '  ',
    )
    .join('')
    .trimEnd();
}

async function main(): Promise<number> {
  installInterruptHandlers();
  const started = Date.now();
  const options = parseArgs(process.argv.slice(2));
  const models = [...modelNames];
  const sources = readSources();
  const { mutants: generated, patchFailures } = allMutants(sources);
  const mutants = options.only ? generated.filter((m) => options.only?.test(m.name)) : generated;

  if (options.list) {
    for (const m of mutants)
      process.stdout.write(`${pad(m.name, 44)} ${pad(m.mode, 7)} ${m.file}:${m.line}  ${m.description}\n`);
    for (const f of patchFailures) process.stdout.write(`${pad(f.name, 44)} does not apply: ${f.reason}\n`);
    return 0;
  }

  const root = options.keep ?? tempDir('mutants');
  fs.mkdirSync(root, { recursive: true });
  process.stdout.write(
    `pmfit bench:bugs: ${mutants.length} mutants (${generated.length - mutants.length} filtered out), building in ${root}\n`,
  );

  // --- build: the real programs, the resolved (conditional-free) base, mutants
  const resolvedSources = sources.map((s) => ({ ...s, text: resolveConditionals(s.text).text }));
  const real = new Builder(path.join(root, 'real'), sources);
  const base = new Builder(path.join(root, 'resolved'), resolvedSources);
  const realBuild = await real.build(path.join(root, 'real'), ['alloc', 'tree']);
  const baseBuild = await base.build(path.join(root, 'resolved'), ['alloc', 'tree']);
  if (!realBuild.ok || !baseBuild.ok)
    throw new Error(`the unmutated targets do not build: ${realBuild.error ?? baseBuild.error}`);
  for (const p of ['alloc', 'tree'] as ProgramName[]) {
    if (!sameCode(realBuild.programs[p] as string, baseBuild.programs[p] as string)) {
      throw new Error(
        `resolving the sources' conditionals changed the code of ${p}: the mutants would not be of the real program`,
      );
    }
  }

  const built = new Map<
    Mutant,
    { error?: string; programs: Partial<Record<ProgramName, string>>; sameCode: boolean }
  >();
  let index = 0;
  const numbered = new Map(mutants.map((m) => [m, ++index]));
  await pool(mutants, MAX_JOBS, async (m) => {
    const programs = [...new Set(scenariosOf(m, options.full).map((s) => scenario(s).program))].filter((p) =>
      programsOf(m.file).includes(p),
    );
    const dir = path.join(
      root,
      `${String(numbered.get(m)).padStart(3, '0')}-${m.name.replace(/[^A-Za-z0-9_.#-]+/g, '_')}`,
    );
    const r = await base.build(dir, programs, { file: m.file, text: m.text });
    fs.writeFileSync(path.join(dir, 'MUTANT'), `${m.name}\n${m.description}\n`);
    const same = r.ok && programs.every((p) => sameCode(r.programs[p] as string, baseBuild.programs[p] as string));
    built.set(m, { ...(r.error ? { error: r.error } : {}), programs: r.programs, sameCode: same });
  });
  const dropped = mutants.filter((m) => built.get(m)?.error !== undefined);
  process.stdout.write(`built: ${mutants.length - dropped.length} compile, ${dropped.length} do not (dropped)\n`);

  // --- false positives: the unmutated programs in every scenario × mode used
  // (and the allcounts workloads themselves, in both modes), at depth 1; at
  // depth 2 below, in every scenario × mode a mutant was crashed in
  const pairs = new Map<string, { scenario: string; mode: PmemMode }>();
  for (const s of ['alloc', 'tree'])
    for (const mode of ['clflush', 'clwb'] as PmemMode[]) pairs.set(`${s}/${mode}`, { scenario: s, mode });
  for (const m of mutants) {
    if (built.get(m)?.error !== undefined) continue;
    for (const s of scenariosOf(m, options.full)) pairs.set(`${s}/${m.mode}`, { scenario: s, mode: m.mode });
  }
  const falsePositives: ScenarioRun[] = [];
  const unmutated = async (s: string, mode: PmemMode, depth: 1 | 2): Promise<void> => {
    const sc = scenario(s);
    const spec = sc.spec(realBuild.programs[sc.program] as string, mode);
    const failure = await plainRun(spec);
    const run = failure ? { scenario: s, mode, depth, failure } : await check(spec, options, models, depth);
    falsePositives.push({ ...run, scenario: s });
    process.stdout.write(
      `unmutated ${pad(`${s}/${mode}`, 20)} depth ${depth}: ${run.failure ? `FAILED: ${run.failure}` : models.map((mo) => `${mo} ${run.violations?.[mo]}`).join(', ')}\n`,
    );
  };
  const byName = (a: { scenario: string; mode: PmemMode }, b: { scenario: string; mode: PmemMode }) =>
    `${a.scenario}/${a.mode}`.localeCompare(`${b.scenario}/${b.mode}`);
  for (const { scenario: s, mode } of [...pairs.values()].sort(byName)) await unmutated(s, mode, 1);

  // --- check every mutant
  const columns = COLUMNS.filter((c) => options.depth === 2 || c !== 'depth2');
  const depth2Pairs = new Map<string, { scenario: string; mode: PmemMode }>();
  const records: MutantRecord[] = [];
  for (const m of mutants) {
    const b = built.get(m);
    if (!b || b.error !== undefined) continue;
    const expectation = EXPECTATIONS[m.name];
    const record: MutantRecord = {
      name: m.name,
      operator: m.operator,
      mode: m.mode,
      file: m.file,
      line: m.line,
      description: m.description,
      status: 'checked',
      ...(expectation ? { class: expectation.class } : {}),
      results: {},
      columns: { 'no-window': {}, window: {}, depth2: {} },
      runs: [],
    };
    const t0 = Date.now();
    if (b.sameCode) {
      record.status = 'equivalent';
      record.equivalent = 'identical machine code: the change does not reach the compiled program';
    } else {
      // plain runs first: a mutant that fails without a crash is functional
      const specOf = (s: string) => {
        const sc = scenario(s);
        return sc.spec(b.programs[sc.program] as string, m.mode);
      };
      const names = scenariosOf(m, options.full);
      for (const s of names) {
        const failure = await plainRun(specOf(s));
        if (failure) record.runs.push({ scenario: s, mode: m.mode, depth: 1, failure });
      }
      const attempt = async (s: string, models_: ModelName[], depth: 1 | 2) => {
        try {
          record.runs.push({ ...(await check(specOf(s), options, models_, depth)), scenario: s });
        } catch (err) {
          record.runs.push({ scenario: s, mode: m.mode, depth, failure: `pipeline: ${(err as Error).message}` });
        }
      };
      // depth 1, scenario by scenario, until every model has killed it even
      // without the window
      for (const s of record.runs.length > 0 ? [] : names) {
        if (models.every((model) => killedIn(record.runs, 'no-window', model))) break;
        await attempt(s, models, 1);
      }
      // depth 2 for a mutant that no depth-1 check of any model killed, in
      // its first scenario whose recovery the tracer can run (scenarios.ts)
      const first = names.find((n) => scenario(n).depth2);
      const survivedDepth1 = models.every((model) => !killedIn(record.runs, 'window', model));
      if (options.depth === 2 && !record.runs.some((r) => r.failure) && survivedDepth1 && first) {
        depth2Pairs.set(`${first}/${m.mode}`, { scenario: first, mode: m.mode });
        await attempt(first, models, 2);
      }
    }
    for (const model of models) {
      record.columns['no-window'][model] = killedIn(record.runs, 'no-window', model) ? 'killed' : 'survived';
      record.columns.window[model] = killedIn(record.runs, 'window', model) ? 'killed' : 'survived';
      if (options.depth === 2)
        record.columns.depth2[model] =
          record.columns.window[model] === 'killed'
            ? 'depth-1'
            : !record.runs.some((r) => r.depth === 2)
              ? 'not-run'
              : killedIn(record.runs, 'depth2', model)
                ? 'killed'
                : 'survived';
      record.results[model] = columns.some((c) => KILLED.includes(record.columns[c][model])) ? 'killed' : 'survived';
    }
    const failed = record.runs.find((r) => r.failure);
    const claim = EQUIVALENTS[m.name];
    const survivedAll = models.every((model) => record.results[model] === 'survived');
    if (failed) {
      record.status = 'functional';
      for (const model of models) {
        record.results[model] = 'killed';
        for (const c of columns) record.columns[c][model] = 'killed';
      }
      record.note = `killed without a crash: ${failed.scenario}: ${failed.failure}`;
    } else if (record.status === 'equivalent') {
      // by identical code
    } else if (claim && survivedAll) {
      record.status = 'equivalent';
      record.equivalent = claim;
    } else if (claim) {
      record.note = 'WRONG CLAIM: listed as equivalent in equivalents.ts, but killed';
    } else if (survivedAll) {
      record.note = 'UNEXPLAINED: survives every model and has no entry in equivalents.ts';
    }
    if (expectation && record.status === 'checked') {
      const unmet = unmetExpectation(expectation.class, record.columns, models, options.depth);
      if (unmet) record.note = `UNMET EXPECTATION (${expectation.class}): ${unmet}`;
    }
    records.push(record);
    process.stdout.write(
      `${pad(m.name, 44)} ${pad(m.mode, 7)} ${cellsOf(record, columns, models)}  ${pad(record.status, 10)} ${((Date.now() - t0) / 1000).toFixed(1)}s${record.note ? `  ${record.note}` : ''}\n`,
    );
  }
  if (options.depth === 2)
    for (const { scenario: s, mode } of [...depth2Pairs.values()].sort(byName)) await unmutated(s, mode, 2);

  // --- rates and report
  const counted = records.filter((r) => r.status === 'checked');
  const killedCount = (c: Column, model: string) => counted.filter((r) => KILLED.includes(r.columns[c][model])).length;
  const rates: Record<string, number> = {};
  const columnRates: Partial<Record<Column, Record<string, number>>> = {};
  if (counted.length > 0) {
    for (const model of models)
      rates[model] = counted.filter((r) => r.results[model] === 'killed').length / counted.length;
    for (const c of columns)
      columnRates[c] = Object.fromEntries(models.map((model) => [model, killedCount(c, model) / counted.length]));
  }
  const count = (s: Status) => records.filter((r) => r.status === s).length;
  const counts = {
    generated: mutants.length,
    patchesNotApplying: patchFailures.length,
    dropped: dropped.length,
    functional: count('functional'),
    equivalent: count('equivalent'),
    checked: counted.length,
  };
  const falsePositiveTotal = falsePositives.reduce(
    (n, r) => n + (r.failure ? 1 : models.reduce((k, mo) => k + (r.violations?.[mo] ?? 0), 0)),
    0,
  );

  // The scenarios run whose recoveries depth 2 cannot crash, and why.
  const depth2NotRun =
    options.depth === 2
      ? [...new Set(records.flatMap((r) => r.runs.map((run) => run.scenario)))].sort().flatMap((name) => {
          const why = scenario(name).noDepth2;
          return why ? [{ scenario: name, why }] : [];
        })
      : [];

  // The table: no times in it, so that two runs diff line by line.
  const lines: string[] = [];
  const left = `${pad('', 44)} ${pad('', 7)} ${pad('', 8)}`;
  const groupWidth = models.length * CELL + 2;
  const header = `${pad('mutant', 44)} ${pad('mode', 7)} ${pad('class', 8)} ${columns.map(() => models.map((m) => pad(MODEL_SHORT[m], CELL)).join('') + '  ').join('')}status`;
  lines.push('', `${left} ${columns.map((c) => pad(COLUMN_TITLES[c], groupWidth)).join('')}`.trimEnd(), header);
  lines.push('-'.repeat(header.length + 6));
  for (const r of records)
    lines.push(
      `${pad(r.name, 44)} ${pad(r.mode, 7)} ${pad(r.class ?? '', 8)} ${cellsOf(r, columns, models)}  ${r.status}`,
    );
  lines.push('-'.repeat(header.length + 6));
  const rateRow = (label: string, cell: (c: Column, model: ModelName) => string) =>
    `${pad(label, 61)} ${columns.map((c) => models.map((m) => pad(cell(c, m), CELL)).join('') + '  ').join('')}`.trimEnd();
  lines.push(
    rateRow(`detection rate (${counted.length} non-equivalent)`, (c, m) =>
      percent(columnRates[c]?.[m] ?? Number.NaN).replace('%', ''),
    ),
  );
  lines.push(rateRow('  missed', (c, m) => String(counted.length - killedCount(c, m))));
  lines.push(
    '',
    `K killed; k killed at depth 1 (depth 2 checks those images first, so it was not run); . survived; = equivalent; ` +
      `- not run. Rates in % (depth 2: a lower bound, - counts as not killed). no window: recovery succeeds and the ` +
      `invariants hold; window: the recovered data is also a state the crash's operation window allows; depth 2: the ` +
      `window check, with each recovery crashed too ` +
      `(${options.depth === 1 ? 'not run: --depth 1' : `${options.recoveryCrashes !== undefined ? `a seeded sample of ${options.recoveryCrashes} images per model, --recovery-crashes ${options.recoveryCrashes}` : 'every distinct image'}; run only for the mutants no depth-1 check of any model kills, in their first scenario whose recovery is one program`}).`,
  );
  for (const cls of Object.keys(CLASS_CLAIMS) as MutantClass[]) {
    const members = records.filter((r) => r.class === cls);
    lines.push(
      `class ${cls}: ${CLASS_CLAIMS[cls]}; ${members.length} mutants, ${members.filter((r) => !r.note?.startsWith('UNMET')).length} as claimed`,
    );
  }
  lines.push('');
  lines.push(
    `mutants: ${counts.generated} generated (${patchFailures.length} patches do not apply), ${counts.dropped} do not compile (dropped), ${counts.functional} functional (fail without a crash, not in the rates), ${counts.equivalent} equivalent, ${counts.checked} checked`,
  );
  for (const m of dropped) lines.push(`  dropped ${m.name}: ${(built.get(m)?.error ?? '').split('\n')[0]}`);
  for (const f of patchFailures) lines.push(`  patch ${f.name} does not apply: ${f.reason}`);
  for (const r of records.filter((x) => x.status === 'equivalent'))
    lines.push(`  equivalent ${r.name}: ${r.equivalent}`);
  for (const r of records.filter((x) => x.class !== undefined))
    lines.push(`  ${r.class} ${r.name}: ${EXPECTATIONS[r.name]?.why}`);
  for (const r of records.filter((x) => x.note && /UNEXPLAINED|WRONG|UNMET/.test(x.note)))
    lines.push(`  ${r.name}: ${r.note}`);
  for (const { scenario: name, why } of depth2NotRun) lines.push(`depth 2 not run in ${name}: ${why}`);
  lines.push(
    `false positives on the unmutated targets: ${falsePositiveTotal} (${falsePositives.map((r) => `${r.scenario}/${r.mode}${r.depth === 2 ? ' depth 2' : ''}`).join(', ')})`,
  );
  const seconds = (Date.now() - started) / 1000;
  lines.push(`time: ${seconds.toFixed(0)} s`);
  process.stdout.write(`${lines.join('\n')}\n`);

  const staleClaims = [...Object.keys(EQUIVALENTS), ...Object.keys(EXPECTATIONS)].filter(
    (name) => !generated.some((m) => m.name === name),
  );
  for (const name of staleClaims)
    process.stdout.write(`note: equivalents.ts or expectations.ts names ${name}, which is not generated any more\n`);

  const table = {
    schema: 'pmfit-bugs',
    version: 2,
    generatedAt: new Date().toISOString(),
    command: `npm run bench:bugs${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    options: {
      maxStates: options.maxStates,
      seed: 1,
      jobs: options.jobs,
      models,
      columns,
      depth: options.depth,
      ...(options.recoveryCrashes !== undefined ? { recoveryCrashes: options.recoveryCrashes } : {}),
      ...(options.only ? { only: options.only.source } : {}),
    },
    rateBasis: 'killed / non-equivalent mutants that compile and whose workload runs without a crash',
    /** Per model, by any check (the strongest column). */
    rates,
    columnRates,
    counts,
    mutants: records,
    dropped: dropped.map((m) => ({
      name: m.name,
      operator: m.operator,
      line: m.line,
      description: m.description,
      error: built.get(m)?.error,
    })),
    patchesNotApplying: patchFailures,
    falsePositives,
    depth2NotRun,
    seconds,
  };
  fs.mkdirSync(path.dirname(options.output), { recursive: true });
  writeOutputFile(options.output, `${JSON.stringify(table, null, 2)}\n`);
  process.stdout.write(`wrote ${path.relative(process.cwd(), options.output)}\n`);
  const reportsDir = path.dirname(options.output);
  const resultsFile = path.join(reportsDir, 'results.json');
  if (path.basename(options.output) === 'bugs.json' && fs.existsSync(resultsFile)) {
    const written = writeReports(readResults(resultsFile), reportsDir, { json: false });
    process.stdout.write(`updated ${path.relative(process.cwd(), written.html)}\n`);
  }
  return falsePositiveTotal === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench:bugs: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
