//! The WebAssembly build, in headless Chromium: the browser boundary gives the same bytes as the
//! native command and draws on a real canvas. Run by scripts/test.sh through wasm-bindgen-test-runner.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DEMO: &[u8] = include_bytes!("../www/demo-stripe.csv");
/// `subtwin history www/demo-stripe.csv --json`, as the native command prints it; the native test
/// `golden::demo_history_json_matches_the_native_command` keeps this file equal to that output.
const NATIVE_JSON: &str = include_str!("fixtures/demo-stripe.history.json");
/// `subtwin fit www/demo-stripe.csv --json`, kept equal to the command's output by the native test
/// `golden::demo_fit_json_matches_the_native_command`.
const NATIVE_FIT_JSON: &str = include_str!("fixtures/demo-stripe.fit.json");

fn ignore_progress() -> js_sys::Function {
    js_sys::Function::new_no_args("")
}

#[wasm_bindgen_test]
fn wasm_history_json_is_byte_identical_to_the_native_command() {
    let json = subtwin::web::analyse_json("demo-stripe.csv", DEMO, JsValue::UNDEFINED, &ignore_progress())
        .map_err(JsValue::from)
        .expect("the demo imports");
    assert_eq!(format!("{json}\n"), NATIVE_JSON);
}

#[wasm_bindgen_test]
fn progress_is_reported_up_to_the_whole_file() {
    let seen = js_sys::Array::new();
    let record = Closure::<dyn Fn(f64, f64)>::new({
        let seen = seen.clone();
        move |read: f64, total: f64| {
            seen.push(&JsValue::from_f64(read / total));
        }
    });
    let function: &js_sys::Function = record.as_ref().unchecked_ref();
    subtwin::web::analyse_json("demo-stripe.csv", DEMO, JsValue::UNDEFINED, function)
        .map_err(JsValue::from)
        .expect("the demo imports");
    assert!(seen.length() >= 2, "progress was reported {} times", seen.length());
    assert_eq!(seen.get(seen.length() - 1).as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
fn unusable_input_becomes_an_error_not_a_panic() {
    for (name, bytes) in [
        ("empty.csv", &b""[..]),
        ("other.csv", &b"name,email\nA,a@example.com\n"[..]),
        ("bin.csv", &[0u8, 159, 146, 150][..]),
    ] {
        let error = subtwin::web::analyse_json(name, bytes, JsValue::UNDEFINED, &ignore_progress())
            .err()
            .map(JsValue::from)
            .expect("refused");
        let message =
            js_sys::Reflect::get(&error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        assert!(message.starts_with(name), "the message names the file: {message}");
    }
    let options = |key: &str, value: &str| {
        let object = js_sys::Object::new();
        js_sys::Reflect::set(&object, &key.into(), &value.into()).expect("settable");
        JsValue::from(object)
    };
    let bad_date =
        subtwin::web::analyse_json("demo-stripe.csv", DEMO, options("asOf", "31/12/2025"), &ignore_progress());
    assert!(bad_date.is_err(), "an as-of that is not a date");
    let bad_mapping = subtwin::web::analyse_json("demo-stripe.csv", DEMO, options("mapping", "{}"), &ignore_progress());
    assert!(bad_mapping.is_err(), "a mapping without its required roles");
}

#[wasm_bindgen_test]
fn the_browser_passes_today_and_a_mapping_into_the_core() {
    // Today is 2025-03-10: a start on the 11th is set aside. The table is read through a mapping.
    let table = b"ID,Signup,Price\nA,2025-03-01,10.00\nB,2025-03-11,10.00\n";
    assert!(subtwin::web::needs_mapping(table));
    assert!(!subtwin::web::needs_mapping(DEMO));
    let entries = js_sys::Array::new();
    for (role, kind, value) in [
        ("id", "column", "ID"),
        ("start", "column", "Signup"),
        ("price", "column", "Price"),
        ("interval", "fixed", "month"),
        ("currency", "fixed", "usd"),
    ] {
        entries.push(&js_sys::Array::of3(&role.into(), &kind.into(), &value.into()));
    }
    let mapping = subtwin::web::mapping_json(entries.into()).map_err(JsValue::from).expect("a complete mapping");
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"mapping".into(), &mapping.into()).expect("settable");
    js_sys::Reflect::set(&options, &"todayMs".into(), &JsValue::from_f64(1_741_600_800_000.0)).expect("settable");
    let json = subtwin::web::analyse_json("signups.csv", table, options.into(), &ignore_progress())
        .map_err(JsValue::from)
        .expect("the mapped table reads");
    let report: subtwin::report::HistoryReport = serde_json::from_str(&json).expect("a history");
    assert_eq!(report.format, "mapped");
    let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3], "the start after today is set aside");
}

#[wasm_bindgen_test]
fn charts_draw_on_a_canvas() {
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
    let canvas: web_sys::HtmlCanvasElement =
        document.create_element("canvas").expect("canvas").dyn_into().expect("a canvas element");
    canvas.set_width(600);
    canvas.set_height(300);
    document.body().expect("body").append_child(&canvas).expect("attached");
    let handle =
        subtwin::web::AnalysisHandle::new(NATIVE_JSON.trim_end()).map_err(JsValue::from).expect("report parses");
    for metric in ["mrr", "subscribers"] {
        handle.draw(canvas.clone(), metric).map_err(JsValue::from).expect("drawn");
        let context: web_sys::CanvasRenderingContext2d =
            canvas.get_context("2d").ok().flatten().expect("2d").dyn_into().expect("a 2d context");
        let pixels = context.get_image_data(0.0, 0.0, 600.0, 300.0).expect("pixels").data();
        let coloured = pixels.chunks(4).filter(|p| !(p[0] == p[1] && p[1] == p[2])).count();
        assert!(coloured > 5_000, "{metric}: only {coloured} coloured pixels");
    }
    assert!(handle.draw(canvas, "revenue").is_err(), "an unknown chart is an error");
}

#[wasm_bindgen_test]
fn wasm_fit_json_is_byte_identical_to_the_native_command() {
    let json = subtwin::web::fit_json("demo-stripe.csv", DEMO, JsValue::UNDEFINED, &ignore_progress())
        .map_err(JsValue::from)
        .expect("the demo fits");
    assert_eq!(format!("{json}\n"), NATIVE_FIT_JSON);
}

#[wasm_bindgen_test]
fn a_file_that_cannot_be_fitted_is_an_error_not_a_panic() {
    for (name, bytes) in [("empty.csv", &b""[..]), ("other.csv", &b"name,email\nA,a@example.com\n"[..])] {
        let error = subtwin::web::fit_json(name, bytes, JsValue::UNDEFINED, &ignore_progress())
            .err()
            .map(JsValue::from)
            .expect("refused");
        let message =
            js_sys::Reflect::get(&error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        assert!(message.starts_with(name), "the message names the file: {message}");
    }
    assert!(subtwin::web::FitHandle::new(NATIVE_JSON.trim_end()).is_err(), "a history is not a fit");
}

#[wasm_bindgen_test]
fn the_fit_handle_shows_every_segment_and_draws_its_retention() {
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
    let canvas: web_sys::HtmlCanvasElement =
        document.create_element("canvas").expect("canvas").dyn_into().expect("a canvas element");
    canvas.set_width(600);
    canvas.set_height(300);
    document.body().expect("body").append_child(&canvas).expect("attached");
    let handle = subtwin::web::FitHandle::new(NATIVE_FIT_JSON.trim_end()).map_err(JsValue::from).expect("fit parses");
    let report = subtwin::report::fit::FitReport::from_json(NATIVE_FIT_JSON).expect("fit parses natively too");
    let view = handle.view().map_err(JsValue::from).expect("a view");
    let segments = js_sys::Reflect::get(&view, &"segments".into()).expect("segments");
    let segments: js_sys::Array = segments.dyn_into().expect("an array");
    assert_eq!(segments.length() as usize, report.segments.len());
    for (index, segment) in report.segments.iter().enumerate() {
        let shown = segments.get(index as u32);
        let summary = js_sys::Reflect::get(&shown, &"summary".into()).ok().and_then(|s| s.as_string());
        assert_eq!(summary.as_deref(), Some(segment.summary.as_str()));
        let context: web_sys::CanvasRenderingContext2d =
            canvas.get_context("2d").ok().flatten().expect("2d").dyn_into().expect("a 2d context");
        context.clear_rect(0.0, 0.0, 600.0, 300.0);
        handle.draw_retention(canvas.clone(), index).map_err(JsValue::from).expect("drawn");
        let pixels = context.get_image_data(0.0, 0.0, 600.0, 300.0).expect("pixels").data();
        let coloured = pixels.chunks(4).filter(|p| !(p[0] == p[1] && p[1] == p[2])).count();
        assert!(coloured > 1_000, "{}: only {coloured} coloured pixels", segment.name);
    }
    assert!(handle.draw_retention(canvas, report.segments.len()).is_err(), "no such segment");
}
