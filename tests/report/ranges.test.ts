// Crash-point range lists: parsing, merging, counting, abbreviating.

import fc from 'fast-check';
import { abbreviateRanges, formatRanges, mergeRanges, parseRanges, rangesSize } from '../../harness/report/ranges';

describe('crash-point ranges', () => {
  test('parse', () => {
    expect(parseRanges('1-1989,2001')).toEqual([[1, 1989], [2001, 2001]]);
    expect(parseRanges(' 0 , 5 - 7 ')).toEqual([[0, 0], [5, 7]]);
    expect(parseRanges('')).toEqual([]);
    for (const bad of ['1-', '-3', '5-2', 'a', '1,,2', '1.5', '1-2-3']) expect(() => parseRanges(bad)).toThrow(/bad crash-point range/);
  });

  test('merge and size', () => {
    expect(mergeRanges([[5, 7], [0, 1], [2, 3], [6, 9]])).toEqual([[0, 3], [5, 9]]);
    expect(rangesSize([[5, 7], [0, 1], [6, 9]])).toBe(2 + 5);
  });

  test('format(merge(parse)) is a fixed point and keeps the size', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(500), fc.nat(20)), { maxLength: 40 }), (pairs) => {
      const text = pairs.map(([a, n]) => (n === 0 ? `${a}` : `${a}-${a + n}`)).join(',');
      const merged = mergeRanges(parseRanges(text));
      const again = formatRanges(merged);
      expect(mergeRanges(parseRanges(again))).toEqual(merged);
      const points = new Set<number>();
      for (const [a, n] of pairs) for (let k = a; k <= a + n; k++) points.add(k);
      expect(rangesSize(parseRanges(text))).toBe(points.size);
    }));
  });

  test('abbreviate at an item boundary', () => {
    expect(abbreviateRanges('1-5,7', 120)).toBe('1-5,7');
    const long = Array.from({ length: 100 }, (_, i) => `${i * 10}-${i * 10 + 5}`).join(',');
    const short = abbreviateRanges(long, 40);
    expect(short.length).toBeLessThan(60);
    expect(short).toMatch(/^0-5,10-15,.*,… \(\+\d+ more\)$/);
    const [, more] = /\(\+(\d+) more\)/.exec(short)!;
    expect(short.split(',').length - 1 + Number(more)).toBe(100);
  });
});
