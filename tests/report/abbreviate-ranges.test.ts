// abbreviateRanges -- long crash-point lists cut at an item boundary.

import { abbreviateRanges } from '../../harness/report/abbreviate-ranges';

describe('abbreviateRanges', () => {
  test('keeps a short list, cuts a long one at an item boundary and counts what it left off', () => {
    expect(abbreviateRanges('1-5,7', 120)).toBe('1-5,7');
    const long = Array.from({ length: 100 }, (_, i) => `${i * 10}-${i * 10 + 5}`).join(',');
    const short = abbreviateRanges(long, 40);
    expect(short.length).toBeLessThan(60);
    expect(short).toMatch(/^0-5,10-15,.*,… \(\+\d+ more\)$/);
    const [, more] = /\(\+(\d+) more\)/.exec(short)!;
    expect(short.split(',').length - 1 + Number(more)).toBe(100);
  });
});
