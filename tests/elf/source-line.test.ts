// source-line.test -- addr2line answers for a program built with -g.

import * as fs from 'fs';
import * as path from 'path';
import { findFunction } from '../../harness/elf/find-symbol';
import { readElf } from '../../harness/elf/read-elf';
import { sourceLines } from '../../harness/elf/source-line';
import { buildPrograms, MAIN_LINE, Programs, removePrograms } from './programs';

let programs: Programs;

beforeAll(() => {
  programs = buildPrograms();
});

afterAll(() => removePrograms(programs));

function functionAddress(file: string, name: string): number {
  const result = readElf(fs.readFileSync(file));
  if (!result.ok) throw new Error(result.message);
  return findFunction(result.elf, name)[0];
}

describe('sourceLines', () => {
  test.each(['pie', 'nopie'] as const)('%s: main and the twins, one call for all', async (kind) => {
    const file = programs[kind];
    const main = functionAddress(file, 'main');
    const result = readElf(fs.readFileSync(file));
    const twins = result.ok ? findFunction(result.elf, 'twin') : [];
    const lines = await sourceLines(file, [main, ...twins, main, 0]);
    expect(lines.get(main)).toEqual({ file: path.join(programs.dir, 'main.c'), line: MAIN_LINE, func: 'main' });
    expect(twins.map((twin) => path.basename(lines.get(twin)!.file)).sort()).toEqual(['twin_a.c', 'twin_b.c']);
    expect(twins.map((twin) => lines.get(twin)!.func)).toEqual(['twin', 'twin']);
    expect(lines.has(0)).toBe(false);
    expect(lines.size).toBe(3);
  });

  test('no debug information: no entries', async () => {
    const lines = await sourceLines(programs.stripped, [functionAddress(programs.pie, 'main')]);
    expect(lines.size).toBe(0);
  });

  test('no such file, no addresses: empty', async () => {
    expect((await sourceLines(path.join(programs.dir, 'missing'), [0x1000])).size).toBe(0);
    expect((await sourceLines(programs.pie, [])).size).toBe(0);
  });
});
