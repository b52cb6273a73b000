// mt-spec -- the reference states of tree_mt follow the order of the trace's
// regions: region i is the next word of the thread that ran it.

import { mtReferenceStates } from '../../../targets/tree/mt-spec';

describe('mtReferenceStates', () => {
  it('takes each thread’s words in its own order, in the order of the regions', () => {
    const words = ['a', 'b', 'c', 'a'];
    // thread 1: a, c; thread 2: b, a
    expect(mtReferenceStates(words, 2, [{ thread: 2 }, { thread: 1 }, { thread: 2 }, { thread: 1 }])).toEqual([
      {},
      { b: 1 },
      { a: 1, b: 1 },
      { a: 2, b: 1 },
      { a: 2, b: 1, c: 1 },
    ]);
  });

  it('refuses a region of a thread that has no insert left, or of the first thread', () => {
    expect(() => mtReferenceStates(['a'], 1, [{ thread: 1 }, { thread: 1 }])).toThrow(
      /region 1 of thread 1 is no insert/,
    );
    expect(() => mtReferenceStates(['a'], 1, [{}])).toThrow(/region 0 of thread 0/);
  });
});
