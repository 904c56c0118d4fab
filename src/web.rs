//! The browser boundary: the only module that knows wasm-bindgen, js-sys or web-sys.
//!
//! It converts once at the edge: bytes and strings in, the report's JSON or plain display values
//! out, errors as `JsError` with the message a person reads. The worker calls [`analyse_file_json`]
//! for a file the person chose (read a slice at a time, never whole) and [`analyse_json`] for bytes
//! it holds (the demo); the page keeps an [`AnalysisHandle`] made from that JSON to format text and
//! draw charts on the main thread (plotters needs `window` to lay out text, which a worker lacks),
//! and asks [`needs_mapping`], [`preview_table`] and [`mapping_json`] for its mapping form. Once the
//! history is posted, the worker calibrates the twin on the same file(s) with [`fit_file_json`],
//! [`fit_files_json`] or [`fit_json`] (the page's worker uses their `_and_twin` forms, which also
//! hand back the calibrated twin as JSON), and the page shows it through a [`FitHandle`].
//!
//! Scenarios: the page asks [`scenario_editor`] what its editor offers for the twin, checks each
//! scenario with [`check_scenario`], and has a pool of workers simulate contiguous ranges of paths
//! with [`simulate_batch`] (the baseline with no scenario, or one scenario), each range's
//! [`crate::sim::Simulation`] as bytes. A coordinating worker merges them in path order into a
//! [`SimulationRun`], which keeps the baseline while scenarios change and gives the report; the
//! break-even and sensitivity are completed after it by [`complete_search_json`] (in a pool worker),
//! and the page shows the report through a [`SimulationHandle`]. [`scenario_report_json`] is the
//! same merge and report in one call. The final report is byte for byte what `subtwin simulate
//! --json` prints for the same file, options and scenarios, whatever the number of workers.
//!
//! Share links ([`crate::share`]): [`share_prepare`] makes the shared twin and rewrites the cards'
//! scenarios for it, [`simulate_json`] simulates it in one worker, [`share_link`] writes the link's
//! fragment with that report's digest, and [`share_gaps`] compares the two reports. Opening a link,
//! [`open_link`] checks it and hands the page its twin, scenarios and options, which the page runs
//! as usual; [`link_verdict`] then says whether the numbers are the sender's.

use plotters::prelude::*;
use plotters_backend::{FontFamily, FontStyle};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, CanvasRenderingContext2d, File, FileReaderSync, HtmlCanvasElement};

use crate::backtest::BacktestOptions;
use crate::chart::{draw_history, draw_retention, HistoryMetric};
use crate::import::mapped::{ColumnMapping, Role, Source};
use crate::import::values::{parse_as_of, DateOrder};
use crate::import::{table_kind, ImportOptions, Progress, TableKind};
use crate::money::ExchangeRates;
use crate::report;
use crate::report::fit::FitReport;
use crate::sim::Simulation;
use crate::{
    analyse_export, analyse_exports, analyse_reader, fit_exports_with, fit_reader_with, history, Analysis,
    HistoryRequest,
};

/// What the page asks of an analysis, beyond the file: the options form's values.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PageOptions {
    /// `YYYY-MM-DD` (the end of that day, UTC) or empty.
    as_of: String,
    /// An ISO code or empty.
    currency: String,
    /// `dmy`, `mdy` or empty (read from the dates).
    date_order: String,
    /// A column mapping as the JSON the page saves, or empty.
    mapping: String,
    /// Exchange rates as the text of a `from,to,rate` CSV, or empty.
    fx: String,
    /// The rates file's name, for messages.
    fx_name: String,
    /// Now, from the browser's clock (`Date.now()`), in milliseconds.
    today_ms: Option<f64>,
    /// What segments are made of, comma-separated (`plan`, `price`, a column's name), or empty for
    /// product x interval.
    segment_by: String,
    /// The backtest's cutoffs, `YYYY-MM` separated by commas or spaces, or empty for the defaults.
    cutoffs: String,
}

impl PageOptions {
    fn request(&self) -> Result<HistoryRequest, String> {
        let blank = |text: &str| text.trim().is_empty();
        let as_of = if blank(&self.as_of) {
            None
        } else {
            Some(parse_as_of(&self.as_of).ok_or_else(|| {
                format!("`{}` is not a date; write YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC).", self.as_of)
            })?)
        };
        let date_order = if blank(&self.date_order) {
            None
        } else {
            Some(
                DateOrder::parse(&self.date_order)
                    .ok_or_else(|| format!("unknown date order `{}`", self.date_order))?,
            )
        };
        let mapping = if blank(&self.mapping) { None } else { Some(ColumnMapping::from_json(&self.mapping)?) };
        let fx = if blank(&self.fx) {
            None
        } else {
            let name = if blank(&self.fx_name) { "the exchange rates" } else { self.fx_name.as_str() };
            Some(ExchangeRates::parse(name, &self.fx)?)
        };
        Ok(HistoryRequest {
            import: ImportOptions {
                currency: (!blank(&self.currency)).then(|| self.currency.trim().to_owned()),
                date_order,
                mapping,
                fx,
                today: self.today_ms.filter(|ms| ms.is_finite()).map(|ms| (ms / 1000.0).floor() as i64),
                segment_by: self
                    .segment_by
                    .split(',')
                    .map(|part| part.trim().to_owned())
                    .filter(|part| !part.is_empty())
                    .collect(),
                ..ImportOptions::default()
            },
            history: history::HistoryOptions { as_of },
        })
    }
}

/// The page's options object (`undefined` for none) as a checked request.
fn request_of(options: JsValue) -> Result<HistoryRequest, JsError> {
    page_options(options)?.request().map_err(|e| JsError::new(&e))
}

fn page_options(options: JsValue) -> Result<PageOptions, JsError> {
    if options.is_undefined() || options.is_null() {
        return Ok(PageOptions::default());
    }
    serde_wasm_bindgen::from_value(options).map_err(|e| JsError::new(&format!("unreadable options: {e}")))
}

/// The request and the backtest's options a fit is asked for with.
fn fit_request_of(options: JsValue) -> Result<(HistoryRequest, BacktestOptions), JsError> {
    let options = page_options(options)?;
    let request = options.request().map_err(|e| JsError::new(&e))?;
    let mut cutoffs = Vec::new();
    for text in options.cutoffs.split([',', ' ']).map(str::trim).filter(|t| !t.is_empty()) {
        cutoffs.push(report::month_of(text).ok_or_else(|| {
            JsError::new(&format!("the cutoff `{text}` is not a month; write YYYY-MM, such as 2025-06."))
        })?);
    }
    Ok((request, BacktestOptions { cutoffs, ..BacktestOptions::default() }))
}

/// Reports progress to the page's `on_progress(bytes_read, bytes_total)`.
fn progress_to(on_progress: &js_sys::Function) -> impl FnMut(Progress) + '_ {
    move |p: Progress| {
        // A failing progress callback must not stop the import.
        let _ = on_progress.call2(
            &JsValue::NULL,
            &JsValue::from_f64(p.bytes_read as f64),
            &JsValue::from_f64(p.bytes_total as f64),
        );
    }
}

/// Reads a file and returns its analysis as JSON: for a subscriptions export, byte for byte what
/// `subtwin history FILE --json` prints (without its final newline). `options` is the page's
/// options form ([`PageOptions`]); `on_progress(bytes_read, bytes_total)` is called as rows are read.
#[wasm_bindgen]
pub fn analyse_json(
    file_name: &str,
    bytes: &[u8],
    options: JsValue,
    on_progress: &js_sys::Function,
) -> Result<String, JsError> {
    let request = request_of(options)?;
    let mut progress = progress_to(on_progress);
    let analysis =
        analyse_export(file_name, bytes, &request, &mut progress).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(analysis.to_json())
}

/// The largest file the page reads. Its records take two to three times the file's size in the
/// module's memory, which WebAssembly caps at 4 GiB (a 1.38 GB export of 5,000,000 rows took the tab
/// to 3.5 GiB): beyond this the tab would run out of memory part way (BENCHMARKS.md has the figures).
pub const MAX_FILE_BYTES: f64 = 1.4e9;

/// [`analyse_json`] for a file the person chose, read in slices with `FileReaderSync` (so only in a
/// worker): the page never holds the file's text whole, only its records. A file larger than
/// [`MAX_FILE_BYTES`] is refused with what to do instead.
#[wasm_bindgen]
pub fn analyse_file_json(file: &File, options: JsValue, on_progress: &js_sys::Function) -> Result<String, JsError> {
    let (name, size) = checked_size(file, "history")?;
    let request = request_of(options)?;
    let mut progress = progress_to(on_progress);
    let reader = BlobReader::new(file).map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    let analysis = analyse_reader(&name, reader, Some(size as u64), &request, &mut progress)
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(analysis.to_json())
}

/// [`analyse_file_json`] for several files read as one business (`subtwin history A B`): each is
/// read whole, so together they must stay under [`MAX_FILE_BYTES`].
#[wasm_bindgen]
pub fn analyse_files_json(
    files: js_sys::Array,
    options: JsValue,
    on_progress: &js_sys::Function,
) -> Result<String, JsError> {
    let request = request_of(options)?;
    let inputs = read_files(files, "history")?;
    let mut progress = progress_to(on_progress);
    let borrowed: Vec<(&str, &[u8])> = inputs.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let analysis = analyse_exports(&borrowed, &request, &mut progress).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(analysis.to_json())
}

/// Calibrates the twin on a file's bytes and returns the fit as JSON: byte for byte what
/// `subtwin fit FILE --json` prints (without its final newline). The options and progress are
/// [`analyse_json`]'s.
#[wasm_bindgen]
pub fn fit_json(
    file_name: &str,
    bytes: &[u8],
    options: JsValue,
    on_progress: &js_sys::Function,
) -> Result<String, JsError> {
    let (request, backtest) = fit_request_of(options)?;
    let mut progress = progress_to(on_progress);
    let report = fit_exports_with(&[(file_name, bytes)], &request, &backtest, &mut progress)
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(report::fit::to_json(&report))
}

/// [`fit_json`] for a file the person chose, read in slices as [`analyse_file_json`] reads it (so
/// only in a worker): a subscriptions export's text is never held whole.
#[wasm_bindgen]
pub fn fit_file_json(file: &File, options: JsValue, on_progress: &js_sys::Function) -> Result<String, JsError> {
    let (name, size) = checked_size(file, "fit")?;
    let (request, backtest) = fit_request_of(options)?;
    let mut progress = progress_to(on_progress);
    let reader = BlobReader::new(file).map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    let report = fit_reader_with(&name, reader, Some(size as u64), &request, &backtest, &mut progress)
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(report::fit::to_json(&report))
}

/// [`fit_json`] for several files read as one business (`subtwin fit A B`), read whole as
/// [`analyse_files_json`] reads them.
#[wasm_bindgen]
pub fn fit_files_json(
    files: js_sys::Array,
    options: JsValue,
    on_progress: &js_sys::Function,
) -> Result<String, JsError> {
    let (request, backtest) = fit_request_of(options)?;
    let inputs = read_files(files, "fit")?;
    let mut progress = progress_to(on_progress);
    let borrowed: Vec<(&str, &[u8])> = inputs.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let report =
        fit_exports_with(&borrowed, &request, &backtest, &mut progress).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(report::fit::to_json(&report))
}

/// A chosen file's name and size, refused when it is larger than [`MAX_FILE_BYTES`], with what to
/// do instead (`command`: the subcommand that has no such limit).
fn checked_size(file: &File, command: &str) -> Result<(String, f64), JsError> {
    let name = file.name();
    let size = file.size();
    if size > MAX_FILE_BYTES {
        return Err(JsError::new(&format!(
            "{name}: this file is {:.2} GB, more than this page can hold in memory (up to {:.1} GB). Run the \
             command instead (`subtwin {command} {name}`), which has no such limit, or aggregate it into a cohort \
             survival table: one row per segment, cohort and age (the README shows a query that does it), and \
             drop that table here.",
            size / 1e9,
            MAX_FILE_BYTES / 1e9
        )));
    }
    Ok((name, size))
}

/// Several chosen files, each read whole, with their names; refused when together they are larger
/// than [`MAX_FILE_BYTES`].
fn read_files(files: js_sys::Array, command: &str) -> Result<Vec<(String, Vec<u8>)>, JsError> {
    let files: Vec<File> = files.iter().filter_map(|f| f.dyn_into::<File>().ok()).collect();
    let total: f64 = files.iter().map(|f| f.size()).sum();
    if total > MAX_FILE_BYTES {
        return Err(JsError::new(&format!(
            "these files are {:.2} GB together, more than this page can hold in memory (up to {:.1} GB). Run the \
             command instead (`subtwin {command} FILE...`), which has no such limit.",
            total / 1e9,
            MAX_FILE_BYTES / 1e9
        )));
    }
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::with_capacity(files.len());
    for file in &files {
        let name = file.name();
        let mut bytes = Vec::with_capacity(file.size() as usize);
        std::io::Read::read_to_end(
            &mut BlobReader::new(file).map_err(|e| JsError::new(&format!("{name}: {e}")))?,
            &mut bytes,
        )
        .map_err(|e| JsError::new(&format!("{name}: {e}")))?;
        inputs.push((name, bytes));
    }
    Ok(inputs)
}

/// A `Blob` as a `std::io::Read`: the next slice is read with `FileReaderSync` (which a worker may
/// call synchronously) into the module's memory, and handed out from there. Each such read costs a
/// round trip to the browser's file machinery, so slices are large.
struct BlobReader {
    blob: Blob,
    reader: FileReaderSync,
    offset: f64,
    size: f64,
    slice: Vec<u8>,
    position: usize,
}

/// How much of the file each `FileReaderSync` read takes.
const SLICE_BYTES: f64 = 32.0 * 1024.0 * 1024.0;

impl BlobReader {
    fn new(blob: &Blob) -> std::io::Result<BlobReader> {
        let reader = FileReaderSync::new().map_err(|e| io_error("cannot read files here (not in a worker)", &e))?;
        Ok(BlobReader { blob: blob.clone(), reader, offset: 0.0, size: blob.size(), slice: Vec::new(), position: 0 })
    }

    /// Reads the next slice; an empty one at the end of the file.
    fn next_slice(&mut self) -> std::io::Result<()> {
        self.position = 0;
        self.slice.clear();
        if self.offset >= self.size {
            return Ok(());
        }
        let end = (self.offset + SLICE_BYTES).min(self.size);
        let slice = self.blob.slice_with_f64_and_f64(self.offset, end).map_err(|e| io_error("slice", &e))?;
        let array = self.reader.read_as_array_buffer(&slice).map_err(|e| io_error("read", &e))?;
        let bytes = js_sys::Uint8Array::new(&array);
        self.slice.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut self.slice);
        // A file that shrank while it was read ends here rather than looping.
        self.offset = if self.slice.is_empty() { self.size } else { self.offset + self.slice.len() as f64 };
        Ok(())
    }
}

impl std::io::Read for BlobReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.position == self.slice.len() {
            self.next_slice()?;
        }
        let read = buffer.len().min(self.slice.len() - self.position);
        buffer[..read].copy_from_slice(&self.slice[self.position..self.position + read]);
        self.position += read;
        Ok(read)
    }
}

fn io_error(what: &str, error: &JsValue) -> std::io::Error {
    let message = js_sys::Reflect::get(error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"));
    std::io::Error::other(format!("{what}: {message}"))
}

/// Whether the page should ask for a column mapping: `true` when no format, snapshot or cohort
/// reader recognises the file's header.
#[wasm_bindgen]
pub fn needs_mapping(bytes: &[u8]) -> bool {
    table_kind(bytes, &ImportOptions::default()) == TableKind::Unrecognised
}

/// The file's header, its first rows and a suggested mapping, for the mapping form; `null` when the
/// bytes hold no table.
#[wasm_bindgen]
pub fn preview_table(bytes: &[u8], rows: usize) -> Result<JsValue, JsError> {
    let preview = crate::import::preview(bytes, rows.min(50));
    let preview = preview.map(|p| {
        let suggested = p.suggested.to_json();
        (p.header, p.rows, suggested)
    });
    serde_wasm_bindgen::to_value(&preview).map_err(|e| JsError::new(&e.to_string()))
}

/// The mapping roles in form order: `[name, description, required]`.
#[wasm_bindgen]
pub fn mapping_roles() -> Result<JsValue, JsError> {
    let roles: Vec<(&str, &str, bool)> =
        Role::ALL.iter().map(|r| (r.name(), r.description(), Role::REQUIRED.contains(r))).collect();
    serde_wasm_bindgen::to_value(&roles).map_err(|e| JsError::new(&e.to_string()))
}

/// Builds a mapping's JSON from the form: `[[role, "column" | "fixed", value], ...]`. The error says
/// what the mapping lacks.
#[wasm_bindgen]
pub fn mapping_json(entries: JsValue) -> Result<String, JsError> {
    let entries: Vec<(String, String, String)> =
        serde_wasm_bindgen::from_value(entries).map_err(|e| JsError::new(&e.to_string()))?;
    let mut roles = std::collections::BTreeMap::new();
    for (role, kind, value) in entries {
        let role = Role::from_name(&role).ok_or_else(|| JsError::new(&format!("unknown role `{role}`")))?;
        let source = if kind == "fixed" { Source::Fixed(value) } else { Source::Column(value) };
        roles.insert(role, source);
    }
    let mapping = ColumnMapping::from_json(&ColumnMapping { roles }.to_json()).map_err(|e| JsError::new(&e))?;
    Ok(mapping.to_json())
}

/// The page's statement of its conventions.
#[wasm_bindgen]
pub fn conventions() -> String {
    report::CONVENTIONS.to_owned()
}

/// An analysis held on the page's side, for its text and charts.
#[wasm_bindgen]
pub struct AnalysisHandle {
    analysis: Analysis,
}

#[wasm_bindgen]
impl AnalysisHandle {
    /// Reads the JSON that [`analyse_json`] produced.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<AnalysisHandle, JsError> {
        Ok(AnalysisHandle { analysis: Analysis::from_json(json).map_err(|e| JsError::new(&e))? })
    }

    /// Every text the page shows: facts, tables, charts to draw and the problems as CSV.
    pub fn view(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&self.analysis.page_view()).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Draws `metric` (`mrr` or `subscribers`) of a subscription history on the canvas.
    pub fn draw(&self, canvas: HtmlCanvasElement, metric: &str) -> Result<(), JsError> {
        let Analysis::History(report) = &self.analysis else {
            return Err(JsError::new("only a subscription history has charts"));
        };
        let metric = HistoryMetric::parse(metric).ok_or_else(|| JsError::new(&format!("unknown chart `{metric}`")))?;
        let backend = measuring_canvas(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        let area = backend.into_drawing_area();
        draw_history(&area, report, metric).map_err(|e| JsError::new(&e))
    }
}

/// A calibrated twin held on the page's side, for its text and its retention charts.
#[wasm_bindgen]
pub struct FitHandle {
    report: FitReport,
}

#[wasm_bindgen]
impl FitHandle {
    /// Reads the JSON that [`fit_json`], [`fit_file_json`] or [`fit_files_json`] produced.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<FitHandle, JsError> {
        Ok(FitHandle { report: FitReport::from_json(json).map_err(|e| JsError::new(&e))? })
    }

    /// Every text the page's twin section shows ([`report::fit_page::FitPageView`]).
    pub fn view(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&report::fit_page::fit_page_view(&self.report))
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Draws the backtest of all segments' MRR on the canvas; an error when the fit has no backtest.
    pub fn draw_backtest(&self, canvas: HtmlCanvasElement) -> Result<(), JsError> {
        let backtest = self.report.backtest.as_ref().ok_or_else(|| JsError::new("the fit has no backtest"))?;
        let currency = self
            .report
            .currency
            .as_deref()
            .and_then(crate::money::Currency::from_code)
            .unwrap_or(crate::money::Currency { code: String::new(), minor_digits: 2, symbol: String::new() });
        let backend = measuring_canvas(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        let area = backend.into_drawing_area();
        crate::chart::draw_backtest(&area, backtest, crate::backtest::TOTAL, &currency).map_err(|e| JsError::new(&e))
    }

    /// Draws the retention of the segment at `segment_index` (in the report's order) on the canvas.
    pub fn draw_retention(&self, canvas: HtmlCanvasElement, segment_index: usize) -> Result<(), JsError> {
        let segment = self.report.segments.get(segment_index).ok_or_else(|| {
            JsError::new(&format!("no segment {segment_index}: the fit has {}", self.report.segments.len()))
        })?;
        let backend = measuring_canvas(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        let area = backend.into_drawing_area();
        draw_retention(&area, segment).map_err(|e| JsError::new(&e))
    }
}

// --- The twin and scenarios -------------------------------------------------------------------------

/// What the page's fit worker posts: the fit's JSON, the calibrated twin's JSON when there is one,
/// and otherwise why scenarios cannot be simulated.
#[derive(serde::Serialize)]
struct FitAndTwin {
    fit: String,
    twin: Option<String>,
    twin_note: Option<String>,
}

fn fit_and_twin_value(report: &FitReport, twin: Option<crate::CalibratedTwin>) -> Result<JsValue, JsError> {
    let twin_note = twin.is_none().then(|| {
        if report.source == "snapshot" || report.source == "cohorts" {
            "A snapshot or cohort table has no dates, so there is no starting state to simulate scenarios from: \
             drop a subscriptions export to simulate them."
                .to_owned()
        } else {
            "No segment has a retention estimate yet (none of its subscribers has churned), so there is nothing to \
             simulate scenarios on."
                .to_owned()
        }
    });
    let value = FitAndTwin { fit: report::fit::to_json(report), twin: twin.map(|t| t.to_json()), twin_note };
    serde_wasm_bindgen::to_value(&value).map_err(|e| JsError::new(&e.to_string()))
}

/// [`fit_json`], with the twin calibrated in the same pass: `{fit, twin, twin_note}`, `fit` the same
/// JSON as [`fit_json`] gives, `twin` the calibrated twin's JSON ([`crate::CalibratedTwin::to_json`]) or
/// `undefined` with `twin_note` saying why there is none.
#[wasm_bindgen]
pub fn fit_and_twin_json(
    file_name: &str,
    bytes: &[u8],
    options: JsValue,
    on_progress: &js_sys::Function,
) -> Result<JsValue, JsError> {
    let (request, backtest) = fit_request_of(options)?;
    let mut progress = progress_to(on_progress);
    let (report, twin) = crate::fit_exports_and_twin(&[(file_name, bytes)], &request, &backtest, &mut progress)
        .map_err(|e| JsError::new(&e.to_string()))?;
    fit_and_twin_value(&report, twin)
}

/// [`fit_file_json`] with the twin, as [`fit_and_twin_json`] gives them: the file is read in slices.
#[wasm_bindgen]
pub fn fit_file_and_twin_json(
    file: &File,
    options: JsValue,
    on_progress: &js_sys::Function,
) -> Result<JsValue, JsError> {
    let (name, size) = checked_size(file, "fit")?;
    let (request, backtest) = fit_request_of(options)?;
    let mut progress = progress_to(on_progress);
    let reader = BlobReader::new(file).map_err(|e| JsError::new(&format!("{name}: {e}")))?;
    let (report, twin) =
        crate::fit_reader_and_twin(&name, reader, Some(size as u64), &request, &backtest, &mut progress)
            .map_err(|e| JsError::new(&e.to_string()))?;
    fit_and_twin_value(&report, twin)
}

/// [`fit_files_json`] with the twin, as [`fit_and_twin_json`] gives them.
#[wasm_bindgen]
pub fn fit_files_and_twin_json(
    files: js_sys::Array,
    options: JsValue,
    on_progress: &js_sys::Function,
) -> Result<JsValue, JsError> {
    let (request, backtest) = fit_request_of(options)?;
    let inputs = read_files(files, "fit")?;
    let mut progress = progress_to(on_progress);
    let borrowed: Vec<(&str, &[u8])> = inputs.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let (report, twin) = crate::fit_exports_and_twin(&borrowed, &request, &backtest, &mut progress)
        .map_err(|e| JsError::new(&e.to_string()))?;
    fit_and_twin_value(&report, twin)
}

/// The run bar's values: `{horizonMonths, paths, seed}`, the seed a decimal string (JavaScript
/// numbers are exact only to 2^53).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunOptions {
    horizon_months: f64,
    paths: f64,
    seed: String,
}

/// The run bar's values as checked options; the error says which value is wrong and what is allowed.
fn run_options(options: JsValue) -> Result<crate::SimulateOptions, JsError> {
    let options: RunOptions = serde_wasm_bindgen::from_value(options)
        .map_err(|e| JsError::new(&format!("unreadable simulation options: {e}")))?;
    let whole = |value: f64, what: &str, max: u32| -> Result<u32, JsError> {
        if value.is_finite() && value.fract() == 0.0 && (1.0..=f64::from(max)).contains(&value) {
            Ok(value as u32)
        } else {
            Err(JsError::new(&format!("{what}: give a whole number from 1 to {max}.")))
        }
    };
    let horizon_months = whole(options.horizon_months, "the horizon in months", crate::MAX_SIMULATION_HORIZON_MONTHS)?;
    let paths = whole(options.paths, "the number of paths", crate::MAX_SIMULATION_PATHS)?;
    let text = options.seed.trim();
    let seed = text
        .parse::<u64>()
        .ok()
        .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| JsError::new(&format!("the seed `{text}` is not a whole number from 0 to {}.", u64::MAX)))?;
    let checked = crate::SimulateOptions { horizon_months, paths, seed };
    crate::check_simulate_options(&checked, 0).map_err(|e| JsError::new(&e))?;
    Ok(checked)
}

fn sim_options(options: &crate::SimulateOptions) -> crate::sim::SimOptions {
    crate::sim::SimOptions { paths: options.paths, horizon_months: options.horizon_months, seed: options.seed }
}

/// Checks the run bar's values: an error naming the value that is wrong.
#[wasm_bindgen]
pub fn check_run_options(options: JsValue) -> Result<(), JsError> {
    run_options(options).map(|_| ())
}

fn twin_of(json: &str) -> Result<crate::CalibratedTwin, JsError> {
    crate::CalibratedTwin::from_json(json).map_err(|e| JsError::new(&e))
}

/// Reads a scenario's JSON (`label` names it in messages) and compiles it against the twin.
fn compiled_scenario(
    label: &str,
    bytes: &[u8],
    twin: &crate::CalibratedTwin,
    horizon_months: u32,
) -> Result<(crate::scenario::Scenario, crate::scenario::Compiled), String> {
    let scenario = crate::scenario::from_json(label, bytes)?;
    let compiled =
        crate::scenario::compile(&scenario, &twin.twin, horizon_months).map_err(|error| format!("{label}: {error}"))?;
    Ok((scenario, compiled))
}

/// What the scenario editor offers for a twin simulated `horizon_months` ahead
/// ([`report::simulate_page::EditorView`]): segments, months, a starting change of each kind,
/// presets and the range of every field.
#[wasm_bindgen]
pub fn scenario_editor(twin_json: &str, horizon_months: u32) -> Result<JsValue, JsError> {
    let twin = twin_of(twin_json)?;
    serde_wasm_bindgen::to_value(&report::simulate_page::editor_view(&twin, horizon_months))
        .map_err(|e| JsError::new(&e.to_string()))
}

/// Reads a scenario file's bytes (`label`: its name, or how the page names the card) and checks it
/// against the twin over `horizon_months`, as `subtwin simulate --scenario` does. Returns the
/// scenario as the file the command reads ([`crate::scenario::to_json`]); the error names the field
/// that is wrong, its value and what is allowed.
#[wasm_bindgen]
pub fn check_scenario(label: &str, bytes: &[u8], twin_json: &str, horizon_months: u32) -> Result<String, JsError> {
    let twin = twin_of(twin_json)?;
    let (scenario, _) = compiled_scenario(label, bytes, &twin, horizon_months).map_err(|e| JsError::new(&e))?;
    Ok(crate::scenario::to_json(&scenario))
}

/// The plan of a scenario's JSON against a twin, or the baseline's for an empty string, with the
/// number of segments it simulates (the twin's and the scenario's new plans).
fn plan_of(
    twin: &crate::CalibratedTwin,
    scenario_json: &str,
    horizon_months: u32,
) -> Result<crate::sim::plan::Plan, JsError> {
    if scenario_json.trim().is_empty() {
        return Ok(crate::sim::plan::Plan::baseline(twin.twin.segments.len()));
    }
    let (_, compiled) = compiled_scenario("the scenario", scenario_json.as_bytes(), twin, horizon_months)
        .map_err(|e| JsError::new(&e))?;
    Ok(compiled.plan)
}

/// The most paths one batch of this run may hold ([`crate::sim::MAX_FIGURES_PER_BATCH`]), so that a
/// worker splits its range into batches the engine and [`crate::sim::Simulation::from_bytes`]
/// accept. `scenario_json` is empty for the baseline.
#[wasm_bindgen]
pub fn max_batch_paths(twin_json: &str, scenario_json: &str, options: JsValue) -> Result<u32, JsError> {
    let options = run_options(options)?;
    let twin = twin_of(twin_json)?;
    let plan = plan_of(&twin, scenario_json, options.horizon_months)?;
    let segments = twin.twin.segments.len();
    let flows = crate::sim::reuse_fits(segments, options.horizon_months, options.paths);
    Ok(crate::sim::max_batch_paths(segments + plan.new_plans.len(), options.horizon_months, flows))
}

/// Simulates the paths `start..end` of a run (one worker's batch) with no change when
/// `scenario_json` is empty, else under that scenario, and returns the batch as bytes
/// ([`crate::sim::Simulation::to_bytes`]) for [`SimulationRun`] or [`scenario_report_json`] to merge.
/// When the run's baseline keeps its segments' figures ([`crate::sim::reuse_fits`], which the
/// coordinator's [`SimulationRun`] holds), the baseline's batches carry them and a scenario's batch
/// holds only the segments it changes; the run completes it from the baseline.
#[wasm_bindgen]
pub fn simulate_batch(
    twin_json: &str,
    scenario_json: &str,
    options: JsValue,
    start: u32,
    end: u32,
) -> Result<Vec<u8>, JsError> {
    let options = run_options(options)?;
    let twin = twin_of(twin_json)?;
    let plan = plan_of(&twin, scenario_json, options.horizon_months)?;
    let (twin, options) = (&twin.twin, sim_options(&options));
    let reuse = crate::sim::reuse_fits(twin.segments.len(), options.horizon_months, options.paths);
    let simulation = match (scenario_json.trim().is_empty(), reuse) {
        (_, false) => crate::sim::simulate_plan_paths(twin, &plan, &options, start..end),
        (true, true) => crate::sim::simulate_reusable_paths(twin, &options, start..end),
        (false, true) => crate::sim::simulate_changed_paths(twin, &plan, &options, start..end),
    };
    Ok(simulation.map_err(|e| JsError::new(&format!("{e}")))?.to_bytes())
}

/// Batches (`Uint8Array`s or `ArrayBuffer`s of [`simulate_batch`]) merged in the order given, which
/// must be path order, into one simulation of every path of the run.
fn merged_batches(batches: &js_sys::Array, options: &crate::SimulateOptions) -> Result<Simulation, JsError> {
    let mut merged: Option<Simulation> = None;
    for batch in batches.iter() {
        let bytes = match batch.dyn_into::<js_sys::Uint8Array>() {
            Ok(array) => array.to_vec(),
            Err(other) => js_sys::Uint8Array::new(&other).to_vec(),
        };
        let simulation = Simulation::from_bytes(&bytes).map_err(|e| JsError::new(&format!("{e}")))?;
        match merged.as_mut() {
            None => {
                let mut first = simulation;
                // Room for the rest of the run at once; if it cannot be had, the batches are merged
                // as they come, and what does not fit then stops the worker as any lack of memory does.
                let _ = first.reserve_paths(options.paths.saturating_sub(first.paths.end));
                merged = Some(first);
            }
            Some(earlier) => earlier.append(simulation).map_err(|e| JsError::new(&format!("{e}")))?,
        }
    }
    let merged = merged.ok_or_else(|| JsError::new("no batch of paths to merge"))?;
    if merged.options != sim_options(options) || merged.paths != (0..options.paths) {
        return Err(JsError::new(&format!(
            "the batches hold paths {}..{} of another run or of part of this one (0..{} with a horizon of {} and seed \
             {}).",
            merged.paths.start, merged.paths.end, options.paths, options.horizon_months, options.seed
        )));
    }
    Ok(merged)
}

/// One scenario of a [`SimulationRun`]: its part of the report, and whether its break-even and its
/// sensitivity are in.
struct RunSlot {
    report: report::simulate::ScenarioReport,
    break_even: bool,
    sensitivity: bool,
}

impl RunSlot {
    fn searched(&self) -> bool {
        self.break_even && self.sensitivity
    }
}

/// A simulation run held by the page's coordinating worker: the twin, the options and the baseline
/// (all its paths), and each scenario's part of the report, by the page's slot number. The baseline
/// is simulated once and kept while scenarios come and go; a scenario's paths are dropped once its
/// part of the report is made. The report of any slots, in any order, is what `subtwin simulate
/// --json` prints for those scenarios in that order (once each slot's search is in).
#[wasm_bindgen]
pub struct SimulationRun {
    twin: crate::CalibratedTwin,
    options: crate::SimulateOptions,
    baseline: Simulation,
    /// The report without scenarios.
    base: report::simulate::SimulationReport,
    slots: std::collections::BTreeMap<u32, RunSlot>,
}

impl SimulationRun {
    fn context(&self) -> report::simulate::ReportContext<'_> {
        report::simulate::ReportContext {
            twin: &self.twin.twin,
            as_of: &self.twin.as_of,
            seed: self.options.seed,
            currency: &self.twin.currency,
            notes: self.twin.notes.clone(),
        }
    }

    fn report(&self, slots: &[u32]) -> Result<report::simulate::SimulationReport, JsError> {
        crate::check_simulate_options(&self.options, slots.len()).map_err(|e| JsError::new(&e))?;
        let mut report = self.base.clone();
        for slot in slots {
            let held = self.slots.get(slot).ok_or_else(|| JsError::new(&format!("no scenario in slot {slot}")))?;
            report.scenarios.push(held.report.clone());
        }
        Ok(report)
    }
}

#[wasm_bindgen]
impl SimulationRun {
    /// A run of the twin (its JSON) with the run bar's options, from the baseline's batches in path
    /// order.
    #[wasm_bindgen(constructor)]
    pub fn new(twin_json: &str, options: JsValue, baseline_batches: js_sys::Array) -> Result<SimulationRun, JsError> {
        let options = run_options(options)?;
        let twin = twin_of(twin_json)?;
        let baseline = merged_batches(&baseline_batches, &options)?;
        let base = {
            let context = report::simulate::ReportContext {
                twin: &twin.twin,
                as_of: &twin.as_of,
                seed: options.seed,
                currency: &twin.currency,
                notes: twin.notes.clone(),
            };
            report::simulate::simulation_report(&context, &baseline, &[]).map_err(|e| JsError::new(&format!("{e}.")))?
        };
        let run = SimulationRun { twin, options, baseline, base, slots: std::collections::BTreeMap::new() };
        Ok(run)
    }

    /// Sets the scenario of `slot` (its JSON, as [`check_scenario`] returns it) from its batches in
    /// path order, replacing what the slot held. Returns the input of its search: the report of this
    /// scenario alone, for [`complete_search_json`].
    pub fn set_scenario(&mut self, slot: u32, scenario_json: &str, batches: js_sys::Array) -> Result<String, JsError> {
        let (scenario, compiled) =
            compiled_scenario("the scenario", scenario_json.as_bytes(), &self.twin, self.options.horizon_months)
                .map_err(|e| JsError::new(&e))?;
        let mut simulation = merged_batches(&batches, &self.options)?;
        simulation.complete(&self.baseline).map_err(|e| JsError::new(&format!("{e}")))?;
        let run = report::simulate::ScenarioRun { scenario: &scenario, compiled: &compiled, simulation: &simulation };
        // The baseline's part of the report was made once, with the run.
        let part = report::simulate::scenario_report(
            &self.context(),
            (&self.baseline, &self.base.baseline),
            &self.base.months,
            &run,
        )
        .map_err(|e| JsError::new(&format!("{e}.")))?;
        let mut one = self.base.clone();
        one.scenarios.push(part.clone());
        self.slots.insert(slot, RunSlot { report: part, break_even: false, sensitivity: false });
        Ok(report::simulate::to_json(&one))
    }

    /// Renames the scenario of `slot` when `scenario_json` (as [`check_scenario`] returns it) differs
    /// from the one it holds in its name alone, without simulating again; returns `false` (and
    /// changes nothing) otherwise, for the page to run it.
    pub fn rename(&mut self, slot: u32, scenario_json: &str) -> Result<bool, JsError> {
        let (scenario, _) =
            compiled_scenario("the scenario", scenario_json.as_bytes(), &self.twin, self.options.horizon_months)
                .map_err(|e| JsError::new(&e))?;
        let Some(held) = self.slots.get_mut(&slot) else {
            return Ok(false);
        };
        if !report::simulate::same_but_name(&held.report.scenario, &scenario) {
            return Ok(false);
        }
        report::simulate::rename_scenario(&mut held.report, scenario, &self.base.currency, &self.base.months);
        Ok(true)
    }

    /// Puts in the break-even and sensitivity of `slot`: `completed_json` is what
    /// [`complete_search_json`] returned for the input [`SimulationRun::set_scenario`] gave. A slot
    /// whose scenario changed since is left alone (returns `false`).
    ///
    /// `part` says what the search filled in: `"break_even"` or `"sensitivity"` ([`search_part_json`],
    /// which the page runs in two workers at once), or `""` for both ([`complete_search_json`]). The
    /// slot counts as searched once both are in.
    pub fn set_searched(&mut self, slot: u32, completed_json: &str, part: &str) -> Result<bool, JsError> {
        let which = search_part(part)?;
        let completed: report::simulate::SimulationReport = serde_json::from_str(completed_json)
            .map_err(|e| JsError::new(&format!("the completed scenario cannot be read: {e}")))?;
        let [part] = completed.scenarios.as_slice() else {
            return Err(JsError::new("the completed report should hold one scenario"));
        };
        let Some(held) = self.slots.get_mut(&slot) else {
            return Ok(false);
        };
        // A search started before a rename comes back under the old name: it is the same search.
        let same = report::simulate::same_but_name(&held.report.scenario, &part.scenario)
            && held.report.difference == part.difference;
        if !same {
            return Ok(false);
        }
        report::simulate::join_search(&mut held.report, part, which, &self.base.currency, &self.base.months);
        held.break_even |= which.break_even();
        held.sensitivity |= which.sensitivity();
        Ok(true)
    }

    /// Forgets the scenario of `slot`.
    pub fn remove(&mut self, slot: u32) {
        self.slots.remove(&slot);
    }

    /// The report of the baseline and the scenarios of `slots`, in that order, as JSON: once each is
    /// searched, byte for byte what `subtwin simulate --json` prints for them (without its newline).
    pub fn report_json(&self, slots: Vec<u32>) -> Result<String, JsError> {
        Ok(report::simulate::to_json(&self.report(&slots)?))
    }

    /// Whether each of `slots` has its break-even and sensitivity in (1) or not yet (0).
    pub fn searched(&self, slots: Vec<u32>) -> Vec<u8> {
        slots.iter().map(|slot| u8::from(self.slots.get(slot).is_some_and(RunSlot::searched))).collect()
    }
}

/// The report of a run from its batches, as `subtwin simulate --json` builds it before the
/// break-even and sensitivity ([`complete_search_json`] adds them): the baseline's batches and each
/// scenario's (`scenario_batches[i]` for `scenarios[i]`, a scenario's JSON), each in path order.
#[wasm_bindgen]
pub fn scenario_report_json(
    twin_json: &str,
    options: JsValue,
    scenarios: Vec<String>,
    baseline_batches: js_sys::Array,
    scenario_batches: js_sys::Array,
) -> Result<String, JsError> {
    let mut run = SimulationRun::new(twin_json, options, baseline_batches)?;
    if scenario_batches.length() as usize != scenarios.len() {
        return Err(JsError::new(&format!(
            "{} scenarios but batches for {}",
            scenarios.len(),
            scenario_batches.length()
        )));
    }
    crate::check_simulate_options(&run.options, scenarios.len()).map_err(|e| JsError::new(&e))?;
    let mut slots = Vec::with_capacity(scenarios.len());
    for (index, (scenario, batches)) in scenarios.iter().zip(scenario_batches.iter()).enumerate() {
        let batches: js_sys::Array =
            batches.dyn_into().map_err(|_| JsError::new("each scenario's batches should be an array"))?;
        run.set_scenario(index as u32, scenario, batches)?;
        slots.push(index as u32);
    }
    run.report_json(slots)
}

/// Completes a report ([`scenario_report_json`], or a slot's input from
/// [`SimulationRun::set_scenario`]) with the break-even and sensitivity of each of its scenarios: the
/// slow part, as `subtwin simulate` does it after the rest. The options are the report's own.
#[wasm_bindgen]
pub fn complete_search_json(report_json: &str, twin_json: &str) -> Result<String, JsError> {
    search_part_json(report_json, twin_json, "")
}

/// One part of [`complete_search_json`]: `"break_even"` or `"sensitivity"` (or `""` for both), which
/// do not depend on each other, so that two workers can search at once;
/// [`SimulationRun::set_searched`] joins them.
#[wasm_bindgen]
pub fn search_part_json(report_json: &str, twin_json: &str, part: &str) -> Result<String, JsError> {
    let part = search_part(part)?;
    let mut report: report::simulate::SimulationReport =
        serde_json::from_str(report_json).map_err(|e| JsError::new(&format!("the report cannot be read: {e}")))?;
    let twin = twin_of(twin_json)?;
    let seed = report
        .seed
        .parse::<u64>()
        .map_err(|_| JsError::new(&format!("the report's seed `{}` is not a whole number", report.seed)))?;
    let options = crate::sim::SimOptions { paths: report.paths, horizon_months: report.horizon_months, seed };
    let mut compiled = Vec::with_capacity(report.scenarios.len());
    for scenario in &report.scenarios {
        let plan = crate::scenario::compile(&scenario.scenario, &twin.twin, options.horizon_months)
            .map_err(|error| JsError::new(&format!("scenario {:?}: {error}", scenario.name)))?;
        compiled.push(plan);
    }
    let plans: Vec<&crate::sim::plan::Plan> = compiled.iter().map(|c| &c.plan).collect();
    report::simulate::search(&mut report, &twin.twin, &options, &plans, part)
        .map_err(|e| JsError::new(&format!("{e}.")))?;
    Ok(report::simulate::to_json(&report))
}

fn search_part(name: &str) -> Result<report::simulate::SearchPart, JsError> {
    report::simulate::SearchPart::from_name(name).ok_or_else(|| {
        JsError::new(&format!("no part of the search is called {name:?}: give break_even or sensitivity"))
    })
}

// --- Share links --------------------------------------------------------------------------------------

/// Reads scenarios' JSON (the cards' checked scenarios, [`check_scenario`]'s output), each labelled
/// by its place.
fn scenarios_of(scenarios: &[String]) -> Result<Vec<(String, crate::scenario::Scenario)>, JsError> {
    scenarios
        .iter()
        .enumerate()
        .map(|(index, json)| {
            let label = format!("scenario {}", index + 1);
            crate::scenario::from_json(&label, json.as_bytes()).map(|s| (label, s)).map_err(|e| JsError::new(&e))
        })
        .collect()
}

/// What a share starts from: `{twin, scenarios}`, the shared twin's JSON ([`crate::share::shared_twin`]:
/// the five-subscriber rule, neutral names unless `keep_names`) and the scenarios rewritten for it
/// (JSON, as the command reads them). The error says which scenario names a segment left out.
#[wasm_bindgen]
pub fn share_prepare(twin_json: &str, scenarios: Vec<String>, keep_names: bool) -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    struct Prepared {
        twin: String,
        scenarios: Vec<String>,
    }
    let twin = twin_of(twin_json)?;
    let shared = crate::share::shared_twin(&twin, keep_names);
    shared.twin.twin.check().map_err(|e| JsError::new(&format!("the shared twin is not valid: {e}")))?;
    if shared.twin.twin.segments.is_empty() {
        return Err(JsError::new(&format!(
            "No segment has {} subscribers or more, so there is nothing to share without singling out a customer.",
            crate::share::MIN_GROUP
        )));
    }
    let mut rewritten = Vec::with_capacity(scenarios.len());
    for (_, scenario) in scenarios_of(&scenarios)? {
        let scenario = crate::share::shared_scenario(&scenario, &shared).map_err(|e| JsError::new(&e))?;
        rewritten.push(crate::scenario::to_json(&scenario));
    }
    serde_wasm_bindgen::to_value(&Prepared { twin: shared.twin.to_json(), scenarios: rewritten })
        .map_err(|e| JsError::new(&e.to_string()))
}

/// The whole simulation of a twin (its JSON) under the scenarios (JSON each) with the run bar's
/// options, in one call: byte for byte `subtwin simulate --json` (without its newline). The page
/// runs it in a worker for the shared twin's results.
#[wasm_bindgen]
pub fn simulate_json(twin_json: &str, scenarios: Vec<String>, options: JsValue) -> Result<String, JsError> {
    let options = run_options(options)?;
    let twin = twin_of(twin_json)?;
    let scenarios = scenarios_of(&scenarios)?;
    let report = crate::simulate_twin(&twin, &options, &scenarios).map_err(|e| JsError::new(&e))?;
    Ok(report::simulate::to_json(&report))
}

/// The link for a shared twin ([`share_prepare`]'s, made with `keep_names`), its scenarios and
/// options, and the report they gave ([`simulate_json`]'s), whose digest it carries: `{link, summary}`,
/// `link` the page's address `base` then `#`, `s2.` and the payload, and `summary` what it holds in a
/// sentence ([`crate::share::link_summary`], as `subtwin link` says it).
#[wasm_bindgen]
pub fn share_link(
    shared_twin_json: &str,
    scenarios: Vec<String>,
    options: JsValue,
    report_json: &str,
    base: &str,
    keep_names: bool,
) -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    struct Made {
        link: String,
        summary: String,
    }
    let options = run_options(options)?;
    let twin = twin_of(shared_twin_json)?;
    crate::share::check_five(&twin.twin).map_err(|e| JsError::new(&format!("not a shared twin: {e}")))?;
    let scenarios = scenarios_of(&scenarios)?.into_iter().map(|(_, s)| s).collect();
    let link = crate::share::Link {
        twin,
        scenarios,
        options,
        engine_version: crate::sim::ENGINE_VERSION,
        digest: crate::share::report_digest(report_json),
    };
    let whole = format!("{base}#{}", crate::share::encode(&link).map_err(|e| JsError::new(&e))?);
    let counts = (link.twin.twin.segments.len(), link.scenarios.len());
    let summary = crate::share::link_summary(counts, keep_names, "the box beside Share keeps them", &whole);
    serde_wasm_bindgen::to_value(&Made { link: whole, summary }).map_err(|e| JsError::new(&e.to_string()))
}

/// The full data's results beside the shared twin's: a table of display strings (the median MRR and
/// paid subscribers at the horizon of the baseline and each scenario, both and how far apart).
#[wasm_bindgen]
pub fn share_gaps(full_report_json: &str, shared_report_json: &str) -> Result<JsValue, JsError> {
    let read = |json: &str| -> Result<report::simulate::SimulationReport, JsError> {
        serde_json::from_str(json).map_err(|e| JsError::new(&format!("the simulation report cannot be read: {e}")))
    };
    let table = crate::share::gaps_table(&read(full_report_json)?, &read(shared_report_json)?);
    serde_wasm_bindgen::to_value(&table).map_err(|e| JsError::new(&e.to_string()))
}

/// Opens a link (the page's `location.hash`): `{twin, scenarios, options: {horizonMonths, paths,
/// seed}, notes}`, the twin's JSON and each scenario's, checked; the error is the message a person
/// reads ([`crate::share::decode`]).
#[wasm_bindgen]
pub fn open_link(fragment: &str) -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Options {
        horizon_months: u32,
        paths: u32,
        seed: String,
    }
    #[derive(serde::Serialize)]
    struct Opened {
        twin: String,
        scenarios: Vec<String>,
        options: Options,
        notes: Vec<String>,
    }
    let link = crate::share::decode(fragment).map_err(|e| JsError::new(&e))?;
    let opened = Opened {
        twin: link.twin.to_json(),
        scenarios: link.scenarios.iter().map(crate::scenario::to_json).collect(),
        options: Options {
            horizon_months: link.options.horizon_months,
            paths: link.options.paths,
            seed: link.options.seed.to_string(),
        },
        notes: link.twin.notes.clone(),
    };
    serde_wasm_bindgen::to_value(&opened).map_err(|e| JsError::new(&e.to_string()))
}

/// Whether the report the page computed for a link (`SimulationRun::report_json`) is the one its
/// sender saw: `{same, recomputed, message}` ([`crate::share::verdict`]).
#[wasm_bindgen]
pub fn link_verdict(fragment: &str, report_json: &str) -> Result<JsValue, JsError> {
    let link = crate::share::decode(fragment).map_err(|e| JsError::new(&e))?;
    serde_wasm_bindgen::to_value(&crate::share::verdict(&link, report_json)).map_err(|e| JsError::new(&e.to_string()))
}

/// `420 of 1,000 paths`: a run's progress in words.
#[wasm_bindgen]
pub fn progress_text(done: u32, total: u32) -> String {
    format!(
        "{} of {} paths",
        crate::money::group_thousands(u128::from(done)),
        crate::money::group_thousands(u128::from(total))
    )
}

/// A simulation report held on the page's side, for its text and its charts.
#[wasm_bindgen]
pub struct SimulationHandle {
    report: report::simulate::SimulationReport,
    searched: Vec<report::simulate_page::Search>,
}

#[wasm_bindgen]
impl SimulationHandle {
    /// Reads a report's JSON ([`SimulationRun::report_json`]); `searched[i]` is 1 when scenario `i`'s
    /// break-even and sensitivity are in, 2 when Cancel stopped their search, 0 while it runs.
    #[wasm_bindgen(constructor)]
    pub fn new(report_json: &str, searched: Vec<u8>) -> Result<SimulationHandle, JsError> {
        let report: report::simulate::SimulationReport = serde_json::from_str(report_json)
            .map_err(|e| JsError::new(&format!("the simulation report cannot be read: {e}")))?;
        Ok(SimulationHandle {
            report,
            searched: searched.iter().map(|s| report::simulate_page::Search::from_code(*s)).collect(),
        })
    }

    /// Every text the page's results show ([`report::simulate_page::SimulationPageView`]).
    pub fn view(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&report::simulate_page::simulation_page_view(&self.report, &self.searched))
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Draws the fan chart of `metric` (`mrr` or `paid`): the baseline and every scenario, each
    /// month's median and 10-90% band.
    pub fn draw_fan(&self, canvas: HtmlCanvasElement, metric: &str) -> Result<(), JsError> {
        let metric = crate::chart::FanMetric::parse(metric)
            .ok_or_else(|| JsError::new(&format!("unknown fan chart `{metric}`")))?;
        let backend = measuring_canvas(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        crate::chart::draw_fan(&backend.into_drawing_area(), &self.report, metric).map_err(|e| JsError::new(&e))
    }

    /// Draws the histogram of each scenario's per-path difference from the baseline at the horizon:
    /// `mrr` (MRR in the last month) or `revenue` (revenue billed over the horizon).
    pub fn draw_histogram(&self, canvas: HtmlCanvasElement, metric: &str) -> Result<(), JsError> {
        let metric = crate::chart::DifferenceMetric::parse(metric)
            .ok_or_else(|| JsError::new(&format!("unknown histogram `{metric}`")))?;
        let backend = measuring_canvas(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        crate::chart::draw_difference_histogram(&backend.into_drawing_area(), &self.report, metric)
            .map_err(|e| JsError::new(&e))
    }

    /// Draws the tornado of scenario `index`'s sensitivity; an error when it has none.
    pub fn draw_tornado(&self, canvas: HtmlCanvasElement, index: usize) -> Result<(), JsError> {
        let scenario = self.report.scenarios.get(index).ok_or_else(|| {
            JsError::new(&format!("no scenario {index}: the report has {}", self.report.scenarios.len()))
        })?;
        let backend = measuring_canvas(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        crate::chart::draw_tornado(&backend.into_drawing_area(), scenario, &self.report.currency)
            .map_err(|e| JsError::new(&e))
    }

    /// The results as CSV ([`crate::export::results_csv`]): the bytes `subtwin simulate --csv` writes.
    pub fn results_csv(&self) -> String {
        crate::export::results_csv(&self.report)
    }

    /// One chart as an SVG document of `width` x `height` pixels, drawn as on the canvas
    /// ([`crate::export::simulation_chart_svg`]): `chart` is `fan-mrr`, `fan-paid`, `histogram-mrr`,
    /// `histogram-revenue` or `tornado` (of the scenario at `scenario`).
    pub fn chart_svg(&self, chart: &str, scenario: usize, width: u32, height: u32) -> Result<String, JsError> {
        let which = crate::export::SimulationChart::parse(chart, scenario)
            .ok_or_else(|| JsError::new(&format!("unknown chart `{chart}`")))?;
        crate::export::simulation_chart_svg(&self.report, which, (width, height)).map_err(|e| JsError::new(&e))
    }
}

/// Text measured with the canvas's own `measureText`.
struct CanvasText(CanvasRenderingContext2d);

impl crate::chart::TextMeasure for CanvasText {
    fn measure(&self, text: &str, size: f64, style: FontStyle, family: FontFamily<'_>) -> (u32, u32) {
        self.0.set_font(&format!("{} {size}px {}", style.as_str(), family.as_str()));
        let width = self.0.measure_text(text).map(|m| m.width()).unwrap_or(0.0);
        // The line box of a single line of text, as the DOM would lay it out.
        (width.ceil() as u32, (size * 1.2).ceil() as u32)
    }
}

/// plotters-canvas, with text measured by the canvas ([`CanvasText`]).
type MeasuringCanvas = crate::chart::MeasuredText<CanvasBackend, CanvasText>;

/// The canvas's backend; `None` when it has no 2D context.
fn measuring_canvas(canvas: HtmlCanvasElement) -> Option<MeasuringCanvas> {
    let context = canvas.get_context("2d").ok()??.dyn_into::<CanvasRenderingContext2d>().ok()?;
    let inner = CanvasBackend::with_canvas_object(canvas)?;
    Some(crate::chart::MeasuredText::new(inner, CanvasText(context), 1.0))
}
