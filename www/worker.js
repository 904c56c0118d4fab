// The worker: reads an export with the WebAssembly core, off the main thread, and posts back the
// history report's JSON. It loads its own module and fetches nothing else.
import init, { history_json } from './pkg/subtwin.js';

const ready = init();

self.onmessage = async (event) => {
  const { id, name, bytes, asOf, currency } = event.data;
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
    const json = history_json(name, new Uint8Array(bytes), asOf || undefined, currency || undefined, onProgress);
    self.postMessage({ id, type: 'done', json });
  } catch (error) {
    self.postMessage({ id, type: 'error', message: String(error && error.message ? error.message : error) });
  }
};
