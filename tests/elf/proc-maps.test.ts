// proc-maps.test -- the maps format, from a literal and from live processes.

import * as fs from 'fs';
import { parseMaps, readMaps } from '../../harness/elf/proc-maps';

const SAMPLE = [
  '555555554000-555555555000 r--p 00000000 fd:01 1835023                    /tmp/x/tree',
  '555555555000-555555556000 r-xp 00001000 fd:01 1835023                    /tmp/x/tree',
  '7ffff7c00000-7ffff7c28000 r--p 00000000 08:10 263                        /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7ffff7fb0000-7ffff7fb4000 rw-s 00002000 00:2a 99                         /mnt/pm/pool with spaces.img',
  '7ffff7fb4000-7ffff7fb6000 rw-p 00000000 00:00 0 ',
  '7ffff7fb6000-7ffff7fb7000 rw-s 00000000 00:01 4242                       /dev/shm/gone (deleted)',
  '7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]',
  '',
  'not a maps line',
].join('\n');

describe('parseMaps', () => {
  test('fields of each kind of line', () => {
    const entries = parseMaps(SAMPLE);
    expect(entries).toHaveLength(7);
    expect(entries[1]).toEqual({
      start: 0x555555555000,
      end: 0x555555556000,
      perms: 'r-xp',
      offset: 0x1000,
      dev: 'fd:01',
      inode: 1835023,
      path: '/tmp/x/tree',
    });
    expect(entries[3]).toMatchObject({
      perms: 'rw-s',
      offset: 0x2000,
      inode: 99,
      path: '/mnt/pm/pool with spaces.img',
    });
    expect(entries[4]).toMatchObject({ inode: 0, path: '' });
    expect(entries[5].path).toBe('/dev/shm/gone (deleted)');
    expect(entries[6]).toMatchObject({ path: '[vdso]', perms: 'r-xp' });
  });

  test('a line without a path column at all', () => {
    expect(parseMaps('00400000-00401000 ---p 00000000 00:00 0')).toEqual([
      { start: 0x400000, end: 0x401000, perms: '---p', offset: 0, dev: '00:00', inode: 0, path: '' },
    ]);
  });
});

describe('readMaps', () => {
  test('this process: its executable and stack are mapped', () => {
    const entries = readMaps(process.pid);
    const exe = fs.realpathSync(process.execPath);
    const own = entries.find((entry) => entry.path === exe && entry.offset === 0);
    expect(own).toBeDefined();
    expect(own!.inode).toBe(fs.statSync(exe).ino);
    expect(entries.some((entry) => entry.path === '[stack]')).toBe(true);
    for (const entry of entries) expect(entry.end).toBeGreaterThan(entry.start);
  });

  test('a process that does not exist throws', () => {
    expect(() => readMaps(2 ** 22 + 12345)).toThrow(/ENOENT/);
  });
});
