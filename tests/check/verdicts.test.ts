// Verdict kinds from real recovery processes: crash, timeout, non-zero exit,
// invariant, ok.

import { removeTempRoot } from '../../harness/_internals/temp-root';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { checkCrashStates } from '../../harness/check/runner';
import { shellQuote } from '../../harness/_internals/shell-words';
import { describeVerdict, isViolation, verdictLabel, Verdict } from '../../harness/check/verdict';
import { liveInGroup, waitFor } from '../helpers/processes';
import { buildPrograms, group, makeSpec, state } from './helpers';

let programs: ReturnType<typeof buildPrograms>;
let scratch: string;

beforeAll(() => {
  programs = buildPrograms(['segv', 'upcase']);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-check-scratch-'));
});

afterAll(() => {
  fs.rmSync(programs.dir, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function verdictOf(spec: ReturnType<typeof makeSpec>, content = 'abc', timeoutMs = 10000): Promise<Verdict> {
  const report = await checkCrashStates({
    groups: [group(0, 0, state('h', content))],
    regions: [],
    spec,
    timeoutMs,
    jobs: 1,
  });
  expect(report.outcomes).toHaveLength(1);
  return report.outcomes[0].verdict;
}

test('a recovery that writes through NULL is recovery-crashed with SIGSEGV', async () => {
  const verdict = await verdictOf(makeSpec([{ argv: [programs.path('segv'), '{file}'] }]));
  expect(verdict.kind).toBe('recovery-crashed');
  if (verdict.kind !== 'recovery-crashed') return;
  expect(verdict.signal).toBe('SIGSEGV');
  expect(verdict.output).toMatch(/segv: recovering \/.*\/pool/);
  expect(isViolation(verdict)).toBe(true);
  expect(verdictLabel(verdict)).toBe('crash');
  expect(describeVerdict(verdict)).toBe('recovery crashed (SIGSEGV)');
});

test('the shell form reports a crashed child as recovery-crashed too', async () => {
  // `true;` keeps the shell from exec'ing the program directly.
  const verdict = await verdictOf(makeSpec([{ shell: `true; ${shellQuote(programs.path('segv'))} {file}` }]));
  expect(verdict).toMatchObject({ kind: 'recovery-crashed', signal: 'SIGSEGV' });
});

test('a recovery that hangs is recovery-timeout and its whole process group is killed', async () => {
  const pidFile = path.join(scratch, 'hang.pid');
  const spec = makeSpec([{ shell: `echo $$ > ${shellQuote(pidFile)}; sleep 30 & sleep 30; wait` }]);
  const start = Date.now();
  const verdict = await verdictOf(spec, 'abc', 500);
  // killed at the timeout, long before the 30 s sleeps would end
  expect(Date.now() - start).toBeLessThan(20_000);
  expect(verdict).toMatchObject({ kind: 'recovery-timeout', timeoutMs: 500 });
  expect(verdictLabel(verdict)).toBe('timeout');
  const pgid = Number(fs.readFileSync(pidFile, 'utf8'));
  expect(pgid).toBeGreaterThan(0);
  expect(await waitFor(() => liveInGroup(pgid).length === 0, 5000)).toBe(true);
});

test('what a successful recovery leaves running in its group is killed', async () => {
  const pidFile = path.join(scratch, 'background.pid');
  const spec = makeSpec([{ shell: `echo $$ > ${shellQuote(pidFile)}; sleep 30 >/dev/null 2>&1 & exit 0` }]);
  const verdict = await verdictOf(spec);
  expect(verdict).toEqual({ kind: 'ok' });
  const pgid = Number(fs.readFileSync(pidFile, 'utf8'));
  expect(await waitFor(() => liveInGroup(pgid).length === 0, 5000)).toBe(true);
});

test('a recovery that exits 3 is recovery-failed with exit code 3 and the command', async () => {
  const spec = makeSpec([{ argv: [programs.path('upcase'), '{file}'] }]);
  const verdict = await verdictOf(spec, '!broken');
  expect(verdict).toMatchObject({ kind: 'recovery-failed', exitCode: 3 });
  if (verdict.kind !== 'recovery-failed') return;
  expect(verdict.command).toBe(`${programs.path('upcase')} {file}`);
  expect(verdict.output).toContain('upcase: bad pool');
  expect(verdictLabel(verdict)).toBe('failed');
});

test('the recovery sequence stops at the first failing command', async () => {
  const marker = path.join(scratch, 'second-ran');
  const spec = makeSpec([{ shell: 'exit 4' }, { shell: `touch ${shellQuote(marker)}` }]);
  const verdict = await verdictOf(spec);
  expect(verdict).toMatchObject({ kind: 'recovery-failed', exitCode: 4, command: 'exit 4' });
  expect(fs.existsSync(marker)).toBe(false);
});

test('a check that returns messages makes an invariant verdict; it sees the recovered files and stdout', async () => {
  const seen: Array<{ file: string; stdout: string; allowed: unknown[] }> = [];
  const spec = makeSpec([{ argv: [programs.path('upcase'), '{file}'] }], (input) => {
    seen.push({ file: input.files[0].toString(), stdout: input.recoveryOutput, allowed: input.allowed });
    return input.files[0].toString() === 'ABC' ? ['data is shouting'] : [];
  });
  const verdict = await verdictOf(spec, 'abc');
  expect(verdict).toEqual({ kind: 'invariant', failed: ['data is shouting'], output: 'ABC' });
  expect(seen).toEqual([{ file: 'ABC', stdout: 'ABC', allowed: [] }]);
  expect(verdictLabel(verdict)).toBe('invariant');
});

test('a check that passes gives ok; one that throws gives an invariant verdict', async () => {
  expect(await verdictOf(makeSpec([{ argv: [programs.path('upcase'), '{file}'] }]))).toEqual({ kind: 'ok' });
  const throwing = makeSpec([], () => {
    throw new Error('bad JSON');
  });
  expect(await verdictOf(throwing)).toMatchObject({ kind: 'invariant', failed: ['check threw: bad JSON'] });
});

test('a recovery that removes a PM file is an invariant violation', async () => {
  expect(await verdictOf(makeSpec([{ shell: 'rm {file}' }]))).toMatchObject({
    kind: 'invariant',
    failed: ['PM file pool is missing after recovery'],
  });
});

test('a recovery command that does not exist is an error, not a verdict', async () => {
  await expect(verdictOf(makeSpec([{ argv: ['/nonexistent/recover'] }]))).rejects.toThrow(
    /cannot run recovery command/,
  );
});

// Jest workers do not run process 'exit' handlers reliably.
afterAll(() => removeTempRoot());
