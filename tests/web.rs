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

fn ignore_progress() -> js_sys::Function {
    js_sys::Function::new_no_args("")
}

#[wasm_bindgen_test]
fn wasm_history_json_is_byte_identical_to_the_native_command() {
    let json = subtwin::web::history_json("demo-stripe.csv", DEMO, None, None, &ignore_progress())
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
    subtwin::web::history_json("demo-stripe.csv", DEMO, None, None, function)
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
        let error = subtwin::web::history_json(name, bytes, None, None, &ignore_progress())
            .err()
            .map(JsValue::from)
            .expect("refused");
        let message =
            js_sys::Reflect::get(&error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        assert!(message.starts_with(name), "the message names the file: {message}");
    }
    let bad_date =
        subtwin::web::history_json("demo-stripe.csv", DEMO, Some("31/12/2025".into()), None, &ignore_progress());
    assert!(bad_date.is_err());
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
        subtwin::web::HistoryHandle::new(NATIVE_JSON.trim_end()).map_err(JsValue::from).expect("report parses");
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
