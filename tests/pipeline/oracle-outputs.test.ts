// oracle-outputs -- `allcounts --cmd --oracle outputs` catches a completed
// operation that a crash loses, with a recovery command that only prints the
// state (tests/fixtures/counter.c), and the window reaches every recovery
// command in the environment.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fixture } from '../fixtures';
import { counterAllcounts } from '../helpers/counter-allcounts';
import { runPmfit } from '../helpers/run-pmfit';

const counter = fixture('counter');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-oracle-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function run(incr: string[], recover: string, extra: string[]) {
  return counterAllcounts(dir, counter, `${counter} init {file}`, incr, recover, extra);
}

describe('--oracle outputs', () => {
  const show = `${counter} show {file}`;

  it('an increment never persisted passes the exit-status oracle (every image has a valid count)', () => {
    const { result, results } = run(['2', 'lose'], show, []);
    expect(result.code).toBe(0);
    expect(results.runs.map((r) => r.violations)).toEqual([0, 0, 0]);
  });

  it('and fails output equivalence once the increment has returned', () => {
    const { result, results } = run(['2', 'lose'], show, ['--oracle', 'outputs']);
    expect(result.code).toBe(1);
    // sequential keeps every store: nothing is lost, and the outputs agree
    const of = (model: string) => results.runs.find((r) => r.model === model)!;
    expect(of('sequential').violations).toBe(0);
    for (const model of ['flushed', 'px86']) {
      const lost = of(model).groups.filter(
        (g) => g.violation && /completed operation was lost/.test(g.failed[0] ?? ''),
      );
      expect(lost.length).toBeGreaterThan(0);
      // the last crash point: both increments returned, the file still says 0
      expect(lost.some((g) => g.crashPoints.split(',').some((r) => r.endsWith(String(of(model).instructions))))).toBe(
        true,
      );
      const messages = lost.map((g) => g.failed[0]).join('\n');
      expect(messages).toContain('printed "count 0", but every operation before the crash had returned');
      expect(messages).toContain('gives "count 2"');
    }
    expect(results.targets[0].check).toMatchObject({ kind: 'recover', outputs: ['count 0', 'count 1', 'count 2'] });
  });

  it('the persisted counter passes output equivalence under every model', () => {
    const { result, results } = run(['2'], show, ['--oracle', 'outputs']);
    expect(result.code).toBe(0);
    expect(results.runs.map((r) => r.violations)).toEqual([0, 0, 0]);
  });

  it('pmfit reproduce gives a lost-operation group again, against the recorded outputs', () => {
    const { results, reports } = run(['2', 'lose'], show, ['--oracle', 'outputs', '--model', 'flushed']);
    const group = results.runs[0].groups.find((g) => g.violation)!;
    const again = runPmfit(['reproduce', path.join(reports, 'results.json'), group.id]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('the violation reproduces');
  });

  it('every recovery command is told the window: PMFIT_OPS_DONE_MIN and _MAX', () => {
    // fails only in the windows where one increment is certainly done
    const recover = `echo "min=$PMFIT_OPS_DONE_MIN max=$PMFIT_OPS_DONE_MAX" {file}; test "$PMFIT_OPS_DONE_MIN" != 1`;
    const { result, results } = run(['2'], recover, ['--model', 'sequential']);
    expect(result.code).toBe(1);
    const outputs = results.runs[0].groups.filter((g) => g.violation).map((g) => g.recoveryOutput.split(' ')[0]);
    expect(outputs.sort()).toEqual(['min=1', 'min=1']);
    const windows = results.runs[0].groups.filter((g) => g.violation).map((g) => g.recoveryOutput.split(' ')[1]);
    expect(windows.sort()).toEqual(['max=1', 'max=2']);
  });

  it('is refused for the built-in targets, with a one-line error', () => {
    const result = runPmfit(['allcounts', '--target', 'tree', '--oracle', 'outputs', '-o', path.join(dir, 'no')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--oracle belongs with --cmd/);
  });

  it('an unknown oracle is a usage error', () => {
    const { code, stderr } = runPmfit([
      'allcounts',
      '--cmd',
      'true',
      '--pm',
      'x',
      '--recover',
      'true {file}',
      '--oracle',
      'x',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown oracle 'x'/);
  });
});
