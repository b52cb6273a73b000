// spec -- txmap, a hash map in a libpmemobj pool changed by transactions
// (TX_BEGIN, TX_ADD_FIELD, TX_NEW) over Debian's libpmemobj. Each insert is
// one transaction and one region. Recovery is libpmemobj's own
// (pmemobj_open rolls back an interrupted transaction), run by `txmap
// check-server` (one process per job, given each image's path; `txmap check`
// per image with perImage), which also verifies the map's structure and
// prints its pairs; after it the pairs must equal the reference map before
// or after the interrupted insert.
//
// The broken builds (txmap_broken_noadd: the count changed without TX_ADD;
// txmap_broken_late: the value stored after the commit and never persisted)
// are what the checker must catch (tests/targets/txmap/).

import { builtProgram } from '../../harness/_internals/paths';
import { shellQuote } from '../../harness/_internals/shell-words';
import type { CheckedSpec, CheckInput } from '../../harness/check/spec';

/** New keys (9 shares 1's bucket, 17 too), then an update of an existing key. */
export const DEFAULT_PAIRS = ['1=10', '9=90', '2=20', '17=170', '9=99'];

/** A libpmemobj pool larger than its 8 MiB minimum, as users have them. */
export const POOL_SIZE = '16M';

export type TxmapProgram = 'txmap' | 'txmap_broken_noadd' | 'txmap_broken_late';

/** key -> value, keys as decimal strings. */
export type TxmapState = Record<string, string>;

/** referenceStates -- the map after each insert. */
export function referenceStates(pairs: string[]): TxmapState[] {
  const states: TxmapState[] = [{}];
  for (const pair of pairs) {
    const [key, value] = pair.split('=');
    states.push({ ...states[states.length - 1], [BigInt(key).toString()]: BigInt(value).toString() });
  }
  return states;
}

function canonical(state: TxmapState): string {
  return JSON.stringify(
    Object.keys(state)
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .map((key) => [key, state[key]]),
  );
}

/** parseCheckOutput -- `txmap check`'s "KEY VALUE" lines and its "violation: ..." lines. */
export function parseCheckOutput(output: string): {
  state: TxmapState;
  violations: string[];
  entries: number | undefined;
} {
  const state: TxmapState = {};
  const violations: string[] = [];
  let entries: number | undefined;
  for (const line of output.split('\n')) {
    let match: RegExpMatchArray | null;
    if ((match = /^(\d+) (\d+)$/.exec(line))) state[match[1]] = match[2];
    else if ((match = /^entries (\d+)$/.exec(line))) entries = Number(match[1]);
    else if (line.startsWith('violation: ')) violations.push(line.slice('violation: '.length));
  }
  return { state, violations, entries };
}

/** options.path: path of the binary to run instead of the built program
 *  named options.program. options.perImage: recover each image with its
 *  own `txmap check` process instead of one `txmap check-server` per job
 *  (the same check; the server loads libpmemobj once, check/recover-server.ts). */
export function txmapSpec(
  pairs: string[] = DEFAULT_PAIRS,
  options: { program?: TxmapProgram; path?: string; perImage?: boolean } = {},
): CheckedSpec {
  const name = options.program ?? 'txmap';
  const txmap = options.path ?? builtProgram(name);
  return {
    name,
    description: 'hash map in a libpmemobj pool, one transaction (TX_ADD_FIELD, TX_NEW) per insert',
    expect: 'consistent',
    pmFiles: ['txmap.pm'],
    // Pool creation and libpmemobj's heap start-up run before the first region (txmap.c).
    setup: [{ argv: [txmap, 'create', '{dir}/txmap.pm', POOL_SIZE] }],
    workload: { argv: [txmap, 'insert', '{dir}/txmap.pm', ...pairs] },
    states: referenceStates(pairs),
    // --depth 2 traces this per-image form; images are checked by the server
    recover: [{ argv: [txmap, 'check', '{dir}/txmap.pm'] }],
    // what `txmap check` prints goes to stderr, the image's output
    ...(options.perImage ? {} : { recoverServer: `${shellQuote(txmap)} check-server` }),
    check: checkTxmap,
    // The check reads what `txmap check` printed, never the pool: reading
    // 16 MiB back per image cost more than the check.
    checkReadsOutputOnly: true,
    // libpmem persists with flush instructions and non-temporal stores, as on
    // real persistent memory, instead of msync on a file it cannot tell is PM.
    env: { PMEM_IS_PMEM_FORCE: '1' },
    requires:
      "Debian's libpmemobj-dev, which npm's install step installs with scripts/install-pmdk.sh when run as root",
  };
}

function checkTxmap({ recoveryOutput, allowed }: CheckInput): string[] {
  const { state, violations, entries } = parseCheckOutput(recoveryOutput);
  if (violations.length > 0) return violations;
  if (entries !== Object.keys(state).length)
    return [`txmap check printed ${Object.keys(state).length} pairs but "entries ${entries}"`];
  const found = canonical(state);
  if (allowed.length === 0 || allowed.some((s) => canonical(s as TxmapState) === found)) return [];
  return [`atomicity: map ${found} matches neither the state before nor after the interrupted insert`];
}
