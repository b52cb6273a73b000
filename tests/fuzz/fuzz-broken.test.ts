// fuzz-broken -- the fuzzer finds the deliberate bug of tree_broken (a node
// linked before it is persisted), shrinks it to a tiny case, writes a replay
// file that `pmfit replay` reproduces, and refuses unusable replay files.
// The command functions are called directly (main.ts wires them).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PmfitError } from '../../harness/_internals/errors';
import { fuzz } from '../../harness/cli/commands/fuzz';
import { replay } from '../../harness/cli/commands/replay';
import { parseReplay, ReplayFile, SequenceReplay, serializeReplay } from '../../harness/fuzz/replay-file';
import { runCase } from '../../harness/fuzz/run-case';
import { fuzzTarget } from '../../targets/fuzz-targets';
import { readResults } from '../../harness/results/results';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-fuzz-broken-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Run a command function, capturing what it writes to stdout. */
async function capture(action: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  try {
    const code = await action();
    return { code, stdout: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

/** The failure block both commands print: from the operations to the
 *  count of violating crash points (after it, fuzz names its `pmfit
 *  reproduce` line, replay the process to kill by hand). */
function failureBlock(stdout: string): string {
  const start = stdout.indexOf('operations (');
  const end = stdout.indexOf('\n', stdout.indexOf('violating crash points:'));
  return stdout.slice(start, end);
}

async function usageMessage(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PmfitError);
    expect((error as PmfitError).exitCode).toBe(2);
    expect((error as Error).message).not.toMatch(/\n/);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('tree_broken', () => {
  const reports = () => path.join(dir, 'reports');
  let fuzzed: { code: number; stdout: string };
  let file: string;
  let written: ReplayFile & SequenceReplay;

  beforeAll(async () => {
    fuzzed = await capture(() =>
      fuzz('tree_broken', {
        runs: 10,
        seed: 42,
        model: 'px86',
        ops: 4,
        timeout: 20_000,
        output: reports(),
        version: 'test',
      }),
    );
    file = path.join(reports(), 'fuzz-tree_broken-42.json');
    const parsed = parseReplay(fs.readFileSync(file, 'utf8'));
    if (parsed.ops === undefined) throw new Error('the replay file of tree_broken has threads');
    written = parsed;
  });

  test('is found and shrunk to at most 2 operations, with everything needed to repeat it', () => {
    expect(fuzzed.code).toBe(1);
    expect(fuzzed.stdout).toMatch(/^FAILED: case \d+ of 10 failed; shrunk \d+ times?/m);
    expect(written.target).toBe('tree_broken');
    expect(written.ops.length).toBeLessThanOrEqual(2);
    expect(written.ops.some((op) => (op as { kind: string }).kind === 'insert')).toBe(true);
    expect(written.failure).toMatchObject({ stage: 'crash', phase: 'recovery', kind: 'recovery-failed' });
    expect(written).toMatchObject({
      model: 'px86',
      maxStates: 64,
      modelSeed: 1,
      fastCheck: { seed: 42, runs: 10, maxOps: 4 },
    });
    const out = fuzzed.stdout;
    expect(out).toMatch(/crash point: k=\d+ of \d+ traced instructions, during operation #\d+ insert/);
    expect(out).toContain('model: px86');
    expect(out).toMatch(/image: [0-9a-f]{32}/);
    expect(out).toContain('is not the data of an ACTIVE clump');
    expect(out).toContain(`replay file: ${path.relative(process.cwd(), file)}`);
    expect(out).toContain(
      `fast-check: seed 42, path ${written.fastCheck.path}; repeat: pmfit fuzz tree_broken --seed 42 --path ${written.fastCheck.path}`,
    );
  });

  test('the reports show the counterexample: what ran, the failure, its crash points explained, the replay', () => {
    const results = readResults(path.join(reports(), 'results.json'));
    const replayLine = `pmfit replay ${path.relative(process.cwd(), file)}`;
    expect(results.status).toBe('fail');
    expect(results.fuzz).toMatchObject({ target: 'tree_broken', model: 'px86', runs: 10, maxOps: 4, seed: 42 });
    expect(results.fuzz?.counterexample?.ops).toEqual(written.ops.map((op) => fuzzTarget('tree_broken').showOp(op)));
    expect(results.fuzz?.counterexample?.failure.join('\n')).toContain('is not the data of an ACTIVE clump');
    expect(results.fuzz?.counterexample).toMatchObject({
      replay: replayLine,
      repeat: expect.stringContaining(`--path ${written.fastCheck.path}`),
    });
    // the shrunk case's check, as one run whose first violation is the replayed one
    expect(results.runs.map((run) => [run.target, run.model])).toEqual([['tree_broken', 'px86']]);
    expect(results.targets.map((target) => target.name)).toEqual(['tree_broken']);
    const failure = written.failure as { k: number };
    const replayed = results.runs[0].groups.find((group) => group.example.k === failure.k);
    // results.json outside the working directory: by its absolute path
    const reproduceLine = `pmfit reproduce ${path.join(reports(), 'results.json')} ${replayed?.id}`;
    expect(replayed).toMatchObject({ violation: true, kind: 'recovery-failed', example: { reproduce: reproduceLine } });
    expect(fuzzed.stdout).toContain(`reproduce this image (exit 1 while it still fails): ${reproduceLine}\n`);
    expect(replayed?.example.next?.file).toMatch(/targets\/tree\/tree\.c$/);
    expect(results.runs[0].violations).toBeGreaterThan(0);
    const html = fs.readFileSync(path.join(reports(), 'index.html'), 'utf8');
    expect(html).toContain('<section id="fuzz">');
    expect(html).toContain('counterexample</span> shrunk to');
    expect(fs.readFileSync(path.join(reports(), 'junit.xml'), 'utf8')).toContain('<failure');
    expect(fuzzed.stdout).toContain(`reports: ${path.relative(process.cwd(), path.join(reports(), 'index.html'))}`);
  });

  test('pmfit replay reproduces the same failure (exit 1)', async () => {
    const replayed = await capture(() => replay(file));
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toContain('the recorded failure reproduces (same crash point, image and verdict)');
    expect(failureBlock(replayed.stdout)).toBe(failureBlock(fuzzed.stdout));
  });

  test('fast-check seed and path go straight back to the counterexample', async () => {
    const again = await capture(() =>
      fuzz('tree_broken', {
        runs: 10,
        seed: 42,
        path: written.fastCheck.path,
        model: 'px86',
        ops: 4,
        timeout: 20_000,
        output: path.join(dir, 'again'),
      }),
    );
    expect(again.code).toBe(1);
    const repeated = parseReplay(fs.readFileSync(path.join(dir, 'again', 'fuzz-tree_broken-42.json'), 'utf8'));
    expect(repeated.ops).toEqual(written.ops);
    expect(repeated.failure).toEqual(written.failure);
  });

  test('replay exits 0 when the case no longer fails (the fixed program)', async () => {
    const fixed = path.join(dir, 'fixed.json');
    fs.writeFileSync(fixed, serializeReplay({ ...written, target: 'tree' }));
    const replayed = await capture(() => replay(fixed));
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/no longer fails \(recorded: crash point k=\d+/);
  });

  test('unusable replay files are one-line usage errors', async () => {
    const text = fs.readFileSync(file, 'utf8');
    const write = (name: string, content: string) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, content);
      return p;
    };
    expect(await usageMessage(replay(write('truncated.json', text.slice(0, text.length >> 1))))).toMatch(
      /truncated\.json: not valid JSON/,
    );
    expect(await usageMessage(replay(write('newer.json', JSON.stringify({ ...written, version: 99 }))))).toMatch(
      /newer pmfit/,
    );
    expect(await usageMessage(replay(write('garbage.json', '\u0000\u0001garbage')))).toMatch(/not valid JSON/);
    expect(await usageMessage(replay(write('target.json', JSON.stringify({ ...written, target: 'nope' }))))).toMatch(
      /unknown fuzz target 'nope'/,
    );
    expect(
      await usageMessage(
        replay(write('op.json', JSON.stringify({ ...written, ops: [{ kind: 'remove', word: 'a' }] }))),
      ),
    ).toMatch(/operation #1/);
    expect(await usageMessage(replay(path.join(dir, 'missing.json')))).toMatch(/no such file/);
  });
});

test('command-line values are checked before any work', async () => {
  const base = { runs: 1, model: 'px86', ops: 2, timeout: 1000, output: dir };
  expect(await usageMessage(fuzz('nope', base))).toMatch(/unknown fuzz target/);
  expect(await usageMessage(fuzz('tree', { ...base, model: 'x86' }))).toMatch(/unknown model/);
  expect(await usageMessage(fuzz('tree', { ...base, path: '0:1' }))).toMatch(/--path needs the --seed/);
  expect(await usageMessage(fuzz('tree', { ...base, seed: 2 ** 40 }))).toMatch(/--seed/);
});

test('basic, the positive control: a torn string is found by one case', async () => {
  const report = await runCase(
    fuzzTarget('basic'),
    {
      ops: ['short', 'a string longer than one 64-byte cache line, so that it can tear between lines', 'next'],
      split: 1,
      traceAll: false,
    },
    { model: 'px86', maxStates: 64, modelSeed: 1, pmemMode: '', timeoutMs: 20_000, jobs: 2 },
  );
  expect(report.spec.expect).toBe('violations');
  expect(report.failure).toMatchObject({
    stage: 'crash',
    phase: 'recovery',
    window: 'op0',
    verdict: { kind: 'invariant' },
  });
  expect(report.continuations).toBeGreaterThan(0);
});
