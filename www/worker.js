// The worker: reads a file with the WebAssembly core, off the main thread, and posts back the
// analysis as JSON. A file the person chose arrives as a File and is read here a slice at a time
// (analyse_file_json), so neither thread ever holds its whole text; the demo arrives as bytes.
// It loads its own module and fetches nothing else.
import init, { analyse_file_json, analyse_files_json, analyse_json } from './pkg/subtwin.js';

const ready = init();

self.onmessage = async (event) => {
  const { id, name, file, files, bytes, options } = event.data;
  try {
    await ready;
    let lastPost = 0;
    const onProgress = (read, total) => {
      const now = performance.now();
      if (now - lastPost > 50 || read >= total) {
        lastPost = now;
        self.postMessage({ id, type: 'progress', read, total });
      }
    };
    const json = files
      ? analyse_files_json(files, options, onProgress)
      : file
        ? analyse_file_json(file, options, onProgress)
        : analyse_json(name, new Uint8Array(bytes), options, onProgress);
    self.postMessage({ id, type: 'done', json });
  } catch (error) {
    // The core reports every problem with a file as an Error with its message. A WebAssembly trap
    // (the module ran out of memory, or a bug) is another matter: the module is unusable now.
    const fatal = error instanceof WebAssembly.RuntimeError || error instanceof RangeError;
    const message = fatal
      ? `${name}: the computation stopped (${error.message}). The file is probably too large for this page; ` +
        'run the command `subtwin history` on it instead.'
      : String(error && error.message ? error.message : error);
    self.postMessage({ id, type: 'error', message, fatal });
  }
};
