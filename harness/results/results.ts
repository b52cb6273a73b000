// results -- the one place results.json is made and read back
// (docs/results.md), and a shard's pmfit-shard.json read back
// (validateShard, docs/sharding.md). buildResults makes the envelope of a
// run (`allcounts` or `fuzz`) with its overall status; readResults /
// validateResults refuse
// anything the report generators could not render: a missing or unreadable
// file, text that is not JSON, another schema, a newer schema version, or a
// shape that does not match schema.ts (named by its JSON path). Every
// refusal is a one-line usage error (exit 2); shape errors are worded by
// _internals/json-shape.ts.

import { usageError } from '../_internals/errors';
import { readBoundedJson } from '../_internals/input-file';
import {
  RESULTS_SCHEMA,
  RESULTS_VERSION,
  type FuzzRecord,
  type Results,
  type RunResult,
  type TargetRecord,
} from './schema';
import { SHARD_SCHEMA, SHARD_VERSION, type ShardResults } from './shard-results';
import { parseSpans } from '../_internals/collate';
import { settleSchedules } from './settle-schedules';
import { array, fields, invalid, isCount, isObject, object, ShapeError, type Test } from '../_internals/json-shape';

type Check = Test;

const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isBoolean: Check = (v) => typeof v === 'boolean';
const isExpect: Check = (v) => v === 'consistent' || v === 'violations';
const isStatus: Check = (v) => v === 'pass' || v === 'fail';
const isStringArray: Check = (v) => Array.isArray(v) && v.every(isString);
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);

const KINDS = ['ok', 'recovery-crashed', 'recovery-timeout', 'recovery-failed', 'invariant', 'recovery-not-crash-safe'];

/** What a run contributes to results.json; the rest is derived. */
export interface ResultsInput {
  pmfitVersion: string;
  startedAt: string;
  options: Results['options'];
  targets: TargetRecord[];
  runs: RunResult[];
  fuzz?: FuzzRecord;
  /** Why the run stopped before the end: the results are partial. */
  incompleteReason?: string;
  /** --strict: a "not durable" lint warning fails the run. */
  strictLint?: boolean;
}

/** buildResults -- the results.json of a run that ends now, a control's
 *  schedules judged together (settle-schedules.ts). It fails when a
 *  run failed, when the run is incomplete, or when the fuzzer found a
 *  counterexample. */
export function buildResults(input: ResultsInput): Results {
  const { incompleteReason, fuzz } = input;
  const runs = settleSchedules(input.runs);
  const failed =
    incompleteReason !== undefined ||
    runs.some((run) => run.status === 'fail') ||
    fuzz?.counterexample !== undefined ||
    (input.strictLint === true &&
      input.targets.some((target) =>
        target.lint?.some((lint) => lint.kind === 'not-durable' && lint.severity === 'warning'),
      ));
  return {
    schema: RESULTS_SCHEMA,
    version: RESULTS_VERSION,
    pmfitVersion: input.pmfitVersion,
    startedAt: input.startedAt,
    finishedAt: new Date().toISOString(),
    incomplete: incompleteReason !== undefined,
    ...(incompleteReason !== undefined ? { incompleteReason } : {}),
    options: input.options,
    targets: input.targets,
    runs,
    ...(fuzz !== undefined ? { fuzz } : {}),
    status: failed ? 'fail' : 'pass',
  };
}

function checkSite(value: unknown, where: string): void {
  fields(object(value, where), where, {
    address: [isString, 'a string'],
    symbol: [optional(isString), 'a string'],
    module: [optional(isString), 'a string'],
    text: [optional(isString), 'a string'],
    file: [optional(isString), 'a string'],
    line: [optional(isCount), 'a line number'],
  });
}

function checkSpans(value: Record<string, unknown>, name: string, where: string): void {
  try {
    parseSpans(value[name] as string);
  } catch (err) {
    throw invalid(`${where}.${name}`, 'a list of crash-point ranges', (err as Error).message);
  }
}

function checkGroup(value: unknown, where: string): void {
  const group = object(value, where);
  fields(group, where, {
    id: [isString, 'a string'],
    kind: [(v) => typeof v === 'string' && KINDS.includes(v), `one of ${KINDS.join(', ')}`],
    violation: [isBoolean, 'a boolean'],
    crashPoints: [isString, 'a string'],
    count: [isCount, 'a count'],
    images: [isCount, 'a count'],
    failed: [isStringArray, 'an array of strings'],
    recoveryOutput: [isString, 'a string'],
  });
  checkSpans(group, 'crashPoints', where);
  const example = object(group.example, `${where}.example`);
  fields(example, `${where}.example`, {
    k: [isCount, 'a crash point'],
    hash: [isString, 'a string'],
    reproduce: [isString, 'a string'],
  });
  if (example.recoveryCrash !== undefined) {
    fields(object(example.recoveryCrash, `${where}.example.recoveryCrash`), `${where}.example.recoveryCrash`, {
      k: [isCount, 'a crash point'],
      hash: [isString, 'a string'],
      instructions: [isCount, 'a count'],
    });
  }
  if (example.next !== undefined) checkSite(example.next, `${where}.example.next`);
  if (example.lines !== undefined) {
    array(example.lines, `${where}.example.lines`).forEach((line, i) => {
      const at = `${where}.example.lines[${i}]`;
      fields(object(line, at), at, {
        file: [isString, 'a string'],
        offset: [isCount, 'an offset'],
        durable: [isString, 'a hex string'],
        image: [isString, 'a hex string'],
      });
    });
  }
}

function checkFindingSite(value: unknown, where: string): void {
  checkSite(value, where);
  const site = object(value, where);
  fields(site, where, {
    role: [isString, 'a string'],
    index: [isCount, 'an instruction index'],
    frame: [optional(isCount), 'a frame index'],
  });
  if (site.stack !== undefined) {
    array(site.stack, `${where}.stack`).forEach((frame, i) => checkSite(frame, `${where}.stack[${i}]`));
  }
  if (site.excerpt !== undefined) {
    array(site.excerpt, `${where}.excerpt`).forEach((line, i) =>
      fields(object(line, `${where}.excerpt[${i}]`), `${where}.excerpt[${i}]`, {
        line: [isCount, 'a line number'],
        text: [isString, 'a string'],
      }),
    );
  }
}

const FINDING_KINDS = ['ordering', 'not-durable', 'atomicity'];
const LINT_KINDS = ['not-durable', 'unfenced-flush', 'redundant-flush', 'empty-fence'];

function checkFinding(value: unknown, where: string): void {
  const finding = object(value, where);
  fields(finding, where, {
    id: [isString, 'a string'],
    kind: [(v) => typeof v === 'string' && FINDING_KINDS.includes(v), `one of ${FINDING_KINDS.join(', ')}`],
    title: [isString, 'a string'],
    crashPoints: [isString, 'a string'],
    count: [isCount, 'a count'],
    images: [isCount, 'a count'],
  });
  array(finding.sites, `${where}.sites`).forEach((site, i) => checkFindingSite(site, `${where}.sites[${i}]`));
  fields(object(finding.example, `${where}.example`), `${where}.example`, {
    k: [isCount, 'a crash point'],
    hash: [isString, 'a string'],
    reproduce: [isString, 'a string'],
  });
}

function checkLint(value: unknown, where: string): void {
  const lint = object(value, where);
  fields(lint, where, {
    id: [isString, 'a string'],
    kind: [(v) => typeof v === 'string' && LINT_KINDS.includes(v), `one of ${LINT_KINDS.join(', ')}`],
    severity: [(v) => v === 'warning' || v === 'note', '"warning" or "note"'],
    title: [isString, 'a string'],
    count: [isCount, 'a count'],
  });
  checkFindingSite(lint.site, `${where}.site`);
}

/** The fields of a run that a shard's part of it has too (RunPart). */
const RUN_PART_FIELDS: Record<string, [Check, string]> = {
  target: [isString, 'a string'],
  model: [isString, 'a string'],
  expect: [isExpect, '"consistent" or "violations"'],
  instructions: [isCount, 'a count'],
  crashPoints: [isCount, 'a count'],
  states: [isCount, 'a count'],
  distinctImages: [isCount, 'a count'],
  seconds: [isNumber, 'a number'],
};

function checkRun(value: unknown, where: string): void {
  const run = object(value, where);
  fields(run, where, {
    ...RUN_PART_FIELDS,
    violations: [isCount, 'a count'],
    status: [isStatus, '"pass" or "fail"'],
  });
  if (run.schedule !== undefined) {
    fields(object(run.schedule, `${where}.schedule`), `${where}.schedule`, {
      target: [isString, 'a string'],
      seed: [isCount, 'a seed'],
    });
  }
  array(run.groups, `${where}.groups`).forEach((group, i) => checkGroup(group, `${where}.groups[${i}]`));
  if (run.findings !== undefined) {
    array(run.findings, `${where}.findings`).forEach((finding, i) => checkFinding(finding, `${where}.findings[${i}]`));
  }
  fields(run, where, { findingsUnexamined: [optional(isCount), 'a count'] });
  if (run.recoveryCrashes !== undefined) {
    const at = `${where}.recoveryCrashes`;
    fields(object(run.recoveryCrashes, at), at, {
      candidates: [isCount, 'a count'],
      traced: [isCount, 'a count'],
      withoutRegion: [isCount, 'a count'],
      instructions: [isCount, 'a count'],
      states: [isCount, 'a count'],
      distinctImages: [isCount, 'a count'],
      failures: [isCount, 'a count'],
    });
  }
}

function checkTarget(value: unknown, where: string): void {
  fields(object(value, where), where, {
    name: [isString, 'a string'],
    description: [isString, 'a string'],
    expect: [isExpect, '"consistent" or "violations"'],
    command: [isStringArray, 'an array of strings'],
    pmFiles: [isStringArray, 'an array of strings'],
    instructions: [isCount, 'a count'],
    recorder: [optional((v) => v === 'fast'), '"fast"'],
    events: [isCount, 'a count'],
    regions: [isCount, 'a count'],
    recordSeconds: [isNumber, 'a number'],
    timeoutMs: [optional(isNumber), 'a number'],
    models: [optional(isStringArray), 'an array of strings'],
    trace: [optional(isString), 'a string'],
    traceNotKept: [optional(isString), 'a string'],
    check: [
      optional(isCheck),
      '{"kind": "spec"}, {"kind": "recover", "recover": [...], "cwd": "...", "env": {...}}, {"kind": "fuzz", "ops": [...], "split": N, "traceAll": B, "pmemMode": "..."} or {"kind": "fuzz-threads", "threads": [[...], ...], "scheduleSeed": N, "pmemMode": "..."}',
    ],
  });
  const lint = (value as { lint?: unknown }).lint;
  if (lint !== undefined) array(lint, `${where}.lint`).forEach((item, i) => checkLint(item, `${where}.lint[${i}]`));
  fields(object(value, where), where, { stacks: [optional(isStacks), STACKS] });
  const warnings = (value as { warnings?: unknown }).warnings;
  if (warnings !== undefined && !isStringArray(warnings))
    throw new Error(`${where}.warnings must be an array of strings`);
}

const STACKS = '{"kind": "unwound", "sites": N, "unwound": N, "seconds": S} or {"kind": "unavailable", "why": "..."}';

/** What became of a target's call stacks (schema.ts, StackReplaySummary). */
function isStacks(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value.kind === 'unavailable') return isString(value.why);
  return value.kind === 'unwound' && isCount(value.sites) && isCount(value.unwound) && isNumber(value.seconds);
}

/** How `pmfit reproduce` checks a target again (schema.ts, TargetRecord). */
function isCheck(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value.kind === 'spec') return true;
  if (value.kind === 'fuzz') {
    return (
      Array.isArray(value.ops) &&
      typeof value.split === 'number' &&
      Number.isSafeInteger(value.split) &&
      typeof value.traceAll === 'boolean' &&
      isString(value.pmemMode)
    );
  }
  if (value.kind === 'fuzz-threads') {
    return (
      Array.isArray(value.threads) &&
      value.threads.length > 0 &&
      value.threads.every((ops) => Array.isArray(ops)) &&
      isCount(value.scheduleSeed) &&
      isString(value.pmemMode)
    );
  }
  return (
    value.kind === 'recover' &&
    isStringArray(value.recover) &&
    optional(isString)(value.recoverServer) &&
    isString(value.cwd) &&
    isObject(value.env) &&
    Object.values(value.env).every(isString) &&
    optional(isStringArray)(value.outputs)
  );
}

function checkFuzz(value: unknown, where: string): void {
  const fuzz = object(value, where);
  fields(fuzz, where, {
    target: [isString, 'a string'],
    model: [isString, 'a string'],
    runs: [isCount, 'a count'],
    cases: [isCount, 'a count'],
    maxOps: [isCount, 'a count'],
    maxThreads: [optional(isCount), 'a count'],
    seed: [isCount, 'a seed'],
  });
  if (fuzz.counterexample === undefined) return;
  const at = `${where}.counterexample`;
  fields(object(fuzz.counterexample, at), at, {
    ops: [isStringArray, 'an array of strings'],
    failure: [isStringArray, 'an array of strings'],
    replay: [isString, 'a string'],
    repeat: [isString, 'a string'],
  });
}

/** validateResults -- the parsed results.json, checked against schema.ts.
 *  `name` is how messages refer to it. */
export function validateResults(value: unknown, name = 'results.json'): Results {
  if (!isObject(value)) throw usageError(`${name} is not a pmfit results file (not a JSON object)`);
  if (value.schema !== RESULTS_SCHEMA) {
    const found = typeof value.schema === 'string' ? `schema "${value.schema}"` : 'no schema field';
    throw usageError(`${name} is not a pmfit results file (${found}; expected "${RESULTS_SCHEMA}")`);
  }
  const version = value.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw usageError(`${name} has an invalid schema version ${JSON.stringify(version)}`);
  }
  if (version > RESULTS_VERSION) {
    throw usageError(
      `${name} was written by a newer pmfit (schema version ${version}); this pmfit reads version ${RESULTS_VERSION}`,
    );
  }
  try {
    fields(value, '$', {
      pmfitVersion: [isString, 'a string'],
      startedAt: [isString, 'a string'],
      finishedAt: [isString, 'a string'],
      incomplete: [isBoolean, 'a boolean'],
      incompleteReason: [optional(isString), 'a string'],
      status: [isStatus, '"pass" or "fail"'],
    });
    checkOptions(value.options);
    array(value.targets, '$.targets').forEach((target, i) => checkTarget(target, `$.targets[${i}]`));
    array(value.runs, '$.runs').forEach((run, i) => checkRun(run, `$.runs[${i}]`));
    if (value.fuzz !== undefined) checkFuzz(value.fuzz, '$.fuzz');
  } catch (err) {
    if (err instanceof ShapeError) throw usageError(`${name} does not match the results schema: ${err.message}`);
    throw err;
  }
  return value as unknown as Results;
}

function checkOptions(value: unknown): void {
  fields(object(value, '$.options'), '$.options', {
    models: [isStringArray, 'an array of strings'],
    // As the persistency models accept them (persistency/types.ts):
    // reproduce and merge rebuild the run's images with them.
    maxStates: [(v) => isCount(v) && (v as number) >= 2, 'an integer of at least 2'],
    seed: [(v) => typeof v === 'number' && Number.isSafeInteger(v), 'an integer'],
    mergeVersions: [optional(isBoolean), 'a boolean'],
    jobs: [isNumber, 'a number'],
    timeoutMs: [isNumber, 'a number'],
  });
}

const isOutcomePart: Check = (v) =>
  Array.isArray(v) &&
  v.length === 5 &&
  isCount(v[0]) &&
  isCount(v[1]) &&
  isCount(v[2]) &&
  isString(v[3]) &&
  KINDS.includes(v[4] as string);

function checkPart(value: unknown, where: string): void {
  const part = object(value, where);
  fields(part, where, {
    ...RUN_PART_FIELDS,
    violating: [isString, 'a string'],
    outcomeCount: [isCount, 'a count'],
  });
  checkSpans(part, 'violating', where);
  array(part.classes, `${where}.classes`).forEach((item, i) => {
    const at = `${where}.classes[${i}]`;
    const cls = object(item, at);
    fields(cls, at, {
      key: [isString, 'a string'],
      order: [isCount, 'a count'],
      crashPoints: [isString, 'a string'],
      hashes: [isStringArray, 'an array of strings'],
    });
    checkSpans(cls, 'crashPoints', at);
    checkGroup(cls.group, `${at}.group`);
  });
  array(part.outcomes, `${where}.outcomes`).forEach((outcome, i) => {
    if (!isOutcomePart(outcome)) throw invalid(`${where}.outcomes[${i}]`, '[index, first, last, hash, verdict kind]');
  });
}

/** checkShardStacks -- a shard target's call stacks (ShardStacks). */
function checkShardStacks(value: unknown, where: string): void {
  const stacks = object(value, where);
  if (stacks.kind === 'unavailable') {
    fields(stacks, where, { why: [isString, 'a string'] });
    return;
  }
  fields(stacks, where, {
    kind: [(v) => v === 'unwound', '"unwound" or "unavailable"'],
    seconds: [isNumber, 'a number'],
    lint: [(v) => Array.isArray(v) && v.every(isCount), 'an array of instruction indices'],
  });
  const frames = array(stacks.frames, `${where}.frames`);
  frames.forEach((stack, i) =>
    array(stack, `${where}.frames[${i}]`).forEach((frame, j) => checkSite(frame, `${where}.frames[${i}][${j}]`)),
  );
  array(stacks.at, `${where}.at`).forEach((item, i) => {
    const ok =
      Array.isArray(item) &&
      item.length === 2 &&
      isCount(item[0]) &&
      isCount(item[1]) &&
      (item[1] as number) < frames.length;
    if (!ok) throw invalid(`${where}.at[${i}]`, '[instruction index, position in frames]');
  });
  Object.entries(object(stacks.excerpts, `${where}.excerpts`)).forEach(([line, excerpt]) =>
    array(excerpt, `${where}.excerpts["${line}"]`).forEach((item, i) => {
      const at = `${where}.excerpts["${line}"][${i}]`;
      fields(object(item, at), at, { line: [isCount, 'a line number'], text: [isString, 'a string'] });
    }),
  );
}

/** validateShard -- a parsed pmfit-shard.json (shard-results.ts), checked
 *  as validateResults checks results.json; `name` as there. */
export function validateShard(value: unknown, name: string): ShardResults {
  if (!isObject(value) || value.schema !== SHARD_SCHEMA)
    throw usageError(`${name} is not a pmfit shard file (written by pmfit allcounts --shard i/n)`);
  if (value.version !== SHARD_VERSION)
    throw usageError(`${name} is a shard file of version ${String(value.version)}; this pmfit reads ${SHARD_VERSION}`);
  try {
    fields(value, '$', {
      pmfitVersion: [isString, 'a string'],
      startedAt: [isString, 'a string'],
      finishedAt: [isString, 'a string'],
      planned: [isStringArray, 'an array of strings'],
      strictLint: [optional((v) => v === true), 'true'],
      incompleteReason: [optional(isString), 'a string'],
    });
    fields(object(value.shard, '$.shard'), '$.shard', { index: [isCount, 'a count'], count: [isCount, 'a count'] });
    checkOptions(value.options);
    array(value.targets, '$.targets').forEach((item, i) => {
      const at = `$.targets[${i}]`;
      const target = object(item, at);
      fields(target, at, { traceDigest: [isString, 'a string'] });
      checkTarget(target.record, `${at}.record`);
      if (target.stacks !== undefined) checkShardStacks(target.stacks, `${at}.stacks`);
      Object.entries(object(target.sites, `${at}.sites`)).forEach(([address, site]) => {
        const where = `${at}.sites["${address}"]`;
        fields(object(site, where), where, { file: [isString, 'a string'], line: [isCount, 'a line number'] });
      });
    });
    array(value.parts, '$.parts').forEach((part, i) => checkPart(part, `$.parts[${i}]`));
  } catch (err) {
    if (err instanceof ShapeError) throw usageError(`${name} does not match the shard file format: ${err.message}`);
    throw err;
  }
  return value as unknown as ShardResults;
}

/** Largest results.json read (the largest runs write tens of MiB). */
const RESULTS_LIMIT = 256 << 20;

/** readResults -- read and validate a results.json file. */
export function readResults(file: string): Results {
  const value = readBoundedJson(
    file,
    RESULTS_LIMIT,
    'a results.json file',
    'pmfit writes results.json when it checks targets',
  );
  return validateResults(value, file);
}
