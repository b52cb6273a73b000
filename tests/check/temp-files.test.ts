// Nothing is left in the temporary directory: image directories go as soon as
// their files are read, whatever the verdict, and removeTempRoot() takes the rest;
// images recovered in /dev/shm (no PMFIT_TMPDIR) get the verdicts they get on disk.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { runToken } from '../../harness/_internals/descendants';
import { memoryParent, removeTempRoot, tempRoot } from '../../harness/_internals/temp-root';
import { outcomeClass } from '../../harness/check/outcome-groups';
import { checkCrashStates } from '../../harness/check/runner';
import { buildPrograms, group, makeSpec, state } from './helpers';

let parent: string;
let programs: ReturnType<typeof buildPrograms>;
const savedTmpdir = process.env.PMFIT_TMPDIR;

beforeAll(() => {
  programs = buildPrograms(['segv']);
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-check-tmpdir-'));
  process.env.PMFIT_TMPDIR = parent;
});

afterAll(() => {
  if (savedTmpdir === undefined) delete process.env.PMFIT_TMPDIR;
  else process.env.PMFIT_TMPDIR = savedTmpdir;
  fs.rmSync(parent, { recursive: true, force: true });
  fs.rmSync(programs.dir, { recursive: true, force: true });
});

test('no image directory outlives its recovery, and the temp root goes at the end', async () => {
  const spec = makeSpec(
    [
      {
        shell:
          `case "$(cat {file})" in crash) exec ${programs.path('segv')};; hang) sleep 30;; ` +
          `fail) exit 9;; *) echo scratch > extra; cat {file};; esac`,
      },
    ],
    (input) => (input.recoveryOutput === 'bad' ? ['bad'] : []),
  );
  const groups = ['ok', 'bad', 'crash', 'hang', 'fail'].map((content, k) => group(k, k, state(content, content)));
  const report = await checkCrashStates({ groups, regions: [], spec, timeoutMs: 500, jobs: 2 });
  expect(report.outcomes.map((o) => o.verdict.kind)).toEqual([
    'ok',
    'invariant',
    'recovery-crashed',
    'recovery-timeout',
    'recovery-failed',
  ]);
  expect(path.dirname(tempRoot())).toBe(parent);
  expect(fs.readdirSync(tempRoot())).toEqual([]);

  await expect(
    checkCrashStates({
      groups: [group(0, 0, state('x', 'x'))],
      regions: [],
      spec: makeSpec([{ argv: ['/nonexistent'] }]),
    }),
  ).rejects.toThrow();
  expect(fs.readdirSync(tempRoot())).toEqual([]);

  removeTempRoot();
  expect(fs.readdirSync(parent)).toEqual([]);
});

test('without PMFIT_TMPDIR, images recovered in /dev/shm get the same verdicts and outputs', async () => {
  const spec = makeSpec(
    [{ shell: `echo "recovering {file}"; case "$(cat {file})" in fail) exit 9;; *) cat {file};; esac` }],
    (input) => (input.recoveryOutput.endsWith('bad') ? ['bad'] : []),
  );
  const groups = () => ['ok', 'bad', 'fail'].map((content, k) => group(k, k, state(content, content)));
  // outputs as grouped: the image directory's path is {dir}
  const comparable = (report: Awaited<ReturnType<typeof checkCrashStates>>) =>
    report.outcomes.map((o) => [o.hash, outcomeClass(o.verdict), o.verdict.kind]);
  const onDisk = comparable(await checkCrashStates({ groups: groups(), regions: [], spec, jobs: 2 }));
  removeTempRoot();
  delete process.env.PMFIT_TMPDIR;
  // Jest runs other test files in this worker process, each with its own
  // module state: their roots (same pid) are theirs to remove at exit.
  const ours = (dir: string) => fs.readdirSync(dir).filter((entry) => entry.startsWith(`pmfit-${runToken()}-`));
  const memory = memoryParent();
  const before = new Set(memory === undefined ? [] : ours(memory));
  try {
    const report = await checkCrashStates({ groups: groups(), regions: [], spec, jobs: 2 });
    const output = (report.outcomes[2].verdict as { output: string }).output;
    if (memory !== undefined) expect(output).toContain(`recovering ${memory}/pmfit-`);
    expect(comparable(report)).toEqual(onDisk);
    expect(report.outcomes.map((o) => o.verdict.kind)).toEqual(['ok', 'invariant', 'recovery-failed']);
    removeTempRoot();
    if (memory !== undefined) expect(ours(memory).filter((entry) => !before.has(entry))).toEqual([]);
  } finally {
    process.env.PMFIT_TMPDIR = parent;
  }
});
