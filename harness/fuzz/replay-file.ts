// replay-file -- what `pmfit fuzz` writes when it finds a failure, and
// `pmfit replay FILE` reads to check that case again.
//
// A JSON object, versioned:
//
//   format       "pmfit-fuzz-replay"
//   version      2 (a reader refuses newer versions; older ones it knows;
//                version 1 had no multithreaded cases)
//   pmfit        version of the pmfit that wrote it
//   createdAt    ISO time
//   target       fuzz target name (tree, tree_broken, alloc, basic)
//   ops          the shrunk operation sequence, in the target's JSON form
//   split        index of the traced operation; traceAll as for the run
//   or, for a multithreaded target (tree_mt, tree_mt_broken):
//   threads      the shrunk operation sequence of each thread, in order of
//                the threads (thread t runs threads[t - 1])
//   scheduleSeed the thread schedule's seed, which fixes the interleaving
//   model, maxStates, modelSeed   the persistency model and its options
//   pmemMode     PMEM_MODE of every command ("" = the programs' default)
//   timeoutMs    limit of each command
//   fastCheck    {seed, path, runs, maxOps}, and maxThreads for a
//                multithreaded target: how to repeat the whole run
//   failure      what failed: stage (setup | workload | crash), for a crash
//                phase (recovery | continuation), k, hash (the crash image),
//                window, verdict kind and failed invariants, and for the
//                other stages the command or exit status
//
// parseReplay checks the shape and types and nothing that needs the target
// (the ops are checked by the target and the case plan when replaying).
// Every problem is one line: "not JSON (truncated?)", "written by a newer
// pmfit", "$.split is not an operation index (...)".

import { isModelName, ModelName } from '../persistency/model';
import { field, invalid, isObject, object, ShapeError } from '../_internals/json-shape';

export const REPLAY_FORMAT = 'pmfit-fuzz-replay';
export const REPLAY_VERSION = 2;

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

/** The case of a single-threaded target: one sequence and its split point. */
export interface SequenceReplay {
  ops: unknown[];
  split: number;
  traceAll: boolean;
  threads?: undefined;
}

/** The case of a multithreaded target: a sequence per thread, and the seed
 *  of the schedule that interleaves them. */
export interface ThreadsReplay {
  threads: unknown[][];
  scheduleSeed: number;
  ops?: undefined;
}

export type ReplayFile = ReplayCommon & (SequenceReplay | ThreadsReplay);

interface ReplayCommon {
  format: typeof REPLAY_FORMAT;
  version: number;
  pmfit: string;
  createdAt: string;
  target: string;
  model: ModelName;
  maxStates: number;
  modelSeed: number;
  pmemMode: string;
  timeoutMs: number;
  fastCheck: { seed: number; path: string; runs: number; maxOps: number; maxThreads?: number };
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

function parseFailure(failure: unknown): ReplayFailure {
  const where = '$.failure';
  const value = object(failure, where);
  const stage = field(value, where, 'stage', isString, 'setup, workload or crash');
  switch (stage) {
    case 'setup':
      return {
        stage,
        command: field(value, where, 'command', isString, 'a string'),
        why: field(value, where, 'why', isString, 'a string'),
      };
    case 'workload':
      return { stage, exitCode: field(value, where, 'exitCode', isExitCode, 'an exit status or null') };
    case 'crash':
      return {
        stage,
        phase: field(
          value,
          where,
          'phase',
          (v): v is 'recovery' | 'continuation' => v === 'recovery' || v === 'continuation',
          'recovery or continuation',
        ),
        k: field(value, where, 'k', isNat, 'a crash point'),
        hash: field(value, where, 'hash', isHash, '32 hex digits'),
        window: field(
          value,
          where,
          'window',
          (v): v is string => typeof v === 'string' && /^(s|op)\d+$/.test(v),
          's<i> or op<i>',
        ),
        kind: field(value, where, 'kind', isString, 'a verdict kind'),
        failed: field(value, where, 'failed', isStrings, 'a list of strings'),
      };
    default:
      throw invalid(`${where}.stage`, 'setup, workload or crash', JSON.stringify(stage));
  }
}

/** parseReplay -- a replay file's text, checked; throws ReplayFileError
 *  (shape errors worded by _internals/json-shape.ts). */
export function parseReplay(text: string): ReplayFile {
  try {
    return checkReplay(text);
  } catch (err) {
    if (err instanceof ShapeError) throw new ReplayFileError(err.message);
    throw err;
  }
}

function checkReplay(text: string): ReplayFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ReplayFileError(text.trim() === '' ? 'empty file' : 'not valid JSON (truncated or corrupt?)');
  }
  if (!isObject(value)) throw new ReplayFileError('not a replay file (expected a JSON object)');
  if (value.format !== REPLAY_FORMAT) throw new ReplayFileError(`not a replay file (format is not "${REPLAY_FORMAT}")`);
  const version = field(value, '$', 'version', isPositive, 'a positive integer');
  if (version > REPLAY_VERSION) {
    throw new ReplayFileError(
      `written by a newer pmfit (replay format version ${version}; this pmfit reads up to ${REPLAY_VERSION})`,
    );
  }
  const fastCheck = object(value.fastCheck, '$.fastCheck');
  const common: ReplayCommon = {
    format: REPLAY_FORMAT,
    version,
    pmfit: field(value, '$', 'pmfit', isString, 'a version string'),
    createdAt: field(value, '$', 'createdAt', isString, 'a time'),
    target: field(value, '$', 'target', isString, 'a target name'),
    model: field(value, '$', 'model', isModel, 'sequential, flushed or px86'),
    maxStates: field(value, '$', 'maxStates', (v): v is number => isNat(v) && v >= 2, 'an integer of at least 2'),
    modelSeed: field(value, '$', 'modelSeed', isNat, 'a non-negative integer'),
    pmemMode: field(value, '$', 'pmemMode', isString, 'a string'),
    timeoutMs: field(value, '$', 'timeoutMs', isPositive, 'milliseconds'),
    fastCheck: {
      seed: field(fastCheck, '$.fastCheck', 'seed', isInt32, 'a 32-bit integer'),
      path: field(fastCheck, '$.fastCheck', 'path', isString, 'a path string'),
      runs: field(fastCheck, '$.fastCheck', 'runs', isPositive, 'a positive integer'),
      maxOps: field(fastCheck, '$.fastCheck', 'maxOps', isPositive, 'a positive integer'),
      ...(fastCheck.maxThreads !== undefined
        ? { maxThreads: field(fastCheck, '$.fastCheck', 'maxThreads', isPositive, 'a positive integer') }
        : {}),
    },
    failure: parseFailure(value.failure),
  };
  if (value.threads !== undefined) {
    const threads = field(value, '$', 'threads', isArray, 'a list of threads');
    if (threads.length === 0) throw invalid('$.threads', 'a list of threads', 'it is empty');
    threads.forEach((ops, t) => {
      const where = `$.threads[${t}]`;
      if (!isArray(ops)) throw invalid(where, 'a list of operations', JSON.stringify(ops) ?? 'undefined');
      if (ops.length === 0) throw invalid(where, 'a list of operations', 'it is empty');
    });
    return {
      ...common,
      threads: threads as unknown[][],
      scheduleSeed: field(value, '$', 'scheduleSeed', isNat, 'a schedule seed'),
    };
  }
  const ops = field(value, '$', 'ops', isArray, 'a list of operations');
  if (ops.length === 0) throw invalid('$.ops', 'a list of operations', 'it is empty');
  const split = field(value, '$', 'split', isNat, 'an operation index');
  if (split >= ops.length)
    throw invalid('$.split', 'an operation index', `${split} is past the ${ops.length} operations`);
  return { ...common, ops, split, traceAll: field(value, '$', 'traceAll', isBoolean, 'true or false') };
}
