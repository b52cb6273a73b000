// cross-check -- the recorder's check of the PM files against the trace at
// a region's end, when another process writes a 12 MiB PM file during the
// region and makes the write durable at once (tests/fixtures/record/
// record_other.c): the page is clean again by the region's end, so the page
// cache no longer tells it was written. Each case must be refused (exit 2,
// one line naming the first differing offset), never pass silently; with
// --accept-untraced-writes the run goes on, and under allcounts the warning
// is on the console, in results.json and in the HTML report.

import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { killGroup, trackGroup, untrackGroup } from '../../harness/_internals/process-groups';
import { recordTrace } from '../../harness/record/record';
import type { Results } from '../../harness/results/schema';
import { resolveCommand } from '../../harness/tracer/resolve-command';
import { fixture } from '../fixtures';
import { pmfitMessage, runPmfit, startPmfit } from '../helpers/run-pmfit';

const PM_SIZE = 12 << 20;

let scratch: string;

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-cross-check-'));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

function runDir(): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'run-'));
  fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(PM_SIZE, 0x5a));
  fs.writeFileSync(path.join(dir, 'flags'), Buffer.alloc(4096));
  return dir;
}

/** recordOther -- `pmfit record` of record_other MODE on the run directory's
 *  pm.bin and flags into run.trace, `options` before the PM file's. */
const recordOther = (mode: string, options: string[] = [], extra: string[] = []): string[] => [
  'record',
  ...options,
  '--pm',
  'pm.bin',
  '-o',
  'run.trace',
  '--',
  fixture('record_other'),
  mode,
  'pm.bin',
  'flags',
  ...extra,
];

/** untilWritten -- resolves once `file` starts with a line the program wrote. */
async function untilWritten(file: string): Promise<void> {
  while (!/^\d+ /.test(fs.readFileSync(file, 'latin1'))) await new Promise((resolve) => setImmediate(resolve));
}

const refusal = (offset: string, nearest: string, first = '1'): RegExp =>
  new RegExp(
    `^pmfit: PM file pm\\.bin differs from the trace at offset ${offset} at the end of the region of instructions ${first}\\.\\.\\d+: ${nearest}; a write pmfit did not follow .*\\(--accept-untraced-writes records anyway\\)$`,
  );

describe('a PM page written by another process and made durable during a region (12 MiB file)', () => {
  it.each(['fsync', 'none'])(
    "written into the program's own mapping by a process pmfit did not start, then %s: refused",
    async (sync) => {
      // process_vm_writev(2) writes through the program's page tables,
      // as a store pmfit did not follow would; fsync cleans the page.
      // --exact: the fast recorder keeps the program's PM pages
      // write-protected, where process_vm_writev fails with EFAULT.
      const dir = runDir();
      const running = startPmfit(recordOther('external', ['--exact']), { cwd: dir });
      try {
        await untilWritten(path.join(dir, 'flags'));
        const poke = spawnSync(fixture('record_other'), ['poke', 'pm.bin', 'flags', sync], {
          cwd: dir,
          timeout: 60_000,
        });
        expect(poke.status).toBe(0);
        const result = await running.done;
        expect(result.code).toBe(2);
        expect(pmfitMessage(result)).toMatch(refusal('0x900008', 'no recorded write touched that page'));
        expect(fs.existsSync(path.join(dir, 'run.trace'))).toBe(false);
      } finally {
        // without the poke the program waits for ever: a failed check
        // must not leave the recording and its tracee running
        if (running.child.exitCode === null && running.child.signalCode === null) {
          running.child.kill('SIGTERM');
          await running.done;
        }
      }
    },
  );

  // The later- modes fork between two regions: the recorder looks for
  // other processes again only after the program created one (record.ts,
  // otherProcesses), and this fork comes after the first region's look
  // found none.
  it.each([
    ['before the region', 'child-write', '1'],
    ['before the region', 'child-map', '1'],
    ['between two regions', 'later-child-write', '\\d+'],
    ['between two regions', 'later-child-map', '\\d+'],
  ])('by a child the program forked %s (%s, then fsync or msync): refused', (_when, mode, first) => {
    const dir = runDir();
    const result = runPmfit(recordOther(mode), { cwd: dir });
    expect(result.code).toBe(2);
    expect(pmfitMessage(result)).toMatch(refusal('0x900008', 'no recorded write touched that page', first));
    expect(fs.existsSync(path.join(dir, 'run.trace'))).toBe(false);
  });

  it('on a page the program wrote: the message names the last recorded write to it', () => {
    const dir = runDir();
    const result = runPmfit(recordOther('child-write', [], ['40']), { cwd: dir });
    expect(result.code).toBe(2);
    expect(pmfitMessage(result)).toMatch(
      refusal(
        '0x40',
        'the last recorded write to that page is instruction \\d+ at 0x[0-9a-f]+ \\(main\\+0x[0-9a-f]+: mov qword \\[\\w+\\], \\w+\\)',
      ),
    );
  });
});

describe('--accept-untraced-writes', () => {
  const warning =
    /PM file pm\.bin differs from the trace at offset 0x900008 at the end of the region of instructions 1\.\.\d+: no recorded write touched that page; a write pmfit did not follow/;

  it('pmfit record: the run goes on, the difference is in the trace and the warning printed', () => {
    const dir = runDir();
    const result = runPmfit(recordOther('child-write', ['--accept-untraced-writes']), { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`warning: ${warning.source}`));
    const shown = runPmfit(['trace', 'show', '--json', path.join(dir, 'run.trace')]);
    const events = JSON.parse(shown.stdout).events as { kind: string; offset: number; length: number }[];
    expect(events).toContainEqual(expect.objectContaining({ kind: 'write', offset: 9 * 2 ** 20 + 8, length: 8 }));
  });

  it('pmfit allcounts: refused without it; with it the warning is on the console, in results.json and the report', () => {
    const dir = runDir();
    const args = (accept: string[]): string[] => [
      'allcounts',
      ...accept,
      '--cmd',
      `${fixture('record_other')} child-write pm.bin ${path.join(dir, 'flags')}`,
      '--pm',
      'pm.bin',
      '--recover',
      'true {file}',
      '-o',
      'reports',
    ];
    const refused = runPmfit(args([]), { cwd: dir });
    expect(refused.code).toBe(2);
    expect(pmfitMessage(refused)).toMatch(warning);

    const accepted = runPmfit(args(['--accept-untraced-writes']), { cwd: dir });
    expect({ code: accepted.code, stderr: accepted.stderr }).toEqual({
      code: 0,
      stderr: expect.stringMatching(new RegExp(`pmfit: warning: [^:\n]+: ${warning.source}`)),
    });
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    expect(results.targets[0].warnings).toEqual([expect.stringMatching(warning)]);
    expect(fs.readFileSync(path.join(dir, 'reports', 'index.html'), 'utf8')).toMatch(
      new RegExp(`recording warning: ${warning.source}`),
    );
  });
});

describe("pmfit's own processes", () => {
  /** wholeFiles -- the files each check of `counter incr` (3 regions)
   *  compared whole, with `alongside` running during the recording. */
  async function wholeFiles(alongside: 'nothing' | 'check command'): Promise<number[]> {
    const dir = fs.mkdtempSync(path.join(scratch, 'own-'));
    const pm = path.join(dir, 'count.pm');
    expect(spawnSync(fixture('counter'), ['init', pm]).status).toBe(0);
    // A recover server's shape: a shell in a group of its own, tracked.
    const server =
      alongside === 'check command'
        ? spawn('/bin/sh', ['-c', 'sleep 120 & wait'], { detached: true, stdio: 'ignore' })
        : undefined;
    const exited = new Promise((resolve) => (server ? server.on('exit', resolve) : resolve(undefined)));
    if (server?.pid) trackGroup(server.pid);
    const checks: number[] = [];
    try {
      await recordTrace({
        command: resolveCommand([fixture('counter'), 'incr', pm, '3']),
        pmFiles: [pm],
        output: path.join(dir, 'run.trace'),
        cwd: dir,
        onCheck: (check) => checks.push(check.wholeFiles),
      });
    } finally {
      if (server?.pid) {
        untrackGroup(server.pid);
        killGroup(server.pid);
      }
      await exited;
    }
    return checks;
  }

  it('a check command alive during the recording leaves the checks as they are', async () => {
    // Taken for a process of the program, it made every region's end
    // compare the PM files whole (the fast stack pass of txmap, whose
    // recover servers are alive: 20 x 16 MiB).
    const alone = await wholeFiles('nothing');
    expect(alone.length).toBeGreaterThanOrEqual(3);
    expect(await wholeFiles('check command')).toEqual(alone);
  });
});
