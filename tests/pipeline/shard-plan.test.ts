// shard-plan.test -- every distinct image goes to exactly one shard, the same
// one in every shard's plan, balanced by weight, with loads running on
// across targets.

import { imageWeight, ShardPlan } from '../../harness/pipeline/shard-plan';

const hashes = (n: number, prefix = 'h'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${((i * 2654435761) % 2 ** 32).toString(16)}`);

/** owner -- the shard (1-based) each hash goes to, by asking every shard's plan. */
function owners(count: number, targets: Map<string, number>[]): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (let index = 1; index <= count; index++) {
    const plan = new ShardPlan(index, count);
    for (const images of targets) {
      const mine = plan.assign(images);
      for (const hash of images.keys()) if (mine(hash)) found.set(hash, [...(found.get(hash) ?? []), index]);
    }
  }
  return found;
}

describe('ShardPlan', () => {
  it('gives each image to exactly one shard', () => {
    const images = new Map(hashes(101).map((hash) => [hash, 1]));
    const found = owners(4, [images]);
    expect(found.size).toBe(101);
    for (const shards of found.values()) expect(shards).toHaveLength(1);
    const sizes = [1, 2, 3, 4].map((i) => [...found.values()].filter(([s]) => s === i).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('balances by weight, not by count', () => {
    // One heavy image and many light ones: the heavy one's shard gets fewer.
    const images = new Map<string, number>([['heavy', 10], ...hashes(20).map((hash): [string, number] => [hash, 1])]);
    const found = owners(2, [images]);
    const [heavyShard] = found.get('heavy')!;
    const loads = [1, 2].map((i) =>
      [...found].filter(([, [s]]) => s === i).reduce((sum, [hash]) => sum + images.get(hash)!, 0),
    );
    expect(loads).toEqual([15, 15]);
    expect([...found.values()].filter(([s]) => s === heavyShard)).toHaveLength(6);
  });

  it('does not depend on the order images are met', () => {
    const list = hashes(50);
    const forward = owners(3, [new Map(list.map((hash) => [hash, 1]))]);
    const backward = owners(3, [new Map([...list].reverse().map((hash) => [hash, 1]))]);
    expect([...backward].sort()).toEqual([...forward].sort());
  });

  it('runs the loads on across targets', () => {
    // Three targets of one image each over three shards: one image each,
    // not all three on shard 1.
    const targets = ['a', 'b', 'c'].map((name) => new Map([[name, 1]]));
    const found = owners(3, targets);
    expect(['a', 'b', 'c'].map((name) => found.get(name)![0]).sort()).toEqual([1, 2, 3]);
  });

  it('weighs an image by its size', () => {
    expect(imageWeight(0)).toBe(1);
    expect(imageWeight(16 << 20)).toBe(5);
  });
});
