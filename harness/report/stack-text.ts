// stack-text -- a call stack as one short line for the terminal and the
// GitHub annotations: from the instruction to the program's own frame and
// one caller past it, each frame by function and file:line.

import * as path from 'path';
import type { FindingSite, StackFrame } from '../results/schema';

/** Frames a short stack shows at most. */
const MAX_SHORT = 8;

/** frameText -- "insert tree.c:273", "memmove (libc.so.6)", or the address. */
export function frameText(frame: StackFrame): string {
  const name = frame.symbol?.replace(/\+0x[0-9a-f]+$/, '');
  if (frame.file !== undefined) return `${name ? `${name} ` : ''}${path.basename(frame.file)}:${frame.line}`;
  const module = frame.module !== undefined ? path.basename(frame.module) : undefined;
  if (name) return module ? `${name} (${module})` : name;
  return module ? `${frame.address} (${module})` : frame.address;
}

/** shortStack -- "memmove (libc.so.6) <- insert tree.c:273 <- main tree.c:327",
 *  or undefined for a site without a stack. */
export function shortStack(site: Pick<FindingSite, 'stack' | 'frame'>): string | undefined {
  const stack = site.stack ?? [];
  if (stack.length === 0) return undefined;
  const shown = Math.min(stack.length, MAX_SHORT, (site.frame ?? 0) + 2);
  return `${stack.slice(0, shown).map(frameText).join(' <- ')}${shown < stack.length ? ' <- ...' : ''}`;
}
