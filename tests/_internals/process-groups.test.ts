// process-groups.test -- which processes the recorder's cross-check leaves
// out as pmfit's own: those in a tracked group, including what its leader
// started, while the group is tracked.

import { spawn } from 'child_process';
import { inRunningGroup, killGroup, trackGroup, untrackGroup } from '../../harness/_internals/process-groups';

test("a tracked group and its leader's children are running groups; others are not", async () => {
  // The shell prints its background child's pid, then waits for it.
  const leader = spawn('/bin/sh', ['-c', 'sleep 60 & echo $!; wait'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise((resolve) => leader.on('exit', resolve));
  const pid = leader.pid as number;
  try {
    const child = await new Promise<number>((resolve) =>
      leader.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim()))),
    );
    expect(inRunningGroup(pid)).toBe(false);
    trackGroup(pid);
    expect(inRunningGroup(pid)).toBe(true);
    expect(inRunningGroup(child)).toBe(true);
    expect(inRunningGroup(process.pid)).toBe(false);
    untrackGroup(pid);
    expect(inRunningGroup(child)).toBe(false);
  } finally {
    untrackGroup(pid);
    killGroup(pid);
    await exited;
  }
});
