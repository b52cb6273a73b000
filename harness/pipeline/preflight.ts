// preflight -- before a run spends its time on crash images, check that it
// can mean something: the program wrote its PM file inside its regions, and
// the recovery and check pass on the two images no crash produced (the file
// as the first region found it, and as the program left it). A check that
// fails there would turn every crash point red, k = 0 included, as if the
// program were broken; a program that never writes the PM file would pass
// green without testing anything. Either is the setup's fault: exit 2.

import * as fs from 'fs';
import { PmfitError, usageError } from '../_internals/errors';
import { tempDir } from '../_internals/temp-root';
import { OpWindows } from '../check/allowed-states';
import { CommandNotRunError } from '../check/command-not-run';
import { opsDoneEnv } from '../check/ops-done-env';
import { recoveredVerdict, recoverImage } from '../check/recover-image';
import { referenceStates, type TargetSpec } from '../check/spec';
import { describeVerdict, isViolation } from '../check/verdict';
import type { ImagePatch } from '../image/image-patch';
import { crashStates } from '../persistency/model';
import { EventKind } from '../trace/event';
import type { TraceReader } from '../trace/format';

/** writesPm -- does the trace hold a store or write to a PM file? */
function writesPm(reader: TraceReader): boolean {
  for (const event of reader.events()) {
    if (event.kind === EventKind.Store || event.kind === EventKind.NtStore || event.kind === EventKind.Write)
      return true;
  }
  return false;
}

/** uncrashedImages -- the image at k = 0 and at k = N (a crash at N leaves
 *  every write: the sequential model's last state). */
function uncrashedImages(reader: TraceReader): { initial: ImagePatch; final: ImagePatch } {
  const trace = {
    images: reader.images(),
    events: { [Symbol.iterator]: () => reader.events() },
    instructions: reader.header.instructions,
  };
  let initial: ImagePatch | undefined;
  let final: ImagePatch | undefined;
  for (const group of crashStates('sequential', trace)) {
    if (!initial) initial = group.states[0].patch();
    if (group.last === reader.header.instructions) final = group.states[0].patch();
  }
  if (!initial || !final) throw new PmfitError('the trace has no crash points');
  return { initial, final };
}

export async function preflight(spec: TargetSpec, reader: TraceReader, timeoutMs: number): Promise<void> {
  const { header } = reader;
  if (!writesPm(reader)) {
    const where = spec.functions ? `calls of ${spec.functions.join(', ')}` : 'its regions';
    throw usageError(
      `the program never wrote the PM file ${spec.pmFiles.join(', ')} in ${where} (${header.regions.length} region${header.regions.length === 1 ? '' : 's'}, ${header.instructions} instructions): check --pm, the markers or --function`,
    );
  }
  const windows = new OpWindows(header.regions, referenceStates(spec, header.regions));
  const { initial, final } = uncrashedImages(reader);
  for (const [which, image, k] of [
    ['initial', initial, 0],
    ['final', final, header.instructions],
  ] as const) {
    const dir = tempDir(`${spec.name}-preflight`);
    const named = `the ${which} image, ${which === 'initial' ? 'as the first region found it' : 'as the program left it'}`;
    try {
      const window = windows.windowAt(k);
      const result = await recoverImage(spec, image, dir, timeoutMs, spec.windowEnv ? opsDoneEnv(window) : {}).catch(
        (error: unknown) => {
          throw error instanceof CommandNotRunError ? error.onImage(`an uncrashed file (${named})`) : error;
        },
      );
      const verdict = recoveredVerdict(spec, result, window.allowed);
      if (isViolation(verdict)) {
        // One line (errors.ts): the output's last line, where a failing
        // check says why.
        const output = verdict.kind === 'ok' ? [] : verdict.output.split('\n').filter((line) => line.trim() !== '');
        const last = output.length > 0 ? `: ${output[output.length - 1].trim()}` : '';
        throw usageError(`your check fails on an uncrashed file (${named}): ${describeVerdict(verdict)}${last}`);
      }
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }
}
