//! Files the project ships or compares against stay equal to what the code produces now.
//! `UPDATE_GOLDEN=1 cargo test` rewrites them after a deliberate change.

use crate::support::demo_calibrated_twin;
use std::path::Path;
use std::process::Command;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn check_or_update(path: &str, produced: &[u8]) {
    let path = repo(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, produced).expect("golden file written");
        return;
    }
    let shipped = std::fs::read(&path).expect("golden file present");
    assert!(
        shipped == produced,
        "{} differs from what the code produces now ({} vs {} bytes); if the change is deliberate, run UPDATE_GOLDEN=1 cargo test",
        path.display(),
        shipped.len(),
        produced.len()
    );
}

#[test]
fn shipped_demo_export_is_what_the_demo_command_writes() {
    let output = Command::new(env!("CARGO_BIN_EXE_subtwin")).arg("demo").output().expect("subtwin runs");
    assert!(output.status.success());
    check_or_update("www/demo-stripe.csv", &output.stdout);
    assert!(output.stdout.len() < 2_000_000, "the demo stays under 2 MB: {} bytes", output.stdout.len());
}

/// The WebAssembly test `wasm_history_json_is_byte_identical_to_the_native_command` compares the
/// browser's output with this file, so native and wasm agree byte for byte through it.
#[test]
fn demo_history_json_matches_the_native_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_subtwin"))
        .args(["history", "--json"])
        .arg(repo("www/demo-stripe.csv"))
        .output()
        .expect("subtwin runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    check_or_update("tests/fixtures/demo-stripe.history.json", &output.stdout);
}

/// The WebAssembly test `wasm_fit_json_is_byte_identical_to_the_native_command` compares the
/// browser's fit with this file, so native and wasm agree byte for byte through it.
#[test]
fn demo_fit_json_matches_the_native_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_subtwin"))
        .args(["fit", "--json"])
        .arg(repo("www/demo-stripe.csv"))
        .output()
        .expect("subtwin runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    check_or_update("tests/fixtures/demo-stripe.fit.json", &output.stdout);
}

/// The page hands the calibrated twin from the fit's worker to the simulation's workers as JSON. Read
/// back, it must be the same twin to the last bit (serde_json reads floats exactly with its
/// `float_roundtrip` feature), or the page would simulate another twin than the command does.
#[test]
fn the_twin_as_json_reads_back_to_the_same_twin() {
    let twin = demo_calibrated_twin();
    let json = twin.to_json();
    let read = subtwin::CalibratedTwin::from_json(&json).expect("reads back");
    assert!(read == twin, "the twin read back from its JSON differs from the one written");
    assert_eq!(read.to_json(), json);
}

#[test]
fn history_chart_draws_every_segment_to_svg() {
    use plotters::prelude::*;
    let bytes = std::fs::read(repo("www/demo-stripe.csv")).expect("demo present");
    let report =
        subtwin::history_of_export("demo-stripe.csv", &bytes, &Default::default(), &mut |_| {}).expect("imports");
    for metric in [subtwin::chart::HistoryMetric::Mrr, subtwin::chart::HistoryMetric::Subscribers] {
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
            subtwin::chart::draw_history(&area, &report, metric).expect("drawn");
        }
        for segment in &report.segments {
            assert!(svg.contains(segment.as_str()), "{metric:?}: the legend names {segment}");
        }
        for (_, colour) in subtwin::chart::segment_order(&report) {
            let hex = format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2);
            assert!(svg.to_uppercase().contains(&hex), "{metric:?}: an area in {hex}");
        }
        assert!(svg.contains("2021-12") && svg.contains("month (the last one is partial)"), "axis labels");
    }
}

/// The text of every SVG `<text>` element, trimmed and unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|element| {
            let text = element.split_once('>')?.1.split("</text>").next()?;
            Some(text.trim().replace("&apos;", "'").replace("&amp;", "&"))
        })
        .collect()
}

/// The points of every SVG element `tag` (`polyline` or `polygon`) drawn in `colour` (`#RRGGBB`).
fn svg_shapes(svg: &str, tag: &str, colour: &str) -> Vec<Vec<(i32, i32)>> {
    svg.split(&format!("<{tag} "))
        .skip(1)
        .filter(|element| element.to_uppercase().contains(&format!("\"{colour}\"")))
        .filter_map(|element| {
            let points = element.split("points=\"").nth(1)?.split('"').next()?;
            Some(
                points
                    .split_whitespace()
                    .filter_map(|pair| {
                        let (x, y) = pair.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn retention_chart_draws_the_fitted_curve_and_the_observed_band_to_svg() {
    use plotters::prelude::*;
    use subtwin::chart::{BAND_COLOUR, FITTED_COLOUR, OBSERVED_COLOUR};
    let bytes = std::fs::read(repo("www/demo-stripe.csv")).expect("demo present");
    let report = subtwin::fit_exports(&[("demo-stripe.csv", &bytes)], &Default::default(), &mut |_| {}).expect("fits");
    let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    for segment in &report.segments {
        let name = &segment.name;
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
            subtwin::chart::draw_retention(&area, segment).expect("drawn");
        }
        let texts = svg_texts(&svg);
        let has = |text: &str| texts.iter().any(|t| t == text);
        let axis = if segment.interval == "month" { "months since starting" } else { "years since starting" };
        assert!(has(axis) && has("still subscribed"), "{name}: axis titles in {texts:?}");
        assert!(has("0%") && has("100%") && !has("120%"), "{name}: y runs from 0% to 100%: {texts:?}");
        assert!(has(&format!("Retention of {name}")), "{name}: caption");
        for label in
            ["the twin's fitted curve (dashed beyond the data)", "observed (Kaplan–Meier)", "95% band of the observed"]
        {
            assert!(has(label), "{name}: the legend names {label}: {texts:?}");
        }

        // The band: one see-through polygon, the upper steps out and the lower steps back.
        let bands = svg_shapes(&svg, "polygon", &hex(BAND_COLOUR));
        assert_eq!(bands.len(), 1, "{name}: one band");
        let steps = 1 + 2 * segment.kaplan_meier.len();
        assert_eq!(bands[0].len(), 2 * steps, "{name}: the band has both step lines");

        // Kaplan-Meier: one step line from (0, 100%) down to its last value. The legend's swatch is a
        // two-point line of the same colour.
        let observed: Vec<_> =
            svg_shapes(&svg, "polyline", &hex(OBSERVED_COLOUR)).into_iter().filter(|p| p.len() > 2).collect();
        assert_eq!(observed.len(), 1, "{name}: one Kaplan-Meier line");
        let km = &observed[0];
        assert_eq!(km.len(), steps, "{name}: a flat and a drop per observed renewal");
        // Each step is vertical then flat: the drop at t keeps x, the next point keeps y.
        for pair in km[1..].chunks(2) {
            assert_eq!(pair[0].0, pair[1].0, "{name}: a vertical drop at each renewal: {pair:?}");
        }
        assert!(km.windows(2).all(|w| w[1].1 >= w[0].1), "{name}: survival never rises (y grows downwards)");

        // The fitted curve: solid over the observed renewals, from the same (0, 100%) as
        // Kaplan-Meier, then dashed to the end of the curve.
        let fitted: Vec<_> =
            svg_shapes(&svg, "polyline", &hex(FITTED_COLOUR)).into_iter().filter(|p| p.len() > 2).collect();
        assert!(!fitted.is_empty(), "{name}: the fitted curve");
        let solid = &fitted[0];
        let oldest = segment.kaplan_meier.last().map(|r| r.t).unwrap_or(0) as usize;
        assert_eq!(solid.len(), oldest + 1, "{name}: the solid curve runs to the oldest observed renewal");
        assert_eq!(solid[0], km[0], "{name}: both curves start at 100% at renewal 0");
        assert_eq!(solid[oldest].0, km[km.len() - 1].0, "{name}: the solid curve ends where the observed one does");
        let dashes = svg.matches(&format!("stroke=\"{}\"", hex(FITTED_COLOUR))).count();
        assert!(dashes > 10, "{name}: the curve beyond the data is dashed ({dashes} strokes)");
        // At the first renewal (the most subscribers at risk) the fitted curve lies within the band, in
        // pixels: the band's upper step there is its point 2, the lower one its point 2 from the end.
        let (upper, lower) = (bands[0][2], bands[0][2 * steps - 3]);
        assert_eq!((upper.0, lower.0), (km[2].0, km[2].0), "{name}: the band's steps at the first renewal");
        assert!(
            upper.1 - 2 <= solid[1].1 && solid[1].1 <= lower.1 + 2,
            "{name}: S(1) at {:?} is outside the band {upper:?} to {lower:?}",
            solid[1]
        );
    }
}

// The backtest chart of the demo: what happened as one line over every compared month, and per
// cutoff a see-through band and a median line of that cutoff's colour (the demo's default cutoffs,
// 18, 12, 9 and 6 months before its last whole month).
#[test]
fn backtest_chart_draws_what_happened_and_each_cutoffs_band_and_median_to_svg() {
    use plotters::prelude::*;
    use subtwin::chart::{OBSERVED_COLOUR, PALETTE};
    let bytes = std::fs::read(repo("www/demo-stripe.csv")).expect("demo present");
    let report = subtwin::fit_exports(&[("demo-stripe.csv", &bytes)], &Default::default(), &mut |_| {}).expect("fits");
    let backtest = report.backtest.as_ref().expect("the demo has a backtest");
    let currency = subtwin::money::Currency::from_code("usd").expect("usd");
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (880, 360)).into_drawing_area();
        subtwin::chart::draw_backtest(&area, backtest, "total", &currency).expect("drawn");
    }
    let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "Backtest: MRR of all segments"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "2025-11") || texts.iter().any(|t| t.starts_with("2025-")), "{texts:?}");
    for (number, cutoff) in backtest.cutoffs.iter().enumerate() {
        let colour = hex(PALETTE[number]);
        let months = backtest.months.iter().filter(|m| &m.cutoff == cutoff && m.series == "total").count();
        let bands = svg_shapes(&svg, "polygon", &colour);
        assert!(bands.iter().any(|b| b.len() == 2 * months), "{cutoff}: a band over its {months} months");
        let medians: Vec<_> = svg_shapes(&svg, "polyline", &colour).into_iter().filter(|p| p.len() == months).collect();
        assert!(!medians.is_empty(), "{cutoff}: a median line over its {months} months");
    }
    // 18 months from the first cutoff to the last whole month, each drawn once.
    let actual: Vec<_> =
        svg_shapes(&svg, "polyline", &hex(OBSERVED_COLOUR)).into_iter().filter(|p| p.len() > 2).collect();
    assert_eq!(actual.len(), 1);
    assert_eq!(actual[0].len(), 18);
    assert!(subtwin::chart::draw_backtest(
        &SVGBackend::with_string(&mut String::new(), (10, 10)).into_drawing_area(),
        backtest,
        "Nonexistent",
        &currency
    )
    .is_err());
}

/// The arguments of the small simulation the page's pipeline is checked against: the demo with the
/// presets "Raise monthly prices 20%" and "New plan between Starter and Pro", 12 months, 200 paths.
pub(crate) const SIMULATE_ARGS: [&str; 12] = [
    "simulate",
    "www/demo-stripe.csv",
    "--scenario",
    "tests/fixtures/demo-stripe.scenario-prices.json",
    "--scenario",
    "tests/fixtures/demo-stripe.scenario-new-plan.json",
    "--horizon",
    "12",
    "--runs",
    "200",
    "--seed",
    "20251231",
];

/// The WebAssembly test `wasm_simulation_json_is_byte_identical_to_the_native_command` runs the
/// page's pipeline (batches, merge, report, search) on the same scenarios and compares it with this
/// file, so that the page and the command agree byte for byte through it.
#[test]
fn demo_simulation_json_matches_the_native_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_subtwin"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(SIMULATE_ARGS)
        .arg("--json")
        .output()
        .expect("subtwin runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    check_or_update("tests/fixtures/demo-stripe.simulate.json", &output.stdout);
}

/// The presets the fixtures hold are the page's own, for the demo over 12 months.
#[test]
fn the_scenario_fixtures_are_the_pages_presets() {
    let view = subtwin::report::simulate_page::editor_view(&demo_calibrated_twin(), 12);
    let preset = |label: &str| {
        let preset = view.presets.iter().find(|p| p.label == label).expect("the preset");
        format!("{}\n", preset.scenario)
    };
    check_or_update("tests/fixtures/demo-stripe.scenario-prices.json", preset("Raise monthly prices 20%").as_bytes());
    check_or_update(
        "tests/fixtures/demo-stripe.scenario-new-plan.json",
        preset("New plan between Starter and Pro").as_bytes(),
    );
}

fn demo_simulation() -> subtwin::report::simulate::SimulationReport {
    let text = std::fs::read_to_string(repo("tests/fixtures/demo-stripe.simulate.json")).expect("fixture present");
    serde_json::from_str(&text).expect("a simulation report")
}

#[test]
fn simulation_charts_draw_every_run_to_svg() {
    use plotters::prelude::*;
    use subtwin::chart::{scenario_colour, DifferenceMetric, FanMetric, BASELINE_COLOUR};
    let report = demo_simulation();
    let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    for metric in [FanMetric::Mrr, FanMetric::Paid] {
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
            subtwin::chart::draw_fan(&area, &report, metric).expect("drawn");
        }
        let texts = svg_texts(&svg);
        assert!(texts.iter().any(|t| t == "Baseline (median)"), "{metric:?}: legend {texts:?}");
        assert!(texts.iter().any(|t| t == "2026-01"), "{metric:?}: month labels {texts:?}");
        for (i, scenario) in report.scenarios.iter().enumerate() {
            assert!(
                texts.contains(&format!("{} (median)", scenario.name)),
                "{metric:?}: {} in the legend",
                scenario.name
            );
            let colour = hex(scenario_colour(i));
            let medians = svg_shapes(&svg, "polyline", &colour).into_iter().filter(|p| p.len() == 12).count();
            assert_eq!(medians, 1, "{metric:?}: one median line of 12 months in {colour}");
        }
        let baseline =
            svg_shapes(&svg, "polyline", &hex(BASELINE_COLOUR)).into_iter().filter(|p| p.len() == 12).count();
        assert_eq!(baseline, 1, "{metric:?}: the baseline's median");
        assert_eq!(svg.matches("<polygon").count(), 1 + report.scenarios.len(), "{metric:?}: a band per run");
    }
    for metric in [DifferenceMetric::Mrr, DifferenceMetric::Revenue] {
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (900, 320)).into_drawing_area();
            subtwin::chart::draw_difference_histogram(&area, &report, metric).expect("drawn");
        }
        let texts = svg_texts(&svg);
        for scenario in &report.scenarios {
            assert!(texts.contains(&scenario.name), "{metric:?}: {} in the legend {texts:?}", scenario.name);
        }
        assert!(texts.iter().any(|t| t == "share of paths"), "{metric:?}: the y axis");
        // 30 bins per scenario, plus the legend's swatches and the frame.
        assert!(svg.matches("<rect").count() >= 30 * report.scenarios.len(), "{metric:?}: the bins");
    }
    let mut without = report.clone();
    without.scenarios.clear();
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, (900, 320)).into_drawing_area();
    assert!(subtwin::chart::draw_difference_histogram(&area, &without, DifferenceMetric::Mrr).is_err());
}

#[test]
fn a_scenarios_tornado_names_each_input_with_its_range() {
    use plotters::prelude::*;
    let report = demo_simulation();
    let scenario = &report.scenarios[0];
    assert!(!scenario.sensitivity.is_empty(), "the price change has assumed inputs");
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (900, 260)).into_drawing_area();
        subtwin::chart::draw_tornado(&area, scenario, &report.currency).expect("drawn");
    }
    let texts = svg_texts(&svg);
    for bar in &scenario.sensitivity {
        let name = bar.input.replace('_', " ");
        assert!(texts.iter().any(|t| t.starts_with(&format!("{name} ("))), "{name} labelled: {texts:?}");
    }
    let mut empty = scenario.clone();
    empty.sensitivity.clear();
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, (900, 260)).into_drawing_area();
    assert!(subtwin::chart::draw_tornado(&area, &empty, &report.currency).is_err(), "nothing to draw");
}
