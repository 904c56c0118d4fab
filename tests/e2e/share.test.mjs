// End-to-end tests of share links in a real Chromium (Debian's, driven by playwright-core): a link
// made from an uploaded file opens, in a fresh browser with no data, to the numbers the sender saw
// (and to the command's `simulate --link` bytes); a link from another engine version says it was
// recomputed; a link in the earlier format s1 still opens, as the command opens it; damaged,
// truncated, oversized and hostile links show a message and leave the page usable; nothing from a
// link becomes HTML; the page asks only for its own files.
//
// Run from the repository root with the other end-to-end tests: node --test tests/e2e/
// Needs the WebAssembly module in www/pkg, /usr/bin/chromium and the native command.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { OWN_FILES, isOwnFile } from './server.mjs';
import { BINARY, REPO, WWW, browserSuite, recordedPage } from './suite.mjs';

const WAIT = 120_000;

const suite = browserSuite('share', { wait: WAIT });
/** The link the first test makes, for the others. */
let made = null;

/** A fresh browser profile (no storage, no file) with its requests and errors recorded. */
const freshPage = () => recordedPage(suite.browser, WAIT);

/** Only the page's own files were asked for, from its own origin, and nothing went wrong. */
function assertOwnFilesOnly(log, { demo = true } = {}) {
  const elsewhere = log.requests.filter((url) => !url.startsWith(suite.origin + '/') && !url.startsWith('blob:'));
  assert.deepEqual(elsewhere, [], 'requests outside the page\'s origin');
  const strangers = log.requests
    .filter((url) => url.startsWith(suite.origin + '/'))
    .filter((url) => !isOwnFile(new URL(url).pathname));
  assert.deepEqual(strangers, [], `files that are not the page's own (allowed: ${OWN_FILES.join(' ')} /pkg/*)`);
  if (!demo) {
    const demoAsked = log.requests.filter((url) => new URL(url).pathname === '/demo-stripe.csv');
    assert.deepEqual(demoAsked, [], 'a link opens without the demo');
  }
  const noisy = log.console.filter((m) => m.type === 'error');
  assert.deepEqual(noisy, [], 'console errors');
  assert.deepEqual(log.errors, [], 'uncaught errors');
  assert.deepEqual(log.dialogs, [], 'a dialog opened: something from a link ran');
}

async function waitForSim(page, what) {
  try {
    await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.body.dataset.sim), null, { timeout: WAIT });
  } catch {
    throw new Error(`${what}: the simulation did not finish`);
  }
  assert.equal(await page.evaluate(() => document.body.dataset.sim), 'done', what);
}

function keyNumbers(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('#sim-key-numbers tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
  );
}

async function downloadText(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), page.click(selector)]);
  return fs.readFileSync(await file.path(), 'utf8');
}

/**
 * The payload of a link's fragment, as JSON, and a fragment for a payload. A payload is an array
 * whose places are [engine version, digest, ..., segments at 9, ...], and a segment an array whose
 * name is at 9 (src/share.rs: WIRE_FIELDS and WIRE_SEGMENT_FIELDS).
 */
function payloadOf(link) {
  const encoded = link.split('#')[1].replace(/^s2\./, '');
  return JSON.parse(zlib.inflateRawSync(Buffer.from(encoded, 'base64url')).toString('utf8'));
}
function fragmentOf(payload) {
  return `s2.${zlib.deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url')}`;
}

/** Opens a link in a fresh profile; resolves once its results are in (or it was refused). */
async function openLink(url) {
  const opened = await freshPage();
  await opened.page.goto(url, { timeout: WAIT });
  await opened.page.waitForFunction(
    () => document.body.dataset.link === 'refused' || Boolean(document.body.dataset.linkVerdict),
    null,
    { timeout: WAIT },
  );
  return opened;
}

test('a link made from an uploaded file opens the same numbers in a fresh browser with no data', { timeout: 600_000 }, async () => {
  const { context, page, log } = await freshPage();
  try {
    await page.goto(`${suite.origin}/`, { timeout: WAIT });
    await page.waitForFunction(() => document.body.dataset.twin === 'ready', null, { timeout: WAIT });
    // The person's own file (here the demo's bytes under another name), chosen with the button.
    const mine = path.join(suite.tmp, 'my-business.csv');
    fs.copyFileSync(path.join(WWW, 'demo-stripe.csv'), mine);
    await page.setInputFiles('#file', mine);
    await page.waitForFunction(
      () => document.getElementById('status-text').textContent.includes('my-business.csv') && document.body.dataset.twin === 'ready',
      null,
      { timeout: WAIT },
    );
    await page.fill('#sim-horizon', '12');
    await page.fill('#sim-paths', '200');
    await page.fill('#sim-seed', '7');
    await page.click('#sim-presets button[data-preset="Raise monthly prices 20%"]');
    await waitForSim(page, 'the sender\'s run');
    assert.equal(await page.isEnabled('#share-make'), true, 'Share is offered once the results are in');
    await page.click('#share-make');
    await page.waitForFunction(
      () => document.body.dataset.share === 'ready' || !document.getElementById('share-error').hidden,
      null,
      { timeout: WAIT },
    );
    assert.equal(await page.isVisible('#share-error'), false, await page.textContent('#share-error'));
    const link = await page.inputValue('#share-link');
    const summary = await page.textContent('#share-summary');
    assert.match(
      summary,
      /^The link holds \d+ segment\(s\) under neutral names \(the box beside Share keeps them\), 1 scenario\(s\), and no cell, price or segment of fewer than 5 subscribers; it is (\d+) characters long\.$/,
    );
    assert.equal(Number(summary.match(/it is (\d+) characters/)[1]), link.length, 'the length said is the link\'s');
    assert.ok(link.startsWith(`${suite.origin}/#s2.`), link);
    const gaps = await page.evaluate(() =>
      [...document.querySelectorAll('#share-gaps tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
    );
    assert.equal(gaps.length, 4, 'MRR and paid subscribers of the baseline and the scenario');
    assert.deepEqual(gaps.map((row) => row[0]), ['Baseline', 'Baseline', 'Raise monthly prices 20%', 'Raise monthly prices 20%']);
    for (const row of gaps) assert.match(row[4], /^[+-]\d+\.\d%$/, `a relative difference: ${row}`);
    assertOwnFilesOnly(log);
    made = { link, gaps };
  } finally {
    await context.close();
  }

  const receiver = await openLink(made.link);
  try {
    const { page: opened, log: openedLog } = receiver;
    assert.equal(await opened.isVisible('#shared'), true, 'the banner shows');
    assert.equal((await opened.textContent('#shared-title')).trim(), 'Shared results (no data)');
    assert.equal(await opened.evaluate(() => document.body.dataset.linkVerdict), 'same', await opened.textContent('#shared-verdict'));
    assert.equal((await opened.textContent('#shared-verdict')).trim(), 'These are the numbers the sender saw.');
    assert.equal(await opened.isVisible('#charts'), false, 'no history: there is no data');
    assert.equal(await opened.isVisible('#chart-fan-mrr'), true, 'the fan charts show');
    // The medians the sender's comparison gave for the shared twin are the ones shown here.
    const shown = (await keyNumbers(opened)).flat().join(' | ');
    for (const row of made.gaps) assert.ok(shown.includes(row[3]), `${row[3]} in ${shown}`);
    // The download is the command's `simulate --link` to the byte.
    const json = await downloadText(opened, '#download-simulation');
    const command = spawnSync(BINARY, ['simulate', '--link', made.link, '--json'], { encoding: 'utf8' });
    assert.equal(command.status, 0, command.stderr);
    assert.equal(json + '\n', command.stdout);
    assert.match(command.stderr, /These are the numbers the sender saw/);
    assertOwnFilesOnly(openedLog, { demo: false });
  } finally {
    await receiver.context.close();
  }
});

test('a link from another engine version opens and says its numbers were recomputed', { timeout: 300_000 }, async () => {
  assert.ok(made, 'the first test made a link');
  const payload = payloadOf(made.link);
  payload[0] += 1;
  payload[1] = '0123456789abcdef';
  const { context, page, log } = await openLink(`${suite.origin}/#${fragmentOf(payload)}`);
  try {
    assert.equal(await page.evaluate(() => document.body.dataset.linkVerdict), 'recomputed');
    assert.match(await page.textContent('#shared-verdict'), /^Recomputed/);
    assertOwnFilesOnly(log, { demo: false });
  } finally {
    await context.close();
  }
});

test('a link in format s1 opens as the command opens it', { timeout: 300_000 }, async () => {
  // Made by `subtwin link` on the demo with both demo scenarios when links were written in format s1
  // (engine version 1): the sender's numbers with that engine, recomputed with another.
  const fragment = fs.readFileSync(path.join(REPO, 'tests', 'fixtures', 'demo-stripe.link-s1.txt'), 'utf8').trim();
  assert.ok(fragment.startsWith('s1.'), 'the fixture is an s1 link');
  const command = spawnSync(BINARY, ['simulate', '--link', fragment, '--json'], { encoding: 'utf8' });
  assert.equal(command.status, 0, command.stderr);
  const expected = /These are the numbers the sender saw/.test(command.stderr) ? 'same' : 'recomputed';
  assert.ok(expected === 'same' || /Recomputed/.test(command.stderr), command.stderr);
  const { context, page, log } = await openLink(`${suite.origin}/#${fragment}`);
  try {
    assert.equal(await page.evaluate(() => document.body.dataset.link), 'opened');
    assert.equal(await page.evaluate(() => document.body.dataset.linkVerdict), expected, await page.textContent('#shared-verdict'));
    assert.equal(await downloadText(page, '#download-simulation') + '\n', command.stdout, 'the page gives the command\'s numbers');
    assertOwnFilesOnly(log, { demo: false });
  } finally {
    await context.close();
  }
});

test('damaged, truncated, oversized and hostile links show a message and leave the page usable', { timeout: 600_000 }, async () => {
  assert.ok(made, 'the first test made a link');
  const fragment = made.link.split('#')[1];
  const middle = Math.floor(fragment.length / 2);
  const damaged = fragment.slice(0, middle) + (fragment[middle] === 'A' ? 'B' : 'A') + fragment.slice(middle + 1);
  const cases = [
    ['damaged', damaged, /damaged/],
    ['truncated', fragment.slice(0, middle), /damaged/],
    ['oversized', `s2.${'A'.repeat(70_000)}`, /characters long/],
    ['another format', `s3.${fragment.slice(3)}`, /format s3/],
    ['markup', 's2.<img src=x onerror=alert(1)>', /damaged/],
    ['script', '<script>alert(1)</script>', /not a subtwin link/],
  ];
  for (const [what, bad, message] of cases) {
    const { context, page, log } = await openLink(`${suite.origin}/#${bad}`);
    try {
      assert.equal(await page.evaluate(() => document.body.dataset.link), 'refused', what);
      assert.equal(await page.isVisible('#error'), true, what);
      assert.match(await page.textContent('#error'), message, what);
      assert.equal(await page.isVisible('#shared'), false, what);
      assert.equal(await page.locator('img').count(), 1, `${what}: only the page's own icon is an image`);
      // The page is usable: the demo opens.
      await page.click('#demo');
      await page.waitForFunction(() => document.body.dataset.twin === 'ready', null, { timeout: WAIT });
      assert.equal(await page.isVisible('#error'), false, `${what}: the demo replaces the message`);
      assertOwnFilesOnly(log);
    } finally {
      await context.close();
    }
  }

  // A well-formed link whose names are markup: they show as text, and nothing runs.
  const payload = payloadOf(made.link);
  // The first segment's name (a neutral one is left out of the link; the scenario names it by position).
  payload[9][0][9] = "<img src=x onerror='window.pwned=1;alert(1)'>";
  const { context, page, log } = await openLink(`${suite.origin}/#${fragmentOf(payload)}`);
  try {
    assert.equal(await page.evaluate(() => document.body.dataset.link), 'opened');
    await waitForSim(page, 'the hostile link\'s run');
    assert.equal(await page.evaluate(() => window.pwned), undefined, 'the markup did not run');
    assert.equal(await page.locator('img').count(), 1, 'no image was made from the link');
    const labels = await page.evaluate(() => [...document.querySelectorAll('.segment')].map((label) => label.textContent));
    assert.ok(labels.some((label) => label.includes("<img src=x onerror='window.pwned=1;alert(1)'>")), labels.join(' | '));
    assertOwnFilesOnly(log, { demo: false });
  } finally {
    await context.close();
  }
});
