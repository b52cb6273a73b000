// junit.xml: well-formed XML (checked by a strict reader) with the
// structure and counts that CI systems read.

import { renderJunit, xmlAttr, xmlText } from '../../harness/report/junit';
import { findAll, parseXml, type XmlElement } from './xml';
import { fixtureRun, loadFixture } from './fixture';

function testcase(root: XmlElement, target: string, model: string): XmlElement {
  const found = findAll(root, 'testcase').filter(
    (c) => c.attributes.classname === `pmfit.${target}` && c.attributes.name === model,
  );
  expect(found).toHaveLength(1);
  return found[0];
}

function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

describe('renderJunit on the fixture', () => {
  const results = loadFixture();
  const root = parseXml(renderJunit(results));

  test('testsuites → one testsuite per target → one testcase per run', () => {
    expect(root.name).toBe('testsuites');
    const suites = children(root, 'testsuite');
    expect(suites.map((s) => s.attributes.name)).toEqual(['basic', 'btree', 'log']);
    for (const suite of suites) {
      const cases = children(suite, 'testcase');
      expect(cases.map((c) => c.attributes.name)).toEqual(['sequential', 'flushed', 'px86']);
      for (const c of cases) expect(c.attributes.classname).toBe(`pmfit.${suite.attributes.name}`);
    }
  });

  test('counts on testsuites and each testsuite', () => {
    expect(root.attributes).toMatchObject({ tests: '9', failures: '1', errors: '0', skipped: '0' });
    const [basic, btree, log] = children(root, 'testsuite');
    expect(basic.attributes).toMatchObject({ tests: '3', failures: '0', errors: '0', skipped: '0' });
    expect(btree.attributes).toMatchObject({ tests: '3', failures: '1', errors: '0', skipped: '0' });
    expect(log.attributes).toMatchObject({ tests: '3', failures: '0', errors: '0', skipped: '0' });
    // attribute counts agree with the elements
    for (const suite of [basic, btree, log]) {
      const cases = children(suite, 'testcase');
      expect(Number(suite.attributes.failures)).toBe(cases.flatMap((c) => children(c, 'failure')).length);
    }
  });

  test('times: per run, per suite (plus recording) and in total', () => {
    expect(testcase(root, 'btree', 'px86').attributes.time).toBe('48.310');
    const btree = children(root, 'testsuite')[1];
    expect(Number(btree.attributes.time)).toBeCloseTo(14.8 + 12.6 + 48.31 + 1.87, 3);
    const suites = children(root, 'testsuite').reduce((n, s) => n + Number(s.attributes.time), 0);
    expect(Number(root.attributes.time)).toBeCloseTo(suites, 2);
    expect(btree.attributes.timestamp).toBe('2025-03-14T09:26:53');
  });

  test('the unexpected violation group is one failure with everything needed to act', () => {
    const failures = children(testcase(root, 'btree', 'px86'), 'failure');
    expect(failures).toHaveLength(1);
    const failure = failures[0];
    expect(failure.attributes.type).toBe('violations');
    expect(failure.attributes.message).toBe('1 violation group at 32 crash points');
    const body = failure.text;
    expect(body).toContain('keys are sorted in every node');
    expect(body).toContain('atomicity: the tree equals the model before or after insert(17)');
    expect(body).toContain('source: targets/btree/btree.c:142');
    expect(body).toContain(
      'next instruction: mov qword ptr [rbx+0x10], rax in btree_split_node (btree) at 0x401a3c, targets/btree/btree.c:142',
    );
    // the recovery output comes back exactly, markup and quotes included
    expect(body).toContain('</script><b>not bold</b> & "quoted"');
    expect(body).toContain(
      "pmfit replay btree --model px86 --crash-point 1211 --image 9f2c4e1a7b3d5f60 -- 'insert' '17'",
    );
  });

  test('a positive control that found violations passes', () => {
    for (const model of ['sequential', 'flushed', 'px86']) {
      const c = testcase(root, 'basic', model);
      expect(children(c, 'failure')).toHaveLength(0);
      expect(children(c, 'skipped')).toHaveLength(0);
      expect(children(c, 'system-out')[0].text).toContain('positive control: found violations as expected');
    }
    expect(children(testcase(root, 'basic', 'px86'), 'system-out')[0].text).toContain(
      'expected recovery-crashed at crash points 97-99',
    );
  });

  test('consistent runs have no failure', () => {
    for (const model of ['sequential', 'flushed', 'px86'])
      expect(children(testcase(root, 'log', model), 'failure')).toHaveLength(0);
  });
});

describe('renderJunit verdicts', () => {
  test('a positive control that found none fails once', () => {
    const results = loadFixture();
    const run = fixtureRun(results, 'basic', 'flushed');
    run.groups = [{ ...run.groups[0], crashPoints: '0-412', count: 413 }];
    run.violations = 0;
    run.status = 'fail';
    const root = parseXml(renderJunit(results));
    const failures = children(testcase(root, 'basic', 'flushed'), 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0].attributes).toEqual({
      message: 'positive control found no violations',
      type: 'positive-control',
    });
    expect(root.attributes.failures).toBe('2');
    expect(children(root, 'testsuite')[0].attributes.failures).toBe('1');
  });

  test('several violation groups make one failure of the run, listing each group', () => {
    const results = loadFixture();
    const run = fixtureRun(results, 'log', 'px86');
    run.groups = [
      { ...run.groups[0], crashPoints: '0-9', count: 10 },
      { ...run.groups[0], id: 'a', kind: 'recovery-timeout', violation: true, crashPoints: '10-500', count: 491 },
      { ...run.groups[0], id: 'b', kind: 'recovery-failed', violation: true, crashPoints: '501-960', count: 460 },
    ];
    run.violations = 951;
    run.status = 'fail';
    const root = parseXml(renderJunit(results));
    const failures = children(testcase(root, 'log', 'px86'), 'failure');
    expect(failures.map((f) => f.attributes.type)).toEqual(['violations']);
    expect(failures[0].attributes.message).toBe('2 violation groups at 951 crash points');
    expect(failures[0].text).toContain('kind: recovery-timeout');
    expect(failures[0].text).toContain('kind: recovery-failed');
    expect(root.attributes.failures).toBe('2');
  });

  test('partial results: unchecked runs and missing runs are skipped', () => {
    const results = loadFixture();
    results.incomplete = true;
    results.incompleteReason = 'interrupted by SIGTERM';
    fixtureRun(results, 'log', 'px86').groups[0].crashPoints = '0-99';
    results.runs = results.runs.filter((run) => !(run.target === 'log' && run.model === 'flushed'));
    const root = parseXml(renderJunit(results));
    expect(root.attributes).toMatchObject({ tests: '9', failures: '1', skipped: '2' });
    expect(children(testcase(root, 'log', 'px86'), 'skipped')[0].attributes.message).toMatch(
      /^incomplete: checked 100 of 961 crash points/,
    );
    expect(children(testcase(root, 'log', 'flushed'), 'skipped')[0].attributes.message).toBe(
      'not run: results are incomplete',
    );
    expect(children(root, 'testsuite')[2].attributes).toMatchObject({ tests: '3', skipped: '2', failures: '0' });
  });

  test("a target's own models: the others are not cases, one of its own that did not run is skipped", () => {
    const results = loadFixture();
    results.incomplete = true;
    results.incompleteReason = 'interrupted by SIGTERM';
    // log is checked under flushed and px86 only (its config's models); its
    // px86 run never happened.
    results.targets.find((target) => target.name === 'log')!.models = ['flushed', 'px86'];
    results.runs = results.runs.filter((run) => !(run.target === 'log' && run.model !== 'flushed'));
    const root = parseXml(renderJunit(results));
    const log = children(root, 'testsuite')[2];
    expect(log.attributes).toMatchObject({ name: 'log', tests: '2', skipped: '1', failures: '0' });
    expect(children(log, 'testcase').map((c) => c.attributes.name)).toEqual(['flushed', 'px86']);
    expect(children(testcase(root, 'log', 'px86'), 'skipped')[0].attributes.message).toBe(
      'not run: results are incomplete',
    );
  });
});

describe('XML escaping', () => {
  test('control characters XML 1.0 forbids are removed; the rest survives', () => {
    const results = loadFixture();
    const group = fixtureRun(results, 'btree', 'px86').groups[1];
    group.recoveryOutput = 'a\u0000b\u0007c\u001b[31mred\u001b[0m d\u0008e \ud800 f\ufffe g\u{1f600} tab\there ]]> <&>';
    group.failed = ['quote " apostrophe \' less < amp & \u000b vertical tab'];
    fixtureRun(results, 'btree', 'px86').target = 'btree "x" <y>\n';
    const xml = renderJunit(results);
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    const root = parseXml(xml);
    const failure = findAll(root, 'failure')[0];
    expect(failure.text).toContain('abcred de  f g\u{1f600} tab\there ]]> <&>');
    expect(failure.text).toContain('quote " apostrophe \' less < amp &  vertical tab');
    const c = findAll(root, 'testcase').find((t) => t.attributes.classname.startsWith('pmfit.btree "x"'))!;
    expect(c.attributes.classname).toBe('pmfit.btree "x" <y>\n');
  });

  test('helpers', () => {
    expect(xmlText('<a & b>')).toBe('&lt;a &amp; b&gt;');
    expect(xmlAttr('"x"\n\t\r')).toBe('&quot;x&quot;&#10;&#9;&#13;');
    expect(xmlText('\u0001\uffff\ud83d')).toBe('');
  });

  test('the strict reader rejects what it must', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow(/closes/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/duplicate/);
    expect(() => parseXml('<a>&nbsp;</a>')).toThrow(/unknown entity/);
    expect(() => parseXml('<a>&#0;</a>')).toThrow(/forbidden/);
    expect(() => parseXml('<a>\u0001</a>')).toThrow(/forbidden/);
    expect(() => parseXml('<a>1 < 2</a>')).toThrow();
    expect(() => parseXml('<a x=1/>')).toThrow(/unquoted/);
    expect(() => parseXml('<a/><b/>')).toThrow(/after the root/);
    expect(() => parseXml('<a>x & y</a>')).toThrow(/bare/);
  });
});
