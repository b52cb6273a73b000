// pool -- read an alloc pool image and check the allocator's invariants.
//
// Pure functions over a Buffer holding a whole pool file (no I/O). The format
// is the one of targets/alloc/alloc.h:
//
//   0      page 0, unused (offset 0 is NULL)
//   4096   static area, 512 little-endian u64 root slots
//   8192   guard page
//   12288  header: signature "PMFIT-ALLOC-v1" (16 bytes, NUL-padded),
//          u64 total size at 12304 (must equal the file size)
//   16384  clumps, each a 64-byte header + data, up to size - 64
//   size-64  terminator (first u64 zero)
//
// Clump header: u64 size|state (state in the low 6 bits: 1 FREE, 2 RESERVED,
// 3 ACTIVATING, 4 ACTIVE, 5 FREEING), then three pending assignments
// (u64 offset, u64 value; offset 0 = unused slot).
//
// Readers never throw and always terminate on garbage: whatever they cannot
// make sense of becomes an entry of `errors`, which the *Violations functions
// report. u64 fields are returned as numbers; values beyond 2^53 lose
// precision, but such values are never valid offsets or sizes anyway.
//
// The second half reads the data structure that `alloc run` keeps on top of
// the pool (a doubly linked list of blocks and 256 handle slots, see
// targets/alloc/main.c), for the alloc target's reference model.

export const STATIC_OFF = 4096;
export const STATIC_SIZE = 4096;
export const HEADER_OFF = 12288;
export const HEAP_OFF = 16384;
export const CHUNK = 64;
export const NPENDING = 3;
export const SIGNATURE = 'PMFIT-ALLOC-v1';
export const MIN_POOL_SIZE = HEAP_OFF + 2 * CHUNK;
export const NROOTS = STATIC_SIZE / 8;

export type ClumpState = 'FREE' | 'RESERVED' | 'ACTIVATING' | 'ACTIVE' | 'FREEING' | 'INVALID';

const STATE_NAMES: ClumpState[] = ['INVALID', 'FREE', 'RESERVED', 'ACTIVATING', 'ACTIVE', 'FREEING'];

/** stateName -- the name of a state code (the low 6 bits of a header). */
export function stateName(code: number): ClumpState {
  return STATE_NAMES[code] ?? 'INVALID';
}

export interface PendingAssignment {
  /** 0, 1 or 2: the slot in the clump header. */
  slot: number;
  /** Pool offset of the pointer to set. */
  offset: number;
  /** Value to store there. */
  value: number;
}

export interface Clump {
  /** Offset of the clump header. */
  offset: number;
  /** Size in bytes, header included (a multiple of 64). */
  size: number;
  state: ClumpState;
  /** The raw low 6 bits. */
  stateCode: number;
  /** Offset of the data (what alloc_reserve returns): offset + 64. */
  dataOffset: number;
  /** Data bytes: size - 64. */
  dataSize: number;
  /** Slots whose offset is non-zero. */
  pending: PendingAssignment[];
}

export interface Pool {
  /** The image itself, for readers of the application's data. */
  buf: Buffer;
  fileSize: number;
  signatureOk: boolean;
  /** Total size recorded in the header (NaN when the file is too short). */
  headerSize: number;
  /** The 512 root slots of the static area (empty when the file is too short). */
  roots: number[];
  /** The clump chain, as far as it could be followed. */
  clumps: Clump[];
  /** True when the chain was followed to a terminator at fileSize - 64. */
  chainOk: boolean;
  /** Why the header or chain is unreadable; empty for a well-formed pool. */
  errors: string[];
}

/** u64 -- little-endian u64 at OFF as a number, 0 beyond the buffer. */
export function u64(buf: Buffer, off: number): number {
  if (!Number.isInteger(off) || off < 0 || off + 8 > buf.length) return 0;
  return Number(buf.readBigUInt64LE(off));
}

/** readPool -- parse the header, root slots and clump chain of an image. */
export function readPool(buf: Buffer): Pool {
  const pool: Pool = {
    buf,
    fileSize: buf.length,
    signatureOk: false,
    headerSize: NaN,
    roots: [],
    clumps: [],
    chainOk: false,
    errors: [],
  };
  if (buf.length < MIN_POOL_SIZE || buf.length % CHUNK !== 0) {
    pool.errors.push(`not a pool: size ${buf.length} (a multiple of 64, at least ${MIN_POOL_SIZE})`);
    return pool;
  }

  const sig = buf.subarray(HEADER_OFF, HEADER_OFF + 16);
  const want = Buffer.alloc(16);
  want.write(SIGNATURE, 'latin1');
  pool.signatureOk = sig.equals(want);
  if (!pool.signatureOk) pool.errors.push('bad pool signature');
  pool.headerSize = u64(buf, HEADER_OFF + 16);
  if (pool.headerSize !== buf.length) {
    pool.errors.push(`pool header says ${pool.headerSize} bytes, the file has ${buf.length}`);
  }
  for (let i = 0; i < NROOTS; i++) pool.roots.push(u64(buf, STATIC_OFF + 8 * i));

  // Every step adds at least 64 to off, so the walk ends.
  const end = buf.length - CHUNK;
  let off = HEAP_OFF;
  for (;;) {
    const ss = buf.readBigUInt64LE(off);
    if (ss === 0n) {
      if (off === end) pool.chainOk = true;
      else pool.errors.push(`clump chain ends at ${off}, expected ${end}`);
      break;
    }
    const size = Number(ss & ~63n);
    const stateCode = Number(ss & 63n);
    if (size === 0 || size > end - off) {
      pool.errors.push(`clump at ${off} has bad size ${size}`);
      break;
    }
    const pending: PendingAssignment[] = [];
    for (let slot = 0; slot < NPENDING; slot++) {
      const offset = u64(buf, off + 8 + 16 * slot);
      if (offset !== 0) pending.push({ slot, offset, value: u64(buf, off + 16 + 16 * slot) });
    }
    pool.clumps.push({
      offset: off,
      size,
      state: stateName(stateCode),
      stateCode,
      dataOffset: off + CHUNK,
      dataSize: size - CHUNK,
      pending,
    });
    off += size;
  }
  return pool;
}

/**
 * poolViolations -- the allocator's invariants after recovery: the chain
 * covers the pool exactly (valid header, terminator at size - 64); every clump
 * is FREE or ACTIVE; no pending assignments; no two adjacent FREE clumps.
 */
export function poolViolations(pool: Pool): string[] {
  const out = [...pool.errors];
  let prev: Clump | undefined;
  for (const c of pool.clumps) {
    if (c.state !== 'FREE' && c.state !== 'ACTIVE') {
      out.push(`clump at ${c.offset} is ${c.state === 'INVALID' ? `in invalid state ${c.stateCode}` : c.state}`);
    }
    for (const p of c.pending) {
      out.push(`clump at ${c.offset} has a pending assignment to ${p.offset} (slot ${p.slot})`);
    }
    if (c.state === 'FREE' && prev?.state === 'FREE') {
      out.push(`clump at ${c.offset} is FREE after a FREE clump (not coalesced)`);
    }
    prev = c;
  }
  return out;
}

/** clumpOfData -- the clump whose data starts at OFF, if any. */
export function clumpOfData(pool: Pool, off: number): Clump | undefined {
  // Clumps are sorted by offset: binary search.
  let lo = 0;
  let hi = pool.clumps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = pool.clumps[mid];
    if (c.dataOffset === off) return c;
    if (c.dataOffset < off) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

export interface StateSummary {
  state: ClumpState | 'total';
  /** Sum of clump sizes, headers included. */
  bytes: number;
  clumps: number;
  /** Largest and smallest clump size; 0 when there are no clumps. */
  largest: number;
  smallest: number;
}

/**
 * poolSummary -- the rows of `alloc check`'s table: FREE and ACTIVE always,
 * the other states when they have clumps, then the total.
 */
export function poolSummary(pool: Pool): StateSummary[] {
  const rows: StateSummary[] = [];
  const total: StateSummary = { state: 'total', bytes: 0, clumps: 0, largest: 0, smallest: 0 };
  for (const state of STATE_NAMES.slice(1)) {
    const of = pool.clumps.filter((c) => c.state === state);
    if (of.length === 0 && state !== 'FREE' && state !== 'ACTIVE') continue;
    const sizes = of.map((c) => c.size);
    const row: StateSummary = {
      state,
      bytes: sizes.reduce((a, b) => a + b, 0),
      clumps: of.length,
      largest: sizes.reduce((a, b) => Math.max(a, b), 0),
      smallest: sizes.reduce((a, b) => (a === 0 ? b : Math.min(a, b)), 0),
    };
    rows.push(row);
    total.bytes += row.bytes;
    total.clumps += row.clumps;
    if (row.clumps) {
      total.largest = Math.max(total.largest, row.largest);
      total.smallest = total.smallest ? Math.min(total.smallest, row.smallest) : row.smallest;
    }
  }
  rows.push(total);
  return rows;
}

/** formatSummary -- the table exactly as `alloc check` prints it. */
export function formatSummary(rows: StateSummary[]): string {
  const line = (cells: string[]) =>
    `${cells[0].padEnd(10)} ${cells[1].padStart(10)} ${cells[2].padStart(7)} ${cells[3].padStart(10)} ${cells[4].padStart(10)}\n`;
  let text = line(['state', 'bytes', 'clumps', 'largest', 'smallest']);
  for (const r of rows) {
    const some = r.clumps > 0;
    text += line([
      r.state,
      String(r.bytes),
      String(r.clumps),
      some ? String(r.largest) : '-',
      some ? String(r.smallest) : '-',
    ]);
  }
  return text;
}

// ---- the `alloc run` application: a list of blocks with handles ----

export const LIST_HEAD = STATIC_OFF;
export const LIST_TAIL = STATIC_OFF + 8;
export const NHANDLES = 256;
/** Pool offset of handle H's slot (root 8 + H). */
export function handleSlot(h: number): number {
  return STATIC_OFF + 8 * (8 + h);
}
const TAG_BASE = 0x424c4f434b000000n;
const TAG_MASK = 0xffffffffffffff00n;
/** The smallest data size of a block (tag, size, next, prev). */
export const BLOCK_MIN = 32;

export interface Block {
  handle: number;
  /** Pool offset of the block's data. */
  offset: number;
  /** The size requested by rH:SIZE. */
  size: number;
  next: number;
  prev: number;
}

export interface HandleList {
  /** The list from head to tail, as far as it could be followed. */
  blocks: Block[];
  /** Broken list invariants (see handleViolations). */
  errors: string[];
}

/** readBlock -- the block at OFF when OFF is the data of an ACTIVE clump with a valid tag. */
function readBlock(pool: Pool, off: number): Block | undefined {
  const c = clumpOfData(pool, off);
  if (!c || c.state !== 'ACTIVE' || c.dataSize < BLOCK_MIN) return undefined;
  const tag = pool.buf.readBigUInt64LE(off);
  if ((tag & TAG_MASK) !== TAG_BASE) return undefined;
  return {
    handle: Number(tag & 0xffn),
    offset: off,
    size: u64(pool.buf, off + 8),
    next: u64(pool.buf, off + 16),
    prev: u64(pool.buf, off + 24),
  };
}

/**
 * readHandles -- follow the list of `alloc run` blocks and check it, like
 * `alloc list`: every element is a live block (data of an ACTIVE clump with a
 * tag) whose handle slot points back at it; prev pointers mirror next
 * pointers; the tail is the last element; no handle twice (which also stops
 * cycles); every non-zero handle slot is in the list; every ACTIVE clump is
 * in the list; a block's size fits its clump.
 */
export function readHandles(pool: Pool): HandleList {
  const out: HandleList = { blocks: [], errors: [] };
  if (pool.roots.length < NROOTS) {
    out.errors.push('no static area');
    return out;
  }
  const seen = new Set<number>();
  let prev = 0;
  let b = u64(pool.buf, LIST_HEAD);
  while (b !== 0) {
    const blk = readBlock(pool, b);
    if (!blk) {
      out.errors.push(`list element ${b} is not a live block`);
      break;
    }
    if (seen.has(blk.handle)) {
      out.errors.push(`handle ${blk.handle} appears twice in the list (or the list loops)`);
      break;
    }
    seen.add(blk.handle);
    out.blocks.push(blk);
    if (u64(pool.buf, handleSlot(blk.handle)) !== b) {
      out.errors.push(`handle ${blk.handle}'s slot does not point at its block ${b}`);
    }
    if (blk.prev !== prev) out.errors.push(`block ${b} has prev ${blk.prev}, expected ${prev}`);
    const c = clumpOfData(pool, b);
    if (c && blk.size > c.dataSize) out.errors.push(`block ${b} has bad size ${blk.size}`);
    prev = b;
    b = blk.next;
  }
  const tail = u64(pool.buf, LIST_TAIL);
  if (tail !== prev) out.errors.push(`tail is ${tail}, the last element ${prev}`);
  for (let h = 0; h < NHANDLES; h++) {
    if (!seen.has(h) && u64(pool.buf, handleSlot(h)) !== 0) {
      out.errors.push(`handle ${h} is set but not in the list`);
    }
  }
  const active = pool.clumps.filter((c) => c.state === 'ACTIVE').length;
  if (active !== out.blocks.length) {
    out.errors.push(`${active} ACTIVE clumps but ${out.blocks.length} blocks in the list`);
  }
  return out;
}

/** handleViolations -- readHandles' errors: the `alloc run` application's invariants. */
export function handleViolations(pool: Pool): string[] {
  return readHandles(pool).errors;
}

/** liveHandles -- the reference-model view: [handle, requested size] in list order. */
export function liveHandles(pool: Pool): Array<[number, number]> {
  return readHandles(pool).blocks.map((b) => [b.handle, b.size]);
}
