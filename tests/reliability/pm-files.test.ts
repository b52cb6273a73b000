// pm-files -- the PM files a user names, with `pmfit record --pm` and with
// `pmfit allcounts --cmd ... --pm`: one line that names the file and the
// problem (exit 2), or a correct run; nothing left running, nothing left in
// the temporary root, and the user's own PM file unchanged by allcounts
// (which traces and checks copies).

import { execFileSync, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { CliResult, cliPath, runPmfit } from '../helpers/run-pmfit';
import { asUser, canDropPrivileges, expectUsageError, scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('pm-files');

const workDir = scratch.workDir;

function zeros(file: string, size: number): string {
  fs.writeFileSync(file, Buffer.alloc(size));
  return file;
}

function record(dir: string, pm: string, argv: string[]): CliResult {
  return runPmfit(['record', '--pm', pm, '-o', 'run.trace', '--', ...argv], { ...leftovers.current(), cwd: dir });
}

function allcounts(dir: string, pm: string, cmd: string, recover = 'true {file}'): CliResult {
  return runPmfit(['allcounts', '--cmd', cmd, '--pm', pm, '--recover', recover, '-o', 'reports'], {
    ...leftovers.current(),
    cwd: dir,
  });
}

function results(dir: string): Results {
  return JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
}

/** withBigFile -- pmfit ARGS in a new directory holding big.pm, a sparse
 *  file (1 GiB unless `size` says otherwise), and the harness's own peak RSS, written by a preload as the
 *  CLI exits: VmHWM, its memory's high-water mark since exec (getrusage's
 *  maxRSS would also count this jest worker's memory when it forked). */
function withBigFile(
  name: string,
  args: string[],
  size = 1 << 30,
  timeoutMs = 120_000,
): { dir: string; run: SpawnSyncReturns<string>; maxRssBytes: number } {
  const dir = workDir(name);
  const pm = path.join(dir, 'big.pm');
  fs.writeFileSync(pm, '');
  fs.truncateSync(pm, size);
  const rssFile = path.join(dir, 'maxrss');
  const preload = path.join(dir, 'maxrss.js');
  fs.writeFileSync(
    preload,
    `process.on('exit', () => { const fs = require('fs'); ` +
      `fs.writeFileSync(${JSON.stringify(rssFile)}, /^VmHWM:\\s+(\\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); });\n`,
  );
  const run = spawnSync(process.execPath, ['--require', preload, cliPath, ...args], {
    cwd: dir,
    env: { ...process.env, ...leftovers.current().env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const maxRssBytes = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) * 1024 : 0;
  expect(maxRssBytes).toBeGreaterThan(0);
  return { dir, run, maxRssBytes };
}

/** bigAllcounts -- `pmfit allcounts` of pm_big on big.pm (withBigFile's),
 *  every image recovered by a check that it is not empty. */
const bigAllcounts = (): string[] => [
  'allcounts',
  '--cmd',
  `${fixture('pm_big')} big.pm`,
  '--pm',
  'big.pm',
  '--recover',
  'test -s {file}',
  '-o',
  'reports',
];

/** expectBigRunsConsistent -- bigAllcounts ran cleanly: under each model
 *  pm_big's four distinct images, none violating. */
function expectBigRunsConsistent(dir: string, run: SpawnSyncReturns<string>): void {
  expect({ code: run.status, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(results(dir).runs.map((r) => [r.model, r.distinctImages, r.violations])).toEqual([
    ['sequential', 4, 0],
    ['flushed', 4, 0],
    ['px86', 4, 0],
  ]);
}

describe('PM files', () => {
  it('missing', () => {
    const dir = workDir('missing');
    expectUsageError(
      record(dir, 'gone.pm', [fixture('pm_store'), 'gone.pm']),
      /^pmfit: PM file gone.pm does not exist, and .*pm_store exited with status 2 before reaching a region/,
    );
    expectUsageError(
      allcounts(dir, 'gone.pm', `${fixture('pm_store')} gone.pm`),
      /^pmfit: PM file gone.pm does not exist \(create it, or pass --setup "CMD {file}" to create it\)$/,
    );
    expect(fs.existsSync(path.join(dir, 'run.trace'))).toBe(false);
  });

  it('empty', () => {
    const dir = workDir('empty');
    const pm = zeros(path.join(dir, 'empty.pm'), 0);
    leftovers.current().keep(pm);
    expectUsageError(
      record(dir, 'empty.pm', [fixture('pm_store'), 'empty.pm']),
      /^pmfit: PM file empty.pm is empty when the first region begins; give it its full size before the region$/,
    );
    const checked = allcounts(dir, 'empty.pm', `${fixture('pm_store')} empty.pm`);
    expectUsageError(checked, /^pmfit: PM file empty.pm is empty when the first region begins/);
    expect(results(dir)).toMatchObject({
      incomplete: true,
      incompleteReason: expect.stringMatching(/empty.pm is empty/),
      runs: [],
    });
  });

  it('read-only (chmod 444), as a user who cannot write it', () => {
    if (!canDropPrivileges()) {
      console.warn('skipped: running as root without setpriv, and root writes read-only files');
      return;
    }
    const dir = workDir('read-only');
    const pm = path.join(dir, 'ro.pm');
    execFileSync(fixture('user_record'), ['init', pm]);
    fs.chmodSync(pm, 0o444);
    const { env, tmp, keep } = leftovers.current();
    keep(pm);
    fs.chmodSync(tmp, 0o777);
    // record runs the program on the file itself: it cannot open it.
    expectUsageError(
      asUser(['record', '--pm', 'ro.pm', '-o', 'run.trace', '--', fixture('pm_store'), 'ro.pm'], { cwd: dir, env }),
      /^pmfit: PM file ro.pm is not writable, and .*pm_store exited with status 2 before reaching a region/,
    );
    // allcounts runs it on a copy, which is the program's to write.
    const checked = asUser(
      [
        'allcounts',
        '--cmd',
        `${fixture('user_record')} set ro.pm 7`,
        '--pm',
        'ro.pm',
        '--recover',
        `${fixture('user_record')} check {file}`,
        '-o',
        'reports',
      ],
      { cwd: dir, env },
    );
    expect({ code: checked.code, stderr: checked.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('a directory', () => {
    const dir = workDir('directory');
    fs.mkdirSync(path.join(dir, 'pool'));
    expectUsageError(record(dir, 'pool', [fixture('pm_store'), 'pool']), /^pmfit: PM file pool is not a regular file$/);
    expectUsageError(
      allcounts(dir, 'pool', `${fixture('pm_store')} pool`),
      /^pmfit: PM file pool is not a regular file$/,
    );
  });

  it('deleted during the run', () => {
    // pm_other unlink: a process forked before the regions removes the file
    // while the program runs, between its two regions.
    const dir = workDir('deleted');
    zeros(path.join(dir, 'del.pm'), 4096);
    expectUsageError(
      record(dir, 'del.pm', [fixture('pm_other'), 'unlink', 'del.pm']),
      /^pmfit: PM file del.pm was deleted or replaced during the run \(noticed at instruction \d+\)/,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
    // Under allcounts the copy goes; the user's file stays as it was.
    const pm = zeros(path.join(dir, 'del.pm'), 4096);
    leftovers.current().keep(pm);
    expectUsageError(
      allcounts(dir, 'del.pm', `${fixture('pm_other')} unlink del.pm`),
      /^pmfit: PM file del.pm was deleted or replaced during the run/,
    );
    expect(results(dir).incomplete).toBe(true);
  });

  it('1 GiB (sparse): recording a small region keeps memory bounded', () => {
    const { dir, run, maxRssBytes } = withBigFile('big', [
      'record',
      '--pm',
      'big.pm',
      '-o',
      'big.trace',
      '--',
      fixture('pm_big'),
      'big.pm',
    ]);
    // three stores and their clflushes; the sfence after them orders
    // nothing (a clflush waits for no fence), and a fast trace keeps only
    // the fences that do (docs/recording.md, "Fences")
    expect({ code: run.status, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: expect.stringMatching(/^pmfit: recorded \d+ single steps, 6 events in 1 region/),
    });
    expect(maxRssBytes).toBeLessThan(256 << 20);
    const shown = runPmfit(['trace', 'show', '--json', path.join(dir, 'big.trace')], leftovers.current());
    expect(shown.code).toBe(0);
    const stores = JSON.parse(shown.stdout).events.filter((event: { kind: string }) => event.kind === 'store');
    expect(stores.map((event: { offset: number }) => event.offset)).toEqual([0, 1 << 29, (1 << 30) - 64]);
  });

  it('1 GiB (sparse): allcounts --cmd keeps memory bounded', () => {
    const { dir, run, maxRssBytes } = withBigFile('big-allcounts', bigAllcounts());
    expectBigRunsConsistent(dir, run);
    // Each crash image is 1 GiB; the harness holds a patch of it, not a
    // copy, and never reads its holes (which some kernels charge to RSS).
    expect(maxRssBytes).toBeLessThan(512 << 20);
    // the user's file: still 1 GiB of holes
    expect([fs.statSync(path.join(dir, 'big.pm')).size, fs.statSync(path.join(dir, 'big.pm')).blocks]).toEqual([
      1 << 30,
      0,
    ]);
  });

  // pm_other during: the helper pwrite()s 8 bytes at offset 1024 while the
  // program's first region waits for it. No instruction of the program
  // wrote them: the check at the region's end must refuse the run, on a
  // file over the 8 MiB the recorder once kept a whole copy of, both where
  // the page cache tells written pages (the scratch directory's
  // filesystem) and on tmpfs, where files are compared whole.
  const shm = fs.existsSync('/dev/shm') ? it : it.skip;
  for (const [where, test] of [
    ['the scratch directory', it],
    ['tmpfs (/dev/shm)', shm],
  ] as const) {
    test(`changed by another process during a region, 12 MiB file on ${where}: an error naming the offset`, () => {
      const dir = where === 'tmpfs (/dev/shm)' ? fs.mkdtempSync('/dev/shm/pmfit-pm-files-') : workDir('during');
      try {
        zeros(path.join(dir, 'shared.pm'), 12 << 20);
        const result = record(dir, 'shared.pm', [fixture('pm_other'), 'during', 'shared.pm']);
        expectUsageError(
          result,
          /^pmfit: PM file shared\.pm differs from the trace at offset 0x400 at the end of the region of instructions 1\.\.\d+: the last recorded write to that page is instruction 1 at 0x[0-9a-f]+ \(main\+0x[0-9a-f]+: mov qword \[\w+\], 1\); a write pmfit did not follow/,
        );
        expect(fs.existsSync(path.join(dir, 'run.trace'))).toBe(false);
      } finally {
        if (where === 'tmpfs (/dev/shm)') fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('changed between regions, under allcounts: the warning on the console, in results.json and the report', () => {
    const dir = workDir('changed-allcounts');
    zeros(path.join(dir, 'shared.pm'), 4096);
    const result = allcounts(dir, 'shared.pm', `${fixture('pm_other')} write shared.pm`);
    expect(result.code).toBe(0);
    const warning = /8 bytes of shared\.pm changed between regions; taken as durable writes at instruction \d+/;
    expect(result.stderr).toMatch(new RegExp(`pmfit: warning: [^:\n]+: ${warning.source}`));
    expect(results(dir).targets[0].warnings).toEqual([expect.stringMatching(warning)]);
    expect(fs.readFileSync(path.join(dir, 'reports', 'index.html'), 'utf8')).toMatch(
      new RegExp(`recording warning: ${warning.source}`),
    );
  });

  it('5 GiB (sparse), over the 4 GiB a Buffer holds: allcounts --cmd reads it in chunks, memory bounded', () => {
    // truncate makes a hole: nothing of the 5 GiB is written to disk, and
    // the images pmfit reads back are holes too (zero pages never touched,
    // never read: the images' data extents say where their data is).
    const size = 5 * 2 ** 30;
    const { dir, run, maxRssBytes } = withBigFile('huge-allcounts', bigAllcounts(), size, 590_000);
    expectBigRunsConsistent(dir, run);
    expect(maxRssBytes).toBeLessThan(512 << 20);
    const stat = fs.statSync(path.join(dir, 'big.pm'));
    expect([stat.size, stat.blocks]).toEqual([size, 0]);
  }, 600_000);

  it('changed by another process between regions: taken as durable writes', () => {
    // pm_other write: a process forked before the regions writes 8 bytes at
    // offset 1024 between the program's two regions. Untraced code between
    // regions may write PM, and pmfit cannot tell it from another process:
    // the change enters the trace as a durable write at the first
    // instruction of the next region, with a warning.
    const dir = workDir('changed');
    zeros(path.join(dir, 'shared.pm'), 4096);
    const result = record(dir, 'shared.pm', [fixture('pm_other'), 'write', 'shared.pm']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /warning: 8 bytes of shared.pm changed between regions; taken as durable writes at instruction (\d+)/,
    );
    const show = runPmfit(['trace', 'show', '--json', path.join(dir, 'run.trace')]);
    const events = JSON.parse(show.stdout).events as { kind: string; offset: number; length: number }[];
    expect(events).toContainEqual(expect.objectContaining({ kind: 'write', offset: 1024, length: 8 }));
  });
});
