// sigtrap -- a SIGTRAP the program raises itself inside a region
// (raise(SIGTRAP), an int3 of its own) reaches the program under pmfit as
// it does without: its handler runs once, or the default action kills it.
// pmfit's own single-step and breakpoint traps are told apart from it by
// their siginfo (native/quirks.h, sigtrap_is_programs).

import { spawnSync } from 'child_process';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';
import { expectUsageError, scratchDir } from './helpers';
import * as fs from 'fs';
import * as path from 'path';

const leftovers = useLeftovers();
const scratch = scratchDir('sigtrap');
const program = fixture('sigtrap_in_region');
const MODES = ['raise', 'int3'] as const;

describe.each(MODES)('%s inside a region', (mode) => {
  it('with a handler: the handler runs once, as untraced', () => {
    const untraced = spawnSync(program, [mode, 'handled'], { encoding: 'utf8' });
    expect({ status: untraced.status, stdout: untraced.stdout }).toEqual({ status: 0, stdout: 'traps: 1\n' });
    const counted = runPmfit(['count', '--json', '--', program, mode, 'handled'], leftovers.current());
    expect({ code: counted.code, exitCode: JSON.parse(counted.stdout).exitCode, stderr: counted.stderr }).toEqual({
      code: 0,
      exitCode: 0,
      stderr: 'traps: 1\n',
    });
  });

  it('with a handler, recorded: the handler runs once', () => {
    const dir = fs.mkdtempSync(path.join(scratch.path(), 'record-'));
    fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(4096));
    leftovers.current().keep(path.join(dir, 'pm.bin'));
    const recorded = runPmfit(['record', '--pm', 'pm.bin', '-o', 'run.trace', '--', program, mode, 'handled'], {
      cwd: dir,
      env: leftovers.current().env,
    });
    expect({ code: recorded.code, stdout: recorded.stdout }).toEqual({ code: 0, stdout: 'traps: 1\n' });
  });

  it('without a handler: killed by SIGTRAP, as untraced', () => {
    const untraced = spawnSync(program, [mode]);
    expect(untraced.signal).toBe('SIGTRAP');
    expectUsageError(
      runPmfit(['count', '--', program, mode], leftovers.current()),
      /was killed by SIGTRAP inside a region/,
    );
  });
});
