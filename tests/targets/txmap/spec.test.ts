// spec -- the txmap target (libpmemobj transactions) checked end to end:
// no violation for the correct build under any model, and each broken build
// found under every model whose rules say it must be (docs/models.md, "What
// each model must find").

import * as fs from 'fs';
import * as path from 'path';
import { runTarget, TargetOutcome } from '../../../harness/pipeline/run-target';
import { type ModelName, resolveOptions } from '../../../harness/persistency/model';
import type { RunResult } from '../../../harness/results/schema';
import { parseCheckOutput, referenceStates, TxmapProgram, txmapSpec } from '../../../targets/txmap/spec';

const MODELS: ModelName[] = ['sequential', 'flushed', 'px86'];

// Each run records once and recovers every distinct image with libpmemobj
// (README: about 35 s for the default workload on an idle machine).
async function check(program: TxmapProgram, pairs?: string[]): Promise<TargetOutcome> {
  const spec = txmapSpec(pairs, { program });
  if (!fs.existsSync(spec.workload.argv[0])) throw new Error(`${program} is not built: it needs ${spec.requires}`);
  return runTarget({ spec, models: MODELS, modelOptions: resolveOptions(), jobs: 2, timeoutMs: 60_000 });
}

const TXMAP_C = path.join(__dirname, '..', '..', '..', 'targets', 'txmap', 'txmap.c');

/** The line of txmap.c holding `text` (the line a broken build changed). */
function lineOf(text: string): number {
  const at = fs
    .readFileSync(TXMAP_C, 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(text));
  if (at < 0) throw new Error(`txmap.c has no line with ${text}`);
  return at + 1;
}

/** Where a run's findings point: "role txmap.c:LINE" per site, findings in order. */
function findingSites(result: RunResult): string[][] {
  return (result.findings ?? []).map((finding) =>
    finding.sites.map((site) => `${site.role} ${site.file ? path.basename(site.file) : site.address}:${site.line}`),
  );
}

function run(outcome: TargetOutcome, model: ModelName): RunResult {
  return outcome.runs.find((r) => r.model === model)!;
}

describe('txmap, the correct build', () => {
  let outcome: TargetOutcome;
  beforeAll(async () => {
    outcome = await check('txmap');
  }, 600_000);

  it('traces one region per insert, the transactions alone (pool creation and heap start-up come before)', () => {
    expect(outcome.target.regions).toBe(5);
    // libpmemobj's heap start-up alone is about a million instructions: the
    // warm-up in txmap.c keeps it out of the regions.
    expect(outcome.target.instructions).toBeLessThan(100_000);
  });

  it.each(MODELS)('shows no violation under %s', (model) => {
    const result = run(outcome, model);
    expect(result.crashPoints).toBe(result.instructions + 1);
    expect(result.distinctImages).toBeGreaterThan(5);
    expect(result.groups.filter((g) => g.violation)).toEqual([]);
    expect(result.violations).toBe(0);
  });
});

describe('txmap_broken_noadd: the count changed without TX_ADD', () => {
  let outcome: TargetOutcome;
  beforeAll(async () => {
    outcome = await check('txmap_broken_noadd', ['1=10', '9=90']);
  }, 600_000);

  // sequential: a crash after the increment and before the commit keeps the
  // count while recovery frees the new entry. flushed: the commit never
  // flushes the count's line (padding only besides it), so after the commit
  // the old count is what survives. px86: both of those images are allowed.
  it.each(MODELS)('is found under %s: recovery reports the count off by one', (model) => {
    const result = run(outcome, model);
    expect(result.violations).toBeGreaterThan(0);
    const failing = result.groups.filter((g) => g.violation);
    expect(failing.length).toBeGreaterThan(0);
    for (const group of failing) expect(group.recoveryOutput).toMatch(/violation: count \d+, \d+ entries in the map/);
  });

  it('is still found under flushed and px86 once the program has ended', () => {
    for (const model of ['flushed', 'px86'] as const) {
      const result = run(outcome, model);
      const ranges = result.groups
        .filter((g) => g.violation)
        .map((g) => g.crashPoints)
        .join(',');
      expect(ranges).toMatch(new RegExp(`(^|[-,])${result.instructions}$`));
    }
  });
});

describe('txmap_broken_noadd: findings', () => {
  let outcome: TargetOutcome;
  beforeAll(async () => {
    outcome = await check('txmap_broken_noadd', ['1=10', '9=90']);
  }, 600_000);

  // The count's store (r->count++, not added to the transaction) is the
  // bug: a crash after it and before the commit keeps it (sequential), and
  // it is never flushed (flushed and px86: the first finding, not durable at
  // the end). The bucket store just before it (txmap.c:179) is in the
  // transaction and must not be blamed: a site is looked up at its own
  // address, not one byte back as a return address is.
  it.each([
    ['sequential', 'opens'],
    ['flushed', 'never-durable'],
    ['px86', 'never-durable'],
  ] as const)('%s: the first finding is at the count store (%s)', (model, role) => {
    const result = run(outcome, model);
    expect(result.findings![0].kind).toBe(role === 'opens' ? 'atomicity' : 'not-durable');
    expect(findingSites(result)[0][0]).toBe(`${role} txmap.c:${lineOf('r->count++;')}`);
    expect(result.findings![0].title).toContain(`txmap.c:${lineOf('r->count++;')}`);
  });
});

describe('txmap_broken_late: the value stored after the commit, never persisted', () => {
  let outcome: TargetOutcome;
  beforeAll(async () => {
    outcome = await check('txmap_broken_late', ['1=10', '1=11']);
  }, 600_000);

  // sequential: a crash between the commit and the store leaves the
  // committed entry without its value (and the update undone). flushed and
  // px86: the value's line is never flushed after the store, so it is lost
  // to the end of the run.
  it.each(MODELS)('is found under %s: the map matches neither side of the insert', (model) => {
    const result = run(outcome, model);
    expect(result.violations).toBeGreaterThan(0);
    const failing = result.groups.filter((g) => g.violation);
    for (const group of failing) {
      expect(group.kind).toBe('invariant');
      expect(group.failed.join('\n')).toMatch(
        /^atomicity: map .* matches neither the state before nor after the interrupted insert/,
      );
    }
  });

  it('is still found under flushed and px86 once the program has ended', () => {
    for (const model of ['flushed', 'px86'] as const) {
      const result = run(outcome, model);
      const ranges = result.groups
        .filter((g) => g.violation)
        .map((g) => g.crashPoints)
        .join(',');
      expect(ranges).toMatch(new RegExp(`(^|[-,])${result.instructions}$`));
    }
  });

  // The late value store is the bug under every model: never made durable
  // (flushed, px86), and under sequential the store that closes the crash
  // points that violate (after libpmemobj's commit, a library store, which
  // is not blamed).
  it.each([
    ['sequential', 'closes'],
    ['flushed', 'never-durable'],
    ['px86', 'never-durable'],
  ] as const)('%s: the first finding is at the late store (%s)', (model, role) => {
    const late = lineOf('D_RW(find(D_RO(*root), key))->value = value;');
    const result = run(outcome, model);
    expect(result.findings![0].kind).toBe(role === 'closes' ? 'atomicity' : 'not-durable');
    expect(findingSites(result)[0][0]).toBe(`${role} txmap.c:${late}`);
    expect(result.findings![0].title).toContain(`txmap.c:${late}`);
  });
});

describe('txmap: one check-server per job and a txmap check per image agree', () => {
  it.each(['txmap_broken_noadd', 'txmap_broken_late'] as const)(
    'on %s under px86',
    async (program) => {
      const summary = async (perImage: boolean) => {
        const { runs } = await runTarget({
          spec: txmapSpec(['1=10', '9=90'], { program, perImage }),
          models: ['px86'],
          modelOptions: resolveOptions(),
          jobs: 2,
          timeoutMs: 60_000,
        });
        const [px86] = runs;
        return {
          distinctImages: px86.distinctImages,
          violations: px86.violations,
          failing: px86.groups
            .filter((g) => g.violation)
            .map(
              (g) =>
                `${g.kind} ${g.crashPoints} ${g.images} ${parseCheckOutput(g.recoveryOutput).violations.join('; ')}`,
            ),
        };
      };
      const served = await summary(false);
      expect(served.violations).toBeGreaterThan(0);
      expect(served).toEqual(await summary(true));
    },
    600_000,
  );
});

describe('txmap spec helpers', () => {
  it('referenceStates: the map after each insert, an update replacing the value', () => {
    expect(referenceStates(['1=10', '9=90', '1=11'])).toEqual([
      {},
      { 1: '10' },
      { 1: '10', 9: '90' },
      { 1: '11', 9: '90' },
    ]);
  });

  it('parseCheckOutput: pairs, the entry count and violations', () => {
    expect(parseCheckOutput('violation: count 2, 1 entries in the map\n1 10\nentries 1\n')).toEqual({
      state: { 1: '10' },
      violations: ['count 2, 1 entries in the map'],
      entries: 1,
    });
  });
});
