// lint-findings -- the durability lint of a recorded trace
// (durability-lint.ts) as results.json's targets[].lint: each hit at its
// source line (the first frame in the program's own code when stacks are
// known), merged by kind and line.

import type { LintFinding } from '../results/schema';
import type { TraceHeader, TraceReader } from '../trace/format';
import { formatPtr } from '../tracer/remote-ptr';
import { durabilityLint, LintHit, LintKind } from './durability-lint';
import { allowedBy } from './lint-allowed';
import { siteLocator, StackSource } from './find-findings';
import { nameSiteThreads } from './site-threads';
import { actingFrame, addExcerpt, isSystem, siteLocation } from './site-locations';

const SEVERITY: Record<LintKind, LintFinding['severity']> = {
  'not-durable': 'warning',
  'unfenced-flush': 'warning',
  'redundant-flush': 'note',
  'empty-fence': 'note',
};

const ROLE: Record<LintKind, string> = {
  'not-durable': 'store',
  'unfenced-flush': 'store',
  'redundant-flush': 'flush',
  'empty-fence': 'fence',
};

function title(kind: LintKind, where: string, count: number): string {
  const times = count === 1 ? '' : ` (${count} times)`;
  switch (kind) {
    case 'not-durable':
      return `store at ${where} not durable when its operation ended${times}`;
    case 'unfenced-flush':
      return `store at ${where} flushed but not fenced before its operation ended${times}`;
    case 'redundant-flush':
      return `flush at ${where} of a line with nothing new since its last flush${times}`;
    case 'empty-fence':
      return `fence at ${where} with no flush or non-temporal store pending${times}`;
  }
}

/** lintHits -- the lint of a recorded trace, per instruction. */
export function lintHits(header: TraceHeader, reader: TraceReader): LintHit[] {
  return durabilityLint(reader.events(), header.regions, (address) =>
    /^\s*[sm]fence\b/.test(header.addresses[formatPtr(address)]?.text ?? 'sfence'),
  );
}

/** lintFindings -- the hits located (with their stacks when given) and
 *  merged by kind and source line. */
export async function lintFindings(
  target: string,
  context: {
    header: TraceHeader;
    reader: TraceReader;
    stacks?: StackSource;
    /** The target's allowNotDurable entries (lint-allowed.ts). */
    allowNotDurable?: readonly string[];
  },
  hits: readonly LintHit[],
): Promise<LintFinding[]> {
  const { header } = context;
  const locate = await siteLocator(context, hits);
  const merged = new Map<string, LintFinding>();
  const sources = new Map<string, string[] | null>();
  for (const found of hits) {
    const site = locate(ROLE[found.kind], found.address, found.index);
    const key = `${found.kind} ${siteLocation(site)}`;
    const known = merged.get(key);
    if (known) {
      known.count += found.count;
      known.title = title(found.kind, siteLocation(known.site), known.count);
      continue;
    }
    addExcerpt(site, sources);
    // Made by a system library (libpmemobj) with no line of the program's
    // own: the library's protocol, which the trace alone cannot judge
    // (libpmemobj leaves some bookkeeping unpersisted on purpose); the
    // recovery checks judge its effects. With a stack, libc's memmove and
    // the persistence helpers act for their caller, which is judged.
    const acting = site.stack ? actingFrame(site.stack) : site;
    merged.set(key, {
      id: '',
      kind: found.kind,
      severity: acting?.file === undefined && isSystem(acting?.module) ? 'note' : SEVERITY[found.kind],
      title: title(found.kind, siteLocation(site), found.count),
      site,
      count: found.count,
    });
  }
  const rank: Record<LintKind, number> = {
    'not-durable': 0,
    'unfenced-flush': 1,
    'redundant-flush': 2,
    'empty-fence': 3,
  };
  nameSiteThreads(
    header,
    () => context.reader.events(),
    [...merged.values()].map((finding) => finding.site),
  );
  for (const finding of merged.values()) {
    const entry = finding.kind === 'not-durable' ? allowedBy(finding.site, context.allowNotDurable ?? []) : undefined;
    if (entry === undefined) continue;
    // Meant so (the target says): kept in the report, as a note.
    finding.severity = 'note';
    finding.allowed = entry;
    finding.title += ` (allowed: ${entry})`;
  }
  return [...merged.values()]
    .sort((a, b) => rank[a.kind] - rank[b.kind] || b.count - a.count)
    .map((finding, i) => ({ ...finding, id: `${target}-lint-${i + 1}` }));
}
