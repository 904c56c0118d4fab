// The scenario section: the run bar, scenario cards made of ordinary form controls, a pool of
// simulation workers, and the results. Every number shown, every preset and every check comes from
// the WebAssembly core (scenario_editor, check_scenario, SimulationHandle); this script handles the
// DOM, the files and the workers.
//
// How a run goes: the pool's workers each simulate a contiguous range of the run's paths (the
// baseline, or one scenario) and post the paths as bytes; when a simulation's ranges are all in, the
// coordinating worker merges them in path order (SimulationRun). The baseline is simulated once per
// twin, horizon, paths and seed, and kept while scenarios change: a changed card reruns that card
// only, and a run in flight for it is stopped first. Each scenario's break-even and sensitivity (the
// slow part) follow in a pool worker, and the results show "computing…" until they are in.
//
// Sharing: the Share button makes the shared twin of the results shown (share_prepare), simulates it
// in a worker of its own (simulate_json), and writes the link (share_link), with the shared twin's
// results beside the full data's (share_gaps). A link opened (openShared) loads its twin, cards and
// settings and runs them as usual; once its results are in, link_verdict says whether they are the
// sender's.
import {
  SimulationHandle,
  check_run_options,
  check_scenario,
  link_verdict,
  progress_text,
  scenario_editor,
  share_gaps,
  share_link,
  share_prepare,
} from './pkg/subtwin.js';
import { initExports } from './export.js';

const $ = (id) => document.getElementById(id);
/** How long the page waits after an edit before it simulates again. */
const DEBOUNCE_MS = 200;
/** A worker's range is simulated in pieces of at most about this many path-months (a third of a
 * second or so each), so that a long run shows its progress. A short one goes in one piece a worker:
 * each piece is a call, a message and a redraw of the progress, which cost a rerun of 1,000 paths
 * a tenth of its time when it went in eight. */
const PATH_MONTHS_PER_PIECE = 30_000;
/** The two halves of a card's search (`search_part_json`), run in two pool jobs. */
const SEARCH_PARTS = ['break_even', 'sensitivity'];

/** The number of simulation workers: `?workers=N` (1 to 8) if given, else the machine's cores (at most 8). */
function workerCount() {
  const asked = Number(new URLSearchParams(location.search).get('workers'));
  if (Number.isInteger(asked) && asked >= 1 && asked <= 8) return asked;
  return Math.min(8, Math.max(1, navigator.hardwareConcurrency || 1));
}

function newSimWorker() {
  return new Worker(new URL('./sim-worker.js', import.meta.url), { type: 'module' });
}

// --- The pool: jobs queued, one per worker at a time ---------------------------------------------

class Pool {
  constructor(size) {
    this.workers = [];
    this.queue = [];
    this.nextJob = 1;
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  spawn() {
    const entry = { worker: newSimWorker(), job: null };
    entry.worker.onmessage = (event) => this.received(entry, event.data);
    entry.worker.onerror = (event) => {
      event.preventDefault();
      const job = entry.job;
      this.replace(entry);
      if (job) job.onError(`The simulation stopped unexpectedly (${event.message || 'worker error'}).`);
      this.dispatch();
    };
    return entry;
  }

  /** Queues a job ({kind: 'batch' | 'search', task, message, onPart, onDone, onError}); batches go first. */
  submit(job) {
    job.id = this.nextJob++;
    if (job.kind === 'batch') {
      const firstSearch = this.queue.findIndex((queued) => queued.kind !== 'batch');
      if (firstSearch < 0) this.queue.push(job);
      else this.queue.splice(firstSearch, 0, job);
    } else {
      this.queue.push(job);
    }
    this.dispatch();
  }

  dispatch() {
    for (const entry of this.workers) {
      if (entry.job || this.queue.length === 0) continue;
      const job = this.queue.shift();
      entry.job = job;
      entry.worker.postMessage({ ...job.message, job: job.id });
    }
  }

  received(entry, data) {
    const job = entry.job;
    if (!job || data.job !== job.id) return;
    if (data.type === 'part') {
      job.onPart(data);
      return;
    }
    entry.job = null;
    if (data.type === 'done') job.onDone(data);
    else {
      if (data.fatal) this.replace(entry);
      job.onError(data.message);
    }
    this.dispatch();
  }

  /** A worker replaced by a fresh one: what it was doing stops outright. */
  replace(entry) {
    entry.worker.onmessage = null;
    entry.worker.onerror = null;
    entry.worker.terminate();
    const index = this.workers.indexOf(entry);
    if (index >= 0) this.workers[index] = this.spawn();
  }

  /** Drops the queued jobs of the tasks `stops(task)` picks and stops the workers running theirs. */
  cancel(stops) {
    this.queue = this.queue.filter((job) => !stops(job.task));
    for (const entry of [...this.workers]) {
      if (entry.job && stops(entry.job.task)) this.replace(entry);
    }
    this.dispatch();
  }

  busy() {
    return this.queue.length > 0 || this.workers.some((entry) => entry.job);
  }
}

// --- The coordinator: one worker, requests answered in order --------------------------------------

class Coordinator {
  constructor(onCrash) {
    this.onCrash = onCrash;
    this.pending = new Map();
    this.nextRequest = 1;
    this.start();
  }

  start() {
    this.worker = newSimWorker();
    this.worker.onmessage = (event) => {
      const reply = event.data;
      const waiting = this.pending.get(reply.req);
      if (!waiting) return;
      this.pending.delete(reply.req);
      if (reply.type === 'error') {
        if (reply.fatal) this.restart();
        waiting.reject(new Error(reply.message));
      } else {
        waiting.resolve(reply);
      }
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.restart();
    };
  }

  /** A fresh worker: the run it held is gone, and every request waiting is refused. */
  restart() {
    this.worker.onmessage = null;
    this.worker.onerror = null;
    this.worker.terminate();
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.start();
    for (const request of waiting) request.reject(new Error('The simulation stopped unexpectedly.'));
    this.onCrash();
  }

  request(message, transfer = []) {
    const req = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      this.worker.postMessage({ ...message, req }, transfer);
    });
  }

  busy() {
    return this.pending.size > 0;
  }
}

// --- The section ----------------------------------------------------------------------------------

/**
 * Sets the scenario section up. `helpers` are the page's own: fillTable, fillFacts, fillList and
 * setDownload; `onLinkVerdict(verdict)` hears whether a link's results are its sender's. Returns
 * {reset, unavailable, setTwin, openShared}.
 */
export function initScenarios(helpers) {
  const { fillTable, fillFacts, fillList, setDownload, onLinkVerdict } = helpers;
  const workers = workerCount();
  document.body.dataset.simWorkers = String(workers);
  let pool = null;
  let coordinator = null;

  let twin = null; // the calibrated twin's JSON
  let editor = null; // scenario_editor(twin, horizon): segments, months, kinds, presets, limits
  let editorHorizon = null;
  let options = null; // the run bar's checked options: {horizonMonths, paths, seed}
  let cards = [];
  let nextSlot = 1;
  let debounce = null;
  let started = false; // a run was asked for (a scenario added, or Simulate)
  let stopped = false; // Cancel was pressed and nothing asked for since
  let baseline = null; // {key, task, ready: Promise, resolveReady, status: 'running' | 'ready' | 'failed'}
  let reportSeq = 0;
  let reportsPending = 0;
  let handle = null;
  let resultsUrl = null;
  const cardUrls = new Map();
  const downloads = initExports(() => handle, simError);
  let lastRender = null; // what render() last showed, to show it again when Cancel stops the searches
  let onPage = null; // the results on the page: {json, searched, scenarios (the cards' JSON), options}
  let shareWorker = null;
  let linkCheck = null; // a link opened: {fragment, scenarios (its cards' JSON), done}

  function ensureWorkers() {
    if (!pool) pool = new Pool(workers);
    if (!coordinator) coordinator = new Coordinator(coordinatorCrashed);
  }

  // --- Tasks: one simulation (the baseline, or a card's scenario) split over the pool ------------

  /** Simulates `scenario` ('' for the baseline) over every path, in one contiguous range per worker. */
  function simulate(owner, scenario, onComplete, onFail) {
    const task = { owner, key: baseline.key, parts: [], done: 0, total: options.paths, left: 0, started: performance.now() };
    const ranges = [];
    for (let i = 0; i < workers; i++) {
      const start = Math.floor((i * options.paths) / workers);
      const end = Math.floor(((i + 1) * options.paths) / workers);
      if (end > start) ranges.push([start, end]);
    }
    task.left = ranges.length;
    for (const [start, end] of ranges) {
      pool.submit({
        kind: 'batch',
        task,
        message: {
          type: 'batch',
          twin,
          scenario,
          options,
          start,
          end,
          piece: Math.max(1, Math.floor(PATH_MONTHS_PER_PIECE / options.horizonMonths)),
        },
        onPart: (part) => {
          task.parts.push(part);
          task.done += part.end - part.start;
          if (task.done < task.total) {
            showProgress();
            return;
          }
          // The last paths are in: on to the coordinator at once, before the page redraws anything
          // or hears the workers' "done" (a rerun's every millisecond counts).
          task.left = 0;
          task.parts.sort((a, b) => a.start - b.start);
          onComplete(task);
        },
        onDone: () => {},
        onError: (message) => {
          if (task.done >= task.total) return;
          pool.cancel((other) => other === task);
          onFail(message);
        },
      });
    }
    return task;
  }

  const running = (task) => task && task.left > 0;
  const batchesOf = (task) => task.parts.map((part) => part.bytes);

  function runKey() {
    return JSON.stringify([options.horizonMonths, options.paths, options.seed]);
  }

  function startBaseline() {
    const key = runKey();
    if (baseline && baseline.key === key && baseline.status !== 'failed') return;
    // Everything simulated for other settings stops.
    pool.cancel(() => true);
    for (const card of cards) {
      card.task = null;
      card.search = null;
      card.result = null;
      card.searched = false;
    }
    let resolveReady;
    const ready = new Promise((resolve) => (resolveReady = resolve));
    baseline = { key, status: 'running', ready, resolveReady, task: null };
    const mine = baseline;
    mine.task = simulate(
      'baseline',
      '',
      (task) => {
        const batches = batchesOf(task);
        reportsPending++;
        coordinator
          .request({ type: 'baseline', key, twin, options, batches }, batches.map((b) => b.buffer))
          .then(() => {
            if (baseline !== mine) return;
            mine.status = 'ready';
            performance.measure('subtwin:simulate-baseline', {
              start: task.started,
              end: performance.now(),
              detail: { paths: options.paths, horizonMonths: options.horizonMonths, workers },
            });
            mine.resolveReady(true);
            refreshReport();
          })
          .catch((error) => baselineFailed(mine, error.message))
          .finally(() => {
            reportsPending--;
            update();
          });
      },
      (message) => baselineFailed(mine, message),
    );
  }

  function baselineFailed(which, message) {
    if (baseline !== which) return;
    which.status = 'failed';
    which.resolveReady(false);
    for (const card of cards) stopCard(card);
    simError(message);
    update();
  }

  /** (Re)runs a card's scenario when it changed or has not run for these settings. */
  /** Whether two scenarios' JSON (as the core writes it) differ in their name alone. */
  function sameButName(a, b) {
    const unnamed = (json) => JSON.stringify({ ...JSON.parse(json), name: '' });
    return unnamed(a) === unnamed(b);
  }

  /** A card renamed and nothing else: the coordinator renames what it holds, with no run; if it
   * cannot (the slot changed meanwhile), the card runs as any other edit does. */
  function renameCard(card, key) {
    const json = card.json;
    reportsPending++;
    coordinator
      .request({ type: 'rename', key, slot: card.slot, scenario: json })
      .then((reply) => {
        if (card.json !== json || card.task) return;
        if (reply.type === 'ok' && reply.accepted) {
          card.result = { key, json };
          refreshReport();
        } else if (reply.type === 'ok') {
          card.result = null;
          startCard(card);
        }
      })
      .catch((error) => cardFailed(card, error.message))
      .finally(() => {
        reportsPending--;
        update();
      });
  }

  function startCard(card) {
    if (!card.json) return;
    const key = baseline.key;
    const current = card.task && card.task.key === key && card.task.json === card.json;
    const done = card.result && card.result.key === key && card.result.json === card.json;
    if (current) return;
    if (done && !card.task) {
      // Simulated already; only its search may have been stopped (Cancel).
      if (!card.searched && !card.search && card.searchInput) startSearch(card, card.searchInput, key, card.json);
      return;
    }
    if (card.result && card.result.key === key && !card.task && sameButName(card.result.json, card.json)) {
      renameCard(card, key);
      return;
    }
    // A run in flight for an older version of the card stops.
    stopCard(card);
    const json = card.json;
    card.status = 'running';
    const task = simulate(
      card,
      json,
      async (finished) => {
        const ok = await baseline.ready;
        if (!ok || card.task !== finished || finished.key !== baseline.key) return;
        const batches = batchesOf(finished);
        reportsPending++;
        try {
          const reply = await coordinator.request(
            { type: 'scenario', key, slot: card.slot, scenario: json, batches },
            batches.map((b) => b.buffer),
          );
          if (card.task !== finished || reply.type !== 'ok') return;
          card.task = null;
          card.result = { key, json };
          card.searched = false;
          card.searchInput = reply.input;
          card.error = null;
          performance.measure('subtwin:simulate-scenario', {
            start: finished.started,
            end: performance.now(),
            detail: { paths: options.paths, horizonMonths: options.horizonMonths, workers },
          });
          startSearch(card, reply.input, key, json);
          refreshReport();
        } catch (error) {
          if (card.task === finished) cardFailed(card, error.message);
        } finally {
          reportsPending--;
          update();
        }
      },
      (message) => {
        if (card.task === task) cardFailed(card, message);
      },
    );
    task.json = json;
    card.task = task;
    update();
  }

  /** The break-even and the sensitivity of a card, in two pool jobs at once (they do not depend on
   * each other); the coordinator joins them, and the card is searched once both are in. */
  function startSearch(card, input, key, json) {
    const task = { owner: card, key, json, left: SEARCH_PARTS.length, started: performance.now() };
    card.search = task;
    for (const part of SEARCH_PARTS) {
      pool.submit({
        kind: 'search',
        task,
        message: { type: 'search', twin, input, part },
        onPart: () => {},
        onDone: async (data) => {
          if (card.search !== task) return;
          reportsPending++;
          try {
            const reply = await coordinator.request({ type: 'searched', key, slot: card.slot, json: data.json, part });
            if (card.search !== task) return;
            if (reply.type !== 'ok' || !reply.accepted) {
              task.left = 0;
              card.search = null;
              return;
            }
            task.left -= 1;
            if (task.left === 0) {
              card.search = null;
              card.searched = true;
              performance.measure('subtwin:search', { start: task.started, end: performance.now(), detail: { workers } });
              refreshReport();
            }
          } catch (error) {
            if (card.search === task) cardFailed(card, error.message);
          } finally {
            reportsPending--;
            update();
          }
        },
        onError: (message) => {
          task.left = 0;
          if (card.search === task) cardFailed(card, message);
        },
      });
    }
  }

  function stopCard(card) {
    const mine = (task) => task === card.task || task === card.search;
    if (card.task || card.search) pool.cancel(mine);
    card.task = null;
    card.search = null;
  }

  function cardFailed(card, message) {
    stopCard(card);
    card.error = message;
    card.result = null;
    showCardState(card);
    refreshReport();
    update();
  }

  function coordinatorCrashed() {
    if (baseline) baseline.status = 'failed';
    for (const card of cards) card.result = null;
    simError('The simulation stopped unexpectedly; press Simulate to run it again.');
    update();
  }

  /** Asks the coordinator for the report of the cards it holds, in the cards' order, and shows it. */
  function refreshReport() {
    if (!baseline || baseline.status !== 'ready') return;
    const key = baseline.key;
    const shown = cards.filter((card) => card.result && card.result.key === key);
    const seq = ++reportSeq;
    reportsPending++;
    coordinator
      .request({ type: 'report', key, slots: shown.map((card) => card.slot) })
      .then((reply) => {
        if (seq !== reportSeq || reply.type !== 'ok') return;
        render(reply.json, reply.searched, shown);
      })
      .catch((error) => {
        if (seq === reportSeq) simError(error.message);
      })
      .finally(() => {
        reportsPending--;
        update();
      });
  }

  // --- Asking for a run ---------------------------------------------------------------------------

  function schedule() {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = null;
      run();
    }, DEBOUNCE_MS);
    update();
  }

  /** Reads the run bar; `null` with its error shown when a value is refused. */
  function readOptions() {
    const asked = {
      horizonMonths: $('sim-horizon').valueAsNumber,
      paths: $('sim-paths').valueAsNumber,
      seed: $('sim-seed').value.trim(),
    };
    try {
      check_run_options(asked);
    } catch (error) {
      $('sim-options-error').textContent = error.message;
      $('sim-options-error').hidden = false;
      return null;
    }
    $('sim-options-error').hidden = true;
    return asked;
  }

  function run() {
    if (!twin || !started) return;
    const asked = readOptions();
    if (!asked) {
      update();
      return;
    }
    stopped = false;
    $('sim-error').hidden = true;
    options = asked;
    if (editorHorizon !== options.horizonMonths) {
      loadEditor(options.horizonMonths);
      for (const card of cards) renderCard(card);
    }
    ensureWorkers();
    startBaseline();
    // The results on the page stay as they are until a run replaces them, unless a card that was
    // shown has become invalid: redrawing them now would only take a core from the workers.
    let dropped = false;
    for (const card of cards) {
      validate(card);
      if (card.json) startCard(card);
      else if (card.result || card.task) {
        dropped = dropped || Boolean(card.result);
        stopCard(card);
        card.result = null;
      }
      showCardState(card);
    }
    if (dropped) refreshReport();
    update();
  }

  function loadEditor(horizon) {
    editor = scenario_editor(twin, horizon);
    editorHorizon = horizon;
    const presets = $('sim-presets');
    presets.replaceChildren();
    for (const preset of editor.presets) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = preset.label;
      button.dataset.preset = preset.label;
      button.addEventListener('click', () => addCard(JSON.parse(preset.scenario)));
      presets.append(button, ' ');
    }
    $('sim-horizon').max = String(editor.max_horizon_months);
    $('sim-paths').max = String(editor.max_paths);
  }

  /** Checks a card's scenario with the core: its JSON as the command reads it, or the error naming the field. */
  function validate(card) {
    const bytes = new TextEncoder().encode(JSON.stringify(card.scenario));
    try {
      card.json = check_scenario('', bytes, twin, editorHorizon);
      card.error = null;
    } catch (error) {
      card.json = null;
      card.error = error.message.replace(/^: /, '');
    }
  }

  // --- Cards --------------------------------------------------------------------------------------

  function addCard(scenario) {
    if (cards.length >= editor.max_scenarios) return;
    const card = {
      slot: nextSlot++,
      scenario,
      json: null,
      error: null,
      task: null,
      search: null,
      searchInput: null,
      result: null,
      searched: false,
    };
    cards.push(card);
    card.element = document.createElement('article');
    card.element.className = 'scenario-card';
    card.element.dataset.slot = String(card.slot);
    $('sim-cards').append(card.element);
    renderCard(card);
    started = true;
    schedule();
  }

  function removeCard(card) {
    stopCard(card);
    cards = cards.filter((other) => other !== card);
    card.element.remove();
    if (cardUrls.has(card.slot)) URL.revokeObjectURL(cardUrls.get(card.slot));
    cardUrls.delete(card.slot);
    if (coordinator && baseline) coordinator.request({ type: 'remove', key: baseline.key, slot: card.slot }).catch(() => {});
    refreshReport();
    update();
  }

  /** A field of a card changed: rerun that card after a pause. */
  function edited(card) {
    validate(card);
    showCardState(card);
    schedule();
  }

  let uid = 0;
  const nextId = (what) => `sim-${what}-${++uid}`;

  function labelled(text, control) {
    const label = document.createElement('label');
    label.append(text, ' ', control);
    return label;
  }

  function fieldRow(...children) {
    const row = document.createElement('div');
    row.className = 'field';
    row.append(...children);
    return row;
  }

  /** A number input with its range; with `slider`, a range input beside it, both kept in step. */
  function numberField(text, value, [min, max], step, onValue, slider = false) {
    const number = document.createElement('input');
    number.type = 'number';
    number.min = String(min);
    number.max = String(max);
    number.step = String(step);
    number.value = String(value);
    number.dataset.field = text;
    const children = [];
    let range = null;
    if (slider) {
      range = document.createElement('input');
      range.type = 'range';
      range.min = String(min);
      range.max = String(max);
      range.step = String(step);
      range.value = String(value);
      range.setAttribute('aria-label', text);
      range.addEventListener('input', () => {
        number.value = range.value;
        onValue(range.valueAsNumber);
      });
      children.push(range, ' ');
    }
    number.addEventListener('input', () => {
      if (range && number.value !== '') range.value = number.value;
      onValue(number.value === '' ? NaN : number.valueAsNumber);
    });
    const label = document.createElement('label');
    label.append(text, ' ', ...children, number);
    return label;
  }

  function monthField(text, value, onValue) {
    const input = document.createElement('input');
    input.type = 'month';
    input.min = editor.months[0];
    input.max = editor.months[editor.months.length - 1];
    input.value = value || '';
    input.required = true;
    input.addEventListener('input', () => onValue(input.value));
    return labelled(text, input);
  }

  /** A month that may be left out (`null`): a checkbox says whether it is given. An end month may
   * be past the horizon; a notice month (`before`) before its start. */
  function optionalMonthField(text, value, onValue, before = false) {
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = Boolean(value);
    const input = document.createElement('input');
    input.type = 'month';
    if (before) input.max = editor.months[editor.months.length - 1];
    else input.min = editor.months[0];
    input.value = value || (before ? editor.months[0] : editor.months[editor.months.length - 1]);
    input.disabled = !value;
    box.addEventListener('change', () => {
      input.disabled = !box.checked;
      onValue(box.checked ? input.value : null);
    });
    input.addEventListener('input', () => onValue(box.checked ? input.value : null));
    const label = document.createElement('label');
    label.append(box, ` ${text} `, input);
    return label;
  }

  function selectField(text, choices, value, onValue) {
    const select = document.createElement('select');
    for (const [choice, shown] of choices) select.append(new Option(shown, choice));
    select.value = value;
    select.addEventListener('change', () => onValue(select.value));
    return labelled(text, select);
  }

  function segmentsField(change, card) {
    const set = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = 'Segments';
    set.append(legend);
    for (const segment of editor.segments) {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = segment.name;
      box.checked = change.segments.includes(segment.name);
      box.addEventListener('change', () => {
        change.segments = editor.segments
          .map((s) => s.name)
          .filter((name) => (name === segment.name ? box.checked : change.segments.includes(name)));
        edited(card);
      });
      const label = document.createElement('label');
      label.className = 'segment';
      label.title = segment.list_price_text;
      label.append(box, ` ${segment.name}`);
      set.append(label);
    }
    return set;
  }

  function radios(name, choices, value, onValue) {
    const group = document.createElement('span');
    group.className = 'radios';
    group.setAttribute('role', 'radiogroup');
    for (const [choice, shown] of choices) {
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = name;
      radio.value = choice;
      radio.checked = choice === value;
      radio.addEventListener('change', () => radio.checked && onValue(choice));
      const label = document.createElement('label');
      label.append(radio, ` ${shown}`);
      group.append(label, ' ');
    }
    return group;
  }

  /** An assumed number: fixed, uniform (low, high) or triangular (low, mode, high). */
  function assumedField(text, assumed, limits, onValue) {
    const kind = Object.keys(assumed)[0];
    const ends = () => {
      const value = assumed[kind];
      if (kind === 'fixed') return [value, value, value];
      if (kind === 'uniform') return [value.low, (value.low + value.high) / 2, value.high];
      return [value.low, value.mode, value.high];
    };
    const wrap = document.createElement('div');
    wrap.className = 'assumed';
    const select = document.createElement('select');
    for (const [choice, shown] of [['fixed', 'fixed'], ['uniform', 'uniform'], ['triangular', 'triangular']]) {
      select.append(new Option(shown, choice));
    }
    select.value = kind;
    select.addEventListener('change', () => {
      const [low, mode, high] = ends();
      const next =
        select.value === 'fixed'
          ? { fixed: mode }
          : select.value === 'uniform'
            ? { uniform: { low, high } }
            : { triangular: { low, mode, high } };
      onValue(next, true);
    });
    wrap.append(labelled(text, select));
    const step = limits[1] - limits[0] <= 1 ? 0.01 : 0.1;
    if (kind === 'fixed') {
      wrap.append(numberField('value', assumed.fixed, limits, step, (v) => onValue({ fixed: v })));
    } else {
      const value = assumed[kind];
      const parts = kind === 'uniform' ? ['low', 'high'] : ['low', 'mode', 'high'];
      for (const part of parts) {
        wrap.append(
          numberField(part, value[part], limits, step, (v) => {
            value[part] = v;
            onValue(assumed);
          }),
        );
      }
    }
    return wrap;
  }

  function responseField(change, card, rerender) {
    // A change without a response answers with the defaults; it gets one of its own once edited (so
    // that a scenario opened from a file or a link stays as it was written).
    const response = change.response || {
      churn_elasticity: { triangular: { low: 0, mode: 1, high: 2 } },
      acquisition_elasticity: { triangular: { low: 0, mode: 1, high: 2 } },
      first_renewal_shock: { fixed: 0 },
      use_learned: true,
    };
    const details = document.createElement('details');
    details.className = 'response';
    const summary = document.createElement('summary');
    summary.textContent = 'Response to the price';
    details.append(summary);
    const learned = document.createElement('input');
    learned.type = 'checkbox';
    learned.checked = response.use_learned;
    learned.addEventListener('change', () => {
      response.use_learned = learned.checked;
      change.response = response;
      edited(card);
    });
    const learnedLabel = document.createElement('label');
    learnedLabel.append(learned, ' use the elasticities learned from the history where it has them');
    details.append(fieldRow(learnedLabel));
    for (const [field, text, limits] of [
      ['churn_elasticity', 'Churn elasticity', editor.limits.elasticity],
      ['acquisition_elasticity', 'Acquisition elasticity', editor.limits.elasticity],
      ['first_renewal_shock', 'Shock at the first renewal (share who leave)', editor.limits.shock],
    ]) {
      details.append(
        assumedField(text, response[field], limits, (value, structural) => {
          response[field] = value;
          change.response = response;
          if (structural) rerender();
          edited(card);
        }),
      );
    }
    details.open = card.openResponses?.has(change) ?? false;
    details.addEventListener('toggle', () => {
      card.openResponses = card.openResponses || new Set();
      if (details.open) card.openResponses.add(change);
      else card.openResponses.delete(change);
    });
    return details;
  }

  /** The fields of one change, by its kind. */
  function changeFields(change, card, rerender) {
    const limits = editor.limits;
    const fields = [];
    const set = (field) => (value) => {
      change[field] = value;
      edited(card);
    };
    const segmentNames = editor.segments.map((s) => [s.name, s.name]);
    switch (change.kind) {
      case 'price': {
        fields.push(segmentsField(change, card), monthField('From', change.month, set('month')));
        const byPercent = change.price === null || change.price === undefined;
        fields.push(
          fieldRow(
            radios(nextId('price-mode'), [['percent', 'by a percent'], ['price', 'to a new list price']], byPercent ? 'percent' : 'price', (mode) => {
              if (mode === 'percent') {
                change.percent = 10;
                change.price = null;
              } else {
                const first = editor.segments.find((s) => change.segments.includes(s.name)) || editor.segments[0];
                change.price = first.list_price;
                change.percent = null;
              }
              rerender();
              edited(card);
            }),
          ),
        );
        if (byPercent) {
          fields.push(numberField('Percent', change.percent, limits.price_percent, 1, set('percent'), true));
        } else {
          const hint = document.createElement('span');
          hint.className = 'hint';
          hint.textContent = `(${editor.currency} per billing interval; now: ${editor.segments
            .filter((s) => change.segments.includes(s.name))
            .map((s) => `${s.name} ${s.list_price_text}`)
            .join(', ')})`;
          fields.push(fieldRow(numberField('New list price', change.price, [0, 1e9], 0.01, set('price')), ' ', hint));
        }
        fields.push(
          fieldRow(
            'Existing subscribers: ',
            radios(
              nextId('applies'),
              [
                ['next_renewal', 'pay it at their next renewal'],
                ['new_subscribers', 'keep their price (new subscribers only)'],
                ['after_grandfathering', 'keep their price for a while'],
              ],
              change.applies_to,
              (value) => {
                change.applies_to = value;
                change.grandfather_months = value === 'after_grandfathering' ? change.grandfather_months || 6 : null;
                rerender();
                edited(card);
              },
            ),
          ),
        );
        if (change.applies_to === 'after_grandfathering') {
          fields.push(numberField('Grandfathered for (months)', change.grandfather_months, limits.grandfather_months, 1, set('grandfather_months')));
        }
        fields.push(optionalMonthField('Existing subscribers told in', change.notice_month, set('notice_month'), true));
        fields.push(responseField(change, card, rerender));
        break;
      }
      case 'intro_discount':
        fields.push(
          segmentsField(change, card),
          monthField('New subscribers from', change.month, set('month')),
          optionalMonthField('until', change.until_month, set('until_month')),
          numberField('Discount (%)', change.percent, limits.discount_percent, 1, set('percent'), true),
          numberField('For at least (months)', change.months, limits.discount_months, 1, set('months')),
          responseField(change, card, rerender),
        );
        break;
      case 'move_to_annual': {
        const movable = editor.segments.filter((s) => s.longer_segments.length > 0);
        const from = editor.segments.find((s) => s.name === change.from_segment) || movable[0];
        fields.push(
          selectField('From', movable.map((s) => [s.name, s.name]), change.from_segment, (value) => {
            change.from_segment = value;
            const chosen = editor.segments.find((s) => s.name === value);
            if (chosen && !chosen.longer_segments.includes(change.to_segment)) change.to_segment = chosen.longer_segments[0];
            rerender();
            edited(card);
          }),
          selectField('to', (from ? from.longer_segments : []).map((name) => [name, name]), change.to_segment, set('to_segment')),
          monthField('At their renewal in', change.month, set('month')),
          numberField('Share who move (%)', change.share_percent, limits.share_percent, 1, set('share_percent'), true),
          numberField('Discount on the annual plan (%)', change.discount_percent, limits.move_discount_percent, 1, set('discount_percent'), true),
        );
        break;
      }
      case 'acquisition':
      case 'churn':
      case 'trial_conversion':
        fields.push(
          segmentsField(change, card),
          monthField('From', change.month, set('month')),
          optionalMonthField('until', change.until_month, set('until_month')),
          numberField('Change (%)', change.percent, limits.factor_percent, 1, set('percent'), true),
        );
        break;
      case 'new_plan': {
        const name = document.createElement('input');
        name.type = 'text';
        name.value = change.name;
        name.maxLength = 200;
        name.addEventListener('input', () => {
          change.name = name.value;
          edited(card);
        });
        const like = editor.segments.find((s) => s.name === change.like);
        const hint = document.createElement('span');
        hint.className = 'hint';
        hint.textContent = like ? `(${editor.currency} per billing interval; ${like.name}: ${like.list_price_text})` : '';
        fields.push(
          labelled('Name', name),
          selectField('Renews like', segmentNames, change.like, (value) => {
            change.like = value;
            rerender();
            edited(card);
          }),
          fieldRow(numberField('Price', change.price, [0, 1e9], 0.01, set('price')), ' ', hint),
          monthField('From', change.month, set('month')),
        );
        const takes = document.createElement('fieldset');
        const legend = document.createElement('legend');
        legend.textContent = "Share of each segment's new subscribers it takes";
        takes.append(legend);
        for (const segment of editor.segments) {
          const taken = change.takes.find((t) => t.segment === segment.name);
          const box = document.createElement('input');
          box.type = 'checkbox';
          box.checked = Boolean(taken);
          box.addEventListener('change', () => {
            if (box.checked) change.takes.push({ segment: segment.name, percent: 10 });
            else change.takes = change.takes.filter((t) => t.segment !== segment.name);
            rerender();
            edited(card);
          });
          const row = document.createElement('div');
          row.className = 'take';
          const label = document.createElement('label');
          label.append(box, ` ${segment.name}`);
          row.append(label);
          if (taken) {
            row.append(' ', numberField('%', taken.percent, limits.take_percent, 1, (v) => {
              taken.percent = v;
              edited(card);
            }));
          }
          takes.append(row);
        }
        fields.push(takes, responseField(change, card, rerender));
        break;
      }
      default: {
        const note = document.createElement('p');
        note.className = 'hint';
        note.textContent = `A change of kind ${change.kind}: download the scenario to edit it.`;
        fields.push(note);
      }
    }
    return fields;
  }

  function renderChange(change, index, card) {
    const box = document.createElement('fieldset');
    box.className = 'change';
    const legend = document.createElement('legend');
    legend.textContent = `Change ${index + 1}`;
    box.append(legend);
    const rerender = () => renderCard(card);
    const kinds = editor.kinds.map((k) => [k.kind, k.label]);
    const kind = selectField('Kind', kinds, change.kind, (value) => {
      const fresh = JSON.parse(editor.kinds.find((k) => k.kind === value).change);
      card.scenario.changes[index] = fresh;
      rerender();
      edited(card);
    });
    kind.className = 'kind';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove-change';
    remove.textContent = 'Remove this change';
    remove.addEventListener('click', () => {
      card.scenario.changes.splice(index, 1);
      rerender();
      edited(card);
    });
    box.append(fieldRow(kind, ' ', remove), ...changeFields(change, card, rerender));
    return box;
  }

  function renderCard(card) {
    const element = card.element;
    // Keeps the place in the page of whatever had the focus (a full rebuild loses it otherwise).
    element.replaceChildren();
    const header = document.createElement('header');
    const name = document.createElement('input');
    name.type = 'text';
    name.className = 'scenario-name';
    name.value = card.scenario.name;
    name.maxLength = 200;
    name.setAttribute('aria-label', 'Scenario name');
    name.addEventListener('input', () => {
      card.scenario.name = name.value;
      edited(card);
    });
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove-scenario';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', 'Remove this scenario');
    remove.addEventListener('click', () => removeCard(card));
    header.append(name, ' ', remove);
    element.append(header);
    card.scenario.changes = card.scenario.changes || [];
    for (const [index, change] of card.scenario.changes.entries()) element.append(renderChange(change, index, card));
    const add = document.createElement('button');
    add.type = 'button';
    add.className = 'add-change';
    add.textContent = 'Add a change';
    add.disabled = card.scenario.changes.length >= editor.max_changes;
    add.addEventListener('click', () => {
      card.scenario.changes.push(JSON.parse(editor.kinds[0].change));
      renderCard(card);
      edited(card);
    });
    const download = document.createElement('a');
    download.className = 'download-scenario';
    download.textContent = 'Download this scenario';
    download.href = '#';
    download.download = 'subtwin-scenario.json';
    const state = document.createElement('p');
    state.className = 'card-state';
    state.setAttribute('aria-live', 'polite');
    const error = document.createElement('p');
    error.className = 'error card-error';
    error.setAttribute('role', 'alert');
    error.hidden = true;
    element.append(fieldRow(add, ' ', download), error, state);
    card.parts = { download, state, error };
    showCardState(card);
  }

  /**
   * The file a card's scenario downloads as: `subtwin-scenario-` and its name in lower case without
   * accents, runs of anything but letters and digits as one `-`, at most 60 characters ("Raise
   * monthly prices 20%" gives subtwin-scenario-raise-monthly-prices-20.json); `subtwin-scenario.json`
   * for a name with none.
   */
  function scenarioFileName(name) {
    const slug = String(name || '')
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, '-')
      .slice(0, 60)
      .replace(/^-+|-+$/g, '');
    return slug ? `subtwin-scenario-${slug}.json` : 'subtwin-scenario.json';
  }

  /** The card's error, state and download link, from what it holds now. */
  function showCardState(card) {
    if (!card.parts) return;
    const { download, state, error } = card.parts;
    error.textContent = card.error || '';
    error.hidden = !card.error;
    if (card.json && download.shownJson !== card.json) {
      const url = setDownload(download, card.json, 'application/json');
      if (cardUrls.has(card.slot)) URL.revokeObjectURL(cardUrls.get(card.slot));
      cardUrls.set(card.slot, url);
      download.shownJson = card.json;
      download.download = scenarioFileName(card.scenario.name);
    }
    download.hidden = !card.json;
    let text = '';
    let status = 'idle';
    if (card.error) status = 'error';
    else if (card.task) {
      text = 'Simulating…';
      status = 'running';
    } else if (card.search) {
      text = 'Computing the break-even and sensitivity…';
      status = 'searching';
    } else if (card.result && card.searched) {
      text = 'Up to date.';
      status = 'done';
    } else if (debounce) {
      text = 'Waiting for the edits to settle…';
      status = 'pending';
    }
    state.textContent = text;
    card.element.dataset.status = status;
  }

  // --- Progress, status and results ---------------------------------------------------------------

  function showProgress() {
    const tasks = [baseline && baseline.task, ...cards.map((card) => card.task)].filter(running);
    const total = tasks.reduce((sum, task) => sum + task.total, 0);
    const done = tasks.reduce((sum, task) => sum + task.done, 0);
    const progress = $('sim-progress');
    progress.hidden = tasks.length === 0;
    progress.max = Math.max(1, total);
    progress.value = done;
    if (tasks.length > 0) $('sim-status-text').textContent = `Simulating: ${progress_text(done, total)}.`;
  }

  function update() {
    for (const card of cards) showCardState(card);
    const simulating = (baseline && running(baseline.task)) || cards.some((card) => card.task);
    const searching = cards.some((card) => card.search);
    const busy = Boolean(simulating || searching || reportsPending > 0 || debounce);
    $('sim-cancel').hidden = !(simulating || searching);
    let state = 'idle';
    if (busy) state = 'running';
    else if (stopped) state = 'stopped';
    else if (!$('sim-error').hidden) state = 'error';
    else if (baseline && baseline.status === 'ready' && handle) state = 'done';
    document.body.dataset.sim = state;
    if (simulating) showProgress();
    else {
      $('sim-progress').hidden = true;
      if (searching) $('sim-status-text').textContent = 'Computing the break-even and sensitivity (the results above are in)…';
      else if (busy) $('sim-status-text').textContent = 'Simulating…';
      else if (state === 'done') $('sim-status-text').textContent = 'Up to date.';
      else if (state === 'stopped') $('sim-status-text').textContent = 'Stopped. Change a setting or press Simulate to run again.';
      else if (state === 'idle') $('sim-status-text').textContent = started ? '' : 'Add a scenario, or press Simulate for the baseline alone.';
    }
    $('share-make').disabled = state !== 'done' || Boolean(shareWorker);
    $('sim-add').disabled = !editor || cards.length >= editor.max_scenarios;
    for (const button of $('sim-presets').querySelectorAll('button')) button.disabled = $('sim-add').disabled;
  }

  function simError(message) {
    $('sim-error').textContent = message;
    $('sim-error').hidden = false;
  }

  /** Cancel: every simulation in flight stops (its workers are replaced); what is shown stays. */
  function cancel() {
    if (!pool) return;
    pool.cancel(() => true);
    if (baseline && baseline.status === 'running') {
      baseline.status = 'failed';
      baseline.task = null;
      baseline.resolveReady(false);
    }
    for (const card of cards) {
      card.task = null;
      card.search = null;
    }
    if (debounce) clearTimeout(debounce);
    debounce = null;
    stopped = true;
    // A report asked for before Cancel would show the stopped searches as still computing.
    reportSeq++;
    if (lastRender && lastRender.searched.some((s) => !s)) {
      render(lastRender.json, lastRender.searched.map((s) => (s ? 1 : 2)), lastRender.shown);
    }
    update();
  }

  /** `searched[i]`: whether scenario i's break-even and sensitivity are in (true or 1), still
   * computing (false or 0), or stopped by Cancel (2). */
  function render(json, searched, shown) {
    lastRender = { json, searched, shown };
    onPage = {
      json,
      searched: searched.map((s) => s === true || s === 1),
      scenarios: shown.map((card) => card.json),
      options: { ...options },
    };
    checkLink();
    if (handle) handle.free();
    handle = new SimulationHandle(json, Uint8Array.from(searched));
    const view = handle.view();
    fillFacts($('sim-facts'), view.facts);
    $('sim-conventions').textContent = view.conventions;
    $('sim-results').hidden = false;
    for (const [id, metric, label] of [
      ['chart-fan-mrr', 'mrr', view.fan_mrr_label],
      ['chart-fan-paid', 'paid', view.fan_paid_label],
    ]) {
      $(id).setAttribute('aria-label', label);
      handle.draw_fan($(id), metric);
      downloads.chart($(id), `fan-${metric}`, 0, `subtwin-fan-${metric}`);
    }
    const compared = view.scenarios.length > 0;
    $('sim-differences').hidden = !compared;
    if (compared) {
      $('chart-diff-mrr').setAttribute('aria-label', view.histogram_mrr_label);
      $('chart-diff-revenue').setAttribute('aria-label', view.histogram_revenue_label);
      handle.draw_histogram($('chart-diff-mrr'), 'mrr');
      handle.draw_histogram($('chart-diff-revenue'), 'revenue');
      downloads.chart($('chart-diff-mrr'), 'histogram-mrr', 0, 'subtwin-histogram-mrr');
      downloads.chart($('chart-diff-revenue'), 'histogram-revenue', 0, 'subtwin-histogram-revenue');
    }
    $('sim-key-title').textContent = view.key_numbers_title;
    fillTable($('sim-key-numbers'), view.key_numbers);
    const results = $('sim-scenario-results');
    results.replaceChildren();
    for (const [index, scenario] of view.scenarios.entries()) {
      const article = document.createElement('article');
      article.className = 'scenario-result';
      article.dataset.run = String(index + 1);
      article.dataset.slot = String(shown[index].slot);
      const title = document.createElement('h4');
      title.textContent = scenario.name;
      const summary = document.createElement('p');
      summary.className = 'scenario-summary';
      summary.textContent = scenario.summary;
      const breakEven = document.createElement('p');
      breakEven.className = 'break-even';
      breakEven.textContent = scenario.break_even;
      article.append(title, summary, breakEven);
      if (scenario.inputs.length > 0) {
        const inputs = document.createElement('ul');
        inputs.className = 'scenario-inputs';
        inputs.setAttribute('aria-label', 'Where each drawn input comes from: learned or assumed');
        fillList(inputs, scenario.inputs);
        article.append(inputs);
      }
      if (scenario.searched && scenario.sensitivity.rows.length > 0) {
        const canvas = document.createElement('canvas');
        canvas.className = 'tornado';
        canvas.width = 880;
        canvas.height = 110 + 56 * scenario.sensitivity.rows.length;
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', scenario.tornado_label);
        const wrap = document.createElement('div');
        wrap.className = 'charts';
        wrap.append(canvas);
        const table = document.createElement('table');
        table.className = 'sensitivity';
        fillTable(table, scenario.sensitivity);
        const tableWrap = document.createElement('div');
        tableWrap.className = 'table-wrap';
        tableWrap.append(table);
        article.append(wrap, tableWrap);
        handle.draw_tornado(canvas, index);
        downloads.chart(canvas, 'tornado', index, `subtwin-tornado-${article.dataset.run}`);
      } else if (!scenario.searched) {
        const pending = document.createElement('p');
        pending.className = 'hint';
        pending.textContent = scenario.tornado_label;
        article.append(pending);
      }
      results.append(article);
    }
    fillList($('sim-notes'), view.notes);
    $('sim-notes').hidden = view.notes.length === 0;
    if (resultsUrl) URL.revokeObjectURL(resultsUrl);
    resultsUrl = setDownload($('download-simulation'), json, 'application/json');
  }

  // --- Sharing -----------------------------------------------------------------------------------------

  function shareError(message) {
    $('share-status').textContent = '';
    $('share-error').textContent = message;
    $('share-error').hidden = false;
  }

  /** Share: the shared twin of the results shown, simulated in a worker of its own, then the link. */
  function share() {
    if (!onPage || !onPage.searched.every(Boolean) || shareWorker) return;
    $('share-error').hidden = true;
    $('share-result').hidden = true;
    $('share-copied').textContent = '';
    delete document.body.dataset.share;
    const { json: full, scenarios: scenarioJson, options: runOptions } = onPage;
    let prepared;
    try {
      prepared = share_prepare(twin, scenarioJson, $('share-keep-names').checked);
      prepared.keepNames = $('share-keep-names').checked;
    } catch (error) {
      shareError(error.message);
      return;
    }
    const worker = newSimWorker();
    shareWorker = worker;
    const done = () => {
      worker.terminate();
      if (shareWorker === worker) shareWorker = null;
      $('share-status').textContent = '';
      update();
    };
    worker.onmessage = (event) => {
      const reply = event.data;
      if (shareWorker !== worker) return worker.terminate();
      done();
      if (reply.type !== 'whole') return shareError(reply.message);
      try {
        const made = share_link(
          prepared.twin,
          prepared.scenarios,
          runOptions,
          reply.json,
          `${location.origin}${location.pathname}`,
          prepared.keepNames,
        );
        $('share-link').value = made.link;
        $('share-summary').textContent = made.summary;
        fillTable($('share-gaps'), share_gaps(full, reply.json));
        $('share-result').hidden = false;
        document.body.dataset.share = 'ready';
      } catch (error) {
        shareError(error.message);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      if (shareWorker !== worker) return;
      done();
      shareError(`The shared twin's simulation stopped unexpectedly (${event.message || 'worker error'}).`);
    };
    $('share-status').textContent = "Simulating the shared twin, for the link's check…";
    worker.postMessage({ type: 'whole', twin: prepared.twin, scenarios: prepared.scenarios, options: runOptions });
    update();
  }

  async function copyLink() {
    const field = $('share-link');
    try {
      await navigator.clipboard.writeText(field.value);
      $('share-copied').textContent = 'Copied.';
    } catch {
      field.select();
      $('share-copied').textContent = 'Selected: copy it with Ctrl+C (or ⌘C).';
    }
  }

  /** A link opened: its twin, settings and scenarios, run as usual. */
  function openShared(opened, fragment) {
    $('sim-horizon').value = String(opened.options.horizonMonths);
    $('sim-paths').value = String(opened.options.paths);
    $('sim-seed').value = opened.options.seed;
    setTwin(opened.twin);
    if (!editor) return;
    linkCheck = { fragment, scenarios: opened.scenarios, done: false };
    started = true;
    if (opened.scenarios.length === 0) run();
    for (const json of opened.scenarios) addCard(JSON.parse(json));
  }

  /** Once a link's results are all in, as it sent them, says whether they are the sender's. */
  function checkLink() {
    if (!linkCheck || linkCheck.done || !onPage) return;
    const asSent =
      onPage.searched.every(Boolean) &&
      onPage.scenarios.length === linkCheck.scenarios.length &&
      onPage.scenarios.every((json, i) => json === linkCheck.scenarios[i]);
    if (!asSent) return;
    linkCheck.done = true;
    try {
      onLinkVerdict(link_verdict(linkCheck.fragment, onPage.json));
    } catch (error) {
      onLinkVerdict({ same: false, recomputed: false, message: error.message });
    }
  }

  // --- Opening a scenario file ----------------------------------------------------------------------

  async function openFile(file) {
    $('sim-file-error').hidden = true;
    if (!editor) return;
    if (cards.length >= editor.max_scenarios) {
      $('sim-file-error').textContent = `${file.name}: remove a scenario first (at most ${editor.max_scenarios} side by side).`;
      $('sim-file-error').hidden = false;
      return;
    }
    let json;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      json = check_scenario(file.name, bytes, twin, editorHorizon);
    } catch (error) {
      $('sim-file-error').textContent = error.message;
      $('sim-file-error').hidden = false;
      return;
    }
    addCard(JSON.parse(json));
  }

  // --- Wiring -------------------------------------------------------------------------------------

  function onSettings() {
    if (started) schedule();
    else readOptions();
  }
  for (const id of ['sim-horizon', 'sim-paths', 'sim-seed']) $(id).addEventListener('input', onSettings);
  $('sim-run').addEventListener('click', () => {
    started = true;
    if (debounce) clearTimeout(debounce);
    debounce = null;
    run();
  });
  $('sim-add').addEventListener('click', () => {
    const empty = { version: 1, name: `Scenario ${nextSlot}`, changes: [JSON.parse(editor.kinds[0].change)] };
    addCard(empty);
  });
  $('sim-cancel').addEventListener('click', cancel);
  $('share-make').addEventListener('click', share);
  $('share-copy').addEventListener('click', copyLink);
  $('sim-open').addEventListener('change', (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (file) openFile(file);
  });

  /** Stops everything and hides the section (a new file is being read, or its fit failed). */
  function reset() {
    if (pool) pool.cancel(() => true);
    if (debounce) clearTimeout(debounce);
    debounce = null;
    if (coordinator) {
      coordinator.worker.terminate();
      coordinator = null;
    }
    for (const card of cards) card.element.remove();
    for (const url of cardUrls.values()) URL.revokeObjectURL(url);
    cardUrls.clear();
    cards = [];
    twin = null;
    editor = null;
    editorHorizon = null;
    baseline = null;
    started = false;
    stopped = false;
    reportSeq++;
    reportsPending = 0;
    if (handle) handle.free();
    handle = null;
    onPage = null;
    linkCheck = null;
    if (shareWorker) shareWorker.terminate();
    shareWorker = null;
    $('share-result').hidden = true;
    $('share-error').hidden = true;
    $('share-status').textContent = '';
    delete document.body.dataset.share;
    $('sim-results').hidden = true;
    $('sim-error').hidden = true;
    $('sim-file-error').hidden = true;
    $('scenarios').hidden = true;
    delete document.body.dataset.sim;
  }

  /** A fit without a twin (a snapshot or cohort table): the section says why there are no scenarios. */
  function unavailable(note) {
    reset();
    $('scenarios-note').textContent = note;
    $('scenarios-note').hidden = false;
    $('scenarios-body').hidden = true;
    $('scenarios').hidden = false;
  }

  /** The twin calibrated on the file shown: the section opens on it, nothing simulated yet. */
  function setTwin(json) {
    reset();
    twin = json;
    try {
      loadEditor($('sim-horizon').valueAsNumber || 24);
    } catch (error) {
      unavailable(error.message);
      return;
    }
    if (!$('sim-horizon').value) $('sim-horizon').value = String(editor.default_horizon_months);
    if (!$('sim-paths').value) $('sim-paths').value = String(editor.default_paths);
    if (!$('sim-seed').value) $('sim-seed').value = editor.default_seed;
    $('scenarios-note').hidden = true;
    $('scenarios-body').hidden = false;
    $('scenarios').hidden = false;
    document.body.dataset.sim = 'idle';
    update();
  }

  return { reset, unavailable, setTwin, openShared };
}
