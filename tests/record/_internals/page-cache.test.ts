// page-cache.test -- the dirty pages a PM file's page cache reports are
// the pages written since its write-back started: each written page, none
// of a file written back, every page of a file written throughout (the
// range no longer split, native/page_cache.cc), in order and once.

import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../../../harness/_internals/temp-root';
import { pageCacheTracks } from '../../../harness/record/_internals/page-cache';
import { loadNative } from '../../../harness/tracer/native';

const PAGE = 4096;
const SIZE = 8 << 20;

let dir: string;
let fd: number;
beforeAll(() => {
  dir = tempDir('page-cache');
  const file = path.join(dir, 'pm');
  fs.writeFileSync(file, Buffer.alloc(SIZE, 1));
  fd = fs.openSync(file, 'r+');
  // this machine's and CI's temporary directory is on ext4 with cachestat
  expect(pageCacheTracks(file, fd, SIZE)).toBe(true);
});
afterAll(() => {
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The file written back: no page dirty from here on. */
function clean(): void {
  loadNative().writeBack(fd);
  fs.fsyncSync(fd);
}

const dirty = (): number[] => loadNative().dirtyPages(fd, SIZE);

test('a file written back has no dirty page', () => {
  clean();
  expect(dirty()).toEqual([]);
});

test('each written page is reported, in order and once, and far pages are not', () => {
  clean();
  const written = [3, 700, 701, 1500, 2047];
  for (const page of written) fs.writeSync(fd, Buffer.from([2]), 0, 1, page * PAGE + 17);
  const pages = dirty();
  expect(pages).toEqual([...new Set(pages)].sort((a, b) => a - b));
  for (const page of written) expect(pages).toContain(page);
  // a folio is at most 2 MiB: pages 512 away from every write are clean
  for (const page of pages) expect(written.some((w) => Math.abs(w - page) < 512)).toBe(true);
});

test('a file written throughout reports every page', () => {
  clean();
  fs.writeSync(fd, Buffer.alloc(SIZE, 3), 0, SIZE, 0);
  expect(dirty()).toEqual(Array.from({ length: SIZE / PAGE }, (_, page) => page));
  clean();
  fs.writeSync(fd, Buffer.alloc(5 * PAGE, 4), 0, 5 * PAGE, 33 * PAGE);
  const pages = dirty();
  for (let page = 33; page < 38; page++) expect(pages).toContain(page);
  expect(pages).toEqual([...new Set(pages)].sort((a, b) => a - b));
});
