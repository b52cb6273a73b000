// fuzz -- the tree target for `pmfit fuzz` (harness/fuzz/fuzz-target.ts):
// sequences of inserts and frees, with a reference model that knows the
// tree's shape.
//
// Operations: `insert WORD` (one `tree insert` region; consecutive inserts
// share one invocation) and `free` (`tree free FILE`: frees every node, one
// region per node; tree.c has no single-word removal). Words come from a
// small alphabet so that repeats (count updates) are common, plus a few words
// longer than a 64-byte cache line, whose nodes span several lines.
//
// Model state: the distinct words in the order they entered the tree, and
// their counts. The order fixes the shape of the (unbalanced) binary search
// tree, and the shape fixes the order in which `tree free` frees the nodes:
// each step descends from the root, to the left child when there is one,
// else to the right one, until it reaches a leaf, and frees that leaf.
// Removing a leaf from the insertion order leaves the shape of the rest
// unchanged, so the state stays a plain list. Counts after inserts come from
// the spec's reference model (referenceStates).
//
// Capacity: the alphabet has 18 distinct words of at most 130 bytes, so even
// a tree holding all of them (under 6 KiB of clumps) fits a 64 KiB pool
// whatever the fragmentation: every generated sequence is valid.

import * as fc from 'fast-check';
import { builtProgram } from '../../harness/_internals/paths';
import type { FuzzTarget } from '../../harness/fuzz/fuzz-target';
import { referenceStates, treeSpec, WordCounts } from './spec';
import { TREE_MAX_WORD } from './tree-file';

export type TreeOp = { kind: 'insert'; word: string } | { kind: 'free' };

export interface TreeState {
  /** Distinct words in the tree, in the order they were inserted. */
  order: string[];
  counts: WordCounts;
}

/** Short words over a three-letter alphabet (12 of them), so repeats happen. */
const shortWord = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 1, maxLength: 2 });
/** Six words longer than a cache line (a node's word starts at +24). */
const longWord = fc
  .tuple(fc.constantFrom('a', 'b'), fc.constantFrom(65, 100, 130))
  .map(([letter, length]) => letter.repeat(length));

/** treeInsert -- one insert: a short word four times in five, else a long one. */
export const treeInsert: fc.Arbitrary<Extract<TreeOp, { kind: 'insert' }>> = fc
  .oneof({ arbitrary: shortWord, weight: 4 }, { arbitrary: longWord, weight: 1 })
  .map((word) => ({ kind: 'insert', word }));

/** treeOps -- sequences of 1..maxOps inserts and frees (about one free in six). */
export function treeOps(maxOps: number): fc.Arbitrary<TreeOp[]> {
  const insert: fc.Arbitrary<TreeOp> = treeInsert;
  const free = fc.constant<TreeOp>({ kind: 'free' });
  const op = fc.oneof({ arbitrary: insert, weight: 5 }, { arbitrary: free, weight: 1 });
  return fc.array(op, { minLength: 1, maxLength: Math.max(1, maxOps) });
}

/** compareWords -- strcmp order (unsigned bytes), as tree.c orders words. */
function compareWords(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

interface Node {
  word: string;
  left?: Node;
  right?: Node;
}

/** freeOrder -- the words in the order `tree free` frees their nodes. */
export function freeOrder(order: readonly string[]): string[] {
  let root: Node | undefined;
  for (const word of order) {
    const node: Node = { word };
    if (!root) {
      root = node;
      continue;
    }
    let at = root;
    for (;;) {
      const side = compareWords(word, at.word) < 0 ? 'left' : 'right';
      const child = at[side];
      if (!child) {
        at[side] = node;
        break;
      }
      at = child;
    }
  }
  const freed: string[] = [];
  while (root) {
    let parent: Node | undefined;
    let side: 'left' | 'right' = 'left';
    let at: Node = root;
    while (at.left || at.right) {
      parent = at;
      side = at.left ? 'left' : 'right';
      at = at[side] as Node;
    }
    freed.push(at.word);
    if (parent) parent[side] = undefined;
    else root = undefined;
  }
  return freed;
}

function checkWord(word: unknown): string {
  if (typeof word !== 'string') throw new Error('an insert needs a string word');
  const bytes = Buffer.byteLength(word);
  if (bytes === 0 || bytes > TREE_MAX_WORD || word.includes('\0')) {
    throw new Error(`a word must have 1 to ${TREE_MAX_WORD} bytes and no NUL`);
  }
  return word;
}

/** treeFuzz -- the fuzz target of PROGRAM (tree, or tree_broken: same CLI). */
export function treeFuzz(program: 'tree' | 'tree_broken' = 'tree'): FuzzTarget<TreeOp, TreeState> {
  const tree = builtProgram(program);
  return {
    name: program,
    baseSpec: (env) => treeSpec([], { program, env }),
    ops: treeOps,
    joins: (previous, next) => previous.kind === 'insert' && next.kind === 'insert',
    command: (ops) =>
      ops[0]?.kind === 'free'
        ? { argv: [tree, 'free', '{dir}/tree.pm'] }
        : { argv: [tree, 'insert', '{dir}/tree.pm', ...ops.map((op) => (op.kind === 'insert' ? op.word : ''))] },
    initial: () => ({ order: [], counts: {} }),
    apply(state, op) {
      if (op.kind === 'insert') {
        const [, counts] = referenceStates([op.word]);
        const known = op.word in state.counts;
        return [
          {
            order: known ? state.order : [...state.order, op.word],
            counts: { ...state.counts, [op.word]: (state.counts[op.word] ?? 0) + counts[op.word] },
          },
        ];
      }
      const states: TreeState[] = [];
      let current = state;
      for (const word of freeOrder(state.order)) {
        const counts = { ...current.counts };
        delete counts[word];
        current = { order: current.order.filter((w) => w !== word), counts };
        states.push(current);
      }
      return states;
    },
    reference: (state) => state.counts,
    showOp: (op) => {
      if (op.kind === 'free') return 'free';
      const { word } = op;
      if (word.length > 24 && word === word[0].repeat(word.length)) return `insert ${word[0]}×${word.length}`;
      return `insert ${JSON.stringify(word)}`;
    },
    parseOp(value) {
      const op = value as Partial<Record<string, unknown>> | null;
      if (op !== null && typeof op === 'object' && op.kind === 'free' && Object.keys(op).length === 1)
        return { kind: 'free' };
      if (op !== null && typeof op === 'object' && op.kind === 'insert' && Object.keys(op).length === 2) {
        return { kind: 'insert', word: checkWord(op.word) };
      }
      throw new Error('a tree operation is {"kind":"insert","word":W} or {"kind":"free"}');
    },
  };
}
