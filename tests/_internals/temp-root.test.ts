// Where crash images go: /dev/shm when the temporary directory is on a disk
// and the memory file system has room (a recovery that syncs its file does
// not wait for the disk), the temporary root otherwise; both roots go at the
// end.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {
  imageDir,
  imageGoesToMemory,
  MEMORY_PARENT,
  memoryParent,
  removeTempRoot,
  tempParents,
  tempPath,
  tempRoot,
  underTempRoot,
} from '../../harness/_internals/temp-root';

const MiB = 1024 * 1024;
const savedTmpdir = process.env.PMFIT_TMPDIR;

afterEach(() => {
  removeTempRoot();
  if (savedTmpdir === undefined) delete process.env.PMFIT_TMPDIR;
  else process.env.PMFIT_TMPDIR = savedTmpdir;
});

test('an image set goes to memory only with room to spare', () => {
  expect(imageGoesToMemory(16 * MiB, undefined)).toBe(false);
  expect(imageGoesToMemory(16 * MiB, 64 * MiB)).toBe(false); // a container's small /dev/shm
  expect(imageGoesToMemory(16 * MiB, 8 * 16 * MiB + 256 * MiB - 1)).toBe(false);
  expect(imageGoesToMemory(16 * MiB, 8 * 16 * MiB + 256 * MiB)).toBe(true);
  expect(imageGoesToMemory(2 ** 40, 24 * 1024 * MiB)).toBe(false);
});

test('PMFIT_TMPDIR holds the images too', () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-temp-root-test-'));
  try {
    process.env.PMFIT_TMPDIR = parent;
    expect(memoryParent()).toBeUndefined();
    expect(tempParents()).toEqual([parent]);
    const dir = imageDir(16 * MiB);
    expect(path.dirname(dir)).toBe(tempRoot());
    expect(path.basename(dir)).toMatch(/^\d+-image$/);
    removeTempRoot();
    expect(fs.readdirSync(parent)).toEqual([]);
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('without PMFIT_TMPDIR, a small image set goes to /dev/shm when the temporary directory is on a disk', () => {
  delete process.env.PMFIT_TMPDIR;
  const memory = memoryParent();
  const small = imageDir(16 * MiB);
  const huge = imageDir(2 ** 50);
  // a huge image set never goes to memory
  expect(path.dirname(huge)).toBe(tempRoot());
  if (memory === undefined) {
    // the temporary directory is in memory already, or there is no /dev/shm
    expect(path.dirname(small)).toBe(tempRoot());
    expect(tempParents()).toEqual([path.dirname(tempRoot())]);
    return;
  }
  expect(memory).toBe(MEMORY_PARENT);
  expect(tempParents()).toEqual([path.dirname(tempRoot()), MEMORY_PARENT]);
  const root = path.dirname(small);
  expect(path.dirname(root)).toBe(MEMORY_PARENT);
  // the same name as the temporary root, so stale roots are found alike
  expect(path.basename(root).replace(/-[A-Za-z0-9]{6}$/, '')).toBe(
    path.basename(tempRoot()).replace(/-[A-Za-z0-9]{6}$/, ''),
  );
  expect(path.basename(small)).toMatch(/^\d+-image$/);
  fs.writeFileSync(path.join(small, 'pool'), 'x');
  removeTempRoot();
  expect(fs.existsSync(root)).toBe(false);
  expect(fs.existsSync(huge)).toBe(false);
});

test('underTempRoot: names under the root, not the root itself nor a sibling that starts like it', () => {
  const root = tempRoot();
  expect(underTempRoot(tempPath('trace'))).toBe(true);
  expect(underTempRoot(path.join(root, 'a', 'b'))).toBe(true);
  expect(underTempRoot(root)).toBe(false);
  expect(underTempRoot(`${root}x/trace`)).toBe(false);
  expect(underTempRoot(path.join(os.tmpdir(), 'trace'))).toBe(false);
  removeTempRoot();
  expect(underTempRoot(path.join(root, 'trace'))).toBe(false);
});
