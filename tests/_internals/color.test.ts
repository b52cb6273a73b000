// color -- the colour rules: --no-color, FORCE_COLOR, NO_COLOR, then the
// terminal, first match wins.

import { colorEnabled } from '../../harness/_internals/color';

const decide = (env: NodeJS.ProcessEnv, isTTY: boolean, noColorFlag = false) =>
  colorEnabled({ env, isTTY, noColorFlag });

describe('colorEnabled', () => {
  test('a terminal gets colours, a pipe or file none', () => {
    expect(decide({}, true)).toBe(true);
    expect(decide({}, false)).toBe(false);
  });

  test('TERM=dumb is a terminal without colours', () => {
    expect(decide({ TERM: 'dumb' }, true)).toBe(false);
  });

  test('NO_COLOR with a value turns them off; empty NO_COLOR does not', () => {
    expect(decide({ NO_COLOR: '1' }, true)).toBe(false);
    expect(decide({ NO_COLOR: 'yes' }, true)).toBe(false);
    expect(decide({ NO_COLOR: '' }, true)).toBe(true);
  });

  test('FORCE_COLOR forces them into a pipe, over NO_COLOR and TERM=dumb', () => {
    for (const value of ['1', '2', '3', 'true', '']) expect(decide({ FORCE_COLOR: value }, false)).toBe(true);
    expect(decide({ FORCE_COLOR: '1', NO_COLOR: '1' }, false)).toBe(true);
    expect(decide({ FORCE_COLOR: '1', TERM: 'dumb' }, false)).toBe(true);
  });

  test('FORCE_COLOR=0 or false turns them off, on a terminal too', () => {
    for (const value of ['0', 'false', 'FALSE']) expect(decide({ FORCE_COLOR: value }, true)).toBe(false);
  });

  test('--no-color wins over everything', () => {
    expect(decide({}, true, true)).toBe(false);
    expect(decide({ FORCE_COLOR: '1' }, true, true)).toBe(false);
  });
});
