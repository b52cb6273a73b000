// cflags -- `pmfit include-dir` finds pmfit.h, and a program compiled with
// `$(pmfit cflags)` alone builds, has its regions found and is counted.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runPmfit } from '../helpers/run-pmfit';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-cflags-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('include-dir prints the directory of pmfit.h', () => {
  const result = runPmfit(['include-dir']);
  expect(result.code).toBe(0);
  const includeDir = result.stdout.trim();
  expect(path.isAbsolute(includeDir)).toBe(true);
  expect(fs.readFileSync(path.join(includeDir, 'pmfit.h'), 'utf8')).toContain('pmfit_region_begin');
});

test('cflags prints -I<dir>, -g and -Wl,-z,now on one line', () => {
  const includeDir = runPmfit(['include-dir']).stdout.trim();
  const result = runPmfit(['cflags']);
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(`-I${includeDir} -g -Wl,-z,now\n`);
});

test('a program built with the flags alone is traced', () => {
  const source = path.join(dir, 'loop.c');
  fs.writeFileSync(
    source,
    [
      '#include "pmfit.h"',
      'volatile int sink;',
      'int main(void) {',
      '  pmfit_region_begin();',
      '  for (int i = 0; i < 10; i++) sink = i;',
      '  pmfit_region_end();',
      '  return 0;',
      '}',
      '',
    ].join('\n'),
  );
  const flags = runPmfit(['cflags']).stdout.trim().split(' ');
  const program = path.join(dir, 'loop');
  execFileSync('cc', [...flags, '-O2', source, '-o', program]);
  // -Wl,-z,now reached the linker: the dynamic section says BIND_NOW.
  expect(execFileSync('readelf', ['-d', program], { encoding: 'utf8' })).toMatch(/\(FLAGS\)\s+BIND_NOW/);
  // -g: DWARF line information is there.
  expect(execFileSync('readelf', ['-S', program], { encoding: 'utf8' })).toContain('.debug_line');
  const count = runPmfit(['count', '--json', '--', program]);
  expect(count.code).toBe(0);
  const { instructions } = JSON.parse(count.stdout) as { instructions: number };
  expect(instructions).toBeGreaterThan(10);
});
