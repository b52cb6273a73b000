// reproduce-case -- a fuzz case whose plan has a continuation: `pmfit
// reproduce` on each group of its explained run continues a consistent
// recovery as the run did, and reaches the run's verdict (exit 1 for a
// violation, 0 for a consistent group). The CLI's shrunk counterexamples
// rarely keep operations after the crash, so the case is given here.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCase } from '../../harness/fuzz/run-case';
import { buildResults } from '../../harness/results/results';
import { fuzzTarget } from '../../targets/fuzz-targets';
import { cliPath } from '../helpers/run-pmfit';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-reproduce-case-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

it('every group of a case with a continuation reproduces its verdict', async () => {
  const target = fuzzTarget('tree_broken');
  const ops = [
    { kind: 'insert', word: 'a'.repeat(65) },
    { kind: 'insert', word: 'b'.repeat(65) },
    { kind: 'insert', word: 'ccc' },
  ];
  const options = { model: 'flushed' as const, maxStates: 64, modelSeed: 1, pmemMode: '', timeoutMs: 30_000, jobs: 2 };
  const report = await runCase(
    target,
    { ops, split: 0, traceAll: false },
    { ...options, explain: true, keep: { dir, reproduce: (id) => `${id}` } },
  );
  expect(report.plan.continued.length).toBe(2);
  const results = buildResults({
    pmfitVersion: 'test',
    startedAt: new Date().toISOString(),
    options: { models: ['flushed'], maxStates: 64, seed: 1, jobs: 2, timeoutMs: 30_000 },
    targets: [report.target!],
    runs: [report.run!],
  });
  fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results));
  const groups = report.run!.groups;
  expect(groups.some((group) => group.violation)).toBe(true);
  expect(groups.some((group) => !group.violation)).toBe(true);
  for (const group of groups) {
    const run = spawnSync(process.execPath, [cliPath, 'reproduce', path.join(dir, 'results.json'), group.id], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect({ id: group.id, code: run.status, stderr: run.stderr }).toEqual({
      id: group.id,
      code: group.violation ? 1 : 0,
      stderr: '',
    });
    if (!group.violation) {
      expect(run.stdout).toContain(
        `then the fuzz case's continuation on what the recovery left: insert b×65, insert "ccc"\n`,
      );
      expect(run.stdout).toContain('consistent, as recorded');
    }
  }
}, 300_000);
