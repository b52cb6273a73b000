// mutants -- the detection benchmark's mutation generator (bench/mutants/)
// on a small hand-written program, and one real mutant through the pipeline.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Builder, readSources } from '../../bench/mutants/build';
import { resolveConditionals } from '../../bench/mutants/c-source';
import { generateMutants, Mutant, SourceFile } from '../../bench/mutants/operators';
import { applyPatch, parsePatch } from '../../bench/mutants/patches';
import { scenario, SMALL_WORDS } from '../../bench/mutants/scenarios';
import { runTarget } from '../../harness/pipeline/run-target';
import { resolveOptions } from '../../harness/persistency/model';
import { treeSpec } from '../../targets/tree/spec';

const PROGRAM = `#include "libpmem.h"

struct rec { long a, b, c; };

static void set_a(struct rec *r, long v)
{
	r->a = v;
	pmem_persist(&r->a, sizeof(r->a));
}

void update(struct rec *r, long v)
{
	long w = v + 1;
	set_a(r, v);
	/* the second step: flush and drain */
	r->b = w;
	pmem_flush(&r->b, sizeof(r->b));
	pmem_drain();
	if (v == 0)
		return;
	r->c = w;
	pmem_persist(&r->c, sizeof(r->c));
#ifdef SNIPPET_UNUSED
	pmem_persist(r, sizeof(*r));
#endif
}
`;

const LIBRARY = `void pmem_drain(void)
{
	__asm__ __volatile__("sfence" ::: "memory");
}

void pmem_persist(const void *addr, unsigned long len)
{
	pmem_flush(addr, len);
	pmem_drain();
}
`;

const FILES: SourceFile[] = [
  { name: 'lib.c', text: LIBRARY, role: 'library' },
  { name: 'prog.c', text: PROGRAM, role: 'program' },
];

/** The lines of M's text that differ from its file (conditionals resolved), as 'LINE: new text'. */
function changed(m: Mutant): string[] {
  const original = resolveConditionals(FILES.find((f) => f.name === m.file)?.text ?? '').text.split('\n');
  const lines = m.text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(original.length, lines.length); i++) {
    if (original[i] !== lines[i]) out.push(`${i + 1}: ${(lines[i] ?? '').trim()}`);
  }
  return out;
}

describe('mutation operators on a hand-written snippet', () => {
  const mutants = generateMutants(FILES);
  const byName = (name: string) => {
    const m = mutants.find((x) => x.name === name);
    if (!m) throw new Error(`no mutant ${name} (have ${mutants.map((x) => x.name).join(', ')})`);
    return m;
  };

  test('one mutant per persist site, step pair and fence, with stable names', () => {
    expect(mutants.map((m) => [m.name, m.operator, m.mode, m.line])).toEqual([
      ['lib.c:pmem_drain:remove-fence', 'remove-fence', 'clwb', 3],
      ['prog.c:set_a:remove-persist', 'remove-persist', 'clflush', 8],
      ['prog.c:update:remove-persist#1', 'remove-persist', 'clflush', 17],
      ['prog.c:update:remove-persist#2', 'remove-persist', 'clflush', 22],
      ['prog.c:update:swap-steps', 'swap-steps', 'clflush', 14],
      ['prog.c:set_a:remove-fence', 'remove-fence', 'clwb', 8],
      ['prog.c:update:remove-fence#1', 'remove-fence', 'clwb', 18],
      ['prog.c:update:remove-fence#2', 'remove-fence', 'clwb', 22],
    ]);
  });

  test('persist removal: the call becomes a no-op statement, line numbers kept', () => {
    expect(changed(byName('prog.c:set_a:remove-persist'))).toEqual(['8: ((void)0);']);
    // a flush goes together with the drain that completes it
    expect(changed(byName('prog.c:update:remove-persist#1'))).toEqual(['17: ((void)0);', '18: ((void)0);']);
  });

  test('swap: the second step moves before the first, declarations stay first', () => {
    const m = byName('prog.c:update:swap-steps');
    const body = m.text.slice(m.text.indexOf('void update'));
    const order = ['long w = v + 1;', 'r->b = w;', 'pmem_flush(&r->b', 'pmem_drain();', 'set_a(r, v);', 'if (v == 0)'];
    const at = order.map((s) => body.indexOf(s));
    expect(at.every((x) => x >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // the comment travels with its step; the step after the early return is not swapped
    expect(body.indexOf('/* the second step')).toBeLessThan(body.indexOf('r->b = w;'));
    expect(mutants.filter((x) => x.operator === 'swap-steps')).toHaveLength(1);
  });

  test('fence removal: the library fence, a persist without its drain, an explicit drain', () => {
    expect(changed(byName('lib.c:pmem_drain:remove-fence'))).toEqual(['3: ((void)0);']);
    expect(changed(byName('prog.c:set_a:remove-fence'))).toEqual(['8: pmem_flush(&r->a, sizeof(r->a));']);
    expect(changed(byName('prog.c:update:remove-fence#1'))).toEqual(['18: ((void)0);']);
  });

  test('code for macros the build does not define is not mutated', () => {
    expect(mutants.some((m) => m.line >= 24 && m.line <= 26)).toBe(false);
    for (const m of mutants) expect(m.text).not.toContain('SNIPPET_UNUSED');
  });

  test('patches: search/replace pairs that must match exactly once', () => {
    const patch = parsePatch(
      't.patch',
      '# bug: b\n# file: prog.c\n@@@ search\n\tr->c = w;\n@@@ replace\n\tr->c = v;\n@@@ end\n',
    );
    const applied = applyPatch(patch, FILES[1]);
    expect('text' in applied && applied.text.includes('\tr->c = v;\n')).toBe(true);
    const twice = parsePatch('u.patch', '# file: prog.c\n@@@ search\n\tr->a = v;\n@@@ replace\n@@@ end\n');
    expect(applyPatch(twice, { ...FILES[1], text: `${PROGRAM}\tr->a = v;\n` })).toEqual({
      reason: expect.stringContaining('more than once'),
    });
  });
});

describe('a real mutant through the pipeline', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-mutants-test-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('tree with its node persist removed (alloc.c transition) is killed under px86; the unmutated tree is not', async () => {
    const sources = readSources();
    const mutant = generateMutants(sources).find((m) => m.name === 'alloc.c:transition:remove-persist');
    expect(mutant?.description).toMatch(/pmem_persist\(alloc_at\(pool, ptr\), size - ALLOC_CHUNK\)/);
    const builder = new Builder(dir, sources);
    const real = await builder.build(path.join(dir, 'real'), ['tree']);
    const mutated = await builder.build(path.join(dir, 'mutant'), ['tree'], {
      file: 'alloc.c',
      text: (mutant as Mutant).text,
    });
    expect([real.error, mutated.error]).toEqual([undefined, undefined]);

    const px86 = async (program: string) => {
      const spec = treeSpec(SMALL_WORDS, { path: program, env: { PMEM_MODE: 'clflush' } });
      const outcome = await runTarget({
        spec,
        models: ['px86'],
        modelOptions: resolveOptions(),
        jobs: 2,
        timeoutMs: 10_000,
      });
      return outcome.runs[0].violations;
    };
    expect(await px86(real.programs.tree as string)).toBe(0);
    expect(await px86(mutated.programs.tree as string)).toBeGreaterThan(0);
  });

  test('pool creation is an operation: alloc init without its header persist loses the pool under flushed and px86', async () => {
    const sources = readSources();
    const mutant = generateMutants(sources).find((m) => m.name === 'alloc.c:alloc_create:remove-persist');
    expect(mutant?.description).toMatch(/pmem_persist\(hdr, sizeof\(\*hdr\)\)/);
    const builder = new Builder(dir, sources);
    const real = await builder.build(path.join(dir, 'real-alloc'), ['alloc']);
    const mutated = await builder.build(path.join(dir, 'mutant-alloc'), ['alloc'], {
      file: 'alloc.c',
      text: (mutant as Mutant).text,
    });
    expect([real.error, mutated.error]).toEqual([undefined, undefined]);

    const violations = async (program: string) => {
      const spec = scenario('alloc-create').spec(program, 'clflush');
      const outcome = await runTarget({
        spec,
        models: ['sequential', 'flushed', 'px86'],
        modelOptions: resolveOptions(),
        jobs: 2,
        timeoutMs: 10_000,
      });
      expect(outcome.target.instructions).toBeGreaterThan(0);
      return Object.fromEntries(outcome.runs.map((run) => [run.model, run.violations > 0]));
    };
    // sequential: every store is durable at once, so the missing persist cannot show
    expect(await violations(real.programs.alloc as string)).toEqual({ sequential: false, flushed: false, px86: false });
    expect(await violations(mutated.programs.alloc as string)).toEqual({
      sequential: false,
      flushed: true,
      px86: true,
    });
  });
});
