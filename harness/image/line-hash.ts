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
// their number of lines or in the length of the last one.
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
  let h0 = S0 ^ Math.imul(fileId + 1, 0x9e3779b9);
  let h1 = S1 ^ (lineIndex >>> 0);
  let h2 = S2 ^ Math.floor(lineIndex / 0x100000000);
  let h3 = S3 ^ Math.imul(length + 1, 0x85ebca77);
  for (let i = 0; i < WORDS; i += 4) {
    h0 = Math.imul(h0 ^ words[base + i], M0);
    h0 ^= h0 >>> 15;
    h1 = Math.imul(h1 ^ words[base + i + 1], M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 ^ words[base + i + 2], M2);
    h2 ^= h2 >>> 15;
    h3 = Math.imul(h3 ^ words[base + i + 3], M3);
    h3 ^= h3 >>> 15;
  }
  finish(h0, h1, h2, h3, out, at);
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
