// End-to-end test of reading a large file in the page: the worker reads it a slice at a time, the
// progress bar follows the bytes read, and Cancel stops the reading and leaves the page usable.
// Run from the repository root with the other end-to-end tests: node --test tests/e2e/
// Needs the WebAssembly module in www/pkg, /usr/bin/chromium, and the native command (built with
// `cargo build -q` when missing) to write the demo export at a size that takes a while to read.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { BINARY, browserSuite } from './suite.mjs';

const WAIT = 60_000;
/** Rows of the large export: enough that reading it takes a few seconds, so that it can be cancelled. */
const LARGE_ROWS = 400_000;

let large;
let small;

const suite = browserSuite('cancel', {
  wait: WAIT,
  prepare: ({ tmp }) => {
    large = path.join(tmp, 'large-export.csv');
    small = path.join(tmp, 'small-export.csv');
    execFileSync(BINARY, ['demo', '--subscriptions', String(LARGE_ROWS), '-o', large]);
    execFileSync(BINARY, ['demo', '--subscriptions', '300', '--seed', '7', '-o', small]);
  },
});

const state = (page) =>
  page.evaluate(() => ({
    state: document.body.dataset.state,
    status: document.getElementById('status-text').textContent,
    progress: document.getElementById('progress').value,
    cancel: !document.getElementById('cancel').hidden,
    results: !document.getElementById('results').hidden,
    error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
  }));

test('a large file is read with progress, Cancel stops it, and the page stays usable', { timeout: 240_000 }, async () => {
  const context = await suite.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${suite.origin}/`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: WAIT });

  await page.setInputFiles('#file', large);
  // Reading: the Cancel button shows, and the progress bar moves with the bytes read.
  await page.waitForFunction(
    () => document.body.dataset.state === 'working' && document.getElementById('progress').value > 0,
    null,
    { timeout: WAIT, polling: 20 },
  );
  const reading = await state(page);
  assert.ok(reading.cancel, `the Cancel button shows while the file is read: ${JSON.stringify(reading)}`);
  assert.ok(reading.progress > 0 && reading.progress < 1, `the progress is part way: ${JSON.stringify(reading)}`);

  await page.click('#cancel');
  const stopped = await state(page);
  assert.equal(stopped.state, 'ready', `after Cancel: ${JSON.stringify(stopped)}`);
  assert.match(stopped.status, /^Stopped reading large-export\.csv\. Showing demo-stripe\.csv\.$/);
  assert.ok(!stopped.cancel, 'the Cancel button is gone');
  assert.ok(stopped.results, 'the demo the page showed before is still shown');
  // Nothing from the cancelled file arrives later.
  await page.waitForTimeout(500);
  assert.equal((await state(page)).status, stopped.status);

  // The page stays usable: the next file is read and shown.
  await page.setInputFiles('#file', small);
  await page.waitForFunction(
    () => document.body.dataset.state !== 'working' && document.getElementById('status-text').textContent.includes('small-export.csv'),
    null,
    { timeout: WAIT },
  );
  const after = await state(page);
  assert.equal(after.state, 'ready', `the next file: ${JSON.stringify(after)}`);
  assert.equal(after.status, 'Showing small-export.csv.');
  assert.deepEqual(errors, [], 'the page threw no errors');
  await context.close();
});
