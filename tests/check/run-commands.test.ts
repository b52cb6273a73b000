// runCommands: substitution, environment, capture, ordering (real processes).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { displayCommand, runCommands, runningGroupCount } from '../../harness/check/run-commands';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pmfit run commands 'q' "));
  fs.writeFileSync(path.join(dir, 'my pool'), 'data');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('{dir} and {file} are substituted raw in argv and shell-quoted in shell commands', async () => {
  const outcome = await runCommands(
    [{ argv: ['/bin/echo', '{dir}|{file}'] }, { shell: 'cat {file}; echo; pwd; echo {dir}' }],
    dir,
    { timeoutMs: 5000, files: ['my pool'] },
  );
  expect(outcome.kind).toBe('ok');
  const file = path.join(dir, 'my pool');
  expect(outcome.stdout).toBe(`${dir}|${file}\ndata\n${dir}\n${dir}\n`);
});

test('environment: spec env, then command env on top of the harness environment', async () => {
  const outcome = await runCommands([{ shell: 'echo "$A $B $HOME"', env: { B: 'command' } }], dir, {
    timeoutMs: 5000,
    env: { A: 'spec', B: 'spec' },
  });
  expect(outcome.stdout).toBe(`spec command ${process.env.HOME}\n`);
});

test('stdin is /dev/null; stderr goes to output only; stdout to both', async () => {
  const outcome = await runCommands([{ shell: 'cat; echo out; echo err >&2' }], dir, { timeoutMs: 5000 });
  expect(outcome).toMatchObject({ kind: 'ok', stdout: 'out\n' });
  expect(outcome.output).toContain('out\n');
  expect(outcome.output).toContain('err\n');
});

test('output is bounded and the truncation noted', async () => {
  const outcome = await runCommands([{ shell: 'head -c 100000 /dev/zero | tr "\\0" x' }], dir, {
    timeoutMs: 5000,
    outputLimit: 1000,
    stdoutLimit: 2000,
  });
  expect(outcome.output.startsWith('x'.repeat(1000) + '\n[pmfit: output truncated after 1000 bytes, 99000 more')).toBe(
    true,
  );
  expect(outcome.stdout.startsWith('x'.repeat(2000) + '\n[pmfit: output truncated after 2000 bytes, 98000 more')).toBe(
    true,
  );
});

test('a shell status 128+n is a signal; a plain argv exit 139 is not', async () => {
  const shell = await runCommands([{ shell: 'exit 137' }], dir, { timeoutMs: 5000 });
  expect(shell).toMatchObject({ kind: 'crashed', signal: 'SIGKILL', index: 0 });
  const argv = await runCommands([{ argv: ['/bin/sh', '-c', 'exit 139'] }], dir, { timeoutMs: 5000 });
  expect(argv).toMatchObject({ kind: 'failed', exitCode: 139, command: "/bin/sh -c 'exit 139'" });
});

test('no process group stays registered', async () => {
  await runCommands([{ shell: 'true' }, { argv: ['true'] }], dir, { timeoutMs: 5000 });
  expect(runningGroupCount()).toBe(0);
});

test('displayCommand', () => {
  expect(displayCommand({ argv: ['rec', 'a b', '{file}'] })).toBe("rec 'a b' {file}");
  expect(displayCommand({ shell: 'rec {file} | tee log' })).toBe('rec {file} | tee log');
});
