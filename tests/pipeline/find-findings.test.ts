// find-findings -- one bug, one finding: tree_broken links a new node before
// the node is durable (tree.c, TREE_BROKEN), and every word inserted shows
// it in its own violation group; the findings name the link's line once per
// model, whatever the number of words.

import * as fs from 'fs';
import * as path from 'path';
import { mergeCauses } from '../../harness/pipeline/find-findings';
import { runTarget } from '../../harness/pipeline/run-target';
import { resolveOptions } from '../../harness/persistency/model';
import { treeSpec } from '../../targets/tree/spec';

const TREE_C = path.join(__dirname, '..', '..', 'targets', 'tree', 'tree.c');

/** The line of the early link in tree.c's TREE_BROKEN branch. */
function linkLine(): number {
  const lines = fs.readFileSync(TREE_C, 'utf8').split('\n');
  const at = lines.findIndex((line) => line.includes('*(volatile uint64_t *)alloc_at(pool, parentp) = n;'));
  if (at < 0) throw new Error('tree.c has no early link');
  return at + 1;
}

describe('tree_broken, 40 words', () => {
  const words = Array.from({ length: 40 }, (_, i) => `word${i}`);
  let outcome: Awaited<ReturnType<typeof runTarget>>;

  beforeAll(async () => {
    const spec = treeSpec(words, { program: 'tree_broken' });
    outcome = await runTarget({
      spec,
      models: ['sequential', 'flushed', 'px86'],
      modelOptions: resolveOptions(),
      jobs: 2,
      timeoutMs: 60_000,
    });
  }, 300_000);

  it.each(['sequential', 'flushed', 'px86'])('%s: 40 violation groups, one finding, at the link', (model) => {
    const run = outcome.runs.find((candidate) => candidate.model === model)!;
    expect(run.groups.filter((group) => group.violation)).toHaveLength(40);
    expect(run.findingsUnexamined).toBeUndefined();
    expect(run.findings).toHaveLength(1);
    const [finding] = run.findings!;
    const culprit = finding.sites[0];
    expect(path.resolve(culprit.file!)).toBe(path.resolve(TREE_C));
    expect(culprit.line).toBe(linkLine());
    expect(culprit.excerpt?.map((line) => line.line)).toEqual([linkLine() - 1, linkLine()]);
    expect(finding.title).toContain(`tree.c:${linkLine()}`);
    // every violating crash point is in the finding, and at least one image per word
    expect(finding.count).toBe(run.violations);
    expect(finding.images).toBeGreaterThanOrEqual(40);
    expect(finding.kind).toBe(model === 'sequential' ? 'atomicity' : 'ordering');
  });
});

describe('mergeCauses: the sites listed with a finding', () => {
  // txmap_broken_noadd: the count store (line 178) is never durable, and
  // the same store also closes the window of the images it leaves.
  const locate = (role: string, address: number, index: number) => ({
    role,
    address: `0x${address.toString(16)}`,
    index,
    file: '/src/txmap.c',
    line: address === 0x10 ? 178 : 174,
  });

  it("a site at the culprit's own line is not listed again under another role", () => {
    const [finding] = mergeCauses(
      [
        {
          kind: 'not-durable',
          sites: [
            { role: 'never-durable', address: 0x10, index: 3 },
            { role: 'not-yet-durable', address: 0x20, index: 2 },
            { role: 'closes', address: 0x20, index: 2 },
            { role: 'closes', address: 0x10, index: 3 },
          ],
          spans: [{ first: 5, last: 9 }],
          hashes: new Set(['aa']),
          example: { k: 5, hash: 'aa' },
        },
      ],
      locate,
    );
    expect(finding.sites.map((site) => `${site.role} ${site.line}`)).toEqual([
      'never-durable 178',
      'not-yet-durable 174',
      'closes 174',
    ]);
  });
});
