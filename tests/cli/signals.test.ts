// signals -- a harness killed or interrupted mid-region leaves no tracee and
// no temporary file. Processes are found by the leftovers tag, so that other
// test files' runs of loop_forever do not count.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { runPmfit, startPmfit } from '../helpers/run-pmfit';
import { isSingleStepped, waitFor } from '../helpers/processes';
import { useLeftovers } from '../helpers/leftovers';

const looper = fixture('loop_forever');
const syscallLooper = fixture('syscall_loop');
const leftovers = useLeftovers();
const processesRunning = (exe: string) => leftovers.current().running(exe);

async function startInRegion() {
  const run = startPmfit(['count', '--max-steps', '1000000000', '--', looper], { env: leftovers.current().env });
  // The tracee exists from the start; it is in its region once it is
  // single-stepped (loop_forever's region never ends).
  expect(await waitFor(() => processesRunning(looper).some(isSingleStepped))).toBe(true);
  return run;
}

describe('pmfit under signals', () => {
  it('SIGKILL of the harness mid-region kills the tracee too', async () => {
    const run = await startInRegion();
    run.child.kill('SIGKILL');
    await run.done;
    expect(await waitFor(() => processesRunning(looper).length === 0)).toBe(true);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-region exits %d with no tracee or temp file left', async (signal, code) => {
    const run = await startInRegion();
    run.child.kill(signal);
    const result = await run.done;
    expect(result.code).toBe(code);
    expect(result.stderr.trim()).toBe(`pmfit: interrupted by ${signal}`);
    expect(processesRunning(looper)).toEqual([]);
    expect(fs.readdirSync(leftovers.current().tmp)).toEqual([]);
  });
});

// A recording answers each system call of a region in JavaScript: a region
// that makes nothing else gives one syscall stop after another and never a
// slice's yield, which is where --timeout and signals were served.
describe('a recorded region that only makes system calls', () => {
  const record = (dir: string) => [
    'record',
    '--exact',
    '--pm',
    path.join(dir, 'pm.bin'),
    '-o',
    path.join(dir, 'out.trace'),
    '--',
    syscallLooper,
  ];
  const dirOf = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-syscall-loop-'));
    fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(4096));
    return dir;
  };

  it('--timeout ends it: exit 2, one line, no tracee left', () => {
    const dir = dirOf();
    try {
      const result = runPmfit(['record', '--timeout', '1', ...record(dir).slice(1)], {
        env: leftovers.current().env,
        timeoutMs: 60_000,
      });
      expect({ code: result.code, stderr: result.stderr }).toEqual({
        code: 2,
        stderr: expect.stringMatching(
          /^pmfit: \S*syscall_loop timed out after 1000 ms \(--timeout\) at instruction \d+\n$/,
        ),
      });
      expect(processesRunning(syscallLooper)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM ends it: exit 143, no tracee left', async () => {
    const dir = dirOf();
    try {
      const run = startPmfit(record(dir), { env: leftovers.current().env });
      expect(await waitFor(() => processesRunning(syscallLooper).some(isSingleStepped))).toBe(true);
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect({ code: result.code, stderr: result.stderr.trim() }).toEqual({
        code: 143,
        stderr: 'pmfit: interrupted by SIGTERM',
      });
      expect(processesRunning(syscallLooper)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
