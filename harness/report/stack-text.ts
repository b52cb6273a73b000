// stack-text -- a call stack as one short line for the terminal and the
// GitHub annotations: the instruction's frame and the program's own frame
// with its neighbours, each frame by function and file:line; and whole,
// one frame a line, for the HTML report and JUnit.

import * as path from 'path';
import type { FindingSite, StackFrame } from '../results/schema';

/** frameText -- "insert tree.c:273", "memmove (libc.so.6)", or the address. */
export function frameText(frame: StackFrame): string {
  const name = frame.symbol?.replace(/\+0x[0-9a-f]+$/, '');
  if (frame.file !== undefined) return `${name ? `${name} ` : ''}${path.basename(frame.file)}:${frame.line}`;
  const module = frame.module !== undefined ? path.basename(frame.module) : undefined;
  if (name) return module ? `${name} (${module})` : name;
  return module ? `${frame.address} (${module})` : frame.address;
}

/** shortStack -- the instruction's frame, then the own frame with the one
 *  before and after it, the frames between counted:
 *  "0x7ffff7d6ef06 (libpmem.so.1) <- (6 frames) <- pmemobj_tx_commit
 *  (libpmemobj.so.1) <- insert txmap.c:206 <- main txmap.c:252 <- ...";
 *  undefined for a site without a stack. */
export function shortStack(site: Pick<FindingSite, 'stack' | 'frame'>): string | undefined {
  const stack = site.stack ?? [];
  if (stack.length === 0) return undefined;
  const own = site.frame ?? 0;
  const shown = [...new Set([0, own - 1, own, own + 1])]
    .filter((i) => i >= 0 && i < stack.length)
    .sort((a, b) => a - b);
  const parts: string[] = [];
  shown.forEach((i, n) => {
    const skipped = i - (n === 0 ? 0 : shown[n - 1] + 1);
    if (skipped > 0) parts.push(`(${skipped} frame${skipped === 1 ? '' : 's'})`);
    parts.push(frameText(stack[i]));
  });
  if (shown[shown.length - 1] < stack.length - 1) parts.push('...');
  return parts.join(' <- ');
}

/** stackLines -- every frame, one a line ("> at insert+0x2a tree.c:277"),
 *  the own frame (`frame`, where file:line is from) marked with ">" so the
 *  path to it reads at a glance; [] without a stack. */
export function stackLines(site: Pick<FindingSite, 'stack' | 'frame'>): string[] {
  return (site.stack ?? []).map(
    (frame, i) =>
      `${i === site.frame ? '>' : ' '} at ${frame.symbol ?? frame.address}${frame.file ? ` ${frame.file}:${frame.line}` : ''}${frame.file === undefined && frame.module ? ` (${frame.module})` : ''}`,
  );
}
