// The page: files in, the worker's report out, text and charts drawn by the WebAssembly core.
// This script handles the DOM, files and the worker; every number and every formatted figure comes
// from Rust (HistoryHandle), never from JavaScript.
import init, { HistoryHandle, conventions } from './pkg/subtwin.js';

const $ = (id) => document.getElementById(id);
const DEMO = { name: 'demo-stripe.csv', load: () => fetch('demo-stripe.csv').then(expectOk).then((r) => r.arrayBuffer()) };

let worker = null;
let busy = false; // a request is in flight in the worker
let latest = 0; // the id of the newest request: replies to older ones are ignored
let current = null; // { name, load } of the file shown, for "Apply"
let handle = null;
let objectUrls = [];

function expectOk(response) {
  if (!response.ok) throw new Error(`could not load ${response.url} (HTTP ${response.status})`);
  return response;
}

function setState(state, text) {
  document.body.dataset.state = state;
  $('status-text').textContent = text;
  $('progress').hidden = state !== 'working';
}

// An error replaces the results: numbers from an earlier file under a failed one would mislead.
function fail(status, message) {
  setState('error', status);
  $('results').hidden = true;
  showError(message);
}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
}

function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onerror = (event) => {
    busy = false;
    fail('The worker stopped.', `The computation stopped unexpectedly (${event.message || 'worker error'}). Reload the page to try again.`);
  };
}

async function analyse(source) {
  const id = ++latest;
  if (busy) {
    // A newer file replaces the one being read: stop the old computation outright.
    worker.terminate();
    startWorker();
    busy = false;
  }
  current = source;
  // Timings for benchmarks (scripts/bench-browser.mjs reads them): import = read + parse + history
  // in the worker, render = text and charts on the main thread.
  const started = performance.now();
  $('apply').disabled = false;
  $('error').hidden = true;
  setState('working', `Reading ${source.name}…`);
  $('progress').value = 0;
  let bytes;
  try {
    bytes = await source.load();
  } catch (error) {
    if (id !== latest) return;
    fail(`Could not read ${source.name}.`, `${source.name}: ${error.message}`);
    return;
  }
  if (id !== latest) return;
  const request = { id, name: source.name, bytes, asOf: $('as-of').value, currency: $('currency').value.trim() };
  busy = true;
  const result = await new Promise((resolve) => {
    worker.onmessage = (event) => {
      const message = event.data;
      if (message.id !== id) return;
      if (message.type === 'progress') {
        $('progress').value = message.total > 0 ? message.read / message.total : 0;
      } else {
        resolve(message);
      }
    };
    worker.postMessage(request, [bytes]);
  });
  busy = false;
  if (id !== latest) return;
  if (result.type === 'error') {
    fail(`Could not use ${source.name}.`, result.message);
    return;
  }
  const imported = performance.now();
  show(result.json);
  performance.measure('subtwin:import', { start: started, end: imported, detail: source.name });
  performance.measure('subtwin:render', { start: imported, end: performance.now(), detail: source.name });
  setState('ready', `Showing ${source.name}.`);
}

function show(json) {
  if (handle) handle.free();
  handle = new HistoryHandle(json);
  const view = handle.view();
  const facts = $('facts');
  facts.replaceChildren();
  for (const fact of view.facts) {
    const dt = document.createElement('dt');
    dt.textContent = fact.label;
    const dd = document.createElement('dd');
    dd.textContent = fact.value;
    dd.dataset.fact = fact.label;
    facts.append(dt, dd);
  }
  fillTable($('segments'), view.segments);
  fillTable($('months'), view.months);
  fillTable($('problems'), view.problems);
  $('problems-section').hidden = view.problems.rows.length === 0;
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls = [
    setDownload($('download-json'), json, 'application/json'),
    setDownload($('download-problems'), view.problems_csv, 'text/csv'),
  ];
  $('results').hidden = false;
  handle.draw($('chart-mrr'), 'mrr');
  handle.draw($('chart-subscribers'), 'subscribers');
}

function setDownload(link, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  link.href = url;
  return url;
}

function fillTable(table, { columns, rows }) {
  const head = document.createElement('thead');
  const headRow = head.insertRow();
  for (const column of columns) {
    const th = document.createElement('th');
    th.textContent = column;
    headRow.append(th);
  }
  const body = document.createElement('tbody');
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = cell;
  }
  table.replaceChildren(head, body);
}

function fromFile(file) {
  return { name: file.name, load: () => file.arrayBuffer() };
}

function wireInputs() {
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) analyse(fromFile(file));
  });
  $('file').addEventListener('change', (event) => {
    const file = event.target.files[0];
    if (file) analyse(fromFile(file));
    event.target.value = '';
  });
  $('demo').addEventListener('click', () => analyse(DEMO));
  $('apply').addEventListener('click', () => current && analyse(current));
}

async function main() {
  try {
    await init();
  } catch (error) {
    setState('error', 'subtwin could not start.');
    showError(`The WebAssembly module did not load (${error.message}). Serve the page over http(s), not from file://.`);
    return;
  }
  $('conventions').textContent = `Conventions: ${conventions()}`;
  startWorker();
  wireInputs();
  await analyse(DEMO);
}

main();
