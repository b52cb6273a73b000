// replay-file -- what `pmfit fuzz` writes when it finds a failure, and
// `pmfit replay FILE` reads to check that case again.
//
// A JSON object, versioned:
//
//   format       "pmfit-fuzz-replay"
//   version      1 (a reader refuses newer versions; older ones it knows)
//   pmfit        version of the pmfit that wrote it
//   createdAt    ISO time
//   target       fuzz target name (tree, tree_broken, alloc, basic)
//   ops          the shrunk operation sequence, in the target's JSON form
//   split        index of the traced operation; traceAll as for the run
//   model, maxStates, modelSeed   the persistency model and its options
//   pmemMode     PMEM_MODE of every command ("" = the programs' default)
//   timeoutMs    limit of each command
//   fastCheck    {seed, path, runs, maxOps}: how to repeat the whole run
//   failure      what failed: stage (setup | workload | crash), for a crash
//                phase (recovery | continuation), k, hash (the crash image),
//                window, verdict kind and failed invariants, and for the
//                other stages the command or exit status
//
// parseReplay checks the shape and types and nothing that needs the target
// (the ops are checked by the target and the case plan when replaying).
// Every problem is one line: "not JSON (truncated?)", "written by a newer
// pmfit", "field 'split' ...".

import { isModelName, ModelName } from '../persistency/model';

export const REPLAY_FORMAT = 'pmfit-fuzz-replay';
export const REPLAY_VERSION = 1;

export type ReplayFailure =
  | { stage: 'setup'; command: string; why: string }
  | { stage: 'workload'; exitCode: number | null }
  | {
      stage: 'crash';
      phase: 'recovery' | 'continuation';
      k: number;
      hash: string;
      window: string;
      kind: string;
      failed: string[];
    };

export interface ReplayFile {
  format: typeof REPLAY_FORMAT;
  version: number;
  pmfit: string;
  createdAt: string;
  target: string;
  ops: unknown[];
  split: number;
  traceAll: boolean;
  model: ModelName;
  maxStates: number;
  modelSeed: number;
  pmemMode: string;
  timeoutMs: number;
  fastCheck: { seed: number; path: string; runs: number; maxOps: number };
  failure: ReplayFailure;
}

export class ReplayFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayFileError';
  }
}

export function serializeReplay(replay: ReplayFile): string {
  return `${JSON.stringify(replay, null, 2)}\n`;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field<T>(object: Json, name: string, where: string, check: (value: unknown) => value is T, what: string): T {
  const value = object[name];
  if (!check(value)) {
    throw new ReplayFileError(`${value === undefined ? 'missing' : 'bad'} field '${where}${name}' (expected ${what})`);
  }
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPositive = (v: unknown): v is number => isNat(v) && v > 0;
const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 32;
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isModel = (v: unknown): v is ModelName => typeof v === 'string' && isModelName(v);
const isExitCode = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isInteger(v));
const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);

function parseFailure(value: unknown): ReplayFailure {
  if (!isObject(value)) throw new ReplayFileError("missing field 'failure' (expected an object)");
  const at = 'failure.';
  const stage = field(value, 'stage', at, isString, 'setup, workload or crash');
  switch (stage) {
    case 'setup':
      return { stage, command: field(value, 'command', at, isString, 'a string'), why: field(value, 'why', at, isString, 'a string') };
    case 'workload':
      return { stage, exitCode: field(value, 'exitCode', at, isExitCode, 'an exit status or null') };
    case 'crash':
      return {
        stage,
        phase: field(value, 'phase', at, (v): v is 'recovery' | 'continuation' => v === 'recovery' || v === 'continuation', 'recovery or continuation'),
        k: field(value, 'k', at, isNat, 'a crash point'),
        hash: field(value, 'hash', at, isHash, '32 hex digits'),
        window: field(value, 'window', at, (v): v is string => typeof v === 'string' && /^(s|op)\d+$/.test(v), 's<i> or op<i>'),
        kind: field(value, 'kind', at, isString, 'a verdict kind'),
        failed: field(value, 'failed', at, isStrings, 'a list of strings'),
      };
    default:
      throw new ReplayFileError(`bad field 'failure.stage' (expected setup, workload or crash, not ${JSON.stringify(stage)})`);
  }
}

/** parseReplay -- a replay file's text, checked; throws ReplayFileError. */
export function parseReplay(text: string): ReplayFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ReplayFileError(text.trim() === '' ? 'empty file' : 'not valid JSON (truncated or corrupt?)');
  }
  if (!isObject(value)) throw new ReplayFileError('not a replay file (expected a JSON object)');
  if (value.format !== REPLAY_FORMAT) throw new ReplayFileError(`not a replay file (format is not "${REPLAY_FORMAT}")`);
  const version = field(value, 'version', '', isPositive, 'a positive integer');
  if (version > REPLAY_VERSION) {
    throw new ReplayFileError(`written by a newer pmfit (replay format version ${version}; this pmfit reads up to ${REPLAY_VERSION})`);
  }
  const fastCheck = value.fastCheck;
  if (!isObject(fastCheck)) throw new ReplayFileError("missing field 'fastCheck' (expected an object)");
  const ops = field(value, 'ops', '', isArray, 'a list of operations');
  if (ops.length === 0) throw new ReplayFileError("bad field 'ops' (expected at least one operation)");
  const split = field(value, 'split', '', isNat, 'an operation index');
  if (split >= ops.length) throw new ReplayFileError(`bad field 'split' (${split} is past the ${ops.length} operations)`);
  return {
    format: REPLAY_FORMAT,
    version,
    pmfit: field(value, 'pmfit', '', isString, 'a version string'),
    createdAt: field(value, 'createdAt', '', isString, 'a time'),
    target: field(value, 'target', '', isString, 'a target name'),
    ops,
    split,
    traceAll: field(value, 'traceAll', '', isBoolean, 'true or false'),
    model: field(value, 'model', '', isModel, 'sequential, flushed or px86'),
    maxStates: field(value, 'maxStates', '', (v): v is number => isNat(v) && v >= 2, 'an integer of at least 2'),
    modelSeed: field(value, 'modelSeed', '', isNat, 'a non-negative integer'),
    pmemMode: field(value, 'pmemMode', '', isString, 'a string'),
    timeoutMs: field(value, 'timeoutMs', '', isPositive, 'milliseconds'),
    fastCheck: {
      seed: field(fastCheck, 'seed', 'fastCheck.', isInt32, 'a 32-bit integer'),
      path: field(fastCheck, 'path', 'fastCheck.', isString, 'a path string'),
      runs: field(fastCheck, 'runs', 'fastCheck.', isPositive, 'a positive integer'),
      maxOps: field(fastCheck, 'maxOps', 'fastCheck.', isPositive, 'a positive integer'),
    },
    failure: parseFailure(value.failure),
  };
}
