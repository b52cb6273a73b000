// chunked-bytes -- the content of a PM file too large for one Buffer (Node
// caps a Buffer at 4 GiB), as consecutive chunks.
//
// Readers of a trace's initial images take ImageBytes: a Uint8Array, or a
// ChunkedBytes for a larger file. Both give `length` and `subarray(start,
// end)`; chunks are a multiple of every unit the readers work in (64-byte
// lines, 64 KiB extents), so a range inside one such unit is a view, never a
// copy.

/** The initial image of one PM file. */
export interface ImageBytes {
  readonly length: number;
  /** The bytes [start, end): a view when they lie in one chunk. */
  subarray(start: number, end: number): Uint8Array;
}

/** Size of one chunk: 1 GiB, a multiple of lines and extents. */
export const CHUNK_BYTES = 1 << 30;

export class ChunkedBytes implements ImageBytes {
  readonly length: number;
  /** Length of every chunk but the last (CHUNK_BYTES when read from a
   *  trace; smaller in tests), a multiple of 64 KiB. */
  readonly chunkBytes: number;

  constructor(readonly chunks: readonly Uint8Array[]) {
    this.length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    this.chunkBytes = chunks[0]?.length ?? CHUNK_BYTES;
    if (this.chunkBytes % (64 * 1024) !== 0 || chunks.slice(0, -1).some((chunk) => chunk.length !== this.chunkBytes)) {
      throw new RangeError('ChunkedBytes: chunks of one size, a multiple of 64 KiB, but the last');
    }
  }

  subarray(start: number, end: number): Uint8Array {
    const size = this.chunkBytes;
    const from = Math.max(0, Math.min(start, this.length));
    const to = Math.max(from, Math.min(end, this.length));
    const first = Math.floor(from / size);
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
}

/** pieces -- `bytes` as consecutive [offset, view] pieces: the chunks of a
 *  ChunkedBytes, or the whole of a Uint8Array. */
export function pieces(bytes: ImageBytes): Array<[number, Uint8Array]> {
  if (bytes instanceof ChunkedBytes) {
    return bytes.chunks.map((chunk, i): [number, Uint8Array] => [i * bytes.chunkBytes, chunk]);
  }
  return [[0, bytes.subarray(0, bytes.length)]];
}
