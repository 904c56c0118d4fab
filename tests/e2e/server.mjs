// The static server, the page's own files and the Chromium arguments shared by the end-to-end tests
// (through suite.mjs, and for their checks of what the page asked for) and the browser benchmarks
// (scripts/bench-browser.mjs, scripts/bench-simulate.mjs). Not a
// test file: node --test only runs files named like *.test.mjs, test-*.mjs, *_test.mjs, *-test.mjs or
// test.mjs.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** Debian's Chromium, headless in a container: no sandbox, no GPU, nothing talking to the network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The only files the page and its workers may ask for: the page's own, and the module in /pkg/. */
export const OWN_FILES = [
  '/', '/index.html', '/style.css', '/app.js', '/scenarios.js', '/export.js', '/worker.js', '/sim-worker.js', '/icon.svg',
  '/demo-stripe.csv',
];
export const isOwnFile = (pathname) => OWN_FILES.includes(pathname) || /^\/pkg\/[^/]+$/.test(pathname);

export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.csv': 'text/csv; charset=utf-8',
};

/**
 * Serves the files under `root` (GET and HEAD only, known types only, nothing outside `root`, no
 * caching) on 127.0.0.1 at a free port. Resolves to the listening http.Server.
 */
export function startServer(root) {
  const served = http.createServer((request, response) => {
    const notFound = () => {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found\n');
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return notFound();
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    } catch {
      return notFound();
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = path.resolve(root, '.' + pathname);
    const type = CONTENT_TYPES[path.extname(file)];
    if (!type || !file.startsWith(root + path.sep)) return notFound();
    fs.readFile(file, (error, body) => {
      if (error) return notFound();
      response.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    });
  });
  return new Promise((resolve, reject) => {
    served.once('error', reject);
    served.listen(0, '127.0.0.1', () => resolve(served));
  });
}
