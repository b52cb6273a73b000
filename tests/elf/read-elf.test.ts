// read-elf.test -- parsing real gcc output (checked against nm and readelf)
// and damaged copies of it.

import { execFileSync } from 'child_process';
import fc from 'fast-check';
import * as fs from 'fs';
import { findFunction } from '../../harness/elf/find-symbol';
import { ElfFile, readElf } from '../../harness/elf/read-elf';
import { buildPrograms, Programs, removePrograms } from './programs';

let programs: Programs;

beforeAll(() => {
  programs = buildPrograms();
});

afterAll(() => removePrograms(programs));

function elfOf(file: string): ElfFile {
  const result = readElf(fs.readFileSync(file));
  if (!result.ok) throw new Error(`${file}: ${result.message}`);
  return result.elf;
}

/** Defined text symbols as nm lists them: name -> addresses. */
function nmText(file: string): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (const line of execFileSync('nm', ['--defined-only', file], { encoding: 'utf8' }).split('\n')) {
    const match = /^([0-9a-f]+) [Tt] (\S+)$/.exec(line);
    if (match) found.set(match[2], [...(found.get(match[2]) ?? []), parseInt(match[1], 16)]);
  }
  return found;
}

describe('readElf on gcc output', () => {
  test('PIE: ET_DYN with an interpreter, symbols and entry as nm and readelf see them', () => {
    const elf = elfOf(programs.pie);
    expect(elf.type).toBe('dyn');
    expect(elf.machine).toBe(62);
    expect(elf.isStatic).toBe(false);
    expect(elf.interp).toMatch(/ld-linux-x86-64\.so\.2$/);
    expect(elf.hasSymtab).toBe(true);
    expect(elf.stripped).toBe(false);
    const header = execFileSync('readelf', ['-h', programs.pie], { encoding: 'utf8' });
    expect(elf.entry).toBe(parseInt(/Entry point address:\s+(0x[0-9a-f]+)/.exec(header)![1], 16));
    for (const [name, addresses] of nmText(programs.pie)) {
      for (const address of addresses) {
        expect(elf.symbols).toContainEqual(expect.objectContaining({ name, value: address, type: 'func' }));
      }
    }
    const main = elf.symbols.find((symbol) => symbol.name === 'main')!;
    expect(main).toMatchObject({ type: 'func', bind: 'global' });
    expect(main.size).toBeGreaterThan(0);
    expect(elf.segments.length).toBeGreaterThanOrEqual(2);
    expect(
      elf.segments.some(
        (segment) => segment.flags & 1 && segment.vaddr <= main.value && main.value < segment.vaddr + segment.memsz,
      ),
    ).toBe(true);
  });

  test('-no-pie: ET_EXEC', () => {
    const elf = elfOf(programs.nopie);
    expect(elf.type).toBe('exec');
    expect(elf.isStatic).toBe(false);
    expect(elf.segments[0].vaddr).toBeGreaterThanOrEqual(0x400000);
  });

  test('-static: no interpreter, no shared libraries', () => {
    const elf = elfOf(programs.static);
    expect(elf.isStatic).toBe(true);
    expect(elf.interp).toBeUndefined();
    expect(findFunction(elf, 'main')).toHaveLength(1);
  });

  test('stripped: no .symtab, and so no main', () => {
    const elf = elfOf(programs.stripped);
    expect(elf.hasSymtab).toBe(false);
    expect(elf.stripped).toBe(true);
    expect(findFunction(elf, 'main')).toEqual([]);
    // imports are not definitions
    expect(elf.symbols.find((symbol) => symbol.name === 'sleep')).toBeUndefined();
  });

  test('findFunction returns every local symbol of a name', () => {
    const elf = elfOf(programs.pie);
    const twins = findFunction(elf, 'twin');
    expect(twins).toEqual([...nmText(programs.pie).get('twin')!].sort((a, b) => a - b));
    expect(twins).toHaveLength(2);
    expect(elf.symbols.filter((symbol) => symbol.name === 'twin').every((symbol) => symbol.bind === 'local')).toBe(
      true,
    );
    expect(findFunction(elf, 'no_such_function')).toEqual([]);
  });

  test.each(['pie', 'nopie'] as const)('%s: PLT stubs are named NAME@plt where objdump puts them', (kind) => {
    const file = programs[kind];
    const objdump = new Map<string, number>();
    for (const match of execFileSync('objdump', ['-d', file], { encoding: 'utf8' }).matchAll(
      /^([0-9a-f]+) <(\S+@plt)>:$/gm,
    )) {
      objdump.set(match[2], parseInt(match[1], 16));
    }
    expect(objdump.has('sleep@plt')).toBe(true);
    const plt = new Map(
      elfOf(file)
        .symbols.filter((symbol) => symbol.name.endsWith('@plt'))
        .map((symbol) => [symbol.name, symbol.value]),
    );
    expect(plt).toEqual(objdump);
  });

  test.each(['pie', 'static', 'object'] as const)('%s: section headers as readelf -S lists them', (kind) => {
    const file = programs[kind];
    const FLAG_BITS: Record<string, number> = { W: 1, A: 2, X: 4 };
    const listed = [
      ...execFileSync('readelf', ['-SW', file], { encoding: 'utf8' }).matchAll(
        /^\s*\[\s*\d+\] (.*?)\s+([A-Z_0-9]+)\s+([0-9a-f]{16}) ([0-9a-f]+) ([0-9a-f]+) [0-9a-f]+\s+([A-Za-z]*)\s+\d+\s+\d+\s+\d+$/gm,
      ),
    ].map((match) => ({
      name: match[1].trim(),
      addr: parseInt(match[3], 16),
      offset: parseInt(match[4], 16),
      size: parseInt(match[5], 16),
      flags: [...match[6]].reduce((bits, letter) => bits | (FLAG_BITS[letter] ?? 0), 0),
      nobits: match[2] === 'NOBITS',
    }));
    expect(listed.length).toBeGreaterThan(5);
    expect(listed.some((section) => section.name === '.text' && section.flags === 6)).toBe(true);
    const sections = elfOf(file).sections.map((section) => ({
      name: section.name,
      addr: section.addr,
      offset: section.offset,
      size: section.size,
      flags: section.flags & 7,
      nobits: section.type === 8,
    }));
    expect(sections).toEqual(listed);
    // without symbols: the same file, symbols left empty
    expect(readElf(fs.readFileSync(file), { symbols: false })).toEqual({
      ok: true,
      elf: { ...elfOf(file), symbols: [] },
    });
  });

  test('-m32: not-64-bit', () => {
    if (!programs.m32) return; // gcc cannot build 32-bit code here
    const result = readElf(fs.readFileSync(programs.m32));
    expect(result).toMatchObject({ ok: false, reason: 'not-64-bit' });
  });

  test('object file: type other', () => {
    expect(elfOf(programs.object).type).toBe('other');
  });
});

describe('readElf on bad input', () => {
  let pie: Buffer;
  beforeAll(() => {
    pie = fs.readFileSync(programs.pie);
  });

  test('text, empty and short files are not ELF', () => {
    expect(readElf(Buffer.from('hello, world\n'))).toEqual({
      ok: false,
      reason: 'not-elf',
      message: 'not an ELF file (text starting with "hello, world\\n")',
    });
    expect(readElf(Buffer.alloc(0))).toEqual({ ok: false, reason: 'not-elf', message: 'not an ELF file (empty file)' });
    expect(readElf(Buffer.from([0x7f, 0x45]))).toMatchObject({ ok: false, reason: 'not-elf' });
  });

  test('a cut-off header is truncated', () => {
    expect(readElf(pie.subarray(0, 40))).toMatchObject({ ok: false, reason: 'truncated' });
  });

  test('a cut-off file is truncated', () => {
    expect(readElf(pie.subarray(0, 2000))).toMatchObject({ ok: false, reason: 'truncated' });
    const result = readElf(pie.subarray(0, pie.length - 1));
    expect(result).toMatchObject({ ok: false, reason: 'truncated' });
    expect(!result.ok && result.message).toMatch(/section header table .* ends past the end of the \d+-byte file/);
  });

  test('another machine is not-x86-64, and named', () => {
    const copy = Buffer.from(pie);
    copy.writeUInt16LE(183, 18);
    expect(readElf(copy)).toEqual({
      ok: false,
      reason: 'not-x86-64',
      message: 'ELF file for AArch64 (e_machine 183), not x86-64',
    });
    const bigEndian = Buffer.from(pie);
    bigEndian[5] = 2;
    expect(readElf(bigEndian)).toMatchObject({ ok: false, reason: 'not-x86-64' });
  });

  test('ELFCLASS32 header is not-64-bit', () => {
    const copy = Buffer.from(pie);
    copy[4] = 1;
    expect(readElf(copy)).toMatchObject({ ok: false, reason: 'not-64-bit' });
  });

  test('damaged headers never throw', () => {
    // Overwrite bytes of the ELF header, the program headers, the section
    // headers or the symbol tables: the answer is a result, good or bad.
    const shoff = Number(pie.readBigUInt64LE(40));
    const phEnd = Number(pie.readBigUInt64LE(32)) + pie.readUInt16LE(56) * 56;
    const regions: [number, number][] = [
      [0, 64],
      [64, phEnd],
      [shoff, pie.length],
    ];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            region: fc.integer({ min: 0, max: regions.length - 1 }),
            at: fc.nat(),
            value: fc.integer({ min: 0, max: 255 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (edits) => {
          const copy = Buffer.from(pie);
          for (const { region, at, value } of edits) {
            const [start, end] = regions[region];
            copy[start + (at % (end - start))] = value;
          }
          const result = readElf(copy);
          if (!result.ok) expect(['not-elf', 'not-64-bit', 'not-x86-64', 'truncated']).toContain(result.reason);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
