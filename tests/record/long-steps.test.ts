// long-steps -- one instruction inside a region that the tracer steps for
// a long time: `rep stosb` over a whole 12 MiB PM file, one byte a step
// (tests/fixtures/record/record_rep.c). Every loop of the tracer returns to
// the event loop often enough that --timeout, SIGINT and SIGTERM act while
// pmfit records it: exit 2 naming the timeout, or 130 / 143, with no trace
// written and no process left (useLeftovers checks it).

import * as fs from 'fs';
import * as path from 'path';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { isSingleStepped, waitFor } from '../helpers/processes';
import { pmfitMessage, runPmfit, startPmfit } from '../helpers/run-pmfit';
import { scratchDir } from '../reliability/helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('long-steps');
const rep = fixture('record_rep');

function workDir(): string {
  const dir = fs.mkdtempSync(path.join(scratch.path(), 'work-'));
  fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(12 << 20));
  return dir;
}

describe('pmfit record of a rep stosb over a 12 MiB PM file', () => {
  it('--timeout 1: exit 2 naming the timeout, no trace', () => {
    const dir = workDir();
    const result = runPmfit(['record', '--timeout', '1', '--pm', 'pm.bin', '-o', 'run.trace', '--', rep, 'pm.bin'], {
      cwd: dir,
      env: leftovers.current().env,
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(2);
    expect(pmfitMessage(result)).toMatch(/record_rep timed out after 1000 ms \(--timeout\) at instruction \d+$/);
    expect(fs.readdirSync(dir)).toEqual(['pm.bin']);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s once it is stepped: exit %d, no trace', async (signal, code) => {
    const dir = workDir();
    const run = startPmfit(['record', '--pm', 'pm.bin', '-o', 'run.trace', '--', rep, 'pm.bin'], {
      cwd: dir,
      env: leftovers.current().env,
    });
    expect(await waitFor(() => leftovers.current().running(rep).some(isSingleStepped), 20_000)).toBe(true);
    run.child.kill(signal);
    const result = await run.done;
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: `pmfit: interrupted by ${signal}\n` });
    expect(fs.readdirSync(dir)).toEqual(['pm.bin']);
  });
});
