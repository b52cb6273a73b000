// threads in reports: in a trace of several threads the sites a report
// names carry their thread, and the console, JUnit and HTML say it; sites
// without one (traces of one thread) are shown as before.

import picocolors from 'picocolors';
import { formatFinding, formatRun } from '../../harness/report/console-report';
import { renderHtml } from '../../harness/report/html';
import { findingFailureBody, renderJunit } from '../../harness/report/junit';
import { siteText } from '../../harness/report/run-verdict';
import type { Finding } from '../../harness/results/schema';
import { fixtureRun, loadFixture } from './fixture';

const plain = picocolors.createColors(false);

const finding: Finding = {
  id: 'btree-px86-f1',
  kind: 'ordering',
  title: 'a store durable before the one it points to',
  sites: [
    { role: 'durable-first', address: '0x401a3c', file: 'btree.c', line: 142, index: 12, thread: 2 },
    { role: 'not-yet-durable', address: '0x401a10', file: 'btree.c', line: 130, index: 9, thread: 1 },
  ],
  crashPoints: '12-20',
  count: 9,
  images: 3,
  example: { k: 12, hash: 'ab', reproduce: 'pmfit reproduce results.json btree-px86-f1' },
};

describe('threads in reports', () => {
  it('console: the finding site and the interrupted instruction name their thread', () => {
    expect(formatFinding(finding, plain).join('\n')).toContain('  at btree.c:142 in thread 2');
    const results = loadFixture();
    const run = fixtureRun(results, 'btree', 'px86');
    const group = run.groups.find((candidate) => candidate.violation)!;
    expect(formatRun(run, plain)).not.toContain('interrupted: thread');
    group.example.next = { ...group.example.next!, thread: 1 };
    expect(formatRun(run, plain)).toContain('  interrupted: thread 1 at targets/btree/btree.c:142');
    expect(siteText(group.example.next)).toMatch(/, targets\/btree\/btree\.c:142, thread 1$/);
  });

  it('JUnit and HTML: every finding site with its thread', () => {
    const body = findingFailureBody(finding);
    expect(body).toContain('durable-first: btree.c:142 in thread 2');
    expect(body).toContain('not-yet-durable: btree.c:130 in thread 1');
    const results = loadFixture();
    const run = fixtureRun(results, 'btree', 'px86');
    run.findings = [finding];
    expect(renderJunit(results)).toContain('durable-first: btree.c:142 in thread 2');
    const html = renderHtml(results);
    expect(html).toContain('<span class="meta thread">thread 2</span>');
    expect(html).toContain('<span class="meta thread">thread 1</span>');
  });

  it('sites of a trace of one thread name none', () => {
    const { thread: _, ...site } = finding.sites[0];
    expect(formatFinding({ ...finding, sites: [site] }, plain).join('\n')).not.toContain('thread');
  });
});
