// image-patch -- one crash image set as its base plus the lines that differ,
// so that an image of a large PM file costs its changed lines, not its size.
//
// A checker needs the image as files in a directory. writeFile writes a
// small file whole, in one write; a large one sparse: its size set with
// ftruncate, then only the base's data extents (chunked-bytes.ts: its holes
// stay holes, never read), then the patch's lines, consecutive ones in one
// write. toBytes gives whole copies for callers that read images in memory.

import * as fs from 'fs';
import { runs } from '../_internals/chunked-bytes';
import { LINE } from '../trace/event';
import type { BaseImage } from './image';

/** Files up to this size are written whole: fewer writes, and a small
 *  pool's image costs little memory anyway. */
const WHOLE_FILE_MAX = 4 * 1024 * 1024;

/** Longest write of a large file's base extents (fewer, bounded writes). */
const WRITE_MAX = 64 * 1024 * 1024;

export class ImagePatch {
  readonly base: BaseImage;
  /** Lines that differ from the base, by file id: line index -> bytes (owned). */
  private readonly lines: Map<number, Uint8Array>[];

  constructor(base: BaseImage, lines: Map<number, Uint8Array>[]) {
    this.base = base;
    this.lines = lines;
  }

  get fileCount(): number {
    return this.base.files.length;
  }

  /** patchBytes -- memory held beyond the shared base. */
  get patchBytes(): number {
    return this.lines.reduce((sum, lines) => sum + lines.size * LINE, 0);
  }

  /** setLine -- replace a line (copied) in this patch only. */
  setLine(fileId: number, line: number, bytes: Uint8Array): void {
    this.lines[fileId].set(line, Uint8Array.from(bytes));
  }

  /** line -- a line's bytes, as a view: do not modify it. */
  line(fileId: number, line: number): Uint8Array {
    const own = this.lines[fileId].get(line);
    if (own) return own;
    const start = line * LINE;
    return this.base.files[fileId].subarray(start, start + LINE);
  }

  /** patchedLines -- indexes of the lines this patch holds for a file. */
  patchedLines(fileId: number): IterableIterator<number> {
    return this.lines[fileId].keys();
  }

  /** toBytes -- fresh whole copies of every file's image. */
  toBytes(): Uint8Array[] {
    return this.base.files.map((_, fileId) => this.fileBytes(fileId));
  }

  private fileBytes(fileId: number): Uint8Array {
    const image = this.base.files[fileId];
    const out = new Uint8Array(image.length);
    for (const { offset, data } of runs(image)) if (data) out.set(data, offset);
    for (const [line, bytes] of this.lines[fileId]) out.set(bytes, line * LINE);
    return out;
  }

  /** lineRuns -- the patch's lines of a file as runs of consecutive lines,
   *  each [byte offset, bytes]. */
  private lineRuns(fileId: number): Array<[number, Uint8Array]> {
    const lines = [...this.lines[fileId].keys()].sort((a, b) => a - b);
    const runs: Array<[number, Uint8Array]> = [];
    for (let i = 0; i < lines.length;) {
      let j = i + 1;
      while (j < lines.length && lines[j] === lines[j - 1] + 1) j++;
      const parts = lines.slice(i, j).map((line) => this.lines[fileId].get(line) as Uint8Array);
      runs.push([lines[i] * LINE, parts.length === 1 ? parts[0] : Buffer.concat(parts)]);
      i = j;
    }
    return runs;
  }

  /** writeFile -- the image of a file as a new file at `file` (holes where
   *  the base has zero extents and the patch has no line). */
  async writeFile(fileId: number, file: string): Promise<void> {
    const image = this.base.files[fileId];
    if (image.length <= WHOLE_FILE_MAX) {
      await fs.promises.writeFile(file, this.fileBytes(fileId));
      return;
    }
    const handle = await fs.promises.open(file, 'w');
    try {
      await handle.truncate(image.length);
      for (const { offset, length, data } of runs(image)) {
        if (!data) continue;
        for (let at = 0; at < length; at += WRITE_MAX)
          await handle.write(data, at, Math.min(WRITE_MAX, length - at), offset + at);
      }
      for (const [offset, bytes] of this.lineRuns(fileId)) await handle.write(bytes, 0, bytes.length, offset);
    } finally {
      await handle.close();
    }
  }
}
