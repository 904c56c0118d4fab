// Browser benchmark of the page in www/: Debian's Chromium (driven by playwright-core) opens it from the
// end-to-end tests' static server and this script reads how long things take and how much memory the
// tab uses. Recorded in BENCHMARKS.md.
//
//   node scripts/bench-browser.mjs [--fit] [--runs N] [ROWS...]      (from the repository root)
//
// ROWS are the sizes of the generated exports to import (default 100000 1000000). --runs N sets the
// number of runs of every measurement (default: 7 for the page load, 5 per export under 500,000 rows,
// 3 for larger ones). --fit also times the twin the worker calibrates after the history (below).
//
// Needs the WebAssembly module in www/pkg (bash -c 'source scripts/lib.sh; ensure_build_tools; build_wasm'),
// the native release binary (cargo build --release) to write the exports, and /usr/bin/chromium.
//
// What it measures, each over several runs (median and min):
//   load     page.goto until body[data-state="ready"] after the automatic demo load, measured in node,
//            with a fresh browser context (no cache, no storage) each run;
//   boot     navigation start until app.js starts the demo import (HTML, scripts, the module compiled
//            and instantiated on the main thread): the start of the page's `subtwin:import` measure;
//   import   the page's own `subtwin:import` measure: the file read, posted to the worker, parsed and
//            turned into the history there, the JSON posted back;
//   render   the page's own `subtwin:render` measure: text, tables and both charts on the main thread;
//   split    for the generated exports, separately: in a fresh page, the file's bytes read with
//            File.arrayBuffer(), then the core alone, `analyse_json` of the page's own module called on
//            the main thread with those bytes (no worker, no copy between threads). These are other
//            runs on another thread than the import's, so they show the shares, not an exact sum;
//   memory   for the generated exports, the peak resident set (VmHWM in /proc/PID/status) of the
//            renderer process that hosts the page and its worker (both run in that one process), read
//            every 100 ms and at the end; each export run gets its own browser so the figure belongs
//            to that run alone. The browser and GPU processes are not included.
//   fit      with --fit only. The page's worker calibrates the twin once the history is shown: it reads
//            the file again, imports it, fits every segment with its intervals and runs the backtest
//            (4 cutoffs × 500 Monte Carlo paths); the page then sets body[data-twin] from "fitting" to
//            "ready" (or "error"). A MutationObserver installed before the page's scripts records when
//            body's data-state and data-twin change (performance.now() in the page), so, for each
//            export: chosen → history ready (the start of the page's `subtwin:import` measure to
//            data-state "ready"), history ready → twin ready (the fit alone), the total, and the same
//            total as node sees it (setInputFiles until data-twin settles, polled every 100 ms). The
//            export is chosen only once the demo's own twin is ready (without --fit it is chosen as soon
//            as the demo's history is shown, which stops the demo's fit); the demo's fit at page load
//            is reported too. "memory" then covers the whole run: the demo, the history and the fit,
//            and is also read as the history is shown (the peak before the fit).
//            Timeouts: the history 5 min, the twin 10 min for exports of 500,000 rows or more (2 and 3
//            min for smaller ones).
// A run that fails (an error on the page, a crashed tab, a timeout) is reported as such: that is a
// finding, not a failure of this script.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, startServer } from '../tests/e2e/server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WWW = path.join(REPO, 'www');
const WASM = path.join(WWW, 'pkg', 'subtwin_bg.wasm');
const BINARY = path.join(REPO, 'target', 'release', 'subtwin');
const CHROMIUM = '/usr/bin/chromium';
const LARGE = 500_000; // rows from which an export counts as large (fewer runs, longer timeout)

// ---------------------------------------------------------------------------------------------
// Arguments and prerequisites.

function parseArgs(argv) {
  let runs = null;
  let fit = false;
  const rows = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs' || arg.startsWith('--runs=')) {
      const value = arg === '--runs' ? argv[++i] : arg.slice('--runs='.length);
      runs = Number(value);
      if (!Number.isInteger(runs) || runs < 1) usage(`--runs needs a positive whole number, not ${value}`);
    } else if (arg === '--fit') {
      fit = true;
    } else if (arg === '-h' || arg === '--help') {
      usage();
    } else if (/^\d+$/.test(arg) && Number(arg) > 0) {
      rows.push(Number(arg));
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  return { runs, fit, rows: rows.length > 0 ? rows : [100_000, 1_000_000] };
}

function usage(error) {
  if (error) console.error(`bench-browser: ${error}`);
  console.error('usage: node scripts/bench-browser.mjs [--fit] [--runs N] [ROWS...]   (default ROWS: 100000 1000000)');
  process.exit(2);
}

function requireFile(file, how) {
  if (!fs.existsSync(file)) {
    console.error(`bench-browser: ${path.relative(REPO, file) || file} is missing: ${how}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// The machine.

function machine(chromiumVersion) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name) => (new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo) || [])[1] || '?';
  const meminfo = fs.readFileSync('/proc/meminfo', 'utf8');
  const memKiB = Number((/^MemTotal:\s+(\d+)/m.exec(meminfo) || [])[1]);
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim() || String(os.availableParallelism());
  return [
    ['cores (nproc)', nproc],
    ['CPU', `${field('model name')} (family ${field('cpu family')}, model ${field('model')}, ${field('cpu MHz')} MHz)`],
    ['memory', `${(memKiB / 1024 / 1024).toFixed(1)} GiB`],
    ['Chromium', `${chromiumVersion} (${CHROMIUM})`],
    ['node', process.version],
    ['playwright-core', JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'playwright-core', 'package.json'), 'utf8')).version],
    ['module', `${path.relative(REPO, WASM)}, ${fs.statSync(WASM).size} bytes`],
  ];
}

// ---------------------------------------------------------------------------------------------
// Renderer memory from /proc.

/** The pids of the processes descending from `root` whose command line says --type=renderer. */
function rendererPids(root) {
  const parent = new Map();
  const renderers = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('--type=renderer')) renderers.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  const descends = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  return renderers.filter(descends);
}

/** VmHWM and VmRSS of a process in bytes, or null when it is gone. */
function memoryOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name) => Number((new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status) || [])[1]) * 1024;
    return { hwm: kib('VmHWM'), rss: kib('VmRSS') };
  } catch {
    return null;
  }
}

/** Polls the renderers descending from `root`: the largest peak seen, and the RSS now. */
function memorySampler(root) {
  let peak = 0;
  const sample = () => {
    for (const pid of rendererPids(root)) {
      const memory = memoryOf(pid);
      if (memory) peak = Math.max(peak, memory.hwm);
    }
    return peak;
  };
  const timer = setInterval(sample, 100);
  return {
    sample,
    rssNow: () => Math.max(0, ...rendererPids(root).map((pid) => (memoryOf(pid) || { rss: 0 }).rss)),
    stop: () => {
      clearInterval(timer);
      return sample();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The page.

// Playwright starts Chromium as a child of this process (Debian's /usr/bin/chromium wrapper execs the
// binary), so the renderers are this process's descendants; one browser runs at a time.
function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** The page's subtwin:* measures, newest last. */
function measures(page) {
  return page.evaluate(() =>
    performance
      .getEntriesByType('measure')
      .filter((m) => m.name.startsWith('subtwin:'))
      .map((m) => ({ name: m.name, start: m.startTime, duration: m.duration, detail: m.detail })),
  );
}

function lastMeasure(all, name, detail) {
  const found = all.filter((m) => m.name === name && m.detail === detail);
  return found.length > 0 ? found[found.length - 1] : null;
}

/**
 * Runs in the page before its scripts (--fit only): records every change of body's data-state and
 * data-twin, with performance.now(), in window.__subtwinStates.
 */
function recordStates() {
  window.__subtwinStates = [];
  new MutationObserver((records) => {
    const t = performance.now();
    for (const record of records) {
      if (record.target !== document.body) continue;
      window.__subtwinStates.push({ attr: record.attributeName, value: record.target.getAttribute(record.attributeName), t });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state', 'data-twin'] });
}

/**
 * From the recorded changes: the last time data-state became "ready" and the first time after it that
 * data-twin became "ready" or "error" (null while it has not).
 */
async function twinTimes(page) {
  const states = await page.evaluate(() => window.__subtwinStates || []);
  let ready = -1;
  for (let i = 0; i < states.length; i++) if (states[i].attr === 'data-state' && states[i].value === 'ready') ready = i;
  if (ready < 0) return { historyAt: null, twinAt: null, twin: null };
  const settled = states.slice(ready + 1).find((s) => s.attr === 'data-twin' && (s.value === 'ready' || s.value === 'error'));
  return { historyAt: states[ready].t, twinAt: settled ? settled.t : null, twin: settled ? settled.value : null };
}

/** Opens the page in a fresh context and waits for the demo; times it from page.goto. */
async function openWithDemo(browser, origin, timeout, { fit = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  if (fit) await context.addInitScript(recordStates);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const transfers = [];
  context.on('requestfinished', (request) => transfers.push(request.sizes().then((sizes) => [request.url(), sizes.responseBodySize])));
  const started = performance.now();
  await page.goto(`${origin}/`, { timeout });
  await page.waitForSelector('body[data-state="ready"]', { state: 'attached', timeout });
  const load = performance.now() - started;
  const all = await measures(page);
  const imported = lastMeasure(all, 'subtwin:import', 'demo-stripe.csv');
  const rendered = lastMeasure(all, 'subtwin:render', 'demo-stripe.csv');
  if (!imported || !rendered) throw new Error(`the page reached "ready" without its measures: ${JSON.stringify(all)}`);
  const fetched = await Promise.all(transfers);
  let demoFit = null;
  if (fit) {
    // The demo's twin: history ready → twin ready, in the page's clock.
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.twin), null, { timeout, polling: 100 });
    const times = await twinTimes(page);
    if (times.twin !== 'ready') throw new Error(`the demo's twin failed: ${(await page.textContent('#twin-error')).trim()}`);
    demoFit = times.twinAt - times.historyAt;
  }
  return {
    context,
    page,
    errors,
    load,
    demoFit,
    boot: imported.start,
    import: imported.duration,
    render: rendered.duration,
    requests: fetched.length,
    bytes: fetched.reduce((sum, [, size]) => sum + size, 0),
    wasmFetches: fetched.filter(([url]) => url.endsWith('/pkg/subtwin_bg.wasm')).length,
  };
}

/** Chooses `file` through #file and waits until the page shows it, fails, crashes or times out. */
async function importFile(page, file, timeout) {
  const name = path.basename(file);
  let onCrash;
  const crash = new Promise((resolve) => {
    onCrash = () => resolve({ outcome: 'crash' });
    page.once('crash', onCrash);
  });
  const started = performance.now();
  await page.setInputFiles('#file', file);
  const settled = page
    .waitForFunction(
      (name) =>
        document.body.dataset.state === 'error' ||
        (document.body.dataset.state === 'ready' && document.getElementById('status-text').textContent === `Showing ${name}.`),
      name,
      { timeout, polling: 100 },
    )
    .then(() => ({ outcome: 'settled' }))
    .catch((error) => ({ outcome: /Timeout/i.test(error.message) ? 'timeout' : 'crash', message: error.message }));
  const result = await Promise.race([settled, crash]);
  page.off('crash', onCrash);
  const wall = performance.now() - started;
  if (result.outcome === 'crash') return { ok: false, what: `the tab crashed after ${seconds(wall)}${result.message ? ` (${firstLine(result.message)})` : ''}` };
  if (result.outcome === 'timeout') return { ok: false, what: `no result after ${seconds(timeout)} (timed out)` };
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state === 'error') {
    const status = await page.textContent('#status-text');
    const message = (await page.textContent('#error')).trim();
    return { ok: false, what: `the page shows an error after ${seconds(wall)}: ${status} ${message}` };
  }
  const all = await measures(page);
  const imported = lastMeasure(all, 'subtwin:import', name);
  const rendered = lastMeasure(all, 'subtwin:render', name);
  if (!imported || !rendered) return { ok: false, what: `ready without measures for ${name}: ${JSON.stringify(all)}` };
  const facts = await page.$$eval('#facts dd', (dds) => Object.fromEntries(dds.map((dd) => [dd.dataset.fact, dd.textContent])));
  return { ok: true, wall, started, importStart: imported.start, import: imported.duration, render: rendered.duration, rows: facts.Rows };
}

/**
 * After importFile (--fit): waits until the worker's twin of the file shown is ready, fails, the tab
 * crashes or `timeout` passes. `chosen` is performance.now() in node just before the file was chosen.
 */
async function waitForTwin(page, chosen, timeout) {
  let onCrash;
  const crash = new Promise((resolve) => {
    onCrash = () => resolve({ outcome: 'crash' });
    page.once('crash', onCrash);
  });
  const started = performance.now();
  const settled = page
    .waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.twin), null, { timeout, polling: 100 })
    .then(() => ({ outcome: 'settled' }))
    .catch((error) => ({ outcome: /Timeout/i.test(error.message) ? 'timeout' : 'crash', message: error.message }));
  const result = await Promise.race([settled, crash]);
  page.off('crash', onCrash);
  const wall = performance.now() - chosen;
  const waited = performance.now() - started;
  if (result.outcome === 'crash') return { ok: false, what: `the tab crashed ${seconds(waited)} into the fit${result.message ? ` (${firstLine(result.message)})` : ''}` };
  if (result.outcome === 'timeout') return { ok: false, what: `no twin ${seconds(timeout)} after the history (timed out)` };
  const times = await twinTimes(page);
  if (times.twin !== 'ready') {
    const message = (await page.textContent('#twin-error')).trim();
    return { ok: false, what: `the twin failed ${seconds(waited)} after the history: ${message}` };
  }
  return { ok: true, wall, historyAt: times.historyAt, twinAt: times.twinAt };
}

/**
 * In a page that has loaded (the module is initialised): reads `file` through an input of our own and
 * times File.arrayBuffer() and the core (`analyse_json`, the whole file in memory) on the main thread.
 */
async function splitImport(page, file, timeout) {
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-file';
    input.hidden = true;
    document.body.append(input);
  });
  await page.setInputFiles('#bench-file', file);
  page.setDefaultTimeout(timeout);
  return page.evaluate(async () => {
    const chosen = document.getElementById('bench-file').files[0];
    const { analyse_json } = await import('./pkg/subtwin.js'); // the page's module, already initialised
    const t0 = performance.now();
    const bytes = new Uint8Array(await chosen.arrayBuffer());
    const t1 = performance.now();
    const json = analyse_json(chosen.name, bytes, undefined, () => {});
    const t2 = performance.now();
    return { read: t1 - t0, core: t2 - t1, rows: JSON.parse(json).summary.rows_read };
  });
}

// ---------------------------------------------------------------------------------------------
// Figures.

const firstLine = (text) => String(text).split('\n')[0];
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const ms = (value) => (value == null ? '–' : value >= 10_000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`);
const mib = (bytes) => (bytes == null || bytes === 0 ? '–' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);

function stats(values) {
  const sorted = values.filter((v) => v != null).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: null, min: null, max: null, n: 0 };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** Prints a table: the first column (and every column when `left`) aligned left, the others right. */
function printTable(header, rows, { left = false } = {}) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 0 || left ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])))
      .join('  ')
      .trimEnd();
  if (header.some((h) => h !== '')) {
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const { runs, fit, rows } = parseArgs(process.argv.slice(2));
  requireFile(WASM, "build it: bash -c 'source scripts/lib.sh; ensure_build_tools; build_wasm'");
  requireFile(BINARY, 'build it: cargo build --release');
  requireFile(CHROMIUM, "install Debian's chromium package");

  const server = await startServer(WWW);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'subtwin-bench-'));
  const log = (text) => process.stderr.write(`${text}\n`);
  try {
    // a + b: the page opening with the demo, a fresh context each run in one browser.
    const demoRuns = runs ?? 7;
    const browser = await launch();
    const version = browser.version();
    const opened = [];
    try {
      log(`page load with the demo: ${demoRuns} runs (fresh context each)`);
      for (let run = 1; run <= demoRuns; run++) {
        const result = await openWithDemo(browser, origin, 60_000, { fit });
        await result.context.close();
        if (result.errors.length > 0) throw new Error(`the page threw: ${result.errors.join('; ')}`);
        opened.push(result);
        log(
          `  run ${run}: load ${ms(result.load)}, boot ${ms(result.boot)}, import ${ms(result.import)}, render ${ms(result.render)}` +
            (fit ? `, the demo's twin ${ms(result.demoFit)} after its history` : ''),
        );
      }
    } finally {
      await browser.close();
    }

    // c: the generated exports, a fresh browser (and context) each run.
    const imports = [];
    for (const count of rows) {
      const file = path.join(tmp, `subtwin-demo-${count}.csv`);
      log(`writing ${count} rows: ${path.relative(REPO, BINARY)} demo --subscriptions ${count} -o ${file}`);
      execFileSync(BINARY, ['demo', '--subscriptions', String(count), '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
      const size = fs.statSync(file).size;
      const large = count >= LARGE;
      const n = runs ?? (large ? 3 : 5);
      const timeout = large ? 5 * 60_000 : 2 * 60_000;
      const fitTimeout = large ? 10 * 60_000 : 3 * 60_000;
      const results = [];
      log(
        `importing ${count} rows (${(size / 1e6).toFixed(1)} MB): ${n} runs, a fresh browser each, timeout ${seconds(timeout)}` +
          (fit ? `, then the twin (timeout ${seconds(fitTimeout)})` : ''),
      );
      for (let run = 1; run <= n; run++) {
        const browser = await launch();
        const sampler = memorySampler(process.pid);
        let result;
        try {
          const { context, page } = await openWithDemo(browser, origin, 60_000, { fit });
          const baseline = sampler ? sampler.rssNow() : null;
          result = await importFile(page, file, timeout);
          if (fit && result.ok) {
            const historyPeak = sampler.sample(); // VmHWM so far: the demo and the history
            const twin = await waitForTwin(page, result.started, fitTimeout);
            result.fit = twin.ok
              ? { ok: true, wall: twin.wall, history: twin.historyAt - result.importStart, fit: twin.twinAt - twin.historyAt, total: twin.twinAt - result.importStart }
              : twin;
            result.fit.historyPeak = historyPeak;
          }
          result.baseline = baseline;
          result.peak = sampler ? sampler.stop() : null;
          await context.close().catch(() => {});
        } catch (error) {
          result = { ok: false, what: `the run stopped: ${firstLine(error.message)}`, peak: sampler ? sampler.stop() : null };
        } finally {
          await browser.close().catch(() => {});
        }
        results.push(result);
        log(
          result.ok
            ? `  run ${run}: import ${ms(result.import)}, render ${ms(result.render)}, renderer peak ${mib(result.peak)} (after the demo ${mib(result.baseline)}); ${result.rows}`
            : `  run ${run}: FAILED: ${result.what}; renderer peak ${mib(result.peak)}`,
        );
        if (result.fit) {
          log(
            result.fit.ok
              ? `         twin: chosen → history ${ms(result.fit.history)}, history → twin ${ms(result.fit.fit)}, total ${ms(result.fit.total)} (node: ${ms(result.fit.wall)}); renderer peak at the history ${mib(result.fit.historyPeak)}`
              : `         twin FAILED: ${result.fit.what}`,
          );
        }
      }
      const splits = [];
      log(`  split: file read and the core alone on the main thread, ${n} runs`);
      for (let run = 1; run <= n; run++) {
        const browser = await launch();
        const sampler = memorySampler(process.pid);
        try {
          const { context, page } = await openWithDemo(browser, origin, 60_000);
          const split = await splitImport(page, file, timeout);
          if (split.rows !== count) throw new Error(`analyse_json read ${split.rows} rows, expected ${count}`);
          split.peak = sampler.stop();
          splits.push(split);
          log(`  run ${run}: read ${ms(split.read)}, core ${ms(split.core)}, renderer peak ${mib(split.peak)}`);
          await context.close().catch(() => {});
        } catch (error) {
          splits.push({ failed: firstLine(error.message), peak: sampler.stop() });
          log(`  run ${run}: FAILED: ${firstLine(error.message)}`);
        } finally {
          sampler.stop();
          await browser.close().catch(() => {});
        }
      }
      imports.push({ count, size, results, splits });
    }

    // The report.
    console.log('\nMachine');
    printTable(['', ''], machine(version), { left: true });

    const demoBytes = fs.statSync(path.join(WWW, 'demo-stripe.csv')).size;
    console.log(`\nOpening the page with the demo (www/demo-stripe.csv, ${demoBytes} bytes), ${opened.length} runs, fresh context each`);
    const row = (label, values) => {
      const s = stats(values);
      return [label, ms(s.median), ms(s.min), ms(s.max)];
    };
    printTable(
      ['measure', 'median', 'min', 'max'],
      [
        row('load: goto → demo charted (node)', opened.map((r) => r.load)),
        row('boot: navigation → import starts', opened.map((r) => r.boot)),
        row('subtwin:import (demo)', opened.map((r) => r.import)),
        row('subtwin:render (demo)', opened.map((r) => r.render)),
        ...(fit ? [row("demo: history ready → twin ready", opened.map((r) => r.demoFit))] : []),
      ],
    );

    const first = opened[0];
    console.log(
      `each load fetched ${first.requests} files, ${(first.bytes / 1e6).toFixed(2)} MB uncompressed (the server does not compress), ` +
        `the module ${first.wasmFetches} time(s): page and worker each instantiate their own`,
    );

    console.log('\nImporting generated exports through #file (fresh browser each run)');
    const table = [];
    for (const { count, size, results } of imports) {
      const ok = results.filter((r) => r.ok);
      const importStats = stats(ok.map((r) => r.import));
      const renderStats = stats(ok.map((r) => r.render));
      const peakStats = stats(results.map((r) => r.peak || null));
      table.push([
        String(count),
        `${(size / 1e6).toFixed(1)} MB`,
        `${ok.length}/${results.length}`,
        ms(importStats.median),
        ms(importStats.min),
        ms(renderStats.median),
        importStats.median ? `${Math.round(count / (importStats.median / 1000))}` : '–',
        mib(peakStats.median),
        mib(peakStats.max),
        mib(stats(ok.map((r) => r.baseline)).median),
      ]);
    }
    printTable(
      ['rows', 'file', 'ok', 'import median', 'import min', 'render median', 'rows/s', 'peak median', 'peak max', 'after demo'],
      table,
    );
    console.log('peak = VmHWM of the renderer process (page + worker); after demo = its VmRSS before the file was chosen');
    for (const { count, results } of imports) {
      for (const [i, r] of results.entries()) if (!r.ok) console.log(`${count} rows, run ${i + 1}: ${r.what}`);
    }

    if (fit) {
      console.log('\nCalibrating the twin after the history (fresh browser each run; times in the page\'s clock)');
      printTable(
        ['rows', 'ok', 'chosen → history', 'history → twin', 'min', 'total', 'min', 'node: total', 'peak at history', 'peak median', 'peak max', 'after demo'],
        imports.map(({ count, results }) => {
          const done = results.filter((r) => r.fit && r.fit.ok).map((r) => r.fit);
          const history = stats(done.map((f) => f.history));
          const fitted = stats(done.map((f) => f.fit));
          const total = stats(done.map((f) => f.total));
          const wall = stats(done.map((f) => f.wall));
          const peak = stats(results.map((r) => r.peak || null));
          return [
            String(count),
            `${done.length}/${results.length}`,
            ms(history.median),
            ms(fitted.median),
            ms(fitted.min),
            ms(total.median),
            ms(total.min),
            ms(wall.median),
            mib(stats(results.map((r) => (r.fit ? r.fit.historyPeak : null))).median),
            mib(peak.median),
            mib(peak.max),
            mib(stats(results.filter((r) => r.ok).map((r) => r.baseline)).median),
          ];
        }),
      );
      console.log(
        'peak = VmHWM of the renderer over the whole run (demo, history and twin); peak at history = the same read as the history was shown, before the fit; after demo = its VmRSS once the demo\'s twin was ready',
      );
      for (const { count, results } of imports) {
        for (const [i, r] of results.entries()) if (r.fit && !r.fit.ok) console.log(`${count} rows, run ${i + 1}: the twin: ${r.fit.what}`);
      }
    }

    console.log('\nWhere the import goes: File.arrayBuffer() and analyse_json alone on the main thread (fresh browser each run)');
    printTable(
      ['rows', 'runs', 'read median', 'read min', 'core median', 'core min', 'import median (above)', 'peak median'],
      imports.map(({ count, results, splits }) => {
        const done = splits.filter((s) => !s.failed);
        const read = stats(done.map((s) => s.read));
        const core = stats(done.map((s) => s.core));
        const imported = stats(results.filter((r) => r.ok).map((r) => r.import));
        const peak = stats(splits.map((s) => s.peak || null));
        return [String(count), `${done.length}/${splits.length}`, ms(read.median), ms(read.min), ms(core.median), ms(core.min), ms(imported.median), mib(peak.median)];
      }),
    );
    console.log('the split holds the whole file twice (a JavaScript ArrayBuffer and its copy in the module), as the page did before it read files in slices; peak as above');
    for (const { count, splits } of imports) {
      for (const [i, s] of splits.entries()) if (s.failed) console.log(`${count} rows, split run ${i + 1}: ${s.failed}`);
    }
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench-browser: ${error.stack || error.message}`);
  process.exit(1);
});
