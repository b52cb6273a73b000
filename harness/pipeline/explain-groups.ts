// explain-groups -- what a person needs to see of a violation group: the
// instruction the crash interrupted (disassembly, symbol, source file:line)
// and the PM lines of the crash image that differ from the last guaranteed
// durable state.
//
// The trace records no per-instruction addresses, so the interrupted
// instruction comes from re-running the workload to the group's example
// crash point on a fresh pool; the lines come from walking the trace again to
// that point. Both cost little next to checking and are done for a bounded
// number of groups.

import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../_internals/temp-root';
import { runCommands } from '../check/run-commands';
import type { TargetSpec } from '../check/spec';
import { sourceLines } from '../elf/source-line';
import { crashStates, CrashState, ModelName } from '../persistency/model';
import type { InstructionSite, LineDiff, RunResult } from '../results/schema';
import { decodeInstruction } from '../trace/decode';
import { LINE } from '../trace/event';
import type { TraceHeader, TraceReader } from '../trace/format';
import { formatPtr } from '../tracer/remote-ptr';
import { resolveCommand } from '../tracer/resolve-command';
import { Tracee } from '../tracer/tracee';
import { substitute } from './substitute';

/** Groups explained per run; the rest keep their ranges and output. */
const MAX_EXPLAINED = 12;
/** Differing lines shown per group. */
const MAX_LINES = 8;

export interface ExplainContext {
  spec: TargetSpec;
  header: TraceHeader;
  reader: TraceReader;
  model: ModelName;
  maxStates: number;
  seed: number;
  timeoutMs: number;
}

export async function explainGroups(run: RunResult, context: ExplainContext): Promise<void> {
  const groups = run.groups.filter((group) => group.violation).slice(0, MAX_EXPLAINED);
  for (const group of groups) {
    group.example.next = await interruptedInstruction(context, group.example.k);
    group.example.lines = differingLines(context, group.example.k, group.example.hash);
  }
}

/** interruptedInstruction -- re-run to crash point k and look at rip. */
async function interruptedInstruction(context: ExplainContext, k: number): Promise<InstructionSite | undefined> {
  const { spec } = context;
  const work = tempDir(`${spec.name}-explain`);
  const setup = await runCommands(spec.setup, work, { timeoutMs: context.timeoutMs, env: spec.env, files: spec.pmFiles });
  if (setup.kind !== 'ok') return undefined;
  const devNull = fs.openSync('/dev/null', 'w');
  let tracee: Tracee;
  try {
    tracee = Tracee.start({
      command: resolveCommand(substitute(spec.workload, work)),
      functionName: spec.functionName,
      cwd: work,
      env: { ...process.env, ...spec.env, ...spec.workload.env },
      stdoutFd: devNull,
      stderrFd: devNull,
    });
  } finally {
    fs.closeSync(devNull);
  }
  try {
    const end = await tracee.run({ stopAt: k, timeoutMs: context.timeoutMs });
    if (end.kind !== 'stopAt') return undefined;
    const where = tracee.locate(end.address);
    const site: InstructionSite = {
      address: formatPtr(end.address),
      module: where.module,
      ...(where.symbol ? { symbol: `${where.symbol}+0x${(where.symbolOffset ?? 0).toString(16)}` } : {}),
    };
    try {
      site.text = decodeInstruction(tracee.task.readMemory(end.address, 16), end.address).text;
    } catch {
      // undecodable bytes: the site still has its address and symbol
    }
    if (path.isAbsolute(where.module)) {
      const source = (await sourceLines(where.module, [where.offset])).get(where.offset);
      if (source) Object.assign(site, { file: path.normalize(source.file), line: source.line });
    }
    return site;
  } catch {
    return undefined;
  } finally {
    tracee.kill();
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** differingLines -- the example image against the guaranteed-durable image
 *  at k (px86's all-oldest state: every line at its last guaranteed version). */
function differingLines(context: ExplainContext, k: number, hash: string): LineDiff[] | undefined {
  const { reader, header } = context;
  const trace = () => ({
    images: reader.images(),
    events: { [Symbol.iterator]: () => reader.events() },
    instructions: header.instructions,
  });
  const imageAt = (model: ModelName, pick: (states: CrashState[]) => Uint8Array[] | undefined) => {
    for (const group of crashStates(model, trace(), { maxStates: Math.max(2, context.maxStates), seed: context.seed })) {
      if (group.first <= k && k <= group.last) return pick(group.states);
    }
    return undefined;
  };
  const image = imageAt(context.model, (states) => states.find((state) => state.hash === hash)?.materialize());
  const durable = imageAt('px86', (states) => states.find((state) => state.describe().every((choice) => choice.version === 0))?.materialize());
  if (!image || !durable) return undefined;
  const diffs: LineDiff[] = [];
  image.forEach((file, fileId) => {
    for (let offset = 0; offset < file.length && diffs.length < MAX_LINES; offset += LINE) {
      const now = file.subarray(offset, offset + LINE);
      const then = durable[fileId].subarray(offset, offset + LINE);
      if (!Buffer.from(now).equals(Buffer.from(then))) {
        diffs.push({ file: context.spec.pmFiles[fileId] ?? header.files[fileId].path, offset, durable: hex(then), image: hex(now) });
      }
    }
  });
  return diffs;
}
