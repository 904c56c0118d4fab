//! The browser boundary: the only module that knows wasm-bindgen, js-sys or web-sys.
//!
//! It converts once at the edge: bytes and strings in, the report's JSON or plain display values
//! out, errors as `JsError` with the message a person reads. The worker calls [`history_json`]; the
//! page keeps a [`HistoryHandle`] made from that JSON to format text and draw charts on the main
//! thread (plotters needs `window` to lay out text, which a worker lacks).

use plotters::prelude::*;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::chart::{draw_history, HistoryMetric};
use crate::import::values::parse_as_of;
use crate::import::{ImportOptions, Progress};
use crate::report::{self, HistoryReport};
use crate::{history, history_of_export, HistoryRequest};

/// Imports an export and returns the history report as JSON: byte for byte what
/// `subtwin history FILE --json` prints (without its final newline). `on_progress(bytes_read,
/// bytes_total)` is called as rows are read.
#[wasm_bindgen]
pub fn history_json(
    file_name: &str,
    bytes: &[u8],
    as_of: Option<String>,
    currency: Option<String>,
    on_progress: &js_sys::Function,
) -> Result<String, JsError> {
    let as_of = match as_of.as_deref().filter(|t| !t.trim().is_empty()) {
        None => None,
        Some(text) => Some(parse_as_of(text).ok_or_else(|| {
            JsError::new(&format!("`{text}` is not a date; write YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC)."))
        })?),
    };
    let request = HistoryRequest {
        import: ImportOptions { currency: currency.filter(|c| !c.trim().is_empty()), ..ImportOptions::default() },
        history: history::HistoryOptions { as_of },
    };
    let mut progress = |p: Progress| {
        // A failing progress callback must not stop the import.
        let _ = on_progress.call2(
            &JsValue::NULL,
            &JsValue::from_f64(p.bytes_read as f64),
            &JsValue::from_f64(p.bytes_total as f64),
        );
    };
    let report =
        history_of_export(file_name, bytes, &request, &mut progress).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(report::to_json(&report))
}

/// The page's statement of its conventions.
#[wasm_bindgen]
pub fn conventions() -> String {
    report::CONVENTIONS.to_owned()
}

/// A history report held on the page's side, for text and charts.
#[wasm_bindgen]
pub struct HistoryHandle {
    report: HistoryReport,
}

#[wasm_bindgen]
impl HistoryHandle {
    /// Reads the JSON that [`history_json`] produced.
    #[wasm_bindgen(constructor)]
    pub fn new(report_json: &str) -> Result<HistoryHandle, JsError> {
        let report =
            serde_json::from_str(report_json).map_err(|e| JsError::new(&format!("unreadable history report: {e}")))?;
        Ok(HistoryHandle { report })
    }

    /// Every text the page shows: facts, tables and the problems as CSV.
    pub fn view(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&report::history_view(&self.report)).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The segments in chart order with their colours (`#rrggbb`), for a legend outside the chart.
    pub fn segment_colours(&self) -> Result<JsValue, JsError> {
        let colours: Vec<(String, String)> = crate::chart::segment_order(&self.report)
            .into_iter()
            .map(|(name, c)| (name, format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)))
            .collect();
        serde_wasm_bindgen::to_value(&colours).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Draws `metric` (`mrr` or `subscribers`) on the canvas.
    pub fn draw(&self, canvas: HtmlCanvasElement, metric: &str) -> Result<(), JsError> {
        let metric = HistoryMetric::parse(metric).ok_or_else(|| JsError::new(&format!("unknown chart `{metric}`")))?;
        let backend = MeasuringCanvas::new(canvas).ok_or_else(|| JsError::new("the canvas has no 2D context"))?;
        let area = backend.into_drawing_area();
        draw_history(&area, &self.report, metric).map_err(|e| JsError::new(&e))
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
