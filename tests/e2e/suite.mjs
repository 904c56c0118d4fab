// What every end-to-end test file sets up the same way: the repository's paths, the hooks that
// start the static server and Debian's Chromium for a file's tests (and stop them), and a fresh
// browser profile with everything its page does recorded. Not a test file (see server.mjs).

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, startServer } from './server.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WWW = path.join(REPO, 'www');
export const WASM = path.join(WWW, 'pkg', 'subtwin_bg.wasm');
export const TARGET_DIR = path.resolve(REPO, process.env.CARGO_TARGET_DIR || 'target');
/** The native command, as `cargo build -q` makes it. */
export const BINARY = path.join(TARGET_DIR, 'debug', process.platform === 'win32' ? 'subtwin.exe' : 'subtwin');
const CHROMIUM = '/usr/bin/chromium';

/** Builds the native command when it is not there yet. */
function ensureBinary() {
  if (fs.existsSync(BINARY)) return;
  try {
    execFileSync('cargo', ['build', '-q'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
  } catch (error) {
    throw new Error(`could not build the native command with \`cargo build -q\` in ${REPO}: ${error.message}`);
  }
  if (!fs.existsSync(BINARY)) throw new Error(`\`cargo build -q\` did not produce ${BINARY}`);
}

/**
 * Registers the test file's `before` and `after` hooks and returns what they fill in:
 * `{ server, origin, browser, tmp }`. Before the tests: the WebAssembly module must be built, the
 * native command is built if missing, a temporary folder named `subtwin-e2e-<name>-...` is made,
 * `prepare(suite)` (if given) runs, then the static server starts on a free port of 127.0.0.1 and
 * Chromium is launched. After them, all of it is stopped and the folder removed.
 */
export function browserSuite(name, { wait = 90_000, prepare } = {}) {
  const suite = { server: null, origin: '', browser: null, tmp: '' };
  before(async () => {
    if (!fs.existsSync(WASM)) {
      throw new Error(
        `${path.relative(REPO, WASM)} is missing: run the build first: bash scripts/test.sh builds it ` +
          `(or: bash -c 'source scripts/lib.sh; ensure_build_tools; build_wasm')`,
      );
    }
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package`);
    ensureBinary();
    suite.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `subtwin-e2e-${name}-`));
    if (prepare) await prepare(suite);
    suite.server = await startServer(WWW);
    suite.origin = `http://127.0.0.1:${suite.server.address().port}`;
    suite.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: wait });
  });
  after(async () => {
    if (suite.browser) await suite.browser.close();
    if (suite.server) {
      suite.server.closeAllConnections?.();
      await new Promise((resolve) => suite.server.close(resolve));
    }
    if (suite.tmp) fs.rmSync(suite.tmp, { recursive: true, force: true });
  });
  return suite;
}

/**
 * A fresh browser profile (no storage, downloads accepted, 1280 x 900) and its page, with
 * everything they do recorded in `log`: the console of the page and of its workers (with the
 * location that wrote it), every request, failed requests and error statuses, uncaught errors,
 * crashes, and dialogs (dismissed). The page is not opened yet.
 */
export async function recordedPage(browser, wait) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const log = { requests: [], console: [], errors: [], failed: [], badResponses: [], dialogs: [] };
  // The context's console event covers the page and its dedicated workers (the location says which).
  context.on('console', (message) => {
    const location = message.location();
    log.console.push({ type: message.type(), text: message.text(), url: location && location.url });
  });
  context.on('request', (request) => log.requests.push(request.url()));
  context.on('requestfailed', (request) =>
    log.failed.push(`${request.url()}: ${request.failure() ? request.failure().errorText : 'failed'}`),
  );
  context.on('response', (response) => {
    if (response.status() >= 400) log.badResponses.push(`${response.status()} ${response.url()}`);
  });
  context.on('weberror', (error) => log.errors.push(`weberror: ${error.error().stack || error.error().message}`));
  const page = await context.newPage();
  page.on('pageerror', (error) => log.errors.push(`pageerror: ${error.stack || error.message}`));
  page.on('crash', () => log.errors.push('the page crashed'));
  page.on('dialog', (dialog) => {
    log.dialogs.push(dialog.message());
    dialog.dismiss();
  });
  page.setDefaultTimeout(wait);
  return { context, page, log };
}
