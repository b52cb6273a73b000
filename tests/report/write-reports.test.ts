// writeReports and `pmfit report`: files written whole, into the right
// directory, paths printed, annotations under GitHub Actions.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { report } from '../../harness/cli/commands/report';
import { PmfitError } from '../../harness/_internals/errors';
import { readResults } from '../../harness/results/results';
import { writeOutputFile } from '../../harness/_internals/output-file';
import { writeReports } from '../../harness/report/write-reports';
import { parseXml } from './xml';
import { fixturePath, loadFixture } from './fixture';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-write-reports-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeReports', () => {
  test('creates the directory and writes the three files, no temporary left', () => {
    const out = path.join(dir, 'a', 'b');
    const paths = writeReports(loadFixture(), out);
    expect(paths).toEqual({
      json: path.join(out, 'results.json'),
      html: path.join(out, 'index.html'),
      junit: path.join(out, 'junit.xml'),
    });
    expect(fs.readdirSync(out).sort()).toEqual(['index.html', 'junit.xml', 'results.json']);
    expect(readResults(paths.json)).toEqual(loadFixture());
    expect(fs.readFileSync(paths.html, 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
    expect(parseXml(fs.readFileSync(paths.junit, 'utf8')).attributes.tests).toBe('9');
  });

  test('replaces existing files', () => {
    fs.writeFileSync(path.join(dir, 'index.html'), 'old');
    writeReports(loadFixture(), dir);
    expect(fs.readFileSync(path.join(dir, 'index.html'), 'utf8')).toContain('pmfit report');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('json: false leaves results.json alone', () => {
    writeReports(loadFixture(), dir, { json: false });
    expect(fs.readdirSync(dir).sort()).toEqual(['index.html', 'junit.xml']);
  });

  test('a failed write leaves the old file and no temporary', () => {
    const file = path.join(dir, 'junit.xml');
    fs.writeFileSync(file, 'old');
    fs.mkdirSync(path.join(dir, 'sub'));
    expect(() => writeOutputFile(path.join(dir, 'sub'), 'new')).toThrow(PmfitError);
    expect(fs.readdirSync(dir).sort()).toEqual(['junit.xml', 'sub']);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
  });

  test('a directory that cannot be created is a usage error', () => {
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, '');
    expect(() => writeReports(loadFixture(), path.join(blocker, 'reports'))).toThrow(
      /^cannot write to .*\/file\/reports: .*\/file is not a directory$/,
    );
  });
});

describe('pmfit report', () => {
  let output: string;
  let spy: jest.SpyInstance;
  const env = { ...process.env };
  beforeEach(() => {
    output = '';
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += String(chunk);
      return true;
    });
    delete process.env.GITHUB_ACTIONS;
  });
  afterEach(() => {
    spy.mockRestore();
    process.env = { ...env };
  });

  test('regenerates index.html and junit.xml next to results.json', async () => {
    const file = path.join(dir, 'results.json');
    fs.copyFileSync(fixturePath, file);
    const before = fs.readFileSync(file, 'utf8');
    expect(await report(file, {})).toBe(0);
    expect(output).toBe(`${path.join(dir, 'index.html')}\n${path.join(dir, 'junit.xml')}\n`);
    expect(fs.readdirSync(dir).sort()).toEqual(['index.html', 'junit.xml', 'results.json']);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  test('-o DIR writes there, with a copy of results.json', async () => {
    const out = path.join(dir, 'out');
    expect(await report(fixturePath, { output: out })).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['index.html', 'junit.xml', 'results.json']);
    expect(output.trim().split('\n')).toEqual([
      path.join(out, 'index.html'),
      path.join(out, 'junit.xml'),
      path.join(out, 'results.json'),
    ]);
  });

  test('prints annotations under GitHub Actions', async () => {
    process.env.GITHUB_ACTIONS = 'true';
    process.env.GITHUB_WORKSPACE = '/work/main';
    expect(await report(fixturePath, { output: dir })).toBe(0);
    const annotations = output.split('\n').filter((line) => line.startsWith('::error '));
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toContain('file=targets/btree/btree.c,line=142');
  });

  test('an unreadable results file is a usage error', async () => {
    await expect(report(path.join(dir, 'missing.json'), {})).rejects.toThrow(/no such file/);
  });

  test('the default is pmfit-report/results.json in the current directory', async () => {
    const cwd = process.cwd();
    fs.mkdirSync(path.join(dir, 'pmfit-report'));
    fs.copyFileSync(fixturePath, path.join(dir, 'pmfit-report', 'results.json'));
    process.chdir(dir);
    try {
      expect(await report()).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(output).toBe('pmfit-report/index.html\npmfit-report/junit.xml\n');
  });
});
