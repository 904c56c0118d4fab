// The page: files in, the worker's report out, text and charts drawn by the WebAssembly core.
// This script handles the DOM, files, the worker and the browser's storage; every number and every
// formatted figure comes from Rust (AnalysisHandle for the history, FitHandle for the twin), never
// from JavaScript.
import init, {
  AnalysisHandle,
  FitHandle,
  conventions,
  mapping_json,
  mapping_roles,
  needs_mapping,
  open_link,
  preview_table,
} from './pkg/subtwin.js';
import { initScenarios } from './scenarios.js';

const $ = (id) => document.getElementById(id);
const DEMO = { name: 'demo-stripe.csv', load: () => fetch('demo-stripe.csv').then(expectOk).then((r) => r.arrayBuffer()) };
/// The header is read from this much of a file, on the main thread, before it goes to the worker.
const HEAD_BYTES = 64 * 1024;
const MAPPING_KEY = 'subtwin.mapping:';

let worker = null;
let busy = false; // a request is in flight in the worker
let fitting = false; // the worker is calibrating the twin of the file shown
let shown = null; // the source whose results are on the page
let settle = null; // ends the request in flight (Cancel)
let latest = 0; // the id of the newest request: replies to older ones are ignored
let current = null; // { name, load } of the file shown, for "Apply"
let handle = null;
let fitHandle = null;
let fitView = null; // the twin's display strings (FitHandle.view)
let segmentShown = null; // the name of the segment the twin section shows
let objectUrls = [];
let rates = null; // { name, text } of the exchange rates file, when one was chosen
let scenarios = null; // the scenario section (scenarios.js)

function expectOk(response) {
  if (!response.ok) throw new Error(`could not load ${response.url} (HTTP ${response.status})`);
  return response;
}

function setState(state, text) {
  document.body.dataset.state = state;
  $('status-text').textContent = text;
  $('progress').hidden = state !== 'working';
  $('cancel').hidden = state !== 'working';
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
    const message = `The computation stopped unexpectedly (${event.message || 'worker error'}).`;
    if (settle) {
      settle({ type: 'error', message, fatal: true });
    } else {
      busy = false;
      fail('The worker stopped.', `${message} Reload the page to try again.`);
    }
  };
}

// Stops the computation in flight outright (its worker ends, its memory with it) and starts a fresh
// worker for the next request.
function stopWorker() {
  worker.terminate();
  startWorker();
  busy = false;
  if (fitting) {
    fitting = false;
    twinError('Calibrating the twin stopped when another file was chosen. Choose the file again, or Apply, to calibrate it.');
  }
  if (settle) settle({ type: 'stopped' });
}

// The Cancel button: the file being read is dropped, and what the page showed before stays.
function cancel() {
  if (document.body.dataset.state !== 'working') return;
  const name = current ? current.name : 'the file';
  latest++; // a request still loading stops when it sees this
  if (busy) stopWorker();
  current = shown;
  setState('ready', shown ? `Stopped reading ${name}. Showing ${shown.name}.` : `Stopped reading ${name}.`);
}

// --- Column mappings, remembered per header in this browser's storage --------------------------------

function headerKey(header) {
  return MAPPING_KEY + header.map((h) => h.trim()).join('\u001f');
}

function savedMapping(header) {
  try {
    return localStorage.getItem(headerKey(header));
  } catch {
    return null; // storage disabled: the person maps again
  }
}

function saveMapping(header, mapping) {
  try {
    localStorage.setItem(headerKey(header), mapping);
  } catch {
    // Storage full or disabled: the mapping still applies to this file.
  }
}

function headOf(bytes) {
  return new Uint8Array(bytes, 0, Math.min(HEAD_BYTES, bytes.byteLength));
}

/// Shows the mapping form for a file no reader recognises, starting from `start` (a mapping's JSON).
function askForMapping(source, preview, start) {
  const [header, rows] = preview;
  $('mapping-file').textContent = source.name;
  fillTable($('mapping-preview'), { columns: header, rows });
  const roles = JSON.parse(start || '{"roles":{}}').roles || {};
  const form = $('mapping-form');
  form.replaceChildren();
  for (const [role, description, required] of mapping_roles()) {
    const label = document.createElement('label');
    label.className = required ? 'role required' : 'role';
    label.textContent = role;
    label.htmlFor = `map-${role}`;
    const select = document.createElement('select');
    select.id = `map-${role}`;
    select.dataset.role = role;
    select.append(new Option(required ? '(choose)' : '(not in this file)', ''));
    for (const column of header) select.append(new Option(column, `column:${column}`));
    select.append(new Option('a fixed value…', 'fixed'));
    const fixed = document.createElement('input');
    fixed.type = 'text';
    fixed.size = 10;
    fixed.placeholder = 'value';
    fixed.id = `map-${role}-fixed`;
    fixed.hidden = true;
    const chosen = roles[role];
    if (chosen && chosen.column !== undefined) select.value = `column:${chosen.column}`;
    if (chosen && chosen.fixed !== undefined) {
      select.value = 'fixed';
      fixed.value = chosen.fixed;
      fixed.hidden = false;
    }
    select.addEventListener('change', () => {
      fixed.hidden = select.value !== 'fixed';
    });
    const help = document.createElement('span');
    help.className = 'hint';
    help.textContent = description;
    const cell = document.createElement('span');
    cell.append(select, ' ', fixed);
    form.append(label, cell, help);
  }
  $('mapping-error').hidden = true;
  $('mapping').hidden = false;
  $('mapping-apply').onclick = () => {
    const entries = [];
    for (const select of form.querySelectorAll('select')) {
      if (select.value === 'fixed') entries.push([select.dataset.role, 'fixed', $(`${select.id}-fixed`).value.trim()]);
      else if (select.value) entries.push([select.dataset.role, 'column', select.value.slice('column:'.length)]);
    }
    let mapping;
    try {
      mapping = mapping_json(entries);
    } catch (error) {
      $('mapping-error').textContent = error.message;
      $('mapping-error').hidden = false;
      return;
    }
    saveMapping(header, mapping);
    analyse(source, mapping, () => askForMapping(source, preview, mapping));
  };
}

// --- Reading a file -----------------------------------------------------------------------------------

/// Reads `source` in the worker. Without `mapping`, a file no reader recognises is read with the
/// mapping saved for its header, or the person is asked for one.
async function analyse(source, mapping = null, changeMapping = null) {
  const id = ++latest;
  leaveShared();
  // A newer file replaces the one being read (or the twin being fitted): stop the old computation outright.
  if (busy || fitting) stopWorker();
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
  if (!mapping && needs_mapping(headOf(bytes))) {
    const preview = preview_table(headOf(bytes), 8);
    const saved = preview && savedMapping(preview[0]);
    if (!saved) {
      $('results').hidden = true;
      setState('mapping', `Say which column of ${source.name} is which.`);
      if (preview) askForMapping(source, preview, preview[2]);
      else fail(`Could not use ${source.name}.`, `${source.name}: the file holds no table.`);
      return;
    }
    mapping = saved;
    changeMapping = () => askForMapping(source, preview, saved);
  }
  $('mapping').hidden = true;
  const options = {
    asOf: $('as-of').value,
    currency: $('currency').value.trim(),
    dateOrder: $('date-order').value,
    mapping: mapping || '',
    fx: rates ? rates.text : '',
    fxName: rates ? rates.name : '',
    todayMs: Date.now(),
    segmentBy: $('segment-by').value.trim(),
    cutoffs: $('cutoffs').value.trim(),
  };
  busy = true;
  const result = await new Promise((resolve) => {
    settle = resolve;
    worker.onmessage = (event) => {
      const message = event.data;
      if (message.id !== id) return;
      if (message.type === 'progress') {
        $('progress').value = message.total > 0 ? message.read / message.total : 0;
      } else if (message.type === 'fit-progress') {
        $('twin-progress').value = message.total > 0 ? message.read / message.total : 0;
      } else if (message.type === 'fit' || message.type === 'fit-error') {
        // After the history: the worker calibrates the twin on the same file(s) and posts it.
        fitting = false;
        if (message.type === 'fit') {
          if (showTwin(message.json)) {
            if (message.twin) scenarios.setTwin(message.twin);
            else scenarios.unavailable(message.twinNote || 'This file has no twin to simulate scenarios on.');
          }
        } else {
          twinError(message.message);
        }
        if (message.fatal) stopWorker();
      } else {
        // The history (or its error). The worker goes on to fit the twin only after a history.
        fitting = message.type === 'done';
        resolve(message);
      }
    };
    // A chosen file goes to the worker as it is (it reads it in slices); the demo's bytes are handed over.
    if (source.files) worker.postMessage({ id, name: source.name, files: source.files, options });
    else if (source.file) worker.postMessage({ id, name: source.name, file: source.file, options });
    else worker.postMessage({ id, name: source.name, bytes, options }, [bytes]);
  });
  if (id !== latest) return;
  settle = null;
  busy = false;
  // A trap in the module (such as running out of memory) leaves it unusable: start afresh.
  if (result.fatal) stopWorker();
  if (result.type === 'error') {
    fail(`Could not use ${source.name}.`, result.message);
    return;
  }
  const imported = performance.now();
  show(result.json);
  twinPending(source.name);
  shown = source;
  $('mapping-used').hidden = !mapping;
  if (mapping) {
    setDownloadOnce($('mapping-save'), mapping, 'application/json');
    $('mapping-change').onclick = changeMapping;
  }
  performance.measure('subtwin:import', { start: started, end: imported, detail: source.name });
  performance.measure('subtwin:render', { start: imported, end: performance.now(), detail: source.name });
  setState('ready', `Showing ${source.name}.`);
}

function show(json) {
  if (handle) handle.free();
  handle = new AnalysisHandle(json);
  const view = handle.view();
  fillFacts($('facts'), view.facts);
  const tables = $('tables');
  tables.replaceChildren();
  for (const { id, title, table } of view.tables) {
    const heading = document.createElement('h2');
    heading.textContent = title;
    const wrap = document.createElement('div');
    wrap.className = table.rows.length > 14 ? 'table-wrap tall' : 'table-wrap';
    const element = document.createElement('table');
    element.id = id;
    fillTable(element, table);
    wrap.append(element);
    tables.append(heading, wrap);
  }
  fillTable($('problems'), view.problems);
  $('problems-section').hidden = view.problems.rows.length === 0;
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls = [
    setDownload($('download-json'), json, 'application/json'),
    setDownload($('download-problems'), view.problems_csv, 'text/csv'),
  ];
  const choices = $('currency-choices');
  choices.replaceChildren();
  for (const code of view.other_currencies) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = `Analyse ${code} instead`;
    button.dataset.currency = code;
    button.addEventListener('click', () => {
      // Chosen for this file only: a new file starts from its own main currency again.
      $('currency').value = code;
      $('currency').dataset.forFile = '1';
      if (current) analyse(current);
    });
    choices.append(button, ' ');
  }
  $('currencies').hidden = view.other_currencies.length === 0;
  $('conventions').textContent = `Conventions: ${view.conventions}`;
  $('results').hidden = false;
  $('charts').hidden = view.charts.length === 0;
  for (const chart of view.charts) handle.draw($(`chart-${chart}`), chart);
}

function fillFacts(list, facts) {
  list.replaceChildren();
  for (const fact of facts) {
    const dt = document.createElement('dt');
    dt.textContent = fact.label;
    const dd = document.createElement('dd');
    dd.textContent = fact.value;
    dd.dataset.fact = fact.label;
    list.append(dt, dd);
  }
}

// --- The twin: calibrated in the worker after the history, shown per segment ----------------------

/// The twin section while the worker fits the file just shown.
function twinPending(name) {
  scenarios.reset();
  if (fitHandle) fitHandle.free();
  fitHandle = null;
  fitView = null;
  $('twin-body').hidden = true;
  $('twin-error').hidden = true;
  $('twin-progress').value = 0;
  $('twin-progress').hidden = false;
  $('twin-status-text').textContent = `Calibrating the twin on ${name}…`;
  document.body.dataset.twin = 'fitting';
}

/// A fit that failed: its message in the twin section; the history above stays.
function twinError(message) {
  scenarios.reset();
  if (fitHandle) fitHandle.free();
  fitHandle = null;
  fitView = null;
  $('twin-body').hidden = true;
  $('twin-progress').hidden = true;
  $('twin-status-text').textContent = 'The twin could not be calibrated.';
  $('twin-error').textContent = message;
  $('twin-error').hidden = false;
  document.body.dataset.twin = 'error';
}

/// Shows a fit; `false` when it could not be read (its message shows instead).
function showTwin(json) {
  if (fitHandle) fitHandle.free();
  fitHandle = null;
  try {
    fitHandle = new FitHandle(json);
    fitView = fitHandle.view();
  } catch (error) {
    twinError(error.message);
    return false;
  }
  const view = fitView;
  fillFacts($('twin-facts'), view.facts);
  fillTable($('twin-retention'), view.retention);
  fillTable($('twin-acquisition'), view.acquisition);
  $('twin-acquisition').hidden = view.acquisition.rows.length === 0;
  $('twin-acquisition-note').textContent = view.acquisition_note || '';
  $('twin-acquisition-note').hidden = !view.acquisition_note;
  $('twin-backtest-verdict').textContent = view.backtest_verdict;
  fillList($('twin-backtest-notes'), view.backtest_notes);
  fillTable($('twin-backtest'), view.backtest);
  const hasBacktest = view.backtest.rows.length > 0;
  $('twin-backtest').hidden = !hasBacktest;
  $('chart-backtest').hidden = !hasBacktest;
  $('chart-backtest').setAttribute('aria-label', view.backtest_chart_label);
  fillTable($('twin-price'), view.price_response);
  $('twin-price').hidden = view.price_response.rows.length === 0;
  $('twin-price-note').textContent = view.price_response_note;
  $('twin-conventions').textContent = view.conventions;
  objectUrls.push(setDownload($('download-fit'), json, 'application/json'));
  const picker = $('twin-segments');
  picker.replaceChildren();
  for (const [index, segment] of view.segments.entries()) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = segment.name;
    button.dataset.segment = String(index);
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', () => showSegment(index));
    picker.append(button, ' ');
  }
  $('twin-progress').hidden = true;
  $('twin-status-text').textContent = '';
  $('twin-error').hidden = true;
  $('twin-body').hidden = false;
  if (hasBacktest) fitHandle.draw_backtest($('chart-backtest'));
  // The segment shown before stays chosen when the new fit has it.
  const again = view.segments.findIndex((segment) => segment.name === segmentShown);
  showSegment(again >= 0 ? again : 0);
  document.body.dataset.twin = 'ready';
  return true;
}

function showSegment(index) {
  const segment = fitView.segments[index];
  for (const button of $('twin-segments').querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(button.dataset.segment === String(index)));
  }
  $('twin-segment').hidden = !segment;
  if (!segment) return;
  segmentShown = segment.name;
  $('twin-segment-title').textContent = segment.name;
  $('twin-summary').textContent = segment.summary;
  fillList($('twin-model'), segment.model);
  fillList($('twin-learned'), segment.learned);
  fillList($('twin-assumed'), segment.assumed);
  fillList($('twin-warnings'), segment.warnings);
  $('twin-warnings').hidden = segment.warnings.length === 0;
  const canvas = $('chart-retention');
  canvas.setAttribute('aria-label', segment.chart_label);
  fitHandle.draw_retention(canvas, index);
  $('twin-cohorts-title').textContent = segment.cohorts_title;
  $('twin-cohorts-note').textContent = segment.cohorts_note;
  fillTable($('twin-cohorts'), segment.cohorts, segment.cohort_shades);
  $('twin-cohorts-wrap').hidden = segment.cohorts.rows.length === 0;
}

function fillList(list, items) {
  list.replaceChildren();
  for (const item of items) {
    const li = document.createElement('li');
    li.textContent = item;
    list.append(li);
  }
}

function setDownload(link, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  link.href = url;
  return url;
}

function setDownloadOnce(link, text, type) {
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  setDownload(link, text, type);
}

/// A table of display strings; `shades` (optional, the same shape as `rows`) gives cells a
/// `data-shade` that the style sheet colours.
function fillTable(table, { columns, rows }, shades = null) {
  const head = document.createElement('thead');
  const headRow = head.insertRow();
  for (const column of columns) {
    const th = document.createElement('th');
    th.textContent = column;
    headRow.append(th);
  }
  const body = document.createElement('tbody');
  for (const [i, row] of rows.entries()) {
    const tr = body.insertRow();
    for (const [j, cell] of row.entries()) {
      const td = tr.insertCell();
      td.textContent = cell;
      const shade = shades && shades[i] ? shades[i][j] : '';
      if (shade) td.dataset.shade = shade;
    }
  }
  table.replaceChildren(head, body);
}

// Only the head of a chosen file is read here (for its header); the worker reads the whole file.
/// A new file: a currency picked for the previous one no longer applies.
function newFile(source) {
  if ($('currency').dataset.forFile) {
    $('currency').value = '';
    delete $('currency').dataset.forFile;
  }
  analyse(source);
}

function fromFile(file) {
  return { name: file.name, file, load: () => file.slice(0, HEAD_BYTES).arrayBuffer() };
}

/// Several files read as one business; the first one's head decides whether to ask for a mapping
/// (the same mapping then applies to all, as `--map` does).
function fromFiles(files) {
  if (files.length === 1) return fromFile(files[0]);
  const list = [...files];
  return {
    name: list.map((f) => f.name).join(' + '),
    files: list,
    load: () => list[0].slice(0, HEAD_BYTES).arrayBuffer(),
  };
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
    const files = event.dataTransfer ? event.dataTransfer.files : [];
    if (files.length > 0) newFile(fromFiles(files));
  });
  $('file').addEventListener('change', (event) => {
    const files = event.target.files;
    if (files.length > 0) newFile(fromFiles(files));
    event.target.value = '';
  });
  $('demo').addEventListener('click', () => newFile(DEMO));
  $('apply').addEventListener('click', () => current && analyse(current));
  $('fx').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    rates = file ? { name: file.name, text: await file.text() } : null;
    $('fx-clear').hidden = !rates;
    if (current) analyse(current);
  });
  $('fx-clear').addEventListener('click', () => {
    rates = null;
    $('fx').value = '';
    $('fx-clear').hidden = true;
    if (current) analyse(current);
  });
  $('cancel').addEventListener('click', cancel);
}

// --- A share link ---------------------------------------------------------------------------------------

/// Opens the link in the address's fragment: its shared twin and scenarios, run as usual, under a banner
/// saying there is no data behind them. A link that cannot be opened says why, and the page stays as
/// it is (the demo and files can still be opened). Nothing from a link is ever inserted as HTML.
function openLink(fragment) {
  let opened;
  try {
    opened = open_link(fragment);
  } catch (error) {
    document.body.dataset.link = 'refused';
    setState('ready', 'This link could not be opened. Open the demo company or drop a file.');
    showError(error.message);
    return;
  }
  document.body.dataset.link = 'opened';
  document.body.dataset.shared = 'true';
  $('shared').hidden = false;
  $('shared-verdict').textContent = 'Simulating…';
  fillList($('shared-notes'), opened.notes);
  $('shared-notes').hidden = opened.notes.length === 0;
  $('results').hidden = false;
  setState('ready', 'Showing shared results (no data).');
  scenarios.openShared(opened, fragment);
}

function linkVerdict(verdict) {
  $('shared-verdict').textContent = verdict.message;
  document.body.dataset.linkVerdict = verdict.same ? 'same' : verdict.recomputed ? 'recomputed' : 'differs';
}

/// A file or the demo replaces a link's results.
function leaveShared() {
  if (!document.body.dataset.shared && !document.body.dataset.link) return;
  delete document.body.dataset.shared;
  delete document.body.dataset.link;
  delete document.body.dataset.linkVerdict;
  $('shared').hidden = true;
  if (location.hash) history.replaceState(null, '', `${location.pathname}${location.search}`);
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
  scenarios = initScenarios({ fillTable, fillFacts, fillList, setDownload, onLinkVerdict: linkVerdict });
  startWorker();
  wireInputs();
  // A share link opens its results instead of the demo.
  if (location.hash.length > 1) openLink(location.hash);
  else await analyse(DEMO);
}

main();
