// output-file -- making the reports directory: every missing level
// created, and a name the file system refuses is a usage error at once.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PmfitError } from '../../harness/_internals/errors';
import { makeOutputDir } from '../../harness/_internals/output-file';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-outdir-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('creates every missing level, and an existing directory is fine', () => {
  const deep = path.join(dir, 'a', 'b', 'c');
  makeOutputDir(deep);
  expect(fs.statSync(deep).isDirectory()).toBe(true);
  makeOutputDir(deep);
  expect(fs.readdirSync(path.join(dir, 'a'))).toEqual(['b']);
});

// Node's recursive mkdir retried this for ever (ENOENT from an existing
// parent); as root the writability check passes, so only mkdir says no.
test('a directory /proc refuses is a usage error, not a hang', () => {
  const refused = path.join('/proc', `pmfit-${process.pid}`, 'reports');
  expect(() => makeOutputDir(refused)).toThrow(PmfitError);
  expect(() => makeOutputDir(refused)).toThrow(new RegExp(`^cannot (create the directory|write to) ${refused}: `));
});
