// replay -- a trace and a real crash agree: for a crash point k chosen by
// fast-check across the regions, the trace's initial image with its data
// events up to index k applied (TraceReader, nothing else of the harness)
// equals, byte for byte, the PM file that `pmfit crash k` leaves behind when
// the same command starts from the same initial file.
//
// MAP_SHARED runs (the fixtures, and the targets in libpmem's default
// clflush mode and with PMEM_MODE=clwb) apply store, ntstore and write
// events: a SIGKILLed process loses no store that reached a shared mapping.
// In libpmem's fit mode the file is mapped MAP_PRIVATE and only the pwrite()s
// of the flushes reach it: the trace must hold write events only, and the
// image of those up to k must equal the file.
//
// Every run (the record, each crash) gets a fresh copy of the initial file
// in a scratch directory of its own; the directories have names of the same
// length so that argv, and so the tracee's stack layout, has the same size.

import * as fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { EventKind, TraceEvent } from '../../harness/trace/event';
import { TraceReader } from '../../harness/trace/format';
import { fixture } from '../fixtures';
import { runPmfit } from '../helpers/run-pmfit';

const PM = 'pm.bin';

interface ReplayCase {
  name: string;
  /** Make the initial file `file` (it does not exist yet). */
  setup(file: string): void;
  /** The traced command, for the PM file `file`. */
  argv(file: string): string[];
  /** PMEM_MODE for the libpmem targets; 'fit' means MAP_PRIVATE + pwrite. */
  mode?: 'clflush' | 'clwb' | 'fit';
  /** The trace holds write events only (fit-style programs). */
  writesOnly?: boolean;
}

let scratch: string;

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-replay-'));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

function zeros(size: number): (file: string) => void {
  return (file) => fs.writeFileSync(file, Buffer.alloc(size));
}

/** run -- a setup command outside pmfit; it must succeed. */
function run(argv: string[], env: NodeJS.ProcessEnv = {}): void {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status}): ${result.stderr}`);
}

function pmEnv(c: ReplayCase): NodeJS.ProcessEnv {
  return c.mode ? { PMEM_MODE: c.mode } : {};
}

/** runDir -- a fresh directory with a copy of the initial file. */
function runDir(seed: string): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'run-'));
  fs.copyFileSync(seed, path.join(dir, PM));
  return dir;
}

interface Recorded {
  instructions: number;
  image: Uint8Array;
  events: TraceEvent[];
}

function record(c: ReplayCase, seed: string): Recorded {
  const dir = runDir(seed);
  const file = path.join(dir, PM);
  const trace = path.join(dir, 'run.trace');
  const result = runPmfit(['record', '--exact', '--pm', file, '-o', trace, '--', ...c.argv(file)], { env: pmEnv(c) });
  if (result.code !== 0) throw new Error(`record ${c.name} failed (${result.code}): ${result.stderr}`);
  const reader = TraceReader.open(trace);
  try {
    expect(reader.header.files.map((pm) => pm.path)).toEqual([file]);
    const [image] = reader.images().map((whole) => whole.subarray(0, whole.length));
    return { instructions: reader.header.instructions, image, events: [...reader.events()] };
  } finally {
    reader.close();
  }
}

/** imageAt -- the initial image with the data events up to index k applied. */
function imageAt(recorded: Recorded, k: number, kinds: Set<EventKind>): Buffer {
  const image = Buffer.from(recorded.image);
  for (const event of recorded.events) {
    if (event.index > k) break;
    if (!kinds.has(event.kind) || !event.data) continue;
    expect(event.fileId).toBe(0);
    image.set(event.data, event.offset);
  }
  return image;
}

function crashImage(c: ReplayCase, seed: string, k: number): Buffer {
  const dir = runDir(seed);
  const file = path.join(dir, PM);
  const result = runPmfit(['crash', String(k), '--', ...c.argv(file)], { env: pmEnv(c) });
  if (result.code !== 0) throw new Error(`crash ${k} of ${c.name} failed (${result.code}): ${result.stderr}`);
  expect(result.stdout).toContain(`Program terminated after ${k} instructions`);
  const after = fs.readFileSync(file);
  fs.rmSync(dir, { recursive: true, force: true });
  return after;
}

/** firstDifference -- for a readable failure message. */
function firstDifference(a: Buffer, b: Buffer): string {
  if (a.length !== b.length) return `sizes ${a.length} and ${b.length}`;
  const at = a.findIndex((byte, i) => byte !== b[i]);
  return at < 0
    ? 'none'
    : `first at offset ${at}: ${a.subarray(at, at + 16).toString('hex')} vs ${b.subarray(at, at + 16).toString('hex')}`;
}

const fixtureCases: ReplayCase[] = [
  {
    name: 'record_insn mix (every instruction class)',
    setup: zeros(4096),
    argv: (file) => [fixture('record_insn'), 'mix', file],
  },
  {
    name: 'record_insn libc (glibc memset/memcpy/memmove, msync)',
    setup: zeros(4096),
    argv: (file) => [fixture('record_insn'), 'libc', file],
  },
  {
    name: 'record_insn fit (MAP_PRIVATE, lines written back with pwrite)',
    setup: zeros(4096),
    argv: (file) => [fixture('record_insn'), 'fit', file],
    writesOnly: true,
  },
  { name: 'pm_store', setup: zeros(4096), argv: (file) => [fixture('pm_store'), file] },
  // Known gaps, failing until record.ts is fixed (see the report): a store
  // between two regions, and sendfile() to an unmapped PM file, change the
  // file without any event in the trace.
  {
    name: 'record_insn outside (a store between two regions)',
    setup: zeros(4096),
    argv: (file) => [fixture('record_insn'), 'outside', file],
  },
  {
    name: 'record_insn sendfile-unmapped (sendfile to the PM file, not mapped)',
    setup: zeros(4096),
    argv: (file) => [fixture('record_insn'), 'sendfile-unmapped', file],
    writesOnly: true,
  },
];

/** Over the 8 MiB the recorder once kept a whole copy of: its cross-check
 *  (record.ts) must hold at any size. */
const LARGE = 12 << 20;

const largeCases: ReplayCase[] = [
  {
    name: 'record_insn mix on a 12 MiB file',
    setup: zeros(LARGE),
    argv: (file) => [fixture('record_insn'), 'mix', file],
  },
  {
    name: 'record_insn outside on a 12 MiB file',
    setup: zeros(LARGE),
    argv: (file) => [fixture('record_insn'), 'outside', file],
  },
  {
    name: 'record_insn sendfile-unmapped on a 12 MiB file',
    setup: zeros(LARGE),
    argv: (file) => [fixture('record_insn'), 'sendfile-unmapped', file],
    writesOnly: true,
  },
  {
    name: 'tree (clwb) on a 12 MiB pool',
    mode: 'clwb',
    setup: (file) => {
      run([fixture('tree'), 'init', file, '12M'], { PMEM_MODE: 'clwb' });
      run([fixture('tree'), 'insert', file, 'mango'], { PMEM_MODE: 'clwb' });
    },
    argv: (file) => [fixture('tree'), 'insert', file, 'pear', 'apple', 'mango', 'fig'],
  },
];

const MODES = ['clflush', 'clwb', 'fit'] as const;

const targetCases: ReplayCase[] = MODES.flatMap((mode): ReplayCase[] => [
  {
    name: `basic (${mode})`,
    mode,
    writesOnly: mode === 'fit',
    // One string already stored; append two more, one longer than a line.
    setup: (file) => {
      zeros(8192)(file);
      run([fixture('basic'), file, 'first'], { PMEM_MODE: mode });
    },
    argv: (file) => [
      fixture('basic'),
      file,
      'a second string, longer than one 64-byte cache line, to cross lines',
      'third',
    ],
  },
  {
    name: `alloc (${mode})`,
    mode,
    writesOnly: mode === 'fit',
    setup: (file) => {
      run([fixture('alloc'), 'init', file, '64K'], { PMEM_MODE: mode });
      run([fixture('alloc'), 'run', file, 'r1:40', 'a1'], { PMEM_MODE: mode });
    },
    argv: (file) => [fixture('alloc'), 'run', file, 'r2:100', 'a2', 'r3:64', 'a3', 'f1'],
  },
  {
    name: `tree (${mode})`,
    mode,
    writesOnly: mode === 'fit',
    setup: (file) => {
      run([fixture('tree'), 'init', file, '64K'], { PMEM_MODE: mode });
      run([fixture('tree'), 'insert', file, 'mango'], { PMEM_MODE: mode });
    },
    argv: (file) => [fixture('tree'), 'insert', file, 'pear', 'apple', 'mango', 'fig'],
  },
]);

/** Crash points drawn per case besides the two ends (0 and N). */
const RUNS = 4;

describe.each([...fixtureCases, ...targetCases, ...largeCases])('replay agreement: $name', (c) => {
  it('the trace image up to k equals the file after pmfit crash k', () => {
    const seed = path.join(fs.mkdtempSync(path.join(scratch, 'seed-')), PM);
    c.setup(seed);
    const recorded = record(c, seed);
    const n = recorded.instructions;
    expect(n).toBeGreaterThan(0);
    const data = recorded.events.filter((event) => event.data);
    expect(data.length).toBeGreaterThan(0);
    const kinds = new Set(c.writesOnly ? [EventKind.Write] : [EventKind.Store, EventKind.NtStore, EventKind.Write]);
    // The run changes the file, so the comparisons below can fail.
    expect(imageAt(recorded, n, kinds).equals(recorded.image)).toBe(false);
    if (c.writesOnly) {
      expect(
        recorded.events.filter((event) => event.kind === EventKind.Store || event.kind === EventKind.NtStore),
      ).toEqual([]);
    }
    // Uniform over [0, N], and the boundaries of the data events, where an
    // off-by-one in the index would show.
    const boundaries = [...new Set(data.flatMap((event) => [event.index - 1, event.index]))];
    const crashPoint = fc.oneof(fc.integer({ min: 0, max: n }), fc.constantFrom(...boundaries));
    fc.assert(
      fc.property(crashPoint, (k) => {
        const expected = imageAt(recorded, k, kinds);
        const actual = crashImage(c, seed, k);
        if (!actual.equals(expected)) {
          throw new Error(
            `crash point ${k} of ${n}: the file differs from the trace image (${firstDifference(actual, expected)})`,
          );
        }
      }),
      // fast-check counts the examples among the runs.
      { numRuns: RUNS + 2, examples: [[0], [n]] },
    );
  });
});
