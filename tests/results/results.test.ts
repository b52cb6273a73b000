// results: buildResults' envelope and status; readResults (and
// validateShard, for a shard's call stacks): what they refuse, with
// one-line usage errors (exit 2).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PmfitError } from '../../harness/_internals/errors';
import { buildResults, readResults, validateResults, validateShard } from '../../harness/results/results';
import { RESULTS_VERSION } from '../../harness/results/schema';
import { SHARD_SCHEMA, SHARD_VERSION } from '../../harness/results/shard-results';
import { fixturePath, loadFixture } from '../report/fixture';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-read-results-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

function refusal(fn: () => unknown): PmfitError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PmfitError);
    expect((err as PmfitError).exitCode).toBe(2);
    expect((err as PmfitError).message).not.toContain('\n');
    return err as PmfitError;
  }
  throw new Error('expected a refusal');
}

describe('readResults', () => {
  test('reads the fixture', () => {
    const results = readResults(fixturePath);
    expect(results.runs).toHaveLength(9);
    expect(results).toEqual(loadFixture());
  });

  test('missing file', () => {
    const file = path.join(dir, 'nope', 'results.json');
    expect(refusal(() => readResults(file)).message).toBe(
      `${file}: no such file (pmfit writes results.json when it checks targets)`,
    );
  });

  test('a directory', () => {
    expect(refusal(() => readResults(dir)).message).toBe(`${dir} is a directory, not a results.json file`);
  });

  test('unparsable JSON', () => {
    const file = write('bad.json', '{"schema": "pmfit-results",\n  "version": 1,');
    expect(refusal(() => readResults(file)).message).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON: `),
    );
  });

  test('wrong schema', () => {
    const file = write('other.json', JSON.stringify({ schema: 'something-else', version: 1 }));
    expect(refusal(() => readResults(file)).message).toBe(
      `${file} is not a pmfit results file (schema "something-else"; expected "pmfit-results")`,
    );
    const array = write('array.json', '[1, 2]');
    expect(refusal(() => readResults(array)).message).toBe(`${array} is not a pmfit results file (not a JSON object)`);
    const none = write('none.json', '{}');
    expect(refusal(() => readResults(none)).message).toBe(
      `${none} is not a pmfit results file (no schema field; expected "pmfit-results")`,
    );
  });

  test('a newer version', () => {
    const results = { ...loadFixture(), version: RESULTS_VERSION + 1 };
    const file = write('results.json', JSON.stringify(results));
    expect(refusal(() => readResults(file)).message).toBe(
      `${file} was written by a newer pmfit (schema version ${RESULTS_VERSION + 1}); this pmfit reads version ${RESULTS_VERSION}`,
    );
  });

  test('an invalid version', () => {
    const file = write('v0.json', JSON.stringify({ ...loadFixture(), version: '1' }));
    expect(refusal(() => readResults(file)).message).toBe(`${file} has an invalid schema version "1"`);
  });

  test('a shape that does not match the schema names the place', () => {
    const cases: [(r: Record<string, any>) => void, string][] = [
      [(r) => delete r.runs, '$.runs is missing'],
      [
        (r) => {
          r.runs = {};
        },
        '$.runs is not an array',
      ],
      [
        (r) => {
          r.runs[5].groups[1].crashPoints = '9-3';
        },
        '$.runs[5].groups[1].crashPoints is not a list of crash-point ranges (range 9-3 runs backwards)',
      ],
      [
        (r) => {
          r.runs[5].groups[1].kind = 'weird';
        },
        '$.runs[5].groups[1].kind is not one of ok, recovery-crashed, recovery-timeout, recovery-failed, invariant, recovery-not-crash-safe',
      ],
      [
        (r) => {
          delete r.runs[0].instructions;
        },
        '$.runs[0].instructions is missing',
      ],
      [
        (r) => {
          r.runs[5].groups[1].example.lines[0].offset = -1;
        },
        '$.runs[5].groups[1].example.lines[0].offset is not an offset',
      ],
      [
        (r) => {
          r.runs[5].groups[1].example.next.line = 'x';
        },
        '$.runs[5].groups[1].example.next.line is not a line number',
      ],
      [
        (r) => {
          r.targets[2].command = 'log';
        },
        '$.targets[2].command is not an array of strings',
      ],
      [
        (r) => {
          r.targets[0].stacks = { kind: 'unwound', sites: 3 };
        },
        '$.targets[0].stacks is not {"kind": "unwound", "sites": N, "unwound": N, "seconds": S} or {"kind": "unavailable", "why": "..."}',
      ],
      [
        (r) => {
          r.targets[0].lint = [
            {
              id: 't-lint-1',
              kind: 'not-durable',
              severity: 'warning',
              title: 'store',
              count: 1,
              site: { role: 'store', address: '0x1', index: 1, frame: -1, stack: [{ address: '0x1' }] },
            },
          ];
        },
        '$.targets[0].lint[0].site.frame is not a frame index',
      ],
      [
        (r) => {
          r.options = null;
        },
        '$.options is not an object',
      ],
      [
        (r) => {
          r.options.maxStates = 1;
        },
        '$.options.maxStates is not an integer of at least 2',
      ],
      [
        (r) => {
          r.options.seed = 1.5;
        },
        '$.options.seed is not an integer',
      ],
      [
        (r) => {
          r.options.mergeVersions = 'yes';
        },
        '$.options.mergeVersions is not a boolean',
      ],
      [
        (r) => {
          r.incomplete = 'no';
        },
        '$.incomplete is not a boolean',
      ],
      [
        (r) => {
          r.fuzz = { target: 'tree', model: 'px86', runs: 1, cases: 1, maxOps: 2, seed: -1 };
        },
        '$.fuzz.seed is not a seed',
      ],
      [
        (r) => {
          r.fuzz = {
            target: 'tree',
            model: 'px86',
            runs: 1,
            cases: 1,
            maxOps: 2,
            seed: 3,
            counterexample: { ops: [], failure: 'x', replay: '', repeat: '' },
          };
        },
        '$.fuzz.counterexample.failure is not an array of strings',
      ],
      [
        (r) => {
          r.targets[0].recorder = 'exact';
        },
        '$.targets[0].recorder is not "fast"',
      ],
      [
        (r) => {
          r.targets[1].models = 'px86';
        },
        '$.targets[1].models is not an array of strings',
      ],
    ];
    for (const [change, message] of cases) {
      const results = loadFixture() as unknown as Record<string, any>;
      change(results);
      expect(refusal(() => validateResults(results, 'r.json')).message).toBe(
        `r.json does not match the results schema: ${message}`,
      );
    }
  });
});

describe('buildResults', () => {
  const fixture = loadFixture();
  const input = {
    pmfitVersion: '9.9.9',
    startedAt: '2026-01-01T00:00:00.000Z',
    options: fixture.options,
    targets: fixture.targets,
  };
  const passing = fixture.runs.filter((run) => run.status === 'pass');
  const failing = fixture.runs.filter((run) => run.status === 'fail');

  test('an envelope the validator accepts, passing when every run passed', () => {
    expect(passing.length).toBeGreaterThan(0);
    const results = buildResults({ ...input, runs: passing });
    expect(validateResults(JSON.parse(JSON.stringify(results)))).toEqual(results);
    expect(results).toMatchObject({
      schema: 'pmfit-results',
      version: RESULTS_VERSION,
      pmfitVersion: '9.9.9',
      incomplete: false,
      status: 'pass',
    });
    expect(results).not.toHaveProperty('incompleteReason');
    expect(results).not.toHaveProperty('fuzz');
    expect(Date.parse(results.finishedAt)).toBeGreaterThanOrEqual(Date.parse(input.startedAt));
  });

  test('fails on a failed run, an incomplete run, or a fuzz counterexample', () => {
    expect(failing.length).toBeGreaterThan(0);
    expect(buildResults({ ...input, runs: [...passing, ...failing] }).status).toBe('fail');
    const stopped = buildResults({ ...input, runs: passing, incompleteReason: 'interrupted by SIGINT' });
    expect(stopped).toMatchObject({ incomplete: true, incompleteReason: 'interrupted by SIGINT', status: 'fail' });
    const fuzz = { target: 'tree', model: 'px86' as const, runs: 10, cases: 12, maxOps: 5, seed: 7 };
    expect(buildResults({ ...input, runs: [], fuzz }).status).toBe('pass');
    const counterexample = {
      ops: ['insert a'],
      failure: ['x'],
      replay: 'pmfit replay f',
      repeat: 'pmfit fuzz tree --seed 7',
    };
    expect(buildResults({ ...input, runs: [], fuzz: { ...fuzz, counterexample } }).status).toBe('fail');
  });
});

describe('validateShard: the call stacks a shard carries', () => {
  const results = loadFixture();
  const shard = (stacks: unknown) => ({
    schema: SHARD_SCHEMA,
    version: SHARD_VERSION,
    pmfitVersion: '1.0.0',
    startedAt: results.startedAt,
    finishedAt: results.finishedAt,
    shard: { index: 1, count: 2 },
    options: results.options,
    planned: [results.targets[0].name],
    targets: [{ record: results.targets[0], traceDigest: '0'.repeat(64), sites: {}, stacks }],
    parts: [],
  });
  const unwound = {
    kind: 'unwound',
    seconds: 0.25,
    lint: [3],
    frames: [[{ address: '0x401000', module: '/w/prog', symbol: 'put+0x4', file: '/w/prog.c', line: 7 }]],
    at: [
      [3, 0],
      [9, 0],
    ],
    excerpts: {
      '/w/prog.c:7': [
        { line: 6, text: 'int x;' },
        { line: 7, text: 'p->x = x;' },
      ],
    },
  };

  test('reads stacks unwound, or why none were', () => {
    expect(validateShard(shard(unwound), 'pmfit-shard.json').targets[0].stacks).toEqual(unwound);
    const none = { kind: 'unavailable', why: 'libdw.so.1: cannot open shared object file' };
    expect(validateShard(shard(none), 'pmfit-shard.json').targets[0].stacks).toEqual(none);
  });

  test.each([
    ['a stack position past the stacks', { ...unwound, at: [[3, 1]] }, /\$\.targets\[0\]\.stacks\.at\[0\]/],
    ['a frame without its address', { ...unwound, frames: [[{ module: '/w/prog' }]] }, /frames\[0\]\[0\]\.address/],
    ['lint indices that are not indices', { ...unwound, lint: [-1] }, /stacks\.lint/],
    ['an excerpt line without its number', { ...unwound, excerpts: { 'a.c:1': [{ text: 'x' }] } }, /excerpts/],
    ['another kind', { kind: 'partial' }, /stacks\.kind/],
  ])('refuses %s in one line', (_, stacks, where) => {
    const error = refusal(() => validateShard(shard(stacks), 'pmfit-shard.json'));
    expect(error.message).toMatch(/^pmfit-shard\.json does not match the shard file format: /);
    expect(error.message).toMatch(where);
  });
});
