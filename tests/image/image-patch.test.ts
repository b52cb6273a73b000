// image-patch -- a crash image as base + changed lines: the same bytes as a
// whole copy, written whole when small and sparse when large.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { EXTENT } from '../../harness/_internals/chunked-bytes';
import { BaseImage, ImageSet } from '../../harness/image/image';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-image-patch-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ImagePatch', () => {
  it('holds its own copies of the changed lines', () => {
    const set = new ImageSet(new BaseImage([new Uint8Array(256)]), { hashed: false });
    set.write(0, 70, Uint8Array.from([7]));
    const patch = set.patch();
    set.write(0, 70, Uint8Array.from([9]));
    expect(patch.toBytes()[0][70]).toBe(7);
    expect(patch.patchBytes).toBe(64);
    expect([...patch.patchedLines(0)]).toEqual([1]);
    patch.setLine(0, 3, new Uint8Array(64).fill(5));
    expect(patch.line(0, 3)[0]).toBe(5);
    expect(set.line(0, 3)[0]).toBe(0);
  });

  it('writes a large file sparse, with the same bytes as a whole copy', async () => {
    const size = 8 * 1024 * 1024 + 100; // over the whole-file limit, a short last line
    const base = new Uint8Array(size);
    base.fill(1, 3 * EXTENT + 10, 3 * EXTENT + 20);
    base.fill(2, size - 30);
    const set = new ImageSet(new BaseImage([base]), { hashed: false });
    set.write(0, 5 * 64, new Uint8Array(3 * 64).fill(3)); // a run of three lines
    set.write(0, 100 * EXTENT + 1, Uint8Array.from([4]));
    const patch = set.patch();
    const file = path.join(dir, 'big.pm');
    await patch.writeFile(0, file);
    expect(fs.readFileSync(file).equals(Buffer.from(patch.toBytes()[0]))).toBe(true);
    // base extents 3 and the last, plus two patched extents: far less than 8 MiB on disk
    expect(fs.statSync(file).blocks * 512).toBeLessThan(1024 * 1024);
  });

  it('writes any small image exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 500 }),
        fc.array(fc.tuple(fc.nat(499), fc.uint8Array({ minLength: 1, maxLength: 70 })), { maxLength: 6 }),
        async (image, writes) => {
          const set = new ImageSet(new BaseImage([image]), { hashed: false });
          for (const [at, bytes] of writes) {
            const offset = at % image.length;
            set.write(0, offset, bytes.subarray(0, image.length - offset));
          }
          const file = path.join(dir, 'small.pm');
          await set.patch().writeFile(0, file);
          expect(Uint8Array.from(fs.readFileSync(file))).toEqual(set.patch().toBytes()[0]);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('BaseImage', () => {
  it('is one per array of images', () => {
    const files = [new Uint8Array(5 * EXTENT)];
    const base = BaseImage.of(files);
    expect(BaseImage.of(files)).toBe(base);
    expect(BaseImage.of([files[0]])).not.toBe(base);
  });
});
