// compare -- do pmfit and the original method agree, crash point by crash
// point, on the points the original measured?
//
// sequential vs original MAP_SHARED: same binary, same mode, so the same
// instruction numbering; at each k the window, the image (hash) and the
// verdict must be equal.
//
// flushed vs original fit mode: fit mode runs other instructions (pwrite
// instead of clflush loops), so k does not name the same moment in both
// runs. A crash state is matched by what defines it instead: its operation
// window and its image. Every (window, image) the fit run reaches must be a
// state pmfit's flushed model produces on the clflush run, with the same
// verdict. pmfit may have states the fit run never reaches (a flush of
// several lines is one pwrite in fit mode, several clflushes here); those
// are counted, not disagreements.

import type { Verdict } from '../../harness/check/verdict';
import type { ModelImages } from './pmfit-side';
import type { OriginalResult, PointResult } from './original';

export interface Disagreement {
  k: number;
  what: string;
  pmfit: string;
  original: string;
}

export interface Comparison {
  compared: number;
  agreed: number;
  disagreements: Disagreement[];
  notes: string[];
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

export function describeOriginal(verdict: Verdict): string {
  switch (verdict.kind) {
    case 'ok':
      return 'ok';
    case 'invariant':
      return `invariant: ${verdict.failed.join('; ')}`;
    case 'recovery-crashed':
      return `recovery crashed (${verdict.signal}) ${firstLine(verdict.output)}`;
    case 'recovery-timeout':
      return `recovery timeout ${firstLine(verdict.output)}`;
    case 'recovery-failed':
      return `recovery failed (status ${verdict.exitCode}) ${firstLine(verdict.output)}`;
    case 'recovery-not-crash-safe':
      return `recovery not crash-safe (at ${verdict.at}) ${verdict.why}`;
  }
}

function sorted(points: Map<number, PointResult>): PointResult[] {
  return [...points.values()].sort((a, b) => a.k - b.k);
}

export function compareSequential(
  original: OriginalResult,
  images: ModelImages,
  verdicts: Map<number, string[]>,
  pmfitInstructions: number,
): Comparison {
  const result: Comparison = { compared: 0, agreed: 0, disagreements: [], notes: [] };
  if (original.instructions !== pmfitInstructions || images.instructions !== pmfitInstructions) {
    result.disagreements.push({
      k: -1,
      what: 'N (instructions in regions)',
      pmfit: `${pmfitInstructions} (verification recording ${images.instructions})`,
      original: `${original.instructions}`,
    });
  }
  for (const point of sorted(original.points)) {
    result.compared += 1;
    const problems: Disagreement[] = [];
    const window = images.windows[point.k];
    if (window !== point.window)
      problems.push({ k: point.k, what: 'window', pmfit: String(window), original: point.window });
    const hash = images.hashes[point.k];
    if (hash !== point.hash) problems.push({ k: point.k, what: 'image', pmfit: String(hash), original: point.hash });
    const kinds = verdicts.get(point.k) ?? [];
    if (kinds.length !== 1 || kinds[0] !== point.verdict.kind) {
      problems.push({
        k: point.k,
        what: 'verdict',
        pmfit: kinds.join('+') || '(none)',
        original: describeOriginal(point.verdict),
      });
    }
    if (problems.length === 0) result.agreed += 1;
    result.disagreements.push(...problems);
  }
  return result;
}

export function compareFlushed(
  original: OriginalResult,
  images: ModelImages,
  verdicts: Map<number, string[]>,
): Comparison {
  const result: Comparison = { compared: 0, agreed: 0, disagreements: [], notes: [] };
  interface State {
    first: number;
    count: number;
    kinds: Set<string>;
  }
  const states = new Map<string, State>();
  for (let k = 0; k < images.hashes.length; k++) {
    const key = `${images.windows[k]}|${images.hashes[k]}`;
    let state = states.get(key);
    if (!state) {
      state = { first: k, count: 0, kinds: new Set() };
      states.set(key, state);
    }
    state.count += 1;
    for (const kind of verdicts.get(k) ?? []) state.kinds.add(kind);
  }
  const reached = new Set<string>();
  for (const point of sorted(original.points)) {
    result.compared += 1;
    const key = `${point.window}|${point.hash}`;
    reached.add(key);
    const state = states.get(key);
    if (!state) {
      result.disagreements.push({
        k: point.k,
        what: 'state (window+image) not produced by pmfit flushed',
        pmfit: '(absent)',
        original: `${point.window} ${point.hash.slice(0, 12)} ${describeOriginal(point.verdict)}`,
      });
      continue;
    }
    const kinds = [...state.kinds];
    if (kinds.length !== 1 || kinds[0] !== point.verdict.kind) {
      result.disagreements.push({
        k: point.k,
        what: `verdict (pmfit k=${state.first}, same window+image)`,
        pmfit: kinds.join('+') || '(none)',
        original: describeOriginal(point.verdict),
      });
      continue;
    }
    result.agreed += 1;
  }
  const pmfitOnly = [...states.keys()].filter((key) => !reached.has(key));
  result.notes.push(
    `fit run: N = ${original.instructions}; pmfit flushed (clflush run): N = ${images.instructions}; ` +
      `distinct (window, image) states: pmfit ${states.size}, original ${reached.size}` +
      (original.full ? `, pmfit-only ${pmfitOnly.length}` : ' (original sampled: pmfit-only not meaningful)'),
  );
  if (original.full && pmfitOnly.length > 0) {
    const examples = pmfitOnly.slice(0, 5).map((key) => {
      const state = states.get(key)!;
      return `k=${state.first} (${key.split('|')[0]}, ${[...state.kinds].join('+')})`;
    });
    result.notes.push(`pmfit-only states (not reached by the fit run), e.g. ${examples.join(', ')}`);
  }
  return result;
}
