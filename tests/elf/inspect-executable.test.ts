// inspect-executable.test -- every reason a command cannot be traced, with
// the one-line message the user sees.

import * as fs from 'fs';
import * as path from 'path';
import { inspectExecutable } from '../../harness/elf/inspect-executable';
import { buildPrograms, Programs, removePrograms } from './programs';

let programs: Programs;

beforeAll(() => {
  programs = buildPrograms();
});

afterAll(() => removePrograms(programs));

describe('inspectExecutable', () => {
  test.each(['pie', 'nopie', 'static', 'stripped'] as const)('%s is accepted', (kind) => {
    const result = inspectExecutable(programs[kind]);
    expect(result.ok).toBe(true);
  });

  test('missing file', () => {
    const file = path.join(programs.dir, 'nothing-here');
    expect(inspectExecutable(file)).toEqual({ ok: false, reason: 'missing', message: `${file}: no such file` });
    expect(inspectExecutable(path.join(programs.pie, 'below'))).toMatchObject({ ok: false, reason: 'missing' });
  });

  test('directory', () => {
    expect(inspectExecutable(programs.dir)).toEqual({
      ok: false,
      reason: 'not-regular-file',
      message: `${programs.dir}: not an executable file (it is a directory)`,
    });
  });

  test('no execute permission', () => {
    expect(inspectExecutable(programs.notExecutable)).toEqual({
      ok: false,
      reason: 'not-executable',
      message: `${programs.notExecutable}: not executable (no execute permission; chmod +x it)`,
    });
  });

  test('not readable', () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const file = path.join(programs.dir, 'unreadable');
    fs.copyFileSync(programs.pie, file);
    fs.chmodSync(file, 0o111);
    expect(inspectExecutable(file)).toMatchObject({ ok: false, reason: 'not-readable' });
  });

  test('script names its interpreter', () => {
    expect(inspectExecutable(programs.script)).toEqual({
      ok: false,
      reason: 'script',
      message: `${programs.script}: not an ELF executable (it is a script for /bin/sh -e; pass the interpreter's command instead)`,
    });
  });

  test('text file and empty file', () => {
    expect(inspectExecutable(programs.text)).toEqual({
      ok: false,
      reason: 'not-elf',
      message: `${programs.text}: not an ELF executable (text starting with "hello, world\\nnot")`,
    });
    expect(inspectExecutable(programs.empty)).toEqual({
      ok: false,
      reason: 'not-elf',
      message: `${programs.empty}: not an ELF executable (empty file)`,
    });
  });

  test('32-bit program', () => {
    if (!programs.m32) return; // gcc cannot build 32-bit code here
    expect(inspectExecutable(programs.m32)).toEqual({
      ok: false,
      reason: 'not-64-bit',
      message: `${programs.m32}: 32-bit program; pmfit traces 64-bit x86-64 programs only (rebuild without -m32)`,
    });
  });

  test('object file', () => {
    expect(inspectExecutable(programs.object)).toMatchObject({ ok: false, reason: 'not-a-program' });
  });

  test('other machine and truncated file', () => {
    const arm = path.join(programs.dir, 'arm');
    const copy = fs.readFileSync(programs.pie);
    copy.writeUInt16LE(183, 18);
    fs.writeFileSync(arm, copy, { mode: 0o755 });
    expect(inspectExecutable(arm)).toEqual({
      ok: false,
      reason: 'not-x86-64',
      message: `${arm}: ELF file for AArch64 (e_machine 183), not x86-64; pmfit traces x86-64 programs only`,
    });
    const cut = path.join(programs.dir, 'cut');
    fs.writeFileSync(cut, fs.readFileSync(programs.pie).subarray(0, 1000), { mode: 0o755 });
    const result = inspectExecutable(cut);
    expect(result).toMatchObject({ ok: false, reason: 'truncated' });
    expect(!result.ok && result.message).toMatch(new RegExp(`^${cut}: truncated or corrupt ELF file \\(`));
  });

  test('every message is one line', () => {
    for (const file of [
      programs.dir,
      programs.notExecutable,
      programs.script,
      programs.text,
      programs.empty,
      programs.object,
    ]) {
      const result = inspectExecutable(file);
      expect(!result.ok && result.message).not.toMatch(/\n/);
    }
  });
});
