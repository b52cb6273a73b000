// The HTML report in a real browser: Debian's Chromium (installed by
// scripts/install-debian-package.sh when missing) driven by playwright-core. Opens
// the fixture's report from a file:// URL, reads the summary, opens a
// violation from the timeline, checks its details, and saves a screenshot to
// reports/report-screenshot.png.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { projectRoot } from '../../harness/_internals/paths';
import { renderHtml } from '../../harness/report/html';
import type { Results } from '../../harness/results/schema';
import { requireDebianPackage } from '../helpers/debian-package';
import { bugTableV2, loadFixture, syntheticLarge } from './fixture';

const CHROMIUM = '/usr/bin/chromium';
const screenshot = path.join(projectRoot, 'reports', 'report-screenshot.png');

let browser: Browser;
let dir: string;
let page: Page;
const problems: string[] = [];
const requests: string[] = [];

function fixtureIndex(target: string, model: string): number {
  return loadFixture().runs.findIndex((run) => run.target === target && run.model === model);
}

beforeAll(async () => {
  requireDebianPackage('chromium', CHROMIUM);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmfit-browser-'));
  fs.writeFileSync(path.join(dir, 'index.html'), renderHtml(loadFixture(), { bugs: bugTableV2() }));
  fs.writeFileSync(path.join(dir, 'large.html'), renderHtml(syntheticLarge(100_000)));
  fs.writeFileSync(path.join(dir, 'stack.html'), renderHtml(withInterruptedStack()));
}, 20 * 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The computed background colour (the test code has no DOM types). */
async function background(locator: Locator): Promise<unknown> {
  return locator.evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor);
}

/** The fixture with btree × px86's first violation interrupted inside
 *  memmove, which btree_insert called at btree.c:120 (explain-groups.ts). */
function withInterruptedStack(): Results {
  const results = loadFixture();
  const run = results.runs[fixtureIndex('btree', 'px86')];
  const next = run.groups.find((group) => group.violation)!.example.next!;
  Object.assign(next, {
    file: 'targets/btree/btree.c',
    line: 120,
    frame: 1,
    stack: [
      { address: '0x7ffff7e4a1c0', module: '/usr/lib/x86_64-linux-gnu/libc.so.6', symbol: '__memmove_avx+0x80' },
      { address: '0x401a3c', module: 'btree', symbol: 'btree_insert+0x5c', file: 'targets/btree/btree.c', line: 120 },
      { address: '0x401f00', module: 'btree', symbol: 'main+0x20', file: 'targets/btree/btree.c', line: 300 },
    ],
  });
  return results;
}

async function open(file: string): Promise<Page> {
  const opened = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  opened.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  opened.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  opened.on('request', (request) => requests.push(request.url()));
  await opened.goto(pathToFileURL(path.join(dir, file)).href);
  return opened;
}

describe('the report in Chromium', () => {
  beforeAll(async () => {
    page = await open('index.html');
  });
  afterAll(async () => {
    await page?.close();
  });

  test('summary numbers and verdicts', async () => {
    const row = page.locator('table.summary tr[data-target="btree"][data-model="px86"]');
    expect(await row.locator('td[data-col="instructions"]').textContent()).toBe('2,400');
    expect(await row.locator('td[data-col="states"]').textContent()).toBe('9,650');
    expect(await row.locator('td[data-col="violations"]').textContent()).toBe('32');
    expect(await row.locator('td[data-col="status"]').textContent()).toBe('violations');
    expect(
      await page
        .locator('table.summary tr[data-target="basic"][data-model="px86"] td[data-col="status"]')
        .textContent(),
    ).toBe('expected violations');
    expect(await page.locator('table.summary tbody tr').count()).toBe(9);
    // verdict colours really differ
    const colour = (target: string, model: string) =>
      background(page.locator(`table.summary tr[data-target="${target}"][data-model="${model}"] .badge`));
    const colours = new Set([
      await colour('btree', 'px86'),
      await colour('log', 'px86'),
      await colour('basic', 'px86'),
    ]);
    expect(colours.size).toBe(3);
    expect(await page.locator('#overall').textContent()).toBe('FAIL');
  });

  test('clicking a timeline band opens its violation with details', async () => {
    const index = fixtureIndex('btree', 'px86');
    const id = `g-${index}-1`;
    expect(await page.locator(`#${id}`).getAttribute('open')).toBeNull();
    expect(await page.locator(`#${id} .detail dl`).count()).toBe(0);

    await page.locator(`section[data-target="btree"][data-model="px86"] svg rect.band.viol`).first().click();

    const details = page.locator(`#${id}`);
    expect(await details.getAttribute('open')).not.toBeNull();
    expect(new URL(page.url()).hash).toBe(`#${id}`);
    expect(await details.locator('code.insn').textContent()).toBe('mov qword ptr [rbx+0x10], rax');
    expect(await details.locator('.site .src').textContent()).toBe('targets/btree/btree.c:142');
    expect(await details.locator('.k').textContent()).toBe('k = 1211');
    expect(await details.locator('ul.failed li').allTextContents()).toEqual([
      'keys are sorted in every node',
      'atomicity: the tree equals the model before or after insert(17)',
    ]);

    // hex dumps: changed bytes highlighted on both sides (0x14 → 0x11 at +0x20)
    const firstLine = details.locator('.line').first();
    expect(await firstLine.locator('.line-head').textContent()).toContain('2 bytes differ');
    expect(await firstLine.locator('td.durable .chg').first().textContent()).toBe('14');
    const changed = firstLine.locator('td.image .chg').first();
    expect(await changed.textContent()).toBe('11');
    expect(await changed.getAttribute('title')).toBe('byte +0x20: 14 → 11');
    expect(await background(changed)).toBe('rgb(255, 224, 138)');
    expect(await background(firstLine.locator('td.image').first())).not.toBe(await background(changed));
    expect(await details.locator('td.image .chg').count()).toBe(2 + 5);

    // the recovery output is text, not markup
    const outputPre = details.locator('pre.output').first();
    expect(await outputPre.textContent()).toContain('</script><b>not bold</b> & "quoted"');
    expect(await outputPre.locator('b').count()).toBe(0);

    // the reproduce command and its copy button
    const reproduce = "pmfit replay btree --model px86 --crash-point 1211 --image 9f2c4e1a7b3d5f60 -- 'insert' '17'";
    expect(await details.locator('.cmd pre').textContent()).toBe(reproduce);
    await details.locator('button.copy').click();
    await page.waitForFunction(
      `document.querySelector(${JSON.stringify(`#${id} button.copy`)}).textContent !== 'Copy'`,
    );
    expect(await details.locator('button.copy').textContent()).toBe('Copied');
    // the group is in view after the jump
    const box = await details.boundingBox();
    expect(box).not.toBeNull();

    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true, animations: 'disabled' });
    expect(fs.statSync(screenshot).size).toBeGreaterThan(10_000);
  });

  test('opening a group from its summary line renders it on demand', async () => {
    const index = fixtureIndex('basic', 'px86');
    const crashed = page.locator(`#g-${index}-2`);
    expect(await crashed.getAttribute('data-kind')).toBe('recovery-crashed');
    await crashed.locator('summary').click();
    // the details element fires 'toggle' as a queued task, so the render follows the click
    await crashed.locator('dl.facts').waitFor({ timeout: 10_000 });
    expect(await crashed.locator('dl.facts').count()).toBe(1);
    expect(await crashed.locator('pre.output').textContent()).toBe('Segmentation fault (core dumped)\n');
    expect(await crashed.locator('.lines').count()).toBe(0);
  });

  test('the mutant table is shown, a column group per check', async () => {
    expect(await page.locator('#bugs thead th.check').allTextContents()).toEqual(['no window', 'window', 'depth 2']);
    const row = page.locator('#bugs tr[data-mutant="btree-drop-flush"]');
    expect(await row.locator('td.survived').count()).toBe(3);
    expect(await row.locator('td[data-check="depth2"][data-model="px86"]').textContent()).toBe('killed at depth 1');
    expect(await page.locator('#bugs tfoot td.rate[data-model="px86"][data-check="depth2"]').textContent()).toBe(
      '100.0%',
    );
    // each check's heading spans its models' cells
    const head = await page.locator('#bugs thead th.check[data-check="window"]').boundingBox();
    const first = await row.locator('td[data-check="window"][data-model="sequential"]').boundingBox();
    const last = await row.locator('td[data-check="window"][data-model="px86"]').boundingBox();
    expect(Math.abs(head!.x - first!.x)).toBeLessThan(2);
    expect(Math.abs(head!.x + head!.width - (last!.x + last!.width))).toBeLessThan(2);
    expect(await page.locator('#bugs .depth2-not-run').textContent()).toContain('Depth 2 not run in log-create');
  });

  test("an interrupted instruction's call stack, its own frame marked", async () => {
    const index = fixtureIndex('btree', 'px86');
    const other = await open('stack.html');
    await other.goto(`${pathToFileURL(path.join(dir, 'stack.html')).href}#g-${index}-1`);
    const details = other.locator(`#g-${index}-1`);
    expect(await details.locator('.site .src').textContent()).toBe('targets/btree/btree.c:120');
    expect(await details.locator('pre.stack').textContent()).toBe(
      [
        '  at __memmove_avx+0x80 (/usr/lib/x86_64-linux-gnu/libc.so.6)',
        '> at btree_insert+0x5c targets/btree/btree.c:120',
        '  at main+0x20 targets/btree/btree.c:300',
      ].join('\n'),
    );
    await other.close();
  });

  test('a #fragment opens its group on load', async () => {
    const index = fixtureIndex('btree', 'px86');
    const other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await other.goto(`${pathToFileURL(path.join(dir, 'index.html')).href}#g-${index}-1`);
    expect(await other.locator(`#g-${index}-1 code.insn`).textContent()).toBe('mov qword ptr [rbx+0x10], rax');
    await other.close();
  });
});

describe('a 100,000-crash-point report in Chromium', () => {
  test('loads, and a band opens its group', async () => {
    const large = await open('large.html');
    try {
      expect(await large.locator('svg.tl').count()).toBe(3);
      expect(await large.locator('svg.tl').first().getAttribute('data-binned')).toBe('true');
      await large.locator('svg.tl').first().locator('rect.band').nth(10).click();
      const opened = large.locator('details.group[open]');
      expect(await opened.count()).toBe(1);
      expect((await opened.locator('.ranges').textContent())!.length).toBeGreaterThan(10_000);
      expect(await opened.locator('code.insn').textContent()).toBe('mov qword ptr [rdi], rax');
    } finally {
      await large.close();
    }
  });
});

afterAll(() => {
  // checked last, over every page: no script error, nothing but the files themselves loaded
  expect(problems).toEqual([]);
  expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
});
