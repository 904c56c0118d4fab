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

// --- Scenarios -------------------------------------------------------------------------------------

/// `subtwin simulate www/demo-stripe.csv --scenario ...prices.json --scenario ...new-plan.json
/// --horizon 12 --runs 200 --seed 20251231 --json`, kept equal to the command's output by the native
/// test `golden::demo_simulation_json_matches_the_native_command`.
const NATIVE_SIMULATE_JSON: &str = include_str!("fixtures/demo-stripe.simulate.json");
const SCENARIO_PRICES: &str = include_str!("fixtures/demo-stripe.scenario-prices.json");
const SCENARIO_NEW_PLAN: &str = include_str!("fixtures/demo-stripe.scenario-new-plan.json");

fn run_options(horizon: u32, paths: u32, seed: &str) -> JsValue {
    let object = js_sys::Object::new();
    js_sys::Reflect::set(&object, &"horizonMonths".into(), &JsValue::from(horizon)).expect("settable");
    js_sys::Reflect::set(&object, &"paths".into(), &JsValue::from(paths)).expect("settable");
    js_sys::Reflect::set(&object, &"seed".into(), &seed.into()).expect("settable");
    object.into()
}

fn message_of(error: wasm_bindgen::JsError) -> String {
    let error = JsValue::from(error);
    js_sys::Reflect::get(&error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default()
}

/// The demo's twin, as the page's fit worker posts it.
fn demo_twin() -> String {
    let value = subtwin::web::fit_and_twin_json("demo-stripe.csv", DEMO, JsValue::UNDEFINED, &ignore_progress())
        .map_err(JsValue::from)
        .expect("the demo fits");
    let fit = js_sys::Reflect::get(&value, &"fit".into()).ok().and_then(|f| f.as_string()).expect("the fit");
    assert_eq!(format!("{fit}\n"), NATIVE_FIT_JSON, "the fit is fit_json's");
    js_sys::Reflect::get(&value, &"twin".into()).ok().and_then(|t| t.as_string()).expect("the demo has a twin")
}

/// Simulates `ranges` of the run (as workers would) and returns their batches in path order.
fn batches(twin: &str, scenario: &str, options: &JsValue, ranges: &[(u32, u32)]) -> js_sys::Array {
    let array = js_sys::Array::new();
    for &(start, end) in ranges {
        let bytes = subtwin::web::simulate_batch(twin, scenario, options.clone(), start, end)
            .map_err(JsValue::from)
            .expect("simulated");
        array.push(&js_sys::Uint8Array::from(bytes.as_slice()));
    }
    array
}

#[wasm_bindgen_test]
fn batches_split_across_workers_give_the_same_report_as_one_batch() {
    let twin = demo_twin();
    let options = run_options(12, 200, "20251231");
    let scenarios = vec![SCENARIO_PRICES.to_owned()];
    let report = |ranges: &[(u32, u32)]| {
        let scenario_batches = js_sys::Array::of1(&batches(&twin, SCENARIO_PRICES, &options, ranges));
        subtwin::web::scenario_report_json(
            &twin,
            options.clone(),
            scenarios.clone(),
            batches(&twin, "", &options, ranges),
            scenario_batches,
        )
        .map_err(JsValue::from)
        .expect("a report")
    };
    let whole = report(&[(0, 200)]);
    assert_eq!(report(&[(0, 70), (70, 133), (133, 200)]), whole, "three workers");
    assert_eq!(report(&[(0, 1), (1, 200)]), whole, "a batch of one path");
    // Out of order, or with a gap, is refused rather than reported.
    let refused = |baseline: js_sys::Array| {
        let scenario_batches = js_sys::Array::of1(&batches(&twin, SCENARIO_PRICES, &options, &[(0, 200)]));
        subtwin::web::scenario_report_json(&twin, options.clone(), scenarios.clone(), baseline, scenario_batches)
            .map(|_| ())
            .map_err(message_of)
    };
    let out_of_order = refused(batches(&twin, "", &options, &[(100, 200), (0, 100)])).expect_err("out of order");
    assert!(out_of_order.contains("append batches in path order"), "{out_of_order}");
    let gap = refused(batches(&twin, "", &options, &[(0, 100)])).expect_err("half the paths");
    assert!(gap.contains("paths 0..100"), "{gap}");
}

#[wasm_bindgen_test]
fn wasm_simulation_json_is_byte_identical_to_the_native_command() {
    let twin = demo_twin();
    let options = run_options(12, 200, "20251231");
    let ranges = [(0, 120), (120, 200)];
    // As the page does it: a run keeps the baseline, each slot gets its scenario's batches, each
    // slot's search runs on its own, and the report lists the slots in the cards' order.
    let mut run = subtwin::web::SimulationRun::new(&twin, options.clone(), batches(&twin, "", &options, &ranges))
        .map_err(JsValue::from)
        .expect("a run");
    for (slot, scenario) in [(7, SCENARIO_NEW_PLAN), (3, SCENARIO_PRICES)] {
        let checked = subtwin::web::check_scenario("card", scenario.as_bytes(), &twin, 12)
            .map_err(JsValue::from)
            .expect("a valid scenario");
        assert_eq!(format!("{checked}\n"), scenario, "check_scenario gives the file back as written");
        let input = run
            .set_scenario(slot, &checked, batches(&twin, &checked, &options, &ranges))
            .map_err(JsValue::from)
            .expect("set");
        // The two halves of the search, as two workers send them, in either order.
        let parts = if slot == 7 { ["break_even", "sensitivity"] } else { ["sensitivity", "break_even"] };
        for (done, part) in parts.iter().enumerate() {
            assert_eq!(run.searched(vec![slot]), vec![0], "slot {slot}: searched before its {part}");
            let searched =
                subtwin::web::search_part_json(&input, &twin, part).map_err(JsValue::from).expect("searched");
            assert!(run.set_searched(slot, &searched, part).map_err(JsValue::from).expect("accepted"), "{done}");
        }
    }
    assert_eq!(run.searched(vec![3, 7]), vec![1, 1]);
    let json = run.report_json(vec![3, 7]).map_err(JsValue::from).expect("the report");
    assert_eq!(format!("{json}\n"), NATIVE_SIMULATE_JSON);
    // And in one call: the report, then the search over both scenarios.
    let scenario_batches = js_sys::Array::of2(
        &batches(&twin, SCENARIO_PRICES, &options, &ranges),
        &batches(&twin, SCENARIO_NEW_PLAN, &options, &ranges),
    );
    let report = subtwin::web::scenario_report_json(
        &twin,
        options.clone(),
        vec![SCENARIO_PRICES.to_owned(), SCENARIO_NEW_PLAN.to_owned()],
        batches(&twin, "", &options, &[(0, 200)]),
        scenario_batches,
    )
    .map_err(JsValue::from)
    .expect("a report");
    let completed = subtwin::web::complete_search_json(&report, &twin).map_err(JsValue::from).expect("searched");
    assert_eq!(format!("{completed}\n"), NATIVE_SIMULATE_JSON);
    // A slot whose scenario changed since its search started keeps the newer one.
    let other = SCENARIO_PRICES.replace("\"percent\": 20.0", "\"percent\": 25.0");
    let stale =
        run.set_scenario(3, &other, batches(&twin, &other, &options, &ranges)).map_err(JsValue::from).expect("set");
    assert!(!stale.is_empty());
    let old = subtwin::web::complete_search_json(
        &run.set_scenario(9, SCENARIO_PRICES, batches(&twin, SCENARIO_PRICES, &options, &ranges))
            .map_err(JsValue::from)
            .expect("set"),
        &twin,
    )
    .map_err(JsValue::from)
    .expect("searched");
    assert!(!run.set_searched(3, &old, "").map_err(JsValue::from).expect("read"), "a stale search is left out");
    let unknown = run.set_searched(9, &old, "tornado").map_err(message_of).expect_err("no such part");
    assert!(unknown.contains("tornado"), "{unknown}");
    assert_eq!(run.searched(vec![3, 7, 9]), vec![0, 1, 0]);
}

#[wasm_bindgen_test]
fn bad_scenarios_and_options_are_errors_that_name_the_field() {
    let twin = demo_twin();
    let bad = SCENARIO_PRICES.replace("\"percent\": 20.0", "\"percent\": 5000.0");
    let message = subtwin::web::check_scenario("bad.json", bad.as_bytes(), &twin, 12).map(|_| ()).map_err(message_of);
    assert_eq!(
        message,
        Err("bad.json: changes[0].percent: 5000 is not allowed: a number from -90 to 1000.".to_owned())
    );
    let typo = SCENARIO_PRICES.replace("\"percent\"", "\"percnt\"");
    let message = subtwin::web::check_scenario("typo.json", typo.as_bytes(), &twin, 12).map(|_| ()).map_err(message_of);
    assert!(message.as_ref().is_err_and(|m| m.starts_with("typo.json: line ") && m.contains("percnt")), "{message:?}");
    let late = SCENARIO_PRICES.replace("2026-02", "2031-02");
    let message = subtwin::web::check_scenario("late.json", late.as_bytes(), &twin, 12).map(|_| ()).map_err(message_of);
    assert!(message.as_ref().is_err_and(|m| m.contains("changes[0].month")), "{message:?}");
    for (options, wanted) in [
        (run_options(0, 200, "1"), "the horizon in months"),
        (run_options(12, subtwin::MAX_SIMULATION_PATHS + 1, "1"), "the number of paths"),
        (run_options(12, 200, "-1"), "the seed `-1`"),
        (run_options(12, 200, "18446744073709551616"), "is not a whole number"),
    ] {
        let message = subtwin::web::check_run_options(options).map_err(message_of).expect_err("refused");
        assert!(message.contains(wanted), "{message}");
    }
    assert!(subtwin::web::check_run_options(run_options(
        subtwin::MAX_SIMULATION_HORIZON_MONTHS,
        subtwin::MAX_SIMULATION_PATHS,
        "18446744073709551615"
    ))
    .is_ok());
    let message =
        subtwin::web::simulate_batch(&twin, "", run_options(12, 200, "1"), 150, 250).map(|_| ()).map_err(message_of);
    assert!(message.is_err_and(|m| m.contains("150..250")), "a range beyond the paths");
    assert!(subtwin::web::scenario_editor("{}", 12).is_err(), "not a twin");
}

#[wasm_bindgen_test]
fn the_simulation_handle_shows_the_report_and_draws_its_charts() {
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
    let canvas: web_sys::HtmlCanvasElement =
        document.create_element("canvas").expect("canvas").dyn_into().expect("a canvas element");
    canvas.set_width(600);
    canvas.set_height(300);
    document.body().expect("body").append_child(&canvas).expect("attached");
    let handle = subtwin::web::SimulationHandle::new(NATIVE_SIMULATE_JSON.trim_end(), vec![1, 0])
        .map_err(JsValue::from)
        .expect("the report reads");
    let view = handle.view().map_err(JsValue::from).expect("a view");
    let scenarios: js_sys::Array =
        js_sys::Reflect::get(&view, &"scenarios".into()).expect("scenarios").dyn_into().expect("an array");
    assert_eq!(scenarios.length(), 2);
    let break_even = |i: u32| {
        js_sys::Reflect::get(&scenarios.get(i), &"break_even".into())
            .ok()
            .and_then(|b| b.as_string())
            .unwrap_or_default()
    };
    let golden: serde_json::Value = serde_json::from_str(NATIVE_SIMULATE_JSON).expect("the golden report");
    let searched = golden["scenarios"][0]["break_even"]["churn_elasticity"].as_f64().expect("a break-even");
    assert!(break_even(0).contains(&format!("{searched:.2}")), "{} against {searched}", break_even(0));
    assert_eq!(break_even(1), "Break-even: computing…", "the second scenario is not searched yet");
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").ok().flatten().expect("2d").dyn_into().expect("a 2d context");
    let coloured = || {
        let pixels = context.get_image_data(0.0, 0.0, 600.0, 300.0).expect("pixels").data();
        pixels.chunks(4).filter(|p| !(p[0] == p[1] && p[1] == p[2])).count()
    };
    for metric in ["mrr", "paid"] {
        context.clear_rect(0.0, 0.0, 600.0, 300.0);
        handle.draw_fan(canvas.clone(), metric).map_err(JsValue::from).expect("drawn");
        assert!(coloured() > 3_000, "fan {metric}: {} coloured pixels", coloured());
    }
    for metric in ["mrr", "revenue"] {
        context.clear_rect(0.0, 0.0, 600.0, 300.0);
        handle.draw_histogram(canvas.clone(), metric).map_err(JsValue::from).expect("drawn");
        assert!(coloured() > 3_000, "histogram {metric}: {} coloured pixels", coloured());
    }
    context.clear_rect(0.0, 0.0, 600.0, 300.0);
    handle.draw_tornado(canvas.clone(), 0).map_err(JsValue::from).expect("drawn");
    assert!(coloured() > 3_000, "tornado: {} coloured pixels", coloured());
    assert!(handle.draw_fan(canvas.clone(), "arpu").is_err(), "an unknown chart is an error");
    assert!(handle.draw_tornado(canvas, 2).is_err(), "no such scenario");
}

/// `subtwin simulate ... --csv` for the same run as [`NATIVE_SIMULATE_JSON`], kept equal to the
/// command's output by the native test `export::the_commands_csv_is_the_csv_of_its_json_report`.
const NATIVE_SIMULATE_CSV: &str = include_str!("fixtures/demo-stripe.simulate.csv");

#[wasm_bindgen_test]
fn the_simulation_handle_writes_the_commands_csv_and_draws_the_cores_svg() {
    let handle = subtwin::web::SimulationHandle::new(NATIVE_SIMULATE_JSON.trim_end(), vec![1, 1])
        .map_err(JsValue::from)
        .expect("the report reads");
    assert!(handle.results_csv() == NATIVE_SIMULATE_CSV, "the page's CSV is the command's, byte for byte");
    for (chart, scenario, title) in [
        ("fan-mrr", 0, "MRR: the baseline and each scenario"),
        ("fan-paid", 0, "Paid subscribers: the baseline and each scenario"),
        ("histogram-mrr", 0, "MRR at 2026-12: each scenario minus the baseline, path by path"),
        ("histogram-revenue", 0, "Revenue billed over the horizon: each scenario minus the baseline"),
        ("tornado", 0, "Raise monthly prices 20%: mean revenue difference with each input at its ends"),
    ] {
        let svg = handle.chart_svg(chart, scenario, 900, 360).map_err(JsValue::from).expect("drawn");
        assert!(svg.starts_with("<svg width=\"900\" height=\"360\""), "{chart}: {}", &svg[..80.min(svg.len())]);
        assert!(svg.contains(title), "{chart}: the title");
        assert!(svg.trim_end().ends_with("</svg>"), "{chart}: a whole document");
        let native = subtwin::export::simulation_chart_svg(
            &serde_json::from_str(NATIVE_SIMULATE_JSON).expect("a report"),
            subtwin::export::SimulationChart::parse(chart, scenario).expect("a chart"),
            (900, 360),
        )
        .expect("drawn");
        assert!(svg == native, "{chart}: the handle draws what the core draws");
    }
    assert!(handle.chart_svg("fan-arpu", 0, 900, 360).is_err(), "an unknown chart");
    assert!(handle.chart_svg("tornado", 5, 900, 360).is_err(), "no such scenario");
    assert!(handle.chart_svg("fan-mrr", 0, 0, 360).is_err(), "no size");
}
