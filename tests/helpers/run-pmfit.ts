// run-pmfit -- run the built CLI (dist/) as a user would, capturing output.

import { spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import * as path from 'path';
import { projectRoot } from '../../harness/_internals/paths';

export const cliPath = path.join(projectRoot, 'dist', 'harness', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runPmfit(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): CliResult {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 110_000,
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** startPmfit -- a running CLI process, for signal tests. */
export function startPmfit(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** expectOneLineError -- the contract for bad input: exit 2, one line, no stack. */
export function oneLineError(result: CliResult): string {
  const lines = result.stderr.trim().split('\n');
  if (lines.length !== 1 || /\n\s+at /.test(result.stderr)) {
    throw new Error(`expected a one-line error, got:\n${result.stderr}`);
  }
  return lines[0];
}

/** pmfitMessage -- pmfit's one-line error when the traced program may have
 *  written to stderr too: exactly one line of pmfit's own, no stack trace,
 *  no internal error. */
export function pmfitMessage(result: CliResult): string {
  if (/\n\s+at /.test(result.stderr) || /pmfit: internal error/.test(result.stderr)) {
    throw new Error(`expected a one-line error, got a stack trace or internal error:\n${result.stderr}`);
  }
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('pmfit: '));
  if (lines.length !== 1) throw new Error(`expected one line from pmfit, got:\n${result.stderr}`);
  return lines[0];
}
