// syscall-effect -- what a syscall made inside a region can do to PM, from
// its number and arguments (x86-64 Linux numbering).
//
// Every syscall the recorder follows exactly has a kind of its own here
// (docs/recording.md lists them with the rule for each); for the rest the
// tracer compares the PM mappings before and after (kind 'other'), except
// for syscalls that cannot change user memory or a file's content
// ('harmless'). A syscall whose effect on PM cannot be followed at all is
// 'refused', with the reason for the one-line error.

export type SyscallEffect =
  /** Data written to fd: at `offset` (absent: the file position), or at the
   *  end of the file when `append` is 'always', or when it is 'fd' and fd
   *  was opened with O_APPEND (pwrite(2), BUGS: Linux appends whatever the
   *  offset). */
  | { kind: 'write'; fd: number; offset?: number; append: 'fd' | 'always' | 'never' }
  /** The whole file behind fd becomes durable. */
  | { kind: 'fsync'; fd: number }
  /** sync_file_range: [offset, offset + length) of fd (length 0: to the
   *  end) becomes durable when `durable` (the write-out was waited for). */
  | { kind: 'syncRange'; fd: number; offset: number; length: number; durable: boolean }
  /** Every PM file (sync), or those on fd's filesystem (syncfs). */
  | { kind: 'syncAll'; fd?: number }
  | { kind: 'msync'; address: number; length: number }
  | { kind: 'remap' }
  /** sendfile, copy_file_range, splice: the kernel copies into outFd at
   *  *outPointer (0: at outFd's position) and updates the offsets at
   *  `pointers` in user memory, which may be PM. */
  | { kind: 'transfer'; outFd: number; outPointer: number; pointers: number[] }
  /** fallocate: punch-hole and zero-range modes zero [offset, offset+length). */
  | { kind: 'fallocate'; fd: number; mode: number; offset: number; length: number }
  /** ftruncate: only a size change, which the recorder refuses. */
  | { kind: 'resize'; fd: number }
  /** madvise(MADV_REMOVE): the file behind [address, address + length) is
   *  freed, and reads back as zeros. */
  | { kind: 'punch'; address: number; length: number }
  /** ioctl(FICLONE, FICLONERANGE): fd's content replaced by another
   *  file's; refused when fd is a PM file, else like 'other'. */
  | { kind: 'clone'; fd: number }
  | { kind: 'refused'; why: string }
  | { kind: 'harmless' }
  | { kind: 'other' };

const enum Nr {
  Write = 1,
  Close = 3,
  Lseek = 8,
  Ioctl = 16,
  Mmap = 9,
  Mprotect = 10,
  Munmap = 11,
  Brk = 12,
  RtSigreturn = 15,
  Pwrite64 = 18,
  Writev = 20,
  SchedYield = 24,
  Mremap = 25,
  Msync = 26,
  Madvise = 28,
  Getpid = 39,
  Sendfile = 40,
  Exit = 60,
  Fsync = 74,
  Fdatasync = 75,
  Ftruncate = 77,
  Sync = 162,
  Gettid = 186,
  IoSubmit = 209,
  ExitGroup = 231,
  Splice = 275,
  SyncFileRange = 277,
  Fallocate = 285,
  Pwritev = 296,
  Syncfs = 306,
  CopyFileRange = 326,
  Pwritev2 = 328,
  IoUringEnter = 426,
}

/** Names of the syscalls above, for messages. */
const NAMES: Record<number, string> = {
  [Nr.Write]: 'write',
  [Nr.Pwrite64]: 'pwrite64',
  [Nr.Writev]: 'writev',
  [Nr.Pwritev]: 'pwritev',
  [Nr.Pwritev2]: 'pwritev2',
  [Nr.Msync]: 'msync',
  [Nr.Madvise]: 'madvise',
  [Nr.Sendfile]: 'sendfile',
  [Nr.Fsync]: 'fsync',
  [Nr.Fdatasync]: 'fdatasync',
  [Nr.Ftruncate]: 'ftruncate',
  [Nr.Sync]: 'sync',
  [Nr.IoSubmit]: 'io_submit',
  [Nr.Splice]: 'splice',
  [Nr.SyncFileRange]: 'sync_file_range',
  [Nr.Fallocate]: 'fallocate',
  [Nr.Syncfs]: 'syncfs',
  [Nr.CopyFileRange]: 'copy_file_range',
  [Nr.IoUringEnter]: 'io_uring_enter',
  [Nr.Mmap]: 'mmap',
  [Nr.Munmap]: 'munmap',
  [Nr.Mremap]: 'mremap',
  [Nr.Ioctl]: 'ioctl',
  [Nr.Exit]: 'exit',
  [Nr.ExitGroup]: 'exit_group',
};

/** syscallName -- "pwrite64", or "syscall 76" for one without a name here. */
export function syscallName(nr: number): string {
  return NAMES[nr] ?? `syscall ${nr}`;
}

/** Syscalls that write no user memory and no file, so PM cannot change through them. */
const HARMLESS = new Set<number>([
  Nr.Close,
  Nr.Lseek,
  Nr.Mprotect,
  Nr.Brk,
  Nr.RtSigreturn,
  Nr.SchedYield,
  Nr.Getpid,
  Nr.Exit,
  Nr.Gettid,
  Nr.ExitGroup,
]);

const RWF_APPEND = 0x10;
const RWF_NOAPPEND = 0x20;
const SYNC_FILE_RANGE_WRITE = 2;
const SYNC_FILE_RANGE_WAIT_AFTER = 4;
const MS_SYNC = 4;
const MADV_REMOVE = 9;
const FICLONE = 0x40049409;
const FICLONERANGE = 0x4020940d;
const MADV_HWPOISON = 100;
const MADV_SOFT_OFFLINE = 101;

/** Registers hold unsigned 64-bit values; -1 may arrive either way. */
const isMinusOne = (value: number): boolean => value === -1 || value >= 2 ** 63;

export function syscallEffect(nr: number, args: number[]): SyscallEffect {
  switch (nr) {
    case Nr.Write:
    case Nr.Writev:
      return { kind: 'write', fd: args[0], append: 'fd' };
    case Nr.Pwrite64:
    case Nr.Pwritev:
      return { kind: 'write', fd: args[0], offset: args[3], append: 'fd' };
    case Nr.Pwritev2: {
      // offset -1 means "at the file position", like writev; the flags are
      // the sixth argument (the offset takes two registers).
      const offset = isMinusOne(args[3]) ? undefined : args[3];
      const append = args[5] & RWF_APPEND ? 'always' : args[5] & RWF_NOAPPEND ? 'never' : 'fd';
      return { kind: 'write', fd: args[0], ...(offset !== undefined ? { offset } : {}), append };
    }
    case Nr.Fsync:
    case Nr.Fdatasync:
      return { kind: 'fsync', fd: args[0] };
    case Nr.SyncFileRange: {
      const flags = args[3];
      const durable = (flags & SYNC_FILE_RANGE_WRITE) !== 0 && (flags & SYNC_FILE_RANGE_WAIT_AFTER) !== 0;
      return { kind: 'syncRange', fd: args[0], offset: args[1], length: args[2], durable };
    }
    case Nr.Sync:
      return { kind: 'syncAll' };
    case Nr.Syncfs:
      return { kind: 'syncAll', fd: args[0] };
    case Nr.Msync:
      // Without MS_SYNC (MS_ASYNC, MS_INVALIDATE) Linux writes nothing
      // back (mm/msync.c): no content becomes durable.
      return args[2] & MS_SYNC ? { kind: 'msync', address: args[0], length: args[1] } : { kind: 'harmless' };
    case Nr.Sendfile:
      return { kind: 'transfer', outFd: args[0], outPointer: 0, pointers: [args[2]] };
    case Nr.Splice:
    case Nr.CopyFileRange:
      return { kind: 'transfer', outFd: args[2], outPointer: args[3], pointers: [args[1], args[3]] };
    case Nr.Fallocate:
      return { kind: 'fallocate', fd: args[0], mode: args[1], offset: args[2], length: args[3] };
    case Nr.Ftruncate:
      return { kind: 'resize', fd: args[0] };
    case Nr.Madvise:
      if (args[2] === MADV_REMOVE) return { kind: 'punch', address: args[0], length: args[1] };
      if (args[2] === MADV_HWPOISON || args[2] === MADV_SOFT_OFFLINE)
        return { kind: 'refused', why: 'poisons or offlines pages' };
      // The other advice changes no content of a shared file mapping
      // (MADV_DONTNEED drops page table entries, the page cache keeps the data).
      return { kind: 'harmless' };
    case Nr.Ioctl:
      return args[1] === FICLONE || args[1] === FICLONERANGE ? { kind: 'clone', fd: args[0] } : { kind: 'other' };
    case Nr.IoSubmit:
    case Nr.IoUringEnter:
      return {
        kind: 'refused',
        why: 'lets the kernel write memory and files after it returns, where pmfit cannot follow',
      };
    case Nr.Mmap:
    case Nr.Munmap:
    case Nr.Mremap:
      return { kind: 'remap' };
    default:
      return HARMLESS.has(nr) ? { kind: 'harmless' } : { kind: 'other' };
  }
}
