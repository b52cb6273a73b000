// fixed-random -- every traced run gets the same AT_RANDOM bytes
// (native/fixed_random.cc), so that a program which copies its stack canary
// or pointer guard into PM (libpmemobj's transactions do) records the same
// trace each time: shards of one run must agree on it.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { runPmfit } from '../helpers/run-pmfit';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-fixed-random-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fresh zeroed PM file for the fixture. */
function freshPm(name: string): string {
  const pm = path.join(dir, name);
  fs.writeFileSync(pm, Buffer.alloc(4096));
  return pm;
}

/** The 16 bytes the fixture stored at the start of its PM file, in hex. */
const storedBytes = (pm: string): string => fs.readFileSync(pm).subarray(0, 16).toString('hex');

test('two traced runs store the same AT_RANDOM bytes in PM; untraced runs do not', () => {
  const stored = ['a.pm', 'b.pm'].map((name) => {
    const pm = freshPm(name);
    const result = runPmfit(['count', '--', fixture('at_random'), pm]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // the program saw the bytes it stored
    expect(result.stdout).toContain(storedBytes(pm));
    return storedBytes(pm);
  });
  expect(stored[0]).not.toBe('0'.repeat(32));
  expect(stored[1]).toBe(stored[0]);

  // Without pmfit the kernel's bytes are fresh per exec: the fixture does read them.
  const native = ['c.pm', 'd.pm'].map((name) => {
    const pm = freshPm(name);
    execFileSync(fixture('at_random'), [pm]);
    return storedBytes(pm);
  });
  expect(native[1]).not.toBe(native[0]);
  expect(native).not.toContain(stored[0]);
});
