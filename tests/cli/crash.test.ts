// crash -- `pmfit crash k` leaves the files as a process killed at k would:
// on basic, the strings completed before k, the one being written torn or
// absent, and nothing after it; past the last instruction, it says the
// program ran to its end on the file.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { runPmfit } from '../helpers/run-pmfit';
import { DEFAULT_STRINGS } from '../../targets/basic/spec';

let dir: string;
const basic = fixture('basic');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-crash-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function freshPool(name: string): string {
  const pool = path.join(dir, name);
  fs.rmSync(pool, { force: true });
  execFileSync('truncate', ['-s', '8192', pool]);
  return pool;
}

function stored(pool: string): string[] {
  const out = execFileSync(basic, [pool], { encoding: 'utf8' });
  return out === '' ? [] : out.replace(/\n$/, '').split('\n');
}

describe('pmfit crash on basic', () => {
  it('leaves exactly the completed strings, the current one torn or absent', () => {
    const total = JSON.parse(
      runPmfit(['count', '--json', '--', basic, freshPool('count.pm'), ...DEFAULT_STRINGS]).stdout,
    ).instructions;
    expect(total).toBeGreaterThan(DEFAULT_STRINGS.length);
    // Crash points spread over the run, the two ends included.
    const points = [0, 1, total - 1, total, ...Array.from({ length: 9 }, (_, i) => Math.floor(((i + 1) * total) / 10))];
    let previousBytes = -1;
    for (const k of [...new Set(points)].sort((a, b) => a - b)) {
      const pool = freshPool(`k${k}.pm`);
      const result = runPmfit(['crash', String(k), '--', basic, pool, ...DEFAULT_STRINGS]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Program terminated after ${k} instructions\n`);
      const strings = stored(pool);
      // Complete strings form a prefix of the workload; at most the last is torn.
      strings.forEach((text, i) => {
        if (i < strings.length - 1) expect(text).toBe(DEFAULT_STRINGS[i]);
        else expect(DEFAULT_STRINGS[i].startsWith(text)).toBe(true);
      });
      const bytes = strings.join('\0').length;
      expect(bytes).toBeGreaterThanOrEqual(previousBytes);
      previousBytes = bytes;
      if (k === 0) expect(strings).toEqual([]);
      if (k === total) expect(strings).toEqual(DEFAULT_STRINGS);
    }
  });
});

describe('pmfit crash past the end', () => {
  it('says the program ran to its end on the file, with the crash points there are; exit 2', () => {
    const total = JSON.parse(
      runPmfit(['count', '--json', '--', basic, freshPool('count-past.pm'), ...DEFAULT_STRINGS]).stdout,
    ).instructions as number;
    const pool = freshPool('past.pm');
    const result = runPmfit(['crash', String(total + 1), '--', basic, pool, ...DEFAULT_STRINGS]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `pmfit: crash point ${total + 1} is past the end: ${basic} runs ${total} instructions in its regions and ran to its end, so its files are as a completed run leaves them, not crashed (crash points: 0 to ${total})\n`,
    );
    // What the README says: the file holds the whole run, not a crash.
    expect(stored(pool)).toEqual(DEFAULT_STRINGS);
  });
});

describe('pmfit crash options', () => {
  // func's work() runs 20 instructions in three calls (tests/fixtures/func.c).
  it("are taken before or after N, and those after -- are the program's", () => {
    const program = fixture('func');
    const counted = runPmfit(['count', '--json', '--function', 'work', '--', program]);
    expect(counted.code).toBe(0);
    const total = (JSON.parse(counted.stdout) as { instructions: number }).instructions;
    expect(total).toBeGreaterThan(2);
    for (const args of [
      ['crash', '2', '--function', 'work', '--', program],
      ['crash', '--function', 'work', '2', '--', program],
    ]) {
      const result = runPmfit(args);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(result.stdout).toContain('Program terminated after 2 instructions\n');
    }
    const past = runPmfit(['crash', String(total + 1), '--max-steps', '1000000', '--function', 'work', '--', program]);
    expect(past.code).toBe(2);
    expect(past.stderr).toContain(`runs ${total} instructions in its regions`);
  });
});
