// finding-advice -- beside its sites, a finding says the change it asks for
// and what the recovery said of its example image, from the group whose
// example is that very image (same hash), in the console, JUnit and HTML;
// nothing is said when no group has that image.

import picocolors from 'picocolors';
import { formatFinding } from '../../harness/report/console-report';
import { exampleRecovery, findingFix } from '../../harness/report/finding-advice';
import { githubAnnotations } from '../../harness/report/github-annotations';
import { renderHtml } from '../../harness/report/html';
import { findingFailureBody, renderJunit } from '../../harness/report/junit';
import type { Finding, FindingSite } from '../../harness/results/schema';
import { fixtureRun, loadFixture } from './fixture';

const plain = picocolors.createColors(false);

const site = (role: string, line: number): FindingSite => ({
  role,
  address: `0x40${line}`,
  file: '/src/btree.c',
  line,
  index: line,
});

function finding(kind: Finding['kind'], sites: FindingSite[], hash = '9f2c4e1a7b3d5f60'): Finding {
  return {
    id: 'btree-px86-f1',
    kind,
    title: 'title',
    sites,
    crashPoints: '1200-1211',
    count: 12,
    images: 2,
    example: { k: 1211, hash, reproduce: 'pmfit reproduce results.json btree-px86-f1' },
  };
}

describe('findingFix', () => {
  it('ordering: persist the earlier store before the one durable first', () => {
    expect(findingFix(finding('ordering', [site('durable-first', 142), site('not-yet-durable', 130)]))).toBe(
      'persist the store at btree.c:130 (flush and fence) before the store at btree.c:142 is made, so that btree.c:142 is never durable without it',
    );
  });

  it('a site reached through libpmemobj: TX_ADD named', () => {
    const commit: FindingSite = {
      ...site('durable-first', 201),
      module: '/usr/lib/x86_64-linux-gnu/libpmem.so.1.0.0',
      stack: [
        { address: '0x7f00', module: '/usr/lib/x86_64-linux-gnu/libpmem.so.1.0.0' },
        {
          address: '0x7f10',
          module: '/usr/lib/x86_64-linux-gnu/libpmemobj.so.1.0.0',
          symbol: 'pmemobj_tx_commit+0x1c',
        },
        { address: '0x4020', module: '/src/txmap', file: '/src/btree.c', line: 201 },
      ],
      frame: 2,
    };
    expect(findingFix(finding('ordering', [commit, site('not-yet-durable', 178)]))).toBe(
      'persist the store at btree.c:178 (flush and fence) before the store at btree.c:201 is made, so that btree.c:201 is never durable without it; in a libpmemobj transaction, make sure every field it changes was added to it (TX_ADD, TX_ADD_FIELD) before the change',
    );
    // a store of the program's own never durable, its operation closed by the commit: the same hint
    const closes = { ...commit, role: 'closes' };
    expect(findingFix(finding('not-durable', [site('never-durable', 178), closes]))).toMatch(
      /^persist the store at btree\.c:178 \(flush and fence\) before its operation returns; in a libpmemobj transaction, make sure every field/,
    );
  });

  it('not durable: persist it before its operation returns', () => {
    expect(findingFix(finding('not-durable', [site('never-durable', 90)]))).toBe(
      'persist the store at btree.c:90 (flush and fence) before its operation returns',
    );
  });

  it('atomicity: names both stores', () => {
    expect(findingFix(finding('atomicity', [site('opens', 142), site('closes', 150)]))).toMatch(
      /^a crash between btree\.c:142 and btree\.c:150 leaves a state recovery rejects: persist what the store at btree\.c:142 makes reachable before it/,
    );
  });
});

describe("the example's recovery", () => {
  const ordering = finding('ordering', [site('durable-first', 142), site('not-yet-durable', 130)]);

  it('is the group whose example is the same image: its failed checks', () => {
    const run = fixtureRun(loadFixture(), 'btree', 'px86');
    const example = exampleRecovery(run, ordering)!;
    expect(example.group.id).toBe('btree-px-inv-1');
    expect(example.said).toBe(
      'keys are sorted in every node; atomicity: the tree equals the model before or after insert(17)',
    );
    // without failed checks: the first line the recovery printed
    example.group.failed = [];
    expect(exampleRecovery(run, ordering)!.said).toBe('btree_check: node 3 has keys 3 9 12 17 20 but count says 4');
  });

  it('console and JUnit: what recovery said, the PM lines, the fix, then the reproduce line', () => {
    const run = fixtureRun(loadFixture(), 'btree', 'px86');
    const lines = formatFinding(ordering, plain, run);
    expect(lines.slice(-4)).toEqual([
      '  recovery of the example (crash point 1211): keys are sorted in every node; atomicity: the tree equals the model before or after insert(17)',
      '  PM lines differing from the last guaranteed durable state: /mnt/pmem/btree.pool +0x1c0, /mnt/pmem/btree.pool +0x200',
      `  fix: ${findingFix(ordering)}`,
      '  reproduce: pmfit reproduce results.json btree-px86-f1',
    ]);
    const body = findingFailureBody(ordering, run);
    expect(body).toContain('recovery of the example (group btree-px-inv-1): keys are sorted in every node');
    expect(body).toContain(
      'PM lines differing from the last guaranteed durable state:\n  /mnt/pmem/btree.pool +0x1c0\n  /mnt/pmem/btree.pool +0x200\nfix: ',
    );
  });

  it('HTML: the fix, and what recovery said linked to its group', () => {
    const results = loadFixture();
    const run = fixtureRun(results, 'btree', 'px86');
    run.findings = [ordering];
    const html = renderHtml(results);
    const index = results.runs.indexOf(run);
    expect(html).toContain(`group <a href="#g-${index}-1">btree-px-inv-1</a>): <code>keys are sorted in every node;`);
    expect(html).toContain('<p class="fix"><b>Fix:</b> persist the store at btree.c:130 (flush and fence)');
  });

  it('GitHub annotations: the fix before the reproduce line', () => {
    const results = loadFixture();
    fixtureRun(results, 'btree', 'px86').findings = [ordering];
    const [annotation] = githubAnnotations(results);
    expect(annotation).toContain(
      `%0Afix: persist the store at btree.c:130 (flush and fence) before the store at btree.c:142 is made`,
    );
  });

  it("JUnit: the run's failure text names its findings' testcases first", () => {
    const results = loadFixture();
    fixtureRun(results, 'btree', 'px86').findings = [ordering];
    const xml = renderJunit(results);
    expect(xml).toContain(
      'type="violations">by cause: 1 finding, each a testcase of its own (btree-px86-f1); the violation groups follow\n\nkind: invariant',
    );
    expect(renderJunit(loadFixture())).not.toContain('by cause:');
  });

  it('no group with that image: nothing said, the fix still given', () => {
    const run = fixtureRun(loadFixture(), 'btree', 'px86');
    const other = finding('ordering', ordering.sites, '0000');
    expect(exampleRecovery(run, other)).toBeUndefined();
    const lines = formatFinding(other, plain, run).join('\n');
    expect(lines).not.toContain('recovery of the example');
    expect(lines).toContain('  fix: persist the store at btree.c:130');
  });
});
