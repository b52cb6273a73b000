// shard-plan -- which shard of `allcounts --shard i/n` recovers which crash
// image. Recovery is the work (a process per distinct image), so the unit
// is a distinct image (content hash), weighted by an estimate of its
// recovery's cost: one process start, plus writing the image (a unit per
// 4 MiB of PM files). Images are assigned greedily, heaviest first (ties
// by hash), each to the least loaded shard (ties to the lowest index); the
// loads run on across targets in the order they are checked. Every shard
// computes the same plan from the same traces, which `pmfit merge` checks
// through the trace digests.

/** Recovery cost of one image of `pmBytes` bytes, in process starts. */
export function imageWeight(pmBytes: number): number {
  return 1 + pmBytes / (4 << 20);
}

export class ShardPlan {
  /** Estimated work assigned to each shard so far. */
  readonly loads: number[];

  constructor(
    readonly index: number,
    readonly count: number,
  ) {
    this.loads = new Array<number>(count).fill(0);
  }

  /** assign -- split one target's distinct images (hash → weight); returns
   *  whether this shard recovers an image. */
  assign(images: ReadonlyMap<string, number>): (hash: string) => boolean {
    const mine = new Set<string>();
    const order = [...images].sort(([a, wa], [b, wb]) => wb - wa || (a < b ? -1 : a > b ? 1 : 0));
    for (const [hash, weight] of order) {
      let least = 0;
      for (let i = 1; i < this.count; i++) if (this.loads[i] < this.loads[least]) least = i;
      this.loads[least] += weight;
      if (least === this.index - 1) mine.add(hash);
    }
    return (hash) => mine.has(hash);
  }
}
