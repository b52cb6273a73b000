// chunked-bytes -- a file image in chunks reads, hashes and writes out
// exactly like the same bytes in one Buffer, and its holes (outside its data
// extents) are never read. Chunks of 2 MiB here (1 GiB when read from a
// trace); tests/reliability/pm-files.test.ts runs a 5 GiB file end to end.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChunkedBytes, EXTENT, runs } from '../../harness/_internals/chunked-bytes';
import { BaseImage } from '../../harness/image/image';
import { ImagePatch } from '../../harness/image/image-patch';
import { hashImages, lanesToString } from '../../harness/image/line-hash';

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

test('BaseImage: the same hash and data extents as one Buffer', () => {
  const { whole, chunked } = sameContent();
  const a = new BaseImage([whole]);
  const b = new BaseImage([chunked]);
  expect(Array.from(b.hashLanes())).toEqual(Array.from(a.hashLanes()));
  expect(lanesToString(a.hashLanes())).toBe(hashImages([whole]));
  expect(chunked.extents).toEqual(new ChunkedBytes([whole]).extents);
});

test('extents: the 64 KiB units with a non-zero byte, adjacent ones merged', () => {
  const image = new Uint8Array(5 * EXTENT + 100);
  image[EXTENT + 3] = 1;
  image[2 * EXTENT] = 1;
  image[5 * EXTENT + 99] = 1;
  expect(new ChunkedBytes([image]).extents).toEqual([
    [EXTENT, 3 * EXTENT],
    [5 * EXTENT, 5 * EXTENT + 100],
  ]);
});

test('runs: data as views, split at chunk boundaries, and the holes between', () => {
  const { whole, chunked } = sameContent();
  const walk = chunked.runs();
  expect(walk.map(({ offset, length, data }) => [offset, length, data !== undefined])).toEqual([
    [0, EXTENT, true],
    [EXTENT, CHUNK_BYTES - 2 * EXTENT, false],
    [CHUNK_BYTES - EXTENT, EXTENT, true],
    [CHUNK_BYTES, EXTENT, true],
    [CHUNK_BYTES + EXTENT, CHUNK_BYTES - 2 * EXTENT, false],
    [2 * CHUNK_BYTES - EXTENT, EXTENT, true],
    [2 * CHUNK_BYTES, TAIL, true],
  ]);
  for (const { offset, length, data } of walk) {
    if (data) expect(data.buffer === chunked.chunks[Math.floor(offset / CHUNK_BYTES)].buffer).toBe(true);
    else expect(whole.subarray(offset, offset + length).every((byte) => byte === 0)).toBe(true);
  }
  // a plain array: its extents found once, the same runs on every call
  expect(runs(whole)).toBe(runs(whole));
  expect(runs(whole).filter((run) => run.data).length).toBe(3);
});

test('holes are never read: the hash, toBytes and writeFile take them as zeros', async () => {
  // The extents say only the first 64 KiB unit is data; the rest holds 0xff
  // that nothing may see (a reader's chunk is zeros there, unread).
  const size = 5 * 1024 * 1024; // over the 4 MiB written whole: written sparse
  const garbage = new Uint8Array(size).fill(0xff);
  garbage.fill(7, 0, EXTENT);
  const sparse = new ChunkedBytes([garbage], [[0, EXTENT]]);
  const truth = new Uint8Array(size);
  truth.fill(7, 0, EXTENT);
  expect(lanesToString(new BaseImage([sparse]).hashLanes())).toBe(hashImages([truth]));
  const patch = new ImagePatch(new BaseImage([sparse]), [new Map([[size / 64 - 1, new Uint8Array(64).fill(3)]])]);
  truth.fill(3, size - 64);
  expect(Buffer.from(patch.toBytes()[0]).equals(truth)).toBe(true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-chunked-'));
  try {
    const file = path.join(dir, 'image');
    await patch.writeFile(0, file);
    expect(fs.readFileSync(file).equals(truth)).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
