// The HTML report, read as text: summary cells, verdict classes, escaping,
// timeline rectangles, laziness of details, self-containment.

import { CLIENT_SCRIPT } from '../../harness/report/client';
import { escapeHtml, jsonForScript, renderHtml } from '../../harness/report/html';
import { timelineBands } from '../../harness/report/timeline';
import { bugTable, bugTableV2, fixtureRun, loadFixture, withFindings } from './fixture';

/** The <tr> of one target × model in the summary table. */
function summaryRow(html: string, target: string, model: string): string {
  const start = html.indexOf(`data-target="${target}" data-model="${model}"`, html.indexOf('<table class="summary">'));
  expect(start).toBeGreaterThan(0);
  const rowStart = html.lastIndexOf('<tr', start);
  return html.slice(rowStart, html.indexOf('</tr>', start) + 5);
}

function cell(row: string, column: string): string {
  const match = new RegExp(`<td[^>]*data-col="${column}"[^>]*>(.*?)</td>`).exec(row);
  expect(match).not.toBeNull();
  return match![1].replace(/<[^>]+>/g, '');
}

/** The text of the embedded JSON, parsed. */
function embeddedData(html: string): {
  runs: { target: string; model: string; groups: { recoveryOutput: string }[] }[];
} {
  const match = /<script type="application\/json" id="pmfit-data">([\s\S]*?)<\/script>/.exec(html);
  expect(match).not.toBeNull();
  return JSON.parse(match![1]);
}

function svgOf(html: string, runIndex: number): string {
  const start = html.indexOf(`<svg class="tl"`, html.indexOf(`id="run-${runIndex}"`));
  return html.slice(start, html.indexOf('</svg>', start));
}

describe('renderHtml summary', () => {
  const results = loadFixture();
  const html = renderHtml(results);

  test('the header names the version merge only when the run used it', () => {
    expect(html).toContain(' · max states ');
    expect(html).not.toContain('version merge');
    const merged = loadFixture();
    merged.options.mergeVersions = true;
    expect(renderHtml(merged)).toContain(' · px86 version merge on (images dropped: docs/models.md) · ');
  });

  test('numbers of each run appear in their own cells', () => {
    const row = summaryRow(html, 'btree', 'px86');
    expect(cell(row, 'instructions')).toBe('2,400');
    expect(cell(row, 'crashPoints')).toBe('2,401');
    expect(cell(row, 'states')).toBe('9,650');
    expect(cell(row, 'distinctImages')).toBe('1,877');
    expect(cell(row, 'violations')).toBe('32');
    expect(cell(row, 'seconds')).toBe('48.3');
    expect(cell(row, 'status')).toBe('violations');

    const log = summaryRow(html, 'log', 'flushed');
    expect(cell(log, 'instructions')).toBe('960');
    expect(cell(log, 'states')).toBe('961');
    expect(cell(log, 'distinctImages')).toBe('23');
    expect(cell(log, 'violations')).toBe('0');
    expect(cell(log, 'seconds')).toBe('4.75');
  });

  test('verdict classes: green consistent, red violations, amber control', () => {
    expect(summaryRow(html, 'btree', 'px86')).toContain('class="row v-violations"');
    expect(summaryRow(html, 'btree', 'sequential')).toContain('class="row v-consistent"');
    expect(summaryRow(html, 'log', 'px86')).toContain('class="row v-consistent"');
    const control = summaryRow(html, 'basic', 'px86');
    expect(control).toContain('class="row v-control-found"');
    expect(cell(control, 'status')).toBe('expected violations');
    expect(cell(control, 'violations')).toBe('372');
    expect(html).toContain('id="overall">FAIL<');
  });

  test('nine rows in target × model order', () => {
    const rows = [...html.matchAll(/<tr class="row [^"]*" data-target="([^"]*)" data-model="([^"]*)"/g)].map(
      (m) => `${m[1]}/${m[2]}`,
    );
    expect(rows).toEqual([
      'basic/sequential',
      'basic/flushed',
      'basic/px86',
      'btree/sequential',
      'btree/flushed',
      'btree/px86',
      'log/sequential',
      'log/flushed',
      'log/px86',
    ]);
  });

  test('no incomplete banner for complete results', () => {
    expect(html).not.toContain('id="incomplete"');
    expect(html).not.toContain('class="row v-incomplete"');
    expect(html).not.toContain('class="run v-incomplete"');
  });

  test('a positive control that found nothing is red', () => {
    const changed = loadFixture();
    const run = fixtureRun(changed, 'basic', 'flushed');
    run.groups = [{ ...run.groups[0], crashPoints: '0-412', count: 413 }];
    run.violations = 0;
    run.status = 'fail';
    const row = summaryRow(renderHtml(changed), 'basic', 'flushed');
    expect(row).toContain('v-control-missed');
    expect(cell(row, 'status')).toBe('control found none');
  });
});

describe('renderHtml with partial results', () => {
  test('banner with the reason, grey rows for unchecked and missing runs', () => {
    const results = loadFixture();
    results.incomplete = true;
    results.incompleteReason = 'interrupted by SIGINT <while checking log>';
    // log × px86 checked only crash points 0-99; log × flushed never ran.
    const px86 = fixtureRun(results, 'log', 'px86');
    px86.groups[0] = { ...px86.groups[0], crashPoints: '0-99', count: 100 };
    results.runs = results.runs.filter((run) => !(run.target === 'log' && run.model === 'flushed'));
    const html = renderHtml(results);
    expect(html).toContain('id="incomplete"');
    expect(html).toContain('interrupted by SIGINT &#60;while checking log&#62;');
    expect(summaryRow(html, 'log', 'px86')).toContain('v-incomplete');
    expect(cell(summaryRow(html, 'log', 'px86'), 'status')).toBe('incomplete');
    expect(cell(summaryRow(html, 'log', 'flushed'), 'status')).toBe('not run');
    expect(html).toContain('checked 100 of 961 crash points');
    // complete runs keep their verdicts
    expect(summaryRow(html, 'log', 'sequential')).toContain('v-consistent');
    expect(summaryRow(html, 'btree', 'px86')).toContain('v-violations');
  });
});

describe("renderHtml with a target's own models", () => {
  test('shows no row for a model the target does not run, and "not run" for one of its own that did not', () => {
    const results = loadFixture();
    results.incomplete = true;
    results.targets.find((target) => target.name === 'log')!.models = ['flushed', 'px86'];
    results.runs = results.runs.filter((run) => !(run.target === 'log' && run.model !== 'flushed'));
    const html = renderHtml(results);
    const summary = html.slice(html.indexOf('<table class="summary">'));
    expect(summary).not.toContain('data-target="log" data-model="sequential"');
    expect(cell(summaryRow(html, 'log', 'px86'), 'status')).toBe('not run');
    expect(cell(summaryRow(html, 'log', 'flushed'), 'status')).not.toBe('not run');
    // The other targets still run under every model of the run.
    expect(summaryRow(html, 'btree', 'sequential')).toContain('v-');
    expect(html).toMatch(/models sequential, flushed, px86 \(log: flushed, px86\) · /);
  });
});

describe('renderHtml escaping', () => {
  test('a recovery output with </script><b> cannot end the script or add markup', () => {
    const results = loadFixture();
    const html = renderHtml(results);
    expect(html).not.toContain('</script><b>');
    expect(html).not.toContain('<b>not bold');
    // exactly the two script elements close
    expect(html.match(/<\/script/gi)).toHaveLength(2);
    const data = embeddedData(html);
    const run = data.runs.find((r) => r.target === 'btree' && r.model === 'px86')!;
    expect(run.groups.map((g) => g.recoveryOutput)).toContain(
      fixtureRun(results, 'btree', 'px86').groups[1].recoveryOutput,
    );
    expect(fixtureRun(results, 'btree', 'px86').groups[1].recoveryOutput).toContain('</script><b>');
  });

  test('names and ids from results are escaped everywhere', () => {
    const results = loadFixture();
    const evil = '<img src=x onerror="alert(1)">&amp;';
    results.targets[1].name = evil;
    results.targets[1].description = evil;
    for (const run of results.runs) if (run.target === 'btree') run.target = evil;
    const group = fixtureRun(results, evil, 'px86').groups[1];
    group.id = evil;
    group.failed = [evil];
    group.example.next!.file = evil;
    const html = renderHtml(results);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    expect(html).toContain('&#60;img src=x onerror=&#34;alert(1)&#34;&#62;&#38;amp;');
    // and the embedded JSON still holds the exact text
    expect(JSON.stringify(embeddedData(html))).toContain(JSON.stringify(evil).slice(1, -1));
  });

  test('escape helpers', () => {
    expect(escapeHtml(`<a href='x'>&"`)).toBe('&#60;a href=&#39;x&#39;&#62;&#38;&#34;');
    const json = jsonForScript({ s: '</script><!-- \u2028 & >' });
    expect(json).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(json)).toEqual({ s: '</script><!-- \u2028 & >' });
  });
});

describe('renderHtml timeline and groups', () => {
  const results = loadFixture();
  const html = renderHtml(results);

  test('every group of every run has a band and a details element', () => {
    results.runs.forEach((run, r) => {
      const svg = svgOf(html, r);
      run.groups.forEach((group, g) => {
        expect(svg).toContain(`data-goto="g-${r}-${g}"`);
        expect(html).toContain(`<details class="group${group.violation ? ' viol' : ''}" id="g-${r}-${g}"`);
      });
    });
  });

  test('one rect per range for small runs, placed on the crash-point axis', () => {
    const index = results.runs.findIndex((run) => run.target === 'btree' && run.model === 'px86');
    const svg = svgOf(html, index);
    // ok: 3 ranges, violation: 2 ranges
    expect(svg.match(/data-goto="g-5-0"/g)).toHaveLength(3);
    expect(svg.match(/data-goto="g-5-1"/g)).toHaveLength(2);
    // 1204 of 2401 crash points → x ≈ 501.46 of 1000
    expect(svg).toMatch(/<rect class="band viol" x="501.46" y="0" width="6.66"/);
    // violation bands come after (drawn over) ok bands
    expect(svg.indexOf('g-5-1')).toBeGreaterThan(svg.lastIndexOf('g-5-0'));
    const bands = timelineBands(results.runs[index]);
    expect(bands.binned).toBe(false);
    expect(bands.domain).toBe(2401);
  });

  test('group details are not rendered up front', () => {
    const withoutData = html.replace(/<script type="application\/json"[\s\S]*?<\/script>/, '');
    // the next instruction's text appears only in the embedded data
    expect(withoutData).not.toContain('mov qword ptr [rbx+0x10], rax');
    expect(withoutData).not.toContain('btree_check: node 3');
    // the summary line does show where and what
    expect(withoutData).toContain('targets/btree/btree.c:142');
    expect(withoutData).toContain('1204-1219,1225-1240');
  });

  test('self-contained: nothing fetched from the network', () => {
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(|@font-face/i);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  test('the inline script is valid JavaScript', () => {
    expect(() => new Function(CLIENT_SCRIPT)).not.toThrow();
    expect(CLIENT_SCRIPT).not.toMatch(/<\/script|<!--/i);
    expect(CLIENT_SCRIPT).not.toContain('innerHTML');
  });
});

describe('renderHtml mutant table', () => {
  const bugs = bugTable();

  test('rows, cells and rates', () => {
    const html = renderHtml(loadFixture(), { bugs });
    const section = html.slice(
      html.indexOf('<section id="bugs">'),
      html.indexOf('</section>', html.indexOf('<section id="bugs">')),
    );
    expect(section).toContain('<tr data-mutant="btree-drop-flush">');
    expect(section).toContain('data-mutant="log-&#60;swap&#62;-fence"');
    expect(section.match(/class="mut killed"/g)).toHaveLength(3);
    expect(section.match(/class="mut survived"/g)).toHaveLength(3);
    expect(section.match(/class="mut equivalent"/g)).toHaveLength(3);
    expect(section).toContain('equivalent: the fence moves past a store to DRAM');
    expect(section).toContain('<td class="rate" data-model="px86">66.7%</td>');
    expect(section).toContain('<td class="rate" data-model="sequential">0.0%</td>');
  });

  test('version 2: a column group per check, each with a cell per model, and its rates', () => {
    const html = renderHtml(loadFixture(), { bugs: bugTableV2() });
    const section = html.slice(
      html.indexOf('<section id="bugs">'),
      html.indexOf('</section>', html.indexOf('<section id="bugs">')),
    );
    const titles = [...section.matchAll(/<th colspan="3" class="check" data-check="([^"]+)">([^<]+)<\/th>/g)];
    expect(titles.map((m) => [m[1], m[2]])).toEqual([
      ['no-window', 'no window'],
      ['window', 'window'],
      ['depth2', 'depth 2'],
    ]);
    const row = section.slice(section.indexOf('<tr data-mutant="btree-drop-flush">')).split('</tr>')[0];
    const cells = [
      ...row.matchAll(/<td class="mut ([^"]+)" data-model="(\w+)" data-check="([\w-]+)"[^>]*>([^<]*)<\/td>/g),
    ];
    expect(cells.map((m) => `${m[3]}/${m[2]}: ${m[4]}`)).toEqual([
      'no-window/sequential: survived',
      'no-window/flushed: survived',
      'no-window/px86: killed',
      'window/sequential: survived',
      'window/flushed: killed',
      'window/px86: killed',
      'depth2/sequential: —',
      'depth2/flushed: killed at depth 1',
      'depth2/px86: killed at depth 1',
    ]);
    // the mutant only depth 2 kills
    expect(section).toMatch(
      /data-mutant="log-&#60;swap&#62;-fence">(?:(?!<\/tr>).)*<td class="mut killed" data-model="px86" data-check="depth2">killed<\/td>/s,
    );
    // the equivalent: equivalent in every cell of every check
    const equivalent = section.slice(section.indexOf('<tr data-mutant="log-late-fence">')).split('</tr>')[0];
    expect(equivalent.match(/class="mut equivalent"/g)).toHaveLength(9);
    expect(section).toContain('<td class="rate" data-model="px86" data-check="depth2">100.0%</td>');
    expect(section).toContain('<td class="rate" data-model="px86" data-check="no-window">50.0%</td>');
    expect(section.match(/<td class="rate"/g)).toHaveLength(9);
    expect(section).toContain('Depth 2 not run in log-create: its recovery is a shell line');
  });

  test('version 2 with cells of an unknown kind: left out with a note', () => {
    const bugs = bugTableV2();
    bugs.mutants[0].columns!.window.px86 = 'maybe' as never;
    expect(renderHtml(loadFixture(), { bugs })).toContain('format this report does not know');
  });

  test('absent without extras, a note for an unknown shape', () => {
    expect(renderHtml(loadFixture())).not.toContain('id="bugs"');
    const html = renderHtml(loadFixture(), { bugs: { mutants: 'nope' } });
    expect(html).toContain('id="bugs"');
    expect(html).toContain('format this report does not know');
  });
});

describe('the fuzz section', () => {
  const fuzz = { target: 'tree_broken', model: 'px86' as const, runs: 10, cases: 17, maxOps: 4, seed: 42 };

  test('absent for allcounts results, "no failure" for a fuzz run without one', () => {
    expect(renderHtml(loadFixture())).not.toContain('id="fuzz"');
    const html = renderHtml({ ...loadFixture(), runs: [], targets: [], fuzz });
    const section = html.slice(
      html.indexOf('<section id="fuzz">'),
      html.indexOf('</section>', html.indexOf('<section id="fuzz">')),
    );
    expect(section).toContain(
      'target tree_broken · model px86 · 10 generated cases of up to 4 operations · seed 42 · 17 cases checked',
    );
    expect(section).toContain('no failure</span> in 10 generated cases');
  });

  test('a counterexample: its operations, failure and commands, escaped', () => {
    const counterexample = {
      ops: ["insert 'a<b>'", 'free'],
      failure: ['crash point: k=272', 'recovery output: </script><b>x</b>'],
      replay: "pmfit replay 'reports/fuzz-tree_broken-42.json'",
      repeat: 'pmfit fuzz tree_broken --seed 42 --path 1:0',
    };
    const html = renderHtml({ ...loadFixture(), fuzz: { ...fuzz, counterexample } });
    const section = html.slice(
      html.indexOf('<section id="fuzz">'),
      html.indexOf('</section>', html.indexOf('<section id="fuzz">')),
    );
    expect(section).toContain('shrunk to 2 operations');
    expect(section).toContain('<li><code>insert &#39;a&#60;b&#62;&#39;</code></li><li><code>free</code></li>');
    expect(section).toContain('recovery output: &#60;/script&#62;&#60;b&#62;x&#60;/b&#62;');
    expect(section).not.toContain('<b>');
    expect(section).toContain(`<pre>${escapeHtml(counterexample.replay)}</pre><button type="button" class="copy"`);
    expect(section).toContain(escapeHtml(counterexample.repeat));
  });
});

describe('renderHtml with findings', () => {
  test('opens on the findings: title, culprit with source excerpt and stack, reproduce line', () => {
    const html = renderHtml(withFindings(2));
    const findings = html.indexOf('<section id="findings">');
    expect(findings).toBeGreaterThan(0);
    expect(findings).toBeLessThan(html.indexOf('<section id="summary">'));
    expect(html).toContain('<article class="finding" id="btree-px86-f1">');
    expect(html).toContain('<code>/work/main/targets/btree/btree.c:100</code>');
    expect(html).toContain('  100 | \tparent-&#62;child[i] = node; /* &#60;b&#62;&#38;&#60;/b&#62; */');
    expect(html).toContain('at btree_insert+0x40 /work/main/targets/btree/btree.c:140');
    expect(html).toContain('pmfit reproduce reports/results.json btree-px86-f2');
  });

  test('the stack under the excerpt, the own frame marked', () => {
    const html = renderHtml(withFindings(1));
    expect(html).toContain('&#62; at btree_link+0x1c /work/main/targets/btree/btree.c:100\n  at btree_insert+0x40');
  });

  test('stacks not unwound: the reason above the findings, once', () => {
    const results = withFindings(1);
    const why =
      "libdw.so.1: cannot open shared object file; install elfutils' libdw (Debian and Ubuntu: apt-get install libdw1)";
    for (const target of results.targets) target.stacks = { kind: 'unavailable', why };
    const html = renderHtml(results);
    expect(html.split('Call stacks not unwound').length - 1).toBe(1);
    expect(html).toContain(`<p class="meta">Call stacks not unwound: ${escapeHtml(why)}</p>`);
  });

  test('no findings, no section', () => {
    expect(renderHtml(loadFixture())).not.toContain('id="findings"');
  });
});
