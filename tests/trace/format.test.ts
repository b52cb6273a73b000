// format -- a trace's initial images read back with their data extents: the
// 64 KiB units that hold a non-zero byte, the rest zeros never read in.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXTENT } from '../../harness/_internals/chunked-bytes';
import { TraceReader } from '../../harness/trace/format';
import { SPARSE_DATA, SPARSE_SIZE, writeSparseTrace } from '../helpers/sparse-trace';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-format-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('images: the file content, and its data extents', () => {
  const reader = TraceReader.open(writeSparseTrace(dir));
  try {
    const [image] = reader.images();
    expect(image.length).toBe(SPARSE_SIZE);
    expect(image.extents).toEqual([
      [0, EXTENT],
      [32 * EXTENT, 33 * EXTENT],
      [48 * EXTENT, SPARSE_SIZE],
    ]);
    const expected = Buffer.alloc(SPARSE_SIZE);
    for (const [offset, bytes] of SPARSE_DATA) expected.set(bytes, offset);
    expect(Buffer.from(image.subarray(0, SPARSE_SIZE)).equals(expected)).toBe(true);
    expect(reader.images()).toBe(reader.images());
  } finally {
    reader.close();
  }
});
