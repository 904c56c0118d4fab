//! Taking results away: the simulation's CSV (the command's `--csv` against the CSV of its JSON
//! report, and the tidy layout the README documents) and its charts as SVG (well-formed, with the
//! chart's title, legend and series, text sized as on the page's canvas).

use std::path::Path;
use std::process::Command;

use subtwin::chart::{DifferenceMetric, FanMetric};
use subtwin::export::{results_csv, simulation_chart_svg, SimulationChart, ALL_SEGMENTS};
use subtwin::report::simulate::SimulationReport;

use crate::support::scratch_path;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn demo_simulation() -> SimulationReport {
    let text = std::fs::read_to_string(repo("tests/fixtures/demo-stripe.simulate.json")).expect("fixture present");
    serde_json::from_str(&text).expect("a simulation report")
}

fn rows_of(csv: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv.as_bytes());
    reader.records().map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect()).collect()
}

/// The page's "Download CSV" writes `results_csv` of the report it shows, which is the command's
/// JSON report (the WebAssembly test compares the two through `demo-stripe.simulate.json`): so the
/// command's `--csv` must be exactly the CSV of its own JSON report, and of the golden one.
#[test]
fn the_commands_csv_is_the_csv_of_its_json_report() {
    let file = scratch_path("demo-simulation.csv");
    let _ = std::fs::remove_file(&file);
    let output = Command::new(env!("CARGO_BIN_EXE_subtwin"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(crate::golden::SIMULATE_ARGS)
        .arg("--json")
        .arg("--csv")
        .arg(&file)
        .output()
        .expect("subtwin runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let golden = std::fs::read(repo("tests/fixtures/demo-stripe.simulate.json")).expect("fixture present");
    assert!(output.stdout == golden, "the JSON beside --csv is still the golden report");
    let written = std::fs::read_to_string(&file).expect("the CSV was written");
    let from_report = results_csv(&demo_simulation());
    assert!(written == from_report, "--csv differs from the CSV of the JSON report");
    // The WebAssembly test of the page's CSV compares with this file.
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(repo("tests/fixtures/demo-stripe.simulate.csv"), &written).expect("golden file written");
    } else {
        let shipped =
            std::fs::read_to_string(repo("tests/fixtures/demo-stripe.simulate.csv")).expect("fixture present");
        assert!(
            shipped == written,
            "tests/fixtures/demo-stripe.simulate.csv differs from what the code produces now; if the change is \
             deliberate, run UPDATE_GOLDEN=1 cargo test"
        );
    }

    // `--csv -` prints the same bytes instead of the tables, and refuses to share stdout with --json.
    let to_stdout = Command::new(env!("CARGO_BIN_EXE_subtwin"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(crate::golden::SIMULATE_ARGS)
        .args(["--csv", "-"])
        .output()
        .expect("subtwin runs");
    assert!(to_stdout.status.success(), "{}", String::from_utf8_lossy(&to_stdout.stderr));
    assert!(to_stdout.stdout == written.as_bytes(), "--csv - prints the CSV");
    let both = Command::new(env!("CARGO_BIN_EXE_subtwin"))
        .args(["simulate", "www/demo-stripe.csv", "--json", "--csv", "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("subtwin runs");
    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains("--json and --csv -"));
}

#[test]
fn the_csv_is_one_tidy_row_per_run_segment_measure_and_month() {
    let report = demo_simulation();
    let rows = rows_of(&results_csv(&report));
    let header = &rows[0];
    assert_eq!(
        header,
        &[
            "run",
            "name",
            "segment",
            "measure",
            "unit",
            "month",
            "p5",
            "p10",
            "p25",
            "p50",
            "p75",
            "p90",
            "p95",
            "mean",
            "probability_ahead",
            "probability_level"
        ]
    );
    assert!(rows.iter().all(|row| row.len() == header.len()), "every row has every column");
    // Per run: 2 measures per segment and 7 for all segments, each for every month; then 3
    // differences per scenario.
    let months = report.months.len();
    let per_run = |run: &subtwin::report::simulate::RunReport| (2 * run.segments.len() + 7) * months;
    let expected = per_run(&report.baseline)
        + report.scenarios.iter().map(|s| per_run(&s.run)).sum::<usize>()
        + 3 * report.scenarios.len();
    assert_eq!(rows.len() - 1, expected);

    let find = |run: &str, segment: &str, measure: &str, month: &str| {
        rows.iter()
            .find(|r| r[0] == run && r[2] == segment && r[3] == measure && r[5] == month)
            .unwrap_or_else(|| panic!("no row {run} {segment} {measure} {month}"))
            .clone()
    };
    // The first row after the header: the baseline's first segment, paid subscribers, first month.
    let first = &report.baseline.segments[0];
    assert_eq!(rows[1][..6], ["0", "Baseline", first.name.as_str(), "active", "subscribers", "2026-01"]);
    let quantiles: Vec<f64> = rows[1][6..13].iter().map(|v| v.parse().expect("a number")).collect();
    assert_eq!(quantiles, first.active[0], "the quantiles as the report holds them, to the bit");
    assert_eq!(rows[1][13..], ["", "", ""], "no mean or shares on a month's row");

    let last = report.months.last().expect("months");
    let arpu = find("0", ALL_SEGMENTS, "arpu", last);
    assert_eq!(arpu[4], "usd");
    assert_eq!(arpu[9].parse::<f64>().expect("p50"), report.baseline.total.arpu[months - 1][3]);
    let scenario = &report.scenarios[1];
    let billed = find("2", ALL_SEGMENTS, "billed", "2026-06");
    assert_eq!(billed[1], scenario.name);
    assert_eq!(billed[6].parse::<f64>().expect("p5"), scenario.run.total.billed[5][0]);

    let difference = find("1", ALL_SEGMENTS, "cumulative_billed_difference", last);
    let expected = &report.scenarios[0].difference.cumulative_billed_major_units;
    let numbers: Vec<f64> = difference[6..].iter().map(|v| v.parse().expect("a number")).collect();
    let mut want = expected.quantiles.clone();
    want.extend([expected.mean, expected.probability_ahead, expected.probability_level]);
    assert_eq!(numbers, want);
    assert_eq!(find("2", ALL_SEGMENTS, "active_difference", last)[4], "subscribers");
    assert!(rows.iter().all(|r| !r[3].ends_with("_difference") || r[5] == *last), "differences at the horizon only");
}

#[test]
fn the_csv_quotes_names_and_leaves_what_is_not_a_number_empty() {
    let mut report = demo_simulation();
    report.scenarios[0].name = "Pro, \"20%\" dearer".to_owned();
    report.scenarios[0].run.total.mrr[0][3] = f64::NAN;
    let csv = results_csv(&report);
    let rows = rows_of(&csv);
    let row = rows
        .iter()
        .find(|r| r[0] == "1" && r[2] == ALL_SEGMENTS && r[3] == "mrr" && r[5] == "2026-01")
        .expect("the scenario's first MRR row");
    assert_eq!(row[1], "Pro, \"20%\" dearer", "the name reads back whole");
    assert_eq!(row[9], "", "a median that is not a number is an empty cell");
    assert!(csv.contains("\"Pro, \"\"20%\"\" dearer\""), "quoted as CSV quotes");

    let mut without = report.clone();
    without.scenarios.clear();
    let rows = rows_of(&results_csv(&without));
    assert!(rows.iter().skip(1).all(|r| r[0] == "0"), "the baseline alone");
}

#[test]
fn names_that_a_spreadsheet_would_run_as_formulas_are_written_as_text() {
    let mut report = demo_simulation();
    report.scenarios[0].name = "=HYPERLINK(\"http://example.com\",\"Open\")".to_owned();
    report.scenarios[1].name = "@SUM(A1)".to_owned();
    report.baseline.segments[0].name = "-2+3".to_owned();
    report.scenarios[0].run.total.mrr[0][0] = -12.5;
    let rows = rows_of(&results_csv(&report));
    let first = |run: &str, measure: &str| {
        rows.iter().find(|r| r[0] == run && r[3] == measure).unwrap_or_else(|| panic!("a {measure} row of run {run}"))
    };
    assert_eq!(first("1", "mrr")[1], "'=HYPERLINK(\"http://example.com\",\"Open\")");
    assert_eq!(first("2", "mrr")[1], "'@SUM(A1)");
    assert_eq!(
        first("1", "mrr_difference")[1],
        "'=HYPERLINK(\"http://example.com\",\"Open\")",
        "and on the difference rows"
    );
    assert!(rows.iter().any(|r| r[0] == "0" && r[2] == "'-2+3"), "a segment's name too");
    // Numbers stay numbers, negative ones included, and other names are untouched.
    let scenario_mrr = rows.iter().find(|r| r[0] == "1" && r[2] == ALL_SEGMENTS && r[3] == "mrr").expect("MRR row");
    assert_eq!(scenario_mrr[6], "-12.5");
    assert_eq!(first("0", "mrr")[1], "Baseline");
}

/// A strict enough check that `svg` is well-formed XML: every tag closes in order, attributes are
/// quoted, text holds no `<` and no `&` that does not start an entity.
fn assert_well_formed(svg: &str, what: &str) {
    let mut open: Vec<String> = Vec::new();
    let mut rest = svg;
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            let end = entity.find(';').unwrap_or_else(|| panic!("{what}: a bare & in {text:?}"));
            let name = &entity[1..end];
            assert!(
                ["amp", "lt", "gt", "quot", "apos"].contains(&name) || name.starts_with('#'),
                "{what}: unknown entity &{name};"
            );
        }
        if !text.trim().is_empty() {
            assert!(!open.is_empty(), "{what}: text outside the root: {text:?}");
        }
        let end = rest[start..].find('>').unwrap_or_else(|| panic!("{what}: a tag left open")) + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with("!--") {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let expected = open.pop().unwrap_or_else(|| panic!("{what}: </{name}> closes nothing"));
            assert_eq!(name.trim(), expected, "{what}: tags close in order");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name: String = body.chars().take_while(|c| !c.is_whitespace()).collect();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'),
            "{what}: a tag named {name:?}"
        );
        let mut attributes = body[name.len()..].trim();
        while !attributes.is_empty() {
            let (key, value) = attributes.split_once('=').unwrap_or_else(|| panic!("{what}: {attributes:?}"));
            assert!(key.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'), "{what}: {key:?}");
            let value = value.trim_start();
            assert!(value.starts_with('"'), "{what}: an unquoted attribute in <{tag}>");
            let close = value[1..].find('"').unwrap_or_else(|| panic!("{what}: an attribute left open")) + 1;
            assert!(!value[1..close].contains('<'), "{what}: < in an attribute");
            attributes = value[close + 1..].trim_start();
        }
        if open.is_empty() {
            roots += 1;
        }
        if !self_closing {
            open.push(name);
        }
    }
    assert!(rest.trim().is_empty(), "{what}: text after the root");
    assert!(open.is_empty(), "{what}: {open:?} never closed");
    assert_eq!(roots, 1, "{what}: one root element");
}

fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|element| {
            let text = element.split_once('>')?.1.split("</text>").next()?;
            Some(text.trim().replace("&apos;", "'").replace("&amp;", "&").replace("&quot;", "\""))
        })
        .collect()
}

#[test]
fn every_simulation_chart_is_a_well_formed_svg_with_its_title_legend_and_series() {
    let report = demo_simulation();
    let charts = [
        (SimulationChart::Fan(FanMetric::Mrr), "MRR: the baseline and each scenario"),
        (SimulationChart::Fan(FanMetric::Paid), "Paid subscribers: the baseline and each scenario"),
        (
            SimulationChart::Histogram(DifferenceMetric::Mrr),
            "MRR at 2026-12: each scenario minus the baseline, path by path",
        ),
        (
            SimulationChart::Histogram(DifferenceMetric::Revenue),
            "Revenue billed over the horizon: each scenario minus the baseline",
        ),
    ];
    for (chart, title) in charts {
        let svg = simulation_chart_svg(&report, chart, (900, 360)).expect("drawn");
        let what = format!("{chart:?}");
        assert_well_formed(&svg, &what);
        assert!(svg.starts_with("<svg width=\"900\" height=\"360\""), "{what}: the canvas's size");
        assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""), "{what}: an SVG document");
        let texts = texts(&svg);
        assert!(texts.iter().any(|t| t == title), "{what}: the title in {texts:?}");
        for scenario in &report.scenarios {
            assert!(texts.iter().any(|t| t.starts_with(&scenario.name)), "{what}: {} in the legend", scenario.name);
        }
        match chart {
            SimulationChart::Fan(_) => {
                assert!(texts.iter().any(|t| t == "Baseline (median)"), "{what}: the baseline in the legend");
                // A median line per run (12 months) and a band per run.
                let medians = svg.split("<polyline").skip(1).filter(|p| p.matches(',').count() == 12).count();
                assert_eq!(medians, 1 + report.scenarios.len(), "{what}: a median line per run");
                assert_eq!(svg.matches("<polygon").count(), 1 + report.scenarios.len(), "{what}: a band per run");
            }
            _ => assert!(svg.matches("<rect").count() >= 30 * report.scenarios.len(), "{what}: the bins"),
        }
        // The title at the size the chart asks for (18 px, as the canvas draws it), not plotters' SVG
        // default of 18 / 1.24.
        let title_tag = svg.split("<text").find(|t| t.contains(title)).expect("the title's tag");
        let size: f64 = title_tag
            .split("font-size=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .expect("a font size");
        assert!((size - 18.0).abs() < 1e-9, "{what}: the title's font size {size}");
    }
    let tornado = simulation_chart_svg(&report, SimulationChart::Tornado(0), (880, 222)).expect("drawn");
    assert_well_formed(&tornado, "tornado");
    let texts = texts(&tornado);
    for bar in &report.scenarios[0].sensitivity {
        let name = bar.input.replace('_', " ");
        assert!(texts.iter().any(|t| t.starts_with(&format!("{name} ("))), "{name} labelled: {texts:?}");
    }
    assert!(texts.iter().any(|t| t == "the input at the low end of its range"), "the tornado's legend");
}

#[test]
fn the_svg_is_the_same_bytes_each_time_and_refuses_what_it_cannot_draw() {
    let report = demo_simulation();
    let chart = SimulationChart::Fan(FanMetric::Mrr);
    assert_eq!(simulation_chart_svg(&report, chart, (900, 360)), simulation_chart_svg(&report, chart, (900, 360)));
    assert!(simulation_chart_svg(&report, chart, (0, 360)).is_err(), "no size");
    assert!(simulation_chart_svg(&report, chart, (900, 100_000)).is_err(), "too large");
    assert!(simulation_chart_svg(&report, SimulationChart::Tornado(2), (880, 200)).is_err(), "no such scenario");
    let mut without = report.clone();
    without.scenarios.clear();
    assert!(simulation_chart_svg(&without, SimulationChart::Histogram(DifferenceMetric::Mrr), (900, 300)).is_err());
    assert!(simulation_chart_svg(&without, chart, (900, 360)).is_ok(), "the baseline's fan alone");
    // A name that XML must escape stays well-formed.
    let mut odd = report.clone();
    odd.scenarios[0].name = "<Pro> & \"Team\" 'up'".to_owned();
    let svg = simulation_chart_svg(&odd, chart, (900, 360)).expect("drawn");
    assert_well_formed(&svg, "escaped names");
    assert!(texts(&svg).iter().any(|t| t.contains("&lt;Pro&gt; & \"Team\" 'up'")), "the name, escaped");
}
