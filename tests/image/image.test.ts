// image -- a mutable image set over a read-only base, with its hash kept up to date.

import * as fc from 'fast-check';
import { BaseImage, ImageSet, lineSpan } from '../../harness/image/image';
import { hashImages } from '../../harness/image/line-hash';

const writeArb = fc.record({ file: fc.nat(), at: fc.nat(), bytes: fc.uint8Array({ minLength: 0, maxLength: 150 }) });

describe('ImageSet', () => {
  it('equals the naive fold of its writes, keeps its hash current, and leaves the base alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 3 }),
        fc.array(writeArb, { maxLength: 20 }),
        fc.boolean(),
        (files, writes, asBuffers) => {
          // Buffers: slice() of a Buffer is a view, a classic way to write into the base by mistake.
          const base = files.map((f) => (asBuffers ? Buffer.from(f) : Uint8Array.from(f)));
          const before = base.map((f) => Uint8Array.from(f));
          const set = new ImageSet(new BaseImage(base), { hashed: true });
          const naive = files.map((f) => Uint8Array.from(f));
          for (const { file, at, bytes } of writes) {
            const fileId = file % files.length;
            const offset = at % naive[fileId].length;
            const data = bytes.subarray(0, naive[fileId].length - offset);
            set.write(fileId, offset, data);
            naive[fileId].set(data, offset);
            expect(set.hash()).toBe(hashImages(naive));
          }
          const out = set.patch().toBytes();
          expect(out).toEqual(naive);
          expect(out.every((f) => !Buffer.isBuffer(f))).toBe(true);
          out[0][0] ^= 1;
          expect(set.patch().toBytes()).toEqual(naive);
          expect(base.map((f) => Uint8Array.from(f))).toEqual(before);
        },
      ),
    );
  });

  it('hashes equal content reached by different write orders equally', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(writeArb, { maxLength: 10 }),
        (image, writes) => {
          const a = new ImageSet(new BaseImage([image]), { hashed: true });
          const b = new ImageSet(new BaseImage([image]), { hashed: true });
          const clipped = writes.map(({ at, bytes }) => {
            const offset = at % image.length;
            return { offset, data: bytes.subarray(0, image.length - offset) };
          });
          for (const { offset, data } of clipped) a.write(0, offset, data);
          // b: scribble first, then write the final content line by line, last line first.
          for (const { offset, data } of [...clipped].reverse())
            b.write(
              0,
              offset,
              data.map((x) => x ^ 0x5a),
            );
          const final = a.patch().toBytes()[0];
          for (let line = Math.ceil(image.length / 64) - 1; line >= 0; line--) {
            b.setLine(0, line, final.subarray(line * 64, Math.min(image.length, line * 64 + 64)));
          }
          expect(b.hash()).toBe(a.hash());
          expect(b.patch().toBytes()).toEqual(a.patch().toBytes());
        },
      ),
    );
  });

  it('copies lines between sets, reads lines, and reports the short last line', () => {
    const base = new BaseImage([new Uint8Array(100)]);
    const from = new ImageSet(base, { hashed: false });
    const to = new ImageSet(base, { hashed: true });
    from.write(0, 90, Uint8Array.from([1, 2, 3]));
    expect(to.lineLength(0, 1)).toBe(36);
    expect(to.lineCount(0)).toBe(2);
    to.copyLine(from, 0, 1);
    expect(to.line(0, 1)[26]).toBe(1);
    expect([...to.changedLines(0)]).toEqual([1]);
    expect(to.hash()).toBe(hashImages(from.patch().toBytes()));
    expect(() => from.hash()).toThrow(/hashed/);
    expect(() => to.setLine(0, 0, new Uint8Array(10))).toThrow(RangeError);
  });

  it('computes line spans', () => {
    expect(lineSpan(0, 0)).toEqual({ first: 0, end: 0 });
    expect(lineSpan(63, 2)).toEqual({ first: 0, end: 2 });
    expect(lineSpan(64, 64)).toEqual({ first: 1, end: 2 });
  });
});
