// user-cache.test -- where pmfit's cache lives (its own variable, XDG's, the
// home directory; `off`), entries written whole and read back, and every
// failure an absent entry: a corrupt file, an unwritable directory.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  cacheDir,
  cacheEntryPath,
  readCacheBytes,
  readCacheEntry,
  writeCacheBytes,
  writeCacheEntry,
} from '../../harness/_internals/user-cache';
import { useTempCacheDir } from '../helpers/temp-cache-dir';

const tempCache = useTempCacheDir();

describe('cacheDir', () => {
  test('PMFIT_CACHE_DIR first, relative to the start directory, `off` for none', () => {
    expect(cacheDir({ PMFIT_CACHE_DIR: '/a/b', XDG_CACHE_HOME: '/x' })).toBe('/a/b');
    expect(cacheDir({ PMFIT_CACHE_DIR: 'rel' })).toBe(path.resolve('rel'));
    expect(cacheDir({ PMFIT_CACHE_DIR: 'off', XDG_CACHE_HOME: '/x' })).toBeUndefined();
  });

  test('then an absolute XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/pmfit');
    expect(cacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(path.join(os.homedir(), '.cache', 'pmfit'));
    expect(cacheDir({ PMFIT_CACHE_DIR: '' })).toBe(path.join(os.homedir(), '.cache', 'pmfit'));
  });
});

test('an entry written is read back, under the cache directory, with no temporary file left', () => {
  writeCacheEntry('kind', '/some/file', { key: 'k', value: [1, 2] });
  expect(readCacheEntry('kind', '/some/file')).toEqual({ key: 'k', value: [1, 2] });
  const file = cacheEntryPath('kind', '/some/file')!;
  expect(path.dirname(path.dirname(file))).toBe(tempCache());
  expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
  expect(readCacheEntry('kind', '/other/file')).toBeUndefined();
  expect(readCacheEntry('other', '/some/file')).toBeUndefined();
});

test("an entry of a caller's own form is read back as written, apart from the same name's JSON", () => {
  writeCacheBytes('kind', 'name', 'lines', 'v1\nkey {"a":1}');
  writeCacheEntry('kind', 'name', { a: 2 });
  expect(readCacheBytes('kind', 'name', 'lines')?.toString()).toBe('v1\nkey {"a":1}');
  expect(readCacheEntry('kind', 'name')).toEqual({ a: 2 });
  expect(cacheEntryPath('kind', 'name', 'lines')).not.toBe(cacheEntryPath('kind', 'name'));
  expect(readCacheBytes('kind', 'other', 'lines')).toBeUndefined();
});

test("a temporary entry whose writer is gone is removed by the next write, a live writer's kept", () => {
  writeCacheEntry('kind', 'first', { a: 1 });
  const dir = path.dirname(cacheEntryPath('kind', 'first')!);
  const entry = path.basename(cacheEntryPath('kind', 'second')!);
  // a pid above the kernel's pid_max (2^22) names no process
  const orphan = `${entry}.${(1 << 22) + 1}.0badcafe.tmp`;
  const live = `${entry}.${process.pid}.0badcafe.tmp`;
  for (const temp of [orphan, live]) fs.writeFileSync(path.join(dir, temp), '{"a"');
  writeCacheEntry('kind', 'third', { a: 3 });
  expect(fs.readdirSync(dir).sort()).toEqual(
    [path.basename(cacheEntryPath('kind', 'first')!), path.basename(cacheEntryPath('kind', 'third')!), live].sort(),
  );
});

test('a corrupt entry reads as none, and a new write replaces it', () => {
  writeCacheEntry('kind', 'name', { a: 1 });
  const file = cacheEntryPath('kind', 'name')!;
  fs.writeFileSync(file, '{"a": 1');
  expect(readCacheEntry('kind', 'name')).toBeUndefined();
  writeCacheEntry('kind', 'name', { a: 2 });
  expect(readCacheEntry('kind', 'name')).toEqual({ a: 2 });
});

test('a directory that cannot be made is skipped without an error', () => {
  const file = path.join(tempCache(), 'a-file');
  fs.writeFileSync(file, '');
  process.env.PMFIT_CACHE_DIR = path.join(file, 'cache');
  expect(() => writeCacheEntry('kind', 'name', { a: 1 })).not.toThrow();
  expect(readCacheEntry('kind', 'name')).toBeUndefined();
  expect(fs.readdirSync(tempCache())).toEqual(['a-file']);
});

test('off: nothing written or read', () => {
  process.env.PMFIT_CACHE_DIR = 'off';
  writeCacheEntry('kind', 'name', { a: 1 });
  expect(cacheEntryPath('kind', 'name')).toBeUndefined();
  expect(readCacheEntry('kind', 'name')).toBeUndefined();
  expect(fs.readdirSync(tempCache())).toEqual([]);
});
