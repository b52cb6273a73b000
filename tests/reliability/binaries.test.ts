// binaries -- every kind of program a user may name, through the CLI: one
// line that names the problem and exit 2, or a correct count; nothing left
// running, nothing left in the temporary root.
//
// Covered elsewhere, not repeated here:
//   command not found on PATH  tests/cli/errors.test.ts 'command not found'
//   not executable             tests/cli/errors.test.ts 'not executable'
//   not ELF                    tests/cli/errors.test.ts 'not ELF'
//   PIE and non-PIE            tests/cli/count.test.ts 'counts %s exactly as its disassembly says'
//                              (count_asm and count_asm_nopie, 48 instructions each)

import * as fs from 'fs';
import * as path from 'path';
import { fixture } from '../fixtures';
import { useLeftovers } from '../helpers/leftovers';
import { runPmfit } from '../helpers/run-pmfit';
import { asUser, canDropPrivileges, expectUsageError, scratchDir } from './helpers';

const leftovers = useLeftovers();
const scratch = scratchDir('binaries');

/** A minimal 32-bit i386 executable (exit(0) by int 0x80), written by hand
 *  so that the test does not depend on a 32-bit toolchain. */
function elf32(file: string): void {
  const code = Buffer.from([0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80]);
  const ehdr = Buffer.alloc(52);
  const phdr = Buffer.alloc(32);
  const base = 0x08048000;
  const size = ehdr.length + phdr.length + code.length;
  ehdr.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0); // ELF, 32-bit, little endian, version 1
  ehdr.writeUInt16LE(2, 16); // ET_EXEC
  ehdr.writeUInt16LE(3, 18); // EM_386
  ehdr.writeUInt32LE(1, 20);
  ehdr.writeUInt32LE(base + 84, 24); // entry: the code after the headers
  ehdr.writeUInt32LE(52, 28); // program headers right after this one
  ehdr.writeUInt16LE(52, 40);
  ehdr.writeUInt16LE(32, 42);
  ehdr.writeUInt16LE(1, 44);
  ehdr.writeUInt16LE(40, 46);
  phdr.writeUInt32LE(1, 0); // PT_LOAD of the whole file
  phdr.writeUInt32LE(base, 8);
  phdr.writeUInt32LE(base, 12);
  phdr.writeUInt32LE(size, 16);
  phdr.writeUInt32LE(size, 20);
  phdr.writeUInt32LE(5, 24); // r-x
  phdr.writeUInt32LE(0x1000, 28);
  fs.writeFileSync(file, Buffer.concat([ehdr, phdr, code]), { mode: 0o755 });
}

describe('programs pmfit is given', () => {
  it('missing: a path that does not exist', () => {
    const file = path.join(scratch.path(), 'no-such-program');
    expectUsageError(
      runPmfit(['count', '--', file], leftovers.current()),
      new RegExp(`^pmfit: ${file}: no such file$`),
    );
  });

  it('unreadable (chmod 000), as the user who cannot read it', () => {
    if (!canDropPrivileges()) {
      // Root reads a chmod 000 file, and without setpriv there is no user
      // to whom it is unreadable: the message path is covered by
      // tests/elf/inspect-executable.test.ts 'not readable' when not root.
      console.warn('skipped: running as root without setpriv');
      return;
    }
    const file = path.join(scratch.path(), 'unreadable');
    fs.copyFileSync(fixture('count_asm'), file);
    fs.chmodSync(file, 0o000);
    const { env, tmp } = leftovers.current();
    fs.chmodSync(tmp, 0o777);
    expectUsageError(
      asUser(['count', '--', file], { env }),
      /: not readable \(permission denied\); pmfit reads the program to find its symbols$/,
    );
  });

  it('32-bit', () => {
    const file = path.join(scratch.path(), 'elf32');
    elf32(file);
    expectUsageError(
      runPmfit(['count', '--', file], leftovers.current()),
      /elf32: 32-bit program; pmfit traces 64-bit x86-64 programs only/,
    );
  });

  it('static: traced like any other program', () => {
    const result = runPmfit(['count', '--json', '--', fixture('rel_static')], leftovers.current());
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ instructions: 48, exitCode: 0 });
  });

  it('stripped: the markers are missing, and --function needs symbols', () => {
    const binary = fixture('rel_stripped');
    expectUsageError(
      runPmfit(['count', '--', binary], leftovers.current()),
      /rel_stripped is stripped: pmfit finds pmfit_region_begin and --function by symbol; rebuild it without stripping$/,
    );
    expectUsageError(
      runPmfit(['count', '--function', 'count_region', '--', binary], leftovers.current()),
      /function count_region not found: .*rel_stripped is stripped \(no symbol table\) and --function needs symbols/,
    );
    // record says the same, and leaves no partial trace beside its output.
    const dir = fs.mkdtempSync(path.join(scratch.path(), 'record-'));
    fs.writeFileSync(path.join(dir, 'pm.bin'), Buffer.alloc(4096));
    expectUsageError(
      runPmfit(['record', '--pm', 'pm.bin', '-o', 'run.trace', '--', binary], { ...leftovers.current(), cwd: dir }),
      /rel_stripped is stripped/,
    );
    expect(fs.readdirSync(dir)).toEqual(['pm.bin']);
  });

  it('a script with a shebang names its interpreter', () => {
    const file = path.join(scratch.path(), 'script.sh');
    fs.writeFileSync(file, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    expectUsageError(
      runPmfit(['count', '--', file], leftovers.current()),
      /script.sh: not an ELF executable \(it is a script for \/bin\/sh; pass the interpreter's command instead\)$/,
    );
  });
});
