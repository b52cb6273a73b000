// tree-file -- read the word tree of a `tree` pool image and check its invariants.
//
// Pure functions over a Buffer holding a whole pool file (no I/O). The pool
// is an alloc pool (targets/alloc/pool.ts); static-area root 0 (offset 4096)
// holds the offset of the root node. A node is the data of an ACTIVE clump:
//
//   +0 left, +8 right (u64 offsets, 0 = none), +16 count (u64),
//   +24 the word, NUL-terminated
//
// Words are ordered by their bytes (strcmp), each at most once.
//
// Never throws and always terminates on garbage: each node is visited at most
// once (a second visit is reported as a cycle or shared subtree), so the walk
// is bounded by the number of clumps.

import { Clump, Pool, STATIC_OFF, clumpOfData, poolViolations, readPool, u64 } from '../alloc/pool';

export const TREE_ROOT = STATIC_OFF;
/** The longest word `tree insert` accepts, in bytes. */
export const TREE_MAX_WORD = 1000;
const NODE_HEADER = 24;

export interface TreeNode {
  /** Pool offset of the node (its clump's data). */
  offset: number;
  left: number;
  right: number;
  count: number;
  /** The word, decoded as UTF-8. */
  word: string;
  /** The word's bytes, which define the order. */
  bytes: Buffer;
}

export interface Tree {
  pool: Pool;
  /** Offset of the root node, 0 for an empty tree. */
  root: number;
  /** Nodes reachable from the root that could be read, in order (in-order walk). */
  nodes: TreeNode[];
  /** Broken tree invariants (pool invariants are not included). */
  errors: string[];
}

interface Frame {
  off: number;
  low?: Buffer;
  high?: Buffer;
  /** Reached from this parent (0: the root slot), for messages. */
  from: number;
  node?: TreeNode;
  /** 0: not yet expanded; 1: left pushed; 2: emitted. */
  stage: number;
}

/**
 * readNode -- the node at OFF if OFF is the data of an ACTIVE clump and holds
 * a NUL-terminated word inside the clump; a problem message otherwise.
 */
function readNode(pool: Pool, off: number): TreeNode | string {
  const c: Clump | undefined = clumpOfData(pool, off);
  if (!c || c.state !== 'ACTIVE') {
    return `node ${off} is not the data of an ACTIVE clump${c ? ` (it is ${c.state})` : ''}`;
  }
  const buf = pool.buf;
  if (c.dataSize <= NODE_HEADER) return `node ${off} is too small for a word`;
  const wordStart = off + NODE_HEADER;
  const nul = buf.indexOf(0, wordStart);
  if (nul < 0 || nul >= off + c.dataSize) return `node ${off} has no NUL-terminated word`;
  const bytes = Buffer.from(buf.subarray(wordStart, nul));
  return {
    offset: off,
    left: u64(buf, off),
    right: u64(buf, off + 8),
    count: u64(buf, off + 16),
    word: bytes.toString('utf8'),
    bytes,
  };
}

/**
 * readTree -- the nodes reachable from the root, in order, with every broken
 * tree invariant: each reachable node is the data of an ACTIVE clump holding a
 * non-empty NUL-terminated word; count >= 1; strict byte order (each word
 * between the bounds its ancestors impose); no node reachable twice (cycles,
 * shared subtrees); every ACTIVE clump reachable (no leak).
 */
export function readTree(buf: Buffer): Tree {
  const pool = readPool(buf);
  const tree: Tree = { pool, root: 0, nodes: [], errors: [] };
  if (pool.roots.length === 0) {
    tree.errors.push('no static area: not a pool');
    return tree;
  }
  tree.root = pool.roots[0];

  const seen = new Set<number>();
  const stack: Frame[] = [];
  if (tree.root !== 0) stack.push({ off: tree.root, from: 0, stage: 0 });

  // In-order walk with an explicit stack; bounds travel with each frame.
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.stage === 0) {
      f.stage = 1;
      const node = readNode(pool, f.off);
      const where = f.from ? `child of ${f.from}` : 'root';
      if (typeof node === 'string') {
        tree.errors.push(`${node} (${where})`);
        stack.pop();
        continue;
      }
      if (seen.has(f.off)) {
        tree.errors.push(`node ${f.off} is reachable twice (cycle or shared subtree; ${where})`);
        stack.pop();
        continue;
      }
      seen.add(f.off);
      f.node = node;
      if (node.bytes.length === 0) tree.errors.push(`node ${f.off} has an empty word`);
      if (node.count < 1) tree.errors.push(`node ${f.off} ('${node.word}') has count 0`);
      if ((f.low && Buffer.compare(node.bytes, f.low) <= 0) || (f.high && Buffer.compare(node.bytes, f.high) >= 0)) {
        tree.errors.push(`node ${f.off} ('${node.word}') is out of order`);
      }
      if (node.left !== 0) stack.push({ off: node.left, low: f.low, high: node.bytes, from: f.off, stage: 0 });
    } else if (f.stage === 1) {
      f.stage = 2;
      const node = f.node as TreeNode;
      tree.nodes.push(node);
      stack.pop();
      if (node.right !== 0) stack.push({ off: node.right, low: node.bytes, high: f.high, from: f.off, stage: 0 });
    }
  }

  for (const c of pool.clumps) {
    if (c.state === 'ACTIVE' && !seen.has(c.dataOffset)) {
      tree.errors.push(`ACTIVE clump at ${c.offset} is not in the tree (leak)`);
    }
  }
  return tree;
}

/** treeViolations -- the pool's invariants (poolViolations) followed by the tree's. */
export function treeViolations(buf: Buffer): string[] {
  const tree = readTree(buf);
  return [...poolViolations(tree.pool), ...tree.errors];
}

/** treeWords -- the reference-model view: word -> count, for the readable nodes. */
export function treeWords(buf: Buffer): Record<string, number> {
  // no prototype: a word such as "__proto__" is an ordinary key
  const words: Record<string, number> = Object.create(null);
  for (const n of readTree(buf).nodes) words[n.word] = n.count;
  return words;
}

/** formatWalk -- the nodes as `tree walk` prints them ("COUNT WORD" lines). */
export function formatWalk(tree: Tree): string {
  return tree.nodes.map((n) => `${n.count} ${n.word}\n`).join('');
}
