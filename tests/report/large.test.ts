// A run with 100,000 crash points split into tens of thousands of ranges:
// the page stays small (binned timeline, details left to the browser) and
// rendering is quick. Sizes are asserted; time is only reported.

import { renderHtml } from '../../harness/report/html';
import { renderJunit } from '../../harness/report/junit';
import { MAX_EXACT_BANDS, TIMELINE_WIDTH, timelineBands } from '../../harness/report/timeline';
import { parseSpans } from '../../harness/_internals/collate';
import { parseXml } from './xml';
import { syntheticLarge } from './fixture';

describe('100,000 crash points', () => {
  const results = syntheticLarge(100_000);

  test('the synthetic runs really are fragmented', () => {
    for (const run of results.runs) {
      const ranges = run.groups.reduce((n, g) => n + parseSpans(g.crashPoints).length, 0);
      expect(ranges).toBeGreaterThan(20_000);
      expect(run.groups.reduce((n, g) => n + g.count, 0)).toBe(100_001);
    }
  });

  test('timeline bins into at most one band per column, violations first', () => {
    const run = results.runs[0];
    const timeline = timelineBands(run);
    expect(timeline.binned).toBe(true);
    expect(timeline.domain).toBe(100_001);
    expect(timeline.bands.length).toBeLessThanOrEqual(TIMELINE_WIDTH);
    expect(timeline.bands.length).toBeLessThan(MAX_EXACT_BANDS);
    // every column shows something, bands tile the axis in order
    let x = 0;
    for (const band of timeline.bands) {
      expect(band.x).toBe(x);
      x += band.width;
    }
    expect(x).toBe(TIMELINE_WIDTH);
    expect(timeline.bands[0].first).toBe(0);
    expect(timeline.bands[timeline.bands.length - 1].last).toBe(100_000);
    // with ~45% violating crash points in 1-3 point stretches, every
    // 100-point column holds a violation, so no ok group is shown
    for (const band of timeline.bands) expect(run.groups[band.group].violation).toBe(true);
  });

  test('a tiny violation in a huge ok run still shows', () => {
    const run = { ...results.runs[0] };
    const ok = { ...run.groups[0], violation: false, kind: 'ok' as const };
    // 5,000 single ok points and one violating crash point among them
    const points = Array.from({ length: 5000 }, (_, i) => i * 20);
    ok.crashPoints = points.map((p) => `${p}-${p + 18}`).join(',');
    const bad = { ...run.groups[1], crashPoints: '55559' };
    run.groups = [ok, bad];
    const timeline = timelineBands(run);
    expect(timeline.binned).toBe(true);
    const shown = timeline.bands.filter((b) => b.group === 1);
    expect(shown).toHaveLength(1);
    expect(shown[0].first).toBeLessThanOrEqual(55559);
    expect(shown[0].last).toBeGreaterThanOrEqual(55559);
    expect(shown[0].mixed).toBe(true);
  });

  test('HTML renders quickly and stays under 5 MB', () => {
    const start = process.hrtime.bigint();
    const html = renderHtml(results);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const bytes = Buffer.byteLength(html);
    console.log(`3 runs × 100,001 crash points: ${(bytes / 1e6).toFixed(2)} MB of HTML in ${ms.toFixed(0)} ms`);
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
    const rects = html.match(/<rect class="band/g) ?? [];
    expect(rects.length).toBeLessThanOrEqual(3 * TIMELINE_WIDTH);
    // details are not pre-rendered: one empty slot per group
    expect(html.match(/<div class="detail">/g)).toHaveLength(3 * 5);
  });

  test('JUnit stays well-formed and bounded', () => {
    const xml = renderJunit(results);
    const root = parseXml(xml);
    // one failure per run (its 4 violation groups in the text), none per finding here
    expect(root.attributes.failures).toBe('3');
    expect(Buffer.byteLength(xml)).toBeLessThan(5 * 1024 * 1024);
  });
});
