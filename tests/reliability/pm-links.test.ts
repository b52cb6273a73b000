// pm-links -- `pmfit allcounts --cmd` whose command reaches the user's PM
// file by another name than --pm: a hard link, a symbolic link, an absolute
// path, --opt=PATH. The program runs on pmfit's copy (the argument is
// redirected by device and inode), records its events, and the user's file
// stays byte-identical. A program that reaches the original by a path pmfit
// cannot see in its arguments is refused by the seccomp guard
// (pm-guard.test.ts).

import * as fs from 'fs';
import * as path from 'path';
import type { Results } from '../../harness/results/schema';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { CliResult, runPmfit } from '../helpers/run-pmfit';
import { scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('pm-links');

function workDir(name: string): string {
  const dir = path.join(scratch.path(), name);
  fs.mkdirSync(dir);
  return dir;
}

function allcounts(dir: string, cmd: string, extra: string[] = []): CliResult {
  return runPmfit(
    ['allcounts', '--cmd', cmd, '--pm', 'pool.pm', '--recover', 'true {file}', '-o', 'reports', ...extra],
    { ...leftovers.current(), cwd: dir },
  );
}

function results(dir: string): Results {
  return JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'results.json'), 'utf8')) as Results;
}

describe('the command names the PM file by another name', () => {
  const names: Array<[string, (dir: string) => string]> = [
    [
      'a hard link',
      (dir) => {
        fs.linkSync(path.join(dir, 'pool.pm'), path.join(dir, 'hard.pm'));
        return 'hard.pm';
      },
    ],
    [
      'a symbolic link',
      (dir) => {
        fs.symlinkSync('pool.pm', path.join(dir, 'soft.pm'));
        return 'soft.pm';
      },
    ],
    [
      'a hard link in another directory, by absolute path',
      (dir) => {
        fs.mkdirSync(path.join(dir, 'elsewhere'));
        fs.linkSync(path.join(dir, 'pool.pm'), path.join(dir, 'elsewhere', 'other-name'));
        return path.join(dir, 'elsewhere', 'other-name');
      },
    ],
  ];
  for (const [what, makeName] of names) {
    it(`${what}: runs on the copy, events recorded, the user's file unchanged`, () => {
      const dir = workDir(what.replace(/\W+/g, '-'));
      const pm = path.join(dir, 'pool.pm');
      fs.writeFileSync(pm, Buffer.alloc(4096));
      const name = makeName(dir);
      leftovers.current().keep(pm);
      const result = allcounts(dir, `${fixture('pm_store')} ${name}`);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(results(dir).targets[0].events).toBeGreaterThan(0);
      expect(results(dir).runs.map((run) => run.status)).toEqual(['pass', 'pass', 'pass']);
    });
  }
});
