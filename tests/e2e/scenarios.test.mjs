// End-to-end tests of the page's scenario section in a real Chromium (Debian's, driven by
// playwright-core): presets on the demo's twin, several scenarios side by side, the simulation JSON
// the page downloads against `subtwin simulate --json` for the same scenario files (byte for byte,
// with one worker or three), Cancel, a scenario file the core refuses, and the request log.
//
// Run from the repository root with the other end-to-end tests: node --test tests/e2e/
// Needs the WebAssembly module in www/pkg, /usr/bin/chromium and the native command (built with
// `cargo build -q` when missing). Runs are small (200 paths of 12 months) to keep the suite quick.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OWN_FILES, isOwnFile } from './server.mjs';
import { BINARY, REPO, WWW, browserSuite, recordedPage } from './suite.mjs';

const DEMO_CSV = path.join(WWW, 'demo-stripe.csv');
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const WAIT = 90_000;
const RUN = { horizon: '12', paths: '200', seed: '20251231' };

const suite = browserSuite('scenarios', { wait: WAIT });

/** A fresh profile with everything it does recorded; `query` is the page's query string. */
async function openPage(query = '') {
  const { context, page, log } = await recordedPage(suite.browser, WAIT);
  await page.goto(`${suite.origin}/${query}`, { timeout: WAIT });
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.twin), null, { timeout: WAIT });
  assert.equal(await page.evaluate(() => document.body.dataset.twin), 'ready', 'the demo\'s twin is calibrated');
  assert.equal(await page.isVisible('#scenarios'), true, 'the scenario section shows once the twin is in');
  return { context, page, log };
}

/** The page stayed quiet and asked only our server for its own files (its workers' included). */
function assertCleanRun(log) {
  const noisy = log.console.filter((m) => m.type === 'error' || m.type === 'warning');
  assert.deepEqual(noisy.map((m) => `${m.type}: ${m.text} (at ${m.url || 'no url'})`), [], 'console errors or warnings');
  assert.deepEqual(log.errors, [], 'the page had uncaught errors');
  assert.deepEqual(log.failed, [], 'some requests failed');
  assert.deepEqual(log.badResponses, [], 'some requests got an error status');
  const elsewhere = log.requests.filter((url) => !url.startsWith(suite.origin + '/') && !url.startsWith('blob:'));
  assert.deepEqual(elsewhere, [], `the page sent requests outside its origin ${suite.origin}`);
  const strangers = log.requests
    .filter((url) => url.startsWith(suite.origin + '/'))
    .filter((url) => !isOwnFile(new URL(url).pathname));
  assert.deepEqual(strangers, [], `the page asked for files that are not its own (allowed: ${OWN_FILES.join(' ')} /pkg/*)`);
}

async function setRun(page, { horizon, paths, seed } = RUN) {
  await page.fill('#sim-horizon', horizon);
  await page.fill('#sim-paths', paths);
  await page.fill('#sim-seed', seed);
}

/** Waits until the section has simulated and searched everything asked (or failed, which fails the test). */
async function waitForResults(page, what) {
  try {
    await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.body.dataset.sim), null, { timeout: WAIT });
  } catch (error) {
    throw new Error(`${what}: the simulation did not finish: ${JSON.stringify(await simState(page))}`);
  }
  const state = await simState(page);
  assert.equal(state.sim, 'done', `${what}: ${JSON.stringify(state)}`);
  return state;
}

function simState(page) {
  return page.evaluate(() => ({
    sim: document.body.dataset.sim,
    status: document.getElementById('sim-status-text').textContent,
    error: document.getElementById('sim-error').hidden ? '' : document.getElementById('sim-error').textContent,
    cards: [...document.querySelectorAll('.scenario-card')].map((card) => ({
      status: card.dataset.status,
      error: card.querySelector('.card-error').hidden ? '' : card.querySelector('.card-error').textContent,
    })),
  }));
}

function readResults(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('#sim-key-numbers tbody tr')].map((tr) =>
      [...tr.cells].map((td) => td.textContent),
    );
    return {
      rows,
      facts: [...document.querySelectorAll('#sim-facts dd')].map((dd) => dd.textContent),
      conventions: document.getElementById('sim-conventions').textContent,
      results: [...document.querySelectorAll('.scenario-result')].map((article) => ({
        name: article.querySelector('h4').textContent,
        summary: article.querySelector('.scenario-summary').textContent,
        breakEven: article.querySelector('.break-even').textContent,
        tornado: Boolean(article.querySelector('canvas.tornado')),
      })),
      histograms: !document.getElementById('sim-differences').hidden,
    };
  });
}

/** Pixels of a canvas that are neither white nor transparent. */
function inkOf(page, selector) {
  return page.evaluate((selector) => {
    const shown = document.querySelector(selector);
    const canvas = document.createElement('canvas');
    canvas.width = shown.width;
    canvas.height = shown.height;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    context.drawImage(shown, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && (data[i] < 245 || data[i + 1] < 245 || data[i + 2] < 245)) ink++;
    }
    return ink;
  }, selector);
}

/** Downloads a link the way a person does (a click): its file name and text. */
async function download(page, locator) {
  const href = await locator.getAttribute('href');
  assert.match(href ?? '', /^blob:/, `the download link points at ${href}`);
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), locator.click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), 'utf8') };
}

/** `subtwin simulate` of the demo with these scenario files and the test's run settings. */
function simulateCommand(files, { horizon, paths, seed } = RUN) {
  const args = ['simulate', DEMO_CSV, ...files.flatMap((file) => ['--scenario', file])];
  args.push('--horizon', horizon, '--runs', paths, '--seed', seed, '--json');
  const run = spawnSync(BINARY, args, { encoding: 'utf8', timeout: WAIT, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(run.status, 0, `\`subtwin ${args.join(' ')}\` failed: ${run.stderr}`);
  return run.stdout;
}

/** The page's simulation JSON, and the command's for the scenario files the page's cards download. */
async function pageAndCommand(page, label) {
  const { name, text } = await download(page, page.locator('#download-simulation'));
  assert.equal(name, 'subtwin-simulation.json');
  const files = [];
  for (const [index, link] of (await page.locator('.scenario-card .download-scenario').all()).entries()) {
    const scenario = await download(page, link);
    assert.match(scenario.name, /^subtwin-scenario-[a-z0-9-]+\.json$/, 'named after the scenario');
    const file = path.join(suite.tmp, `${label}-${index}.json`);
    fs.writeFileSync(file, scenario.text);
    files.push(file);
  }
  return { page: text, command: simulateCommand(files).replace(/\n$/, '') };
}

function assertSameText(actual, expected, what) {
  if (actual === expected) return;
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  assert.fail(
    `${what}: first difference at character ${i} of ${actual.length} (expected ${expected.length}): ` +
      `page ${JSON.stringify(actual.slice(i, i + 80))}, command ${JSON.stringify(expected.slice(i, i + 80))}`,
  );
}

test('a preset shows results, and the simulation downloaded is the command\'s with one worker or three', { timeout: 240_000 }, async () => {
  const downloads = [];
  for (const workers of [1, 3]) {
    const { context, page, log } = await openPage(`?workers=${workers}`);
    try {
      assert.equal(await page.evaluate(() => document.body.dataset.simWorkers), String(workers));
      await setRun(page);
      await page.click('#sim-presets button[data-preset="Raise monthly prices 20%"]');
      await waitForResults(page, `the preset with ${workers} workers`);
      const shown = await readResults(page);
      // Baseline and scenario rows for MRR, paid subscribers, revenue billed and ARPU.
      assert.equal(shown.rows.length, 8, JSON.stringify(shown.rows));
      for (const row of shown.rows) {
        assert.match(row[2], /^\$?[\d,]+(\.\d+)?$/, `a P10 in ${row.join(' | ')}`);
        assert.match(row[3], /^\$?[\d,]+(\.\d+)?$/, `a P50 in ${row.join(' | ')}`);
      }
      const mrr = shown.rows.find((row) => row[0] === 'MRR' && row[1] === 'Raise monthly prices 20%');
      assert.match(mrr[5], /^[+-]\$[\d.]+k? \([+-]\$[\d.]+k? to [+-]\$[\d.]+k?\)$/, `the difference: ${mrr[5]}`);
      assert.match(mrr[6], /^\d+%$/, 'the share of paths ahead');
      assert.equal(shown.results.length, 1);
      const [result] = shown.results;
      assert.match(result.summary, /^Raise monthly prices 20%: by 2026-12, MRR is [+-]\$/);
      assert.match(result.summary, /Learned from the history: .*Assumed: /, 'the summary says what was learned and assumed');
      assert.match(result.breakEven, /^Break-even: It pays while the churn elasticity is below \d+\.\d\d\./);
      assert.ok(result.tornado, 'the sensitivity is drawn');
      assert.match(shown.facts[0], /^200 paths, 12 months: 2026-01 to 2026-12$/);
      for (const words of ['starts at the as-of instant', 'rest of that month counts in the first simulated month', 'type 7', 'counted as billed', 'common random numbers']) {
        assert.ok(shown.conventions.includes(words), `the conventions say "${words}": ${shown.conventions}`);
      }
      assert.ok(shown.histograms, 'the histograms show');
      for (const canvas of ['#chart-fan-mrr', '#chart-fan-paid', '#chart-diff-mrr', '#chart-diff-revenue', 'canvas.tornado']) {
        const ink = await inkOf(page, canvas);
        assert.ok(ink > 5000, `${canvas} is drawn (${ink} pixels)`);
      }
      if (workers === 3) {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        await page.locator('#scenarios').screenshot({ path: path.join(ARTIFACTS, 'page-scenarios.png') });
      }
      const { page: json, command } = await pageAndCommand(page, `preset-${workers}`);
      assertSameText(json, command, `${workers} workers: the page's simulation JSON against \`subtwin simulate --json\``);
      downloads.push(json);
      assertCleanRun(log);
      const asked = log.requests.map((url) => new URL(url).pathname);
      assert.equal(asked.filter((p) => p === '/sim-worker.js').length, workers + 1, 'a worker per pool slot and a coordinator');
    } finally {
      await context.close();
    }
  }
  assert.equal(downloads[0], downloads[1], 'one worker and three give the same bytes');
});

test('three scenarios side by side; an edit reruns that scenario only, on the baseline kept', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage('?workers=2');
  try {
    await setRun(page);
    for (const preset of ['Raise monthly prices 20%', 'New plan between Starter and Pro', 'Acquisition push +25%']) {
      await page.click(`#sim-presets button[data-preset="${preset}"]`);
    }
    assert.equal(await page.locator('.scenario-card').count(), 3);
    await waitForResults(page, 'three scenarios');
    let shown = await readResults(page);
    assert.deepEqual(
      shown.results.map((r) => r.name),
      ['Raise monthly prices 20%', 'New plan between Starter and Pro', 'Acquisition push +25%'],
    );
    assert.equal(shown.rows.length, 4 * 4, 'four figures for the baseline and each scenario');
    assert.match(shown.results[2].breakEven, /^No price changes/, 'no break-even without a price change');
    const boxes = await page.locator('.scenario-card').evaluateAll((cards) => cards.map((c) => c.getBoundingClientRect().top));
    assert.ok(boxes[0] === boxes[1] && boxes[1] === boxes[2], `side by side: ${boxes}`);
    const measures = () =>
      page.evaluate(() => performance.getEntriesByType('measure').map((m) => m.name).filter((n) => n.startsWith('subtwin:simulate')));
    const before = await measures();
    assert.equal(before.filter((n) => n === 'subtwin:simulate-baseline').length, 1);
    assert.equal(before.filter((n) => n === 'subtwin:simulate-scenario').length, 3);

    // The acquisition push's percent, typed in steps: one run once the typing pauses, of that card alone.
    const percent = page.locator('.scenario-card').nth(2).locator('input[type="number"][data-field="Change (%)"]');
    for (const value of ['3', '30', '35']) await percent.fill(value);
    await waitForResults(page, 'after the edit');
    const afterEdit = await measures();
    assert.equal(afterEdit.filter((n) => n === 'subtwin:simulate-baseline').length, 1, 'the baseline was kept');
    assert.equal(afterEdit.filter((n) => n === 'subtwin:simulate-scenario').length, 4, 'only the edited scenario ran');
    shown = await readResults(page);
    const json = JSON.parse((await download(page, page.locator('#download-simulation'))).text);
    assert.equal(json.scenarios[2].scenario.changes[0].percent, 35);
    assert.equal(json.scenarios.length, 3);

    // The slider moves the same value.
    await page.locator('.scenario-card').nth(0).locator('input[type="range"]').first().evaluate((slider) => {
      slider.value = '30';
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await waitForResults(page, 'after the slider');
    const moved = JSON.parse((await download(page, page.locator('#download-simulation'))).text);
    assert.equal(moved.scenarios[0].scenario.changes[0].percent, 30);
    const { page: text, command } = await pageAndCommand(page, 'three');
    assertSameText(text, command, 'three scenarios against `subtwin simulate --json`');

    // A card removed leaves the others.
    await page.locator('.scenario-card').nth(1).locator('.remove-scenario').click();
    await waitForResults(page, 'after removing a card');
    shown = await readResults(page);
    assert.deepEqual(shown.results.map((r) => r.name), ['Raise monthly prices 20%', 'Acquisition push +25%']);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('Cancel stops a long run and the page stays usable', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage('?workers=2');
  try {
    await setRun(page, { horizon: '120', paths: '20000', seed: RUN.seed });
    await page.click('#sim-presets button[data-preset="Acquisition push +25%"]');
    await page.waitForFunction(
      () => document.body.dataset.sim === 'running' && document.getElementById('sim-progress').value > 0,
      null,
      { timeout: WAIT, polling: 20 },
    );
    const progress = await page.evaluate(() => ({
      value: document.getElementById('sim-progress').value,
      max: document.getElementById('sim-progress').max,
      text: document.getElementById('sim-status-text').textContent,
      cancel: !document.getElementById('sim-cancel').hidden,
    }));
    assert.ok(progress.cancel, 'Cancel shows while simulating');
    assert.equal(progress.max, 40000, 'the baseline and the scenario, 20,000 paths each');
    assert.match(progress.text, /^Simulating: [\d,]+ of 40,000 paths\.$/);
    await page.click('#sim-cancel');
    const stopped = await simState(page);
    assert.equal(stopped.sim, 'stopped', JSON.stringify(stopped));
    assert.equal(await page.isVisible('#sim-cancel'), false);
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => document.body.dataset.sim), 'stopped', 'nothing arrives after Cancel');

    // Usable: a small run now finishes.
    await setRun(page);
    await waitForResults(page, 'a small run after Cancel');
    const shown = await readResults(page);
    assert.deepEqual(shown.results.map((r) => r.name), ['Acquisition push +25%']);
    assert.match(shown.facts[0], /^200 paths/);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('renaming a scenario renames its results without simulating it again, as the command names it', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage('?workers=2');
  try {
    await setRun(page);
    await page.click('#sim-presets button[data-preset="Raise monthly prices 20%"]');
    await waitForResults(page, 'the preset');
    const runs = () =>
      page.evaluate(() => performance.getEntriesByType('measure').filter((m) => m.name === 'subtwin:simulate-scenario').length);
    assert.equal(await runs(), 1);
    await page.fill('.scenario-card .scenario-name', 'Dearer monthly plans');
    await page.waitForFunction(() => document.querySelector('.scenario-result h4')?.textContent === 'Dearer monthly plans', null, {
      timeout: WAIT,
    });
    await waitForResults(page, 'after the rename');
    assert.equal(await runs(), 1, 'the renamed scenario was not simulated again');
    const shown = await readResults(page);
    assert.match(shown.results[0].summary, /Dearer monthly plans/);
    const { page: text, command } = await pageAndCommand(page, 'renamed');
    assertSameText(text, command, 'the renamed scenario against the command');
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('Cancel during the break-even search says it was not computed, not that it is computing', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage('?workers=2');
  try {
    await setRun(page, { horizon: '60', paths: '2000', seed: RUN.seed });
    await page.click('#sim-presets button[data-preset="Raise monthly prices 20%"]');
    // The main results are in and the search runs after them.
    await page.waitForFunction(
      () => document.body.dataset.sim === 'running' && /computing/.test(document.getElementById('sim-results').textContent),
      null,
      { timeout: WAIT, polling: 20 },
    );
    await page.click('#sim-cancel');
    assert.equal((await simState(page)).sim, 'stopped');
    const text = await page.textContent('#sim-results');
    assert.doesNotMatch(text, /computing/, 'nothing says it is still computing');
    assert.match(text, /Break-even: not computed, the run was cancelled\. Press Simulate to compute it\./);
    assert.match(text, /Sensitivity: not computed, the run was cancelled\./);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('a scenario file the core refuses shows its message naming the field, and the page stays usable', { timeout: 240_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await setRun(page);
    const scenario = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'fixtures', 'demo-stripe.scenario-prices.json'), 'utf8'));
    const bad = path.join(suite.tmp, 'bad-percent.json');
    scenario.changes[0].percent = 5000;
    fs.writeFileSync(bad, JSON.stringify(scenario));
    await page.setInputFiles('#sim-open', bad);
    await page.waitForSelector('#sim-file-error:not([hidden])');
    assert.equal(
      await page.textContent('#sim-file-error'),
      'bad-percent.json: changes[0].percent: 5000 is not allowed: a number from -90 to 1000.',
    );
    // The command refuses the same file for the same field.
    const command = spawnSync(BINARY, ['simulate', DEMO_CSV, '--scenario', bad, '--horizon', '12', '--runs', '10'], { encoding: 'utf8' });
    assert.equal(command.status, 2);
    assert.match(command.stderr, /changes\[0\]\.percent: 5000 is not allowed: a number from -90 to 1000\./);
    assert.equal(await page.locator('.scenario-card').count(), 0, 'no card for a refused file');

    const typo = path.join(suite.tmp, 'typo.json');
    fs.writeFileSync(typo, '{"version": 1, "name": "Typo", "changes": [{"kind": "churn", "segmnts": []}]}');
    await page.setInputFiles('#sim-open', typo);
    await page.waitForFunction(() => document.getElementById('sim-file-error').textContent.startsWith('typo.json'));
    assert.match(await page.textContent('#sim-file-error'), /^typo\.json: line 1, column \d+: unknown field `segmnts`/);

    // A good file opens as a card and simulates.
    const good = path.join(suite.tmp, 'good.json');
    scenario.changes[0].percent = 15;
    scenario.name = 'Monthly plans 15% dearer';
    fs.writeFileSync(good, JSON.stringify(scenario));
    await page.setInputFiles('#sim-open', good);
    await waitForResults(page, 'the good file');
    assert.equal(await page.isVisible('#sim-file-error'), false, 'the error is gone');
    assert.deepEqual((await readResults(page)).results.map((r) => r.name), ['Monthly plans 15% dearer']);

    // A value out of range typed into a card: the card says which field, the rest stays.
    const percent = page.locator('.scenario-card input[type="number"][data-field="Percent"]');
    await percent.fill('-95');
    await page.waitForFunction(() => document.querySelector('.scenario-card').dataset.status === 'error');
    assert.equal(
      await page.locator('.scenario-card .card-error').textContent(),
      'changes[0].percent: -95 is not allowed: a number from -90 to 1000.',
    );
    // Its results leave the page with it (a run otherwise leaves the results shown until it
    // replaces them).
    await page.waitForFunction(() => document.querySelectorAll('.scenario-result').length === 0, null, {
      timeout: WAIT,
    });
    await percent.fill('15');
    await waitForResults(page, 'the card fixed');
    assert.deepEqual((await readResults(page)).results.map((r) => r.name), ['Monthly plans 15% dearer']);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});
