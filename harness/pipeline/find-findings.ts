// find-findings -- a run's violations by cause (docs/findings.md): the
// causes of every violating image (image-causes.ts), their sites located
// in the source with their call stacks, and causes at the same source lines
// merged, so that one bug is one finding whatever the workload's size.

import { collateSpans, mergeSpans, Span } from '../_internals/collate';
import type { BareOutcome } from '../check/runner';
import type { ModelName, ResolvedCrashStateOptions } from '../persistency/model';
import type { Finding, FindingSite, RunResult, StackFrame } from '../results/schema';
import type { LocatedStacks, SiteLines } from '../results/shard-results';
import type { TraceHeader, TraceReader } from '../trace/format';
import { formatPtr } from '../tracer/remote-ptr';
import { Cause, CauseSite, ImageCauses, imageCauses, ImageCausesInput, tolerates } from './image-causes';
import { addExcerpt, isSystem, locateFrames, RawFrame, siteAt, siteLocation } from './site-locations';
import { nameSiteThreads } from './site-threads';

/** The call stacks at some instruction indices of the workload
 *  (stacks-at.ts), innermost frame first; indices not unwound are absent. */
export type StackSource = ReadonlyMap<number, readonly RawFrame[]>;

export interface FindingsContext {
  header: TraceHeader;
  reader: TraceReader;
  model: ModelName;
  modelOptions: ResolvedCrashStateOptions;
  /** The model's check outcomes (a CheckReport's, or pmfit merge's of its
   *  shards'); findings read only their verdicts' kinds. */
  report: { outcomes: readonly BareOutcome[] };
  /** The line that reproduces finding `id`, whose example is crash point k. */
  reproduce(id: string, k: number): string;
  stacks?: StackSource;
  /** The stacks as the shards located them (pmfit merge), instead of
   *  `stacks`, with the excerpts of the lines they place sites at. */
  located?: LocatedStacks;
  /** The sites' source lines as a shard located them (pmfit merge);
   *  otherwise located here in the trace's modules and source files. */
  sites?: SiteLines;
  /** Store addresses the accepted images of other models show missing
   *  after their operation ended (image-causes.ts). */
  tolerated?: ReadonlySet<number>;
}

/** causeInput -- what image-causes reads of one model's run. */
export function causeInput(
  context: Pick<FindingsContext, 'reader' | 'header' | 'model' | 'modelOptions' | 'report'>,
): ImageCausesInput {
  const { reader, header } = context;
  return {
    model: context.model,
    trace: {
      images: reader.images(),
      events: { [Symbol.iterator]: () => reader.events() },
      instructions: header.instructions,
    },
    regions: header.regions,
    modelOptions: context.modelOptions,
    // A recovery that is not crash-safe (--depth 2) is the recovery's bug,
    // not a store of the workload: left to its own group.
    outcomes: context.report.outcomes.filter((outcome) => outcome.verdict.kind !== 'recovery-not-crash-safe'),
  };
}

/** Other sites (earlier stores not yet durable, closing stores) listed per finding. */
const MAX_SECONDARY = 4;

/** findingCauses -- the causes of a run's violating images (image-causes.ts). */
export function findingCauses(context: FindingsContext): ImageCauses {
  return imageCauses({ ...causeInput(context), tolerated: context.tolerated });
}

/** findFindings -- a run's findings from its causes (findingCauses, found
 *  here when not given), with the stacks of `context.stacks`. */
export async function findFindings(run: RunResult, context: FindingsContext, found?: ImageCauses): Promise<void> {
  if (run.violations === 0) return;
  const { causes, unexamined } = found ?? findingCauses(context);
  const locate = await siteLocator(
    context,
    causes.flatMap((cause) => cause.sites),
  );
  const sources = new Map<string, string[] | null>();
  const merged = mergeCauses(causes, locate);
  nameSiteThreads(
    context.header,
    () => context.reader.events(),
    merged.flatMap((finding) => finding.sites),
  );
  run.findings = merged.map((finding, i) => {
    finding.sites.forEach((site) => siteExcerpt(site, context, sources));
    const id = `${run.target}-${run.model}-f${i + 1}`;
    return { ...finding, id, example: { ...finding.example, reproduce: context.reproduce(id, finding.example.k) } };
  });
  if (unexamined > 0) run.findingsUnexamined = unexamined;
}

/** Accepted images examined per model for tolerated stores. */
const MAX_TOLERATED_EXAMINED = 100_000;

/** targetFindings -- the findings of every model's run of one target, by
 *  allcounts and by pmfit merge alike: what one model's accepted images
 *  show tolerated helps read another's violations (docs/findings.md), so
 *  the tolerated stores of every run with violations are found first.
 *  `stacksFor` unwinds the sites of every run's causes at once (allcounts:
 *  one more run of the workload, stacks-at.ts). */
export async function targetFindings(
  runs: readonly { run: RunResult; context: Omit<FindingsContext, 'tolerated' | 'stacks' | 'located'> }[],
  stacksFor?: (sites: readonly CauseSite[]) => Promise<Pick<FindingsContext, 'stacks' | 'located'> | undefined>,
): Promise<void> {
  const tolerated = new Set<number>();
  for (const { run, context } of runs) {
    if (run.violations === 0) continue;
    for (const address of tolerates(causeInput(context), context.report.outcomes, MAX_TOLERATED_EXAMINED))
      tolerated.add(address);
  }
  const found = runs.map(({ run, context }) =>
    run.violations > 0 ? findingCauses({ ...context, tolerated }) : undefined,
  );
  const stacks = await stacksFor?.(found.flatMap((causes) => causes?.causes.flatMap((cause) => cause.sites) ?? []));
  for (const [i, { run, context }] of runs.entries())
    await findFindings(run, { ...context, tolerated, ...stacks }, found[i]);
}

/** siteExcerpt -- a site's source excerpt: in a merge, from the shards'
 *  lines when the site is where they place its address, or where its
 *  stack places it; otherwise read from the file. */
function siteExcerpt(
  site: FindingSite,
  context: Pick<FindingsContext, 'sites' | 'located'>,
  sources: Map<string, string[] | null>,
): void {
  const lines = context.sites;
  const known = lines?.[site.address];
  if (!lines) addExcerpt(site, sources);
  else if (known?.excerpt && known.file === site.file && known.line === site.line) site.excerpt = known.excerpt;
  else if (site.file !== undefined) {
    const excerpt = context.located?.excerpts[`${site.file}:${site.line}`];
    if (excerpt) site.excerpt = excerpt;
  }
}

type Locate = (role: string, address: number, index: number) => FindingSite;

/** siteLocator -- source lines (and stacks, when a StackSource is given)
 *  of the sites, one addr2line per module. */
export async function siteLocator(
  context: { header: TraceHeader; stacks?: StackSource; located?: LocatedStacks; sites?: SiteLines },
  sites: readonly { address: number; index: number }[],
): Promise<Locate> {
  const { header } = context;
  const byAddress = new Map<number, number>();
  for (const site of sites) if (!byAddress.has(site.address)) byAddress.set(site.address, site.index);
  const own: RawFrame[] = [...byAddress.keys()].flatMap((address) => {
    const info = header.addresses[formatPtr(address)];
    return info ? [{ address, module: info.module, offset: info.offset, symbol: info.symbol }] : [];
  });
  const table = context.sites;
  const located: StackFrame[] = table
    ? own.map((frame) => {
        const entry = table[formatPtr(frame.address)];
        return { address: formatPtr(frame.address), ...(entry ? { file: entry.file, line: entry.line } : {}) };
      })
    : await locateFrames(own);
  const lines = new Map<number, StackFrame>(own.map((frame, i) => [frame.address, located[i]]));
  const stacks = new Map<number, StackFrame[]>();
  if (context.stacks) {
    const unwound = [...byAddress].flatMap(([address, index]) => {
      const frames = context.stacks?.get(index);
      return frames && frames.length > 0 && frames[0].address === address ? [{ address, frames }] : [];
    });
    // One addr2line per module for every frame of every stack.
    const located = await locateFrames(unwound.flatMap((stack) => stack.frames));
    let at = 0;
    for (const { address, frames } of unwound) {
      stacks.set(address, located.slice(at, at + frames.length));
      at += frames.length;
    }
  } else if (context.located) {
    for (const [address, index] of byAddress) {
      const frames = context.located.stacks.get(index);
      if (frames && frames.length > 0 && frames[0].address === formatPtr(address)) stacks.set(address, [...frames]);
    }
  }
  return (role, address, index) => {
    const line = lines.get(address);
    return siteAt(
      role,
      address,
      byAddress.get(address) ?? index,
      header.addresses[formatPtr(address)],
      stacks.get(address),
      line?.file !== undefined ? { file: line.file, line: line.line as number } : undefined,
    );
  };
}

/** The site a cause blames: the store a fix must move, persist or hold back. */
const CULPRIT: Record<Cause['kind'], string> = {
  ordering: 'durable-first',
  'not-durable': 'never-durable',
  atomicity: 'opens',
};

/** culpritOf -- the site a cause blames. An atomicity cause brackets the
 *  bug between the store that opens the violating crash points and the one
 *  that closes them; the opening store is blamed (the early link), unless
 *  it is a system library's store and the closing one the program's own:
 *  a library's store (libpmemobj's commit) is its protocol at work, and the
 *  program's store on the other side is the one to move (txmap_broken_late's
 *  value, stored after the commit). */
function culpritOf(kind: Cause['kind'], sites: readonly FindingSite[]): FindingSite | undefined {
  const blamed = sites.find((site) => site.role === CULPRIT[kind]);
  if (kind !== 'atomicity') return blamed;
  const closes = sites.find((site) => site.role === 'closes');
  if (closes && !isSystem(closes.module) && (!blamed || isSystem(blamed.module))) return closes;
  return blamed;
}

interface Building {
  /** Images per kind: the finding's kind is the one with the most. */
  kinds: Map<Cause['kind'], number>;
  culprit: FindingSite | undefined;
  others: Map<string, { site: FindingSite; images: number }>;
  spans: Span[];
  hashes: Set<string>;
  example: { k: number; hash: string };
}

/** mergeCauses -- one finding per culprit's source location: the causes an
 *  early link gives (durable before the node it points to under flushed,
 *  a crash between link and activation under every model) are one bug. */
export function mergeCauses(causes: readonly Cause[], locate: Locate): Omit<Finding, 'id'>[] {
  const building = new Map<string, Building>();
  // Atomicity last: one that closes at another finding's culprit (a crash
  // before the late store at line L violates, and L is never durable) is
  // that finding's.
  const ordered = [...causes].sort((a, b) => Number(a.kind === 'atomicity') - Number(b.kind === 'atomicity'));
  for (const cause of ordered) {
    const sites = cause.sites.map((site) => locate(site.role, site.address, site.index));
    const closes = sites.find((site) => site.role === 'closes');
    const joins = closes && building.get(siteLocation(closes));
    const culprit =
      cause.kind === 'atomicity' && joins && !joins.kinds.has('atomicity') ? closes : culpritOf(cause.kind, sites);
    const key = culprit ? siteLocation(culprit) : `${cause.kind} without a culprit`;
    let entry = building.get(key);
    if (!entry) {
      entry = { kinds: new Map(), culprit, others: new Map(), spans: [], hashes: new Set(), example: cause.example };
      building.set(key, entry);
    }
    entry.kinds.set(cause.kind, (entry.kinds.get(cause.kind) ?? 0) + cause.hashes.size);
    // A site at the culprit's own line (the not-durable store that also
    // closes the atomicity window) says nothing the culprit does not.
    const at = culprit && siteLocation(culprit);
    for (const site of sites.filter((candidate) => candidate !== culprit && siteLocation(candidate) !== at)) {
      const where = `${site.role} ${siteLocation(site)}`;
      const known = entry.others.get(where);
      if (known) known.images += cause.hashes.size;
      else entry.others.set(where, { site, images: cause.hashes.size });
    }
    entry.spans.push(...cause.spans);
    for (const hash of cause.hashes) entry.hashes.add(hash);
    if (cause.example.k < entry.example.k) entry.example = cause.example;
  }
  const findings = [...building.values()].map((entry) => {
    const spans = mergeSpans(entry.spans);
    const kind = [...entry.kinds].sort((a, b) => b[1] - a[1])[0][0];
    const others = [...entry.others.values()]
      .sort((a, b) => b.images - a.images)
      .slice(0, MAX_SECONDARY)
      .map((item) => item.site);
    const sites = entry.culprit ? [entry.culprit, ...others] : others;
    return {
      kind,
      title: findingTitle(kind, sites),
      sites,
      crashPoints: collateSpans(spans),
      count: spans.reduce((sum, span) => sum + span.last - span.first + 1, 0),
      images: entry.hashes.size,
      example: { ...entry.example, reproduce: '' },
    };
  });
  // A store not durable at its operation's end, then one durable too early,
  // name a fix directly; an atomicity reading only brackets it.
  const rank: Record<Cause['kind'], number> = { 'not-durable': 0, ordering: 1, atomicity: 2 };
  findings.sort((a, b) => rank[a.kind] - rank[b.kind] || b.images - a.images || a.example.k - b.example.k);
  return findings;
}

function findingTitle(kind: Cause['kind'], sites: readonly FindingSite[]): string {
  const at = (role: string) => {
    const site = sites.find((candidate) => candidate.role === role);
    return site ? siteLocation(site) : undefined;
  };
  switch (kind) {
    case 'ordering': {
      const earlier = at('not-yet-durable');
      return `store at ${at('durable-first')} became durable before ${earlier ? `the earlier store at ${earlier}` : 'an earlier store'}`;
    }
    case 'not-durable':
      return `store at ${at('never-durable')} was not durable when its operation ended`;
    case 'atomicity': {
      const opens = at('opens');
      const closes = at('closes');
      return (
        `a crash ${opens ? `after the store at ${opens}` : 'in the operation'}` +
        `${closes ? ` and before the store at ${closes}` : ''} leaves a state recovery does not accept`
      );
    }
  }
}
