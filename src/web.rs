//! The browser boundary: the only module that knows wasm-bindgen, js-sys or web-sys.
//!
//! It converts once at the edge: bytes and strings in, the report's JSON or plain display values
//! out, errors as `JsError` with the message a person reads. The worker calls [`analyse_file_json`]
//! for a file the person chose (read a slice at a time, never whole) and [`analyse_json`] for bytes
//! it holds (the demo); the page keeps an [`AnalysisHandle`] made from that JSON to format text and
//! draw charts on the main thread (plotters needs `window` to lay out text, which a worker lacks),
//! and asks [`needs_mapping`], [`preview_table`] and [`mapping_json`] for its mapping form. Once the
//! history is posted, the worker calibrates the twin on the same file(s) with [`fit_file_json`],
//! [`fit_files_json`] or [`fit_json`], and the page shows it through a [`FitHandle`].

use plotters::prelude::*;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
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
        let backend = MeasuringCanvas::new(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
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
        let backend = MeasuringCanvas::new(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        let area = backend.into_drawing_area();
        crate::chart::draw_backtest(&area, backtest, crate::backtest::TOTAL, &currency).map_err(|e| JsError::new(&e))
    }

    /// Draws the retention of the segment at `segment_index` (in the report's order) on the canvas.
    pub fn draw_retention(&self, canvas: HtmlCanvasElement, segment_index: usize) -> Result<(), JsError> {
        let segment = self.report.segments.get(segment_index).ok_or_else(|| {
            JsError::new(&format!("no segment {segment_index}: the fit has {}", self.report.segments.len()))
        })?;
        let backend = MeasuringCanvas::new(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        let area = backend.into_drawing_area();
        draw_retention(&area, segment).map_err(|e| JsError::new(&e))
    }
}

/// plotters-canvas, except that text is measured with the canvas's own `measureText`. plotters'
/// default measures text by adding a `<span>` with an inline `style` attribute to the page, which
/// the page's Content-Security-Policy (rightly) refuses.
struct MeasuringCanvas {
    inner: CanvasBackend,
    context: CanvasRenderingContext2d,
}

impl MeasuringCanvas {
    fn new(canvas: HtmlCanvasElement) -> Option<MeasuringCanvas> {
        let context = canvas.get_context("2d").ok()??.dyn_into::<CanvasRenderingContext2d>().ok()?;
        let inner = CanvasBackend::with_canvas_object(canvas)?;
        Some(MeasuringCanvas { inner, context })
    }
}

impl DrawingBackend for MeasuringCanvas {
    type ErrorType = <CanvasBackend as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vertices, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_text(text, style, pos)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.context.set_font(&format!("{} {}px {}", style.style().as_str(), style.size(), style.family().as_str()));
        let width = self.context.measure_text(text).map(|m| m.width()).unwrap_or(0.0);
        // The line box of a single line of text, as the DOM would lay it out.
        Ok((width.ceil() as u32, (style.size() * 1.2).ceil() as u32))
    }
}
