// image -- a mutable set of PM file images over a shared, read-only base.
//
// The base is the trace's initial images (one ImageBytes per file id: its
// chunks and data extents, chunked-bytes.ts; it can be large and is never
// written). An ImageSet keeps only the lines that were
// changed, one 64-byte copy each, and reads every other line from the base.
// With `hashed`, it keeps the content hash of the whole set up to date on
// every change (line-hash.ts): the base's hash is computed once, streaming
// over its data extents and computing its holes' share without reading them,
// and each change subtracts the old line's hash and adds the new one.

import { ImageBytes, runs } from '../_internals/chunked-bytes';
import { LINE } from '../trace/event';
import { ImagePatch } from './image-patch';
import {
  HashLanes,
  addLanes,
  hashFileInto,
  hashLine,
  hashZerosInto,
  lanesToString,
  lineCount,
  newLanes,
  subLanes,
} from './line-hash';

/** BaseImage -- the initial images, shared read-only by every ImageSet built
 *  on them, with their hash computed once on first use. The caller must not
 *  modify the arrays while the BaseImage is in use. */
export class BaseImage {
  readonly files: readonly ImageBytes[];
  private lanes: HashLanes | undefined;
  private static readonly shared = new WeakMap<readonly ImageBytes[], BaseImage>();

  constructor(files: readonly ImageBytes[]) {
    this.files = files;
  }

  /** of -- the one BaseImage of these arrays, so that every walk over one
   *  trace's images (one per model, and more to explain groups) shares its
   *  hash instead of computing it over a large file again. */
  static of(files: readonly ImageBytes[]): BaseImage {
    let base = BaseImage.shared.get(files);
    if (!base) {
      base = new BaseImage(files);
      BaseImage.shared.set(files, base);
    }
    return base;
  }

  /** hashLanes -- the base's hash (do not modify the returned lanes). */
  hashLanes(): HashLanes {
    if (!this.lanes) {
      const sum = newLanes();
      this.files.forEach((image, fileId) => {
        for (const run of runs(image)) {
          if (run.data) hashFileInto(fileId, run.data, sum, run.offset / LINE);
          else hashZerosInto(fileId, run.length, sum, run.offset / LINE);
        }
      });
      this.lanes = sum;
    }
    return this.lanes;
  }
}

/** lineSpan -- the lines [first, end) that bytes [offset, offset+length) touch. */
export function lineSpan(offset: number, length: number): { first: number; end: number } {
  if (length <= 0) return { first: Math.floor(offset / LINE), end: Math.floor(offset / LINE) };
  return { first: Math.floor(offset / LINE), end: Math.floor((offset + length - 1) / LINE) + 1 };
}

const scratch = newLanes();

export class ImageSet {
  readonly base: BaseImage;
  /** Changed lines per file: line index -> the line's bytes (owned here). */
  private readonly changed: Map<number, Uint8Array>[];
  private readonly sum: HashLanes | undefined;

  constructor(base: BaseImage, options: { hashed: boolean }) {
    this.base = base;
    this.changed = base.files.map(() => new Map<number, Uint8Array>());
    this.sum = options.hashed ? Uint32Array.from(base.hashLanes()) : undefined;
  }

  get fileCount(): number {
    return this.base.files.length;
  }

  size(fileId: number): number {
    return this.base.files[fileId].length;
  }

  lineCount(fileId: number): number {
    return lineCount(this.base.files[fileId].length);
  }

  /** lineLength -- 64, or less for the last line of a file whose size is not a multiple of 64. */
  lineLength(fileId: number, line: number): number {
    return Math.min(LINE, this.base.files[fileId].length - line * LINE);
  }

  /** line -- the line's current bytes, as a view: read it, do not modify it,
   *  and do not keep it across changes of this line. */
  line(fileId: number, line: number): Uint8Array {
    const own = this.changed[fileId].get(line);
    if (own) return own;
    const start = line * LINE;
    return this.base.files[fileId].subarray(start, start + this.lineLength(fileId, line));
  }

  /** changedLines -- indexes of the lines of a file that differ from the base
   *  or did at some point (a line written back to its base content stays listed). */
  changedLines(fileId: number): IterableIterator<number> {
    return this.changed[fileId].keys();
  }

  /** ownLine -- the line's own (writable) copy, made from the base if needed. */
  private ownLine(fileId: number, line: number): Uint8Array {
    const lines = this.changed[fileId];
    let own = lines.get(line);
    if (!own) {
      const start = line * LINE;
      own = Uint8Array.from(this.base.files[fileId].subarray(start, start + this.lineLength(fileId, line)));
      lines.set(line, own);
    }
    return own;
  }

  /**
   * write -- apply bytes data[dataStart .. dataStart+length) at byte `offset`
   * of a file; the range must lie inside the file.
   */
  write(fileId: number, offset: number, data: Uint8Array, dataStart = 0, length = data.length - dataStart): void {
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const line = Math.floor(at / LINE);
      const inLine = at - line * LINE;
      const n = Math.min(length - done, LINE - inLine);
      const own = this.ownLine(fileId, line);
      if (this.sum) {
        hashLine(fileId, line, own, 0, own.length, scratch);
        subLanes(this.sum, scratch);
      }
      own.set(data.subarray(dataStart + done, dataStart + done + n), inLine);
      if (this.sum) {
        hashLine(fileId, line, own, 0, own.length, scratch);
        addLanes(this.sum, scratch);
      }
      done += n;
    }
  }

  /**
   * setLine -- replace a whole line with `bytes` (copied; its length must be
   * the line's length). `lanes` may give the new content's line hash
   * (H(fileId, line, bytes)) at lanes[lanesAt..] to save hashing it again.
   */
  setLine(fileId: number, line: number, bytes: Uint8Array, lanes?: Uint32Array, lanesAt = 0): void {
    const own = this.ownLine(fileId, line);
    if (bytes.length !== own.length) {
      throw new RangeError(`line ${line} of file ${fileId} has ${own.length} bytes, not ${bytes.length}`);
    }
    if (this.sum) {
      hashLine(fileId, line, own, 0, own.length, scratch);
      subLanes(this.sum, scratch);
      if (lanes) {
        addLanes(this.sum, lanes, lanesAt);
      } else {
        hashLine(fileId, line, bytes, 0, bytes.length, scratch);
        addLanes(this.sum, scratch);
      }
    }
    own.set(bytes);
  }

  /** copyLine -- make a line equal to the same line of another ImageSet on the same base. */
  copyLine(from: ImageSet, fileId: number, line: number): void {
    this.setLine(fileId, line, from.line(fileId, line));
  }

  /** hashLanes -- the current hash (lanes; do not modify); hashed sets only. */
  hashLanes(): HashLanes {
    if (!this.sum) throw new Error('ImageSet: hash asked of a set built without `hashed`');
    return this.sum;
  }

  hash(): string {
    return lanesToString(this.hashLanes());
  }

  /** patch -- the current image set as a patch of the base (the changed
   *  lines copied, so later changes here do not reach it). */
  patch(): ImagePatch {
    return new ImagePatch(
      this.base,
      this.changed.map((lines) => new Map([...lines].map(([line, bytes]) => [line, Uint8Array.from(bytes)]))),
    );
  }
}
