// trace-image -- the PM files as the trace being recorded says they are:
// the initial images (read back from the partial trace) with every
// recorded write on top, held only for the pages a write touched.
//
// The recorder compares it with the real files at every region boundary
// (record.ts); memory grows with the pages the program writes, never with
// the size of the files.

/** Bytes of a page, the unit of comparison. */
export const PAGE = 4096;

/** Where the last recorded write to a page came from, for messages. */
export interface LastWrite {
  index: number;
  address: number;
}

export class TraceImage {
  private readonly pages: Map<number, Buffer>[];
  private readonly lastWrites: Map<number, LastWrite>[];
  private readonly touched: Set<number>[];

  constructor(
    readonly sizes: number[],
    /** Fill `into` with the initial image's bytes at `offset` (zeros past
     *  the file's size). */
    private readonly readInitial: (fileId: number, offset: number, into: Buffer) => void,
  ) {
    this.pages = sizes.map(() => new Map());
    this.lastWrites = sizes.map(() => new Map());
    this.touched = sizes.map(() => new Set());
  }

  /** apply -- a recorded write of `data` at `offset` of file `fileId`;
   *  bytes past the file's size are outside every image and dropped. */
  apply(fileId: number, offset: number, data: Uint8Array, from: LastWrite): void {
    const end = Math.min(offset + data.length, this.sizes[fileId]);
    for (let at = offset; at < end;) {
      const page = Math.floor(at / PAGE);
      const upto = Math.min(end, (page + 1) * PAGE);
      this.page(fileId, page).set(data.subarray(at - offset, upto - offset), at - page * PAGE);
      this.lastWrites[fileId].set(page, from);
      this.touched[fileId].add(page);
      at = upto;
    }
  }

  /** page -- the page's content as the trace says (PAGE bytes, zeros
   *  past the file's size); kept from now on. */
  page(fileId: number, page: number): Buffer {
    let content = this.pages[fileId].get(page);
    if (!content) {
      content = Buffer.alloc(PAGE);
      this.readInitial(fileId, page * PAGE, content);
      this.pages[fileId].set(page, content);
    }
    return content;
  }

  /** read -- fill `into` with the bytes at `offset` as the trace says,
   *  without keeping the pages that no write touched (whole-file
   *  comparisons, which reuse one buffer: a fresh 1 MiB one per chunk left
   *  16 MiB of garbage per comparison of a 16 MiB pool, and RSS grew with
   *  it until a collection). */
  read(fileId: number, offset: number, into: Buffer): void {
    const length = into.length;
    this.readInitial(fileId, offset, into);
    for (let page = Math.floor(offset / PAGE); page * PAGE < offset + length; page += 1) {
      const content = this.pages[fileId].get(page);
      if (!content) continue;
      const from = Math.max(offset, page * PAGE);
      const to = Math.min(offset + length, (page + 1) * PAGE);
      content.copy(into, from - offset, from - page * PAGE, to - page * PAGE);
    }
  }

  /** takeTouched -- pages recorded writes touched since the last call. */
  takeTouched(fileId: number): Set<number> {
    const touched = this.touched[fileId];
    this.touched[fileId] = new Set();
    return touched;
  }

  /** lastWrite -- the last recorded write to the page, if any. */
  lastWrite(fileId: number, page: number): LastWrite | undefined {
    return this.lastWrites[fileId].get(page);
  }

  /** heldPages -- pages kept in memory (all files). */
  heldPages(): number {
    return this.pages.reduce((sum, pages) => sum + pages.size, 0);
  }
}
