//! Helpers shared by the test modules: fixtures, the library pipeline, the built command, and a
//! strict checker for a month's figures (every figure not listed must be zero).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use subtwin::history::HistoryOptions;
use subtwin::import::values::parse_as_of;
use subtwin::import::ImportOptions;
use subtwin::report::{FiguresReport, HistoryReport, MonthReport};
use subtwin::HistoryRequest;

/// Every hand-written fixture that imports without a file-level error.
pub const GOOD_FIXTURES: &[&str] = &[
    "basic.csv",
    "trials.csv",
    "intervals.csv",
    "jpy.csv",
    "switches.csv",
    "cancel_at_period_end.csv",
    "statuses.csv",
    "currencies.csv",
    "problems.csv",
];

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("reading fixture {name}: {e}"))
}

/// A scratch file under Cargo's temporary directory for integration tests.
pub fn scratch_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("subtwin-cli-{name}"))
}

/// The report for a fixture with the default request (derived as-of, majority currency).
/// The shipped demo export's calibrated twin, as the page's worker and `subtwin fit` calibrate it.
pub fn demo_calibrated_twin() -> subtwin::CalibratedTwin {
    let file = format!("{}/www/demo-stripe.csv", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&file).expect("demo present");
    let (_, twin) = subtwin::fit_exports_and_twin(
        &[("demo-stripe.csv", &bytes)],
        &Default::default(),
        &Default::default(),
        &mut |_| {},
    )
    .expect("fits");
    twin.expect("the demo has a twin")
}

pub fn report_of(name: &str) -> HistoryReport {
    report_with(name, &HistoryRequest::default())
}

pub fn report_with(name: &str, request: &HistoryRequest) -> HistoryReport {
    report_of_bytes(name, &fixture_bytes(name), request)
}

pub fn report_of_bytes(name: &str, bytes: &[u8], request: &HistoryRequest) -> HistoryReport {
    subtwin::history_of_export(name, bytes, request, &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A request running the history to `as_of`, read as the command reads `--as-of`.
pub fn request_as_of(as_of: &str) -> HistoryRequest {
    HistoryRequest {
        history: HistoryOptions { as_of: Some(parse_as_of(as_of).unwrap_or_else(|| panic!("test as-of {as_of:?}"))) },
        ..HistoryRequest::default()
    }
}

pub fn request_currency(code: &str) -> HistoryRequest {
    HistoryRequest {
        import: ImportOptions { currency: Some(code.to_owned()), ..ImportOptions::default() },
        ..HistoryRequest::default()
    }
}

pub fn month<'a>(report: &'a HistoryReport, label: &str) -> &'a MonthReport {
    report
        .months
        .iter()
        .find(|m| m.month == label)
        .unwrap_or_else(|| panic!("no month {label} in {:?}", month_labels(report)))
}

pub fn month_labels(report: &HistoryReport) -> Vec<&str> {
    report.months.iter().map(|m| m.month.as_str()).collect()
}

pub fn segment<'a>(month: &'a MonthReport, name: &str) -> &'a FiguresReport {
    month
        .by_segment
        .get(name)
        .unwrap_or_else(|| panic!("{}: no segment {name:?} in {:?}", month.month, month.by_segment.keys()))
}

/// One expected row: a month, the totals (`None`) or a segment, and the figures that are not zero.
pub type Expected<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, f64)]);

/// Checks every numeric figure of `figures`: those listed in `expected` must be equal, every other
/// one must be zero. A listed name that the figures do not have is a mistake in the test.
pub fn expect_figures(context: &str, figures: &FiguresReport, expected: &[(&str, f64)]) {
    let Value::Object(fields) = serde_json::to_value(figures).expect("figures serialise") else {
        panic!("{context}: figures are not a JSON object");
    };
    for (name, _) in expected {
        assert!(fields.contains_key(*name), "{context}: the test names a figure {name:?} the report does not have");
    }
    for (name, value) in &fields {
        let Some(actual) = value.as_f64() else { continue };
        let wanted = expected.iter().find(|(n, _)| n == name).map(|(_, v)| *v).unwrap_or(0.0);
        assert!(
            actual == wanted,
            "{context}: {name} is {actual}, expected {wanted} (all figures: {value_list})",
            value_list = Value::Object(fields.clone())
        );
    }
}

/// Checks a whole history: the list of months, and for every month the totals and every segment.
/// A (month, view) pair not listed in `expected` must be all zeros, except that in a file with a
/// single segment an unlisted segment view must repeat the totals (with no moves).
pub fn expect_history(report: &HistoryReport, months: &[&str], expected: &[Expected]) {
    assert_eq!(month_labels(report), months, "months of the history");
    for (label, view, _) in expected {
        assert!(months.contains(label), "the test lists month {label}, not in {months:?}");
        if let Some(name) = view {
            assert!(
                report.segments.iter().any(|s| s == name),
                "the test lists segment {name:?}, not in {:?}",
                report.segments
            );
        }
        let same = expected.iter().filter(|(l, v, _)| l == label && v == view).count();
        assert_eq!(same, 1, "the test lists {label} {view:?} {same} times");
    }
    let find = |label: &str, view: Option<&str>| {
        expected.iter().find(|(l, v, _)| *l == label && *v == view).map(|(_, _, figures)| *figures)
    };
    for m in &report.months {
        let totals = find(&m.month, None).unwrap_or(&[]);
        expect_figures(&format!("{} totals", m.month), &m.figures, totals);
        for (name, figures) in &m.by_segment {
            let wanted = match find(&m.month, Some(name)) {
                Some(wanted) => wanted,
                None if report.segments.len() == 1 => totals,
                None => &[],
            };
            expect_figures(&format!("{} {name}", m.month), figures, wanted);
        }
    }
}

/// Runs the built command with these arguments.
pub fn run_subtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_subtwin")).args(args).output().expect("the subtwin command runs")
}

pub fn fixture_arg(name: &str) -> String {
    fixture_path(name).to_string_lossy().into_owned()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
