// pool -- the TypeScript pool reader against the real `alloc` program.

import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import {
  CHUNK,
  HEAP_OFF,
  formatSummary,
  handleSlot,
  liveHandles,
  poolSummary,
  poolViolations,
  readHandles,
  readPool,
} from '../../../targets/alloc/pool';
import { run, runOk, scratchDir } from '../programs';

const SIZE = 65536;
/** The default workload: splits, an exact-fit reuse, coalescing on both sides. */
const DEFAULT_OPS = ['r1:200', 'a1', 'r2:1000', 'a2', 'r3:100', 'a3', 'f2', 'r4:1000', 'a4', 'f3', 'f1', 'f4'];

let dir: string;
let remove: () => void;
let counter = 0;
beforeAll(() => ({ dir, remove } = scratchDir('alloc')));
afterAll(() => remove());

/** freshPool -- a new 64 KiB pool file. */
function freshPool(): string {
  const file = path.join(dir, `pool-${++counter}`);
  runOk('alloc', ['init', file, String(SIZE)], dir);
  return file;
}

/** expectAgreement -- the reader and `alloc check`/`alloc list` say the same (after recovery). */
function expectAgreement(file: string): void {
  const checked = run('alloc', ['check', file], dir);
  const listed = run('alloc', ['list', file], dir);
  const pool = readPool(fs.readFileSync(file));
  expect(checked.stderr).toBe('');
  expect(checked.status).toBe(0);
  expect(poolViolations(pool)).toEqual([]);
  expect(checked.stdout).toBe(formatSummary(poolSummary(pool)));
  expect(listed.status).toBe(0);
  const handles = readHandles(pool);
  expect(handles.errors).toEqual([]);
  expect(listed.stdout).toBe(handles.blocks.map((b) => `${b.handle} ${b.offset} ${b.size}\n`).join(''));
}

function setU64(buf: Buffer, off: number, value: number | bigint): void {
  buf.writeBigUInt64LE(BigInt(value), off);
}

describe('alloc pools', () => {
  test('a fresh pool is one FREE clump', () => {
    const file = freshPool();
    const pool = readPool(fs.readFileSync(file));
    expect(pool.signatureOk).toBe(true);
    expect(pool.chainOk).toBe(true);
    expect(pool.clumps).toEqual([
      expect.objectContaining({ offset: HEAP_OFF, size: SIZE - HEAP_OFF - CHUNK, state: 'FREE', pending: [] }),
    ]);
    expectAgreement(file);
  });

  test('the default workload, step by step', () => {
    const file = freshPool();
    const steps: Array<[string[], Array<[number, number]>, number]> = [
      // ops, live handles afterwards, clump count afterwards
      [['r1:200', 'a1'], [[1, 200]], 2],
      [
        ['r2:1000', 'a2'],
        [
          [1, 200],
          [2, 1000],
        ],
        3,
      ],
      [
        ['r3:100', 'a3'],
        [
          [1, 200],
          [2, 1000],
          [3, 100],
        ],
        4,
      ],
      [
        ['f2'],
        [
          [1, 200],
          [3, 100],
        ],
        4,
      ],
      [
        ['r4:1000', 'a4'],
        [
          [1, 200],
          [3, 100],
          [4, 1000],
        ],
        4,
      ], // exact fit, no split
      [
        ['f3'],
        [
          [1, 200],
          [4, 1000],
        ],
        3,
      ], // coalesces with the next clump
      [['f1'], [[4, 1000]], 3],
      [['f4'], [], 1], // coalesces on both sides
    ];
    for (const [ops, live, clumps] of steps) {
      runOk('alloc', ['run', file, ...ops], dir);
      const pool = readPool(fs.readFileSync(file));
      expect(liveHandles(pool)).toEqual(live);
      expect(pool.clumps).toHaveLength(clumps);
      expectAgreement(file);
    }
  });

  test.each(['clflush', 'clflushopt', 'clwb', 'msync', 'fit'])('the default workload in one run, %s mode', (mode) => {
    const file = freshPool();
    runOk('alloc', ['-m', mode, 'run', file, ...DEFAULT_OPS.slice(0, 9)], dir);
    expect(liveHandles(readPool(fs.readFileSync(file)))).toEqual([
      [1, 200],
      [3, 100],
      [4, 1000],
    ]);
    expectAgreement(file);
    runOk('alloc', ['-m', mode, 'run', file, ...DEFAULT_OPS.slice(9)], dir);
    expect(readPool(fs.readFileSync(file)).clumps).toHaveLength(1);
    expectAgreement(file);
  });

  test('a reservation never activated is returned by recovery', () => {
    const file = freshPool();
    runOk('alloc', ['run', file, 'r1:100', 'a1', 'r5:300'], dir);
    const before = readPool(fs.readFileSync(file));
    expect(before.clumps.map((c) => c.state)).toEqual(['ACTIVE', 'RESERVED', 'FREE']);
    expect(poolViolations(before)).toEqual([expect.stringMatching(/is RESERVED/)]);
    expect(runOk('alloc', ['recover', file], dir)).toMatch(/1 reserved freed, .* 1 merges/);
    expect(liveHandles(readPool(fs.readFileSync(file)))).toEqual([[1, 100]]);
    expectAgreement(file);
  });

  test('recovery finishes an interrupted activation (redoes the three assignments)', () => {
    const file = freshPool();
    runOk('alloc', ['run', file, 'r1:100', 'a1', 'r2:64'], dir);
    const buf = fs.readFileSync(file);
    const pool = readPool(buf);
    const [b1, c2] = [pool.clumps[0].dataOffset, pool.clumps[1]];
    // the crash state between ACTIVATING and the first assignment
    setU64(buf, c2.dataOffset + 24, b1); // block 2's prev, as aH sets it
    const assignments: Array<[number, number]> = [
      [b1 + 16, c2.dataOffset],
      [4104, c2.dataOffset],
      [handleSlot(2), c2.dataOffset],
    ];
    assignments.forEach(([off, val], slot) => {
      setU64(buf, c2.offset + 8 + 16 * slot, off);
      setU64(buf, c2.offset + 16 + 16 * slot, val);
    });
    setU64(buf, c2.offset, c2.size | 3); // ACTIVATING
    fs.writeFileSync(file, buf);
    expect(poolViolations(readPool(buf))).toEqual(expect.arrayContaining([expect.stringMatching(/ACTIVATING/)]));
    expect(runOk('alloc', ['recover', file], dir)).toMatch(/1 activations finished/);
    expect(liveHandles(readPool(fs.readFileSync(file)))).toEqual([
      [1, 100],
      [2, 64],
    ]);
    expectAgreement(file);
  });

  test('recovery finishes an interrupted free and drops onfree of an active clump', () => {
    const file = freshPool();
    runOk('alloc', ['run', file, 'r1:100', 'a1', 'r2:100', 'a2'], dir);
    const buf = fs.readFileSync(file);
    const [c1, c2] = readPool(buf).clumps;
    // clump 1 FREEING with its unlink assignments; clump 2 with a stray onfree
    const unlink: Array<[number, number]> = [
      [4096, c2.dataOffset],
      [c2.dataOffset + 24, 0],
      [handleSlot(1), 0],
    ];
    unlink.forEach(([off, val], slot) => {
      setU64(buf, c1.offset + 8 + 16 * slot, off);
      setU64(buf, c1.offset + 16 + 16 * slot, val);
    });
    setU64(buf, c1.offset, c1.size | 5); // FREEING
    setU64(buf, c2.offset + 16, 0);
    setU64(buf, c2.offset + 8, handleSlot(2));
    fs.writeFileSync(file, buf);
    expect(runOk('alloc', ['recover', file], dir)).toMatch(/1 frees finished, 1 pending dropped/);
    const pool = readPool(fs.readFileSync(file));
    expect(liveHandles(pool)).toEqual([[2, 100]]);
    expect(pool.clumps.map((c) => c.state)).toEqual(['FREE', 'ACTIVE', 'FREE']);
    expectAgreement(file);
  });

  test('broken images give violations and a failing alloc check', () => {
    const file = freshPool();
    runOk('alloc', ['run', file, 'r1:100', 'a1', 'r2:100', 'a2', 'r3:100', 'a3'], dir);
    const good = fs.readFileSync(file);
    const [c1, c2] = readPool(good).clumps;

    const cases: Array<[string, (b: Buffer) => void, RegExp]> = [
      ['chain overruns', (b) => setU64(b, c2.offset, (1 << 20) | 4), /bad size/],
      ['zero-size clump', (b) => setU64(b, c2.offset, 4), /bad size 0/],
      ['chain ends early', (b) => setU64(b, c2.offset, 0), /chain ends at/],
      ['bad state', (b) => setU64(b, c1.offset, c1.size | 9), /invalid state 9/],
      ['bad signature', (b) => b.write('X', 12288), /signature/],
      ['wrong size in header', (b) => setU64(b, 12304, SIZE * 2), /header says/],
    ];
    for (const [name, corrupt, message] of cases) {
      const buf = Buffer.from(good);
      corrupt(buf);
      fs.writeFileSync(file, buf);
      const violations = poolViolations(readPool(buf));
      expect({ name, violations }).toEqual({
        name,
        violations: expect.arrayContaining([expect.stringMatching(message)]),
      });
      expect({ name, status: run('alloc', ['check', file], dir).status }).toEqual({ name, status: 1 });
    }
  });

  test('states recovery repairs are violations before it', () => {
    const file = freshPool();
    runOk('alloc', ['run', file, 'r1:100', 'a1', 'r2:100', 'a2', 'r3:100', 'a3'], dir);
    const buf = fs.readFileSync(file);
    const [c1, c2] = readPool(buf).clumps;
    setU64(buf, c2.offset, c2.size | 1); // FREE next to... an ACTIVE clump: fine
    setU64(buf, c1.offset, c1.size | 1); // two FREE clumps side by side
    setU64(buf, c2.offset + 8, 4096); // a pending assignment on a FREE clump
    expect(poolViolations(readPool(buf))).toEqual([
      `clump at ${c2.offset} has a pending assignment to 4096 (slot 0)`,
      `clump at ${c2.offset} is FREE after a FREE clump (not coalesced)`,
    ]);
  });

  test('the list reader catches a damaged list', () => {
    const file = freshPool();
    runOk('alloc', ['run', file, 'r1:100', 'a1', 'r2:100', 'a2'], dir);
    const good = fs.readFileSync(file);
    const [c1, c2] = readPool(good).clumps;
    const cases: Array<[(b: Buffer) => void, RegExp]> = [
      [(b) => setU64(b, c2.dataOffset + 24, 0), /has prev 0/],
      [(b) => setU64(b, 4104, c1.dataOffset), /tail is/],
      [(b) => setU64(b, c2.dataOffset + 16, c1.dataOffset), /appears twice/],
      [(b) => setU64(b, handleSlot(7), c1.dataOffset), /handle 7 is set/],
      [(b) => setU64(b, 4096, c2.dataOffset), /2 ACTIVE clumps but 1 blocks/],
    ];
    for (const [corrupt, message] of cases) {
      const buf = Buffer.from(good);
      corrupt(buf);
      expect(readHandles(readPool(buf)).errors).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
      fs.writeFileSync(file, buf);
      expect(run('alloc', ['list', file], dir).status).toBe(1);
    }
  });

  test('usage errors exit 2 with one line', () => {
    const file = freshPool();
    for (const args of [
      [],
      ['frob', file],
      ['check'],
      ['init', 'x', '1000'],
      ['run', file],
      ['run', file, 'r1'],
      ['run', file, 'q1'],
      ['run', file, 'a999'],
      ['check', file, 'extra'],
    ]) {
      const r = run('alloc', args, dir);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    for (const args of [
      ['run', file, 'a1'],
      ['run', file, 'f1'],
      ['run', file, 'r1:1000000'],
      ['init', file, '64K'],
      ['check', path.join(dir, 'missing')],
    ]) {
      const r = run('alloc', args, dir);
      expect({ args, status: r.status }).toEqual({ args, status: 1 });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  test('readers survive garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20000 }), (bytes) => {
        const pool = readPool(Buffer.from(bytes));
        expect(poolViolations(pool).length).toBeGreaterThan(0);
        readHandles(pool);
      }),
    );
    const big = Buffer.alloc(SIZE, 0xff);
    expect(poolViolations(readPool(big)).length).toBeGreaterThan(0);
  });

  test('after alloc check succeeds on a mangled pool, the reader finds no violation; when it fails, the reader does too', () => {
    const file = freshPool();
    runOk('alloc', ['run', file, ...DEFAULT_OPS.slice(0, 9), 'r6:500'], dir);
    const good = fs.readFileSync(file);
    const headers = readPool(good).clumps.map((c) => c.offset);
    const mutation = fc.record({
      at: fc.oneof(
        fc.constantFrom(...headers).chain((h) => fc.integer({ min: h, max: h + 63 })),
        fc.integer({ min: 4096, max: 4096 + 4095 }),
        fc.integer({ min: HEAP_OFF, max: SIZE - 1 }),
      ),
      value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 2, 3, 4, 5)),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const buf = Buffer.from(good);
        for (const m of mutations) buf[m.at] = m.value;
        fs.writeFileSync(file, buf);
        readHandles(readPool(buf)); // must not throw
        const status = run('alloc', ['check', file], dir).status;
        const after = poolViolations(readPool(fs.readFileSync(file)));
        if (status === 0) expect(after).toEqual([]);
        else expect(after.length).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });
});
