// interrupted-stack -- a violation group's interrupted instruction with its
// call stack (explain-groups.ts, when libdw unwound it): the console, JUnit
// and the annotations show it at the program's own frame and say which
// function it was reached from; without a stack they read as before.

import picocolors from 'picocolors';
import { formatRun } from '../../harness/report/console-report';
import { renderJunit } from '../../harness/report/junit';
import { siteText } from '../../harness/report/run-verdict';
import { stackLines } from '../../harness/report/stack-text';
import type { InstructionSite, StackFrame } from '../../harness/results/schema';
import { fixtureRun, loadFixture } from './fixture';

const plain = picocolors.createColors(false);

const memmove: StackFrame = {
  address: '0x7ffff7e4a1c0',
  module: '/usr/lib/x86_64-linux-gnu/libc.so.6',
  symbol: '__memmove_avx_unaligned_erms+0x80',
};
const insert: StackFrame = {
  address: '0x401a3c',
  module: 'btree',
  symbol: 'btree_insert+0x5c',
  file: 'targets/btree/btree.c',
  line: 120,
};
const main: StackFrame = {
  address: '0x401f00',
  module: 'btree',
  symbol: 'main+0x20',
  file: 'targets/btree/btree.c',
  line: 300,
};

/** The fixture's btree × px86 run, its first violation group interrupted
 *  inside memmove, which btree_insert called at btree.c:120. */
function withStack(next?: Partial<InstructionSite>) {
  const results = loadFixture();
  const run = fixtureRun(results, 'btree', 'px86');
  const group = run.groups.find((candidate) => candidate.violation)!;
  group.example.next = {
    address: memmove.address,
    module: memmove.module,
    symbol: memmove.symbol,
    text: 'vmovdqu ymmword ptr [rdi], ymm0',
    file: 'targets/btree/btree.c',
    line: 120,
    stack: [memmove, insert, main],
    frame: 1,
    ...next,
  };
  return { results, run, group };
}

describe("a violation group's interrupted instruction with its stack", () => {
  it('console: where in the program, and the stack in one line', () => {
    const { run } = withStack();
    const out = formatRun(run, plain);
    expect(out).toContain('  interrupted: at targets/btree/btree.c:120\n');
    expect(out).toContain(
      '  stack: __memmove_avx_unaligned_erms (libc.so.6) <- btree_insert btree.c:120 <- main btree.c:300\n',
    );
  });

  it('a thread and a stack: both', () => {
    const { run } = withStack({ thread: 2 });
    const out = formatRun(run, plain);
    expect(out).toContain('  interrupted: thread 2 at targets/btree/btree.c:120\n');
    expect(out).toContain('  stack: __memmove_avx_unaligned_erms (libc.so.6) <- btree_insert btree.c:120');
  });

  it('the instruction is named as it is, its line as the caller the stack places it in', () => {
    const { group } = withStack();
    expect(siteText(group.example.next)).toBe(
      'vmovdqu ymmword ptr [rdi], ymm0 in __memmove_avx_unaligned_erms+0x80 (/usr/lib/x86_64-linux-gnu/libc.so.6) at 0x7ffff7e4a1c0, reached from btree_insert targets/btree/btree.c:120',
    );
    // in the program's own code: its own line, as before
    const own = withStack({ ...insert, text: 'mov', stack: [insert, main], frame: 0 }).group.example.next;
    expect(siteText(own)).toBe('mov in btree_insert+0x5c (btree) at 0x401a3c, targets/btree/btree.c:120');
  });

  it('JUnit: every frame, the own frame marked', () => {
    const { results } = withStack();
    const xml = renderJunit(results);
    expect(xml).toContain(
      [
        'source: targets/btree/btree.c:120',
        'call stack:',
        '    at __memmove_avx_unaligned_erms+0x80 (/usr/lib/x86_64-linux-gnu/libc.so.6)',
        '  &gt; at btree_insert+0x5c targets/btree/btree.c:120',
        '    at main+0x20 targets/btree/btree.c:300',
      ].join('\n'),
    );
    expect(stackLines({ stack: [insert], frame: 0 })).toEqual(['> at btree_insert+0x5c targets/btree/btree.c:120']);
  });

  it('without a stack (no libdw): no stack line, and the console as before', () => {
    const results = loadFixture();
    const run = fixtureRun(results, 'btree', 'px86');
    const out = formatRun(run, plain);
    expect(out).not.toContain('interrupted:');
    expect(out).not.toContain('stack:');
    expect(renderJunit(results)).not.toContain('call stack:');
  });
});
