// spec -- tree, the word-frequency tree on alloc. Each inserted word is one
// region; after recovery the tree must keep its invariants (order, counts,
// no leaked or dangling nodes) and its words must equal the reference
// multiset before or after the interrupted insert.

import { builtProgram } from '../../harness/_internals/paths';
import type { CheckedSpec, CheckInput } from '../../harness/check/spec';
import { treeViolations, treeWords } from './tree-file';

/** Four new words, then an insert of an existing one (a count update). */
export const DEFAULT_WORDS = ['one', 'two', 'three', 'four', 'two'];

export type WordCounts = Record<string, number>;

/** referenceStates -- word counts after each insert. */
export function referenceStates(words: string[]): WordCounts[] {
  const states: WordCounts[] = [{}];
  for (const word of words) {
    const previous = states[states.length - 1];
    states.push({ ...previous, [word]: (previous[word] ?? 0) + 1 });
  }
  return states;
}

function canonical(counts: WordCounts): string {
  return JSON.stringify(
    Object.keys(counts)
      .sort()
      .map((word) => [word, counts[word]]),
  );
}

/** options.path: path of the binary to run instead of the built program
 *  named options.program (bench/bugs.ts points it at mutants). */
export function treeSpec(
  words: string[] = DEFAULT_WORDS,
  options: { program?: string; path?: string; env?: Record<string, string> } = {},
): CheckedSpec {
  const tree = options.path ?? builtProgram(options.program ?? 'tree');
  return {
    name: options.program ?? 'tree',
    description: 'word-frequency binary tree whose nodes are published through alloc activate',
    expect: 'consistent',
    pmFiles: ['tree.pm'],
    setup: [{ argv: [tree, 'init', '{dir}/tree.pm', '64K'] }],
    workload: { argv: [tree, 'insert', '{dir}/tree.pm', ...words] },
    states: referenceStates(words),
    recover: [{ argv: [tree, 'check', '{dir}/tree.pm'] }],
    check: checkTree,
    env: options.env ?? {},
  };
}

export function checkTree({ files, allowed }: CheckInput): string[] {
  const broken = treeViolations(files[0]);
  if (broken.length > 0) return broken;
  const words = canonical(treeWords(files[0]));
  if (allowed.length === 0 || allowed.some((state) => canonical(state as WordCounts) === words)) return [];
  return [`atomicity: words ${words} match neither the state before nor after the interrupted insert`];
}
