// operators -- the systematic mutants of a program's C sources, the way a
// mutation-testing tool makes them: one change per mutant, found by walking
// the statements (c-source.ts), never by switches in the sources.
//
//   remove-persist  (a) each persist call site removed: a pmem_persist(...)
//                   statement, or a pmem_flush(...) statement together with
//                   the pmem_drain() that completes it (the next persisting
//                   statement of the same block, when it is one)
//   swap-steps      (b) each pair of consecutive persist-separated update
//                   steps of a block swapped (see steps() below)
//   remove-fence    (c) each fence removed, for the clwb mode: in a program
//                   file every drain, i.e. each pmem_persist(...) call site
//                   turned into pmem_flush(...) (its implicit drain removed)
//                   and each explicit pmem_drain() statement removed; in the
//                   library (libpmem.c) each fence instruction (an asm
//                   statement with sfence or mfence, or an _mm_sfence /
//                   _mm_mfence call) removed
//
// Steps (b): in a block's statement list, a step ends with a statement that
// persists (calls pmem_persist, pmem_drain, or a function of the program
// that persists, transitively) and starts after the previous step. Labels,
// preprocessor directives, jumps (return, goto, break, continue), statements
// that can leave the block (except the error-check idiom
// `if (persisting_call(...)) jump;`, which persists in its condition), and
// calls of the pmfit region and recovery markers are barriers: no step spans one, and
// steps on both sides of one are not consecutive. A declaration that does not persist is not
// part of any step: swapping two steps moves their other statements and
// leaves the declarations of both in front, in their order, so that names
// stay declared before use.
//
// A removed statement becomes `((void)0);` followed by the newlines it
// spanned, so the lines after it keep their numbers.

import { lineOf, parseSource, ParsedSource, resolveConditionals, Stmt, Token } from './c-source';

export type SystematicOperator = 'remove-persist' | 'swap-steps' | 'remove-fence';
export type Operator = SystematicOperator | 'patch';

/** The flushing mode a mutant is checked in (PMEM_MODE). */
export type PmemMode = 'clflush' | 'clwb';

export interface SourceFile {
  /** Short name used in mutant names: alloc.c */
  name: string;
  text: string;
  /** program: operators (a), (b) and drains (c); library: fences (c). */
  role: 'program' | 'library';
}

export interface Mutant {
  /** Stable name: FILE:FUNCTION:OPERATOR[#N] (N counts within the function). */
  name: string;
  operator: Operator;
  /** The changed file (SourceFile.name). */
  file: string;
  fn: string;
  line: number;
  /** What changed, in words. */
  description: string;
  mode: PmemMode;
  /** The whole changed file. */
  text: string;
}

export interface OperatorOptions {
  persist: string[];
  flush: string[];
  drain: string[];
  /** Fence intrinsics (library fences are also found as asm statements). */
  fenceCalls: string[];
  /** Calls that mark traced regions: barriers for swaps. */
  markers: string[];
}

export const DEFAULT_OPERATOR_OPTIONS: OperatorOptions = {
  persist: ['pmem_persist'],
  flush: ['pmem_flush'],
  drain: ['pmem_drain'],
  fenceCalls: ['_mm_sfence', '_mm_mfence'],
  markers: ['pmfit_region_begin', 'pmfit_region_end', 'pmfit_recovery_begin', 'pmfit_recovery_end'],
};

interface Parsed {
  file: SourceFile;
  parsed: ParsedSource;
}

/** prepare -- the sources with project conditionals resolved and parsed. */
export function prepare(files: SourceFile[]): Parsed[] {
  return files.map((file) => {
    const { text } = resolveConditionals(file.text);
    return { file: { ...file, text }, parsed: parseSource(text) };
  });
}

/** persistingFunctions -- program functions that persist, transitively. */
export function persistingFunctions(all: Parsed[], options: OperatorOptions = DEFAULT_OPERATOR_OPTIONS): Set<string> {
  const persisting = new Set([...options.persist, ...options.drain]);
  const fns = all.filter((p) => p.file.role === 'program').flatMap((p) => p.parsed.functions);
  for (let changed = true; changed;) {
    changed = false;
    for (const fn of fns) {
      if (persisting.has(fn.name)) continue;
      if ([...fn.calls].some((c) => persisting.has(c))) {
        persisting.add(fn.name);
        changed = true;
      }
    }
  }
  return persisting;
}

/** isCallStatement -- is S exactly `NAME(...);` with NAME in NAMES? */
function isCallStatement(tokens: Token[], s: Stmt, names: string[]): boolean {
  if (s.kind !== 'expr') return false;
  const first = tokens[s.first];
  if (first.kind !== 'id' || !names.includes(first.text) || tokens[s.first + 1]?.text !== '(') return false;
  let depth = 0;
  for (let k = s.first + 1; k <= s.last; k++) {
    const t = tokens[k];
    if (t.text === '(') depth++;
    else if (t.text === ')' && --depth === 0) return k === s.last - 1;
  }
  return false;
}

function isFenceAsm(tokens: Token[], s: Stmt): boolean {
  if (s.kind !== 'expr') return false;
  const first = tokens[s.first].text;
  if (first !== '__asm__' && first !== 'asm' && first !== '__asm') return false;
  for (let k = s.first; k <= s.last; k++)
    if (tokens[k].kind === 'str' && /\b[sm]fence\b/.test(tokens[k].text)) return true;
  return false;
}

/** removed -- the replacement of TEXT (a removed statement). */
function removedText(text: string): string {
  return `((void)0);${'\n'.repeat((text.match(/\n/g) ?? []).length)}`;
}

function shorten(code: string, max = 60): string {
  const one = code.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 3)}...`;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function apply(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

interface Draft {
  operator: SystematicOperator;
  fileIndex: number;
  file: SourceFile;
  fn: string;
  offset: number;
  description: string;
  mode: PmemMode;
  edits: Edit[];
}

/** A step of a block (see the top of this file): statement indices. */
export interface Step {
  decls: number[];
  body: number[];
}

/** steps -- the steps of one statement list, and which of them follow each
 *  other directly (pairs [i, i+1] of step indices). */
export function steps(
  stmts: Stmt[],
  persisting: Set<string>,
  options: OperatorOptions = DEFAULT_OPERATOR_OPTIONS,
): { steps: Step[]; pairs: Array<[number, number]> } {
  const out: Step[] = [];
  const pairs: Array<[number, number]> = [];
  let decls: number[] = [];
  let body: number[] = [];
  let barrierSince = false; // a barrier since the last step ended
  stmts.forEach((s, i) => {
    const persists = s.calls.some((c) => persisting.has(c));
    const marker = s.calls.some((c) => options.markers.includes(c));
    const errorCheck = s.kind === 'if' && (s.condCalls ?? []).some((c) => persisting.has(c));
    if (s.kind === 'label' || s.kind === 'pp' || s.kind === 'jump' || marker || (s.escapes && !errorCheck)) {
      decls = [];
      body = [];
      barrierSince = true;
      return;
    }
    if (s.kind === 'decl' && !persists) {
      decls.push(i);
      return;
    }
    body.push(i);
    if (!persists) return;
    const step = { decls, body };
    if (!barrierSince && out.length > 0) pairs.push([out.length - 1, out.length]);
    out.push(step);
    barrierSince = false;
    decls = [];
    body = [];
  });
  return { steps: out, pairs };
}

/** generateMutants -- every systematic mutant of FILES. */
export function generateMutants(files: SourceFile[], options: OperatorOptions = DEFAULT_OPERATOR_OPTIONS): Mutant[] {
  const all = prepare(files);
  const persisting = persistingFunctions(all, options);
  const drafts: Draft[] = [];

  all.forEach(({ file, parsed }, fileIndex) => {
    const { tokens, text } = parsed;
    const range = (s: Stmt) => ({ start: tokens[s.first].start, end: tokens[s.last].end });
    const code = (s: Stmt) => text.slice(tokens[s.first].start, tokens[s.last].end);
    const remove = (s: Stmt): Edit => ({ ...range(s), text: removedText(code(s)) });

    if (file.role === 'library') {
      for (const s of parsed.statements) {
        if (isFenceAsm(tokens, s) || isCallStatement(tokens, s, options.fenceCalls)) {
          drafts.push({
            operator: 'remove-fence',
            fileIndex,
            file,
            fn: s.fn,
            offset: tokens[s.first].start,
            mode: 'clwb',
            description: `fence \`${shorten(code(s))}\` removed`,
            edits: [remove(s)],
          });
        }
      }
      return;
    }

    // (a) and (c): persist call sites, flush (+ drain) sites, explicit drains
    for (const block of parsed.blocks) {
      const stmts = block.stmts;
      stmts.forEach((s, i) => {
        if (isCallStatement(tokens, s, options.flush)) {
          const edits = [remove(s)];
          // the drain completing it: the next persisting statement, if a drain
          const next = stmts
            .slice(i + 1)
            .find((x) => x.calls.some((c) => persisting.has(c)) || isCallStatement(tokens, x, options.flush));
          let what = `\`${shorten(code(s))}\``;
          if (next && isCallStatement(tokens, next, options.drain)) {
            edits.push(remove(next));
            what += ` and its \`${shorten(code(next))}\``;
          }
          drafts.push({
            operator: 'remove-persist',
            fileIndex,
            file,
            fn: block.fn,
            offset: tokens[s.first].start,
            mode: 'clflush',
            description: `${what} removed`,
            edits,
          });
        }
        if (isCallStatement(tokens, s, options.drain)) {
          drafts.push({
            operator: 'remove-fence',
            fileIndex,
            file,
            fn: block.fn,
            offset: tokens[s.first].start,
            mode: 'clwb',
            description: `\`${shorten(code(s))}\` removed`,
            edits: [remove(s)],
          });
        }
      });
    }
    for (const s of parsed.statements) {
      if (!isCallStatement(tokens, s, options.persist)) continue;
      drafts.push({
        operator: 'remove-persist',
        fileIndex,
        file,
        fn: s.fn,
        offset: tokens[s.first].start,
        mode: 'clflush',
        description: `\`${shorten(code(s))}\` removed`,
        edits: [remove(s)],
      });
      const callee = tokens[s.first];
      drafts.push({
        operator: 'remove-fence',
        fileIndex,
        file,
        fn: s.fn,
        offset: callee.start,
        mode: 'clwb',
        description: `\`${shorten(code(s))}\` without its drain (${options.flush[0]} only)`,
        edits: [{ start: callee.start, end: callee.end, text: options.flush[0] }],
      });
    }

    // (b) swaps of consecutive steps
    for (const block of parsed.blocks) {
      const { steps: list, pairs } = steps(block.stmts, persisting, options);
      for (const [a, b] of pairs) {
        const A = list[a];
        const B = list[b];
        const stmts = block.stmts;
        const firstIdx = Math.min(A.decls[0] ?? Infinity, A.body[0]);
        const lastIdx = B.body[B.body.length - 1];
        const lead = (i: number) => tokens[stmts[i].first - 1].end; // end of the token before
        const chunk = (i: number) => text.slice(lead(i), tokens[stmts[i].last].end);
        const order = [...A.decls, ...B.decls, ...B.body, ...A.body];
        const replacement = order.map(chunk).join('');
        const summary = (st: Step) => shorten(st.body.map((i) => code(stmts[i])).join(' '), 50);
        drafts.push({
          operator: 'swap-steps',
          fileIndex,
          file,
          fn: block.fn,
          offset: tokens[stmts[A.body[0]].first].start,
          mode: 'clflush',
          description: `steps swapped: \`${summary(B)}\` now before \`${summary(A)}\``,
          edits: [{ start: lead(firstIdx), end: tokens[stmts[lastIdx].last].end, text: replacement }],
        });
      }
    }
  });

  // names: FILE:FN:OPERATOR, numbered within the function when there are several
  const rank: Record<SystematicOperator, number> = { 'remove-persist': 0, 'swap-steps': 1, 'remove-fence': 2 };
  drafts.sort((x, y) => x.fileIndex - y.fileIndex || rank[x.operator] - rank[y.operator] || x.offset - y.offset);
  const counts = new Map<string, number>();
  for (const d of drafts) {
    const key = `${d.file.name}:${d.fn}:${d.operator}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  return drafts.map((d) => {
    const key = `${d.file.name}:${d.fn}:${d.operator}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return {
      name: (counts.get(key) ?? 1) > 1 ? `${key}#${n}` : key,
      operator: d.operator,
      file: d.file.name,
      fn: d.fn,
      line: lineOf(d.file.text, d.offset),
      description: d.description,
      mode: d.mode,
      text: apply(d.file.text, d.edits),
    };
  });
}
