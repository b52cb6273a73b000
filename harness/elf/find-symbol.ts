// find-symbol -- the link-time entry addresses of a function by name, for
// region-marker and --function breakpoints. A name can stand for several
// functions (static functions of the same name in different files, or a
// copy in .symtab and .dynsym), so every distinct address is returned.

import type { ElfFile } from './read-elf';

/** findFunction -- addresses of the function symbols called `name`, ascending;
 *  empty when there is none. */
export function findFunction(elf: ElfFile, name: string): number[] {
  const addresses = new Set<number>();
  for (const symbol of elf.symbols) {
    if (symbol.type === 'func' && symbol.name === name) addresses.add(symbol.value);
  }
  return [...addresses].sort((a, b) => a - b);
}
