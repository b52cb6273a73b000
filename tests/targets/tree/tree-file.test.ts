// tree-file -- the TypeScript tree reader against the real `tree` program.

import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { readPool, u64 } from '../../../targets/alloc/pool';
import { formatWalk, readTree, treeViolations, treeWords } from '../../../targets/tree/tree-file';
import { TargetProgram, run, runOk, scratchDir } from '../programs';

let dir: string;
let remove: () => void;
let counter = 0;
beforeAll(() => ({ dir, remove } = scratchDir('tree')));
afterAll(() => remove());

function freshTree(program: TargetProgram = 'tree'): string {
  const file = path.join(dir, `tree-${++counter}`);
  runOk(program, ['init', file, '64K'], dir);
  return file;
}

/** expectAgreement -- `tree check` and `tree walk` agree with the reader (after recovery). */
function expectAgreement(file: string, program: TargetProgram = 'tree'): void {
  const checked = run(program, ['check', file], dir);
  expect(checked.stderr).toBe('');
  expect(checked.status).toBe(0);
  const buf = fs.readFileSync(file);
  expect(treeViolations(buf)).toEqual([]);
  const tree = readTree(buf);
  expect(runOk(program, ['walk', file], dir)).toBe(formatWalk(tree));
  const words = tree.nodes.reduce((sum, n) => sum + n.count, 0);
  expect(checked.stdout).toBe(`${words} words, ${tree.nodes.length} distinct\n`);
}

describe('word trees', () => {
  test.each(['clflush', 'clflushopt', 'clwb', 'msync', 'fit'])('the default workload in %s mode', (mode) => {
    const file = freshTree();
    runOk('tree', ['-m', mode, 'insert', file, 'one', 'two', 'three', 'four', 'one'], dir);
    const buf = fs.readFileSync(file);
    expect(readTree(buf).nodes.map((n) => [n.word, n.count])).toEqual([
      ['four', 1],
      ['one', 2],
      ['three', 1],
      ['two', 1],
    ]);
    expect(treeWords(buf)).toEqual({ four: 1, one: 2, three: 1, two: 1 });
    expectAgreement(file);
  });

  test('tree_broken gives the same trees when nothing crashes', () => {
    const file = freshTree('tree_broken');
    runOk('tree_broken', ['insert', file, 'one', 'two', 'three', 'four', 'one'], dir);
    expect(treeWords(fs.readFileSync(file))).toEqual({ four: 1, one: 2, three: 1, two: 1 });
    expectAgreement(file, 'tree_broken');
  });

  test('free empties the tree and the pool', () => {
    const file = freshTree();
    runOk('tree', ['insert', file, 'm', 'f', 't', 'a', 'h', 'p', 'z', 'g'], dir);
    runOk('tree', ['free', file], dir);
    const buf = fs.readFileSync(file);
    expect(readTree(buf).nodes).toEqual([]);
    expect(readPool(buf).clumps.map((c) => c.state)).toEqual(['FREE']);
    expectAgreement(file);
  });

  test('wordfreq counts words like the reader says', () => {
    const file = path.join(dir, `wordfreq-${++counter}`); // created by wordfreq
    const text = path.join(dir, 'text');
    fs.writeFileSync(text, 'The cat saw the other cat.\nA cat-like cat; THE end 42 x42\n');
    runOk('tree', ['wordfreq', file, text], dir);
    expect(fs.statSync(file).size).toBe(1 << 20);
    expect(treeWords(fs.readFileSync(file))).toEqual({
      '42': 1,
      a: 1,
      cat: 4,
      end: 1,
      like: 1,
      other: 1,
      saw: 1,
      the: 3,
      x42: 1,
    });
    expectAgreement(file);
  });

  test('arbitrary insertions agree with a model and with tree walk', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', 'Z', '-'), minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 12 }), (words) => {
        const file = freshTree();
        runOk('tree', ['insert', file, ...words], dir); // words after FILE are literal, '-x' too
        const model: Record<string, number> = {};
        for (const w of words) model[w] = (model[w] ?? 0) + 1;
        const buf = fs.readFileSync(file);
        expect(treeWords(buf)).toEqual(model);
        const order = readTree(buf).nodes.map((n) => n.bytes);
        expect(order).toEqual([...order].sort(Buffer.compare));
        expectAgreement(file);
        fs.rmSync(file);
      }),
      { numRuns: 15 },
    );
  });

  test('the state a crash of tree_broken leaves is a violation', () => {
    // tree_broken links a reserved node before activating it; a crash in
    // between leaves a link to a RESERVED clump, which recovery frees.
    const file = freshTree('tree_broken');
    runOk('tree_broken', ['insert', file, 'one'], dir);
    runOk('alloc', ['run', file, 'r9:40'], dir); // a RESERVED clump
    const buf = fs.readFileSync(file);
    const root = u64(buf, 4096);
    const reserved = readPool(buf).clumps.find((c) => c.state === 'RESERVED');
    expect(reserved).toBeDefined();
    buf.writeBigUInt64LE(BigInt(reserved!.dataOffset), root + 8); // one.right
    fs.writeFileSync(file, buf);
    expect(treeViolations(buf)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/is RESERVED/),
        expect.stringMatching(/not the data of an ACTIVE clump \(it is RESERVED\)/),
      ]),
    );
    const r = run('tree_broken', ['check', file], dir);
    expect(r.status).toBe(1);
    expect(treeViolations(fs.readFileSync(file))).toEqual([expect.stringMatching(/not the data of an ACTIVE clump/)]);
  });

  test('broken trees give violations and a failing tree check', () => {
    const file = freshTree();
    runOk('tree', ['insert', file, 'm', 'f', 't', 'a'], dir);
    const good = fs.readFileSync(file);
    const nodes = readTree(good).nodes; // a f m t
    const at = (w: string) => nodes.find((n) => n.word === w)!.offset;
    const set = (b: Buffer, off: number, v: number) => b.writeBigUInt64LE(BigInt(v), off);
    const cases: Array<[string, (b: Buffer) => void, RegExp]> = [
      ['out of order', (b) => b.write('z', at('a') + 24), /out of order/],
      ['count 0', (b) => set(b, at('t') + 16, 0), /count 0/],
      ['cycle', (b) => set(b, at('a'), at('m')), /reachable twice/],
      ['leak', (b) => set(b, at('f'), 0), /leak/],
      ['dangling', (b) => set(b, at('t') + 8, at('t') + 64), /not the data of an ACTIVE clump/],
      ['empty tree, full pool', (b) => set(b, 4096, 0), /leak/],
      ['no NUL', (b) => b.fill(0x41, at('a') + 24, at('a') + 64), /no NUL-terminated word/],
      ['empty word', (b) => set(b, at('a') + 24, 0), /empty word/],
    ];
    for (const [name, corrupt, message] of cases) {
      const buf = Buffer.from(good);
      corrupt(buf);
      expect({ name, v: treeViolations(buf) }).toEqual({
        name,
        v: expect.arrayContaining([expect.stringMatching(message)]),
      });
      fs.writeFileSync(file, buf);
      expect({ name, status: run('tree', ['check', file], dir).status }).toEqual({ name, status: 1 });
    }
  });

  test('usage errors exit 2 with one line', () => {
    const file = freshTree();
    for (const args of [
      [],
      ['plant', file],
      ['insert', file],
      ['insert', file, ''],
      ['walk', file, 'x'],
      ['init', 'x', '12'],
      ['-m', 'foo', 'walk', file],
    ]) {
      const r = run('tree', args, dir);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const r = run('tree', ['walk', path.join(dir, 'missing')], dir);
    expect(r.status).toBe(1);
  });

  test('readers survive garbage, and agree with tree check on mangled trees', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20000 }), (bytes) => {
        expect(treeViolations(Buffer.from(bytes)).length).toBeGreaterThan(0);
      }),
    );
    const file = freshTree();
    runOk('tree', ['insert', file, 'kiwi', 'fig', 'plum', 'apple', 'grape', 'lime', 'pear', 'date', 'fig'], dir);
    const good = fs.readFileSync(file);
    const targets = readTree(good).nodes.map((n) => n.offset);
    const mutation = fc.record({
      at: fc.oneof(
        fc.constantFrom(...targets).chain((n) => fc.integer({ min: n - 64, max: n + 40 })),
        fc.integer({ min: 4096, max: 4103 }),
      ),
      value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 4, 0x40, 0x80)),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const buf = Buffer.from(good);
        for (const m of mutations) buf[m.at] = m.value;
        fs.writeFileSync(file, buf);
        readTree(buf); // must not throw
        const status = run('tree', ['check', file], dir).status;
        const after = treeViolations(fs.readFileSync(file));
        if (status === 0) expect(after).toEqual([]);
        else expect(after.length).toBeGreaterThan(0);
      }),
      { numRuns: 80 },
    );
  });
});
