// syscall-effect -- what a syscall made inside a region can do to PM, from
// its number and arguments (x86-64 Linux numbering).
//
// write-family syscalls on a PM file are durable writes; msync, fsync and
// fdatasync make content durable; mmap, munmap and mremap change where PM is
// mapped. For the rest the tracer compares the PM mappings before and after
// (docs/architecture.md, "Terms", PM (c)), except for syscalls that cannot write user memory.

export type SyscallEffect =
  | { kind: 'write'; fd: number; /** absent: at the file position */ offset?: number }
  | { kind: 'fsync'; fd: number }
  | { kind: 'msync'; address: number; length: number }
  | { kind: 'remap' }
  /** The kernel changes the file behind fd with no user buffer to follow. */
  | { kind: 'fileChange'; fd: number }
  | { kind: 'harmless' }
  | { kind: 'other' };

const enum Nr {
  Write = 1,
  Close = 3,
  Lseek = 8,
  Mmap = 9,
  Mprotect = 10,
  Munmap = 11,
  Brk = 12,
  Pwrite64 = 18,
  Writev = 20,
  SchedYield = 24,
  Mremap = 25,
  Msync = 26,
  Madvise = 28,
  Getpid = 39,
  Exit = 60,
  Sendfile = 40,
  Fsync = 74,
  Ftruncate = 77,
  Splice = 275,
  Fallocate = 285,
  CopyFileRange = 326,
  Fdatasync = 75,
  Gettid = 186,
  ExitGroup = 231,
  Pwritev = 296,
  Pwritev2 = 328,
}

/** Syscalls that write no user memory, so PM cannot change through them. */
const HARMLESS = new Set<number>([Nr.Close, Nr.Lseek, Nr.Mprotect, Nr.Brk, Nr.SchedYield, Nr.Madvise, Nr.Getpid, Nr.Exit, Nr.Gettid, Nr.ExitGroup]);

export function syscallEffect(nr: number, args: number[]): SyscallEffect {
  switch (nr) {
    case Nr.Write:
    case Nr.Writev:
      return { kind: 'write', fd: args[0] };
    case Nr.Pwrite64:
    case Nr.Pwritev:
      return { kind: 'write', fd: args[0], offset: args[3] };
    case Nr.Pwritev2:
      // offset -1 means "at the file position", like writev.
      return args[3] === -1 || args[3] >= 2 ** 63 ? { kind: 'write', fd: args[0] } : { kind: 'write', fd: args[0], offset: args[3] };
    case Nr.Fsync:
    case Nr.Fdatasync:
      return { kind: 'fsync', fd: args[0] };
    case Nr.Msync:
      return { kind: 'msync', address: args[0], length: args[1] };
    case Nr.Sendfile:
    case Nr.Ftruncate:
    case Nr.Fallocate:
      return { kind: 'fileChange', fd: args[0] };
    case Nr.Splice:
    case Nr.CopyFileRange:
      return { kind: 'fileChange', fd: args[2] };
    case Nr.Mmap:
    case Nr.Munmap:
    case Nr.Mremap:
      return { kind: 'remap' };
    default:
      return HARMLESS.has(nr) ? { kind: 'harmless' } : { kind: 'other' };
  }
}
