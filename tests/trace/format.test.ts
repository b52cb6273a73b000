// format -- a trace's initial images read back with their data extents: the
// 64 KiB units that hold a non-zero byte, the rest zeros never read in.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXTENT } from '../../harness/_internals/chunked-bytes';
import { TraceReader, TraceWriter } from '../../harness/trace/format';
import { SPARSE_DATA, SPARSE_SIZE, writeSparseTrace } from '../helpers/sparse-trace';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-format-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('images: the file content, and its data extents', () => {
  const reader = TraceReader.open(writeSparseTrace(dir));
  try {
    const [image] = reader.images();
    expect(image.length).toBe(SPARSE_SIZE);
    expect(image.extents).toEqual([
      [0, EXTENT],
      [32 * EXTENT, 33 * EXTENT],
      [48 * EXTENT, SPARSE_SIZE],
    ]);
    const expected = Buffer.alloc(SPARSE_SIZE);
    for (const [offset, bytes] of SPARSE_DATA) expected.set(bytes, offset);
    expect(Buffer.from(image.subarray(0, SPARSE_SIZE)).equals(expected)).toBe(true);
    expect(reader.images()).toBe(reader.images());
  } finally {
    reader.close();
  }
});

describe("the fast recorder's stops in the header", () => {
  const stops = { faults: 3, watchFaults: 4, flushTraps: 1, frontier: 2, syscalls: 0, mprotects: 6, emulated: 5 };
  function traceWith(extra: Record<string, unknown>): string {
    const pm = path.join(dir, 'stops.pm');
    fs.writeFileSync(pm, Buffer.alloc(4096, 1));
    const trace = path.join(dir, 'stops.trace');
    const writer = new TraceWriter(trace);
    writer.writeImage(pm, 4096);
    writer.finish({
      argv: ['stops'],
      cwd: '/',
      files: [{ path: pm, size: 4096 }],
      regions: [{ begin: 0, end: 0 }],
      instructions: 0,
      addresses: {},
      exitCode: 0,
      warnings: [],
      recorder: 'fast',
      ...extra,
    } as Parameters<TraceWriter['finish']>[0]);
    return trace;
  }

  test('read back as written', () => {
    const reader = TraceReader.open(traceWith({ fastStops: stops, flushTrapsOff: 'asm without CFI' }));
    try {
      expect(reader.header.fastStops).toEqual(stops);
      expect(reader.header.flushTrapsOff).toBe('asm without CFI');
    } finally {
      reader.close();
    }
  });

  test('a trace from before watched pages reads with no watched-page faults', () => {
    const { watchFaults: _, emulated: __, ...five } = stops;
    const reader = TraceReader.open(traceWith({ fastStops: five }));
    try {
      expect(reader.header.fastStops).toEqual({ ...stops, watchFaults: 0, emulated: 0 });
    } finally {
      reader.close();
    }
  });

  test('a trace from before emulated stores reads with none emulated', () => {
    const { emulated: _, ...six } = stops;
    const reader = TraceReader.open(traceWith({ fastStops: six }));
    try {
      expect(reader.header.fastStops).toEqual({ ...stops, emulated: 0 });
    } finally {
      reader.close();
    }
  });

  test.each([
    ['a cause missing', { faults: 3, flushTraps: 1, frontier: 2, syscalls: 0 }],
    ['a cause more', { ...stops, steps: 4 }],
    ['not a count', { ...stops, frontier: -1 }],
  ])('%s: the trace is refused naming the field', (_, fastStops) => {
    expect(() => TraceReader.open(traceWith({ fastStops }))).toThrow(/fastStops/);
  });
});
