// cli -- bad command lines: one line that names the problem, exit 2, and
// nothing started.
//
// Covered elsewhere, not repeated here:
//   missing --          tests/cli/errors.test.ts 'missing -- before the command'
//   N not a number      tests/cli/errors.test.ts 'N that is not a number'
//   --cmd without --pm, --pm without --cmd
//                       tests/pipeline/allcounts.test.ts 'pmfit allcounts usage errors'

import * as path from 'path';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';
import { expectUsageError, scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('cli');

describe('bad command lines', () => {
  it('unknown option', () => {
    expectUsageError(
      runPmfit(['count', '--frobnicate', '--', fixture('count_asm')], leftovers.current()),
      /^pmfit: unknown option '--frobnicate'$/,
    );
  });

  it('negative N, which commander would take for an option', () => {
    for (const args of [
      ['crash', '-5', '--'],
      ['crash', '--', '-5'],
    ]) {
      expectUsageError(
        runPmfit([...args, fixture('count_asm')], leftovers.current()),
        /^pmfit: N must be a non-negative integer, not '-5'$/,
      );
    }
  });

  it('conflicting options: --cmd with --target', () => {
    const result = runPmfit(
      ['allcounts', '--cmd', fixture('user_record'), '--target', 'basic', '-o', path.join(scratch.path(), 'reports')],
      leftovers.current(),
    );
    expectUsageError(result, /^pmfit: --cmd and --target cannot be combined$/);
  });
});
