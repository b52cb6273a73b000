// show-pipe -- `pmfit trace show` into a pipe that closes early (| head).
//
// Known gap, failing until fixed (see the report): the CLI writes to stdout
// with no 'error' handler, so EPIPE escapes as an unhandled 'error' event:
// a stack trace on stderr and exit status 1, which is pmfit's "violations"
// status. A closed pipe should end the command quietly.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { cliPath, runPmfit } from '../helpers/run-pmfit';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-show-pipe-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

it.each([[[]], [['--json']]])('trace show %j | head -n 1 ends quietly', (flags: string[]) => {
  const pm = path.join(dir, 'pm.bin');
  fs.writeFileSync(pm, Buffer.alloc(4096));
  const trace = path.join(dir, 'libc.trace');
  // record_insn libc: a few hundred events, more than a pipe buffer of text.
  const recorded = runPmfit(['record', '--pm', pm, '-o', trace, '--', fixture('record_insn'), 'libc', pm]);
  expect(recorded.code).toBe(0);
  const script = `"${process.execPath}" "${cliPath}" trace show ${flags.join(' ')} "${trace}" 2>"${dir}/err" | head -n 1 >/dev/null; echo "\${PIPESTATUS[0]}"`;
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  const stderr = fs.readFileSync(path.join(dir, 'err'), 'utf8');
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).toBe('');
  expect(Number(result.stdout.trim())).not.toBe(1);
});
