// worker-pool -- bounded concurrency for async jobs (recovery processes).
//
// Default: one job per CPU (os.availableParallelism()). Results keep the order
// of the jobs. After Ctrl-C / SIGTERM no new job starts: queued jobs reject
// with Interrupted, running ones finish (their processes were killed by the
// interrupt cleanup).

import * as os from 'os';

import { Interrupted, interruptSignal } from '../_internals/interrupt';

export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism());
}

function interruptedError(): Interrupted | undefined {
  const signal = interruptSignal();
  return signal ? new Interrupted(signal) : undefined;
}

/** WorkerPool -- at most `concurrency` jobs run at once; the rest wait in
 *  submission order. */
export class WorkerPool {
  readonly concurrency: number;
  private running = 0;
  private readonly queue: Array<() => void> = [];
  private readonly listeners: Array<() => void> = [];

  constructor(concurrency: number = defaultConcurrency()) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, not ${concurrency}`);
    }
    this.concurrency = concurrency;
  }

  /** Jobs running or waiting for a slot. */
  get pending(): number {
    return this.running + this.queue.length;
  }

  get active(): number {
    return this.running;
  }

  /** run -- run `job` when a slot is free. */
  run<R>(job: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const start = (): void => {
        const interrupted = interruptedError();
        if (interrupted) {
          reject(interrupted);
          this.release();
          return;
        }
        let promise: Promise<R>;
        try {
          promise = job();
        } catch (error) {
          promise = Promise.reject(error);
        }
        promise.then(resolve, reject).finally(() => this.release());
      };
      if (this.running < this.concurrency) {
        this.running += 1;
        start();
      } else {
        this.queue.push(() => start());
      }
    });
  }

  /** whenPendingBelow -- resolves once fewer than `limit` jobs are pending. */
  async whenPendingBelow(limit: number): Promise<void> {
    while (this.pending >= Math.max(1, limit)) {
      await new Promise<void>((resolve) => this.listeners.push(resolve));
    }
  }

  /** whenIdle -- resolves once no job is running or waiting. */
  whenIdle(): Promise<void> {
    return this.whenPendingBelow(1);
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) {
      next(); // the slot passes to the next job
    } else {
      this.running -= 1;
    }
    for (const listener of this.listeners.splice(0)) listener();
  }
}

/** mapPool -- run `worker` on every item with bounded concurrency; results in
 *  the order of the items. Items are pulled from the iterable only when a
 *  slot is free. On the first failure, or on an interrupt, no further item
 *  starts; the running ones are awaited and then the failure (or Interrupted)
 *  is thrown. */
export async function mapPool<T, R>(
  items: Iterable<T>,
  worker: (item: T, index: number) => Promise<R>,
  options: { concurrency?: number } = {},
): Promise<R[]> {
  const concurrency = options.concurrency ?? defaultConcurrency();
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, not ${concurrency}`);
  }
  const results: R[] = [];
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  let index = 0;

  const lane = async (): Promise<void> => {
    for (;;) {
      if (failure) return;
      const interrupted = interruptedError();
      if (interrupted) {
        failure = { error: interrupted };
        return;
      }
      let next: IteratorResult<T>;
      try {
        next = iterator.next();
      } catch (error) {
        failure = { error };
        return;
      }
      if (next.done) return;
      const mine = index;
      index += 1;
      try {
        results[mine] = await worker(next.value, mine);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, () => lane()));
  if (failure) throw failure.error;
  return results;
}
