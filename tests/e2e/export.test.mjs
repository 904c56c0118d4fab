// End-to-end tests of taking the scenario results away, in a real Chromium (Debian's, driven by
// playwright-core): the results' CSV against `subtwin simulate --csv`, a card's scenario file loaded
// back into the page and read by the command, each chart as PNG (the canvas) and SVG (well-formed,
// with its title, legend and series), and the printed page (controls left out, results shown, a PDF
// of several pages).
//
// Run from the repository root with the other end-to-end tests: node --test tests/e2e/
// Needs the WebAssembly module in www/pkg, /usr/bin/chromium and the native command (built with
// `cargo build -q` when missing). Runs are small (200 paths of 12 months) to keep the suite quick.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isOwnFile } from './server.mjs';
import { BINARY, REPO, WWW, browserSuite, recordedPage } from './suite.mjs';

const DEMO_CSV = path.join(WWW, 'demo-stripe.csv');
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const WAIT = 90_000;
const RUN = { horizon: '12', paths: '200', seed: '20251231' };
const PRESET = 'Raise monthly prices 20%';

const suite = browserSuite('export', { wait: WAIT });

/** The demo opened in a fresh profile, its twin calibrated, with everything the page does recorded. */
async function openPage() {
  const { context, page, log } = await recordedPage(suite.browser, WAIT);
  await page.goto(`${suite.origin}/?workers=2`, { timeout: WAIT });
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.twin), null, { timeout: WAIT });
  assert.equal(await page.evaluate(() => document.body.dataset.twin), 'ready', 'the demo\'s twin is calibrated');
  await page.fill('#sim-horizon', RUN.horizon);
  await page.fill('#sim-paths', RUN.paths);
  await page.fill('#sim-seed', RUN.seed);
  return { context, page, log };
}

/** No console errors or warnings (a CSP violation is one), no uncaught errors, only the page's own files. */
function assertCleanRun(log) {
  const noisy = log.console.filter((m) => m.type === 'error' || m.type === 'warning');
  assert.deepEqual(noisy.map((m) => `${m.type}: ${m.text}`), [], 'console errors or warnings');
  assert.deepEqual(log.errors, [], 'the page had uncaught errors');
  const strangers = log.requests.filter(
    (url) => !url.startsWith('blob:') && !(url.startsWith(suite.origin + '/') && isOwnFile(new URL(url).pathname)),
  );
  assert.deepEqual(strangers, [], 'the page asked for something other than its own files');
}

async function waitForResults(page, what) {
  await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.body.dataset.sim), null, { timeout: WAIT });
  const state = await page.evaluate(() => ({
    sim: document.body.dataset.sim,
    error: document.getElementById('sim-error').textContent,
  }));
  assert.equal(state.sim, 'done', `${what}: ${JSON.stringify(state)}`);
}

/** Clicks `locator` and returns the file the page downloads: its suggested name and bytes. */
async function download(page, locator) {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), locator.click()]);
  return { name: file.suggestedFilename(), bytes: fs.readFileSync(await file.path()) };
}

/** `subtwin simulate` of the demo with these scenario files and the test's run settings. */
function simulate(files, extra) {
  const args = ['simulate', DEMO_CSV, ...files.flatMap((file) => ['--scenario', file])];
  args.push('--horizon', RUN.horizon, '--runs', RUN.paths, '--seed', RUN.seed, ...extra);
  const run = spawnSync(BINARY, args, { encoding: 'utf8', timeout: WAIT, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(run.status, 0, `\`subtwin ${args.join(' ')}\` failed: ${run.stderr}`);
  return run.stdout;
}

/** Every control of a card, as a person sees it: each input's value or checked state, each select's choice. */
function cardFields(card) {
  return card.evaluate((element) => [
    element.querySelector('.scenario-name').value,
    ...[...element.querySelectorAll('fieldset input, fieldset select')].map((control) =>
      control.type === 'checkbox' || control.type === 'radio' ? `${control.checked}` : control.value,
    ),
  ]);
}

test('the results download as the CSV `subtwin simulate --csv` writes, byte for byte', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.click(`#sim-presets button[data-preset="${PRESET}"]`);
    await page.click('#sim-presets button[data-preset="Acquisition push +25%"]');
    await waitForResults(page, 'two presets');
    const csv = await download(page, page.locator('#download-csv'));
    assert.equal(csv.name, 'subtwin-simulation.csv');
    const files = [];
    for (const [index, link] of (await page.locator('.scenario-card .download-scenario').all()).entries()) {
      const scenario = await download(page, link);
      const file = path.join(suite.tmp, `csv-${index}.json`);
      fs.writeFileSync(file, scenario.bytes);
      files.push(file);
    }
    const command = simulate(files, ['--csv', '-']);
    const text = csv.bytes.toString('utf8');
    assert.ok(text === command, `the page's CSV differs from the command's (${text.length} vs ${command.length} characters)`);
    const [header, first] = text.split('\n');
    assert.equal(header, 'run,name,segment,measure,unit,month,p5,p10,p25,p50,p75,p90,p95,mean,probability_ahead,probability_level');
    assert.match(first, /^0,Baseline,/);
    assert.ok(text.includes(`\n2,Acquisition push +25%,(all segments),mrr_difference,usd,2026-12,`), 'the second scenario\'s difference');
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('a card\'s scenario file opens back as the same card, and the command reads it', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.click('#sim-presets button[data-preset="Introductory discount 30% for 3 months"]');
    await waitForResults(page, 'the preset');
    const card = page.locator('.scenario-card').first();
    // An edit first, so that the file holds more than the preset: a name with characters JSON escapes.
    await card.locator('.scenario-name').fill('Intro "30%" \\ spring');
    await waitForResults(page, 'after renaming');
    const before = await cardFields(card);
    const saved = await download(page, card.locator('.download-scenario'));
    assert.equal(saved.name, 'subtwin-scenario-intro-30-spring.json', 'named after the scenario');
    const file = path.join(suite.tmp, 'round-trip.json');
    fs.writeFileSync(file, saved.bytes);
    assert.equal(JSON.parse(saved.bytes.toString('utf8')).name, 'Intro "30%" \\ spring');

    await card.locator('.remove-scenario').click();
    assert.equal(await page.locator('.scenario-card').count(), 0);
    await page.setInputFiles('#sim-open', file);
    await page.waitForFunction(() => document.querySelectorAll('.scenario-card').length === 1);
    await waitForResults(page, 'the file opened');
    const reopened = page.locator('.scenario-card').first();
    assert.deepEqual(await cardFields(reopened), before, 'the same card: every field as it was');
    const again = await download(page, reopened.locator('.download-scenario'));
    assert.ok(again.bytes.equals(saved.bytes), 'the card downloads the same file again');
    assert.deepEqual(
      (await page.locator('.scenario-result h4').allTextContents()),
      ['Intro "30%" \\ spring'],
      'the results show it',
    );

    // The command reads the file and simulates the same scenario the page shows.
    const json = JSON.parse(simulate([file], ['--json']));
    assert.equal(json.scenarios.length, 1);
    assert.deepEqual(json.scenarios[0].scenario, JSON.parse(saved.bytes.toString('utf8')));
    const pageJson = await download(page, page.locator('#download-simulation'));
    assert.equal(pageJson.bytes.toString('utf8'), simulate([file], ['--json']).replace(/\n$/, ''));
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

/** The width and height a PNG's header gives. */
function pngSize(bytes) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(bytes.subarray(0, 8).equals(signature), 'a PNG signature');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR', 'the header chunk first');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('each results chart downloads as a PNG of its canvas and as a well-formed SVG of the same chart', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.click(`#sim-presets button[data-preset="${PRESET}"]`);
    await waitForResults(page, 'the preset');
    await page.waitForSelector('canvas.tornado');
    const charts = [
      ['#chart-fan-mrr', 'subtwin-fan-mrr', 'MRR: the baseline and each scenario'],
      ['#chart-fan-paid', 'subtwin-fan-paid', 'Paid subscribers: the baseline and each scenario'],
      ['#chart-diff-mrr', 'subtwin-histogram-mrr', 'MRR at 2026-12: each scenario minus the baseline, path by path'],
      ['#chart-diff-revenue', 'subtwin-histogram-revenue', 'Revenue billed over the horizon: each scenario minus the baseline'],
      ['canvas.tornado', 'subtwin-tornado-1', `${PRESET}: mean revenue difference with each input at its ends`],
    ];
    // Ten downloads in a row: Chromium refuses an eleventh started within a few seconds of them.
    for (const [selector, stem, title] of charts) {
      const canvas = page.locator(selector);
      const size = await canvas.evaluate((c) => ({ width: c.width, height: c.height }));
      const bar = canvas.locator('xpath=following-sibling::p[contains(@class, "chart-downloads")][1]');
      const png = await download(page, bar.locator('.download-png'));
      assert.equal(png.name, `${stem}.png`);
      assert.deepEqual(pngSize(png.bytes), size, `${selector}: the PNG is the canvas's size`);
      assert.ok(png.bytes.length > 10_000, `${selector}: the PNG holds the drawing (${png.bytes.length} bytes)`);

      const svg = await download(page, bar.locator('.download-svg'));
      assert.equal(svg.name, `${stem}.svg`);
      const text = svg.bytes.toString('utf8');
      if (stem === 'subtwin-fan-mrr') {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        fs.writeFileSync(path.join(ARTIFACTS, 'chart-fan-mrr.svg'), svg.bytes);
      }
      // The browser's own XML parser: a document that is not well-formed gives a <parsererror>.
      const parsed = await page.evaluate((source) => {
        const doc = new DOMParser().parseFromString(source, 'image/svg+xml');
        const root = doc.documentElement;
        return {
          error: doc.getElementsByTagName('parsererror').length > 0 ? root.textContent : '',
          root: root.nodeName,
          namespace: root.namespaceURI,
          width: root.getAttribute('width'),
          height: root.getAttribute('height'),
          texts: [...doc.getElementsByTagName('text')].map((t) => t.textContent.trim()),
          polylines: doc.getElementsByTagName('polyline').length,
          polygons: doc.getElementsByTagName('polygon').length,
          rects: doc.getElementsByTagName('rect').length,
        };
      }, text);
      assert.equal(parsed.error, '', `${selector}: the SVG is well-formed XML`);
      assert.equal(parsed.root, 'svg');
      assert.equal(parsed.namespace, 'http://www.w3.org/2000/svg');
      assert.deepEqual({ width: Number(parsed.width), height: Number(parsed.height) }, size, `${selector}: the canvas's size`);
      assert.ok(parsed.texts.includes(title), `${selector}: the title in ${JSON.stringify(parsed.texts)}`);
      if (selector.includes('fan')) {
        assert.ok(parsed.texts.includes('Baseline (median)') && parsed.texts.includes(`${PRESET} (median)`), `${selector}: the legend`);
        assert.ok(parsed.polylines >= 2 && parsed.polygons === 2, `${selector}: a median and a band per run`);
      } else if (selector.includes('diff')) {
        assert.ok(parsed.texts.includes(PRESET) && parsed.texts.includes('no difference'), `${selector}: the legend`);
        assert.ok(parsed.rects >= 30, `${selector}: the bins (${parsed.rects} rectangles)`);
      } else {
        assert.ok(parsed.texts.some((t) => t.startsWith('churn elasticity (')), `${selector}: the inputs named`);
        assert.ok(parsed.texts.includes('at the high end'), `${selector}: the legend`);
      }
    }
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('printed, the page leaves its controls out and shows the results, charts and table; a PDF of several pages', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.click(`#sim-presets button[data-preset="${PRESET}"]`);
    await waitForResults(page, 'the preset');
    await page.waitForSelector('canvas.tornado');
    assert.equal(await page.isVisible('#sim-print'), true, 'Print shows on screen');
    assert.equal(await page.isVisible('#download-csv'), true, 'the CSV download shows on screen');
    assert.equal(await page.isVisible('.chart-downloads'), true, 'the chart downloads show on screen');
    // Print calls the browser's print dialog.
    await page.evaluate(() => {
      window.printed = 0;
      window.print = () => {
        window.printed += 1;
      };
    });
    await page.click('#sim-print');
    assert.equal(await page.evaluate(() => window.printed), 1, 'Print opens the print dialog');

    // About the width of an A4 page's printable area.
    await page.setViewportSize({ width: 700, height: 900 });
    await page.emulateMedia({ media: 'print' });
    const hidden = [
      '#input', '#drop', '#sim-run', '.run-bar', '#sim-presets', '#sim-cards', '.scenario-card', '#sim-print',
      '#download-csv', '#download-simulation', '.chart-downloads', '#sim-status', '.segment-picker',
    ];
    for (const selector of hidden) {
      const shown = await page.locator(selector).evaluateAll((elements) => elements.filter((e) => e.checkVisibility()).length);
      assert.equal(shown, 0, `printed: ${selector} is left out`);
    }
    const sentences = await page.evaluate(() =>
      ['download-simulation', 'download-fit', 'download-json'].filter((id) => document.getElementById(id).parentElement.checkVisibility()),
    );
    assert.deepEqual(sentences, [], 'printed: a download link\'s sentence is left out with it');
    const visible = [
      'header h1', '#facts', '#chart-mrr', '#twin-summary', '#sim-results', '#sim-facts', '#sim-conventions',
      '#chart-fan-mrr', '#chart-fan-paid', '#chart-diff-mrr', '#chart-diff-revenue', 'canvas.tornado',
      '#sim-key-numbers', '.scenario-result .scenario-summary', '.scenario-result .scenario-inputs',
    ];
    for (const selector of visible) {
      assert.equal(await page.locator(selector).first().isVisible(), true, `printed: ${selector} shows`);
    }
    const inputs = await page.locator('.scenario-result .scenario-inputs li').allTextContents();
    assert.ok(inputs.some((i) => /learned/.test(i)) && inputs.some((i) => /assumed/i.test(i)), `learned and assumed inputs: ${inputs}`);
    const breaks = await page.evaluate(() =>
      ['#chart-fan-mrr', 'canvas.tornado', '#sim-key-numbers'].map((s) => getComputedStyle(document.querySelector(s)).breakInside),
    );
    assert.deepEqual(breaks, ['avoid', 'avoid', 'avoid'], 'charts and the key numbers are not split across pages');
    const overflow = await page.evaluate(() => {
      const table = document.getElementById('sim-key-numbers');
      return table.getBoundingClientRect().right - document.getElementById('sim-results').getBoundingClientRect().right;
    });
    assert.ok(overflow <= 1, `the key numbers fit the printed width (${overflow} pixels over)`);
    const tall = await page.evaluate(() => getComputedStyle(document.querySelector('.table-wrap.tall')).maxHeight);
    assert.equal(tall, 'none', 'scrolling tables print whole');

    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', 'a PDF');
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page(?!s)/g) || []).length;
    assert.ok(pages >= 3, `several pages (${pages})`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'page-printed.pdf'), pdf);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});
