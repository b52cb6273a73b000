// color -- pmfit's console report in colour or not, end to end: on a
// pseudo-terminal (util-linux `script`) and into a pipe, under NO_COLOR,
// FORCE_COLOR, TERM=dumb and --no-color before or after the command name.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { cliPath, runPmfit } from '../helpers/run-pmfit';

const ESC = '\x1b[';
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-color-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** One small sequential allcounts of the user_record fixture. */
function allcountsArgs(...extra: string[]): string[] {
  const program = fixture('user_record');
  return [
    'allcounts',
    '--model',
    'sequential',
    '--setup',
    `${program} init {file}`,
    '--cmd',
    `${program} set rec.pm 7`,
    '--pm',
    'rec.pm',
    '--recover',
    `${program} check {file}`,
    '-o',
    'reports',
    ...extra,
  ];
}

/** The environment without the colour variables of whoever runs jest
 *  (jest's workers set FORCE_COLOR themselves). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  return { ...env, ...extra };
}

/** onTerminal -- pmfit's output when stdout is a pseudo-terminal (stderr,
 *  where the progress bar redraws itself, is discarded). */
function onTerminal(args: string[], env: NodeJS.ProcessEnv): { code: number | null; output: string } {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = `${[process.execPath, cliPath, ...args].map(quote).join(' ')} 2>/dev/null`;
  const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, env, encoding: 'utf8' });
  return { code: result.status, output: result.stdout };
}

describe('colours on a terminal', () => {
  test('on by default; the report says the run is as expected', () => {
    const { code, output } = onTerminal(allcountsArgs(), cleanEnv());
    expect(code).toBe(0);
    expect(output).toContain('pmfit: all runs as expected');
    expect(output).toContain(`${ESC}32mpmfit: all runs as expected`);
  });

  test.each([
    ['NO_COLOR=1', [], { NO_COLOR: '1' }],
    ['TERM=dumb', [], { TERM: 'dumb' }],
    ['FORCE_COLOR=0', [], { FORCE_COLOR: '0' }],
    ['--no-color after the command', ['--no-color'], {}],
  ])('off with %s', (_name, extra, env) => {
    const { code, output } = onTerminal(allcountsArgs(...extra), cleanEnv(env));
    expect(code).toBe(0);
    expect(output).toContain('pmfit: all runs as expected');
    expect(output).not.toContain(ESC);
  });
});

describe('colours into a pipe', () => {
  test('off by default', () => {
    const result = runPmfit(allcountsArgs(), { cwd: dir, env: cleanEnv() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('pmfit: all runs as expected');
    expect(result.stdout).not.toContain(ESC);
  });

  test('FORCE_COLOR=1 forces them, also over NO_COLOR', () => {
    const result = runPmfit(allcountsArgs(), { cwd: dir, env: cleanEnv({ FORCE_COLOR: '1', NO_COLOR: '1' }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${ESC}1m== user`);
  });

  test('--no-color before the command wins over FORCE_COLOR', () => {
    const result = runPmfit(['--no-color', ...allcountsArgs()], { cwd: dir, env: cleanEnv({ FORCE_COLOR: '1' }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('pmfit: all runs as expected');
    expect(result.stdout).not.toContain(ESC);
  });
});
