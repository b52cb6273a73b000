// models -- the fuzz targets' generators and reference models, and the
// specs' reference-model functions they reuse: pure properties, no processes.

import * as fc from 'fast-check';
import { referenceStates as allocReference } from '../../targets/alloc/spec';
import { allocFuzz, allocOps, AllocOp, surelyFits } from '../../targets/alloc/fuzz';
import { basicFuzz, basicOps } from '../../targets/basic/fuzz';
import { BASIC_SIZE } from '../../targets/basic/strings-file';
import { referenceStates as treeReference } from '../../targets/tree/spec';
import { freeOrder, treeFuzz, treeOps, TreeOp, TreeState } from '../../targets/tree/fuzz';

/** Run OPS through a target's model from its initial state; states after every region. */
function fold<Op, S>(target: { initial(): S; apply(s: S, op: Op): S[] | undefined }, ops: Op[]): S[] | undefined {
  const states = [target.initial()];
  for (const op of ops) {
    const after = target.apply(states[states.length - 1], op);
    if (!after) return undefined;
    states.push(...after);
  }
  return states;
}

/** Post-order of the unbalanced BST built by inserting WORDS (byte order). */
function postOrder(words: string[]): string[] {
  type N = { w: string; l?: N; r?: N };
  let root: N | undefined;
  const insert = (n: N | undefined, w: string): N => {
    if (!n) return { w };
    const c = Buffer.compare(Buffer.from(w), Buffer.from(n.w));
    if (c < 0) n.l = insert(n.l, w);
    else if (c > 0) n.r = insert(n.r, w);
    return n;
  };
  for (const w of words) root = insert(root, w);
  const out: string[] = [];
  const walk = (n: N | undefined): void => {
    if (!n) return;
    walk(n.l);
    walk(n.r);
    out.push(n.w);
  };
  walk(root);
  return out;
}

const words = fc.uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é'), minLength: 1, maxLength: 4 }), {
  maxLength: 20,
});

describe('tree model', () => {
  const tree = treeFuzz('tree');

  test('tree free frees the nodes in post-order (left subtree, right subtree, node)', () => {
    fc.assert(
      fc.property(words, (ws) => {
        expect(freeOrder(ws)).toEqual(postOrder(ws));
      }),
    );
  });

  test('inserts count like the spec reference model; a free empties the tree one word per region', () => {
    fc.assert(
      fc.property(treeOps(12), (ops) => {
        const states = fold(tree, ops) as TreeState[];
        expect(states).toBeDefined();
        // Between frees, the counts follow referenceStates of the inserted words.
        let start = 0;
        let words: string[] = [];
        ops.forEach((op) => {
          if (op.kind === 'insert') {
            words.push(op.word);
            start += 1;
            expect(states[start].counts).toEqual(treeReference(words)[words.length]);
            expect(states[start].order).toEqual([...new Set(words)]);
          } else {
            const distinct = new Set(words).size;
            const freed = states.slice(start + 1, start + 1 + distinct);
            expect(freed).toHaveLength(distinct);
            freed.forEach((s, i) => expect(s.order).toHaveLength(distinct - i - 1));
            start += distinct;
            words = [];
          }
        });
        expect(states).toHaveLength(start + 1);
      }),
    );
  });

  test('generated words: a small alphabet with repeats, some longer than a cache line', () => {
    const samples = fc.sample(treeOps(8), { numRuns: 300, seed: 5 }).flat();
    const inserted = samples
      .filter((op): op is Extract<TreeOp, { kind: 'insert' }> => op.kind === 'insert')
      .map((op) => op.word);
    expect(new Set(inserted).size).toBeLessThanOrEqual(18);
    expect(inserted.some((w) => w.length > 64)).toBe(true);
    expect(samples.some((op) => op.kind === 'free')).toBe(true);
  });

  test('ops read back from JSON are the ops; bad ones are refused', () => {
    fc.assert(
      fc.property(treeOps(6), (ops) => {
        expect(ops.map((op) => tree.parseOp(JSON.parse(JSON.stringify(op))))).toEqual(ops);
      }),
    );
    for (const bad of [
      null,
      3,
      {},
      { kind: 'insert' },
      { kind: 'insert', word: '' },
      { kind: 'insert', word: 'a\0b' },
      { kind: 'free', x: 1 },
      { kind: 'insert', word: 'x'.repeat(1001) },
    ]) {
      expect(() => tree.parseOp(bad)).toThrow();
    }
  });

  test('inserts join one invocation, a free runs alone', () => {
    const cmd = tree.command([
      { kind: 'insert', word: 'a' },
      { kind: 'insert', word: 'b' },
    ]);
    expect(cmd.argv.slice(1)).toEqual(['insert', '{dir}/tree.pm', 'a', 'b']);
    expect(tree.command([{ kind: 'free' }]).argv.slice(1)).toEqual(['free', '{dir}/tree.pm']);
    expect(tree.joins({ kind: 'insert', word: 'a' }, { kind: 'free' })).toBe(false);
    expect(tree.joins({ kind: 'free' }, { kind: 'free' })).toBe(false);
  });
});

describe('alloc model', () => {
  const alloc = allocFuzz();
  const parse = (text: string) => /^([raf])(\d+)(?::(\d+))?$/.exec(text) as RegExpExecArray;

  test('generated sequences are valid: fresh handles, activations of this invocation’s reservations, frees of live blocks', () => {
    fc.assert(
      fc.property(allocOps(8), (ops) => {
        expect(ops.length).toBeGreaterThan(0);
        expect(fold(alloc, ops)).toBeDefined();
        const reservedEver = new Set<number>();
        const live = new Set<number>();
        for (const op of ops) {
          expect(op.run.length).toBeGreaterThan(0);
          const reserved = new Set<number>();
          for (const text of op.run) {
            const [, kind, h, size] = parse(text);
            const handle = Number(h);
            if (kind === 'r') {
              expect(reservedEver.has(handle)).toBe(false);
              expect(Number(size)).toBeGreaterThanOrEqual(1);
              expect(Number(size)).toBeLessThanOrEqual(4000);
              reservedEver.add(handle);
              reserved.add(handle);
            } else if (kind === 'a') {
              expect(reserved.delete(handle)).toBe(true);
              live.add(handle);
            } else {
              expect(live.delete(handle)).toBe(true);
            }
          }
        }
      }),
    );
  });

  test('the model is the spec reference model over all OPs, region by region', () => {
    fc.assert(
      fc.property(allocOps(6), (ops) => {
        const states = fold(alloc, ops) as Array<{ history: string[] }>;
        const flat = ops.flatMap((op) => op.run);
        expect(states.map((s) => alloc.reference(s))).toEqual(allocReference(flat));
      }),
    );
  });

  test('spec reference model: live blocks are the activated ones not freed, in activation order', () => {
    fc.assert(
      fc.property(allocOps(6), (ops) => {
        const flat = ops.flatMap((op) => op.run);
        const states = allocReference(flat);
        expect(states).toHaveLength(flat.length + 1);
        const sizes = new Map<number, number>();
        let live: Array<[number, number]> = [];
        flat.forEach((text, i) => {
          const [, kind, h, size] = parse(text);
          if (kind === 'r') sizes.set(Number(h), Number(size));
          if (kind === 'a') live = [...live, [Number(h), sizes.get(Number(h)) as number]];
          if (kind === 'f') live = live.filter(([x]) => x !== Number(h));
          expect(states[i + 1]).toEqual(live);
        });
      }),
    );
  });

  test('invalid invocations are refused by the model and by the reader', () => {
    const s0 = alloc.initial();
    expect(alloc.apply(s0, { run: ['a0'] })).toBeUndefined();
    expect(alloc.apply(s0, { run: ['f0'] })).toBeUndefined();
    expect(alloc.apply(s0, { run: ['r0:10', 'r0:10'] })).toBeUndefined();
    expect(alloc.apply(s0, { run: ['r0:60000'] })).toBeUndefined();
    const after = alloc.apply(s0, { run: ['r0:10', 'a0'] }) as Array<{ history: string[] }>;
    expect(after).toHaveLength(2);
    expect(alloc.apply(after[1], { run: ['r0:10'] })).toBeUndefined();
    expect(alloc.apply(after[1], { run: ['f0'] })).toHaveLength(1);
    for (const bad of [{ run: [] }, { run: ['x1'] }, { run: 'r0:1' }, { run: ['r0'] }, {}])
      expect(() => alloc.parseOp(bad)).toThrow();
    const op: AllocOp = { run: ['r3:100', 'a3', 'f1'] };
    expect(alloc.parseOp(JSON.parse(JSON.stringify(op)))).toEqual(op);
  });

  test('surelyFits: room for the request in the largest possible hole', () => {
    expect(surelyFits([], 4000)).toBe(true);
    expect(surelyFits(Array(11).fill(4000), 4000)).toBe(false);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 4000 }),
        (sizes, size) => {
          // Monotone: more allocated never makes a request surer.
          if (surelyFits([...sizes, 1], size)) expect(surelyFits(sizes, size)).toBe(true);
        },
      ),
    );
  });
});

describe('basic model', () => {
  const basic = basicFuzz();

  test('generated strings: 1..200 printable ASCII bytes that fit the file together', () => {
    fc.assert(
      fc.property(basicOps(60), (ops) => {
        for (const s of ops) expect(s).toMatch(/^[\x20-\x7e]{1,200}$/);
        expect(ops.reduce((sum, s) => sum + s.length + 1, 0)).toBeLessThanOrEqual(BASIC_SIZE);
        const states = fold(basic, ops) as string[][];
        expect(states.map((s) => basic.reference(s))).toEqual(ops.map((_, i) => ops.slice(0, i)).concat([ops]));
      }),
    );
  });

  test('a string that does not fit is refused', () => {
    const full = Array(40).fill('x'.repeat(199));
    expect(basic.apply(full, 'y'.repeat(200))).toBeUndefined();
    expect(basic.apply([], 'y')).toEqual([['y']]);
    for (const bad of ['', 'a\nb', 'x'.repeat(201), 5]) expect(() => basic.parseOp(bad)).toThrow();
  });
});
