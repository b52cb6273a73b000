// replay-file -- serialize/parse round trip and the refusals of
// truncated, corrupt and newer files (pure).

import * as fc from 'fast-check';
import {
  parseReplay,
  REPLAY_FORMAT,
  REPLAY_VERSION,
  ReplayFile,
  ReplayFileError,
  SequenceReplay,
  serializeReplay,
} from '../../harness/fuzz/replay-file';
import { modelNames } from '../../harness/persistency/model';

const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
const failure = fc.oneof(
  fc.record({ stage: fc.constant('setup' as const), command: fc.string(), why: fc.string() }),
  fc.record({
    stage: fc.constant('workload' as const),
    exitCode: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
  }),
  fc.record({
    stage: fc.constant('crash' as const),
    phase: fc.constantFrom('recovery' as const, 'continuation' as const),
    k: fc.nat(),
    hash: hex32,
    window: fc.tuple(fc.constantFrom('s', 'op'), fc.nat(20)).map(([a, b]) => `${a}${b}`),
    kind: fc.constantFrom('invariant', 'recovery-failed', 'recovery-crashed', 'recovery-timeout'),
    failed: fc.array(fc.string()),
  }),
);

const replayFile: fc.Arbitrary<ReplayFile & SequenceReplay> = fc
  .record({
    pmfit: fc.string(),
    createdAt: fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString()),
    target: fc.constantFrom('tree', 'tree_broken', 'alloc', 'basic'),
    ops: fc.array(fc.jsonValue(), { minLength: 1, maxLength: 6 }),
    split: fc.nat(),
    traceAll: fc.boolean(),
    model: fc.constantFrom(...modelNames),
    maxStates: fc.integer({ min: 2, max: 1000 }),
    modelSeed: fc.nat(),
    pmemMode: fc.constantFrom('', 'clflush', 'clwb', 'fit'),
    timeoutMs: fc.integer({ min: 1, max: 1e6 }),
    fastCheck: fc.record({
      seed: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      path: fc.array(fc.nat(30), { minLength: 1, maxLength: 8 }).map((xs) => xs.join(':')),
      runs: fc.integer({ min: 1, max: 1000 }),
      maxOps: fc.integer({ min: 1, max: 50 }),
    }),
    failure,
  })
  .map((r) => ({ format: REPLAY_FORMAT, version: REPLAY_VERSION, ...r, split: r.split % r.ops.length }));

/** parseReplay's message, which must be one line. */
function refusal(text: string): string {
  try {
    parseReplay(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ReplayFileError);
    const message = (error as Error).message;
    expect(message).not.toMatch(/\n/);
    return message;
  }
  throw new Error(`accepted: ${text.slice(0, 200)}`);
}

test('parse(serialize(r)) is r', () => {
  fc.assert(
    fc.property(replayFile, (r) => {
      // JSON has no -0 and no undefined: compare through JSON, as a file would.
      expect(parseReplay(serializeReplay(r))).toEqual(JSON.parse(JSON.stringify(r)));
    }),
  );
});

test('every truncation of a replay file is refused with one line', () => {
  fc.assert(
    fc.property(replayFile, fc.double({ min: 0, max: 1, noNaN: true }), (r, at) => {
      const text = serializeReplay(r).trimEnd();
      refusal(text.slice(0, Math.floor(at * (text.length - 1))));
    }),
    { numRuns: 200 },
  );
});

test('newer versions, other formats and ill-typed fields are refused with one line', () => {
  const [r] = fc.sample(replayFile, { numRuns: 1, seed: 3 });
  const with_ = (patch: Record<string, unknown>) => JSON.stringify({ ...r, ...patch });
  expect(refusal(with_({ version: REPLAY_VERSION + 1 }))).toMatch(/newer pmfit/);
  expect(refusal(with_({ format: 'pmfit-trace' }))).toMatch(/not a replay file/);
  expect(refusal('[1,2]')).toMatch(/not a replay file/);
  expect(refusal('')).toMatch(/empty/);
  expect(refusal(with_({ split: r.ops.length }))).toBe(
    `$.split is not an operation index (${r.ops.length} is past the ${r.ops.length} operations)`,
  );
  expect(refusal(with_({ ops: [] }))).toMatch(/ops/);
  expect(refusal(with_({ model: 'x86' }))).toMatch(/model/);
  expect(refusal(with_({ maxStates: 1 }))).toBe('$.maxStates is not an integer of at least 2');
  expect(refusal(with_({ fastCheck: { ...r.fastCheck, runs: 0 } }))).toMatch(/fastCheck\.runs/);
  expect(refusal(with_({ failure: { stage: 'crash' } }))).toMatch(/failure\.phase/);
  expect(refusal(with_({ failure: { stage: 'later' } }))).toBe(
    '$.failure.stage is not setup, workload or crash ("later")',
  );
  expect(
    refusal(
      with_({
        failure: { stage: 'crash', phase: 'recovery', k: 1, hash: 'xyz', window: 'op0', kind: 'ok', failed: [] },
      }),
    ),
  ).toMatch(/failure\.hash/);
  const missing: Record<string, unknown> = { ...r };
  delete missing.target;
  expect(refusal(JSON.stringify(missing))).toBe('$.target is missing');
});

test('a corrupted field of a valid file is refused or read back as written', () => {
  const keys = [
    'version',
    'target',
    'ops',
    'split',
    'traceAll',
    'model',
    'maxStates',
    'modelSeed',
    'pmemMode',
    'timeoutMs',
    'fastCheck',
    'failure',
  ];
  fc.assert(
    fc.property(replayFile, fc.constantFrom(...keys), fc.jsonValue(), (r, key, value) => {
      const text = JSON.stringify({ ...r, [key]: value });
      let parsed: ReplayFile | undefined;
      try {
        parsed = parseReplay(text);
      } catch (error) {
        expect(error).toBeInstanceOf(ReplayFileError);
        expect((error as Error).message).not.toMatch(/\n/);
        return;
      }
      // Accepted: a well-formed value, read back as written and stable.
      expect(parseReplay(serializeReplay(parsed))).toEqual(parsed);
      if (typeof value !== 'object' || Array.isArray(value))
        expect((parsed as unknown as Record<string, unknown>)[key]).toEqual(JSON.parse(text)[key]);
    }),
  );
});

/** A multithreaded target's replay file: threads and a schedule seed in
 *  place of ops, split and traceAll. */
const threadsReplayFile: fc.Arbitrary<ReplayFile> = fc
  .tuple(
    replayFile,
    fc.array(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
    fc.nat(),
    fc.integer({ min: 1, max: 16 }),
  )
  .map(([r, threads, scheduleSeed, maxThreads]) => {
    const { ops: _ops, split: _split, traceAll: _traceAll, ...common } = r;
    return { ...common, threads, scheduleSeed, fastCheck: { ...r.fastCheck, maxThreads } } as ReplayFile;
  });

test('a multithreaded case: parse(serialize(r)) is r, and its fields are checked', () => {
  fc.assert(
    fc.property(threadsReplayFile, (r) => {
      expect(parseReplay(serializeReplay(r))).toEqual(JSON.parse(JSON.stringify(r)));
    }),
  );
  const [r] = fc.sample(threadsReplayFile, { numRuns: 1, seed: 5 });
  const with_ = (patch: Record<string, unknown>) => JSON.stringify({ ...r, ...patch });
  expect(refusal(with_({ threads: [] }))).toBe('$.threads is not a list of threads (it is empty)');
  expect(refusal(with_({ threads: [[1], []] }))).toBe('$.threads[1] is not a list of operations (it is empty)');
  expect(refusal(with_({ threads: [[1], 2] }))).toBe('$.threads[1] is not a list of operations (2)');
  expect(refusal(with_({ scheduleSeed: -1 }))).toBe('$.scheduleSeed is not a schedule seed');
  expect(refusal(with_({ scheduleSeed: undefined }))).toBe('$.scheduleSeed is missing');
  expect(refusal(with_({ fastCheck: { ...r.fastCheck, maxThreads: 0 } }))).toMatch(/fastCheck\.maxThreads/);
});
