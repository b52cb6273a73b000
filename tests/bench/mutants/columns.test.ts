// columns -- the detection table's "no window" column read off a window run:
// a violation counts without the window unless the window mismatch is all
// that failed; and the claims of expectations.ts checked against cells.

import { windowlessViolations, windowOnly, type CellResult, type Column } from '../../../bench/mutants/columns';
import { EXPECTATIONS, unmetExpectation } from '../../../bench/mutants/expectations';
import type { OutcomeGroup } from '../../../harness/results/schema';

const group = (kind: OutcomeGroup['kind'], failed: string[], violation = kind !== 'ok') => ({
  kind,
  failed,
  violation,
});

describe('windowOnly', () => {
  test('a window mismatch alone, and nothing else', () => {
    expect(windowOnly(group('invariant', ['atomicity: live blocks [] match neither the state before nor after']))).toBe(
      true,
    );
    expect(windowOnly(group('invariant', ['chain: clump at 16384 has size 0', 'atomicity: x']))).toBe(false);
    expect(windowOnly(group('invariant', []))).toBe(false);
    expect(windowOnly(group('recovery-failed', ['atomicity: x']))).toBe(false);
    expect(windowOnly(group('recovery-not-crash-safe', ['atomicity: x']))).toBe(false);
  });

  test('windowlessViolations counts the violating groups the window did not decide', () => {
    const groups = [
      group('ok', []),
      group('invariant', ['atomicity: words [] match neither']),
      group('invariant', ['tree: node 16448 is leaked']),
      group('recovery-crashed', []),
    ] as OutcomeGroup[];
    expect(windowlessViolations({ groups })).toBe(2);
    expect(windowlessViolations({ groups: groups.slice(0, 2) })).toBe(0);
  });
});

describe('unmetExpectation', () => {
  const models = ['sequential', 'flushed', 'px86'];
  const cells = (noWindow: string, window: string, depth2: string): Record<Column, Record<string, CellResult>> => {
    const row = (marks: string) =>
      Object.fromEntries(
        models.map((m, i) => [
          m,
          ({ K: 'killed', k: 'depth-1', '.': 'survived', '-': 'not-run' } as const)[marks[i] as 'K'],
        ]),
      );
    return { 'no-window': row(noWindow), window: row(window), depth2: row(depth2) };
  };

  test('lost-op: killed by the window, never without it', () => {
    expect(unmetExpectation('lost-op', cells('...', '.KK', '-kk'), models, 2)).toBeUndefined();
    expect(unmetExpectation('lost-op', cells('.K.', '.KK', '-kk'), models, 2)).toBe(
      'killed without the window (flushed)',
    );
    expect(unmetExpectation('lost-op', cells('...', '...', '.K.'), models, 2)).toBe('not killed by the window check');
  });

  test('recovery: killed at depth 2 only', () => {
    expect(unmetExpectation('recovery', cells('...', '...', '.KK'), models, 2)).toBeUndefined();
    expect(unmetExpectation('recovery', cells('...', '..K', '--k'), models, 2)).toBe('killed at depth 1 (px86)');
    expect(unmetExpectation('recovery', cells('...', '...', '...'), models, 2)).toBe('not killed at depth 2');
    // without the depth-2 column there is nothing to hold against it
    expect(unmetExpectation('recovery', cells('...', '...', '---'), models, 1)).toBeUndefined();
  });

  test('every classed mutant has a reason', () => {
    for (const [name, e] of Object.entries(EXPECTATIONS))
      expect({ name, why: e.why.length > 40 }).toEqual({ name, why: true });
  });
});
