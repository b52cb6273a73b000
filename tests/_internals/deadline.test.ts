// deadline -- time limits longer than Node's timers hold, and the clock
// they count in.

import { Deadline, MAX_TIMER_MS, runningNow } from '../../harness/_internals/deadline';

it('a limit past 2^31-1 ms does not fire early (Node would make it 1 ms)', async () => {
  let longFired = false;
  const long = new Deadline(MAX_TIMER_MS + 1000, () => {
    longFired = true;
  });
  await new Promise<void>((resolve) => new Deadline(100, resolve));
  // Timers of the same delay run in order; 1 ms ones long before 100 ms ones.
  await new Promise<void>((resolve) => new Deadline(1, resolve));
  expect({ longFired, expired: long.expired() }).toEqual({ longFired: false, expired: false });
  long.cancel();
});

it('fires once its time is used up, not after cancel', async () => {
  let cancelledFired = false;
  const cancelled = new Deadline(10, () => {
    cancelledFired = true;
  });
  cancelled.cancel();
  const start = runningNow();
  await new Promise<void>((resolve) => new Deadline(50, resolve));
  expect(runningNow() - start).toBeGreaterThanOrEqual(49);
  await new Promise<void>((resolve) => new Deadline(20, resolve));
  expect(cancelledFired).toBe(false);
});
