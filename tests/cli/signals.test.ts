// signals -- a harness killed or interrupted mid-region leaves no tracee and
// no temporary file.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { startPmfit } from '../helpers/run-pmfit';
import { processesRunning, waitFor } from '../helpers/processes';

const looper = fixture('loop_forever');
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-signals-'));
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function startInRegion() {
  const run = startPmfit(['count', '--max-steps', '1000000000', '--', looper], { env: { PMFIT_TMPDIR: tmp } });
  // The tracee exists from the start; give it time to reach its region.
  expect(await waitFor(() => processesRunning(looper).length > 0)).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return run;
}

describe('pmfit under signals', () => {
  it('SIGKILL of the harness mid-region kills the tracee too', async () => {
    const run = await startInRegion();
    run.child.kill('SIGKILL');
    await run.done;
    expect(await waitFor(() => processesRunning(looper).length === 0)).toBe(true);
  });

  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s mid-region exits %d with no tracee or temp file left', async (signal, code) => {
    const run = await startInRegion();
    run.child.kill(signal);
    const result = await run.done;
    expect(result.code).toBe(code);
    expect(result.stderr.trim()).toBe(`pmfit: interrupted by ${signal}`);
    expect(processesRunning(looper)).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});
