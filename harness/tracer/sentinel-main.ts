// sentinel-main -- the sentinel process (sentinel.ts): waits for pmfit to
// end, then kills every process that carries pmfit's run mark and removes
// pmfit's temporary roots.
//
//   node sentinel-main.js MARK RUN-TOKEN TEMP-PARENT...
//
// (the temporary directory, and /dev/shm when crash images go there,
// temp-root.ts)
//
// Its stdin is a pipe whose only writer is pmfit: end of file means pmfit
// is gone, however it ended (SIGKILL included). After a normal exit pmfit
// has already killed its descendants (descendants.ts), and usually the
// sentinel with them; this is the path for when it could not.

import * as fs from 'fs';
import * as path from 'path';

const [runMark, token, ...parents] = process.argv.slice(2);
const mark = Buffer.from(`PMFIT_RUN=${runMark}\0`);

/** marked -- live processes whose environment carries the run mark (a
 *  zombie's environment reads as empty). */
function marked(): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`).includes(mark)) found.push(Number(entry));
    } catch {
      // gone, or another user's
    }
  }
  return found;
}

/** killMarked -- round after round, until a scan finds none: a process
 *  forked between a scan and the kill carries the mark into the next. */
function killMarked(): void {
  for (let round = 0; round < 100; round += 1) {
    const live = marked();
    if (live.length === 0) return;
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

/** removeRoots -- pmfit's temporary roots (temp-root.ts names them
 *  pmfit-TOKEN-XXXXXX), now that nothing writes into them. */
function removeRoots(): void {
  for (const parent of parents) {
    let entries: string[];
    try {
      entries = fs.readdirSync(parent);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.startsWith(`pmfit-${token}-`))
        fs.rmSync(path.join(parent, entry), { recursive: true, force: true, maxRetries: 3 });
    }
  }
}

function finish(): void {
  try {
    killMarked();
    removeRoots();
  } finally {
    process.exit(0);
  }
}

process.stdin.on('end', finish);
process.stdin.on('error', finish);
process.stdin.resume();
