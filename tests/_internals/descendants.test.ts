// descendants -- the run token that names pmfit's temporary roots: the same
// width in every pmfit process (the traced program sees it in its argv and
// working directory, and its stack layout follows their length), and still
// recognised as a live run's whether padded or not; the walk over live
// descendants.

import { spawn } from 'child_process';
import { liveDescendants, ownerAlive, runToken, startTime } from '../../harness/_internals/descendants';
import { waitFor } from '../helpers/processes';

test('the run token has one width whatever the pid and start time', () => {
  expect(runToken()).toMatch(/^\d{7}-\d{20}$/);
  const [pid, start] = runToken().split('-');
  expect(Number(pid)).toBe(process.pid);
  expect(BigInt(start)).toBe(BigInt(startTime(process.pid) as string));
});

test('a live run is known by its token, padded or not; another start time is not it', () => {
  const start = startTime(process.pid) as string;
  expect(ownerAlive(process.pid, runToken().split('-')[1])).toBe(true);
  expect(ownerAlive(process.pid, start)).toBe(true);
  expect(ownerAlive(process.pid, String(BigInt(start) + 1n))).toBe(false);
});

test('a process named childless is listed but not looked into', async () => {
  // sh starts sleep and waits for it: a child and a grandchild of this
  // process, in a process group of their own to be killed together
  const child = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore', detached: true });
  try {
    const pid = child.pid as number;
    expect(await waitFor(() => liveDescendants(process.pid).length >= 2)).toBe(true);
    const all = liveDescendants(process.pid);
    expect(all).toContain(pid);
    const pruned = liveDescendants(process.pid, pid);
    expect(pruned).toContain(pid);
    expect(all.filter((found) => !pruned.includes(found)).length).toBeGreaterThan(0);
  } finally {
    process.kill(-(child.pid as number), 'SIGKILL');
  }
});
