// End-to-end test of the page in www/: a real Chromium (Debian's, driven by playwright-core) opens it
// from a static server (server.mjs), and every figure the page shows is compared with what the
// native command `subtwin history` prints for the same file.
//
// Run from the repository root: node --test tests/e2e/
// Needs: the WebAssembly module built in www/pkg (bash scripts/test.sh builds it) and
// /usr/bin/chromium. The native command is built with `cargo build -q` when it is missing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OWN_FILES, isOwnFile } from './server.mjs';
import { BINARY, REPO, WWW, browserSuite, recordedPage } from './suite.mjs';

const DEMO_CSV = path.join(WWW, 'demo-stripe.csv');
const FIXTURES = path.join(REPO, 'tests', 'fixtures');
const ARTIFACTS = path.join(REPO, 'test-artifacts');

const WAIT = 60_000; // the longest any single wait may take

const suite = browserSuite('page', { wait: WAIT });

// Segment colours of the charts (src/chart.rs PALETTE, first six).
const PALETTE = [
  [0x1f, 0x77, 0xb4],
  [0xff, 0x7f, 0x0e],
  [0x2c, 0xa0, 0x2c],
  [0xd6, 0x27, 0x28],
  [0x94, 0x67, 0xbd],
  [0x8c, 0x56, 0x4b],
];

const STRIPE_HEADER =
  'id,Customer ID,Status,Created (UTC),Start Date (UTC),Current Period Start (UTC),Current Period End (UTC),' +
  'Trial Start (UTC),Trial End (UTC),Canceled At (UTC),Ended At (UTC),Cancel At Period End,Product,Quantity,' +
  'Interval,Amount,Currency';

// A small clean export: 6 rows, two products, a cancellation and a trial.
const SMALL_EXPORT = [
  STRIPE_HEADER,
  'sub_e1,cus_e1,active,2025-01-03 09:00,2025-01-03 09:00,2025-04-03 09:00,2025-05-03 09:00,,,,,false,Basic,1,month,12.00,usd',
  'sub_e2,cus_e2,active,2025-01-15 10:00,2025-01-15 10:00,2025-04-15 10:00,2025-05-15 10:00,,,,,false,Pro,2,month,40.00,usd',
  'sub_e3,cus_e3,canceled,2025-01-20 11:00,2025-01-20 11:00,2025-02-20 11:00,2025-03-20 11:00,,,2025-02-25 08:00,2025-03-20 11:00,true,Basic,1,month,12.00,usd',
  'sub_e4,cus_e4,active,2025-02-10 12:00,2025-02-10 12:00,2025-02-10 12:00,2026-02-10 12:00,,,,,false,Pro,1,year,360.00,usd',
  'sub_e5,cus_e5,active,2025-03-05 13:00,2025-03-05 13:00,2025-04-05 13:00,2025-05-05 13:00,,,,,false,Basic,1,month,12.00,usd',
  'sub_e6,cus_e6,trialing,2025-04-01 14:00,2025-04-01 14:00,2025-04-01 14:00,2025-04-15 14:00,2025-04-01 14:00,2025-04-15 14:00,,,false,Pro,1,month,40.00,usd',
].join('\n') + '\n';

// The same, with one bad amount on line 6 (header = line 1).
const BAD_ROW_LINE = 6;
const EXPORT_WITH_BAD_ROW = SMALL_EXPORT.replace(
  'sub_e5,cus_e5,active,2025-03-05 13:00,2025-03-05 13:00,2025-04-05 13:00,2025-05-05 13:00,,,,,false,Basic,1,month,12.00,usd',
  'sub_e5,cus_e5,active,2025-03-05 13:00,2025-03-05 13:00,2025-04-05 13:00,2025-05-05 13:00,,,,,false,Basic,1,month,abc,usd',
);

// ---------------------------------------------------------------------------------------------
// The native command, the reference for every number.

/** Runs the native command; fails with its stderr when it exits non-zero. */
function subtwin(args) {
  const run = spawnSync(BINARY, args, { encoding: 'utf8', timeout: WAIT, maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`could not run \`subtwin ${args.join(' ')}\`: ${run.error.message}`);
  if (run.status !== 0) {
    throw new Error(`\`subtwin ${args.join(' ')}\` failed (exit ${run.status}): ${run.stderr}`);
  }
  return { stdout: run.stdout, stderr: run.stderr };
}

/** `subtwin history FILE`, parsed, with its stderr (where the rows set aside are reported). */
function history(file, extra = []) {
  const { stdout, stderr } = subtwin(['history', ...extra, file]);
  return { ...parseHistoryText(stdout, file), stderr };
}

/** `subtwin fit FILE... --json`, parsed, and its text as printed. */
function fit(files) {
  const { stdout } = subtwin(['fit', ...files, '--json']);
  return { report: JSON.parse(stdout), text: stdout };
}

const cells = (line) => line.trim().split(/\s{2,}/);

/** Parses the command's text: facts, a blank line, the segments table, a blank line, the months table. */
function parseHistoryText(text, file) {
  const blocks = text
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((block) => block.split('\n').filter((line) => line.trim() !== ''))
    .filter((block) => block.length > 0);
  assert.ok(blocks.length >= 3, `\`subtwin history ${file}\` printed ${blocks.length} blocks, expected facts, segments and months:\n${text}`);
  const facts = blocks[0].map((line) => {
    const match = /^(\S.*?)\s{2,}(\S.*)$/.exec(line);
    assert.ok(match, `\`subtwin history ${file}\`: fact line without a label and a value: ${JSON.stringify(line)}`);
    return [match[1], match[2].trimEnd()];
  });
  const table = (block, name) => {
    const [header, ...rows] = block.map(cells);
    for (const [i, row] of rows.entries()) {
      assert.equal(
        row.length,
        header.length,
        `\`subtwin history ${file}\`: ${name} row ${i + 1} has ${row.length} cells, the header ${header.length}: ${block[i + 1]}`,
      );
    }
    return { columns: header, rows };
  };
  return { facts, segments: table(blocks[1], 'segments'), months: table(blocks[2], 'months') };
}

// ---------------------------------------------------------------------------------------------
// The browser: one context (a fresh profile) per test, everything it does recorded.

async function openPage() {
  const { context, page, log } = await recordedPage(suite.browser, WAIT);
  return { context, page, log };
}

/** At the end of every test: the page stayed quiet and asked only our server for its own files. */
function assertCleanRun(log) {
  const noisy = log.console.filter((m) => m.type === 'error' || m.type === 'warning');
  assert.deepEqual(
    noisy.map((m) => `${m.type}: ${m.text} (at ${m.url || 'no url'})`),
    [],
    'the page or its worker wrote errors or warnings to the console',
  );
  assert.deepEqual(log.errors, [], 'the page had uncaught errors');
  assert.deepEqual(log.failed, [], 'some requests failed');
  assert.deepEqual(log.badResponses, [], 'some requests got an error status');
  assert.ok(log.requests.length > 0, 'no request was recorded at all');
  const elsewhere = log.requests.filter((url) => !url.startsWith(suite.origin + '/') && !url.startsWith('blob:'));
  assert.deepEqual(elsewhere, [], `the page sent requests outside its origin ${suite.origin}`);
  const strangers = log.requests
    .filter((url) => url.startsWith(suite.origin + '/'))
    .filter((url) => !isOwnFile(new URL(url).pathname));
  assert.deepEqual(strangers, [], `the page asked for files that are not its own (allowed: ${OWN_FILES.join(' ')} /pkg/*)`);
}

async function waitForState(page, wanted, what) {
  try {
    await page.waitForFunction((state) => document.body.dataset.state === state, wanted, { timeout: WAIT });
  } catch (error) {
    const now = await page.evaluate(() => ({
      state: document.body.dataset.state,
      status: document.getElementById('status-text').textContent,
      error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
    }));
    throw new Error(`${what}: the page did not reach state '${wanted}' within ${WAIT / 1000} s; it is ` +
      `'${now.state}' (status "${now.status}"${now.error ? `, error "${now.error}"` : ''})`);
  }
}

/** Waits until the page shows `name` (its Format fact starts with it) and is ready. */
async function waitForFile(page, name) {
  try {
    await page.waitForFunction(
      (name) => {
        const format = document.querySelector('#facts dd[data-fact="Format"]');
        const state = document.body.dataset.state;
        return state === 'error' || (state === 'ready' && format !== null && format.textContent.startsWith(`${name} `));
      },
      name,
      { timeout: WAIT },
    );
  } catch {
    // reported below with what the page shows
  }
  const now = await page.evaluate(() => ({
    state: document.body.dataset.state,
    format: document.querySelector('#facts dd[data-fact="Format"]')?.textContent ?? '(no Format fact)',
    error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
  }));
  assert.equal(now.state, 'ready', `waiting for ${name}: the page is '${now.state}'${now.error ? `: ${now.error}` : ''}`);
  assert.ok(now.format.startsWith(`${name} `), `waiting for ${name}: the Format fact still says "${now.format}"`);
}

/** What the page shows: facts by label, and each table's header and body cells. */
function readPage(page) {
  return page.evaluate(() => {
    const table = (id) => {
      const element = document.getElementById(id);
      return {
        columns: [...element.querySelectorAll('thead th')].map((th) => th.textContent),
        rows: [...element.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
      };
    };
    return {
      facts: [...document.querySelectorAll('#facts dd[data-fact]')].map((dd) => [dd.dataset.fact, dd.textContent]),
      factTerms: [...document.querySelectorAll('#facts dt')].map((dt) => dt.textContent),
      segments: table('segments'),
      months: table('months'),
      problems: table('problems'),
      problemsHidden: document.getElementById('problems-section').hidden,
      resultsHidden: document.getElementById('results').hidden,
    };
  });
}

function describeRows(rows) {
  return rows.map((row) => `  ${row.join(' | ')}`).join('\n');
}

/** The page's facts and tables equal the command's text, cell for cell. */
function assertSameAsCommand(shown, expected, file) {
  const name = path.basename(file);
  assert.equal(shown.resultsHidden, false, `${name}: the results section is hidden`);
  assert.deepEqual(
    shown.factTerms,
    shown.facts.map(([label]) => label),
    `${name}: a fact's <dt> differs from its dd's data-fact label`,
  );
  assert.deepEqual(
    Object.fromEntries(shown.facts),
    Object.fromEntries(expected.facts),
    `${name}: the facts on the page differ from \`subtwin history ${name}\``,
  );
  assert.deepEqual(
    shown.facts.map(([label]) => label),
    expected.facts.map(([label]) => label),
    `${name}: the facts are in a different order than in \`subtwin history ${name}\``,
  );
  for (const id of ['segments', 'months']) {
    const page = shown[id];
    const command = expected[id];
    assert.deepEqual(page.columns, command.columns, `${name}: the #${id} header differs from the command's`);
    assert.equal(
      page.rows.length,
      command.rows.length,
      `${name}: #${id} has ${page.rows.length} rows, the command ${command.rows.length}:\npage:\n` +
        `${describeRows(page.rows)}\ncommand:\n${describeRows(command.rows)}`,
    );
    for (const [i, row] of command.rows.entries()) {
      assert.deepEqual(
        page.rows[i],
        row,
        `${name}: #${id} row ${i + 1} differs from the command's\n  page:    ${(page.rows[i] ?? []).join(' | ')}\n` +
          `  command: ${row.join(' | ')}`,
      );
    }
  }
}

/** Downloads a link the way a person does (a click) and returns the file's text. */
async function download(page, selector) {
  const href = await page.getAttribute(selector, 'href');
  assert.match(href ?? '', /^blob:/, `${selector} should point at a blob: URL, it is ${JSON.stringify(href)}`);
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), page.click(selector)]);
  const stored = await file.path();
  assert.ok(stored, `${selector}: the download failed: ${await file.failure()}`);
  return { name: file.suggestedFilename(), text: fs.readFileSync(stored, 'utf8') };
}

async function assertJsonLikeCommand(page, file) {
  const name = path.basename(file);
  // The page's Content-Security-Policy (connect-src 'self') forbids fetch() of blob: URLs, so the
  // report is read the way a person gets it: by clicking the link, which downloads it.
  const { name: saved, text } = await download(page, '#download-json');
  assert.equal(saved, 'subtwin-report.json', '#download-json should save as subtwin-report.json');
  let report;
  try {
    report = JSON.parse(text);
  } catch (error) {
    assert.fail(`${name}: #download-json is not JSON (${error.message}): ${text.slice(0, 200)}`);
  }
  const printed = subtwin(['history', file, '--json']).stdout;
  const expected = JSON.parse(printed);
  const difference = firstDifference(report, expected, '$');
  assert.equal(
    difference,
    null,
    `${name}: the page's JSON report differs from \`subtwin history ${name} --json\`: ${difference}`,
  );
  // src/web.rs promises more: the same text, byte for byte (without the command's final newline).
  const command = printed.replace(/\n$/, '');
  if (text !== command) {
    let i = 0;
    while (i < text.length && text[i] === command[i]) i++;
    assert.fail(
      `${name}: the page's JSON equals the command's as data but not as text; first difference at character ${i}: ` +
        `page ${JSON.stringify(text.slice(i, i + 60))}, command ${JSON.stringify(command.slice(i, i + 60))}`,
    );
  }
  return report;
}

/** Where two JSON values first differ (a path and both values), or null when they are equal. */
function firstDifference(actual, expected, at) {
  const show = (value) => {
    const text = JSON.stringify(value);
    return text === undefined ? 'nothing' : text.length > 120 ? `${text.slice(0, 117)}...` : text;
  };
  const kind = (value) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
  if (kind(actual) !== kind(expected) || (kind(actual) !== 'array' && kind(actual) !== 'object')) {
    return kind(actual) === kind(expected) && Object.is(actual, expected)
      ? null
      : `at ${at} the page has ${show(actual)}, the command ${show(expected)}`;
  }
  if (Array.isArray(actual)) {
    for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
      const difference = firstDifference(actual[i], expected[i], `${at}[${i}]`);
      if (difference) return difference;
    }
    return null;
  }
  for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const difference = firstDifference(actual[key], expected[key], `${at}.${key}`);
    if (difference) return difference;
  }
  return null;
}

async function dropFile(page, file) {
  const dataTransfer = await page.evaluateHandle(
    ({ name, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: 'text/csv' }));
      return transfer;
    },
    { name: path.basename(file), base64: fs.readFileSync(file).toString('base64') },
  );
  await page.dispatchEvent('#drop', 'dragenter', { dataTransfer });
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer });
  assert.ok(
    await page.evaluate(() => document.getElementById('drop').classList.contains('over')),
    '#drop should show that a file is over it (class "over") during dragover',
  );
  await page.dispatchEvent('#drop', 'drop', { dataTransfer });
  await dataTransfer.dispose();
}

// ---------------------------------------------------------------------------------------------
// Chart pixels.

/** Reads a canvas once (one readback) and returns a few pixel columns plus its non-white share. */
function readCanvas(page, id, fractions) {
  return page.evaluate(
    ({ id, fractions }) => {
      const canvas = document.getElementById(id);
      const { width, height } = canvas;
      const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      let nonWhite = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0 && (data[i] < 245 || data[i + 1] < 245 || data[i + 2] < 245)) nonWhite++;
      }
      const columns = fractions.map((fraction) => {
        const x = Math.round(width * fraction);
        const pixels = [];
        for (let y = 0; y < height; y++) {
          const i = (y * width + x) * 4;
          pixels.push([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        }
        return { fraction, x, pixels };
      });
      return { width, height, nonWhite, columns };
    },
    { id, fractions },
  );
}

const distance = (a, b) => Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));

/**
 * Which segment colour a pixel shows, or -1: the areas are filled with the palette's colours
 * (antialiased edges come within 40 per channel).
 */
function segmentOf(pixel) {
  if (pixel[3] < 200) return -1;
  let best = -1;
  let bestDistance = Infinity;
  for (const [k, mix] of PALETTE.entries()) {
    const d = distance(pixel, mix);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= 40 ? best : -1;
}

function columnStats(column) {
  const counts = new Array(PALETTE.length).fill(0);
  for (const pixel of column.pixels) {
    const k = segmentOf(pixel);
    if (k >= 0) counts[k]++;
  }
  return { x: column.x, coloured: counts.reduce((a, b) => a + b, 0), counts };
}

async function assertChartDrawn(page, id) {
  const canvas = await readCanvas(page, id, [0.12, 0.85, 0.9, 0.95]);
  const { width, height } = canvas;
  assert.ok(width > 100 && height > 100, `#${id} is ${width}×${height}`);
  assert.ok(
    canvas.nonWhite > width * height * 0.05,
    `#${id} looks blank: ${canvas.nonWhite} of ${width * height} pixels are not white`,
  );
  // The legend sits in the plot's upper left, so the left column is read below it only.
  const [leftColumn, ...rightColumns] = canvas.columns;
  const lowerHalf = { ...leftColumn, pixels: leftColumn.pixels.slice(Math.floor(leftColumn.pixels.length / 2)) };
  const left = columnStats(lowerHalf);
  const right = rightColumns.map(columnStats);
  const describe = (s) => `x=${s.x}: ${s.coloured} segment-coloured pixels ${JSON.stringify(s.counts)}`;
  for (const column of right) {
    assert.ok(
      column.coloured >= height * 0.25,
      `#${id}: near the right end of the plot the stacked areas should fill much of the column; ${describe(column)} of ${height}`,
    );
    const distinct = column.counts.filter((n) => n >= 3).length;
    assert.ok(distinct >= 3, `#${id}: expected at least 3 segment colours near the right end, ${describe(column)}`);
    assert.ok(
      left.coloured * 4 <= column.coloured,
      `#${id}: the business grew, so the left of the chart should hold far fewer coloured pixels than the right; ` +
        `left ${describe(left)}, right ${describe(column)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The twin section.

/** Waits until the twin section shows a fit (or its error, which fails the test with its message). */
async function waitForTwin(page, what) {
  try {
    await page.waitForFunction(
      () => document.body.dataset.twin === 'ready' || document.body.dataset.twin === 'error',
      null,
      { timeout: WAIT },
    );
  } catch {
    // reported below with what the page shows
  }
  const now = await page.evaluate(() => ({
    twin: document.body.dataset.twin,
    status: document.getElementById('twin-status-text').textContent,
    error: document.getElementById('twin-error').hidden ? '' : document.getElementById('twin-error').textContent,
  }));
  assert.equal(now.twin, 'ready', `${what}: the twin is '${now.twin}' ("${now.status}"${now.error ? `: ${now.error}` : ''})`);
}

/** What the twin section shows of the segment chosen. */
function readTwin(page) {
  return page.evaluate(() => {
    const texts = (selector) => [...document.querySelectorAll(selector)].map((element) => element.textContent);
    return {
      buttons: texts('#twin-segments button'),
      pressed: texts('#twin-segments button[aria-pressed="true"]'),
      title: document.getElementById('twin-segment-title').textContent,
      summary: document.getElementById('twin-summary').textContent,
      learned: texts('#twin-learned li'),
      assumed: texts('#twin-assumed li'),
      model: texts('#twin-model li'),
      chartLabel: document.getElementById('chart-retention').getAttribute('aria-label'),
      cohortRows: document.querySelectorAll('#twin-cohorts tbody tr').length,
      shadedCells: document.querySelectorAll('#twin-cohorts td[data-shade]').length,
      shareCells: [...document.querySelectorAll('#twin-cohorts td')].filter((td) => td.textContent.endsWith('%')).length,
      retentionRows: document.querySelectorAll('#twin-retention tbody tr').length,
      acquisitionRows: document.querySelectorAll('#twin-acquisition tbody tr').length,
      acquisitionNote: document.getElementById('twin-acquisition-note').hidden
        ? '' : document.getElementById('twin-acquisition-note').textContent,
      priceRows: document.querySelectorAll('#twin-price tbody tr').length,
      priceNote: document.getElementById('twin-price-note').textContent,
    };
  });
}

/** The retention canvas's pixels: how many are not white, how many in the fitted curve's colour, and a digest. */
function readRetentionCanvas(page) {
  return page.evaluate(() => {
    // Copied to a canvas of its own first: reading the page's canvas back several times makes
    // Chromium warn (willReadFrequently) on the console, which the tests keep clean.
    const shown = document.getElementById('chart-retention');
    const canvas = document.createElement('canvas');
    canvas.width = shown.width;
    canvas.height = shown.height;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    context.drawImage(shown, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let nonWhite = 0;
    let fitted = 0;
    let digest = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && (data[i] < 245 || data[i + 1] < 245 || data[i + 2] < 245)) nonWhite++;
      // src/chart.rs FITTED_COLOUR (the palette's first blue), within antialiasing.
      if (Math.abs(data[i] - 0x1f) < 30 && Math.abs(data[i + 1] - 0x77) < 30 && Math.abs(data[i + 2] - 0xb4) < 30) fitted++;
      digest = (digest * 31 + data[i] + 7 * data[i + 1] + 13 * data[i + 2]) % 1000000007;
    }
    return { width: canvas.width, height: canvas.height, nonWhite, fitted, digest };
  });
}

/** The twin section shows `expected` (the command's fit) with the segment at `index` chosen. */
async function assertTwinSegment(page, expected, index, what) {
  const segment = expected.segments[index];
  const shown = await readTwin(page);
  assert.deepEqual(shown.buttons, expected.segments.map((s) => s.name), `${what}: one button per fitted segment`);
  assert.deepEqual(shown.pressed, [segment.name], `${what}: the pressed button`);
  assert.equal(shown.title, segment.name, `${what}: the segment's title`);
  assert.equal(shown.summary, segment.summary, `${what}: the summary differs from \`subtwin fit --json\`'s`);
  assert.ok(shown.model.length >= 1 && shown.learned.length >= 1, `${what}: the model and what was learned are said`);
  assert.match(shown.chartLabel, new RegExp(`^Retention of ${segment.name.replace(/[()]/g, '\\$&')}:`), `${what}: the chart's label`);
  assert.equal(shown.cohortRows, segment.cohorts.length, `${what}: a cohort row per start month`);
  assert.ok(shown.shareCells > segment.cohorts.length, `${what}: the start months show their shares`);
  assert.equal(shown.shadedCells, shown.shareCells, `${what}: a shade for each share, and only for shares`);
  assert.equal(shown.retentionRows, expected.segments.length, `${what}: the retention table has every segment`);
  const canvas = await readRetentionCanvas(page);
  assert.ok(canvas.nonWhite > canvas.width * canvas.height * 0.03, `${what}: the retention chart looks blank: ${JSON.stringify(canvas)}`);
  assert.ok(canvas.fitted > 500, `${what}: the fitted curve is hardly drawn: ${JSON.stringify(canvas)}`);
  return { shown, canvas };
}

test('opens with the demo charted', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    const response = await page.goto(`${suite.origin}/`, { timeout: WAIT });
    assert.equal(response.status(), 200, 'the page itself did not load');
    await waitForState(page, 'ready', 'opening the page');
    for (const idle of ['#cancel', '#progress', '#mapping', '#error']) {
      assert.equal(await page.isVisible(idle), false, `${idle} shows although nothing is being read`);
    }
    const shown = await readPage(page);
    const format = Object.fromEntries(shown.facts).Format ?? '(no Format fact)';
    assert.match(format, /demo-stripe\.csv/, `the Format fact should name the demo file, it says "${format}"`);
    assertSameAsCommand(shown, history(DEMO_CSV), DEMO_CSV);
    const asked = log.requests.map((url) => url.replace(suite.origin, ''));
    for (const file of ['/worker.js', '/pkg/subtwin_bg.wasm', '/demo-stripe.csv']) {
      assert.ok(asked.includes(file), `the page never asked for ${file}; it asked for ${asked.join(' ')}`);
    }
    assert.equal(shown.problemsHidden, true, 'the demo has no rows set aside, yet the problems section shows');
    assert.equal(await page.isVisible('#error'), false, 'an error shows after the demo loaded');

    await assertChartDrawn(page, 'chart-mrr');
    await assertChartDrawn(page, 'chart-subscribers');

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'page-demo.png'), fullPage: true });

    await assertJsonLikeCommand(page, DEMO_CSV);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

/** A clean export for the drop: a fixture without problems when there is one, else our own. */
function cleanExport() {
  const target = path.join(suite.tmp, 'dropped-export.csv');
  const fixture = path.join(FIXTURES, 'basic.csv');
  if (fs.existsSync(fixture)) {
    fs.copyFileSync(fixture, target);
    const rows = Object.fromEntries(history(target).facts).Rows ?? '';
    if (/\b0 set aside\b/.test(rows)) return target;
  }
  fs.writeFileSync(target, SMALL_EXPORT);
  return target;
}

/** The rows the command reports on stderr as set aside: `file:line: Column \`value\`: message`. */
function commandProblems(stderr) {
  return stderr
    .split('\n')
    .map((line) => /^(.+?):(\d+): (.*?) ?`(.*)`: (.*)$/.exec(line))
    .filter(Boolean)
    .map(([, file, line, column, value, message]) => ({ file, line, column, value, message }));
}

test('a dropped file replaces the demo', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');

    // Drop a clean export on the drop zone.
    const dropped = cleanExport();
    await dropFile(page, dropped);
    await waitForFile(page, path.basename(dropped));
    const afterDrop = await readPage(page);
    assertSameAsCommand(afterDrop, history(dropped), dropped);
    assert.equal(afterDrop.problemsHidden, true, `${path.basename(dropped)} has no problems, yet the problems section shows`);
    assert.equal(
      await page.evaluate(() => document.getElementById('drop').classList.contains('over')),
      false,
      '#drop still shows a file over it after the drop',
    );
    await assertJsonLikeCommand(page, dropped);

    // Choose a file with a bad row through the file picker.
    const withBadRow = path.join(suite.tmp, 'export-with-bad-row.csv');
    fs.writeFileSync(withBadRow, EXPORT_WITH_BAD_ROW);
    await page.setInputFiles('#file', withBadRow);
    await waitForFile(page, path.basename(withBadRow));
    const picked = await readPage(page);
    const expected = history(withBadRow);
    assertSameAsCommand(picked, expected, withBadRow);
    assert.equal(picked.problemsHidden, false, 'the file has a bad row, yet the problems section is hidden');
    assert.equal(await page.isVisible('#problems'), true, 'the #problems table is not visible');

    const header = picked.problems.columns;
    const at = (name) => {
      const index = header.indexOf(name);
      assert.ok(index >= 0, `#problems has no "${name}" column; its columns are ${JSON.stringify(header)}`);
      return index;
    };
    const [lineAt, columnAt, valueAt] = [at('line'), at('column'), at('value')];
    assert.equal(picked.problems.rows.length, 1, `expected exactly the one bad row in #problems:\n${describeRows(picked.problems.rows)}`);
    const row = picked.problems.rows[0];
    assert.deepEqual(
      [row[lineAt], row[columnAt], row[valueAt]],
      [String(BAD_ROW_LINE), 'Amount', 'abc'],
      `#problems should show line ${BAD_ROW_LINE}, column Amount, value abc: ${row.join(' | ')}`,
    );
    // The same rows the command reports as set aside.
    const reported = commandProblems(expected.stderr);
    assert.deepEqual(
      picked.problems.rows.map((r) => [r[lineAt], r[columnAt], r[valueAt]]),
      reported.map((p) => [p.line, p.column, p.value]),
      `#problems differs from the rows \`subtwin history\` reports as set aside:\n${expected.stderr}`,
    );

    assert.equal(await page.isVisible('#download-problems'), true, '#download-problems is not shown');
    const problemsCsv = await download(page, '#download-problems');
    assert.equal(problemsCsv.name, 'rows-set-aside.csv', '#download-problems should save as rows-set-aside.csv');
    const csvLine = problemsCsv.text.split(/\r?\n/).find((line) => line.includes('abc'));
    assert.ok(
      csvLine && csvLine.includes(String(BAD_ROW_LINE)) && csvLine.includes('Amount'),
      `the downloaded rows-set-aside.csv should list line ${BAD_ROW_LINE}, Amount, abc:\n${problemsCsv.text}`,
    );
    const report = await assertJsonLikeCommand(page, withBadRow);
    assert.equal(report.summary.rows_set_aside, 1, 'the JSON report should count the one row set aside');

    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('a table no reader knows is read through a column mapping, remembered for its columns', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');

    const table = path.join(suite.tmp, 'hand-kept.csv');
    fs.writeFileSync(
      table,
      'Customer,Plan,Signup Date,Cancelled On,Monthly price,Seats\n' +
        'A,Gold,2025-01-10,,20.00,1\nB,Silver,2025-01-15,2025-02-20,10.00,1\nC,Silver,2025-02-01,,10.00,3\n',
    );
    await page.setInputFiles('#file', table);
    await waitForState(page, 'mapping', 'choosing a table no reader knows');
    assert.equal(await page.isVisible('#mapping'), true, 'the mapping form is not shown');
    assert.equal(await page.isVisible('#results'), false, 'the previous results still show under the mapping form');
    const previewHeader = await page.$$eval('#mapping-preview thead th', (ths) => ths.map((th) => th.textContent));
    assert.deepEqual(previewHeader, ['Customer', 'Plan', 'Signup Date', 'Cancelled On', 'Monthly price', 'Seats']);
    // The form starts from the header's names.
    assert.equal(await page.inputValue('#map-start'), 'column:Signup Date');
    assert.equal(await page.inputValue('#map-segment'), 'column:Plan');

    // An incomplete mapping is refused in the form, with what it lacks.
    await page.selectOption('#map-interval', '');
    await page.click('#mapping-apply');
    await page.waitForSelector('#mapping-error:not([hidden])', { timeout: WAIT });
    assert.match(await page.textContent('#mapping-error'), /lacks the role\(s\).*interval/);

    await page.selectOption('#map-id', 'column:Customer');
    await page.selectOption('#map-end', 'column:Cancelled On');
    await page.selectOption('#map-price', 'column:Monthly price');
    await page.selectOption('#map-quantity', 'column:Seats');
    await page.selectOption('#map-interval', 'fixed');
    await page.fill('#map-interval-fixed', 'month');
    await page.selectOption('#map-currency', 'fixed');
    await page.fill('#map-currency-fixed', 'eur');
    await page.selectOption('#map-customer', '');
    await page.click('#mapping-apply');
    await waitForFile(page, 'hand-kept.csv');
    const spec = 'id=Customer,start="Signup Date",end="Cancelled On",price="Monthly price",quantity=Seats,' +
      'segment=Plan,interval=@month,currency=@eur';
    assertSameAsCommand(await readPage(page), history(table, ['--map', spec]), table);
    assert.equal(await page.isVisible('#mapping-save'), true, 'the mapping cannot be saved for the command');

    // The same columns again: read at once with the saved mapping.
    await page.click('#demo');
    await waitForFile(page, 'demo-stripe.csv');
    await page.setInputFiles('#file', table);
    await waitForFile(page, 'hand-kept.csv');
    assert.equal(await page.isVisible('#mapping-used'), true, 'the page does not say it used the saved mapping');
    assertSameAsCommand(await readPage(page), history(table, ['--map', spec]), table);

    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('a file the page cannot use shows the command\'s message and leaves the page usable', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');

    const empty = path.join(suite.tmp, 'empty.csv');
    fs.writeFileSync(empty, '\n');
    await page.setInputFiles('#file', empty);
    await waitForState(page, 'error', 'choosing an empty file');
    assert.equal(await page.isVisible('#error'), true, '#error is not visible in the error state');
    assert.equal(await page.isVisible('#results'), false, 'results from the earlier file still show');
    const message = (await page.textContent('#error')).trim();
    const command = spawnSync(BINARY, ['history', empty], { encoding: 'utf8', timeout: WAIT });
    assert.equal(command.status, 2, `\`subtwin history empty.csv\` should refuse the file: ${command.stdout}${command.stderr}`);
    assert.equal(message, command.stderr.trim().replace(/^subtwin: /, ''), 'the page and the command word the error differently');
    assert.match(await page.textContent('#status-text'), /empty\.csv/);

    await page.click('#demo');
    await waitForFile(page, 'demo-stripe.csv');
    assert.equal(await page.isVisible('#error'), false, 'the error still shows after the demo loaded again');
    assertSameAsCommand(await readPage(page), history(DEMO_CSV), DEMO_CSV);

    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('snapshot and cohort tables are shown with the command\'s figures and no charts', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');
    for (const [fixture, kind] of [['telco_snapshot.csv', 'snapshot'], ['cohorts.csv', 'cohorts']]) {
      const file = path.join(FIXTURES, fixture);
      await page.setInputFiles('#file', file);
      await waitForFile(page, fixture);
      const report = await assertJsonLikeCommand(page, file);
      assert.equal(report.kind, kind, `${fixture}: the report's kind`);
      assert.equal(await page.isVisible('#charts'), false, `${fixture}: a ${kind} table has no history charts`);
      const tables = await page.$$eval('#tables table', (all) => all.map((t) => t.id));
      assert.ok(tables.length >= 1 && tables.every((id) => id.startsWith(`${kind}-`)), `${fixture}: tables ${tables}`);
      // The command's text shows the same facts, each on its own line.
      const text = subtwin(['history', file]).stdout;
      const facts = await page.$$eval('#facts dd[data-fact]', (all) => all.map((dd) => [dd.dataset.fact, dd.textContent]));
      for (const [label, value] of facts) {
        assert.ok(text.includes(value), `${fixture}: the page's ${label} "${value}" is not in the command's text`);
      }
    }
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('a file in several currencies offers to analyse each of the others instead', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');
    assert.equal(await page.isVisible('#currencies'), false, 'the demo has one currency');
    const file = path.join(FIXTURES, 'currencies.csv');
    await page.setInputFiles('#file', file);
    await waitForFile(page, 'currencies.csv');
    assert.equal(await page.textContent('#facts dd[data-fact="Currency"]'), 'USD');
    assert.equal(await page.isVisible('button[data-currency="EUR"]'), true, 'no way to analyse the euros');
    await page.click('button[data-currency="EUR"]');
    await page.waitForFunction(
      () => document.body.dataset.state === 'ready' &&
        document.querySelector('#facts dd[data-fact="Currency"]')?.textContent === 'EUR',
      null,
      { timeout: WAIT },
    );
    assertSameAsCommand(await readPage(page), history(file, ['--currency', 'eur']), file);
    assert.equal(await page.isVisible('button[data-currency="USD"]'), true, 'no way back to the dollars');
    // The euro choice was for that file: the demo opens in its own currency again.
    await page.click('#demo');
    await waitForFile(page, 'demo-stripe.csv');
    assertSameAsCommand(await readPage(page), history(DEMO_CSV), DEMO_CSV);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('several files chosen together are read as one business, as the command reads them', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');
    // basic.csv cut in two after its fourth subscription, both halves with the header.
    const lines = fs.readFileSync(path.join(FIXTURES, 'basic.csv'), 'utf8').trimEnd().split('\n');
    const first = path.join(suite.tmp, 'first-half.csv');
    const second = path.join(suite.tmp, 'second-half.csv');
    fs.writeFileSync(first, `${lines.slice(0, 5).join('\n')}\n`);
    fs.writeFileSync(second, `${[lines[0], ...lines.slice(5)].join('\n')}\n`);
    await page.setInputFiles('#file', [first, second]);
    await waitForFile(page, 'first-half.csv');
    const shown = await readPage(page);
    assertSameAsCommand(shown, history(second, [first]), second);
    const format = Object.fromEntries(shown.facts).Format;
    assert.match(format, /first-half\.csv .*second-half\.csv/, `both files are named: "${format}"`);
    // The twin of both files together, as `subtwin fit A B` makes it.
    await waitForTwin(page, 'two files');
    const fitted = fit([first, second]).report;
    const twin = await readTwin(page);
    assert.deepEqual(twin.buttons, fitted.segments.map((s) => s.name), 'the twin of both files');
    // The segment chosen for the demo stays chosen when these files have it too.
    assert.equal(twin.pressed.length, 1, 'one segment is chosen');
    assert.equal(twin.summary, fitted.segments.find((s) => s.name === twin.pressed[0]).summary);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('exchange rates convert the other currencies in the page as --fx does', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');
    const file = path.join(FIXTURES, 'currencies.csv');
    const rates = path.join(suite.tmp, 'rates.csv');
    fs.writeFileSync(rates, 'from,to,rate\neur,usd,1.1\n');
    await page.setInputFiles('#file', file);
    await waitForFile(page, 'currencies.csv');
    await page.setInputFiles('#fx', rates);
    await page.waitForFunction(
      () => document.body.dataset.state === 'ready' && document.querySelector('#facts dd[data-fact="Inferred"]') !== null,
      null,
      { timeout: WAIT },
    );
    assertSameAsCommand(await readPage(page), history(file, ['--fx', rates]), file);
    assert.equal(await page.isVisible('#currencies'), false, 'nothing is set aside any more');
    const broken = path.join(suite.tmp, 'broken-rates.csv');
    fs.writeFileSync(broken, 'eur,usd,1.1\n');
    await page.setInputFiles('#fx', broken);
    await waitForState(page, 'error', 'rates without their header');
    assert.match(await page.textContent('#error'), /broken-rates\.csv: the first line must be the header `from,to,rate`/);
    await page.click('#drop details summary');
    await page.click('#fx-clear');
    await waitForFile(page, 'currencies.csv');
    assertSameAsCommand(await readPage(page), history(file), file);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('the twin is calibrated in the worker after the history and shown per segment', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    // Records when the history and the twin appear (the twin must not hold the history back).
    await context.addInitScript(() => {
      window.subtwinChanges = [];
      new MutationObserver((records) => {
        for (const record of records) {
          const value = record.target.getAttribute(record.attributeName);
          window.subtwinChanges.push([record.attributeName, value, performance.now()]);
        }
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-state', 'data-twin'] });
    });
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');
    await waitForTwin(page, 'the demo');
    const changes = await page.evaluate(() => window.subtwinChanges);
    const firstAt = (name, value) => changes.find(([n, v]) => n === name && v === value)?.[2];
    const historyReady = firstAt('data-state', 'ready');
    const twinFitting = firstAt('data-twin', 'fitting');
    const twinReady = firstAt('data-twin', 'ready');
    assert.ok(historyReady !== undefined && twinReady !== undefined, `changes seen: ${JSON.stringify(changes)}`);
    assert.ok(twinFitting <= historyReady && historyReady <= twinReady, `the history shows first, then the twin: ${JSON.stringify(changes)}`);

    const { report: expected, text } = fit([DEMO_CSV]);
    const first = await assertTwinSegment(page, expected, 0, 'the demo');
    assert.equal(first.shown.acquisitionRows, expected.acquisition.length, 'an acquisition row per segment');
    assert.equal(first.shown.priceRows, expected.price_response.length, 'a row per price change found');
    assert.ok(expected.price_response.length > 0, 'the demo has a price change');

    // The backtest: the command's verdict, a row per series and the total, and a chart with pixels.
    assert.equal(await page.textContent('#twin-backtest-verdict'), expected.backtest.verdict);
    const backtestRows = await page.locator('#twin-backtest tbody tr').count();
    assert.equal(backtestRows, expected.backtest.by_segment.length + 1, 'a row per segment and the total');
    const backtestPixels = await page.evaluate(() => {
      const shown = document.getElementById('chart-backtest');
      const canvas = document.createElement('canvas');
      canvas.width = shown.width;
      canvas.height = shown.height;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(shown, 0, 0);
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let nonWhite = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0 && (data[i] < 245 || data[i + 1] < 245 || data[i + 2] < 245)) nonWhite++;
      }
      return nonWhite;
    });
    assert.ok(backtestPixels > 5000, `the backtest chart is drawn (${backtestPixels} pixels that are not white)`);

    // The JSON the page offers is the command's, byte for byte.
    const { name: saved, text: json } = await download(page, '#download-fit');
    assert.equal(saved, 'subtwin-fit.json');
    assert.equal(json, text.replace(/\n$/, ''), 'the page\'s fit JSON differs from `subtwin fit --json`');

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#twin').screenshot({ path: path.join(ARTIFACTS, 'page-twin.png') });

    // Another segment: its own summary, chart and start months.
    const index = expected.segments.findIndex((s) => s.name === 'Starter (month)');
    assert.ok(index > 0, 'the demo has Starter (month)');
    await page.click(`#twin-segments button[data-segment="${index}"]`);
    const other = await assertTwinSegment(page, expected, index, 'Starter (month)');
    assert.notEqual(other.canvas.digest, first.canvas.digest, 'the chart was redrawn for the other segment');
    assert.ok(other.shown.assumed.some((line) => line.startsWith('No price change was found in this segment')),
      `Starter had no price change, so its elasticities are assumed: ${other.shown.assumed.join(' | ')}`);

    // The chosen segment stays chosen when the file is read again.
    await page.click('#drop details summary');
    await page.click('#apply');
    await waitForState(page, 'ready', 'applying the options again');
    await waitForTwin(page, 'the demo again');
    await assertTwinSegment(page, expected, index, 'Starter (month) after Apply');

    // The person's own segments and backtest cutoff, as `subtwin fit --segment-by plan --cutoff 2025-03`.
    await page.fill('#segment-by', 'plan');
    await page.fill('#cutoffs', '2025-03');
    await page.click('#apply');
    await waitForState(page, 'ready', 'applying segments by plan and a cutoff');
    await waitForTwin(page, 'the demo by plan');
    const { report: byPlan } = (() => {
      const { stdout } = subtwin(['fit', DEMO_CSV, '--segment-by', 'plan', '--cutoff', '2025-03', '--json']);
      return { report: JSON.parse(stdout) };
    })();
    const buttons = await page.locator('#twin-segments button').allTextContents();
    assert.deepEqual(buttons, byPlan.segments.map((s) => s.name), 'a segment per plan and interval');
    assert.deepEqual(byPlan.backtest.cutoffs, ['2025-03']);
    assert.equal(await page.textContent('#twin-backtest-verdict'), byPlan.backtest.verdict);
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('a chosen file and a snapshot table are calibrated from the File in the worker', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');
    // The demo again, but chosen: the worker reads it from the File, in slices.
    const chosen = path.join(suite.tmp, 'chosen-demo.csv');
    fs.copyFileSync(DEMO_CSV, chosen);
    await page.setInputFiles('#file', chosen);
    await waitForFile(page, 'chosen-demo.csv');
    await waitForTwin(page, 'chosen-demo.csv');
    const { report: expected, text } = fit([chosen]);
    await assertTwinSegment(page, expected, 0, 'chosen-demo.csv');
    const { text: json } = await download(page, '#download-fit');
    assert.equal(json, text.replace(/\n$/, ''), 'the page\'s fit of a chosen file differs from `subtwin fit --json`');

    const snapshot = path.join(FIXTURES, 'telco_snapshot.csv');
    await page.setInputFiles('#file', snapshot);
    await waitForFile(page, 'telco_snapshot.csv');
    await waitForTwin(page, 'telco_snapshot.csv');
    const table = fit([snapshot]).report;
    assert.equal(table.source, 'snapshot');
    const shown = await readTwin(page);
    assert.deepEqual(shown.buttons, table.segments.map((s) => s.name));
    assert.equal(shown.summary, table.segments[0].summary);
    assert.equal(shown.acquisitionRows, 0, 'a table without dates has no acquisition');
    assert.match(shown.acquisitionNote, /^The table has no dates/);
    assert.match(shown.priceNote, /^The table has no dates/);
    assert.equal(await page.isVisible('#twin-cohorts'), false, 'no start months without dates');
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});

test('a fit that fails shows its message in the twin section and leaves the history', { timeout: 120_000 }, async () => {
  const { context, page, log } = await openPage();
  try {
    // The page's own worker, except that fitting the demo's bytes throws as the core does on a file
    // it cannot fit (no input the history reads and the fit refuses is known).
    const message = 'demo-stripe.csv: this file cannot be fitted (a test of the twin section).';
    await context.route('**/worker.js', async (route) => {
      const response = await route.fetch();
      const original = await response.text();
      const broken = original.replace(
        ': fit_and_twin_json(name, input, options, onProgress);',
        `: (() => { throw new Error(${JSON.stringify(message)}); })();`,
      );
      assert.notEqual(broken, original, 'worker.js no longer calls fit_and_twin_json as this test expects');
      await route.fulfill({ response, body: broken });
    });
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await waitForState(page, 'ready', 'opening the page');
    await page.waitForFunction(() => document.body.dataset.twin === 'error', null, { timeout: WAIT });
    assert.equal(await page.textContent('#twin-error'), message);
    assert.equal(await page.isVisible('#twin-error'), true, 'the fit\'s message is shown');
    assert.equal(await page.isVisible('#twin-body'), false, 'no twin is shown');
    assert.equal(await page.isVisible('#error'), false, 'the page-wide error stays hidden');
    assertSameAsCommand(await readPage(page), history(DEMO_CSV), DEMO_CSV);
    await assertChartDrawn(page, 'chart-mrr');
    assertCleanRun(log);
  } finally {
    await context.close();
  }
});
