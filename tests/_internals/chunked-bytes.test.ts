// chunked-bytes -- a file image in chunks reads, hashes and writes out
// exactly like the same bytes in one Buffer. Chunks of 2 MiB here (1 GiB
// when read from a trace); tests/reliability/pm-files.test.ts runs a 5 GiB
// file end to end.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChunkedBytes } from '../../harness/_internals/chunked-bytes';
import { BaseImage } from '../../harness/image/image';
import { ImagePatch } from '../../harness/image/image-patch';

const CHUNK_BYTES = 2 * 1024 * 1024;
const TAIL = 128;

/** The same content twice: one Buffer, and two chunks plus a 128-byte one. */
function sameContent(): { whole: Buffer; chunked: ChunkedBytes } {
  const whole = Buffer.alloc(2 * CHUNK_BYTES + TAIL);
  for (const [at, value] of [
    [0, 1],
    [CHUNK_BYTES - 3, 2],
    [CHUNK_BYTES + 5, 3],
    [2 * CHUNK_BYTES - 1, 5],
    [2 * CHUNK_BYTES + TAIL - 1, 4],
  ])
    whole[at] = value;
  const chunks = [0, 1, 2].map((i) =>
    Buffer.from(whole.subarray(i * CHUNK_BYTES, Math.min(whole.length, (i + 1) * CHUNK_BYTES))),
  );
  return { whole, chunked: new ChunkedBytes(chunks) };
}

test('subarray: a view inside a chunk, a copy across the boundary', () => {
  const { whole, chunked } = sameContent();
  expect(chunked.length).toBe(whole.length);
  expect(Buffer.from(chunked.subarray(CHUNK_BYTES - 8, CHUNK_BYTES + 8))).toEqual(
    whole.subarray(CHUNK_BYTES - 8, CHUNK_BYTES + 8),
  );
  // Buffer.equals: jest's toEqual walks megabytes element by element.
  expect(Buffer.from(chunked.subarray(CHUNK_BYTES, 2 * CHUNK_BYTES + TAIL)).equals(whole.subarray(CHUNK_BYTES))).toBe(
    true,
  );
  expect(chunked.subarray(0, 64).buffer === chunked.chunks[0].buffer).toBe(true);
});

test('BaseImage: the same hash and non-zero extents as one Buffer', () => {
  const { whole, chunked } = sameContent();
  const a = new BaseImage([whole]);
  const b = new BaseImage([chunked]);
  expect(Array.from(b.hashLanes())).toEqual(Array.from(a.hashLanes()));
  expect(b.extents(0)).toEqual(a.extents(0));
});

test('ImagePatch.writeFile: the same file (over 4 MiB: written sparse, by extents)', async () => {
  const { whole, chunked } = sameContent();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-chunked-'));
  try {
    const patch = new ImagePatch(new BaseImage([chunked]), [
      new Map([[CHUNK_BYTES / 64, Uint8Array.from({ length: 64 }, () => 9)]]),
    ]);
    const file = path.join(dir, 'image');
    await patch.writeFile(0, file);
    const fd = fs.openSync(file, 'r');
    const around = Buffer.alloc(TAIL + 8);
    // the patched line: the first of the second chunk
    fs.readSync(fd, around, 0, around.length, CHUNK_BYTES - 8);
    fs.closeSync(fd);
    const expected = Buffer.alloc(TAIL + 8);
    expected[5] = 2;
    expected.fill(9, 8, 8 + 64);
    expect(around).toEqual(expected);
    expect(
      fs
        .readFileSync(file)
        .subarray(CHUNK_BYTES + 64)
        .equals(whole.subarray(CHUNK_BYTES + 64)),
    ).toBe(true);
    expect(fs.statSync(file).size).toBe(whole.length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
