// c-source -- just enough C to find where a program persists: tokens,
// function bodies, and the statement lists of every block, with the source
// offsets a textual rewrite needs.
//
// This is not a C parser. It knows statements (blocks, if/else, loops,
// switch, labels, jumps, declarations, expression statements) well enough
// for the plain C of the pmfit targets, and nothing about types. What the
// mutation operators need from it:
//
//   - the calls in each statement (to find persist, flush, drain and fence
//     call sites, and calls of functions that persist);
//   - whether a statement can leave its block (return, goto, or a break /
//     continue that is not caught by a loop or switch inside it);
//   - whether it is a declaration (declarations stay in place when steps are
//     swapped, see operators.ts).
//
// Conditional compilation: `#ifdef NAME` / `#ifndef NAME` blocks whose NAME
// is a project macro that nothing defines (no #define of it, no leading
// underscore) are resolved the way the bench builds them (NAME undefined),
// by blanking the directives and the inactive text (lines left blank become
// empty). Line numbers do not change, and the compiled code is the same
// (bugs.ts checks that). Other directives are kept and act as barriers: no statement
// list continues across them.

export type TokenKind = 'id' | 'num' | 'str' | 'chr' | 'punct' | 'pp';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offsets into the source: [start, end). */
  start: number;
  end: number;
}

const PUNCTUATORS = [
  '<<=',
  '>>=',
  '...',
  '->',
  '++',
  '--',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '&&',
  '||',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '##',
];

/** tokenize -- the tokens of SRC; comments and whitespace are skipped, a
 *  preprocessor directive (with its continuation lines) is one 'pp' token. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let lineStart = true; // only whitespace since the last newline
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      lineStart = true;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '#' && lineStart) {
      while (i < n && src[i] !== '\n') {
        if (src[i] === '\\' && src[i + 1] === '\n') i += 2;
        else if (src[i] === '/' && src[i + 1] === '*') {
          const close = src.indexOf('*/', i + 2);
          i = close < 0 ? n : close + 2;
        } else i++;
      }
      tokens.push({ kind: 'pp', text: src.slice(start, i), start, end: i });
      continue;
    }
    lineStart = false;
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_]/.test(src[i])) i++;
      tokens.push({ kind: 'id', text: src.slice(start, i), start, end: i });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      while (i < n && /[A-Za-z0-9_.]/.test(src[i])) {
        if (
          (src[i] === 'e' || src[i] === 'E' || src[i] === 'p' || src[i] === 'P') &&
          (src[i + 1] === '+' || src[i + 1] === '-')
        )
          i++;
        i++;
      }
      tokens.push({ kind: 'num', text: src.slice(start, i), start, end: i });
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i = Math.min(n, i + 1);
      tokens.push({ kind: c === '"' ? 'str' : 'chr', text: src.slice(start, i), start, end: i });
      continue;
    }
    const punct = PUNCTUATORS.find((p) => src.startsWith(p, i)) ?? c;
    i += punct.length;
    tokens.push({ kind: 'punct', text: punct, start, end: i });
  }
  return tokens;
}

function directive(pp: Token): { name: string; arg: string } {
  const m = /^#\s*([A-Za-z_]+)\s*([A-Za-z_0-9]*)/.exec(pp.text);
  return { name: m?.[1] ?? '', arg: m?.[2] ?? '' };
}

/** blank -- SRC with [start, end) replaced by spaces (newlines kept). */
function blank(chars: string[], start: number, end: number): void {
  for (let k = start; k < end; k++) if (chars[k] !== '\n') chars[k] = ' ';
}

/**
 * resolveConditionals -- SRC with the #ifdef/#ifndef blocks of undefined
 * project macros resolved (see the top of this file). KNOWN: macros defined
 * somewhere (headers included); they are left alone. Returns the text and the
 * names resolved.
 */
export function resolveConditionals(
  src: string,
  known: ReadonlySet<string> = new Set(),
): { text: string; resolved: string[] } {
  const tokens = tokenize(src);
  const defined = new Set(known);
  for (const t of tokens) {
    if (t.kind !== 'pp') continue;
    const d = directive(t);
    if (d.name === 'define' || d.name === 'undef') defined.add(d.arg);
  }
  const chars = [...src];
  const resolved = new Set<string>();
  // Each open conditional: resolvable (we decide) or kept; for resolvable
  // ones, whether the current branch is active and where it started.
  interface Frame {
    resolvable: boolean;
    active: boolean;
    from: number;
  }
  const stack: Frame[] = [];
  for (const t of tokens) {
    if (t.kind !== 'pp') continue;
    const d = directive(t);
    if (d.name === 'ifdef' || d.name === 'ifndef') {
      const resolvable = d.arg !== '' && !d.arg.startsWith('_') && !defined.has(d.arg);
      if (resolvable) {
        resolved.add(d.arg);
        blank(chars, t.start, t.end);
      }
      stack.push({ resolvable, active: d.name === 'ifndef', from: t.end });
    } else if (d.name === 'if') {
      stack.push({ resolvable: false, active: true, from: t.end });
    } else if (d.name === 'else' || d.name === 'elif') {
      const top = stack[stack.length - 1];
      if (top?.resolvable) {
        if (d.name === 'elif') throw new Error(`cannot resolve #elif after #ifdef: ${t.text}`);
        if (!top.active) blank(chars, top.from, t.start);
        blank(chars, t.start, t.end);
        top.active = !top.active;
        top.from = t.end;
      }
    } else if (d.name === 'endif') {
      const top = stack.pop();
      if (top?.resolvable) {
        if (!top.active) blank(chars, top.from, t.start);
        blank(chars, t.start, t.end);
      }
    }
  }
  // lines left with nothing but the blanks become empty lines
  const text = resolved.size > 0 ? chars.join('').replace(/^[ \t]+$/gm, '') : src;
  return { text, resolved: [...resolved] };
}

// ---- statements ----

export type StmtKind = 'block' | 'if' | 'loop' | 'do' | 'switch' | 'label' | 'jump' | 'decl' | 'expr' | 'pp' | 'empty';

export interface Stmt {
  kind: StmtKind;
  /** Token indices: [first, last]. */
  first: number;
  last: number;
  /** Names called anywhere inside (including nested statements). */
  calls: string[];
  /** Can control leave the enclosing block from inside this statement
   *  (return, goto, or an uncaught break/continue)? */
  escapes: boolean;
  /** For an if statement: the names called in its condition. */
  condCalls?: string[];
}

export interface Block {
  /** The function the block belongs to. */
  fn: string;
  /** Token index of the '{'. */
  open: number;
  stmts: Stmt[];
}

export interface FunctionDef {
  name: string;
  /** Token indices of the body's braces. */
  open: number;
  close: number;
  /** Every name called in the body. */
  calls: Set<string>;
}

export interface ParsedSource {
  text: string;
  tokens: Token[];
  functions: FunctionDef[];
  /** Every block of every function body, outermost first. */
  blocks: Block[];
  /** Every statement, nested ones included (each after the statements
   *  inside it), with the function it is in. */
  statements: Array<Stmt & { fn: string }>;
}

const KEYWORDS = new Set([
  'if',
  'else',
  'for',
  'while',
  'do',
  'switch',
  'case',
  'default',
  'return',
  'goto',
  'break',
  'continue',
  'sizeof',
  '_Alignof',
  'alignof',
  '__typeof__',
  'typeof',
  '__attribute__',
  '__asm__',
  'asm',
  '__volatile__',
  'volatile',
  'offsetof',
]);

const TYPE_WORDS = new Set([
  'void',
  'char',
  'short',
  'int',
  'long',
  'float',
  'double',
  'signed',
  'unsigned',
  '_Bool',
  'bool',
  'struct',
  'union',
  'enum',
  'const',
  'static',
  'register',
  'extern',
  'auto',
  'volatile',
  'inline',
  '__typeof__',
  'typeof',
  'typedef',
]);

interface Flags {
  calls: string[];
  ret: boolean;
  brk: boolean;
  cont: boolean;
}

class Parser {
  readonly blocks: Block[] = [];
  readonly statements: Array<Stmt & { fn: string }> = [];
  private fn = '';
  constructor(private readonly t: Token[]) {}

  /** match -- index of the bracket closing the one at I. */
  match(i: number): number {
    const open = this.t[i].text;
    const close = open === '(' ? ')' : open === '[' ? ']' : '}';
    let depth = 0;
    for (let k = i; k < this.t.length; k++) {
      const x = this.t[k];
      if (x.kind !== 'punct') continue;
      if (x.text === open) depth++;
      else if (x.text === close && --depth === 0) return k;
    }
    throw new Error(`unbalanced '${open}' at offset ${this.t[i].start}`);
  }

  /** callsIn -- names called in tokens [a, b]. */
  callsIn(a: number, b: number): string[] {
    const out: string[] = [];
    for (let k = a; k < b; k++) {
      const x = this.t[k];
      if (x.kind === 'id' && !KEYWORDS.has(x.text) && this.t[k + 1]?.text === '(' && this.t[k + 1].kind === 'punct')
        out.push(x.text);
    }
    return out;
  }

  function(name: string, open: number): number {
    this.fn = name;
    const close = this.match(open);
    this.block(open, close);
    return close;
  }

  /** block -- the statements between the braces at OPEN and CLOSE. */
  block(open: number, close: number): Flags {
    const block: Block = { fn: this.fn, open, stmts: [] };
    this.blocks.push(block);
    const flags: Flags = { calls: [], ret: false, brk: false, cont: false };
    let i = open + 1;
    while (i < close) {
      const { stmt, next, flags: f } = this.statement(i);
      block.stmts.push(stmt);
      merge(flags, f);
      i = next;
    }
    return flags;
  }

  statement(i: number): { stmt: Stmt; next: number; flags: Flags } {
    const t = this.t;
    const x = t[i];
    const make = (kind: StmtKind, last: number, flags: Flags, condCalls?: string[]) => {
      const stmt: Stmt = {
        kind,
        first: i,
        last,
        calls: flags.calls,
        escapes: flags.ret || flags.brk || flags.cont,
        ...(condCalls ? { condCalls } : {}),
      };
      this.statements.push({ ...stmt, fn: this.fn });
      return { stmt, next: last + 1, flags };
    };
    const none = (): Flags => ({ calls: [], ret: false, brk: false, cont: false });

    if (x.kind === 'pp') return make('pp', i, none());
    if (x.kind === 'punct' && x.text === ';') return make('empty', i, none());
    if (x.kind === 'punct' && x.text === '{') {
      const close = this.match(i);
      return make('block', close, this.block(i, close));
    }
    if (x.kind === 'id') {
      switch (x.text) {
        case 'if': {
          const cond = this.match(i + 1);
          const condCalls = this.callsIn(i + 2, cond);
          const flags: Flags = { ...none(), calls: [...condCalls] };
          let s = this.statement(cond + 1);
          merge(flags, s.flags);
          let last = s.stmt.last;
          if (t[s.next]?.text === 'else') {
            s = this.statement(s.next + 1);
            merge(flags, s.flags);
            last = s.stmt.last;
          }
          return make('if', last, flags, condCalls);
        }
        case 'for':
        case 'while':
        case 'switch': {
          const head = this.match(i + 1);
          const flags: Flags = { ...none(), calls: this.callsIn(i + 2, head) };
          const s = this.statement(head + 1);
          merge(flags, s.flags);
          flags.brk = false; // caught here
          if (x.text !== 'switch') flags.cont = false;
          return make(x.text === 'switch' ? 'switch' : 'loop', s.stmt.last, flags);
        }
        case 'do': {
          const s = this.statement(i + 1);
          const head = this.match(s.next + 1); // while ( ... )
          const flags: Flags = {
            ...s.flags,
            calls: [...s.flags.calls, ...this.callsIn(s.next + 2, head)],
            brk: false,
            cont: false,
          };
          return make('do', head + 1, flags);
        }
        case 'case':
        case 'default': {
          let k = i + 1;
          let depth = 0;
          while (k < t.length && !(depth === 0 && t[k].text === ':')) {
            if (t[k].text === '(' || t[k].text === '?') depth++;
            else if (t[k].text === ')' || (t[k].text === ':' && depth > 0)) depth--;
            k++;
          }
          return make('label', k, none());
        }
        default:
          if (t[i + 1]?.text === ':' && !KEYWORDS.has(x.text)) return make('label', i + 1, none());
      }
    }
    // expression, declaration or jump: up to ';' outside brackets
    let k = i;
    while (k < t.length && t[k].text !== ';') {
      if (t[k].kind === 'punct' && (t[k].text === '(' || t[k].text === '[' || t[k].text === '{')) k = this.match(k);
      k++;
    }
    const flags: Flags = { ...none(), calls: this.callsIn(i, k) };
    if (x.kind === 'id' && (x.text === 'return' || x.text === 'goto')) {
      flags.ret = true;
      return make('jump', k, flags);
    }
    if (x.kind === 'id' && (x.text === 'break' || x.text === 'continue')) {
      if (x.text === 'break') flags.brk = true;
      else flags.cont = true;
      return make('jump', k, flags);
    }
    return make(this.isDeclaration(i, k) ? 'decl' : 'expr', k, flags);
  }

  /** isDeclaration -- does the statement [I, END) declare something?
   *  A type word or a name ending in _t first, or NAME [*...] NAME followed
   *  by '=', ';', ',' or '[' (a typedef'd type such as FILE *in = ...). */
  isDeclaration(i: number, end: number): boolean {
    const t = this.t;
    const a = t[i];
    if (a.kind !== 'id' || KEYWORDS.has(a.text)) return false;
    if (TYPE_WORDS.has(a.text) || /_t$/.test(a.text)) return true;
    let k = i + 1;
    while (k < end && t[k].text === '*') k++;
    return k < end && t[k].kind === 'id' && ['=', ';', ',', '['].includes(t[k + 1]?.text ?? ';');
  }
}

function merge(into: Flags, from: Flags): void {
  into.calls.push(...from.calls);
  into.ret ||= from.ret;
  into.brk ||= from.brk;
  into.cont ||= from.cont;
}

/** parseSource -- the functions and blocks of a C file (already resolved). */
export function parseSource(text: string): ParsedSource {
  const tokens = tokenize(text);
  const parser = new Parser(tokens);
  const functions: FunctionDef[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const x = tokens[i];
    if (x.kind !== 'punct') continue;
    if (x.text === '{' && depth === 0 && tokens[i - 1]?.text === ')') {
      // the name: the identifier before the '(' matching that ')'
      let k = i - 1;
      let level = 0;
      for (; k >= 0; k--) {
        if (tokens[k].text === ')') level++;
        else if (tokens[k].text === '(' && --level === 0) break;
      }
      const name = tokens[k - 1]?.kind === 'id' ? tokens[k - 1].text : '?';
      const close = parser.function(name, i);
      functions.push({ name, open: i, close, calls: new Set(parser.callsIn(i, close)) });
      i = close;
      continue;
    }
    if (x.text === '{' || x.text === '(' || x.text === '[') depth++;
    else if (x.text === '}' || x.text === ')' || x.text === ']') depth--;
  }
  return { text, tokens, functions, blocks: parser.blocks, statements: parser.statements };
}

/** lineOf -- 1-based line number of OFFSET in TEXT. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}
