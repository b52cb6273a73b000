// kernel-writes -- regions in which the kernel, not an instruction, writes
// PM (a signal frame on an alternate stack in PM, madvise(MADV_REMOVE),
// sendfile/copy_file_range/splice with their offsets in PM, fallocate) or
// makes it durable (sync_file_range, syncfs, sync), and a PM file reached
// through another name (a hard link, a bind mount). Each runs
// tests/fixtures/record/record_kernel.c on a PM file over 8 MiB, so that the
// recorder keeps no copy of it, and checks that the trace's image up to k
// (initial image plus the data events with index <= k) equals, byte for
// byte, the file that `pmfit crash k` leaves, at 0, around every data event
// and at the end. A run that changes a PM file's size is refused: one line,
// exit 2, naming the syscall, and no trace.
//
// Every run gets a fresh copy of the initial file in a directory of its own;
// the directories' names have the same length so that argv, and so the
// stack the signal frame records, is laid out the same in every run.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TraceEvent } from '../../harness/trace/event';
import { TraceReader } from '../../harness/trace/format';
import { fixture } from '../fixtures';
import { cliPath, CliResult, pmfitMessage, runPmfit } from '../helpers/run-pmfit';
import { sequentialImage } from '../helpers/sequential-image';

/** Over the recorder's 8 MiB shadow limit, and not a whole number of pages. */
const PM_SIZE = (9 << 20) + 512;
const PAGE = 4096;
/** Where record_kernel puts its alternate signal stack, and its size. */
const ALTSTACK_AT = 8 << 20;
const ALTSTACK_SIZE = 64 << 10;
/** Crash points checked besides 0 and the end. */
const MAX_POINTS = 10;

interface ShownEvent {
  index: number;
  kind: string;
  offset: number;
  length: number;
}

interface Recorded {
  instructions: number;
  image: Uint8Array;
  events: TraceEvent[];
  shown: ShownEvent[];
}

/** How a case runs the fixture in a run directory. */
interface Case {
  mode: string;
  /** Arguments after MODE FILE (the name the program opens). */
  extra?(dir: string): string[];
  /** Prepare the run directory after the PM file is copied in. */
  prepare?(dir: string): void;
  /** Wraps the pmfit command line (the bind mount's namespace). */
  wrap?(dir: string, pmfit: string[]): string[];
}

let scratch: string;
let seed: string;

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-kernel-writes-'));
  seed = path.join(scratch, 'seed.bin');
  // A pattern, so that zeros the kernel puts in show.
  fs.writeFileSync(seed, Buffer.from(Array.from({ length: PM_SIZE }, (_, i) => (i % 251) + 1)));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

function runDir(c: Case): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(scratch, 'run-'));
  const file = path.join(dir, 'pm.bin');
  fs.copyFileSync(seed, file);
  c.prepare?.(dir);
  return { dir, file };
}

function pmfit(c: Case, dir: string, args: string[]): CliResult {
  if (!c.wrap) return runPmfit(args);
  const argv = c.wrap(dir, [process.execPath, cliPath, ...args]);
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 110_000 });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

function command(c: Case, dir: string, file: string): string[] {
  return ['--', fixture('record_kernel'), c.mode, file, ...(c.extra?.(dir) ?? [])];
}

function record(c: Case): Recorded {
  const { dir, file } = runDir(c);
  const trace = path.join(dir, 'run.trace');
  const result = pmfit(c, dir, ['record', '--exact', '--pm', file, '-o', trace, ...command(c, dir, file)]);
  if (result.code !== 0) throw new Error(`record ${c.mode} failed (${result.code}): ${result.stderr}`);
  expect(result.stderr).not.toContain('warning');
  const shown = runPmfit(['trace', 'show', '--json', trace]);
  if (shown.code !== 0) throw new Error(`trace show failed: ${shown.stderr}`);
  const reader = TraceReader.open(trace);
  try {
    expect(reader.header.files).toEqual([{ path: file, size: PM_SIZE }]);
    const image = reader.images()[0].subarray(0, PM_SIZE);
    return {
      instructions: reader.header.instructions,
      image,
      events: [...reader.events()],
      shown: (JSON.parse(shown.stdout) as { events: ShownEvent[] }).events,
    };
  } finally {
    reader.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function crashImage(c: Case, k: number): Buffer {
  const { dir, file } = runDir(c);
  try {
    const result = pmfit(c, dir, ['crash', String(k), ...command(c, dir, file)]);
    if (result.code !== 0) throw new Error(`crash ${k} of ${c.mode} failed (${result.code}): ${result.stderr}`);
    expect(result.stdout).toContain(`Program terminated after ${k} instructions`);
    return fs.readFileSync(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function firstDifference(a: Buffer, b: Buffer): string {
  if (a.length !== b.length) return `sizes ${a.length} and ${b.length}`;
  const at = a.findIndex((byte, i) => byte !== b[i]);
  return at < 0
    ? 'none'
    : `first at offset 0x${at.toString(16)}: ${a.subarray(at, at + 16).toString('hex')} vs ${b.subarray(at, at + 16).toString('hex')}`;
}

/** expectAgreement -- record, then crash at 0, around the data events
 *  (where an off-by-one in an index would show) and at the end. */
function expectAgreement(c: Case): Recorded {
  const recorded = record(c);
  const n = recorded.instructions;
  expect(sequentialImage(recorded.image, recorded.events, n).equals(Buffer.from(recorded.image))).toBe(false);
  const boundaries = [
    ...new Set(recorded.events.filter((event) => event.data).flatMap((event) => [event.index - 1, event.index])),
  ]
    .filter((k) => k > 0 && k < n)
    .sort((a, b) => a - b);
  const step = Math.max(1, boundaries.length / MAX_POINTS);
  const points = [
    0,
    ...Array.from({ length: Math.min(MAX_POINTS, boundaries.length) }, (_, i) => boundaries[Math.floor(i * step)]),
    n,
  ];
  for (const k of points) {
    const actual = crashImage(c, k);
    const expected = sequentialImage(recorded.image, recorded.events, k);
    if (!actual.equals(expected)) {
      throw new Error(
        `${c.mode}, crash point ${k} of ${n}: the file differs from the trace image (${firstDifference(actual, expected)})`,
      );
    }
  }
  return recorded;
}

/** expectRefused -- exit 2, one line naming `what`, no trace left. */
function expectRefused(c: Case, what: RegExp): void {
  const { dir, file } = runDir(c);
  const trace = path.join(dir, 'run.trace');
  const result = pmfit(c, dir, ['record', '--exact', '--pm', file, '-o', trace, ...command(c, dir, file)]);
  expect(result.code).toBe(2);
  expect(pmfitMessage(result)).toMatch(what);
  expect(fs.readdirSync(dir).filter((name) => name.includes('trace'))).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
}

const bindMounts = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']).status === 0;

describe('kernel writes into PM during a region, on a PM file over 8 MiB', () => {
  it('a signal frame on an alternate stack in PM', () => {
    const r = expectAgreement({ mode: 'sigaltstack' });
    // The frame is stores into the alternate stack, at the handler's first
    // instruction: before the handler's own store at offset 200.
    const handler = r.shown.find((event) => event.offset === 200);
    const frame = r.shown.filter(
      (event) => event.kind === 'store' && event.offset >= ALTSTACK_AT && event.offset < ALTSTACK_AT + ALTSTACK_SIZE,
    );
    expect(handler).toBeDefined();
    expect(frame.length).toBeGreaterThan(0);
    expect(frame[0].index).toBeLessThan(handler?.index ?? 0);
    expect(frame.reduce((sum, event) => sum + event.length, 0)).toBeGreaterThan(512);
  });

  it('madvise(MADV_REMOVE): the freed pages read back as zeros', () => {
    const r = expectAgreement({ mode: 'madv-remove' });
    const removed = r.events.find((event) => event.kind === 7 && event.offset === 2 * PAGE);
    expect(removed?.length).toBe(3 * PAGE);
    expect(Buffer.from(removed?.data ?? []).equals(Buffer.alloc(3 * PAGE))).toBe(true);
  });

  it('sendfile, copy_file_range and splice: the data, and the offsets they update in PM', () => {
    const r = expectAgreement({ mode: 'transfer' });
    expect(r.shown.filter((event) => event.kind === 'write').map((event) => [event.offset, event.length])).toEqual([
      [5 * PAGE, 300],
      [7 * PAGE + 3, 5000],
      [9 * PAGE + 1, 700],
    ]);
    // Each offset pointer (8 bytes each from PAGE + 64) written by its syscall.
    const byKernel = r.shown.filter(
      (event) => event.kind === 'store' && event.length === 8 && event.offset >= PAGE + 64 && event.offset < PAGE + 104,
    );
    expect([...new Set(byKernel.map((event) => event.offset))].sort((a, b) => a - b)).toEqual([
      PAGE + 64,
      PAGE + 72,
      PAGE + 80,
      PAGE + 88,
      PAGE + 96,
    ]);
  });

  it('fallocate punching a hole and zeroing a range', () => {
    const r = expectAgreement({ mode: 'fallocate' });
    expect(r.shown.filter((event) => event.kind === 'write').map((event) => [event.offset, event.length])).toEqual([
      [10 * PAGE, 2 * PAGE],
      [13 * PAGE + 100, 3000],
    ]);
  });

  it('a pwrite to /proc/self/mem at an address in PM', () => {
    const r = expectAgreement({ mode: 'proc-mem' });
    const written = r.events.find((event) => event.offset === 300);
    expect(Buffer.from(written?.data ?? []).toString()).toBe('by /proc/self/mem');
  });

  it('sync_file_range (waited for), syncfs, sync and msync(MS_SYNC) are sync events', () => {
    const r = expectAgreement({ mode: 'sync' });
    const syncs = r.shown.filter((event) => event.kind === 'sync').map((event) => [event.offset, event.length]);
    // The sync_file_range that does not wait for the write-out, and
    // msync(MS_ASYNC), make nothing durable.
    expect(syncs).toEqual([
      [PAGE, 2 * PAGE],
      [0, PM_SIZE],
      [0, PM_SIZE],
      [PAGE, PAGE],
    ]);
  });
});

describe('a PM file reached through another name, on a PM file over 8 MiB', () => {
  it('a hard link: its mapping is PM', () => {
    const r = expectAgreement({
      mode: 'store',
      prepare: (dir) => fs.linkSync(path.join(dir, 'pm.bin'), path.join(dir, 'link.bin')),
      extra: (dir) => [path.join(dir, 'link.bin')],
    });
    expect(r.shown.map((event) => event.offset)).toContain(PM_SIZE - 1);
  });

  (bindMounts ? it : it.skip)('a bind mount: its mapping is PM', () => {
    const r = expectAgreement({
      mode: 'store',
      prepare: (dir) => {
        fs.mkdirSync(path.join(dir, 'real'));
        fs.mkdirSync(path.join(dir, 'view'));
        fs.renameSync(path.join(dir, 'pm.bin'), path.join(dir, 'real', 'pm.bin'));
        fs.symlinkSync(path.join('real', 'pm.bin'), path.join(dir, 'pm.bin'));
      },
      extra: (dir) => [path.join(dir, 'view', 'pm.bin')],
      // In a mount namespace of its own, so that nothing outlives the run.
      wrap: (dir, argv) => [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$1" "$2" && shift 2 && exec "$@"',
        'sh',
        path.join(dir, 'real'),
        path.join(dir, 'view'),
        ...argv,
      ],
    });
    expect(r.shown.map((event) => event.offset)).toContain(PM_SIZE - 1);
  });
});

describe('what pmfit cannot follow is refused', () => {
  it('ioctl(FICLONE) into a PM file', () => {
    expectRefused(
      { mode: 'clone' },
      /^pmfit: ioctl at 0x[0-9a-f]+ \(instruction \d+, inside a region\) clones another file's blocks into PM file .*pm\.bin; pmfit refuses to record it$/,
    );
  });
});

describe('a PM file whose size changes during a region is refused', () => {
  it('pwrite on an O_APPEND descriptor (it appends, whatever the offset)', () => {
    expectRefused(
      { mode: 'append-fd' },
      /^pmfit: PM file .*pm\.bin changed size from 9437696 to 9437704 bytes \(by pwrite64 at 0x[0-9a-f]+, instruction \d+, an appending write\)/,
    );
  });

  it('pwritev2 with RWF_APPEND', () => {
    expectRefused({ mode: 'append-rwf' }, /by pwritev2 at .*an appending write/);
  });

  it('ftruncate growing a mapped PM file, before the store into the new part', () => {
    expectRefused({ mode: 'grow' }, /changed size from 9437696 to 9441792 bytes \(by ftruncate at/);
  });

  it('ftruncate shrinking a PM file', () => {
    expectRefused({ mode: 'shrink' }, /changed size from 9437696 to 9433600 bytes \(by ftruncate at/);
  });
});
