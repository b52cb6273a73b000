import { WorkerPool, defaultConcurrency, mapPool } from '../../harness/check/worker-pool';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('mapPool keeps the order of results and never runs more than the limit', async () => {
  let running = 0;
  let most = 0;
  const results = await mapPool(
    [30, 5, 20, 1, 10, 2, 8],
    async (ms, index) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(ms);
      running -= 1;
      return `${index}:${ms}`;
    },
    { concurrency: 3 },
  );
  expect(results).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10', '5:2', '6:8']);
  expect(most).toBe(3);
});

test('mapPool pulls items lazily and stops starting jobs after a failure', async () => {
  const started: number[] = [];
  function* items(): Generator<number> {
    for (let i = 0; i < 100; i += 1) yield i;
  }
  await expect(
    mapPool(
      items(),
      async (i) => {
        started.push(i);
        await sleep(5);
        if (i === 3) throw new Error('job 3 failed');
        return i;
      },
      { concurrency: 2 },
    ),
  ).rejects.toThrow('job 3 failed');
  expect(Math.max(...started)).toBeLessThan(6);
});

test('WorkerPool bounds concurrency, reports pending and waits for room', async () => {
  const pool = new WorkerPool(2);
  let running = 0;
  let most = 0;
  const job = (value: number) => async () => {
    running += 1;
    most = Math.max(most, running);
    await sleep(10);
    running -= 1;
    return value;
  };
  const promises = [1, 2, 3, 4, 5].map((v) => pool.run(job(v)));
  expect(pool.pending).toBe(5);
  expect(pool.active).toBe(2);
  await pool.whenPendingBelow(3);
  expect(pool.pending).toBeLessThan(3);
  expect(await Promise.all(promises)).toEqual([1, 2, 3, 4, 5]);
  await pool.whenIdle();
  expect(pool.pending).toBe(0);
  expect(most).toBe(2);
});

test('a job that throws synchronously rejects its promise and frees its slot', async () => {
  const pool = new WorkerPool(1);
  await expect(
    pool.run(() => {
      throw new Error('sync');
    }),
  ).rejects.toThrow('sync');
  expect(await pool.run(async () => 7)).toBe(7);
});

test('default concurrency is one per CPU', () => {
  expect(defaultConcurrency()).toBeGreaterThanOrEqual(1);
  expect(() => new WorkerPool(0)).toThrow(RangeError);
});
