// format -- a trace's initial images read back with their data extents: the
// 64 KiB units that hold a non-zero byte, the rest zeros never read in; and
// written from every shape of PM file (sparse or not, all zeros, data in the
// last byte, sizes not a multiple of the unit, a file shorter than its image).

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

describe('initial images of PM files of every shape', () => {
  const MIB = 1024 * 1024;
  /** The file's units (EXTENT, from 0) with a non-zero byte, merged. */
  function units(content: Buffer): [number, number][] {
    const found: [number, number][] = [];
    const zeros = Buffer.alloc(EXTENT);
    for (let at = 0; at < content.length; at += EXTENT) {
      const end = Math.min(at + EXTENT, content.length);
      if (content.compare(zeros, 0, end - at, at, end) === 0) continue;
      const last = found[found.length - 1];
      if (last && last[1] === at) last[1] = end;
      else found.push([at, end]);
    }
    return found;
  }
  /** A trace of `pm` with an image of `size` bytes, read back. */
  function imageOf(pm: string, size: number): { bytes: Buffer; extents: readonly [number, number][]; blocks: number } {
    const trace = path.join(dir, 'shape.trace');
    const writer = new TraceWriter(trace);
    writer.writeImage(pm, size);
    writer.finish({
      argv: ['shape'],
      cwd: '/',
      files: [{ path: pm, size }],
      regions: [],
      instructions: 0,
      addresses: {},
      exitCode: 0,
      warnings: [],
    });
    const reader = TraceReader.open(trace);
    try {
      const [image] = reader.images();
      return { bytes: Buffer.from(image.subarray(0, size)), extents: image.extents, blocks: fs.statSync(trace).blocks };
    } finally {
      reader.close();
    }
  }
  /** `size` bytes: holes (truncate) or zeros written, then `data`. */
  function pmFile(size: number, data: [number, Buffer][], sparse: boolean): string {
    const pm = path.join(dir, 'shape.pm');
    fs.writeFileSync(pm, sparse ? '' : Buffer.alloc(size));
    fs.truncateSync(pm, size);
    const fd = fs.openSync(pm, 'r+');
    for (const [offset, bytes] of data) fs.writeSync(fd, bytes, 0, bytes.length, offset);
    fs.closeSync(fd);
    return pm;
  }

  const data = (length: number): Buffer => Buffer.alloc(length, 'pmfit');
  test.each([
    ['not sparse, data throughout', 9 * MIB, [[0, data(9 * MIB)]], false],
    [
      'not sparse, scattered data',
      9 * MIB + 100,
      [
        [3 * MIB + EXTENT - 1, data(2)],
        [8 * MIB, data(200_000)],
      ],
      false,
    ],
    [
      'sparse, scattered data',
      9 * MIB + 100,
      [
        [0x123, data(1)],
        [2 * MIB + 7, data(2)],
        [5 * MIB, data(3 * EXTENT)],
      ],
      true,
    ],
    ['data in the last byte, not a multiple of the unit', 9 * MIB + 4097, [[9 * MIB + 4096, data(1)]], true],
    ['data in the last byte of a whole unit', 9 * MIB, [[9 * MIB - 1, data(1)]], false],
    ['all zeros written', 9 * MIB, [], false],
    ['all zeros, one hole', 9 * MIB + 3, [], true],
    ['smaller than a unit', 100, [[50, data(1)]], false],
  ] as [string, number, [number, Buffer][], boolean][])(
    '%s: the file, its units and holes',
    (_, size, data, sparse) => {
      const pm = pmFile(size, data, sparse);
      const content = fs.readFileSync(pm);
      const image = imageOf(pm, size);
      expect(image.bytes.equals(content)).toBe(true);
      expect(image.extents).toEqual(units(content));
      // zero units are holes in the trace too: blocks of 512 bytes for the
      // data units, the header and the preamble (a few blocks more)
      const dataBytes = units(content).reduce((sum, [start, end]) => sum + end - start, 0);
      expect(image.blocks * 512).toBeLessThan(dataBytes + EXTENT);
    },
  );

  test('a file shorter than its image (it shrank): zeros past its end', () => {
    const pm = pmFile(
      9 * MIB + 100,
      [
        [9 * MIB + 99, data(1)],
        [MIB, data(10)],
      ],
      true,
    );
    const size = 10 * MIB + 5;
    const expected = Buffer.concat([fs.readFileSync(pm), Buffer.alloc(size - (9 * MIB + 100))]);
    const image = imageOf(pm, size);
    expect(image.bytes.equals(expected)).toBe(true);
    expect(image.extents).toEqual(units(expected));
  });
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
