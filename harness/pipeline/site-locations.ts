// site-locations -- where an instruction a finding blames is, as a person
// reads it: module, symbol, source file:line, and with its call stack the
// first frame in the program's own code.
//
// "Own code" is a frame with a source line that is not a persistence helper
// (pmem_persist, pmem_memcpy_persist, ... of libpmem or the program's own
// copy of them) and not in a system library (/usr, /lib): the line a
// programmer would change. A store inside libc's memmove is shown at the
// memcpy call in the program; a flush inside pmem_persist at its caller.

import * as fs from 'fs';
import * as path from 'path';
import { sourceLines } from '../elf/source-line';
import type { FindingSite, StackFrame } from '../results/schema';
import type { AddressInfo } from '../trace/format';
import { formatPtr } from '../tracer/remote-ptr';

/** A frame located in its module (Symbolizer.describe's answer). */
export interface RawFrame {
  address: number;
  module: string;
  offset: number;
  symbol?: string;
  symbolOffset?: number;
}

const HELPER = /^(pmem2?_|_mm_|__memcpy|__memmove|__memset|memcpy|memmove|memset)/;

/** isSystem -- a file or module of the system (under /usr or /lib), not the program's own. */
export function isSystem(file: string | undefined): boolean {
  return file !== undefined && (file.startsWith('/usr/') || file.startsWith('/lib'));
}

/** locateFrames -- source file and line of each frame (one addr2line per
 *  module): of a call stack, innermost first, or (`instructions`) of
 *  instruction addresses that are no stack, each looked up as it is. */
export async function locateFrames(
  frames: readonly RawFrame[],
  of: 'stack' | 'instructions' = 'stack',
): Promise<StackFrame[]> {
  // A return address points after the call: its line is the call's only
  // when looked up one byte back (a stack's caller frames, not the first).
  const lookup = (frame: RawFrame, i: number): number => (of === 'stack' && i > 0 ? frame.offset - 1 : frame.offset);
  const byModule = new Map<string, number[]>();
  frames.forEach((frame, i) => {
    if (!path.isAbsolute(frame.module)) return;
    const list = byModule.get(frame.module) ?? [];
    list.push(lookup(frame, i));
    byModule.set(frame.module, list);
  });
  const lines = new Map<string, Map<number, { file: string; line: number }>>();
  for (const [module, offsets] of byModule) lines.set(module, await sourceLines(module, offsets));
  return frames.map((frame, i) => {
    const out: StackFrame = { address: formatPtr(frame.address), module: frame.module };
    if (frame.symbol) out.symbol = `${frame.symbol}+0x${(frame.symbolOffset ?? 0).toString(16)}`;
    const source = lines.get(frame.module)?.get(lookup(frame, i));
    if (source) Object.assign(out, { file: path.normalize(source.file), line: source.line });
    return out;
  });
}

/** ownFrame -- the frame shown as a site's location. */
export function ownFrame(stack: readonly StackFrame[]): StackFrame | undefined {
  const own = stack.find(
    (frame) => frame.file !== undefined && !isSystem(frame.file) && !HELPER.test(frame.symbol ?? ''),
  );
  return own ?? stack.find((frame) => frame.file !== undefined) ?? stack[0];
}

/** siteAt -- a finding site: the instruction as the trace names it, with its
 *  location taken from its stack's own frame when there is a stack. */
export function siteAt(
  role: string,
  address: number,
  index: number,
  info: AddressInfo | undefined,
  stack: StackFrame[] | undefined,
  ownLine: { file: string; line: number } | undefined,
): FindingSite {
  const site: FindingSite = { role, address: formatPtr(address), index };
  if (info) {
    site.module = info.module;
    if (info.symbol) site.symbol = `${info.symbol}+0x${(info.symbolOffset ?? 0).toString(16)}`;
  }
  const own = stack && stack.length > 0 ? ownFrame(stack) : undefined;
  const where = own?.file !== undefined ? { file: own.file, line: own.line as number } : ownLine;
  if (where) Object.assign(site, where);
  if (stack && stack.length > 0) site.stack = stack;
  return site;
}

/** addExcerpt -- the line before file:line and the line itself, read once
 *  per file (`cache`); nothing when the file cannot be read. */
export function addExcerpt(site: FindingSite, cache: Map<string, string[] | null>): void {
  if (site.file === undefined || site.line === undefined) return;
  let lines = cache.get(site.file);
  if (lines === undefined) {
    try {
      lines = fs.readFileSync(site.file, 'utf8').split('\n');
    } catch {
      lines = null;
    }
    cache.set(site.file, lines);
  }
  if (!lines || site.line > lines.length) return;
  const first = Math.max(1, site.line - 1);
  site.excerpt = [];
  for (let line = first; line <= site.line; line++) site.excerpt.push({ line, text: lines[line - 1].trimEnd() });
}

/** siteLocation -- "tree.c:255", or the symbol or address without a line. */
export function siteLocation(site: { file?: string; line?: number; symbol?: string; address: string }): string {
  if (site.file !== undefined) return `${path.basename(site.file)}:${site.line}`;
  return site.symbol ?? site.address;
}
