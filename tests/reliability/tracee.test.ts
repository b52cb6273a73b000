// tracee -- what a traced program may do inside a region, through the CLI:
// one line that names it and exit 2, or a normal end; nothing left running,
// nothing left in the temporary root.
//
// Covered elsewhere, not repeated here (tests/cli/errors.test.ts, which runs
// the same leftovers check after each case):
//   forks, execs                   '%s is not supported'
//   loops forever: --max-steps     'a runaway region stops at --max-steps'
//   dies by SIGSEGV / SIGABRT      'a signal inside a region names signal, address and symbol'

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { cliPath, runPmfit } from '../helpers/run-pmfit';
import { expectUsageError } from './helpers';

const leftovers = useLeftovers();

describe('a traced program inside its region', () => {
  it('blocks reading stdin: it reads end-of-file from /dev/null and finishes', async () => {
    // pmfit's own stdin is a pipe that stays open: were it passed on, the
    // program would wait forever.
    const child = spawn(process.execPath, [cliPath, 'count', '--json', '--', fixture('read_stdin_in_region')], {
      env: { ...process.env, ...leftovers.current().env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    child.stdin.destroy();
    expect(code).toBe(0);
    // Its exit status is the number of bytes read.
    expect(JSON.parse(stdout)).toMatchObject({ exitCode: 0 });
  });

  it('loops forever: a wall-clock --timeout stops it', () => {
    const started = Date.now();
    const result = runPmfit(
      ['count', '--timeout', '1', '--max-steps', '1000000000', '--', fixture('loop_forever')],
      leftovers.current(),
    );
    expectUsageError(result, /loop_forever timed out after 1000 ms \(--timeout\) at instruction \d+$/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('sleeps an hour in a syscall: a wall-clock --timeout stops it', () => {
    const result = runPmfit(['count', '--timeout', '1', '--', fixture('sleep_in_region')], leftovers.current());
    expectUsageError(result, /sleep_in_region timed out after 1000 ms \(--timeout\) at instruction \d+$/);
  });

  describe('calls into the vsyscall page', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-vsyscall-'));
      // over 8 MiB, as every recording case of issue 11 (the program maps
      // its first page)
      fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc((9 << 20) + 512));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('count: counted, and for ever: a wall-clock --timeout stops it', () => {
      const pm = path.join(dir, 'pm.bin');
      const counted = runPmfit(['count', '--json', '--', fixture('vsyscall_region'), pm], leftovers.current());
      expect(counted.code).toBe(0);
      expect(JSON.parse(counted.stdout).instructions).toBeGreaterThan(9);
      const result = runPmfit(
        ['count', '--timeout', '1', '--', fixture('vsyscall_region'), pm, 'forever'],
        leftovers.current(),
      );
      expectUsageError(result, /vsyscall_region timed out after 1000 ms \(--timeout\) at instruction \d+$/);
    });

    it('record: refused with one line (the emulated call writes unseen), no trace', () => {
      // Its addresses are past 2^53: an instruction set for one was never
      // found again, and recording looped for ever, deaf to --timeout.
      for (const mode of [[], ['forever']]) {
        const result = runPmfit(
          [
            'record',
            // the exact recorder steps into the call; the fast one runs
            // it at full speed (buffers off PM: nothing of PM is unseen)
            '--exact',
            '--timeout',
            '5',
            '--pm',
            'pm.bin',
            '-o',
            'run.trace',
            '--',
            fixture('vsyscall_region'),
            'pm.bin',
            ...mode,
          ],
          { ...leftovers.current(), cwd: dir },
        );
        expectUsageError(
          result,
          /^pmfit: a call into the vsyscall page \(0xffffffffff600000\) inside a region: the kernel emulates it/,
        );
        expect(fs.existsSync(path.join(dir, 'run.trace'))).toBe(false);
      }
    });
  });

  it('exits inside the region', () => {
    expectUsageError(
      runPmfit(['count', '--', fixture('exit_in_region')], leftovers.current()),
      /exit_in_region exited \(status 3\) inside a region after \d+ instructions; a region must reach pmfit_region_end\(\) or return$/,
    );
  });

  it('never reaches a region', () => {
    expectUsageError(
      runPmfit(['count', '--', fixture('never_region')], leftovers.current()),
      /never_region exited with status 0 before reaching a region \(pmfit_region_begin was not called\)$/,
    );
  });
});
