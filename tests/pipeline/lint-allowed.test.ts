// lint-allowed -- which durability-lint sites a target's allowNotDurable
// entries name: FILE:LINE by file name or path ending, or a function by
// its symbol (compiler suffixes ignored), the site's or a frame's.

import { allowedBy } from '../../harness/pipeline/lint-allowed';
import type { FindingSite } from '../../harness/results/schema';

const site: FindingSite = {
  role: 'store',
  address: '0x55555555692e',
  index: 222,
  symbol: 'insert.constprop.0+0x72e',
  file: '/home/me/project/src/main.c',
  line: 222,
};

describe('allowedBy', () => {
  test.each(['main.c:222', 'src/main.c:222', '/home/me/project/src/main.c:222', 'insert'])(
    '%s names the site',
    (entry) => {
      expect(allowedBy(site, ['other.c:1', entry])).toBe(entry);
    },
  );

  test.each(['main.c:221', 'ain.c:222', 'other/main.c:222', 'insert.constprop', 'inser', 'main'])(
    '%s does not',
    (entry) => {
      expect(allowedBy(site, [entry])).toBeUndefined();
    },
  );

  test('a function of the call stack names it; a site without a line matches no FILE:LINE', () => {
    const inLibrary: FindingSite = {
      role: 'store',
      address: '0x7ffff7d6be5b',
      index: 9,
      module: '/usr/lib/x86_64-linux-gnu/libpmem.so.1',
      stack: [
        { address: '0x7ffff7d6be5b', module: '/usr/lib/x86_64-linux-gnu/libpmem.so.1' },
        { address: '0x555555557449', module: '/home/me/prog', symbol: 'do_reserve+0x12', file: 'main.c', line: 9 },
      ],
    };
    expect(allowedBy(inLibrary, ['main.c:9'])).toBeUndefined();
    expect(allowedBy(inLibrary, ['do_reserve'])).toBe('do_reserve');
  });
});
