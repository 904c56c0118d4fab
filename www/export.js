// Taking the scenario results away: the results as CSV, each chart as PNG (its canvas, as shown) and
// as SVG (drawn by the core with the same chart function), and Print. The bytes come from the
// WebAssembly core (SimulationHandle.results_csv and chart_svg) or from the canvas; this script only
// turns them into files. Files are made when asked for, as Blob URLs (the page's CSP allows no
// other kind of download), and let go once the download has started.

/** How long a download's Blob URL is kept after the click that starts it. */
const KEEP_URL_MS = 60_000;

/** Saves `blob` as the file `name`, through a link the person does not see. */
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), KEEP_URL_MS);
}

function button(text, className, label) {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = className;
  element.textContent = text;
  element.setAttribute('aria-label', label);
  return element;
}

/**
 * Wires the results' downloads. `current()` returns the SimulationHandle of the results shown (or
 * null). Returns {chart}: `chart(canvas, name, scenario, file)` puts PNG and SVG buttons under a
 * results chart (once per canvas), `name` being the core's name for it (`fan-mrr`, `fan-paid`,
 * `histogram-mrr`, `histogram-revenue`, `tornado` of the scenario at index `scenario`) and `file`
 * the downloaded file's name without its extension.
 */
export function initExports(current, onError) {
  const $ = (id) => document.getElementById(id);

  $('download-csv').addEventListener('click', () => {
    const handle = current();
    if (!handle) return;
    save(new Blob([handle.results_csv()], { type: 'text/csv' }), 'subtwin-simulation.csv');
  });
  $('sim-print').addEventListener('click', () => window.print());

  function chart(canvas, name, scenario, file) {
    let bar = canvas.nextElementSibling;
    if (!bar || !bar.classList.contains('chart-downloads')) {
      bar = document.createElement('p');
      bar.className = 'chart-downloads';
      const png = button('PNG', 'download-png', 'Download this chart as PNG');
      const svg = button('SVG', 'download-svg', 'Download this chart as SVG');
      png.addEventListener('click', () => {
        const { canvas: shown, file: stem } = bar.chart;
        shown.toBlob((blob) => {
          if (blob) save(blob, `${stem}.png`);
          else onError('This browser could not turn the chart into a PNG.');
        }, 'image/png');
      });
      svg.addEventListener('click', () => {
        const handle = current();
        if (!handle) return;
        const { canvas: shown, name: which, scenario: index, file: stem } = bar.chart;
        try {
          const text = handle.chart_svg(which, index, shown.width, shown.height);
          save(new Blob([text], { type: 'image/svg+xml' }), `${stem}.svg`);
        } catch (error) {
          onError(error.message);
        }
      });
      bar.append(png, ' ', svg);
      canvas.after(bar);
    }
    bar.chart = { canvas, name, scenario, file };
  }

  return { chart };
}
