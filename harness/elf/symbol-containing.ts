// symbol-containing -- the function symbol whose range holds a link-time
// address, for naming addresses after the process is gone.

import type { ElfFile } from './read-elf';

export function symbolContaining(elf: ElfFile, address: number): { name: string; offset: number } | undefined {
  let best: { name: string; offset: number } | undefined;
  for (const symbol of elf.symbols) {
    if (symbol.type !== 'func' || symbol.value > address) continue;
    const offset = address - symbol.value;
    const inside = symbol.size > 0 ? offset < symbol.size : offset < 4096;
    if (inside && (!best || offset < best.offset)) best = { name: symbol.name, offset };
  }
  return best;
}
