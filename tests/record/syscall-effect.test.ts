// syscall-effect -- the classification of syscalls by number and arguments
// (x86-64): where a write lands, which calls are syncs, which are refused.
// The recorder's use of it is checked against real crashes in
// kernel-writes.test.ts; this covers the argument decoding apart.

import { syscallEffect, syscallName } from '../../harness/record/syscall-effect';

describe('syscallEffect', () => {
  it('write family: the offset argument, the file position, or appending', () => {
    expect(syscallEffect(1, [3, 0, 10, 0, 0, 0])).toEqual({ kind: 'write', fd: 3, append: 'fd' });
    expect(syscallEffect(18, [3, 0, 10, 4096, 0, 0])).toEqual({ kind: 'write', fd: 3, offset: 4096, append: 'fd' });
    // pwritev2(fd, iov, n, pos_l, pos_h, flags): -1 is the file position
    expect(syscallEffect(328, [3, 0, 1, -1, 0, 0])).toEqual({ kind: 'write', fd: 3, append: 'fd' });
    expect(syscallEffect(328, [3, 0, 1, 0, 0, 0x10])).toEqual({ kind: 'write', fd: 3, offset: 0, append: 'always' });
    expect(syscallEffect(328, [3, 0, 1, 8, 0, 0x20])).toEqual({ kind: 'write', fd: 3, offset: 8, append: 'never' });
  });

  it('sync_file_range is durable only when the write-out is waited for', () => {
    expect(syscallEffect(277, [3, 0, 0, 2 | 4, 0, 0])).toMatchObject({ kind: 'syncRange', durable: true });
    expect(syscallEffect(277, [3, 0, 0, 2, 0, 0])).toMatchObject({ kind: 'syncRange', durable: false });
    expect(syscallEffect(277, [3, 0, 0, 1 | 4, 0, 0])).toMatchObject({ kind: 'syncRange', durable: false });
  });

  it('msync is a sync with MS_SYNC only; sync and syncfs are syncs', () => {
    expect(syscallEffect(26, [0x1000, 4096, 4, 0, 0, 0])).toEqual({ kind: 'msync', address: 0x1000, length: 4096 });
    expect(syscallEffect(26, [0x1000, 4096, 1, 0, 0, 0])).toEqual({ kind: 'harmless' });
    expect(syscallEffect(162, [0, 0, 0, 0, 0, 0])).toEqual({ kind: 'syncAll' });
    expect(syscallEffect(306, [5, 0, 0, 0, 0, 0])).toEqual({ kind: 'syncAll', fd: 5 });
  });

  it('transfers name the output and every offset pointer', () => {
    expect(syscallEffect(40, [4, 5, 0x2000, 100, 0, 0])).toEqual({
      kind: 'transfer',
      outFd: 4,
      outPointer: 0,
      pointers: [0x2000],
    });
    expect(syscallEffect(326, [5, 0x2000, 4, 0x2008, 100, 0])).toEqual({
      kind: 'transfer',
      outFd: 4,
      outPointer: 0x2008,
      pointers: [0x2000, 0x2008],
    });
    expect(syscallEffect(275, [5, 0, 4, 0x2008, 100, 0])).toEqual({
      kind: 'transfer',
      outFd: 4,
      outPointer: 0x2008,
      pointers: [0, 0x2008],
    });
  });

  it('madvise: MADV_REMOVE punches, poisoning is refused, other advice is harmless', () => {
    expect(syscallEffect(28, [0x1000, 8192, 9, 0, 0, 0])).toEqual({ kind: 'punch', address: 0x1000, length: 8192 });
    expect(syscallEffect(28, [0x1000, 8192, 100, 0, 0, 0])).toMatchObject({ kind: 'refused' });
    expect(syscallEffect(28, [0x1000, 8192, 4, 0, 0, 0])).toEqual({ kind: 'harmless' });
  });

  it('asynchronous I/O is refused; clone ioctls are singled out; the rest is diffed', () => {
    expect(syscallEffect(426, [3, 1, 0, 0, 0, 0])).toMatchObject({ kind: 'refused' });
    expect(syscallEffect(209, [0, 1, 0, 0, 0, 0])).toMatchObject({ kind: 'refused' });
    expect(syscallEffect(16, [3, 0x40049409, 4, 0, 0, 0])).toEqual({ kind: 'clone', fd: 3 });
    expect(syscallEffect(16, [3, 0x5401, 0, 0, 0, 0])).toEqual({ kind: 'other' });
    expect(syscallEffect(0, [3, 0x1000, 10, 0, 0, 0])).toEqual({ kind: 'other' });
    expect(syscallEffect(15, [0, 0, 0, 0, 0, 0])).toEqual({ kind: 'harmless' });
  });

  it('names syscalls for messages', () => {
    expect(syscallName(18)).toBe('pwrite64');
    expect(syscallName(76)).toBe('syscall 76');
  });
});
