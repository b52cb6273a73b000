// process-alive.test -- a live process is alive, a reaped one and a pid no
// process can have are not.

import { spawnSync } from 'child_process';
import { processAlive } from '../../harness/_internals/process-alive';

test('this process and init are alive', () => {
  expect(processAlive(process.pid)).toBe(true);
  expect(processAlive(1)).toBe(true);
});

test('a child that exited and was reaped is not', () => {
  const child = spawnSync('true');
  expect(child.status).toBe(0);
  expect(processAlive(child.pid as number)).toBe(false);
});

test('a pid above the kernel limit (2^22) is not', () => {
  expect(processAlive((1 << 22) + 1)).toBe(false);
});
