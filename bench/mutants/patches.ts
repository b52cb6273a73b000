// patches -- the hand-written classic bugs of bench/mutants/patches/*.patch,
// applied to the real sources the same way as the systematic mutants.
//
// A patch file is a header of `# key: value` lines (`bug`, `file`, optional
// `scenarios` and `mode`, and `why`, which may go on over indented `#`
// lines), then one or more search/replace pairs:
//
//   @@@ search
//   exact lines of the source
//   @@@ replace
//   the lines that replace them
//   @@@ end
//
// Each search text must occur exactly once in the file; a patch that does
// not apply any more (the source changed) is reported, not guessed at.

import * as fs from 'fs';
import * as path from 'path';
import { lineOf, resolveConditionals } from './c-source';
import type { Mutant, PmemMode, SourceFile } from './operators';

export interface PatchMutant extends Mutant {
  operator: 'patch';
  /** Scenario names from the header, when the patch needs its own. */
  scenarios?: string[];
  /** The bug, in the words of the header. */
  why: string;
}

export interface PatchFailure {
  name: string;
  reason: string;
}

interface Pair {
  search: string;
  replace: string;
}

export interface ParsedPatch {
  name: string;
  header: Record<string, string>;
  pairs: Pair[];
}

/** parsePatch -- header and search/replace pairs of one patch file. */
export function parsePatch(name: string, content: string): ParsedPatch {
  const header: Record<string, string> = {};
  const pairs: Pair[] = [];
  const lines = content.split('\n');
  let key = '';
  let i = 0;
  for (; i < lines.length && !lines[i].startsWith('@@@'); i++) {
    const line = lines[i];
    const m = /^#\s*([a-z]+):\s*(.*)$/.exec(line);
    if (m) {
      key = m[1];
      header[key] = m[2].trim();
    } else if (/^#\s+\S/.test(line) && key) {
      header[key] += ` ${line.replace(/^#\s+/, '').trim()}`;
    }
  }
  let mode: 'search' | 'replace' | '' = '';
  let search: string[] = [];
  let replace: string[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line === '@@@ search') {
      mode = 'search';
      search = [];
      replace = [];
    } else if (line === '@@@ replace') {
      mode = 'replace';
    } else if (line === '@@@ end') {
      pairs.push({ search: `${search.join('\n')}\n`, replace: `${replace.join('\n')}\n` });
      mode = '';
    } else if (mode === 'search') search.push(line);
    else if (mode === 'replace') replace.push(line);
  }
  if (mode !== '') throw new Error(`${name}: '@@@ ${mode}' without '@@@ end'`);
  if (!header.file) throw new Error(`${name}: no '# file:' header`);
  if (pairs.length === 0) throw new Error(`${name}: no search/replace pair`);
  return { name, header, pairs };
}

/** applyPatch -- the patched text of FILE, or the reason it does not apply. */
export function applyPatch(
  patch: ParsedPatch,
  file: SourceFile,
): { text: string; offset: number } | { reason: string } {
  let text = resolveConditionals(file.text).text;
  let offset = -1;
  for (const { search } of patch.pairs) {
    const at = text.indexOf(search);
    if (at < 0) return { reason: `search text not found in ${file.name}: ${JSON.stringify(search.split('\n')[0])}` };
    if (text.indexOf(search, at + 1) >= 0) return { reason: `search text occurs more than once in ${file.name}` };
  }
  for (const { search, replace } of patch.pairs) {
    const at = text.indexOf(search);
    if (offset < 0) offset = at;
    text = text.slice(0, at) + replace + text.slice(at + search.length);
  }
  return { text, offset };
}

/** loadPatches -- every *.patch of DIR as a mutant of FILES. */
export function loadPatches(dir: string, files: SourceFile[]): { mutants: PatchMutant[]; failures: PatchFailure[] } {
  const mutants: PatchMutant[] = [];
  const failures: PatchFailure[] = [];
  const names = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.patch'))
        .sort()
    : [];
  for (const entry of names) {
    const name = `patch:${entry.replace(/\.patch$/, '')}`;
    let patch: ParsedPatch;
    try {
      patch = parsePatch(entry, fs.readFileSync(path.join(dir, entry), 'utf8'));
    } catch (err) {
      failures.push({ name, reason: (err as Error).message });
      continue;
    }
    const file = files.find((f) => f.name === patch.header.file);
    if (!file) {
      failures.push({ name, reason: `no source file ${patch.header.file}` });
      continue;
    }
    const applied = applyPatch(patch, file);
    if ('reason' in applied) {
      failures.push({ name, reason: applied.reason });
      continue;
    }
    const mode = (patch.header.mode ?? 'clflush') as PmemMode;
    mutants.push({
      name,
      operator: 'patch',
      file: file.name,
      fn: '',
      line: lineOf(applied.text, applied.offset),
      description: patch.header.bug ?? entry,
      why: patch.header.why ?? '',
      mode,
      text: applied.text,
      ...(patch.header.scenarios ? { scenarios: patch.header.scenarios.split(/[\s,]+/).filter(Boolean) } : {}),
    });
  }
  return { mutants, failures };
}
