// lint-allowed -- whether a durability-lint site is one the target says is
// meant not to be durable when its operation ends (TargetSpec.allowNotDurable,
// a target's `allowNotDurable` in pmfit.config.json): a block header that a
// later operation persists, or that is lost with its block. An entry is
// "FILE:LINE", the file by its name or the end of its path ("main.c:222",
// "alloc/main.c:222"), or a function's name as the symbol table has it
// ("do_reserve"; a function the compiler inlined is part of its caller, and
// a suffix like ".constprop.0" is ignored), matched against the site and
// the frames of its call stack.

import type { FindingSite } from '../results/schema';

/** The symbol's function name: "insert.constprop.0+0x147" -> "insert". */
function functionName(symbol: string): string {
  return symbol.replace(/\+0x[0-9a-f]+$/i, '').replace(/\.(constprop|isra|part|cold|lto_priv)(\.\d+)*$/, '');
}

function sameFile(file: string, entry: string): boolean {
  return file === entry || file.endsWith(`/${entry}`);
}

/** allowedBy -- the first entry of `entries` that names `site`, if any. */
export function allowedBy(site: FindingSite, entries: readonly string[]): string | undefined {
  const symbols = [site.symbol, ...(site.stack ?? []).map((frame) => frame.symbol)].flatMap((symbol) =>
    symbol === undefined ? [] : [functionName(symbol)],
  );
  return entries.find((entry) => {
    const at = /^(.+):(\d+)$/.exec(entry);
    if (at) return site.file !== undefined && site.line === Number(at[2]) && sameFile(site.file, at[1]);
    return symbols.includes(entry);
  });
}
