// recovery-cache -- what is known about crash images, by content hash, so that
// an image met again (at another crash point, in another operation window, or
// from another persistency model) is recovered only once.
//
// - failures: recoveries that crashed, timed out, exited non-zero or lost a
//   PM file; the verdict does not depend on the window, so it is kept for good.
// - recovered files of successful recoveries, in an LRU bounded by total bytes
//   (default 256 MiB): a hit only re-runs the spec's cheap check; a miss
//   recovers the image again.
// - verdicts by (window, hash), so a repeat in the same window costs nothing.
//
// One cache belongs to one target spec and one trace (the same regions):
// share it between the models of a run, never between targets.

import type { Verdict } from './verdict';

export const defaultMaxRecoveredBytes = 256 * 1024 * 1024;

export interface Recovered {
  /** Recovered PM files, in the order of the spec's pmFiles. */
  files: Buffer[];
  /** Stdout of the recovery commands (the check's recoveryOutput). */
  stdout: string;
  /** Combined stdout+stderr, bounded (for verdicts). */
  output: string;
}

export type RecoveryResult = { kind: 'recovered'; recovered: Recovered } | { kind: 'failed'; verdict: Verdict };

function sizeOf(recovered: Recovered): number {
  let size = recovered.stdout.length + recovered.output.length;
  for (const file of recovered.files) size += file.length;
  return size;
}

export class RecoveryCache {
  readonly maxRecoveredBytes: number;
  private readonly recovered = new Map<string, { value: Recovered; size: number }>();
  private recoveredBytes = 0;
  /** Recoveries that failed, by hash. */
  readonly failures = new Map<string, Verdict>();
  /** Verdicts by verdictKey(window, hash). */
  readonly verdicts = new Map<string, Verdict>();
  /** Recoveries running now, by hash (shared by concurrent callers). */
  readonly inflight = new Map<string, Promise<RecoveryResult>>();
  /** Totals over the cache's life. */
  recoveryRuns = 0;
  checks = 0;

  constructor(options: { maxRecoveredBytes?: number } = {}) {
    this.maxRecoveredBytes = options.maxRecoveredBytes ?? defaultMaxRecoveredBytes;
  }

  static verdictKey(windowKey: string, hash: string): string {
    return `${windowKey}\n${hash}`;
  }

  /** getRecovered -- the recovered files of `hash`, if still kept. */
  getRecovered(hash: string): Recovered | undefined {
    const entry = this.recovered.get(hash);
    if (!entry) return undefined;
    this.recovered.delete(hash);
    this.recovered.set(hash, entry); // most recently used last
    return entry.value;
  }

  putRecovered(hash: string, value: Recovered): void {
    const size = sizeOf(value);
    const old = this.recovered.get(hash);
    if (old) {
      this.recovered.delete(hash);
      this.recoveredBytes -= old.size;
    }
    if (size > this.maxRecoveredBytes) return;
    this.recovered.set(hash, { value, size });
    this.recoveredBytes += size;
    for (const [oldest, entry] of this.recovered) {
      if (this.recoveredBytes <= this.maxRecoveredBytes) break;
      this.recovered.delete(oldest);
      this.recoveredBytes -= entry.size;
    }
  }

  get keptBytes(): number {
    return this.recoveredBytes;
  }

  get keptImages(): number {
    return this.recovered.size;
  }
}
