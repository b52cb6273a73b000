// boundary-outputs -- `--oracle outputs`: the recovery command's output on
// the uncrashed image at every operation boundary, the reference states of
// output equivalence (check/output-oracle.ts).
//
// The boundaries are crash point regions[0].begin (before the first
// operation) and regions[i].end for each operation i (it has returned: its
// last instruction, the call into the end marker, is done). The image there
// is the sequential model's, every store so far: what a program that did not
// crash has in the file. Each is recovered like a crash image (a fresh
// directory named like the runner's, so that outcome-groups' normalization
// of the path applies the same way), told its window; a recovery that fails
// on an uncrashed image would make every crash point red, so it is an
// error (exit 2), as in preflight.

import * as fs from 'fs';
import { usageError } from '../_internals/errors';
import { tempDir } from '../_internals/temp-root';
import { OpWindows } from '../check/allowed-states';
import { opsDoneEnv } from '../check/ops-done-env';
import { normalizeOutput } from '../check/outcome-groups';
import { recoverImage } from '../check/recover-image';
import type { TargetSpec } from '../check/spec';
import { describeVerdict } from '../check/verdict';
import type { ImagePatch } from '../image/image-patch';
import { crashStates } from '../persistency/model';
import type { TraceReader } from '../trace/format';

/** boundaryPoints -- crash point of each boundary: before operation 1, then
 *  after each operation. */
export function boundaryPoints(regions: readonly { begin: number; end: number }[]): number[] {
  if (regions.length === 0) return [0];
  return [regions[0].begin, ...regions.map((region) => region.end)];
}

export async function boundaryOutputs(spec: TargetSpec, reader: TraceReader, timeoutMs: number): Promise<string[]> {
  const { regions } = reader.header;
  const points = boundaryPoints(regions);
  // The outputs become prefix reference states: operations of threads in
  // flight at once are refused here, before any recovery runs.
  let windows: OpWindows;
  try {
    windows = new OpWindows(regions, regions.length === 0 ? [] : points.map(() => ''));
  } catch (error) {
    throw usageError(`target ${spec.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const trace = {
    images: reader.images(),
    events: { [Symbol.iterator]: () => reader.events() },
    instructions: reader.header.instructions,
  };
  const images: (ImagePatch | undefined)[] = points.map(() => undefined);
  for (const group of crashStates('sequential', trace)) {
    points.forEach((k, i) => {
      if (images[i] === undefined && group.first <= k && k <= group.last) images[i] = group.states[0].patch();
    });
  }
  const outputs: string[] = [];
  for (let i = 0; i < points.length; i += 1) {
    const image = images[i];
    if (!image) throw usageError(`the trace has no crash point ${points[i]} (operation boundary ${i})`);
    const dir = tempDir('image');
    try {
      const result = await recoverImage({ ...spec, check: undefined }, image, dir, timeoutMs, {
        ...(spec.windowEnv ? opsDoneEnv(windows.windowAt(points[i])) : {}),
      });
      if (result.kind === 'failed') {
        const output = result.verdict.kind === 'ok' ? '' : result.verdict.output.trimEnd();
        throw usageError(
          `your check fails on an uncrashed file (the image ${i === 0 ? 'before the first operation' : `after operation ${i} returned`}, crash point ${points[i]}): ` +
            `${describeVerdict(result.verdict)}${output ? `\n${output}` : ''}`,
        );
      }
      outputs.push(normalizeOutput(result.recovered.stdout));
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }
  return outputs;
}
