// The worker: reads a file with the WebAssembly core, off the main thread, and posts back the
// analysis as JSON; then calibrates the twin on the same file(s) and posts the fit as JSON, with the
// calibrated twin's JSON that the page's scenarios simulate. The history goes first, so the page
// shows it while the twin is fitted. A file the person chose arrives as a File and is read here a
// slice at a time (analyse_file_json, fit_file_and_twin_json), so neither thread ever holds its
// whole text; the demo arrives as bytes.
// It loads its own module and fetches nothing else.
import init, {
  analyse_file_json,
  analyse_files_json,
  analyse_json,
  fit_and_twin_json,
  fit_file_and_twin_json,
  fit_files_and_twin_json,
} from './pkg/subtwin.js';

const ready = init();

/// Posts progress at most every 50 ms, and at the end, as `type` messages.
function progressPoster(id, type) {
  let lastPost = 0;
  return (read, total) => {
    const now = performance.now();
    if (now - lastPost > 50 || read >= total) {
      lastPost = now;
      self.postMessage({ id, type, read, total });
    }
  };
}

/// The core reports every problem with a file as an Error with its message. A WebAssembly trap
/// (the module ran out of memory, or a bug) is another matter: the module is unusable now.
function failure(error, name, command) {
  const fatal = error instanceof WebAssembly.RuntimeError || error instanceof RangeError;
  const message = fatal
    ? `${name}: the computation stopped (${error.message}). The file is probably too large for this page; ` +
      `run the command \`subtwin ${command}\` on it instead.`
    : String(error && error.message ? error.message : error);
  return { message, fatal };
}

self.onmessage = async (event) => {
  const { id, name, file, files, bytes, options } = event.data;
  const input = bytes ? new Uint8Array(bytes) : null;
  try {
    await ready;
    const onProgress = progressPoster(id, 'progress');
    const json = files
      ? analyse_files_json(files, options, onProgress)
      : file
        ? analyse_file_json(file, options, onProgress)
        : analyse_json(name, input, options, onProgress);
    self.postMessage({ id, type: 'done', json });
  } catch (error) {
    self.postMessage({ id, type: 'error', ...failure(error, name, 'history') });
    return;
  }
  try {
    const onProgress = progressPoster(id, 'fit-progress');
    const fitted = files
      ? fit_files_and_twin_json(files, options, onProgress)
      : file
        ? fit_file_and_twin_json(file, options, onProgress)
        : fit_and_twin_json(name, input, options, onProgress);
    self.postMessage({ id, type: 'fit', json: fitted.fit, twin: fitted.twin ?? null, twinNote: fitted.twin_note ?? null });
  } catch (error) {
    self.postMessage({ id, type: 'fit-error', ...failure(error, name, 'fit') });
  }
};
