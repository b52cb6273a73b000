// corrupt-files -- damaged inputs to the commands that read pmfit's own
// files: `pmfit trace show`, `pmfit report` and `pmfit replay` (replay files
// of pmfit fuzz). One line that names the file and the defect (exit 2),
// nothing written, nothing left behind.

import * as fs from 'fs';
import * as path from 'path';
import { REPLAY_FORMAT, REPLAY_VERSION, serializeReplay } from '../../harness/fuzz/replay-file';
import { RESULTS_VERSION } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';
import { loadFixture } from '../report/fixture';
import { expectUsageError, scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('corrupt');
let trace: Buffer;

beforeAll(() => {
  const dir = scratch.path();
  fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(4096));
  const recorded = runPmfit(['record', '--pm', 'pm.bin', '-o', 'good.trace', '--', fixture('pm_store'), 'pm.bin'], {
    cwd: dir,
  });
  expect(recorded.code).toBe(0);
  trace = fs.readFileSync(path.join(dir, 'good.trace'));
});

/** Write `bytes` as a user's file in a directory of its own; the check after
 *  the test asserts that it, and so the directory, is left as it was. */
function userFile(name: string, bytes: Buffer | string): string {
  const dir = fs.mkdtempSync(path.join(scratch.path(), 'case-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  leftovers.current().keep(file);
  return file;
}

function traceShow(file: string, pattern: RegExp): void {
  for (const flags of [[], ['--json']]) {
    const result = runPmfit(['trace', 'show', ...flags, file], leftovers.current());
    expectUsageError(result, pattern);
  }
  expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
}

function report(file: string, pattern: RegExp): void {
  expectUsageError(runPmfit(['report', file], leftovers.current()), pattern);
  expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
}

/** A replay file as pmfit fuzz writes one (its case need not fail: every
 *  defect below is refused before anything runs). */
function replayText(): string {
  return serializeReplay({
    format: REPLAY_FORMAT,
    version: REPLAY_VERSION,
    pmfit: '0.1.0',
    createdAt: new Date(0).toISOString(),
    target: 'tree',
    ops: [{ kind: 'insert', word: 'persistent' }, { kind: 'free' }],
    split: 1,
    traceAll: false,
    model: 'px86',
    maxStates: 64,
    modelSeed: 1,
    pmemMode: '',
    timeoutMs: 10_000,
    fastCheck: { seed: 1, path: '0', runs: 10, maxOps: 5 },
    failure: { stage: 'workload', exitCode: 1 },
  });
}

function replay(file: string, pattern: RegExp): void {
  expectUsageError(runPmfit(['replay', file], leftovers.current()), pattern);
  expect(fs.readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
}

describe('damaged files', () => {
  it('corrupted trace', () => {
    // A header that parses but lacks what readers use, an event of an
    // unknown kind, and a magic that is not pmfit's.
    const renamed = Buffer.from(trace.toString('latin1').replace('"addresses"', '"addresseX"'), 'latin1');
    traceShow(
      userFile('renamed.trace', renamed),
      /renamed.trace: not a valid pmfit trace \(header: \$\.addresses is missing\)$/,
    );
    const eventsOffset = Number(trace.readBigUInt64LE(trace.length - 32));
    const badKind = Buffer.from(trace);
    badKind[eventsOffset] = 0xee;
    traceShow(
      userFile('kind.trace', badKind),
      new RegExp(`kind.trace: corrupt event at byte ${eventsOffset}: unknown kind 238$`),
    );
    const magic = Buffer.from(trace);
    magic.write('NOTATRAC', 0, 'latin1');
    traceShow(userFile('magic.trace', magic), /magic.trace: not a valid pmfit trace \(bad magic\)$/);
  });

  it('truncated trace', () => {
    for (const length of [0, 20, 4096, trace.length - 1]) {
      traceShow(
        userFile('cut.trace', trace.subarray(0, length)),
        /cut.trace: not a valid pmfit trace \((file too short|truncated: no end marker)\)$/,
      );
    }
  });

  it('corrupted results.json', () => {
    const results = loadFixture() as unknown as { runs: { status: string }[] };
    results.runs[0].status = 'maybe';
    report(
      userFile('results.json', JSON.stringify(results)),
      /results.json does not match the results schema: \$.runs\[0\].status is not "pass" or "fail"$/,
    );
  });

  it('truncated results.json', () => {
    const text = JSON.stringify(loadFixture(), null, 2);
    report(userFile('results.json', text.slice(0, text.length / 2)), /results.json is not valid JSON: /);
  });

  it('corrupted replay file', () => {
    replay(
      userFile('fuzz.json', replayText().replace('"split": 1', '"split": "one"')),
      /^pmfit: replay file .*fuzz.json: \$\.split is not an operation index$/,
    );
    replay(
      userFile('fuzz.json', replayText().replace('"word": "persistent"', '"word": 7')),
      /^pmfit: replay file .*fuzz.json: operation #1: /,
    );
  });

  it('truncated replay file', () => {
    const text = replayText();
    replay(
      userFile('fuzz.json', text.slice(0, text.length / 2)),
      /^pmfit: replay file .*fuzz.json: not valid JSON \(truncated or corrupt\?\)$/,
    );
    replay(userFile('fuzz.json', ''), /^pmfit: replay file .*fuzz.json: empty file$/);
  });

  it('results.json from a newer schema version', () => {
    report(
      userFile('results.json', JSON.stringify({ ...loadFixture(), version: RESULTS_VERSION + 1 })),
      new RegExp(
        `results.json was written by a newer pmfit \\(schema version ${RESULTS_VERSION + 1}\\); this pmfit reads version ${RESULTS_VERSION}$`,
      ),
    );
  });
});
