// job-limit -- how many recoveries may run at once within the process's
// resource limits (ulimit -n, ulimit -u).
//
// Each running recovery holds descriptors in pmfit (its stdout and stderr
// pipes, for a moment the spawn's own pipe and the image file being
// written) and at least two processes (the shell and the command). With
// `--jobs 1000` under `ulimit -n 1024` the spawns failed with EMFILE part
// way; so --jobs (and the one-per-CPU default) is lowered to what the limits
// leave room for, and the caller says so.

import * as fs from 'fs';

/** Descriptors one running recovery may hold in pmfit at once. */
const FILES_PER_JOB = 4;
/** Descriptors kept free for pmfit itself (trace reader, reports, Node). */
const FILES_RESERVED = 64;
/** Processes one recovery may run at once (a shell and its command). */
const PROCESSES_PER_JOB = 2;
/** Tasks kept free for pmfit's threads that start later (libuv's pool,
 *  V8's workers) and the traced program. */
const PROCESSES_RESERVED = 16;

export interface Limits {
  /** Soft RLIMIT_NOFILE (Infinity: unlimited). */
  openFiles: number;
  /** Descriptors open now. */
  filesInUse: number;
  /** Soft RLIMIT_NPROC (Infinity: unlimited, or root, which it does not bind). */
  processes: number;
  /** Tasks (threads) of the user now, counted only when `processes` is finite. */
  processesInUse: number;
}

export interface JobLimit {
  jobs: number;
  /** Why fewer jobs than asked for, naming the limit (undefined: as asked). */
  lowered?: string;
}

/** limitJobs -- `requested` lowered to what `limits` leave room for (at
 *  least 1: one recovery that cannot start fails with a clear message). */
export function limitJobs(requested: number, limits: Limits): JobLimit {
  const byFiles = Math.floor((limits.openFiles - limits.filesInUse - FILES_RESERVED) / FILES_PER_JOB);
  const byProcesses = Math.floor((limits.processes - limits.processesInUse - PROCESSES_RESERVED) / PROCESSES_PER_JOB);
  if (requested <= byFiles && requested <= byProcesses) return { jobs: requested };
  const jobs = Math.max(1, Math.min(requested, byFiles, byProcesses));
  const lowered =
    byFiles <= byProcesses
      ? `the open-file limit (ulimit -n) is ${limits.openFiles}, with ${limits.filesInUse} in use`
      : `the process limit (ulimit -u) is ${limits.processes}, with ${limits.processesInUse} running`;
  return { jobs, lowered };
}

/** A soft limit from /proc/self/limits ("Max open files  1024  4096  files"). */
function softLimit(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name));
  const soft = line?.slice(name.length).trim().split(/\s+/)[0];
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
}

/** The user's tasks: RLIMIT_NPROC counts threads, not processes. */
function tasksOf(uid: number): number {
  let count = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.statSync(`/proc/${entry}`).uid === uid) count += fs.readdirSync(`/proc/${entry}/task`).length;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

/** currentLimits -- this process's limits and use, from /proc. */
export function currentLimits(): Limits {
  const text = fs.readFileSync('/proc/self/limits', 'utf8');
  const uid = process.getuid?.() ?? 0;
  // root (CAP_SYS_RESOURCE) is not held to RLIMIT_NPROC
  const processes = uid === 0 ? Infinity : softLimit(text, 'Max processes');
  return {
    openFiles: softLimit(text, 'Max open files'),
    filesInUse: fs.readdirSync('/proc/self/fd').length,
    processes,
    processesInUse: Number.isFinite(processes) ? tasksOf(uid) : 0,
  };
}
