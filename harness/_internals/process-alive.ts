// process-alive -- whether a process of this pid exists: the owner of a lock
// or a temporary file that a pmfit killed by SIGKILL left behind.

/** processAlive -- true when `pid` names a process, ours to signal or not
 *  (EPERM: alive, another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
