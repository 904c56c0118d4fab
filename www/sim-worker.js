// A simulation worker: its own instance of the WebAssembly core, loaded from the page's own files,
// fetching nothing else. The page runs a pool of these, and one more that coordinates.
//
// In the pool, a worker simulates the contiguous range of paths it is given (the baseline, or one
// scenario), a piece at a time so that the page can show progress, and posts each piece's paths as
// bytes; or it completes a scenario's report with its break-even or its sensitivity (the slow part,
// whose two halves run in two workers at once).
// A worker may also run a whole simulation in one call (a share link's twin, whose report's digest
// the link carries). The coordinating worker holds the run: the baseline's paths, merged in path order and kept while
// scenarios change, and each scenario's part of the report; it answers with the report's JSON.
import init, {
  SimulationRun,
  max_batch_paths,
  search_part_json,
  simulate_batch,
  simulate_json,
} from './pkg/subtwin.js';

const ready = init();
/** The coordinator's run, and the key (twin and options) it was made for. */
let run = null;
let runKey = null;

/// A WebAssembly trap (out of memory, or a bug) leaves the module unusable: the page replaces the
/// worker. Every other error is the core's message for a person.
function failure(error) {
  const fatal = error instanceof WebAssembly.RuntimeError || error instanceof RangeError;
  const text = String(error && error.message ? error.message : error);
  return { message: fatal ? `The simulation stopped (${text}).` : text, fatal };
}

function batch({ job, twin, scenario, options, start, end, piece }) {
  const most = max_batch_paths(twin, scenario, options);
  const size = Math.max(1, Math.min(most, piece));
  for (let from = start; from < end; from += size) {
    const to = Math.min(end, from + size);
    const bytes = simulate_batch(twin, scenario, options, from, to);
    self.postMessage({ job, type: 'part', start: from, end: to, bytes }, [bytes.buffer]);
  }
  self.postMessage({ job, type: 'done' });
}

/// The coordinator's requests; each gets one reply with its `req`.
function coordinate(message) {
  const { req, key } = message;
  if (message.type === 'baseline') {
    const fresh = new SimulationRun(message.twin, message.options, message.batches);
    if (run) run.free();
    run = fresh;
    runKey = key;
    return { req, type: 'ok' };
  }
  // A request for another run than the one held (the settings changed since) is answered as stale.
  if (!run || key !== runKey) return { req, type: 'stale' };
  switch (message.type) {
    case 'scenario':
      return { req, type: 'ok', input: run.set_scenario(message.slot, message.scenario, message.batches) };
    case 'rename':
      return { req, type: 'ok', accepted: run.rename(message.slot, message.scenario) };
    case 'searched':
      return { req, type: 'ok', accepted: run.set_searched(message.slot, message.json, message.part) };
    case 'remove':
      run.remove(message.slot);
      return { req, type: 'ok' };
    case 'report': {
      const slots = Uint32Array.from(message.slots);
      return { req, type: 'ok', json: run.report_json(slots), searched: Array.from(run.searched(slots)) };
    }
    default:
      return { req, type: 'error', message: `unknown request ${message.type}`, fatal: false };
  }
}

self.onmessage = async (event) => {
  const message = event.data;
  try {
    await ready;
    if (message.type === 'batch') {
      batch(message);
    } else if (message.type === 'whole') {
      self.postMessage({ type: 'whole', json: simulate_json(message.twin, message.scenarios, message.options) });
    } else if (message.type === 'search') {
      self.postMessage({ job: message.job, type: 'done', json: search_part_json(message.input, message.twin, message.part) });
    } else {
      self.postMessage(coordinate(message));
    }
  } catch (error) {
    self.postMessage({ job: message.job, req: message.req, type: 'error', ...failure(error) });
  }
};
