// spec-command -- the {dir}/{file} rule of check/spec.ts, as the recorder,
// the recovery runner and the reproduce lines apply it.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { TargetSpec } from '../../harness/check/spec';
import { invocation, placeholders, shellLine, workloadLaunch } from '../../harness/check/spec-command';

function spec(fields: Partial<TargetSpec>): TargetSpec {
  return {
    name: 't',
    description: '',
    expect: 'consistent',
    pmFiles: ['pool.pm'],
    setup: [],
    workload: { argv: ['prog'] },
    states: [],
    recover: [],
    ...fields,
  };
}

describe('placeholders', () => {
  test('{file} is the first PM file in the directory; none without PM files', () => {
    expect(placeholders('/w', ['a.pm', 'b.pm'])).toEqual({ dir: '/w', file: '/w/a.pm' });
    expect(placeholders('/w', [])).toEqual({ dir: '/w' });
  });
});

describe('invocation', () => {
  const values = placeholders('/tmp/a b', ['pool.pm']);

  test('argv: every placeholder in every argument, not quoted', () => {
    expect(invocation({ argv: ['{dir}/bin', '--pool={file}', '{file}', 'x{dir}y{dir}'] }, values)).toEqual({
      file: '/tmp/a b/bin',
      args: ['--pool=/tmp/a b/pool.pm', '/tmp/a b/pool.pm', 'x/tmp/a by/tmp/a b'],
      shell: false,
    });
  });

  test('shell line: placeholders become quoted words that sh reads back whole', () => {
    const inv = invocation({ shell: 'printf "%s|" {file} {dir}' }, values);
    expect(inv).toEqual({ file: '/bin/sh', args: ['-c', "printf \"%s|\" '/tmp/a b/pool.pm' '/tmp/a b'"], shell: true });
    expect(spawnSync(inv.file, inv.args, { encoding: 'utf8' }).stdout).toBe('/tmp/a b/pool.pm|/tmp/a b|');
  });

  test('{file} without PM files stays as written; other braces are left alone', () => {
    expect(invocation({ argv: ['p', '{file}', '{other}'] }, placeholders('/w', []))).toEqual({
      file: 'p',
      args: ['{file}', '{other}'],
      shell: false,
    });
  });
});

describe('workloadLaunch', () => {
  test('argv by the same rule; the workload env wins over the spec env', () => {
    const launch = workloadLaunch(
      spec({
        workload: { argv: ['prog', '{file}', '{dir}/pool.pm'], env: { MODE: 'w', ONLY_W: '1' } },
        env: { MODE: 's', ONLY_S: '1' },
      }),
      '/w',
    );
    expect(launch).toEqual({
      argv: ['prog', '/w/pool.pm', '/w/pool.pm'],
      env: { MODE: 'w', ONLY_S: '1', ONLY_W: '1' },
    });
  });
});

describe('shellLine', () => {
  test('runs in a shell as the invocation runs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-spec-command-'));
    try {
      const values = placeholders('.', ["it's.pm"]);
      for (const command of [
        { argv: ['sh', '-c', 'printf %s "$1" > "$2"', 'x', 'a b', '{file}'] },
        { shell: 'printf %s done >> {file}' },
      ]) {
        const result = spawnSync('/bin/sh', ['-c', shellLine(command, values)], { cwd: dir, encoding: 'utf8' });
        expect(result.status).toBe(0);
      }
      expect(fs.readFileSync(path.join(dir, "it's.pm"), 'utf8')).toBe('a bdone');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
