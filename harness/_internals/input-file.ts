// input-file -- read a file the user names (results.json, a replay file)
// with a bound on its size: `pmfit report /dev/zero` must not read until
// memory runs out.

import * as fs from 'fs';
import { PmfitError, usageError } from './errors';

/** readBoundedText -- the file as UTF-8 text, read a chunk at a time up to
 *  `limit` bytes; more is a usage error naming `what` the file should be.
 *  Open and read failures are thrown as they are (callers word them). */
export function readBoundedText(file: string, limit: number, what: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isCharacterDevice() || stat.isBlockDevice()) throw usageError(`${file} is a device, not ${what}`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - total));
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      total += read;
      if (total > limit) throw usageError(`${file} is larger than ${limit >> 20} MiB, too large for ${what}`);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** readBoundedJson -- the file parsed as JSON, read as readBoundedText
 *  does; every failure is a usage error naming the file: `missing` says
 *  where such a file comes from. The caller checks the value's shape. */
export function readBoundedJson(file: string, limit: number, what: string, missing: string): unknown {
  let text: string;
  try {
    text = readBoundedText(file, limit, what);
  } catch (err) {
    if (err instanceof PmfitError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw usageError(`${file}: no such file (${missing})`);
    if (code === 'EISDIR') throw usageError(`${file} is a directory, not ${what}`);
    throw usageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`${file} is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}
