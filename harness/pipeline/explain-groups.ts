// explain-groups -- what a person needs to see of a violation group: the
// instruction the crash interrupted (disassembly, symbol, source file:line)
// and the PM lines of the crash image that differ from the last guaranteed
// durable state.
//
// The trace records no per-instruction addresses, so the interrupted
// instructions (and their call stacks, when libdw is there) come from one
// more run of the workload on a fresh pool,
// stopped at each example crash point in turn; the lines come from one more
// walk of the trace per model. Both cost little next to checking and are done
// for a bounded number of groups.

import * as path from 'path';
import type { TargetSpec } from '../check/spec';
import { sourceLines } from '../elf/source-line';
import type { ImagePatch } from '../image/image-patch';
import { crashStates, CrashState, ModelName, type ResolvedCrashStateOptions } from '../persistency/model';
import type { InstructionSite, LineDiff, RunResult } from '../results/schema';
import { MAX_EXPLAINED_GROUPS } from '../results/shard-results';
import { decodeInstruction } from '../record/decode';
import { LINE } from '../trace/event';
import type { TraceHeader, TraceReader } from '../trace/format';
import { formatPtr } from '../tracer/remote-ptr';
import { Tracee } from '../tracer/tracee';
import { replayStops } from './_internals/replay-workload';
import { locateFrames, ownFrame, type RawFrame } from './site-locations';
import { stacksRefused, unwindHere } from './stacks-at';
import { severalThreads } from './site-threads';

/** Groups explained per run; the rest keep their ranges and output. */
const MAX_EXPLAINED = MAX_EXPLAINED_GROUPS;
/** Differing lines shown per group. */
const MAX_LINES = 8;

export interface ExplainContext {
  spec: TargetSpec;
  header: TraceHeader;
  reader: TraceReader;
  model: ModelName;
  modelOptions: ResolvedCrashStateOptions;
  timeoutMs: number;
}

export async function explainGroups(run: RunResult, context: ExplainContext): Promise<void> {
  const groups = run.groups.filter((group) => group.violation).slice(0, MAX_EXPLAINED);
  if (groups.length === 0) return;
  const sites = await interruptedInstructions(
    context,
    groups.map((group) => group.example.k),
  );
  const images = imagesAt(
    context,
    context.model,
    groups.map((group) => group.example),
    (state, hash) => state.hash === hash,
  );
  const durable = imagesAt(
    context,
    'px86',
    groups.map((group) => group.example),
    (state) => state.describe().every((choice) => choice.version === 0),
  );
  groups.forEach((group, i) => {
    group.example.next = sites.get(group.example.k);
    const image = images[i];
    const then = durable[i];
    if (image && then) group.example.lines = differingLines(context, image, then);
  });
}

/** interruptedInstructions -- one run of the workload, stopped at each crash
 *  point in turn: rip there is the instruction the crash interrupted, and
 *  the stack there its call stack (when libdw is there: stacks-at.ts), so
 *  that an instruction inside memmove or a flush helper is shown at the
 *  program's own line as a finding's site is. */
async function interruptedInstructions(context: ExplainContext, ks: number[]): Promise<Map<number, InstructionSite>> {
  const sites = new Map<number, InstructionSite>();
  const unwind = stacksRefused() === undefined;
  const stacks = new Map<number, RawFrame[]>();
  const replayed = await replayStops(
    context.spec,
    context.header,
    'explain',
    context.timeoutMs,
    ks,
    async (end, tracee) => {
      const site = await describeSite(tracee, end.address);
      if (severalThreads(context.header)) site.thread = end.thread;
      sites.set(end.index, site);
      const stack = unwind ? unwindHere(tracee) : undefined;
      if (stack && stack.length > 0 && stack[0].address === end.address) stacks.set(end.index, stack);
      return 'next' as const;
    },
  );
  if (replayed.kind === 'failed') return new Map();
  await addStacks(sites, stacks);
  return sites;
}

/** addStacks -- each site's stack located (one addr2line per module for
 *  all of them), and its file and line those of the stack's own frame,
 *  as a finding's site has them (site-locations.ts). */
async function addStacks(sites: Map<number, InstructionSite>, stacks: Map<number, RawFrame[]>): Promise<void> {
  const unwound = [...stacks];
  const located = await locateFrames(unwound.flatMap(([, frames]) => frames));
  let at = 0;
  for (const [k, frames] of unwound) {
    const stack = located.slice(at, at + frames.length);
    at += frames.length;
    const site = sites.get(k);
    if (!site) continue;
    site.stack = stack;
    const own = ownFrame(stack);
    if (own?.file !== undefined) Object.assign(site, { file: own.file, line: own.line, frame: stack.indexOf(own) });
  }
}

async function describeSite(tracee: Tracee, address: number): Promise<InstructionSite> {
  const where = tracee.locate(address);
  const site: InstructionSite = {
    address: formatPtr(address),
    module: where.module,
    ...(where.symbol ? { symbol: `${where.symbol}+0x${(where.symbolOffset ?? 0).toString(16)}` } : {}),
  };
  try {
    site.text = decodeInstruction(tracee.task.readMemory(address, 16), address).text;
  } catch {
    // undecodable bytes: the site still has its address and symbol
  }
  if (path.isAbsolute(where.module)) {
    const source = (await sourceLines(where.module, [where.offset])).get(where.offset);
    if (source) Object.assign(site, { file: path.normalize(source.file), line: source.line });
  }
  return site;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** imagesAt -- one walk of the trace under a model: for each example, the
 *  image of the state at its crash point that `pick` chooses. */
function imagesAt(
  context: ExplainContext,
  model: ModelName,
  examples: { k: number; hash: string }[],
  pick: (state: CrashState, hash: string) => boolean,
): (ImagePatch | undefined)[] {
  const { reader, header } = context;
  const found: (ImagePatch | undefined)[] = examples.map(() => undefined);
  const trace = {
    images: reader.images(),
    events: { [Symbol.iterator]: () => reader.events() },
    instructions: header.instructions,
  };
  for (const group of crashStates(model, trace, context.modelOptions)) {
    examples.forEach((example, i) => {
      if (found[i] || example.k < group.first || example.k > group.last) return;
      found[i] = group.states.find((state) => pick(state, example.hash))?.patch();
    });
    if (found.every(Boolean)) break;
  }
  return found;
}

/** differingLines -- the image's lines that differ from the durable image
 *  (px86's all-oldest state: every line at its last guaranteed version).
 *  Both are patches of the trace's initial images, so only the lines either
 *  patch holds can differ. */
function differingLines(context: ExplainContext, image: ImagePatch, durable: ImagePatch): LineDiff[] {
  const diffs: LineDiff[] = [];
  for (let fileId = 0; fileId < image.fileCount; fileId++) {
    const lines = [...new Set([...image.patchedLines(fileId), ...durable.patchedLines(fileId)])].sort((a, b) => a - b);
    for (const line of lines) {
      if (diffs.length >= MAX_LINES) break;
      const now = image.line(fileId, line);
      const then = durable.line(fileId, line);
      if (!Buffer.from(now).equals(Buffer.from(then))) {
        diffs.push({
          file: context.spec.pmFiles[fileId] ?? context.header.files[fileId].path,
          offset: line * LINE,
          durable: hex(then),
          image: hex(now),
        });
      }
    }
  }
  return diffs;
}
