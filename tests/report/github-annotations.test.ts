// GitHub workflow-command annotations of unexpected violations.

import { escapeData, escapeProperty, githubAnnotations } from '../../harness/report/github-annotations';
import { finding, fixtureRun, loadFixture, withFindings } from './fixture';

describe('githubAnnotations', () => {
  test('one error per unexpected violation group, none for a control that found its violations', () => {
    const lines = githubAnnotations(loadFixture(), { workspace: '/work/main' });
    expect(lines).toHaveLength(1);
    const [line] = lines;
    // commas are escaped in properties only, not in the message
    expect(
      line.startsWith(
        '::error file=targets/btree/btree.c,line=142,title=pmfit%3A invariant in btree (px86)::32 crash points (1204-1219,1225-1240)',
      ),
    ).toBe(true);
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toContain(
      '%0Apower lost before: mov qword ptr [rbx+0x10], rax in btree_split_node (btree) at 0x401a3c, targets/btree/btree.c:142',
    );
    expect(line).toContain('%0Afailed: keys are sorted in every node%0A');
    expect(line).toContain('%0Areproduce: pmfit replay btree --model px86 --crash-point 1211');
  });

  test('properties escape , and : ; data escapes %, CR and LF', () => {
    const results = loadFixture();
    const group = fixtureRun(results, 'btree', 'px86').groups[1];
    group.example.next!.file = 'src/a,b:c%.c';
    group.failed = ['100% of keys\r\nare sorted'];
    const [line] = githubAnnotations(results, { workspace: '/nowhere' });
    expect(line).toMatch(/^::error file=src\/a%2Cb%3Ac%25\.c,line=142,title=pmfit%3A invariant in btree \(px86\)::/);
    expect(line).toContain('failed: 100%25 of keys%0D%0Aare sorted');
    expect(escapeData('a%b\r\nc:d,e')).toBe('a%25b%0D%0Ac:d,e');
    expect(escapeProperty('a%b\r\nc:d,e')).toBe('a%25b%0D%0Ac%3Ad%2Ce');
  });

  test('absolute source paths are made relative to the workspace', () => {
    const results = loadFixture();
    fixtureRun(results, 'btree', 'px86').groups[1].example.next!.file = '/home/runner/work/pmfit/targets/btree/btree.c';
    expect(githubAnnotations(results, { workspace: '/home/runner/work/pmfit' })[0]).toContain(
      '::error file=targets/btree/btree.c,line=142,',
    );
    expect(githubAnnotations(results, { workspace: '/elsewhere' })[0]).toContain(
      '::error file=/home/runner/work/pmfit/targets/btree/btree.c,line=142,',
    );
  });

  test('a group without a source location still gets an annotation, without file and line', () => {
    const results = loadFixture();
    delete fixtureRun(results, 'btree', 'px86').groups[1].example.next;
    const [line] = githubAnnotations(results, { workspace: '/work/main' });
    expect(line.startsWith('::error title=pmfit%3A invariant in btree (px86)::')).toBe(true);
  });

  test('a positive control that found none is an error too', () => {
    const results = loadFixture();
    const run = fixtureRun(results, 'basic', 'flushed');
    run.groups = [{ ...run.groups[0], crashPoints: '0-412', count: 413 }];
    run.violations = 0;
    const lines = githubAnnotations(results, { workspace: '/work/main' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      '::error title=pmfit%3A positive control basic (flushed) found no violations::basic is expected to show violations under flushed; none of its 413 crash points did.',
    );
  });

  test('consistent results: no annotation', () => {
    const results = loadFixture();
    const run = fixtureRun(results, 'btree', 'px86');
    run.groups = [{ ...run.groups[0], crashPoints: '0-2400', count: 2401 }];
    run.violations = 0;
    run.status = 'pass';
    expect(githubAnnotations(results, { workspace: '/work/main' })).toEqual([]);
  });
});

describe('githubAnnotations with findings', () => {
  test('one per finding at its file and line, at most 10, the last saying how many more', () => {
    const lines = githubAnnotations(withFindings(14), { workspace: '/work/main' });
    expect(lines).toHaveLength(10);
    lines.forEach((line, i) => {
      expect(line).toMatch(
        new RegExp(`^::error file=targets/btree/btree.c,line=${100 + i},title=pmfit%3A ordering in btree::`),
      );
    });
    expect(lines[0]).toContain('(px86)%0Anot-yet-durable: alloc.h:201');
    // the stack from the instruction to one caller past the own frame
    expect(lines[0]).toContain('%0Astack: btree_link btree.c:100 <- btree_insert btree.c:140%0A');
    expect(lines[9]).toContain('(4 more in the report)');
  });

  test('the same finding under several models is one annotation naming them', () => {
    const results = withFindings(1);
    fixtureRun(results, 'btree', 'flushed').findings = [
      finding('btree-flushed-f1', '/work/main/targets/btree/btree.c', 100),
    ];
    fixtureRun(results, 'btree', 'flushed').violations = 3;
    fixtureRun(results, 'btree', 'flushed').status = 'fail';
    const lines = githubAnnotations(results, { workspace: '/work/main' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('(flushed, px86)');
  });
});
