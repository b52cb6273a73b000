// instructions -- `pmfit record` of one region per instruction class
// (tests/fixtures/record/record_insn.c), checked event by event against what
// the assembly says: kind, file, offset, length, instruction index, and the
// bytes carried by store, ntstore and write events.
//
// Instruction index 1 is the first instruction after the call to
// pmfit_region_begin; the call to pmfit_region_end is the region's last.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TraceReader } from '../../harness/trace/format';
import { fixture } from '../fixtures';
import { runPmfit } from '../helpers/run-pmfit';

const PM_SIZE = 4096;

interface ShownEvent {
  index: number;
  kind: string;
  file: string | null;
  offset: number;
  length: number;
}

interface Recorded {
  pm: string;
  instructions: number;
  events: ShownEvent[];
  /** Bytes carried by each event, in order (undefined for flushes, fences, syncs). */
  data: (string | undefined)[];
  /** The PM file after the run. */
  after: Buffer;
}

let scratch: string;

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-record-insn-'));
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** record -- run record_insn MODE on a fresh zero-filled 4096-byte file. */
function record(mode: string): Recorded {
  const dir = fs.mkdtempSync(path.join(scratch, `${mode}-`));
  const pm = path.join(dir, 'pm.bin');
  fs.writeFileSync(pm, Buffer.alloc(PM_SIZE));
  const trace = path.join(dir, 'run.trace');
  const recorded = runPmfit(['record', '--exact', '--pm', pm, '-o', trace, '--', fixture('record_insn'), mode, pm]);
  if (recorded.code !== 0) throw new Error(`record ${mode} failed (${recorded.code}): ${recorded.stderr}`);
  expect(recorded.stderr).not.toContain('warning');
  const shown = runPmfit(['trace', 'show', '--json', trace]);
  if (shown.code !== 0) throw new Error(`trace show failed: ${shown.stderr}`);
  const json = JSON.parse(shown.stdout) as { instructions: number; events: ShownEvent[] };
  const reader = TraceReader.open(trace);
  let data: (string | undefined)[];
  try {
    expect(Buffer.from(reader.images()[0].subarray(0, PM_SIZE)).equals(Buffer.alloc(PM_SIZE))).toBe(true);
    expect(reader.header.regions).toEqual([{ begin: 0, end: json.instructions }]);
    data = Array.from(reader.events(), (event) => (event.data ? Buffer.from(event.data).toString('hex') : undefined));
  } finally {
    reader.close();
  }
  return { pm, instructions: json.instructions, events: json.events, data, after: fs.readFileSync(pm) };
}

const hex = (...bytes: number[]): string => Buffer.from(bytes).toString('hex');
const le = (value: bigint, size: number): string => {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64LE(value);
  return buffer.subarray(0, size).toString('hex');
};
/** Record_pattern's first n bytes: 1, 2, ..., n. */
const pattern = (n: number): string => hex(...Array.from({ length: n }, (_, i) => i + 1));

/** expectFile -- the file is zero except for the given ranges. */
function expectFile(after: Buffer, ranges: [offset: number, hexBytes: string][]): void {
  const expected = Buffer.alloc(PM_SIZE);
  for (const [offset, bytes] of ranges) Buffer.from(bytes, 'hex').copy(expected, offset);
  expect(after.toString('hex')).toBe(expected.toString('hex'));
}

describe('pmfit record: one instruction class per region', () => {
  it('plain mov stores of 1, 2, 4 and 8 bytes', () => {
    const r = record('mov');
    expect(r.instructions).toBe(6);
    expect(r.events).toEqual([
      { index: 1, kind: 'store', file: r.pm, offset: 0, length: 1 },
      { index: 2, kind: 'store', file: r.pm, offset: 16, length: 2 },
      { index: 3, kind: 'store', file: r.pm, offset: 32, length: 4 },
      { index: 5, kind: 'store', file: r.pm, offset: 40, length: 8 },
    ]);
    const data = [hex(0x11), le(0x2233n, 2), le(0x44556677n, 4), le(0x8899aabbccddeeffn, 8)];
    expect(r.data).toEqual(data);
    expectFile(r.after, [
      [0, data[0]],
      [16, data[1]],
      [32, data[2]],
      [40, data[3]],
    ]);
  });

  it('an 8-byte store at offset 60, spanning lines 0 and 64, is one event', () => {
    const r = record('span');
    expect(r.instructions).toBe(3);
    expect(r.events).toEqual([{ index: 2, kind: 'store', file: r.pm, offset: 60, length: 8 }]);
    expect(r.data).toEqual([le(0x0807060504030201n, 8)]);
    expectFile(r.after, [[60, r.data[0] as string]]);
  });

  it('rep stosb: one 1-byte store per iteration, each at its own index', () => {
    const r = record('rep');
    expect(r.instructions).toBe(3 + 7 + 1);
    expect(r.events).toEqual(
      Array.from({ length: 7 }, (_, i) => ({ index: 4 + i, kind: 'store', file: r.pm, offset: 200 + i, length: 1 })),
    );
    expect(r.data).toEqual(Array(7).fill('ab'));
    expectFile(r.after, [[200, 'ab'.repeat(7)]]);
  });

  it('AVX2 vmovdqu of a ymm register: one 32-byte store', () => {
    const r = record('avx2');
    expect(r.instructions).toBe(4);
    expect(r.events).toEqual([{ index: 2, kind: 'store', file: r.pm, offset: 256, length: 32 }]);
    expect(r.data).toEqual([pattern(32)]);
    expectFile(r.after, [[256, pattern(32)]]);
  });

  it('AVX-512 vmovdqu64 of a zmm register: one 64-byte store', () => {
    const r = record('avx512');
    expect(r.instructions).toBe(4);
    expect(r.events).toEqual([{ index: 2, kind: 'store', file: r.pm, offset: 320, length: 64 }]);
    expect(r.data).toEqual([pattern(64)]);
    expectFile(r.after, [[320, pattern(64)]]);
  });

  it('movnti: an 8-byte ntstore', () => {
    const r = record('movnti');
    expect(r.instructions).toBe(3);
    expect(r.events).toEqual([{ index: 2, kind: 'ntstore', file: r.pm, offset: 384, length: 8 }]);
    expect(r.data).toEqual([le(0x7766554433221100n, 8)]);
    expectFile(r.after, [[384, r.data[0] as string]]);
  });

  it('movntdq: a 16-byte ntstore', () => {
    const r = record('movntdq');
    expect(r.instructions).toBe(3);
    expect(r.events).toEqual([{ index: 2, kind: 'ntstore', file: r.pm, offset: 400, length: 16 }]);
    expect(r.data).toEqual([pattern(16)]);
    expectFile(r.after, [[400, pattern(16)]]);
  });

  it.each([
    ['clflush', 64], // clflush 70(pm)
    ['clflushopt', 256], // clflushopt 263(pm)
    ['clwb', 384], // clwb 447(pm)
  ])('%s names the whole 64-byte line of its operand', (kind, line) => {
    const r = record(kind);
    expect(r.instructions).toBe(2);
    expect(r.events).toEqual([{ index: 1, kind, file: r.pm, offset: line, length: 64 }]);
    expect(r.data).toEqual([undefined]);
    expectFile(r.after, []);
  });

  it.each(['sfence', 'mfence'])('%s is a fence with no file', (mode) => {
    const r = record(mode);
    expect(r.instructions).toBe(2);
    expect(r.events).toEqual([{ index: 1, kind: 'fence', file: null, offset: 0, length: 0 }]);
  });

  it('lock xadd is a store and a fence at the same index', () => {
    const r = record('lock');
    expect(r.instructions).toBe(3);
    expect(r.events).toEqual([
      { index: 2, kind: 'store', file: r.pm, offset: 448, length: 4 },
      { index: 2, kind: 'fence', file: null, offset: 0, length: 0 },
    ]);
    expect(r.data).toEqual([le(5n, 4), undefined]);
    expectFile(r.after, [[448, le(5n, 4)]]);
  });

  it('xchg with memory (locked without a prefix) is a store and a fence', () => {
    const r = record('xchg');
    expect(r.instructions).toBe(3);
    expect(r.events).toEqual([
      { index: 2, kind: 'store', file: r.pm, offset: 456, length: 8 },
      { index: 2, kind: 'fence', file: null, offset: 0, length: 0 },
    ]);
    expect(r.data).toEqual([le(9n, 8), undefined]);
  });

  it('rep stosq: one 8-byte store per iteration', () => {
    const r = record('repq');
    expect(r.instructions).toBe(3 + 3 + 1);
    expect(r.events).toEqual(
      [0, 1, 2].map((i) => ({ index: 4 + i, kind: 'store', file: r.pm, offset: 1200 + 8 * i, length: 8 })),
    );
    expect(r.data).toEqual(Array(3).fill(le(0x1122334455667788n, 8)));
  });

  it('rep movsb into PM: one 1-byte store per iteration, with the copied byte', () => {
    const r = record('movsb');
    expect(r.instructions).toBe(3 + 4 + 1);
    expect(r.events).toEqual(
      [0, 1, 2, 3].map((i) => ({ index: 4 + i, kind: 'store', file: r.pm, offset: 1300 + i, length: 1 })),
    );
    expect(r.data).toEqual([...'pwri'].map((c) => Buffer.from(c).toString('hex')));
    expectFile(r.after, [[1300, Buffer.from('pwri').toString('hex')]]);
  });

  it('rep stosb with the direction flag set stores downwards', () => {
    const r = record('repdown');
    expect(r.instructions).toBe(4 + 3 + 2);
    expect(r.events).toEqual(
      [0, 1, 2].map((i) => ({ index: 5 + i, kind: 'store', file: r.pm, offset: 1406 - i, length: 1 })),
    );
    expectFile(r.after, [[1404, 'cdcdcd']]);
  });

  it('a MAP_SHARED mapping made inside the region is PM from the next instruction', () => {
    const r = record('mmap');
    expect(r.instructions).toBe(15);
    expect(r.events).toEqual([{ index: 10, kind: 'store', file: r.pm, offset: 8, length: 8 }]);
    expect(r.data).toEqual([Buffer.from('mmapped!').toString('hex')]);
    expectFile(r.after, [[8, Buffer.from('mmapped!').toString('hex')]]);
  });

  it('pwrite64 to the PM file is a write event at its offset, with its bytes', () => {
    const r = record('pwrite');
    expect(r.instructions).toBe(7);
    expect(r.events).toEqual([{ index: 6, kind: 'write', file: r.pm, offset: 1000, length: 10 }]);
    expect(r.data).toEqual([Buffer.from('pwrite-abc').toString('hex')]);
    expectFile(r.after, [[1000, Buffer.from('pwrite-abc').toString('hex')]]);
  });

  it('write to the PM file lands at the file position (lseek 2000 before the region)', () => {
    const r = record('write');
    expect(r.instructions).toBe(6);
    expect(r.events).toEqual([{ index: 5, kind: 'write', file: r.pm, offset: 2000, length: 6 }]);
    expect(r.data).toEqual([Buffer.from('write!').toString('hex')]);
    expectFile(r.after, [[2000, Buffer.from('write!').toString('hex')]]);
  });

  it('read from a pipe into the PM mapping: one store per run of changed bytes', () => {
    // "PMFIT\0\0\0read!" over zeros: the three NULs change nothing.
    const r = record('read');
    expect(r.instructions).toBe(6);
    expect(r.events).toEqual([
      { index: 5, kind: 'store', file: r.pm, offset: 1100, length: 5 },
      { index: 5, kind: 'store', file: r.pm, offset: 1108, length: 5 },
    ]);
    expect(r.data).toEqual([Buffer.from('PMFIT').toString('hex'), Buffer.from('read!').toString('hex')]);
    expectFile(r.after, [[1100, Buffer.from('PMFIT\0\0\0read!').toString('hex')]]);
  });

  it('msync of the mapping is a sync of its range', () => {
    const r = record('msync');
    expect(r.instructions).toBe(6);
    expect(r.events).toEqual([{ index: 5, kind: 'sync', file: r.pm, offset: 0, length: PM_SIZE }]);
  });

  it('stores to a MAP_PRIVATE mapping of the PM file make no event', () => {
    const r = record('private');
    expect(r.instructions).toBe(4);
    expect(r.events).toEqual([]);
    expectFile(r.after, []);
  });
});

// Known gaps, failing until fixed (see the report): sendfile() is a
// write-family syscall on the PM file, durable at once (docs/architecture.md, "Terms", PM (b)),
// but harness/record/syscall-effect.ts does not classify it as a write. With a
// MAP_SHARED mapping the change is only seen by the mapping diff, as a
// (non-durable) store; with no mapping it is not seen at all.
describe('pmfit record: write-family syscalls other than write/pwrite', () => {
  it.each(['sendfile', 'sendfile-unmapped'])('%s to the PM file is a write event at its position', (mode) => {
    const r = record(mode);
    expect(r.events.map(({ kind, file, offset, length }) => ({ kind, file, offset, length }))).toEqual([
      { kind: 'write', file: r.pm, offset: 2000, length: 16 },
    ]);
    expect(r.data).toEqual([Buffer.from('sent by sendfile').toString('hex')]);
    expectFile(r.after, [[2000, Buffer.from('sent by sendfile').toString('hex')]]);
  });
});
