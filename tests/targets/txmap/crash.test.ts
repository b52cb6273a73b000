// crash -- pmfit's sequential image of txmap against a real kill: for crash
// points k across the transactions, libpmemobj's recovery (`txmap check`)
// says the same of the file that `pmfit crash k` leaves as of the trace's
// initial image with the stores up to k applied.
//
// The bytes are compared too, at every point: libpmemobj copies a stack
// frame into the pool, whose canary comes from the kernel's AT_RANDOM bytes;
// every traced run gets the same ones (native/fixed_random.cc), so the
// recording and the kill write the same bytes.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { builtProgram } from '../../../harness/_internals/paths';
import { recordTrace } from '../../../harness/record/record';
import { resolveCommand } from '../../../harness/tracer/resolve-command';
import { EventKind, TraceEvent } from '../../../harness/trace/event';
import { TraceReader } from '../../../harness/trace/format';
import { POOL_SIZE } from '../../../targets/txmap/spec';
import { runPmfit } from '../../helpers/run-pmfit';
import { sequentialImage } from '../../helpers/sequential-image';

const ENV = { PMEM_IS_PMEM_FORCE: '1' };
const PAIRS = ['1=10', '9=90', '9=99'];
const txmap = builtProgram('txmap');

let scratch: string;
let seed: string;
let image: Uint8Array;
let events: TraceEvent[];
let instructions: number;
let regions: { begin: number; end: number }[];

function run(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...ENV } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** runDir -- a fresh directory with a copy of the initial pool. */
function runDir(): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'run-'));
  fs.copyFileSync(seed, path.join(dir, 'txmap.pm'));
  return dir;
}

/** killedAsTraced -- the pool a kill at k left in `dir` is byte for byte
 *  `expected` (the trace's sequential image at k), and txmap check, which
 *  recovers with libpmemobj, says the same of both; the map it prints. */
function killedAsTraced(k: number, dir: string, expected: Buffer): string {
  const file = path.join(dir, 'txmap.pm');
  const killedBytes = fs.readFileSync(file);
  const killed = run([txmap, 'check', file]);
  const modelled = path.join(dir, 'modelled.pm');
  fs.writeFileSync(modelled, expected);
  const traced = run([txmap, 'check', modelled]);
  expect({ k, status: traced.status, stdout: traced.stdout }).toEqual({
    k,
    status: killed.status,
    stdout: killed.stdout,
  });
  expect(killed.status).toBe(0);
  expect({ k, firstDifference: killedBytes.findIndex((byte, i) => byte !== expected[i]) }).toEqual({
    k,
    firstDifference: -1,
  });
  return killed.stdout;
}

beforeAll(() => {
  if (!fs.existsSync(txmap))
    throw new Error(`${txmap} is missing: it needs Debian's libpmemobj-dev (scripts/install-pmdk.sh)`);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-txmap-crash-'));
  seed = path.join(scratch, 'seed.pm');
  expect(run([txmap, 'create', seed, POOL_SIZE]).status).toBe(0);
  const dir = runDir();
  const trace = path.join(dir, 'run.trace');
  const recorded = runPmfit(
    [
      'record',
      // crash points counted in instructions, as pmfit crash counts them
      '--exact',
      '--pm',
      path.join(dir, 'txmap.pm'),
      '-o',
      trace,
      '--',
      txmap,
      'insert',
      path.join(dir, 'txmap.pm'),
      ...PAIRS,
    ],
    { env: ENV },
  );
  if (recorded.code !== 0) throw new Error(`record failed (${recorded.code}): ${recorded.stderr}`);
  const reader = TraceReader.open(trace);
  try {
    [image] = reader.images().map((whole) => whole.subarray(0, whole.length));
    events = [...reader.events()];
    ({ instructions, regions } = reader.header);
  } finally {
    reader.close();
  }
}, 120_000);

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe('txmap: a real kill and the trace agree', () => {
  it('records one region per insert, with non-temporal stores and fences from libpmem', () => {
    expect(regions).toHaveLength(PAIRS.length);
    expect(events.some((e) => e.kind === EventKind.NtStore)).toBe(true);
    expect(
      events.some((e) => e.kind === EventKind.Clwb || e.kind === EventKind.Clflushopt || e.kind === EventKind.Clflush),
    ).toBe(true);
  });

  it('libpmemobj recovers the killed file and the sequential image to the same map', () => {
    const nt = events.filter((e) => e.kind === EventKind.NtStore);
    // Both ends, region ends, the instruction after the first region, and
    // the points around the middle region's first non-temporal store.
    const middle = regions[1];
    const midNt = nt.find((e) => e.index >= middle.begin && e.index <= middle.end)!;
    const points = [
      ...new Set([
        0,
        regions[0].end,
        regions[0].end + 1,
        midNt.index - 1,
        midNt.index,
        Math.floor((middle.begin + middle.end) / 2),
        middle.end,
        instructions,
      ]),
    ];
    const maps = new Set<string>();
    for (const k of points) {
      const dir = runDir();
      const file = path.join(dir, 'txmap.pm');
      const crashed = runPmfit(['crash', String(k), '--', txmap, 'insert', file, ...PAIRS], { env: ENV });
      expect(crashed.stdout).toContain(`Program terminated after ${k} instructions`);
      maps.add(killedAsTraced(k, dir, sequentialImage(image, events, k)));
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The points cover the empty map, the first insert, the second and the update.
    expect(maps.size).toBeGreaterThanOrEqual(3);
  });
});

// The default recorder numbers crash points by its own single steps, which
// `pmfit crash k` does not count. The same kill is made where that recorder
// stops: a second fast recording of the same run, paused at crash point k
// (recordTrace's pause, as the stack pass replays a fast trace), killed
// there with SIGKILL; the file must be the fast trace's sequential image at
// k, and libpmemobj's recovery must say the same of both.
describe('txmap, fast recorder: a kill at its own crash points and its trace agree', () => {
  let fastImage: Uint8Array;
  let fastEvents: TraceEvent[];
  let fastSteps: number;
  let fastRegions: { begin: number; end: number }[];

  beforeAll(async () => {
    // Recorded here, like the kills: libpmemobj copies stack addresses into
    // the pool, and pmfit's command line, another process, puts another
    // environment on the program's stack.
    const { dir, stoppedAt } = await killAt(undefined);
    expect(stoppedAt).toBeUndefined();
    const reader = TraceReader.open(path.join(dir, 'run.trace'));
    try {
      expect(reader.header.recorder).toBe('fast');
      [fastImage] = reader.images().map((whole) => whole.subarray(0, whole.length));
      fastEvents = [...reader.events()];
      ({ instructions: fastSteps, regions: fastRegions } = reader.header);
    } finally {
      reader.close();
    }
  }, 120_000);

  /** killAt -- the pool a SIGKILL at the fast recorder's crash point k
   *  leaves; without k, the whole recording into run.trace. */
  async function killAt(k: number | undefined): Promise<{ dir: string; file: string; stoppedAt: number | undefined }> {
    const dir = runDir();
    const file = path.join(dir, 'txmap.pm');
    let stoppedAt: number | undefined;
    const recording = recordTrace({
      command: resolveCommand([txmap, 'insert', file, ...PAIRS]),
      pmFiles: [file],
      output: path.join(dir, 'run.trace'),
      env: { ...process.env, ...ENV },
      fast: true,
      ...(k === undefined
        ? {}
        : {
            pause: {
              stopAt: k,
              paused: (end: { index: number }, tracee: { kill(): void }) => {
                stoppedAt = end.index;
                tracee.kill();
                return undefined;
              },
            },
          }),
    });
    // A killed recording ends in an error; the whole one must not.
    if (k === undefined) await recording;
    else await recording.catch(() => undefined);
    return { dir, file, stoppedAt };
  }

  it('libpmemobj recovers the killed file and the sequential image to the same map, byte for byte', async () => {
    expect(fastSteps).toBeLessThan(instructions);
    const middle = fastRegions[1];
    const nt = fastEvents.filter(
      (e) => e.kind === EventKind.NtStore && e.index >= middle.begin && e.index <= middle.end,
    );
    const points = [
      ...new Set([
        0,
        fastRegions[0].end,
        fastRegions[0].end + 1,
        nt[0].index - 1,
        nt[0].index,
        Math.floor((middle.begin + middle.end) / 2),
        middle.end,
        fastSteps - 1,
      ]),
    ];
    const maps = new Set<string>();
    for (const k of points) {
      const { dir, stoppedAt } = await killAt(k);
      expect({ k, stoppedAt }).toEqual({ k, stoppedAt: k });
      maps.add(killedAsTraced(k, dir, sequentialImage(fastImage, fastEvents, k)));
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(maps.size).toBeGreaterThanOrEqual(3);
  }, 300_000);
});
