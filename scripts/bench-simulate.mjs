// Browser benchmark of the scenario section: how long the page takes to simulate a scenario in its
// workers, in Debian's Chromium (driven by playwright-core), on the demo company's twin. Recorded in
// BENCHMARKS.md.
//
//   node scripts/bench-simulate.mjs [--runs N] [--workers N] [--horizon MONTHS] [--file EXPORT] [--trace FILE] [PATHS...]   (from the repository root)
//
// --file chooses an export through the page's file input (as a person would) and times its twin
// instead of the demo's: for example the one-million-row demo export, `subtwin demo --subscriptions
// 1000000 -o FILE`.
// PATHS are the path counts to time (default 1000 10000); --horizon defaults to 60 months; --workers
// sets the page's pool (`?workers=N`; by default the page uses navigator.hardwareConcurrency);
// --runs is the number of edits timed per path count (default 5); --trace writes a Chromium trace of
// the last edit (every thread: the workers, the coordinator and what the main thread does meanwhile).
//
// For each path count, in a fresh browser context: the page opens with the demo loaded and waits for
// its twin; the run bar is set (horizon, paths); the preset "Raise monthly prices 20%" adds a card,
// which simulates the baseline and the scenario (timed: "first", the baseline's and the scenario's
// `subtwin:simulate-*` measures). Then, as when a slider moves, the card's percent is edited N times
// (each edit once the previous one's break-even and sensitivity are done, so nothing else runs): each
// reruns that scenario alone on the baseline kept, and its `subtwin:simulate-scenario` measure (from
// the run's start, after the page's 200 ms pause for typing, to the coordinator's report for it) is
// "edit". Median and minimum are printed, and the median time of the break-even and sensitivity that
// follow each edit in one pool worker (its `subtwin:search` measure).
//
// Needs the WebAssembly module in www/pkg (bash -c 'source scripts/lib.sh; ensure_build_tools; build_wasm')
// and /usr/bin/chromium.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, startServer } from '../tests/e2e/server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WWW = path.join(REPO, 'www');
const WAIT = Number(process.env.SUBTWIN_BENCH_WAIT || 600_000);
/** What --trace records: every thread's tasks, paints and script calls (for chrome://tracing or Perfetto). */
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8.execute'];

function parse(argv) {
  const options = { runs: 5, workers: null, horizon: 60, file: null, trace: null, paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--workers') options.workers = Number(argv[++i]);
    else if (arg === '--horizon') options.horizon = Number(argv[++i]);
    else if (arg === '--file') options.file = argv[++i];
    else if (arg === '--trace') options.trace = argv[++i];
    else options.paths.push(Number(arg));
  }
  if (options.paths.length === 0) options.paths = [1000, 10000];
  return options;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const measures = (page, name) =>
  page.evaluate((wanted) => performance.getEntriesByType('measure').filter((m) => m.name === wanted).map((m) => m.duration), name);

async function waitForCount(page, name, count) {
  await page.waitForFunction(
    ([wanted, n]) => performance.getEntriesByType('measure').filter((m) => m.name === wanted).length >= n,
    [name, count],
    // Polled every 100 ms, not every frame: the page's own measures time the runs, and a poll each
    // frame would keep the main thread and the compositor busy beside the workers.
    { timeout: WAIT, polling: 100 },
  );
}

async function waitForDone(page) {
  await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.body.dataset.sim), null, {
    timeout: WAIT,
    polling: 100,
  });
  const state = await page.evaluate(() => document.body.dataset.sim);
  if (state !== 'done') throw new Error(`the simulation ended as ${state}`);
}

async function timeOne(browser, origin, options, paths) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    const query = options.workers ? `?workers=${options.workers}` : '';
    await page.goto(`${origin}/${query}`, { timeout: WAIT });
    await page.waitForFunction(() => document.body.dataset.twin === 'ready', null, { timeout: WAIT });
    if (options.file) {
      await page.setInputFiles('#file', options.file);
      await page.waitForFunction(() => document.body.dataset.twin !== 'ready', null, { timeout: WAIT });
      await page.waitForFunction(() => document.body.dataset.twin === 'ready', null, { timeout: WAIT });
    }
    const workers = await page.evaluate(() => document.body.dataset.simWorkers);
    await page.fill('#sim-horizon', String(options.horizon));
    await page.fill('#sim-paths', String(paths));
    await page.click('#sim-presets button[data-preset="Raise monthly prices 20%"]');
    await waitForCount(page, 'subtwin:simulate-scenario', 1);
    const baseline = (await measures(page, 'subtwin:simulate-baseline'))[0];
    const first = (await measures(page, 'subtwin:simulate-scenario'))[0];
    await waitForDone(page);
    const percent = page.locator('.scenario-card').first().locator('input[type="number"][data-field="Percent"]');
    const edits = [];
    for (let run = 0; run < options.runs; run++) {
      const traced = options.trace && run === options.runs - 1;
      if (traced) await browser.startTracing(page, { path: options.trace, categories: TRACE_CATEGORIES });
      await percent.fill(String(21 + run));
      await waitForCount(page, 'subtwin:simulate-scenario', run + 2);
      edits.push((await measures(page, 'subtwin:simulate-scenario'))[run + 1]);
      await waitForDone(page);
      if (traced) await browser.stopTracing();
    }
    // Each edit's break-even and sensitivity (the first card's, then one per edit).
    const searches = (await measures(page, 'subtwin:search')).slice(1);
    return { workers, baseline, first, edits, searches };
  } finally {
    await context.close();
  }
}

const options = parse(process.argv.slice(2));
if (!fs.existsSync(path.join(WWW, 'pkg', 'subtwin_bg.wasm'))) {
  console.error('www/pkg is missing: build the module first');
  process.exit(2);
}
const server = await startServer(WWW);
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: WAIT });
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0].model}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`module: ${fs.statSync(path.join(WWW, 'pkg', 'subtwin_bg.wasm')).size} bytes; horizon ${options.horizon} months`);
console.log(`twin: ${options.file ? path.basename(options.file) : 'the demo (www/demo-stripe.csv)'}`);
try {
  for (const paths of options.paths) {
    const { workers, baseline, first, edits, searches } = await timeOne(browser, origin, options, paths);
    console.log(
      `${paths} paths, ${workers} workers: baseline ${baseline.toFixed(0)} ms, first scenario ${first.toFixed(0)} ms; ` +
        `a scenario on the baseline kept (${edits.length} edits): median ${median(edits).toFixed(0)} ms, ` +
        `min ${Math.min(...edits).toFixed(0)} ms [${edits.map((e) => e.toFixed(0)).join(', ')}]; ` +
        `its break-even and sensitivity after it: median ${median(searches).toFixed(0)} ms`,
    );
  }
} finally {
  await browser.close();
  server.closeAllConnections?.();
  await new Promise((resolve) => server.close(resolve));
}
