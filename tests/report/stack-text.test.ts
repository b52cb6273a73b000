// stack-text -- the one-line stacks of the terminal and the annotations:
// the instruction's frame, the own frame with its neighbours, the frames
// between counted.

import { frameText, shortStack } from '../../harness/report/stack-text';
import type { StackFrame } from '../../harness/results/schema';

const lib = (address: string, symbol?: string): StackFrame => ({
  address,
  module: '/usr/lib/x86_64-linux-gnu/libpmemobj.so.1.0.0',
  ...(symbol ? { symbol } : {}),
});
const own = (symbol: string, line: number): StackFrame => ({
  address: '0x401000',
  module: '/work/txmap',
  symbol: `${symbol}+0x1c`,
  file: '/work/txmap.c',
  line,
});

describe('frameText', () => {
  it('names a frame by function and file:line, else by function or address and module', () => {
    expect(frameText(own('insert', 206))).toBe('insert txmap.c:206');
    expect(frameText(lib('0x7f01', 'pmemobj_tx_commit+0x1ce'))).toBe('pmemobj_tx_commit (libpmemobj.so.1.0.0)');
    expect(frameText(lib('0x7f01'))).toBe('0x7f01 (libpmemobj.so.1.0.0)');
  });
});

describe('shortStack', () => {
  it('a deep library stack: the instruction, the frames between counted, the own frame and its neighbours', () => {
    const stack = [
      lib('0x7f00'),
      lib('0x7f01'),
      lib('0x7f02'),
      lib('0x7f03', 'pmemobj_tx_commit+0x1ce'),
      own('insert', 206),
      own('main', 252),
      lib('0x7f04', '__libc_start_main+0x85'),
    ];
    expect(shortStack({ stack, frame: 4 })).toBe(
      '0x7f00 (libpmemobj.so.1.0.0) <- (2 frames) <- pmemobj_tx_commit (libpmemobj.so.1.0.0) <- insert txmap.c:206 <- main txmap.c:252 <- ...',
    );
  });

  it('the own frame first: it and its caller; no stack: nothing', () => {
    expect(shortStack({ stack: [own('insert', 183), own('main', 252)], frame: 0 })).toBe(
      'insert txmap.c:183 <- main txmap.c:252',
    );
    expect(shortStack({})).toBeUndefined();
  });
});
