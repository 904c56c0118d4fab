// The PapaParse baseline in Debian's Chromium: opens benches/baseline_papaparse.html, chooses a
// generated export there and reads the time the page reports (parse + month-end computation) and the
// peak memory of the renderer process, as scripts/bench-browser.mjs does for subtwin's page.
//
//   node benches/baseline_papaparse.mjs [--runs N] [ROWS]     (from the repository root)
//
// ROWS (default 1000000) is the size of the export written with target/release/subtwin demo.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, startServer } from '../tests/e2e/server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BINARY = path.join(REPO, 'target', 'release', 'subtwin');

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 3;
const rows = Number(args[0] || 1_000_000);

/** The peak resident set (VmHWM) among the renderer processes descending from this one. */
function rendererPeak() {
  const parent = new Map();
  const renderers = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('--type=renderer')) renderers.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  const ours = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p), hops++) if (p === process.pid) return true;
    return false;
  };
  let peak = 0;
  for (const pid of renderers.filter(ours)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      peak = Math.max(peak, Number((/^VmHWM:\s+(\d+) kB/m.exec(status) || [])[1]) * 1024);
    } catch {
      // The process ended while we looked.
    }
  }
  return peak;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'subtwin-papaparse-'));
const file = path.join(tmp, `subtwin-demo-${rows}.csv`);
execFileSync(BINARY, ['demo', '--subscriptions', String(rows), '-o', file]);
const server = await startServer(REPO);
const url = `http://127.0.0.1:${server.address().port}/benches/baseline_papaparse.html`;
const results = [];
try {
  for (let run = 1; run <= runs; run++) {
    // A fresh browser each run, so that the memory figure belongs to this run alone.
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, rendererPeak())), 100);
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.setInputFiles('#file', file);
      await page.waitForFunction(() => document.getElementById('out').textContent !== '', null, { timeout: 600_000, polling: 100 });
      const result = JSON.parse(await page.textContent('#out'));
      peak = Math.max(peak, rendererPeak());
      results.push({ ...result, peak });
      console.error(`run ${run}: parse ${result.parseMs.toFixed(0)} ms, compute ${result.computeMs.toFixed(0)} ms, total ${result.totalMs.toFixed(0)} ms, renderer peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    } catch (error) {
      console.error(`run ${run}: FAILED (${String(error.message).split('\n')[0]}); renderer peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    } finally {
      clearInterval(timer);
      await browser.close();
    }
  }
} finally {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
if (results.length > 0) {
  const last = results[results.length - 1];
  console.log(
    `PapaParse ${JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'papaparse', 'package.json'), 'utf8')).version}, ${rows} rows, ${results.length}/${runs} runs: ` +
      `total median ${median(results.map((r) => r.totalMs)).toFixed(0)} ms (parse ${median(results.map((r) => r.parseMs)).toFixed(0)} ms, ` +
      `compute ${median(results.map((r) => r.computeMs)).toFixed(0)} ms), renderer peak median ${(median(results.map((r) => r.peak)) / 2 ** 20).toFixed(0)} MiB; ` +
      `${last.months} months, last ${last.last.monthEnd}: ${last.last.active} active, MRR ${last.last.mrr.toFixed(2)}`,
  );
}
