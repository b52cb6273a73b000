// shard-stacks -- the call stacks a shard of `allcounts --shard i/n`
// unwinds for pmfit merge (docs/sharding.md, "Call stacks").
//
// A single run unwinds the stacks of the sites its findings name, in one
// more run of the workload (stacks-at.ts). No shard knows those sites: they
// follow from every crash image's verdict. But every site is an instruction
// that stored to PM (image-causes.ts), and every shard's replay is the same
// run, so the shards split those instructions between them: each unwinds a
// deterministic 1/n of them (every n-th by instruction index, so that a
// run's stores spread evenly) and every lint hit (the lint is each shard's
// own, found on the trace), and carries the stacks located in its build,
// with the excerpts of the lines they place sites at. The merge then has
// every stack the single run could ask for, where the program may be gone.

import type { ShardStacks } from '../results/shard-results';
import type { TraceHeader, TraceReader } from '../trace/format';
import type { TargetSpec } from '../check/spec';
import type { LintHit } from './durability-lint';
import { addExcerpt, locateFrames, ownFrame } from './site-locations';
import { type StackReplay, type StackSite, stacksAt } from './stacks-at';
import type { FindingSite } from '../results/schema';

export interface ShardStackReplay {
  /** The replay, as stacksAt gives it (the shard's own lint uses it). */
  replay: StackReplay;
  /** What the shard file carries. */
  carried: ShardStacks;
}

/** storeSites -- this shard's share of the instructions that stored to PM:
 *  every `count`-th of them by instruction index, from the `index`-th. */
export function storeSites(reader: TraceReader, shard: { index: number; count: number }): StackSite[] {
  const stores = new Map<number, number>();
  for (const event of reader.events())
    if (event.data !== undefined && !stores.has(event.index)) stores.set(event.index, event.address);
  return [...stores]
    .sort(([a], [b]) => a - b)
    .filter((_, position) => position % shard.count === shard.index - 1)
    .map(([index, address]) => ({ index, address }));
}

export async function shardStacks(
  spec: TargetSpec,
  header: TraceHeader,
  reader: TraceReader,
  shard: { index: number; count: number },
  lint: readonly LintHit[],
  timeoutMs: number,
): Promise<ShardStackReplay> {
  const sites: StackSite[] = [...lint, ...storeSites(reader, shard)];
  const replay = await stacksAt(spec, header, sites, timeoutMs);
  if (replay.kind === 'unavailable') return { replay, carried: { kind: 'unavailable', why: replay.why } };
  const indices = [...replay.stacks.keys()].sort((a, b) => a - b);
  const raw = indices.map((index) => replay.stacks.get(index) ?? []);
  // One addr2line per module for every frame of every stack.
  const located = await locateFrames(raw.flat());
  const frames: Extract<ShardStacks, { kind: 'unwound' }> = {
    kind: 'unwound',
    seconds: replay.seconds,
    lint: [...new Set(lint.map((hit) => hit.index))].sort((a, b) => a - b),
    frames: [],
    at: [],
    excerpts: {},
  };
  const known = new Map<string, number>();
  const sources = new Map<string, string[] | null>();
  let from = 0;
  for (const [i, index] of indices.entries()) {
    const stack = located.slice(from, from + raw[i].length);
    from += raw[i].length;
    const key = JSON.stringify(stack);
    let position = known.get(key);
    if (position === undefined) {
      position = frames.frames.length;
      known.set(key, position);
      frames.frames.push(stack);
      // The line the stack places a site at, as a single run reads it.
      const own = ownFrame(stack);
      if (own?.file !== undefined && own.line !== undefined) {
        const site: FindingSite = { role: '', index, address: own.address, file: own.file, line: own.line };
        addExcerpt(site, sources);
        if (site.excerpt) frames.excerpts[`${own.file}:${own.line}`] = site.excerpt;
      }
    }
    frames.at.push([index, position]);
  }
  return { replay, carried: frames };
}
