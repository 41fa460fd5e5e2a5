// The HTML report of `edgerec evaluate --html`, rendered in headless Chromium: it loads nothing
// from the network, logs no errors, and each plot holds the JSON report's numbers, drawn to
// scale (bar lengths, point heights and error bars). A full-page screenshot is kept.
//
// Environment: EDGEREC_BIN (the edgerec binary), EDGEREC_TOOLS (node_modules with
// playwright-core), EDGEREC_ARTEFACTS (where the report, its JSON and the screenshot go),
// CHROMIUM (default /usr/bin/chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
const env = (k, d) => process.env[k] ?? d;
const BIN = env('EDGEREC_BIN', path.join(root, 'target/release/edgerec'));
const TOOLS = env('EDGEREC_TOOLS', path.join(root, 'packages/edgerec/tools/node_modules'));
const ARTEFACTS = env('EDGEREC_ARTEFACTS', path.join(root, 'target/test-artefacts/eval-report'));
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const DATA = path.join(root, 'data/demo');

/** Whether two numbers drawn in pixels agree (SVG coordinates are written to 0.01 or better). */
const near = (a, b, what, tol = 0.02) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('edgerec evaluate --html: the plots hold the JSON report\'s numbers, drawn to scale', async () => {
  fs.mkdirSync(ARTEFACTS, { recursive: true });
  const json = path.join(ARTEFACTS, 'report.json');
  const html = path.join(ARTEFACTS, 'report.html');
  const shot = path.join(ARTEFACTS, 'report.png');
  execFileSync(BIN, [
    'evaluate',
    '--interactions', path.join(DATA, 'interactions.csv'),
    '--items', path.join(DATA, 'items.csv'),
    '--config', path.join(DATA, 'edgerec.toml'),
    '--json', json,
    '--html', html,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.ok(report.results.length >= 3, 'several recommenders');

  const { chromium } = await import(pathToFileURL(path.join(TOOLS, 'playwright-core/index.mjs')).href);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = [];
    const requests = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(html).href;
    await page.goto(url, { waitUntil: 'load' });
    assert.deepEqual(requests, [url], 'the page fetches nothing but itself');
    // The screenshot first, so that it is there to look at when a check below fails.
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`evaluation report screenshot: ${shot}`);

    /** Every mark of one chart: its data attributes and the geometry of its shapes. */
    const marks = (chart) => page.$$eval(`[data-chart="${chart}"] [data-recommender][data-value]`, (els) => els.map((g) => {
      const panel = g.closest('[data-chart]');
      const rect = g.querySelector('rect');
      const circle = g.querySelector('circle');
      const err = g.querySelector('.err');
      return {
        ...g.dataset,
        origin: Number(panel.dataset.origin),
        scale: Number(panel.dataset.scale),
        title: g.querySelector('title')?.textContent ?? '',
        rect: rect && { x: Number(rect.getAttribute('x')), width: Number(rect.getAttribute('width')) },
        cy: circle && Number(circle.getAttribute('cy')),
        err: err && err.getAttribute('d').match(/-?\d+(\.\d+)?/g).map(Number),
        shown: g.getBoundingClientRect().width > 0,
      };
    }));
    const byName = (list) => Object.fromEntries(list.map((m) => [m.recommender, m]));

    const ndcg = byName(await marks('ndcg_at_10'));
    const coverage = byName(await marks('coverage'));
    const train = byName(await marks('train_seconds'));
    const bytes = byName(await marks('model_bytes'));
    const cold = await marks('cold_ndcg_at_10');
    for (const r of report.results) {
      const a = r.split_a;
      const bar = ndcg[r.name];
      assert.ok(bar?.shown, `${r.name}: an NDCG@10 bar`);
      assert.equal(Number(bar.value), a['NDCG@10'], `${r.name}: NDCG@10`);
      assert.equal(Number(bar.se), a['NDCG@10_se'], `${r.name}: its standard error`);
      near(bar.rect.x, bar.origin, `${r.name}: bar starts at 0`);
      near(bar.rect.width, a['NDCG@10'] * bar.scale, `${r.name}: bar length`);
      // The whisker: M lo mid H hi, from mean − se to mean + se.
      near(bar.err[0], bar.origin + Math.max(0, a['NDCG@10'] - a['NDCG@10_se']) * bar.scale, `${r.name}: whisker low`);
      near(bar.err[2], bar.origin + (a['NDCG@10'] + a['NDCG@10_se']) * bar.scale, `${r.name}: whisker high`);
      assert.match(bar.title, new RegExp(`^${r.name}: NDCG@10 ${a['NDCG@10'].toFixed(4)} ± ${a['NDCG@10_se'].toFixed(4)}`));

      for (const [chart, got, want] of [
        ['coverage', coverage[r.name], a.personalize.coverage],
        ['training time', train[r.name], r.train_seconds],
        ['model bytes', bytes[r.name], r.model_bytes],
      ]) {
        assert.ok(got?.shown, `${r.name}: a ${chart} bar`);
        assert.equal(Number(got.value), want, `${r.name}: ${chart}`);
        near(got.rect.width, want * got.scale, `${r.name}: ${chart} bar length`);
      }

      assert.deepEqual(r.split_b.map((c) => c.N), [1, 3, 5]);
      for (const c of r.split_b) {
        const p = cold.find((m) => m.recommender === r.name && Number(m.n) === c.N);
        assert.ok(p?.shown, `${r.name}: a split-B point at N = ${c.N}`);
        assert.equal(Number(p.value), c['NDCG@10'], `${r.name} N=${c.N}: NDCG@10`);
        assert.equal(Number(p.se), c['NDCG@10_se'], `${r.name} N=${c.N}: its standard error`);
        near(p.cy, p.origin - c['NDCG@10'] * p.scale, `${r.name} N=${c.N}: point height`);
        // The whisker: M x (mean − se) V (mean + se), in screen y (down).
        near(p.err[1], p.origin - Math.max(0, c['NDCG@10'] - c['NDCG@10_se']) * p.scale, `${r.name} N=${c.N}: whisker low`);
        near(p.err[2], p.origin - (c['NDCG@10'] + c['NDCG@10_se']) * p.scale, `${r.name} N=${c.N}: whisker high`);
      }
    }
    assert.equal(Object.keys(ndcg).length, report.results.length, 'one bar per recommender, no more');
    assert.equal(cold.length, report.results.length * 3, 'three points per recommender');
    const own = report.results.reduce((s, r) => s + r.model_bytes, 0);
    assert.ok(own > 0 && own < report.model_bytes, `recommender sections ${own} B within the file's ${report.model_bytes} B`);

    // The baseline's reference line sits at its NDCG@10.
    const base = report.results.find((r) => r.name === report.baseline);
    const ref = await page.$eval('[data-chart="ndcg_at_10"] .reference', (g) => Number(g.dataset.value));
    assert.equal(ref, base.split_a['NDCG@10']);

    // The table: one row per recommender, with the numbers as the text report rounds them.
    const rows = await page.$$eval('#numbers tbody tr', (trs) => trs.map((tr) => ({ name: tr.dataset.recommender, cells: [...tr.cells].map((td) => td.textContent) })));
    assert.deepEqual(rows.map((r) => r.name), report.results.map((r) => r.name));
    for (const r of report.results) {
      const row = rows.find((x) => x.name === r.name);
      assert.equal(row.cells[1], `${r.split_a["NDCG@10"].toFixed(4)} ±${r.split_a["NDCG@10_se"].toFixed(4)}`);
    }
    // Every plot is on the page with room to read: at least 200 CSS pixels wide, and the
    // page needs no sideways scrolling.
    const widths = await page.$$eval('[data-chart]', (els) => els.map((e) => [e.dataset.chart, e.getBoundingClientRect().width]));
    assert.deepEqual(widths.map((w) => w[0]).sort(), ['cold_ndcg_at_10', 'coverage', 'model_bytes', 'ndcg_at_10', 'train_seconds']);
    for (const [chart, w] of widths) assert.ok(w >= 200, `${chart}: ${w} px wide`);
    const overflow = await page.evaluate(() => [document.documentElement.scrollWidth, ...[...document.querySelectorAll('section')].map((e) => e.scrollWidth - e.clientWidth)]);
    assert.ok(overflow[0] <= 1200, `page width ${overflow[0]}`);
    assert.deepEqual(overflow.slice(1), [0], 'the table fits');

    assert.deepEqual(problems, [], 'no console errors or warnings');
  } finally {
    await browser.close();
  }
});
