// leftovers -- what a pmfit run must not leave behind, checked after every
// test that calls useLeftovers(): a process it started (tracee, recovery
// command, anything those started), a file in its temporary root, or a
// change to a file the user owns.
//
// Each test gets its own PMFIT_TMPDIR and a tag in the environment. Every
// process pmfit starts inherits the tag, so an orphan that init adopted
// after pmfit exited is still found by scanning /proc/*/environ; live
// descendants of the test process are checked as well.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { liveDescendants } from '../../harness/_internals/descendants';
import { isAlive, waitFor } from './processes';

export const TAG_VARIABLE = 'PMFIT_TEST_TAG';

export interface Leftovers {
  /** Per-test temporary parent (PMFIT_TMPDIR); must be empty afterwards. */
  readonly tmp: string;
  /** The tag in the environment of every process the test starts. */
  readonly tag: string;
  /** Environment for runPmfit / startPmfit: PMFIT_TMPDIR and the tag. */
  readonly env: NodeJS.ProcessEnv;
  /** Remember files the user owns; the check asserts that their bytes and
   *  mode are unchanged. */
  keep(...files: string[]): void;
  /** The test's live processes running executable `exe` (unlike
   *  processesRunning, blind to other test files' runs of it). */
  running(exe: string): number[];
}

/** Live processes whose environment carries `tag`. */
export function taggedProcesses(tag: string): number[] {
  const needle = Buffer.from(`${TAG_VARIABLE}=${tag}\0`);
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`).includes(needle) && isAlive(Number(entry)))
        found.push(Number(entry));
    } catch {
      // gone, or a kernel thread
    }
  }
  return found;
}

interface Kept {
  file: string;
  bytes: Buffer;
  mode: number;
}

/** useLeftovers -- register the per-test setup and check; `current()` is
 *  the running test's state. */
export function useLeftovers(): { current(): Leftovers } {
  let state: (Leftovers & { kept: Kept[] }) | undefined;

  beforeEach(() => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-leftovers-'));
    const tag = crypto.randomBytes(8).toString('hex');
    const kept: Kept[] = [];
    state = {
      tmp,
      tag,
      kept,
      env: { PMFIT_TMPDIR: tmp, [TAG_VARIABLE]: tag },
      keep: (...files) => {
        for (const file of files) kept.push({ file, bytes: fs.readFileSync(file), mode: fs.statSync(file).mode });
      },
      running: (exe) =>
        taggedProcesses(tag).filter((pid) => {
          try {
            return fs.readlinkSync(`/proc/${pid}/exe`) === exe;
          } catch {
            return false;
          }
        }),
    };
  });

  afterEach(async () => {
    const s = state!;
    state = undefined;
    try {
      // SIGKILLed processes take a moment to be reaped.
      await waitFor(() => taggedProcesses(s.tag).length === 0 && liveDescendants(process.pid).length === 0, 5000);
      expect({ tagged: taggedProcesses(s.tag), children: liveDescendants(process.pid) }).toEqual({
        tagged: [],
        children: [],
      });
      expect(fs.readdirSync(s.tmp)).toEqual([]);
      for (const kept of s.kept) {
        expect({
          file: kept.file,
          same: fs.readFileSync(kept.file).equals(kept.bytes),
          mode: fs.statSync(kept.file).mode.toString(8),
        }).toEqual({ file: kept.file, same: true, mode: kept.mode.toString(8) });
      }
    } finally {
      for (const pid of taggedProcesses(s.tag)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      fs.rmSync(s.tmp, { recursive: true, force: true });
    }
  });

  return {
    current: () => {
      if (!state) throw new Error('useLeftovers: no test is running');
      return state;
    },
  };
}
