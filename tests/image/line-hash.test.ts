// line-hash -- per-line hashes summed into an image hash.

import * as fc from 'fast-check';
import {
  hashFileInto,
  hashImages,
  hashLine,
  hashZerosInto,
  lanesToString,
  newLanes,
} from '../../harness/image/line-hash';

const imagesArb = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 3 });

/** hashBySlowPath -- line by line through hashLine, for comparison. */
function slowHash(files: Uint8Array[]): string {
  const sum = newLanes();
  const h = newLanes();
  files.forEach((image, fileId) => {
    for (let line = 0; line * 64 < image.length; line++) {
      hashLine(fileId, line, image, line * 64, Math.min(64, image.length - line * 64), h);
      for (let i = 0; i < 4; i++) sum[i] += h[i];
    }
  });
  return lanesToString(sum);
}

describe('image hash', () => {
  it('is the same through the aligned fast path, an unaligned view and line by line', () => {
    fc.assert(
      fc.property(imagesArb, fc.integer({ min: 1, max: 3 }), (files, shift) => {
        const unaligned = files.map((image) => {
          const buffer = new Uint8Array(image.length + shift);
          buffer.set(image, shift);
          return buffer.subarray(shift);
        });
        const expected = slowHash(files);
        expect(hashImages(files)).toBe(expected);
        expect(hashImages(unaligned)).toBe(expected);
      }),
    );
  });

  it('gives equal images equal hashes and changed images other hashes', () => {
    fc.assert(
      fc.property(imagesArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (files, where, xor) => {
        expect(hashImages(files.map((f) => Uint8Array.from(f)))).toBe(hashImages(files));
        const fileId = where % files.length;
        fc.pre(files[fileId].length > 0);
        const changed = files.map((f) => Uint8Array.from(f));
        changed[fileId][where % changed[fileId].length] ^= xor;
        expect(hashImages(changed)).not.toBe(hashImages(files));
      }),
      { numRuns: 1000 },
    );
  });

  it('tells apart distinct random images of equal sizes', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 200 })
          .chain((size) =>
            fc.tuple(
              fc.uint8Array({ minLength: size, maxLength: size }),
              fc.uint8Array({ minLength: size, maxLength: size }),
            ),
          ),
        ([a, b]) => {
          expect(hashImages([a]) === hashImages([b])).toBe(Buffer.from(a).equals(Buffer.from(b)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('depends on where a line is: swapped lines, swapped files, other sizes', () => {
    const a = new Uint8Array(64).fill(1);
    const b = new Uint8Array(64).fill(2);
    const ab = new Uint8Array(128);
    ab.set(a, 0);
    ab.set(b, 64);
    const ba = new Uint8Array(128);
    ba.set(b, 0);
    ba.set(a, 64);
    expect(hashImages([ab])).not.toBe(hashImages([ba]));
    expect(hashImages([a, b])).not.toBe(hashImages([b, a]));
    expect(hashImages([new Uint8Array(64)])).not.toBe(hashImages([new Uint8Array(128)]));
    expect(hashImages([new Uint8Array(60)])).not.toBe(hashImages([new Uint8Array(61)]));
    expect(hashImages([new Uint8Array(0), new Uint8Array(8)])).not.toBe(
      hashImages([new Uint8Array(8), new Uint8Array(0)]),
    );
  });

  it('changes every output lane for a one-bit change (mixing)', () => {
    const line = new Uint8Array(64);
    const h0 = newLanes();
    const h1 = newLanes();
    hashLine(0, 0, line, 0, 64, h0);
    for (let bit = 0; bit < 512; bit++) {
      line[bit >> 3] ^= 1 << (bit & 7);
      hashLine(0, 0, line, 0, 64, h1);
      line[bit >> 3] ^= 1 << (bit & 7);
      for (let lane = 0; lane < 4; lane++) expect(h1[lane]).not.toBe(h0[lane]);
    }
  });

  it('adds file hashes into a running sum', () => {
    const files = [Uint8Array.from([1, 2, 3]), new Uint8Array(130).fill(9)];
    const sum = newLanes();
    hashFileInto(1, files[1], sum);
    hashFileInto(0, files[0], sum);
    expect(lanesToString(sum)).toBe(hashImages(files));
    expect(hashImages(files)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps its values: hashes named in results.json are reproduced later', () => {
    const zeros = new Uint8Array(1000);
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
    expect(hashImages([zeros, bytes])).toBe('45892a4918e4fa5c86684b0002bbcdbc');
    const h = newLanes();
    hashLine(2, 2 ** 32 + 3, new Uint8Array(64), 0, 64, h);
    expect(lanesToString(h)).toBe('25a554ffb6fb9e932f8acefe2f51a4e7');
  });
});

describe('hashZerosInto', () => {
  it('adds what hashFileInto adds for the same zeros, without them', () => {
    fc.assert(
      fc.property(fc.nat(4), fc.nat(300), fc.nat(1000), (fileId, length, firstLine) => {
        const expected = Uint32Array.from([1, 2, 3, 4]);
        hashFileInto(fileId, new Uint8Array(length), expected, firstLine);
        const sum = Uint32Array.from([1, 2, 3, 4]);
        hashZerosInto(fileId, length, sum, firstLine);
        expect(lanesToString(sum)).toBe(lanesToString(expected));
      }),
    );
  });

  it('past 2^32 lines (a 256 GiB file), where the line index takes a second word', () => {
    const firstLine = 2 ** 32 - 2;
    const expected = newLanes();
    const h = newLanes();
    for (let line = firstLine; line < firstLine + 4; line++) {
      hashLine(3, line, new Uint8Array(64), 0, 64, h);
      for (let lane = 0; lane < 4; lane++) expected[lane] += h[lane];
    }
    const sum = newLanes();
    hashZerosInto(3, 4 * 64, sum, firstLine);
    expect(lanesToString(sum)).toBe(lanesToString(expected));
  });
});
