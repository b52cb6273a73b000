// schema -- reports/results.json, the source of every other output (console
// summary, HTML report, JUnit XML, exit code). Versioned: readers refuse a
// newer major version with a clear message. Documented in docs/results.md.

import type { ModelName } from '../persistency/model';

export const RESULTS_SCHEMA = 'pmfit-results';
export const RESULTS_VERSION = 1;

export type VerdictKind =
  'ok' | 'recovery-crashed' | 'recovery-timeout' | 'recovery-failed' | 'invariant' | 'recovery-not-crash-safe';

/** The instruction a crash point interrupts: where the machine would have
 *  gone on had power not failed. */
export interface InstructionSite {
  address: string;
  symbol?: string;
  module?: string;
  text?: string;
  file?: string;
  line?: number;
  /** In a trace of several threads: the thread that was to run it (0: the
   *  program's first thread, then 1, 2, ... in order of creation). */
  thread?: number;
  /** The call stack there, innermost first, when unwound (libdw); `file`
   *  and `line` are then those of its frame `frame`, the first in the
   *  program's own code, as a finding site's are. */
  stack?: StackFrame[];
  frame?: number;
}

/** A PM line of a crash image that differs from the guaranteed durable state. */
export interface LineDiff {
  file: string;
  offset: number;
  /** Hex of the line in the last guaranteed durable state and in the image. */
  durable: string;
  image: string;
}

/** Crash points with the same outcome, collated. */
export interface OutcomeGroup {
  id: string;
  kind: VerdictKind;
  violation: boolean;
  /** "1-1989,2001" */
  crashPoints: string;
  count: number;
  /** Distinct images in the group. */
  images: number;
  failed: string[];
  recoveryOutput: string;
  /** A representative crash point, for details and reproduction. */
  example: {
    k: number;
    hash: string;
    next?: InstructionSite;
    lines?: LineDiff[];
    describe?: unknown;
    /** A group of kind recovery-not-crash-safe: the crash during the
     *  recovery of the image above, at recovery instruction k (of
     *  `instructions`), which left the image `hash`. */
    recoveryCrash?: { k: number; hash: string; instructions: number };
    reproduce: string;
  };
}

/** One frame of a call stack, innermost first. */
export interface StackFrame {
  address: string;
  module?: string;
  symbol?: string;
  file?: string;
  line?: number;
}

/** An instruction that a finding blames, where the user reads it: `file`
 *  and `line` are those of the first frame in the program's own code (not
 *  libc's memmove or a flush helper) when the stack is known. */
export interface FindingSite {
  /** ordering: `durable-first` (the later store, durable too early) and
   *  `not-yet-durable` (the earlier one); not-durable: `never-durable`;
   *  atomicity: `opens` and `closes` (the stores between which crashes
   *  violate); lint: `store`, `flush`, `fence`. */
  role: string;
  /** The instruction's own address, module and symbol. */
  address: string;
  module?: string;
  symbol?: string;
  file?: string;
  line?: number;
  /** Instruction index of one event made there (the stack's). */
  index: number;
  /** In a trace of several threads: the thread that made that event. */
  thread?: number;
  /** The call stack at that event, innermost first, when unwound. */
  stack?: StackFrame[];
  /** With a stack: the index in it of the frame `file` and `line` are
   *  from (the first in the program's own code). */
  frame?: number;
  /** The source around file:line (the line before and the line), when the
   *  file was readable. */
  excerpt?: { line: number; text: string }[];
}

/** One cause of violations (docs/findings.md). */
export interface Finding {
  id: string;
  kind: 'ordering' | 'not-durable' | 'atomicity';
  /** One line naming the cause and its first site. */
  title: string;
  sites: FindingSite[];
  /** Crash points with an image of this cause. */
  crashPoints: string;
  count: number;
  /** Distinct violating images of this cause. */
  images: number;
  /** One such image, and the line that reproduces it. */
  example: { k: number; hash: string; reproduce: string };
}

/** A durability lint finding of a recorded trace (docs/findings.md). */
export interface LintFinding {
  id: string;
  kind: 'not-durable' | 'unfenced-flush' | 'redundant-flush' | 'empty-fence';
  severity: 'warning' | 'note';
  title: string;
  site: FindingSite;
  /** Events of this kind at this site. */
  count: number;
  /** The target's allowNotDurable entry that made this not-durable warning a note. */
  allowed?: string;
}

export interface RunResult {
  target: string;
  model: ModelName;
  expect: 'consistent' | 'violations';
  instructions: number;
  crashPoints: number;
  /** Crash states (crash point × image choices) considered. */
  states: number;
  distinctImages: number;
  /** Crash points with at least one violating image. */
  violations: number;
  seconds: number;
  /** pass: as expected (a control found violations, here or, for a
   *  schedule, in another schedule of its target under this model); fail
   *  otherwise. */
  status: 'pass' | 'fail';
  /** `allcounts --schedules N`: the run is one thread schedule (seed) of
   *  `target` (the name without `@SEED`). A positive control's schedules
   *  are judged together (results/settle-schedules.ts). */
  schedule?: { target: string; seed: number };
  groups: OutcomeGroup[];
  /** The violations by cause (absent on runs without violations). */
  findings?: Finding[];
  /** Violating images too many to examine for findings (not counted in them). */
  findingsUnexamined?: number;
  /** --depth 2: what crashing the recoveries took (pipeline/recovery-crashes.ts). */
  recoveryCrashes?: RecoveryCrashSummary;
}

/** Crashes during recovery in one run: images whose recovery passed
 *  (`candidates`), recoveries traced (sampled or all) and of those with no
 *  recovery region, recovery instructions traced, their crash states and
 *  distinct images (each recovered again), and images whose recovery is
 *  not crash-safe. */
export interface RecoveryCrashSummary {
  candidates: number;
  traced: number;
  withoutRegion: number;
  instructions: number;
  states: number;
  distinctImages: number;
  failures: number;
}

export interface TargetRecord {
  name: string;
  description: string;
  expect: 'consistent' | 'violations';
  command: string[];
  pmFiles: string[];
  /** Instructions single-stepped in the regions; with `recorder: "fast"`,
   *  the fast recorder's single steps (its crash points), fewer. */
  instructions: number;
  /** "fast" when the fast recorder (the default) made the trace (its crash points are numbered
   *  by the recorder's single steps, not by instructions); absent for the
   *  exact recorder (`--exact`). */
  recorder?: 'fast';
  events: number;
  regions: number;
  recordSeconds: number;
  /** The target's own limit for one setup or recovery command, when its
   *  config gives one (options.timeoutMs otherwise). */
  timeoutMs?: number;
  /** The target's own models, when its config gives them (options.models
   *  otherwise): its runs are under these, and no other model is missing. */
  models?: ModelName[];
  /** Recording warnings (the trace header's): PM changed by untraced code
   *  between regions, taken as durable writes; with
   *  --accept-untraced-writes, writes the tracer could not follow. */
  warnings?: string[];
  /** The recorded trace, kept beside results.json for `pmfit reproduce`
   *  (a path relative to the results.json's directory); absent when it was
   *  not kept (`traceNotKept` says why). */
  trace?: string;
  traceNotKept?: string;
  /** The check `pmfit reproduce` runs again: the built-in target's spec by
   *  name, or the user's recovery commands (`--recover`) with the directory
   *  they ran in and the environment, or a fuzz case. */
  check?: { kind: 'spec' } | UserCheck | FuzzCaseCheck | FuzzThreadsCheck;
  /** The durability lint of the recorded trace. */
  lint?: LintFinding[];
  /** The call stacks of the sites findings and lint name (one more run of
   *  the workload, docs/findings.md): how many were unwound of how many
   *  asked, or why none was. Absent when no site was named. */
  stacks?: StackReplaySummary;
}

export type StackReplaySummary =
  { kind: 'unwound'; sites: number; unwound: number; seconds: number } | { kind: 'unavailable'; why: string };

/** A `pmfit fuzz` case (its counterexample, checked again for the report):
 *  the fuzz target of the record's name rebuilds the case's spec from it,
 *  and its continuation runs after a consistent recovery. */
export interface FuzzCaseCheck {
  kind: 'fuzz';
  /** The operations, in the target's JSON form (as in a replay file). */
  ops: unknown[];
  split: number;
  traceAll: boolean;
  /** PMEM_MODE of every command ('' = the programs' default). */
  pmemMode: string;
}

/** A case of a multithreaded fuzz target (`pmfit fuzz tree_mt`): an
 *  operation sequence per thread and the schedule seed that fixes their
 *  interleaving; the target of the record's name rebuilds its spec. */
export interface FuzzThreadsCheck {
  kind: 'fuzz-threads';
  /** threads[t]: the operations of worker thread t + 1, in the target's JSON form. */
  threads: unknown[][];
  scheduleSeed: number;
  /** PMEM_MODE of every command ('' = the programs' default). */
  pmemMode: string;
}

/** A user's recovery (`allcounts --cmd ... --recover`), as it ran. */
export interface UserCheck {
  kind: 'recover';
  /** Shell lines, `{file}` and `{dir}` not yet substituted (none with a
   *  recover server). */
  recover: string[];
  /** `--recover-server`: the persistent checker's shell line. */
  recoverServer?: string;
  /** Their working directory: where pmfit was started. */
  cwd: string;
  env: Record<string, string>;
  /** `--oracle outputs`: the recovery's outputs on the uncrashed images at
   *  the operation boundaries (normalized), the reference states the crash
   *  images' outputs were compared with. */
  outputs?: string[];
}

/** What `pmfit fuzz` ran. With a counterexample, `runs` holds the check of
 *  the shrunk case, collated and explained like an allcounts run. */
export interface FuzzRecord {
  target: string;
  model: ModelName;
  /** Cases asked for, and cases checked in all (shrinking included). */
  runs: number;
  cases: number;
  /** Longest operation sequence generated (of each thread). */
  maxOps: number;
  /** A multithreaded target: most threads of a case. */
  maxThreads?: number;
  /** fast-check seed: `pmfit fuzz TARGET --seed SEED` repeats the run. */
  seed: number;
  counterexample?: {
    /** The shrunk sequence, an operation per entry, as the target shows it. */
    ops: string[];
    /** The failure, as the console printed it, a line per entry. */
    failure: string[];
    /** `pmfit replay FILE`: the failure again, exactly. */
    replay: string;
    /** `pmfit fuzz ... --seed S --path P`: back to fast-check's counterexample. */
    repeat: string;
  };
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  version: number;
  pmfitVersion: string;
  startedAt: string;
  finishedAt: string;
  /** True when the run was interrupted or hit a limit: results are partial. */
  incomplete: boolean;
  incompleteReason?: string;
  options: {
    models: ModelName[];
    maxStates: number;
    seed: number;
    /** --merge-versions: px86 ran with its version merge (docs/models.md,
     *  "Version merge"). Absent in older results and when off. */
    mergeVersions?: boolean;
    jobs: number;
    timeoutMs: number;
    /** --depth 2: crashes during recovery, on a sample of `sample` images
     *  per model when set, traced by --recover-function when set. */
    recoveryCrashes?: { sample?: number; recoverFunction?: string };
  };
  targets: TargetRecord[];
  runs: RunResult[];
  /** Written by `pmfit fuzz`. */
  fuzz?: FuzzRecord;
  /** Overall verdict and the exit code it implies. */
  status: 'pass' | 'fail';
}
