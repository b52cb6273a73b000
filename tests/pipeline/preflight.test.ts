// preflight -- before any crash image: a recovery that fails on the
// uncrashed initial or final image, or a program that never writes its PM
// file, stops the run with exit 2 and says so; relative paths in --cmd,
// --setup and --recover resolve where pmfit was started.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { oneLineError, runPmfit } from '../helpers/run-pmfit';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-preflight-'));
  fs.copyFileSync(fixture('basic'), path.join(dir, 'basic'));
  fs.chmodSync(path.join(dir, 'basic'), 0o755);
  fs.writeFileSync(path.join(dir, 'check'), '#!/bin/sh\n./basic "$1" >/dev/null\n', { mode: 0o755 });
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function allcounts(...args: string[]) {
  return runPmfit(
    [
      'allcounts',
      '--model',
      'sequential',
      '--cmd',
      './basic pool.pm one two',
      '--pm',
      'pool.pm',
      '--setup',
      'truncate -s 8192 {file}',
      ...args,
      '-o',
      'reports',
    ],
    { cwd: dir },
  );
}

describe('preflight', () => {
  it('a recovery that fails on the initial image: exit 2, one line ending in its output, no crash point checked', () => {
    const run = allcounts('--recover', 'echo "cannot open it"; exit 3 # {file}');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^pmfit: your check fails on an uncrashed file \(the initial image, as the first region found it\): recovery exited with status 3: .*: cannot open it\n$/,
    );
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    expect(results.runs).toEqual([]);
  });

  it('a recovery that fails only on the final image: exit 2, naming the final image', () => {
    // basic prints the stored strings: none before the run, two after it.
    const run = allcounts('--recover', 'test -z "$(./basic {file})"');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^pmfit: your check fails on an uncrashed file \(the final image, as the program left it\): recovery exited with status 1/,
    );
  });

  it('a program that never writes the PM file: exit 2', () => {
    const run = runPmfit(
      [
        'allcounts',
        '--cmd',
        fixture('func_region'),
        '--pm',
        'pool.pm',
        '--setup',
        'truncate -s 4096 {file}',
        '--recover',
        'true {file}',
        '-o',
        'reports',
      ],
      { cwd: dir },
    );
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(
      /^pmfit: the program never wrote the PM file pool\.pm in its regions \(1 region, \d+ instructions\)/,
    );
  });

  it('relative --cmd and --recover paths resolve where pmfit was started: k = 0 is consistent', () => {
    const run = allcounts('--recover', './check {file}');
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const results = JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
    expect(results.runs[0]).toMatchObject({
      violations: 0,
      groups: [{ crashPoints: `0-${results.runs[0].instructions}`, violation: false }],
    });
  });

  it("--setup must name the fresh file {file}: it runs in the user's directory", () => {
    const run = runPmfit(
      [
        'allcounts',
        '--cmd',
        './basic pool.pm one',
        '--pm',
        'pool.pm',
        '--setup',
        'truncate -s 8192 pool.pm',
        '--recover',
        './check {file}',
        '-o',
        'reports',
      ],
      { cwd: dir },
    );
    expect(run.code).toBe(2);
    expect(oneLineError(run)).toMatch(/--setup must name the fresh PM file as \{file\}/);
    expect(fs.existsSync(path.join(dir, 'pool.pm'))).toBe(false);
  });
});
