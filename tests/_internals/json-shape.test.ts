// json-shape -- the one message shape of pmfit's file validators.

import {
  array,
  field,
  fields,
  invalid,
  isCount,
  isObject,
  object,
  ShapeError,
} from '../../harness/_internals/json-shape';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ShapeError);
    return (err as Error).message;
  }
  throw new Error('expected a ShapeError');
}

const isString = (v: unknown): v is string => typeof v === 'string';

test('"PATH is missing" for an absent value, "PATH is not WHAT" for a wrong one', () => {
  const value = { name: 'x', count: 'three', list: {} };
  expect(field(value, '$', 'name', isString, 'a string')).toBe('x');
  expect(message(() => field(value, '$', 'other', isString, 'a string'))).toBe('$.other is missing');
  expect(
    message(() =>
      fields(value, '$.runs[2]', { name: [isString, 'a string'], count: [(v) => typeof v === 'number', 'a count'] }),
    ),
  ).toBe('$.runs[2].count is not a count');
  expect(message(() => array(value.list, '$.list'))).toBe('$.list is not an array');
  expect(message(() => object(undefined, '$.options'))).toBe('$.options is missing');
  expect(message(() => object(null, '$.options'))).toBe('$.options is not an object');
  expect(invalid('$.split', 'an operation index', '4 is past the 3 operations').message).toBe(
    '$.split is not an operation index (4 is past the 3 operations)',
  );
});

test('isCount takes whole numbers from 0 to 2^53-1 only; isObject no array or null', () => {
  expect([0, 1, 4096, Number.MAX_SAFE_INTEGER].every(isCount)).toBe(true);
  expect([-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity, '3', null, undefined, 3n].some(isCount)).toBe(false);
  expect(isObject({})).toBe(true);
  expect([[], null, 'x', 1].some(isObject)).toBe(false);
});
