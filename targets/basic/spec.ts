// spec -- basic, the positive control: strings appended with no crash
// protection, so a crash can tear the string being written. Each append is
// one region; after recovery the stored strings must equal the list before or
// after the interrupted append, which fails for a torn string.

import { builtProgram } from '../../harness/_internals/paths';
import type { CheckedSpec, CheckInput } from '../../harness/check/spec';
import { readStrings } from './strings-file';

/** The original demo: a short string, one longer than a cache line, another short one. */
export const DEFAULT_STRINGS = [
  'short1',
  'a string longer than one 64-byte cache line, so that it can tear between lines',
  'short2',
];

export function basicSpec(strings: string[] = DEFAULT_STRINGS, env: Record<string, string> = {}): CheckedSpec {
  const basic = builtProgram('basic');
  return {
    name: 'basic',
    description: 'appends strings to a PM file with no crash protection (positive control)',
    expect: 'violations',
    pmFiles: ['basic.pm'],
    setup: [{ argv: ['truncate', '-s', '8192', '{dir}/basic.pm'] }],
    workload: { argv: [basic, '{dir}/basic.pm', ...strings] },
    states: strings.map((_, i) => strings.slice(0, i)).concat([strings]),
    recover: [{ argv: [basic, '{dir}/basic.pm'] }],
    check: (input: CheckInput) => checkStrings(input),
    env,
  };
}

function checkStrings({ files, allowed }: CheckInput): string[] {
  const stored = readStrings(files[0]);
  const same = (state: unknown) => JSON.stringify(state) === JSON.stringify(stored);
  if (allowed.length === 0 || allowed.some(same)) return [];
  return [
    `all-or-nothing append: stored strings ${JSON.stringify(stored).slice(0, 200)} match neither the state before nor after the interrupted append`,
  ];
}
