// spec -- what a target tells the harness: how to make a fresh pool, what to
// trace, how to recover a crash image and what must hold afterwards.
//
// Built-in specs live in targets/<name>/spec.ts; `pmfit allcounts --cmd` builds
// one from its command-line options (check/user-spec.ts).

/** A command as argv, run in a directory (its working directory). In any
 *  argument `{dir}` is replaced by that directory's absolute path and `{file}`
 *  by the absolute path of the first PM file in it. `env` adds to the
 *  harness's environment (and to the spec's `env`). */
import type { ModelName } from '../persistency/model';

export interface Command {
  argv: string[];
  shell?: undefined;
  env?: Record<string, string>;
}

/** A shell command line, run as `/bin/sh -c LINE` in the directory; the
 *  user's form (`pmfit allcounts --recover "CMD {file}"`). `{dir}` and
 *  `{file}` are replaced by the shell-quoted paths. A shell exit status
 *  128+n where n is a signal number counts as "killed by signal n" (that is
 *  how the shell reports a child killed by a signal). */
export interface ShellCommand {
  shell: string;
  argv?: undefined;
  env?: Record<string, string>;
}

/** What setup and recovery accept: argv or a shell line. */
export type SpecCommand = Command | ShellCommand;

/** A reference-model state: whatever the spec compares recovered data with
 *  (a list of strings, a word multiset, a set of live blocks...), as JSON. */
export type ReferenceState = unknown;

export interface CheckInput {
  /** Recovered PM files, in the order of `pmFiles`. Shared between the
   *  checks of one image in several operation windows: do not modify. */
  files: Buffer[];
  /** Stdout of the recovery commands, concatenated (stderr is not in it;
   *  bounded to its first MiB, check/run-commands.ts). */
  recoveryOutput: string;
  /** Reference states the recovered data may equal: before and after the
   *  operation the crash interrupted (one state when the crash fell between
   *  operations). */
  allowed: ReferenceState[];
}

export interface TargetSpec {
  name: string;
  description: string;
  /** "violations" marks a positive control: the gate fails if none are found. */
  expect: 'consistent' | 'violations';
  /** PM file names, relative to the working directory. */
  pmFiles: string[];
  /** The user's own files that no command may change (allcounts --cmd's
   *  --pm): the commands get a copy; a change fails the run. */
  userFiles?: string[];
  /** Commands that create a fresh pool in the working directory (untraced). */
  setup: SpecCommand[];
  /** The traced workload. Each region of the run is one operation. */
  workload: Command;
  /** Reference states: states[0] before the first operation, states[i] after
   *  the i-th region (operation). */
  states: ReferenceState[];
  /** For a program of several threads, whose order of operations is the
   *  thread schedule's: the reference states of a trace, from its regions
   *  (each names its thread), in place of `states`. */
  statesOf?(regions: readonly { thread?: number }[]): ReferenceState[];
  /** Seed of the thread schedule the workload runs with (--schedule-seed). */
  scheduleSeed?: number;
  /** `allcounts --schedules N`: this spec is one schedule (NAME@SEED) of the
   *  target named here; its runs are judged with the other schedules'. */
  scheduleOf?: string;
  /** Recovery commands, run in order in a directory holding a crash image. */
  recover: SpecCommand[];
  /** A persistent checker that checks the images instead of `recover`
   *  (`--recover-server`, check/recover-server.ts): a shell line started in
   *  `cwd` (else where pmfit runs) that is given the path of the first PM
   *  file of each crash image on its stdin. A spec may give `recover` too,
   *  as the same check per image, for what needs one process per image
   *  (`--depth 2` traces it); a user's server target has none. */
  recoverServer?: string;
  /** Invariant check on the recovered files; returns violated invariants
   *  (empty when everything holds). A check that throws counts as one
   *  violated invariant "check threw: MESSAGE". Without one (the user's
   *  --recover convention) a recovery that exits 0 and keeps its PM files is
   *  consistent, and the recovered files are not read back. */
  check?(input: CheckInput): string[];
  /** Trace every call of these functions instead of the marker regions. */
  functions?: string[];
  /** This target's limit for one setup or recovery command, in place of
   *  the run's (`timeout` of a target in pmfit.config.json). */
  timeoutMs?: number;
  /** The models to check this target under, in place of the run's
   *  (`models` of a target in pmfit.config.json; not when --model is given). */
  models?: ModelName[];
  /** Stores meant not to be durable when their operation ends (a block
   *  header a later operation persists): the durability lint's not-durable
   *  warnings at these sites become notes (pipeline/lint-allowed.ts):
   *  "FILE:LINE" or a function's name. */
  allowNotDurable?: string[];
  /** Working directory of setup, workload and recovery, when it is not the
   *  directory holding the PM files: a user's commands (`--cmd`, `--setup`,
   *  `--recover`) run in the directory pmfit was started in, so that their
   *  relative paths resolve there; `{dir}` and `{file}` still name the
   *  scratch directory and its PM file. */
  cwd?: string;
  /** Environment for every command of this spec (for example PMEM_MODE). */
  env?: Record<string, string>;
  /** What building the workload's program needs beyond the compiler, named
   *  when the program is missing (txmap: Debian's libpmemobj-dev). */
  requires?: string;
  /** The recovery commands read the crash's operation window from the
   *  environment (PMFIT_OPS_DONE_MIN, PMFIT_OPS_DONE_MAX; check/ops-done-env.ts):
   *  a user's commands do; an image met in two windows is then recovered
   *  once per window. The built-in targets' commands do not read it. */
  windowEnv?: boolean;
  /** `--oracle outputs` (check/output-oracle.ts): the reference states are
   *  the recovery's outputs on the uncrashed images at the operation
   *  boundaries, recorded after the trace (pipeline/boundary-outputs.ts),
   *  and `check` compares the recovery output of a crash image with them. */
  oracle?: 'outputs';
  /** The check reads only the recovery output, not the recovered files. */
  checkReadsOutputOnly?: boolean;
}

/** A spec with its own invariant check: the built-in targets, and what the
 *  fuzzer and the benchmarks build on. */
export type CheckedSpec = TargetSpec & { check(input: CheckInput): string[] };

/** referenceStates -- the reference states of one trace of the spec's
 *  workload: `states`, or those of its regions for a multithreaded one. */
export function referenceStates(spec: TargetSpec, regions: readonly { thread?: number }[]): ReferenceState[] {
  return spec.statesOf ? spec.statesOf(regions) : spec.states;
}
