// collate -- crash points as "1-1989,2001".

import * as fc from 'fast-check';
import {
  collateRanges,
  collateSpans,
  mergeSpans,
  parseRanges,
  parseSpans,
  spansSize,
} from '../../harness/_internals/collate';

describe('collate', () => {
  it('writes sorted merged ranges', () => {
    expect(collateRanges([])).toBe('');
    expect(collateRanges([2001, ...Array.from({ length: 1989 }, (_, i) => i + 1)])).toBe('1-1989,2001');
    expect(collateRanges([5, 3, 4, 4, 9, 0])).toBe('0,3-5,9');
    expect(
      collateSpans([
        { first: 10, last: 20 },
        { first: 0, last: 9 },
        { first: 15, last: 30 },
        { first: 40, last: 40 },
      ]),
    ).toBe('0-30,40');
  });

  it('round-trips: parse(collate(ks)) is ks sorted without repeats, collate(parse(s)) is s', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 100 }), (ks) => {
        const text = collateRanges(ks);
        const sorted = [...new Set(ks)].sort((a, b) => a - b);
        expect(parseRanges(text)).toEqual(sorted);
        expect(collateRanges(parseRanges(text))).toBe(text);
        expect(collateSpans(parseSpans(text))).toBe(text);
      }),
    );
  });

  it('reads spaced, unsorted and overlapping lists, and rejects anything else', () => {
    expect(parseRanges(' 5 - 7 , 1,6 ')).toEqual([1, 5, 6, 7]);
    expect(parseSpans('1-3,4-6')).toEqual([{ first: 1, last: 6 }]);
    for (const bad of ['x', '1-', '-1', '3-1', '1,,2', '1.5', '99999999999999999999']) {
      expect(() => parseRanges(bad)).toThrow(RangeError);
    }
    expect(() => collateRanges([-1])).toThrow(RangeError);
  });

  it('merges overlapping and adjacent spans and counts distinct points', () => {
    const spans = [
      { first: 5, last: 7 },
      { first: 0, last: 1 },
      { first: 2, last: 3 },
      { first: 6, last: 9 },
    ];
    expect(mergeSpans(spans)).toEqual([
      { first: 0, last: 3 },
      { first: 5, last: 9 },
    ]);
    expect(
      spansSize([
        { first: 5, last: 7 },
        { first: 0, last: 1 },
        { first: 6, last: 9 },
      ]),
    ).toBe(2 + 5);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(500), fc.nat(20)), { maxLength: 40 }), (pairs) => {
        const points = new Set<number>();
        for (const [a, n] of pairs) for (let k = a; k <= a + n; k++) points.add(k);
        expect(spansSize(pairs.map(([a, n]) => ({ first: a, last: a + n })))).toBe(points.size);
      }),
    );
  });
});
