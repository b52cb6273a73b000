// signals -- a harness killed or interrupted mid-region leaves no tracee and
// no temporary file. Processes are found by the leftovers tag, so that other
// test files' runs of loop_forever do not count.

import * as fs from 'fs';
import { fixture } from '../fixtures';
import { startPmfit } from '../helpers/run-pmfit';
import { isSingleStepped, waitFor } from '../helpers/processes';
import { useLeftovers } from '../helpers/leftovers';

const looper = fixture('loop_forever');
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
