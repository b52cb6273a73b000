// keep-trace -- copy a run's trace beside its results.json, so that
// `pmfit reproduce` can rebuild any crash image of the run later.
//
// The copy keeps the trace's holes (zero runs of the initial images are not
// written), so a sparse PM file costs its data, not its size. A trace whose
// data exceeds `maxBytes` (default 1 GiB) is not kept: `pmfit reproduce`
// then says so instead of rebuilding the image.

import * as fs from 'fs';
import * as path from 'path';
import { makeOutputDir, OutputFile } from '../_internals/output-file';

export const DEFAULT_KEEP_TRACE_MAX_BYTES = 1024 * 1024 * 1024;
const CHUNK = 1024 * 1024;

export type KeptTrace = { kind: 'kept'; file: string } | { kind: 'not-kept'; why: string };

const ZEROS = Buffer.alloc(CHUNK);

function allZero(buffer: Buffer, length: number): boolean {
  return buffer.subarray(0, length).equals(ZEROS.subarray(0, length));
}

/** keepTrace -- copy `trace` to DIR/traces/NAME.trace; `file` in the result
 *  is relative to `dir`. */
export function keepTrace(
  trace: string,
  dir: string,
  name: string,
  maxBytes = DEFAULT_KEEP_TRACE_MAX_BYTES,
): KeptTrace {
  const size = fs.statSync(trace).size;
  // Blocks the file occupies: the data a sparse copy writes.
  const allocated = fs.statSync(trace).blocks * 512;
  if (Math.min(size, allocated) > maxBytes) {
    return {
      kind: 'not-kept',
      why: `the trace holds ${Math.round(allocated / 2 ** 20)} MiB of data, more than the ${Math.round(maxBytes / 2 ** 20)} MiB kept beside results.json`,
    };
  }
  const relative = path.join('traces', `${name.replace(/[^\w.-]/g, '_')}.trace`);
  makeOutputDir(path.join(dir, 'traces'));
  const output = new OutputFile(path.join(dir, relative));
  const input = fs.openSync(trace, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK);
    for (let position = 0; position < size;) {
      const read = fs.readSync(input, buffer, 0, CHUNK, position);
      if (read === 0) break;
      if (!allZero(buffer, read)) output.write(buffer.subarray(0, read), position);
      position += read;
    }
    fs.ftruncateSync(output.fd, size);
  } catch (err) {
    output.abandon();
    throw err;
  } finally {
    fs.closeSync(input);
  }
  output.commit();
  return { kind: 'kept', file: relative };
}
