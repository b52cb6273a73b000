// Nothing is left in the temporary directory: image directories go as soon as
// their files are read, whatever the verdict, and removeTempRoot() takes the rest.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { removeTempRoot, tempRoot } from '../../harness/_internals/temp-root';
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
