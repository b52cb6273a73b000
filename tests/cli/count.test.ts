// count -- `pmfit count` against counts derived from the binaries themselves.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { disassemble } from '../helpers/disassembly';
import { fixture } from '../fixtures';
import { runPmfit } from '../helpers/run-pmfit';

/** expectedCount -- from count_region's disassembly: every instruction after
 *  the call to pmfit_region_begin up to and including the call to
 *  pmfit_region_end, with `rep stosb` counted once per iteration (rcx is the
 *  immediate loaded into ecx). */
function expectedCount(binary: string): number {
  const lines = disassemble(binary, 'count_region');
  const begin = lines.findIndex((line) => /call.*<pmfit_region_begin/.test(line.text));
  const end = lines.findIndex((line) => /call.*<pmfit_region_end/.test(line.text));
  expect(begin).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(begin);
  const region = lines.slice(begin + 1, end + 1);
  const loadEcx = region.map((line) => /mov \$0x([0-9a-f]+),%ecx/.exec(line.text)).find(Boolean);
  const iterations = loadEcx ? parseInt(loadEcx[1], 16) : 1;
  return region.reduce((sum, line) => sum + (/rep stos/.test(line.text) ? iterations : 1), 0);
}

/** regionLength -- straight-line instructions of a region function. */
function regionLength(binary: string, fn: string): number {
  const lines = disassemble(binary, fn);
  const begin = lines.findIndex((line) => /call.*<pmfit_region_begin/.test(line.text));
  const end = lines.findIndex((line) => /call.*<pmfit_region_end/.test(line.text));
  return end - begin;
}

describe('pmfit count', () => {
  it.each(['count_asm', 'count_asm_nopie'])('counts %s exactly as its disassembly says', (name) => {
    const binary = fixture(name);
    const result = runPmfit(['count', '--', binary]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Total instruction count: ${expectedCount(binary)}\n`);
  });

  it('prints JSON with --json, and the target output goes to stderr', () => {
    const result = runPmfit(['count', '--json', '--', fixture('count_asm')]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ instructions: expectedCount(fixture('count_asm')), exitCode: 0 });
    expect(result.stderr).toContain('count_asm: ok');
  });

  it('runs the index on across repeated regions', () => {
    // region_loop's main enters loop_region's region three times.
    const result = runPmfit(['count', '--json', '--', fixture('region_loop')]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).instructions).toBe(3 * regionLength(fixture('region_loop'), 'loop_region'));
  });

  it('counts every call of a --function, recursion included', () => {
    // work(0) runs 4 instructions up to its ret; work(1) runs 8 of its own
    // plus a nested work(0): main's calls work(0), work(1), work(0) make 20.
    const lines = disassemble(fixture('func'), 'work');
    expect(lines.map((line) => line.text.split(' ')[0])).toEqual([
      'test',
      'jle',
      'push',
      'lea',
      'call',
      'pop',
      'add',
      'ret',
      'mov',
      'ret',
    ]);
    const result = runPmfit(['count', '--function', 'work', '--', fixture('func')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Total instruction count: 20\n');
  });

  it('counts every call of any of several --functions, a call inside another as part of it', () => {
    const count = (...names: string[]) => {
      const result = runPmfit([
        'count',
        '--json',
        ...names.flatMap((name) => ['--function', name]),
        '--',
        fixture('func'),
      ]);
      expect(result.code).toBe(0);
      return (JSON.parse(result.stdout) as { instructions: number }).instructions;
    };
    // twice(3), twice(4) and outer's twice(5): 2 each; outer: 5 of its own.
    expect(count('twice')).toBe(6);
    expect(count('outer')).toBe(7);
    // outer's call of twice is inside outer's region: counted once.
    expect(count('outer', 'twice')).toBe(11);
    expect(count('twice', 'outer')).toBe(11);
    expect(count('work', 'twice', 'outer')).toBe(31);
    const missing = runPmfit(['count', '--function', 'work', '--function', 'nowhere', '--', fixture('func')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^pmfit: function nowhere not found in /);
  });

  it('--function agrees with marker counting on the same code path', () => {
    // The marker region holds checksum's call plus main's own instructions
    // between the markers; --function checksum counts checksum alone.
    const binary = fixture('func_region');
    const own = regionLength(binary, 'main');
    const markers = runPmfit(['count', '--json', '--', binary, 'crash consistency']);
    const fn = runPmfit(['count', '--json', '--function', 'checksum', '--', binary, 'crash consistency']);
    expect(markers.code).toBe(0);
    expect(fn.code).toBe(0);
    const byFunction = JSON.parse(fn.stdout).instructions;
    expect(byFunction).toBeGreaterThan('crash consistency'.length * 4);
    expect(JSON.parse(markers.stdout).instructions).toBe(byFunction + own);
  });

  it('is deterministic: five runs of tree insert give the same count', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-count-'));
    try {
      const counts = [];
      for (let run = 0; run < 5; run++) {
        const pool = path.join(dir, `tree${run}.pm`);
        execFileSync(fixture('tree'), ['init', pool, '64K']);
        const result = runPmfit([
          'count',
          '--json',
          '--',
          fixture('tree'),
          'insert',
          pool,
          'one',
          'two',
          'three',
          'one',
        ]);
        expect(result.code).toBe(0);
        counts.push(JSON.parse(result.stdout).instructions);
      }
      expect(counts[0]).toBeGreaterThan(1000);
      expect(new Set(counts).size).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
