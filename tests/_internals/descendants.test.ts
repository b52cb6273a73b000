// descendants -- the run token that names pmfit's temporary roots: the same
// width in every pmfit process (the traced program sees it in its argv and
// working directory, and its stack layout follows their length), and still
// recognised as a live run's whether padded or not.

import { ownerAlive, runToken, startTime } from '../../harness/_internals/descendants';

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
