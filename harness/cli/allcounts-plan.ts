// allcounts-plan -- what `pmfit allcounts` runs, resolved once from its two
// front ends: the command line (`--target`, or `--cmd/--pm/--setup/--recover/
// --function` for a program of the user's) and pmfit.config.json. A
// command-line option wins over the config's; the config's wins over the
// default. Targets: `--cmd`, else the config's (all, or those `--target`
// names), else the built-in ones.

import * as fs from 'fs';
import * as path from 'path';
import { PmfitError, usageError } from '../_internals/errors';
import { defaultReportsDir, installedPackage } from '../_internals/paths';
import { shellQuote } from '../_internals/shell-words';
import type { TargetSpec } from '../check/spec';
import { commandWords, type Oracle, oracleNames, userSpec } from '../check/user-spec';
import { isModelName, ModelName, modelNames } from '../persistency/model';
import { DEFAULT_MAX_STEPS } from '../tracer/tracee';
import { builtInSpecs, namedOnlySpecs } from '../../targets/specs';
import { uneditedExample } from './commands/init';
import { CONFIG_NAME, type ConfigFile, sizeBytes } from './config-file';
import { chooseRecorder, type RecorderName } from './parse-options';

/** The command line's options, as commander parsed them: undefined when
 *  not given, so that the config can fill them in. */
export interface AllcountsCliOptions {
  target: string[];
  model: string[];
  maxStates?: number;
  seed?: number;
  /** --merge-versions: px86's version merge (docs/models.md). */
  mergeVersions?: boolean;
  /** Thread schedules: seeds scheduleSeed .. scheduleSeed + schedules - 1. */
  scheduleSeed?: number;
  schedules?: number;
  jobs?: number;
  /** Milliseconds. */
  timeout?: number;
  maxSteps?: number;
  output?: string;
  cmd?: string;
  pm?: string[];
  setup?: string;
  recover?: string;
  /** With --cmd, instead of --recover: a persistent checker (check/recover-server.ts). */
  recoverServer?: string;
  /** --function, repeatable. */
  function?: string[];
  acceptUntracedWrites?: boolean;
  /** --fast: the fast recorder for every target (the default). */
  fast?: boolean;
  /** --exact: the single-stepping recorder for every target. */
  exact?: boolean;
  /** With --cmd: `exit` (default) or `outputs` (check/user-spec.ts). */
  oracle?: string;
  /** 1 (default) or 2: also crash each recovery (pipeline/recovery-crashes.ts). */
  depth?: number;
  /** Depth 2 on a seeded sample of this many images per model (implies depth 2). */
  recoveryCrashes?: number;
  /** Depth 2: trace every call of this function of the recovery instead of
   *  its pmfit_recovery_begin/_end markers. */
  recoverFunction?: string;
}

export interface PlannedTarget {
  spec: TargetSpec;
  acceptUntracedWrites: boolean;
}

export interface AllcountsPlan {
  targets: PlannedTarget[];
  models: ModelName[];
  maxStates: number;
  seed: number;
  /** px86's version merge: fewer images, some a real crash can leave
   *  dropped (docs/models.md, "Version merge"). */
  mergeVersions: boolean;
  jobs?: number;
  timeoutMs: number;
  maxSteps: number;
  /** The recorder of every target: --exact / --fast, else the config's
   *  "recorder", else fast. */
  recorder: RecorderName;
  /** Where the reports go, absolute. */
  output: string;
  /** Where they came from, for messages: the config file, when one was used. */
  config?: string;
  /** Depth 2 (--depth 2, --recovery-crashes N): crash the recoveries too, on a
   *  seeded sample of `sample` images per model when set; undefined: depth 1. */
  recoveryCrashes?: RecoveryCrashesPlan;
}

export interface RecoveryCrashesPlan {
  sample?: number;
  recoverFunction?: string;
}

/** chooseDepth -- what --depth, --recovery-crashes and --recover-function ask
 *  for: undefined for depth 1. */
export function chooseDepth(options: {
  depth?: number;
  recoveryCrashes?: number;
  recoverFunction?: string;
}): RecoveryCrashesPlan | undefined {
  const depth = options.depth ?? (options.recoveryCrashes !== undefined ? 2 : 1);
  if (depth !== 1 && depth !== 2) throw usageError(`--depth must be 1 or 2, not ${depth}`);
  if (depth === 1) {
    if (options.recoveryCrashes !== undefined) throw usageError('--recovery-crashes needs --depth 2');
    if (options.recoverFunction !== undefined) throw usageError('--recover-function needs --depth 2');
    return undefined;
  }
  return {
    ...(options.recoveryCrashes !== undefined ? { sample: options.recoveryCrashes } : {}),
    ...(options.recoverFunction !== undefined ? { recoverFunction: options.recoverFunction } : {}),
  };
}

export const DEFAULT_MAX_STATES = 64;
export const DEFAULT_SEED = 1;
export const DEFAULT_TIMEOUT_MS = 10_000;

function cliTarget(options: AllcountsCliOptions): PlannedTarget {
  if (options.target.length > 0) throw usageError('--cmd and --target cannot be combined');
  if (!options.pm || options.pm.length !== 1) throw usageError('--cmd needs exactly one --pm FILE');
  if (options.recover === undefined && options.recoverServer === undefined)
    throw usageError('--cmd needs --recover "CMD {file}" (its exit status is the verdict) or --recover-server "CMD"');
  const oracle = options.oracle ?? 'exit';
  if (!(oracleNames as readonly string[]).includes(oracle))
    throw usageError(`unknown oracle '${oracle}' (oracles: ${oracleNames.join(', ')})`);
  const { argv, env } = commandWords(options.cmd as string);
  const spec = userSpec({
    argv,
    env,
    description: `${options.cmd} (user command)`,
    pm: options.pm[0],
    setup: options.setup,
    recover: options.recover,
    recoverServer: options.recoverServer,
    functions: options.function,
    cwd: process.cwd(),
    oracle: oracle as Oracle,
  });
  return { spec, acceptUntracedWrites: options.acceptUntracedWrites === true };
}

/** configTargets -- the config's targets (all, or those `names` names); a
 *  target's own `timeout` and `models` apply unless --timeout (`cliTimeout`)
 *  or --model (`cliModels`) is given, which wins over every one of the file. */
function configTargets(
  config: ConfigFile,
  names: string[],
  cliAccept: boolean,
  cliTimeout: number | undefined,
  cliModels: string[],
): PlannedTarget[] {
  const shown = path.relative(process.cwd(), config.file) || config.file;
  const chosen =
    names.length === 0
      ? config.targets
      : [...new Set(names)].map((name) => {
          const target = config.targets.find((candidate) => candidate.name === name);
          if (!target)
            throw usageError(
              `unknown target '${name}' (targets in ${shown}: ${config.targets.map((t) => t.name).join(', ')})`,
            );
          return target;
        });
  return chosen.map((target) => {
    const unedited = uneditedExample(target, config.dir);
    if (unedited !== undefined) throw usageError(`${shown}: ${unedited}`);
    try {
      const spec = userSpec({
        name: target.name,
        argv: target.command,
        env: target.env,
        description: target.description ?? `${target.command.map(shellQuote).join(' ')} (${CONFIG_NAME})`,
        pm: target.pm,
        setup: target.setup,
        size: target.size !== undefined ? sizeBytes(target.size) : undefined,
        recover: target.recover,
        recoverServer: target.recoverServer,
        functions: target.functions ?? (target.function !== undefined ? [target.function] : undefined),
        expect: target.expect,
        oracle: target.oracle,
        cwd: config.dir,
        names: { command: 'command', recover: 'recover', setup: 'setup', recoverServer: 'recoverServer' },
      });
      if (target.timeout !== undefined && cliTimeout === undefined) spec.timeoutMs = Math.round(target.timeout * 1000);
      if (target.models !== undefined && cliModels.length === 0) spec.models = [...target.models];
      if (target.allowNotDurable !== undefined) spec.allowNotDurable = target.allowNotDurable;
      return { spec, acceptUntracedWrites: cliAccept || target.acceptUntracedWrites === true };
    } catch (err) {
      if (err instanceof PmfitError) throw usageError(`${shown}: target ${target.name}: ${err.message}`);
      throw err;
    }
  });
}

function builtInTargets(names: string[], accept: boolean): PlannedTarget[] {
  // An installed pmfit has no built-in targets to fall back on: say what
  // was not found rather than that an example is not built.
  if (installedPackage && names.length === 0)
    throw usageError(
      `no ${CONFIG_NAME} in ${process.cwd()}: write one with pmfit init, name one with --config FILE, or give --cmd, --pm and --recover`,
    );
  const specs = [...builtInSpecs(), ...namedOnlySpecs()];
  const chosen =
    names.length === 0
      ? builtInSpecs()
      : [...new Set(names)].map((name) => {
          const spec = specs.find((candidate) => candidate.name === name);
          if (!spec)
            throw usageError(`unknown target '${name}' (built-in targets: ${specs.map((s) => s.name).join(', ')})`);
          return spec;
        });
  for (const spec of chosen) {
    const program = spec.workload.argv[0];
    if (!fs.existsSync(program)) {
      const needs = spec.requires ? `; it needs ${spec.requires}` : '';
      // An installed package builds the tracer addon alone: the built-in
      // targets are this repository's examples, built in a checkout.
      throw new PmfitError(
        installedPackage
          ? `target ${spec.name} is one of pmfit's built-in examples, built only in a checkout of pmfit; check your own program with --cmd or pmfit.config.json`
          : `target ${spec.name} is not built (${program} is missing${needs}): run npm run build:programs`,
      );
    }
  }
  return chosen.map((spec) => ({ spec, acceptUntracedWrites: accept }));
}

function chooseModels(names: string[]): ModelName[] {
  if (names.length === 0) return [...modelNames];
  // --model px86 --model px86 is one run: run ids must be unique.
  return [...new Set(names)].map((name) => {
    if (!isModelName(name)) throw usageError(`unknown model '${name}' (models: ${modelNames.join(', ')})`);
    return name;
  });
}

/** withSchedules -- each target once per schedule seed, named NAME@SEED
 *  (unless it is the one default seed 0) so that its results and reproduce
 *  lines say which interleaving they are. */
export function withSchedules(targets: PlannedTarget[], first: number, count: number): PlannedTarget[] {
  if (count === 1 && first === 0) return targets;
  return targets.flatMap((t) =>
    Array.from({ length: count }, (_, i) => ({
      ...t,
      spec: { ...t.spec, name: `${t.spec.name}@${first + i}`, scheduleSeed: first + i, scheduleOf: t.spec.name },
    })),
  );
}

/** planAllcounts -- the run `options` and `config` (if any) describe. */
export function planAllcounts(options: AllcountsCliOptions, config?: ConfigFile): AllcountsPlan {
  let targets: PlannedTarget[];
  const accept = options.acceptUntracedWrites === true;
  if (options.cmd !== undefined) {
    targets = [cliTarget(options)];
  } else {
    if (options.oracle !== undefined)
      throw usageError(
        config
          ? `--oracle belongs with --cmd (a user program); a target of ${CONFIG_NAME} sets "oracle" itself`
          : '--oracle belongs with --cmd (a user program); built-in targets check their reference states through their spec, by the same window rule',
      );
    for (const flag of ['pm', 'setup', 'recover', 'recoverServer', 'function'] as const) {
      const value = options[flag];
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
        throw usageError(
          `--${flag === 'recoverServer' ? 'recover-server' : flag} belongs with --cmd (a user program); ${config ? `the targets of ${CONFIG_NAME}` : 'built-in targets'} bring their own`,
        );
      }
    }
    targets = config
      ? configTargets(config, options.target, accept, options.timeout, options.model)
      : builtInTargets(options.target, accept);
  }
  targets = withSchedules(targets, options.scheduleSeed ?? 0, options.schedules ?? 1);
  const recoveryCrashes = chooseDepth(options);
  const server = targets.find((t) => t.spec.recoverServer !== undefined && t.spec.recover.length === 0);
  if (recoveryCrashes && server)
    throw usageError(
      `--depth 2 traces one run of a recovery command per image; target ${server.spec.name} has a recover server (use --recover)`,
    );
  const maxStates = options.maxStates ?? config?.maxStates ?? DEFAULT_MAX_STATES;
  if (maxStates < 2)
    throw usageError('--max-states must be at least 2 (px86 always checks the oldest and newest image)');
  // `-o` stays as the user spelled it: messages about it quote it back.
  const output =
    options.output !== undefined
      ? options.output
      : config?.output !== undefined
        ? path.resolve(config.dir, config.output)
        : path.resolve(defaultReportsDir);
  return {
    targets,
    models: chooseModels(options.model.length > 0 ? options.model : (config?.models ?? [])),
    maxStates,
    seed: options.seed ?? config?.seed ?? DEFAULT_SEED,
    mergeVersions: options.mergeVersions ?? config?.mergeVersions ?? false,
    jobs: options.jobs ?? config?.jobs,
    timeoutMs:
      options.timeout ?? (config?.timeout !== undefined ? Math.round(config.timeout * 1000) : DEFAULT_TIMEOUT_MS),
    maxSteps: options.maxSteps ?? config?.maxSteps ?? DEFAULT_MAX_STEPS,
    recorder: chooseRecorder(options) ?? config?.recorder ?? 'fast',
    output,
    ...(config ? { config: config.file } : {}),
    ...(recoveryCrashes ? { recoveryCrashes } : {}),
  };
}
