// junit-schema -- junit.xml validates against the common JUnit form
// (fixtures/junit.xsd, the project's own statement of it) with xmllint, from
// Debian's libxml2-utils (installed when missing): one testcase
// per target × model plus one per finding, at most one failure each.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderJunit } from '../../harness/report/junit';
import { validateResults } from '../../harness/results/results';
import { requireDebianPackage } from '../helpers/debian-package';
import { loadFixture, withFindings } from './fixture';
import { parseXml, XmlElement } from './xml';

function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

const XSD = path.join(__dirname, 'fixtures', 'junit.xsd');

function validate(xml: string): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-junit-'));
  const file = path.join(dir, 'junit.xml');
  fs.writeFileSync(file, xml);
  try {
    const output = execFileSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8', stdio: 'pipe' });
    return { ok: true, output };
  } catch (err) {
    const failed = err as { status?: number; stderr?: string };
    return { ok: false, output: String(failed.stderr) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(() => requireDebianPackage('libxml2-utils', '/usr/bin/xmllint'));

describe('junit.xml against the JUnit schema', () => {
  test('the fixture validates', () => {
    expect(validate(renderJunit(loadFixture()))).toMatchObject({ ok: true });
  });

  test('with findings: one testcase per finding, failures never more than tests', () => {
    const results = withFindings(5);
    validateResults(results, 'fixture');
    const xml = renderJunit(results);
    expect(validate(xml)).toMatchObject({ ok: true });
    const root = parseXml(xml);
    // 3 targets × 3 models, plus the 5 findings of btree × px86
    expect(root.attributes.tests).toBe('14');
    // btree × px86 (its groups in one failure) and each finding
    expect(root.attributes.failures).toBe('6');
    const btree = children(root, 'testsuite').find((suite) => suite.attributes.name === 'btree')!;
    const cases = children(btree, 'testcase');
    const finding = cases.find((c) => c.attributes.name === 'btree-px86-f1')!;
    expect(finding.attributes.classname).toBe('pmfit.btree.px86');
    const [failure] = children(finding, 'failure');
    expect(failure.attributes.type).toBe('ordering');
    expect(failure.text).toContain('durable-first: /work/main/targets/btree/btree.c:100 (btree_link+0x1c)');
    expect(failure.text).toContain('  100 | \tparent->child[i] = node; /* <b>&</b> */');
    expect(failure.text).toContain('at btree_insert+0x40 /work/main/targets/btree/btree.c:140');
    expect(failure.text).toContain('pmfit reproduce reports/results.json btree-px86-f1');
  });

  test('the schema refuses what dashboards misread: two failures in one testcase', () => {
    const xml = renderJunit(loadFixture()).replace(/(<failure[^>]*>[^<]*<\/failure>)/, '$1$1');
    const result = validate(xml);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("Element 'failure': This element is not expected");
  });
});
