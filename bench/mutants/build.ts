// build -- compile the targets and their mutants with gcc directly, with the
// flags of targets/targets.gypi (-g -O2 -std=gnu11, -Wl,-z,now; the include
// directories targets/include, targets/libpmem, targets/alloc), into a
// build directory outside the source tree.
//
// Every source is compiled once to an object; a mutant recompiles only its
// changed file and links it with the other objects. Identical machine code
// (.text, .rodata and .data of the linked program) is how mutants that
// change nothing are recognised (trivial compiler equivalence).

import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../harness/_internals/paths';
import type { SourceFile } from './operators';
import type { ProgramName } from './scenarios';

const T = (p: string) => path.join(projectRoot, 'targets', p);

/** The sources, by the short names mutants use. */
export const SOURCE_PATHS: Record<string, string> = {
  'libpmem.c': T('libpmem/libpmem.c'),
  'alloc.c': T('alloc/alloc.c'),
  'main.c': T('alloc/main.c'),
  'tree.c': T('tree/tree.c'),
};

/** What each program links, in link order. */
export const PROGRAMS: Record<ProgramName, string[]> = {
  alloc: ['main.c', 'alloc.c', 'libpmem.c'],
  tree: ['tree.c', 'alloc.c', 'libpmem.c'],
};

export const CFLAGS = [
  '-std=gnu11',
  '-g',
  '-O2',
  '-Wall',
  '-Wextra',
  `-I${T('include')}`,
  `-I${T('libpmem')}`,
  `-I${T('alloc')}`,
];
export const LDFLAGS = ['-Wl,-z,now'];

/** readSources -- the real sources (libpmem.c is the library). */
export function readSources(): SourceFile[] {
  return Object.entries(SOURCE_PATHS).map(([name, file]) => ({
    name,
    text: fs.readFileSync(file, 'utf8'),
    role: name === 'libpmem.c' ? 'library' : 'program',
  }));
}

/** programsOf -- the programs that link FILE. */
export function programsOf(file: string): ProgramName[] {
  return (Object.keys(PROGRAMS) as ProgramName[]).filter((p) => PROGRAMS[p].includes(file));
}

function run(cmd: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: `${stdout}${stderr}`.trim() });
    });
  });
}

export interface CompileResult {
  ok: boolean;
  /** gcc's complaint when !ok. */
  error?: string;
  /** Program paths by name. */
  programs: Partial<Record<ProgramName, string>>;
}

/**
 * Builder -- objects of one set of base sources in DIR, and programs made of
 * them with at most one file replaced.
 */
export class Builder {
  private readonly objects = new Map<string, string>();

  constructor(
    readonly dir: string,
    private readonly base: SourceFile[],
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  private async compile(
    file: string,
    text: string,
    outDir: string,
  ): Promise<{ ok: boolean; object: string; output: string }> {
    fs.mkdirSync(outDir, { recursive: true });
    const source = path.join(outDir, file);
    fs.writeFileSync(source, text);
    const object = `${source.replace(/\.c$/, '')}.o`;
    const r = await run('gcc', [...CFLAGS, '-c', source, '-o', object]);
    return { ok: r.ok, object, output: r.output };
  }

  /** prepare -- compile every base source (once). */
  async prepare(): Promise<void> {
    for (const f of this.base) {
      if (this.objects.has(f.name)) continue;
      const r = await this.compile(f.name, f.text, path.join(this.dir, 'base'));
      if (!r.ok) throw new Error(`${f.name} does not compile:\n${r.output}`);
      this.objects.set(f.name, r.object);
    }
  }

  /** build -- PROGRAMS, with FILE's text replaced by TEXT (or none replaced),
   *  into OUTDIR. */
  async build(
    outDir: string,
    programs: ProgramName[],
    change?: { file: string; text: string },
  ): Promise<CompileResult> {
    await this.prepare();
    fs.mkdirSync(outDir, { recursive: true });
    const objects = new Map(this.objects);
    if (change) {
      const r = await this.compile(change.file, change.text, outDir);
      if (!r.ok) return { ok: false, error: firstErrors(r.output), programs: {} };
      objects.set(change.file, r.object);
    }
    const out: CompileResult = { ok: true, programs: {} };
    for (const program of programs) {
      const exe = path.join(outDir, program);
      const r = await run('gcc', [
        ...CFLAGS,
        ...PROGRAMS[program].map((f) => objects.get(f) as string),
        ...LDFLAGS,
        '-o',
        exe,
      ]);
      if (!r.ok) return { ok: false, error: firstErrors(r.output), programs: {} };
      out.programs[program] = exe;
    }
    return out;
  }
}

function firstErrors(output: string): string {
  const errors = output.split('\n').filter((l) => /error/.test(l) && !/^collect2:/.test(l));
  return (errors.length > 0 ? errors : output.split('\n')).slice(0, 3).join('\n');
}

// ---- machine code ----

const CODE_SECTIONS = ['.text', '.rodata', '.data'];

/** codeOf -- the bytes of the sections that hold code and constants. */
export function codeOf(exe: string): Buffer {
  const buf = fs.readFileSync(exe);
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2) throw new Error(`${exe}: not a 64-bit ELF file`);
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: buf.readUInt32LE(at),
      type: buf.readUInt32LE(at + 4),
      offset: Number(buf.readBigUInt64LE(at + 0x18)),
      size: Number(buf.readBigUInt64LE(at + 0x20)),
    };
  };
  const strtab = header(shstrndx);
  const nameOf = (off: number) => {
    const start = strtab.offset + off;
    return buf.toString('latin1', start, buf.indexOf(0, start));
  };
  const parts: Buffer[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    if (CODE_SECTIONS.includes(nameOf(h.name)) && h.type !== 8 /* NOBITS */)
      parts.push(buf.subarray(h.offset, h.offset + h.size));
  }
  return Buffer.concat(parts);
}

/** sameCode -- do the programs have identical code and constants? */
export function sameCode(a: string, b: string): boolean {
  return codeOf(a).equals(codeOf(b));
}
