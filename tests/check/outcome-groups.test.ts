import * as path from 'path';

import { MEMORY_PARENT, memoryParent, tempParent } from '../../harness/_internals/temp-root';
import { collateOutcomes, normalizeOutput, outcomeClass } from '../../harness/check/outcome-groups';
import type { CrashOutcome } from '../../harness/check/runner';
import type { Verdict } from '../../harness/check/verdict';

function outcome(first: number, last: number, hash: string, verdict: Verdict): CrashOutcome {
  return { first, last, hash, window: 's0', verdict, describe: [] };
}

const crashed = (output: string): Verdict => ({ kind: 'recovery-crashed', signal: 'SIGSEGV', output });

test('outcomes collate by kind, details and normalized output, with allcounts ranges', () => {
  const dir = (n: number) => path.join(path.resolve(tempParent()), 'pmfit-4242-987654-AbC123', `${n}-image`);
  const groups = collateOutcomes([
    outcome(0, 0, 'a', { kind: 'ok' }),
    outcome(1, 1989, 'b', crashed(`cannot open ${dir(4)}/pool  \n`)),
    outcome(1990, 2000, 'c', { kind: 'ok' }),
    outcome(1990, 2000, 'd', { kind: 'invariant', failed: ['lost a record'], output: '' }),
    outcome(2001, 2001, 'e', crashed(`cannot open ${dir(77)}/pool\n`)),
    outcome(2002, 2003, 'f', { kind: 'invariant', failed: ['lost two records'], output: '' }),
    outcome(2004, 2004, 'g', { kind: 'recovery-failed', exitCode: 1, output: '', command: 'r' }),
    outcome(2005, 2005, 'h', { kind: 'recovery-failed', exitCode: 2, output: '', command: 'r' }),
  ]);
  expect(groups.map((g) => [g.label, g.ranges, g.crashPoints, g.hashes])).toEqual([
    ['ok', '0,1990-2000', 12, ['a', 'c']],
    ['crash', '1-1989,2001', 1990, ['b', 'e']],
    ['invariant', '1990-2000', 11, ['d']],
    ['invariant', '2002-2003', 2, ['f']],
    ['failed', '2004', 1, ['g']],
    ['failed', '2005', 1, ['h']],
  ]);
  expect(groups[1].verdict).toEqual(crashed(`cannot open ${dir(4)}/pool  \n`));
});

test('normalizeOutput and outcomeClass', () => {
  const dir = path.join(path.resolve(tempParent()), 'pmfit-4242-987654-x1Y2z3', '12-image');
  expect(normalizeOutput(`open ${dir}/pool failed \r\nnext\t\n\n`)).toBe('open {dir}/pool failed\nnext');
  expect(outcomeClass({ kind: 'recovery-timeout', timeoutMs: 5, output: 'a\n' })).toBe(
    outcomeClass({ kind: 'recovery-timeout', timeoutMs: 5, output: 'a' }),
  );
  expect(outcomeClass({ kind: 'invariant', failed: ['x'], output: '' })).not.toBe(
    outcomeClass({ kind: 'invariant', failed: ['y'], output: '' }),
  );
});

test('an image directory in /dev/shm normalizes as one in the temporary directory', () => {
  const saved = process.env.PMFIT_TMPDIR;
  delete process.env.PMFIT_TMPDIR;
  try {
    const disk = path.join(path.resolve(tempParent()), 'pmfit-4242-987654-x1Y2z3', '12-image');
    const memory = path.join(MEMORY_PARENT, 'pmfit-4242-987654-q9W8e7', '3-image');
    const normalized = normalizeOutput(`open ${memory}/pool failed`);
    // where images can go to memory (the temporary directory on a disk), its paths are {dir} too
    if (memoryParent() !== undefined) expect(normalized).toBe('open {dir}/pool failed');
    else expect(normalized).toBe(`open ${memory}/pool failed`);
    expect(normalizeOutput(`open ${disk}/pool failed`)).toBe('open {dir}/pool failed');
  } finally {
    if (saved !== undefined) process.env.PMFIT_TMPDIR = saved;
  }
});
