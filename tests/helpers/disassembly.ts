// disassembly -- a function's instructions as objdump prints them, for
// tests that derive expected counts from the binary itself.

import { execFileSync } from 'child_process';

export interface Line {
  address: number;
  text: string;
}

export function disassemble(binary: string, fn: string): Line[] {
  const out = execFileSync('objdump', ['-d', '--no-show-raw-insn', `--disassemble=${fn}`, binary], {
    encoding: 'utf8',
  });
  const lines: Line[] = [];
  for (const line of out.split('\n')) {
    const match = /^\s*([0-9a-f]+):\s+(.*\S)\s*$/.exec(line);
    if (match) lines.push({ address: parseInt(match[1], 16), text: match[2].replace(/\s+/g, ' ') });
  }
  return lines;
}
