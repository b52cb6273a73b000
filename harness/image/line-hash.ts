// line-hash -- the content hash of PM images, built from per-line hashes.
//
// docs/models.md: every image is identified by a content
// hash kept incrementally (per-line hashes combined), so identical images from
// any crash point and any model are checked once.
//
// A line hash H(fileId, lineIndex, bytes) is 128 bits, held as four 32-bit
// lanes. The hash of an image set is the lane-wise sum (mod 2^32) of H over
// every line of every file, so changing one line costs two line hashes:
// subtract the old one, add the new one. The file id, the line index and the
// line's length are mixed into H, so equal content at another place (or a
// swap of two lines) gives another sum; images of different sizes differ in
// their number of lines or in the length of the last one. A hole of an
// image (chunked-bytes.ts) adds its zero lines' H like any others, computed
// without reading them (hashZerosInto): the same bytes hash alike whether
// a reader holds them as data or as a hole.
//
// H is not cryptographic. Each lane absorbs every fourth 32-bit word of the
// line with a multiply / xor-shift step (a bijection of the lane for a fixed
// word), then three rounds of cross-lane addition and a 32-bit finalizer
// spread every input bit over all 128 output bits. Distinct images collide
// with a probability near 2^-128 per pair, which is what "checked once" needs.

import { LINE } from '../trace/event';

/** Four 32-bit lanes: a line hash or a sum of them. */
export type HashLanes = Uint32Array;

export function newLanes(): HashLanes {
  return new Uint32Array(4);
}

// Lane seeds and multipliers (odd constants from the binary digits of pi and e).
const S0 = 0x243f6a88;
const S1 = 0x85a308d3;
const S2 = 0x13198a2e;
const S3 = 0x03707344;
const M0 = 0xa4093823;
const M1 = 0x299f31d1;
const M2 = 0x082efa99;
const M3 = 0xb7e15163;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const WORDS = LINE / 4;
const scratchWords = new Uint32Array(WORDS);

/** mix32 -- a bijective 32-bit finalizer (every input bit affects every output bit). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** finish -- mix four lane states into the 128-bit line hash, written at out[at..at+3]. */
function finish(h0: number, h1: number, h2: number, h3: number, out: Uint32Array, at: number): void {
  for (let round = 0; round < 3; round++) {
    h0 = (h0 + h1) | 0;
    h1 = (h1 + h2) | 0;
    h2 = (h2 + h3) | 0;
    h3 = (h3 + h0) | 0;
    h0 = mix32(h0);
    h1 = mix32(h1 ^ 0x5bd1e995);
    h2 = mix32(h2 ^ 0x6a09e667);
    h3 = mix32(h3 ^ 0x3c6ef372);
  }
  out[at] = h0;
  out[at + 1] = h1;
  out[at + 2] = h2;
  out[at + 3] = h3;
}

/** absorb -- one lane's step over one word (a bijection of the lane for a fixed word). */
function absorb(h: number, word: number, multiplier: number): number {
  h = Math.imul(h ^ word, multiplier);
  return h ^ (h >>> 15);
}

/** Lane seeds of H that depend on where the line is and how long. */
const seed0 = (fileId: number): number => S0 ^ Math.imul(fileId + 1, 0x9e3779b9);
const seed1 = (lineIndex: number): number => S1 ^ (lineIndex >>> 0);
const seed2 = (lineIndex: number): number => S2 ^ Math.floor(lineIndex / 0x100000000);
const seed3 = (length: number): number => S3 ^ Math.imul(length + 1, 0x85ebca77);

/** hashWords -- H over a line given as 16 little-endian words (zero past `length`). */
function hashWords(
  fileId: number,
  lineIndex: number,
  length: number,
  words: Uint32Array,
  base: number,
  out: Uint32Array,
  at: number,
): void {
  let h0 = seed0(fileId);
  let h1 = seed1(lineIndex);
  let h2 = seed2(lineIndex);
  let h3 = seed3(length);
  for (let i = 0; i < WORDS; i += 4) {
    h0 = absorb(h0, words[base + i], M0);
    h1 = absorb(h1, words[base + i + 1], M1);
    h2 = absorb(h2, words[base + i + 2], M2);
    h3 = absorb(h3, words[base + i + 3], M3);
  }
  finish(h0, h1, h2, h3, out, at);
}

/** zeroLane -- a lane after absorbing a zero line's four words. */
function zeroLane(h: number, multiplier: number): number {
  for (let i = 0; i < WORDS; i += 4) h = absorb(h, 0, multiplier);
  return h;
}

/**
 * hashLine -- H(fileId, lineIndex, bytes[start .. start+length)) into
 * out[at..at+3]. `length` is the line's length: 64, or less for the last line
 * of a file whose size is not a multiple of 64.
 */
export function hashLine(
  fileId: number,
  lineIndex: number,
  bytes: Uint8Array,
  start: number,
  length: number,
  out: Uint32Array,
  at = 0,
): void {
  const words = scratchWords;
  let i = 0;
  let p = start;
  const full = length >>> 2;
  for (; i < full; i++, p += 4) {
    words[i] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
  }
  if (i < WORDS) {
    let last = 0;
    for (let b = 0; b < (length & 3); b++) last |= bytes[p + b] << (8 * b);
    words[i++] = last;
    for (; i < WORDS; i++) words[i] = 0;
  }
  hashWords(fileId, lineIndex, length, words, 0, out, at);
}

/** addLanes / subLanes -- sum[..] += / -= h[at..at+3], mod 2^32. */
export function addLanes(sum: Uint32Array, h: Uint32Array, at = 0): void {
  sum[0] += h[at];
  sum[1] += h[at + 1];
  sum[2] += h[at + 2];
  sum[3] += h[at + 3];
}

export function subLanes(sum: Uint32Array, h: Uint32Array, at = 0): void {
  sum[0] -= h[at];
  sum[1] -= h[at + 1];
  sum[2] -= h[at + 2];
  sum[3] -= h[at + 3];
}

/** lineCount -- number of lines of a file of `size` bytes. */
export function lineCount(size: number): number {
  return Math.ceil(size / LINE);
}

/**
 * hashFileInto -- add H of every line of one file's image to `sum`, streaming:
 * nothing per line is kept. Whole lines are read through a 32-bit view when
 * the image is 4-byte aligned on a little-endian host; the result is the same
 * as hashing each line with hashLine. `image` may be a part of the file that
 * starts at line `firstLine` (a chunk of a large one).
 */
export function hashFileInto(fileId: number, image: Uint8Array, sum: Uint32Array, firstLine = 0): void {
  const lines = lineCount(image.length);
  const fullLines = Math.floor(image.length / LINE);
  const h = newLanes();
  let s0 = sum[0];
  let s1 = sum[1];
  let s2 = sum[2];
  let s3 = sum[3];
  if (littleEndian && image.byteOffset % 4 === 0) {
    const words = new Uint32Array(image.buffer, image.byteOffset, fullLines * WORDS);
    for (let line = 0; line < fullLines; line++) {
      hashWords(fileId, firstLine + line, LINE, words, line * WORDS, h, 0);
      s0 = (s0 + h[0]) >>> 0;
      s1 = (s1 + h[1]) >>> 0;
      s2 = (s2 + h[2]) >>> 0;
      s3 = (s3 + h[3]) >>> 0;
    }
  } else {
    for (let line = 0; line < fullLines; line++) {
      hashLine(fileId, firstLine + line, image, line * LINE, LINE, h);
      s0 = (s0 + h[0]) >>> 0;
      s1 = (s1 + h[1]) >>> 0;
      s2 = (s2 + h[2]) >>> 0;
      s3 = (s3 + h[3]) >>> 0;
    }
  }
  if (lines > fullLines) {
    hashLine(fileId, firstLine + fullLines, image, fullLines * LINE, image.length - fullLines * LINE, h);
    s0 = (s0 + h[0]) >>> 0;
    s1 = (s1 + h[1]) >>> 0;
    s2 = (s2 + h[2]) >>> 0;
    s3 = (s3 + h[3]) >>> 0;
  }
  sum[0] = s0;
  sum[1] = s1;
  sum[2] = s2;
  sum[3] = s3;
}

/**
 * hashZerosInto -- add to `sum` what hashFileInto adds for `length` zero
 * bytes starting at line `firstLine`, without reading any: a hole of an
 * image (chunked-bytes.ts). Lanes 0 and 3 of a whole zero line depend only
 * on the file, so per line only lanes 1 and 2 are absorbed.
 */
export function hashZerosInto(fileId: number, length: number, sum: Uint32Array, firstLine = 0): void {
  const fullLines = Math.floor(length / LINE);
  const h = newLanes();
  const h0 = zeroLane(seed0(fileId), M0);
  const h3 = zeroLane(seed3(LINE), M3);
  for (let line = firstLine; line < firstLine + fullLines; line++) {
    finish(h0, zeroLane(seed1(line), M1), zeroLane(seed2(line), M2), h3, h, 0);
    addLanes(sum, h);
  }
  if (length > fullLines * LINE) {
    hashWords(fileId, firstLine + fullLines, length - fullLines * LINE, ZERO_WORDS, 0, h, 0);
    addLanes(sum, h);
  }
}

const ZERO_WORDS = new Uint32Array(WORDS);

const hex: string[] = [];
for (let b = 0; b < 256; b++) hex.push(b.toString(16).padStart(2, '0'));

function wordHex(x: number): string {
  return hex[x >>> 24] + hex[(x >>> 16) & 255] + hex[(x >>> 8) & 255] + hex[x & 255];
}

/** lanesToString -- the 32-hex-digit form used as CrashState.hash. */
export function lanesToString(sum: Uint32Array): string {
  return wordHex(sum[0]) + wordHex(sum[1]) + wordHex(sum[2]) + wordHex(sum[3]);
}

/** hashImages -- the hash of a whole image set, from scratch (what the
 *  incremental hashes of ImageSet and the persistency models equal). */
export function hashImages(files: readonly Uint8Array[]): string {
  const sum = newLanes();
  files.forEach((image, fileId) => hashFileInto(fileId, image, sum));
  return lanesToString(sum);
}
