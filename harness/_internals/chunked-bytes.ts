// chunked-bytes -- the content of a PM file as a trace holds it: consecutive
// chunks (Node caps a Buffer at 4 GiB), and its data extents, outside which
// every byte is zero.
//
// Readers of a trace's initial images take ImageBytes: a Uint8Array, or a
// ChunkedBytes. Both give `length` and `subarray(start, end)`; chunks are a
// multiple of every unit the readers work in (64-byte lines, 64 KiB
// extents), so a range inside one such unit is a view, never a copy.
//
// A whole image is walked as runs (`runs`): its data, and the holes between,
// which are never read. A trace reader's chunks are zero-filled buffers with
// only the extents read in: a hole's pages were never touched, and reading
// them would cost memory on kernels that back a read of untouched anonymous
// memory with a page of its own (docs/trace-format.md), so whatever hashes,
// digests or writes out a whole image skips its holes by their extents.

/** The initial image of one PM file. */
export interface ImageBytes {
  readonly length: number;
  /** The bytes [start, end): a view when they lie in one chunk. */
  subarray(start: number, end: number): Uint8Array;
}

/** Size of one chunk: 1 GiB, a multiple of lines and extents. */
export const CHUNK_BYTES = 1 << 30;

/** EXTENT -- the unit of an image's data: a 64 KiB-aligned unit with a
 *  non-zero byte is data; an all-zero one is a hole (in memory, and in a
 *  file written out: image-patch.ts). */
export const EXTENT = 64 * 1024;

/** Extent -- bytes [start, end) of an image: whole EXTENT units (the last
 *  may end at the image's end). */
export type Extent = [start: number, end: number];

const ZEROS = Buffer.alloc(EXTENT);

/** nonZeroUnits -- the runs [start, end) of `bytes`'s EXTENT units (counted
 *  from its start) that hold a non-zero byte, adjacent units merged. */
export function* nonZeroUnits(bytes: Uint8Array): Generator<Extent> {
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let run: Extent | undefined;
  for (let at = 0; at < whole.length; at += EXTENT) {
    const end = Math.min(at + EXTENT, whole.length);
    if (whole.compare(ZEROS, 0, end - at, at, end) === 0) {
      if (run) yield run;
      run = undefined;
    } else if (run) {
      run[1] = end;
    } else {
      run = [at, end];
    }
  }
  if (run) yield run;
}

/** addExtent -- append [start, end) to ascending extents, merged with the
 *  last when adjacent. */
export function addExtent(extents: Extent[], start: number, end: number): void {
  const last = extents[extents.length - 1];
  if (last && last[1] === start) last[1] = end;
  else extents.push([start, end]);
}

/** ImageRun -- `length` bytes of an image at `offset`: `data` (a view), or
 *  a hole (`data` undefined: zeros, never read). */
export interface ImageRun {
  offset: number;
  length: number;
  data: Uint8Array | undefined;
}

export class ChunkedBytes implements ImageBytes {
  readonly length: number;
  /** Length of every chunk but the last (CHUNK_BYTES when read from a
   *  trace; smaller in tests), a multiple of 64 KiB when there are several. */
  readonly chunkBytes: number;
  /** Ascending, disjoint, whole EXTENT units: every byte outside them is
   *  zero. Given by the reader that filled the chunks, else found here. */
  readonly extents: readonly Extent[];
  private walk: ImageRun[] | undefined;

  constructor(
    readonly chunks: readonly Uint8Array[],
    extents?: readonly Extent[],
  ) {
    this.length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    // One chunk (any length up to a Buffer's 4 GiB) is one unit of `chunkBytes`.
    this.chunkBytes = chunks.length > 1 ? chunks[0].length : Math.max(CHUNK_BYTES, this.length);
    if (
      chunks.length === 0 ||
      (chunks.length > 1 &&
        (this.chunkBytes % EXTENT !== 0 || chunks.slice(0, -1).some((chunk) => chunk.length !== this.chunkBytes)))
    ) {
      throw new RangeError('ChunkedBytes: one chunk, or chunks of one size, a multiple of 64 KiB, but the last');
    }
    this.extents = extents ?? this.findExtents();
  }

  private findExtents(): Extent[] {
    const found: Extent[] = [];
    this.chunks.forEach((chunk, i) => {
      const offset = i * this.chunkBytes;
      for (const [start, end] of nonZeroUnits(chunk)) addExtent(found, offset + start, offset + end);
    });
    return found;
  }

  subarray(start: number, end: number): Uint8Array {
    const size = this.chunkBytes;
    const from = Math.max(0, Math.min(start, this.length));
    const to = Math.max(from, Math.min(end, this.length));
    const first = Math.min(Math.floor(from / size), this.chunks.length - 1);
    if (to <= (first + 1) * size) return this.chunks[first].subarray(from - first * size, to - first * size);
    const out = new Uint8Array(to - from);
    for (let at = from; at < to;) {
      const index = Math.floor(at / size);
      const piece = this.chunks[index].subarray(at - index * size, Math.min(to, (index + 1) * size) - index * size);
      out.set(piece, at - from);
      at += piece.length;
    }
    return out;
  }

  /** runs -- the whole image as consecutive runs: each extent, split at
   *  chunk boundaries (views, never copies), and the holes between. */
  runs(): readonly ImageRun[] {
    if (!this.walk) {
      const walk: ImageRun[] = [];
      let at = 0;
      for (const [start, end] of this.extents) {
        if (start > at) walk.push({ offset: at, length: start - at, data: undefined });
        for (let from = start; from < end;) {
          const to = Math.min(end, (Math.floor(from / this.chunkBytes) + 1) * this.chunkBytes);
          walk.push({ offset: from, length: to - from, data: this.subarray(from, to) });
          from = to;
        }
        at = end;
      }
      if (at < this.length) walk.push({ offset: at, length: this.length - at, data: undefined });
      this.walk = walk;
    }
    return this.walk;
  }
}

const scanned = new WeakMap<ImageBytes, ChunkedBytes>();

/** runs -- an image as data runs and holes (ChunkedBytes.runs); a plain
 *  array's extents are found by reading it once. */
export function runs(image: ImageBytes): readonly ImageRun[] {
  if (image instanceof ChunkedBytes) return image.runs();
  let chunked = scanned.get(image);
  if (!chunked) {
    chunked = new ChunkedBytes([image.subarray(0, image.length)]);
    scanned.set(image, chunked);
  }
  return chunked.runs();
}
