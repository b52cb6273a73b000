// site-lines -- the source line and excerpt of every instruction that wrote
// PM in a trace, located as findings locate their sites (site-locations.ts).
// `allcounts --shard` writes them into pmfit-shard.json: the merge may run
// where the program was not built (a CI merge job), and must place the
// findings where the shards' build places them.

import type { FindingSite } from '../results/schema';
import type { SiteLines } from '../results/shard-results';
import type { TraceHeader, TraceReader } from '../trace/format';
import { formatPtr } from '../tracer/remote-ptr';
import { addExcerpt, locateFrames, type RawFrame } from './site-locations';

export async function siteLines(header: TraceHeader, reader: TraceReader): Promise<SiteLines> {
  const addresses = new Set<number>();
  for (const event of reader.events()) if (event.data !== undefined) addresses.add(event.address);
  const frames: RawFrame[] = [...addresses].flatMap((address) => {
    const info = header.addresses[formatPtr(address)];
    return info ? [{ address, module: info.module, offset: info.offset, symbol: info.symbol }] : [];
  });
  const located = await locateFrames(frames);
  const sources = new Map<string, string[] | null>();
  const lines: SiteLines = {};
  for (const frame of located) {
    if (frame.file === undefined || frame.line === undefined) continue;
    const site: FindingSite = { role: '', index: 0, address: frame.address, file: frame.file, line: frame.line };
    addExcerpt(site, sources);
    lines[frame.address] = { file: frame.file, line: frame.line, ...(site.excerpt ? { excerpt: site.excerpt } : {}) };
  }
  return lines;
}
