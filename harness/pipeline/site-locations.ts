// site-locations -- where an instruction a finding blames is, as a person
// reads it: module, symbol, source file:line, and with its call stack the
// first frame in the program's own code.
//
// "Own code" is a frame with a source line, past the outermost persistence
// or copy helper (pmem_persist, pmem_memcpy_persist, memmove, ... of libpmem
// or libc or the program's own copy of them, and pmfit.h's functions), that
// is not in a system library (/usr/lib, /lib: libc, libpmemobj, ld.so): the
// line a programmer would change. A store inside libc's memmove is shown at
// the memcpy call in the program; a flush inside pmem_persist (or the
// writeback function it calls) at pmem_persist's caller.

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
  /** A return address (a caller's frame): its line is the call's, the
   *  byte before. */
  caller?: boolean;
}

const HELPER = /^(pmem2?_|_mm_|__memcpy|__memmove|__memset|memcpy|memmove|memset)/;

/** isSystem -- a file or module of the system (under /usr or /lib), not the program's own. */
export function isSystem(file: string | undefined): boolean {
  return file !== undefined && (file.startsWith('/usr/') || file.startsWith('/lib'));
}

/** A shared library of the system (libc, libpmemobj, ld.so), whatever
 *  debug information says its sources are. */
function isSystemModule(module: string | undefined): boolean {
  return module !== undefined && /^\/(usr\/)?lib(32|64|x32)?\//.test(module);
}

/** A frame whose caller is the line to read: a persistence or copy helper
 *  (by its symbol), or a function of pmfit.h. */
function isHelper(frame: StackFrame): boolean {
  return HELPER.test(frame.symbol ?? '') || (frame.file !== undefined && path.basename(frame.file) === 'pmfit.h');
}

/** The address to look a frame's line up at: a return address points after
 *  the call, whose line is the one before it. */
function lookup(frame: RawFrame): number {
  return frame.caller ? frame.offset - 1 : frame.offset;
}

/** locateFrames -- source file and line of each frame (one addr2line per module). */
export async function locateFrames(frames: readonly RawFrame[]): Promise<StackFrame[]> {
  const byModule = new Map<string, number[]>();
  frames.forEach((frame) => {
    if (!path.isAbsolute(frame.module)) return;
    const list = byModule.get(frame.module) ?? [];
    list.push(lookup(frame));
    byModule.set(frame.module, list);
  });
  const lines = new Map<string, Map<number, { file: string; line: number }>>();
  for (const [module, offsets] of byModule) lines.set(module, await sourceLines(module, offsets));
  return frames.map((frame) => {
    const out: StackFrame = { address: formatPtr(frame.address), module: frame.module };
    if (frame.symbol) out.symbol = `${frame.symbol}+0x${(frame.symbolOffset ?? 0).toString(16)}`;
    const source = lines.get(frame.module)?.get(lookup(frame));
    if (source) Object.assign(out, { file: path.normalize(source.file), line: source.line });
    return out;
  });
}

/** ownFrame -- the frame shown as a site's location: the first in the
 *  program's own code past the outermost helper (libpmem's pmem_flush calls
 *  a writeback function of its own, which is not the line to change
 *  either). */
export function ownFrame(stack: readonly StackFrame[]): StackFrame | undefined {
  const own = (frame: StackFrame) =>
    frame.file !== undefined && !isSystem(frame.file) && !isSystemModule(frame.module) && !isHelper(frame);
  const helpers = stack.map(isHelper).lastIndexOf(true);
  return (
    stack.slice(helpers + 1).find(own) ?? stack.find(own) ?? stack.find((frame) => frame.file !== undefined) ?? stack[0]
  );
}

/** actingFrame -- the frame whose code made the access: past the memory
 *  functions of libc and the helpers, which act for their caller. The
 *  durability lint leaves the protocol of a library that acts on its own
 *  (libpmemobj) to the recovery checks. */
export function actingFrame(stack: readonly StackFrame[]): StackFrame | undefined {
  return stack.find((frame) => !isHelper(frame) && !/^libc\.so/.test(path.basename(frame.module ?? ''))) ?? stack[0];
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
  if (stack && stack.length > 0) {
    site.stack = stack;
    if (own?.file !== undefined) site.frame = stack.indexOf(own);
  }
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
