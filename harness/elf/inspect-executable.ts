// inspect-executable -- can pmfit trace this file? The checks a user's
// command goes through before anything is started, each failing with one
// line that names the file, the problem and, where there is one, the fix.

import * as fs from 'fs';
import type { ElfFailureReason, ElfFile } from './read-elf';
import { readElf } from './read-elf';

export type InspectFailureReason =
  'missing' | 'not-regular-file' | 'not-readable' | 'not-executable' | 'script' | 'not-a-program' | ElfFailureReason;

export type InspectResult = { ok: true; elf: ElfFile } | { ok: false; reason: InspectFailureReason; message: string };

function fail(reason: InspectFailureReason, message: string): InspectResult {
  return { ok: false, reason, message };
}

function fileKind(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The interpreter line of a `#!` script, without the `#!`. */
function shebang(head: Buffer): string | undefined {
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const end = head.indexOf(0x0a);
  const line = head.toString('utf8', 2, end < 0 ? head.length : end).trim();
  return line === '' ? '(no interpreter named)' : line;
}

/** inspectExecutable -- check that `file` exists and is an executable
 *  x86-64 ELF program we may read; its parsed ELF on success. */
export function inspectExecutable(file: string): InspectResult {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('missing', `${file}: no such file`);
    if (code === 'ENOTDIR') return fail('missing', `${file}: no such file (a part of the path is not a directory)`);
    if (code === 'EACCES')
      return fail('not-readable', `${file}: cannot look at it (permission denied on a directory of its path)`);
    return fail('missing', `${file}: cannot look at it (${code ?? String(err)})`);
  }
  if (!stat.isFile()) return fail('not-regular-file', `${file}: not an executable file (it is ${fileKind(stat)})`);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    return fail(
      'not-readable',
      `${file}: not readable (permission denied); pmfit reads the program to find its symbols`,
    );
  }
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return fail('not-executable', `${file}: not executable (no execute permission; chmod +x it)`);
  }
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    return fail('not-readable', `${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const interpreter = shebang(buf.subarray(0, 256));
  if (interpreter !== undefined) {
    return fail(
      'script',
      `${file}: not an ELF executable (it is a script for ${interpreter}; pass the interpreter's command instead)`,
    );
  }
  const read = readElf(buf);
  if (!read.ok) {
    switch (read.reason) {
      case 'not-elf':
        return fail(
          read.reason,
          `${file}: not an ELF executable (${read.message.replace(/^not an ELF file \((.*)\)$/, '$1')})`,
        );
      case 'not-64-bit':
        return fail(
          read.reason,
          `${file}: 32-bit program; pmfit traces 64-bit x86-64 programs only (rebuild without -m32)`,
        );
      case 'not-x86-64':
        return fail(read.reason, `${file}: ${read.message}; pmfit traces x86-64 programs only`);
      case 'truncated':
        return fail(read.reason, `${file}: ${read.message}`);
    }
  }
  if (read.elf.type === 'other') {
    return fail(
      'not-a-program',
      `${file}: an ELF file that is not a program (an object file or core dump?); link it into an executable first`,
    );
  }
  return read;
}
