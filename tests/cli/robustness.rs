//! No input makes the core panic. Thousands of damaged exports, made by seeded mutation of real
//! ones (the fixtures and the demo), go through the whole pipeline: import, history, report, the
//! text view and the JSON. Each either gives a report or a clear error; a panic fails the test.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use subtwin::history::HistoryOptions;
use subtwin::import::ImportOptions;
use subtwin::report::{history_view, render_text, to_json};
use subtwin::HistoryRequest;

/// Fragments that exporters, spreadsheets and attackers put in CSV cells.
const NASTY: &[&str] = &[
    "\"",
    "\"\"",
    ",",
    "\n",
    "\r\n",
    "\r",
    ";",
    "\t",
    "\0",
    "\u{feff}",
    "é",
    "\u{1F600}",
    "NaN",
    "inf",
    "-inf",
    "-0",
    "1e308",
    "99999999999999999999999999999999999",
    "-1",
    "0",
    "0001-01-01 00:00",
    "9999-12-31 23:59",
    "2025-02-29 00:00",
    "2024-02-29 24:00",
    "1969-12-31 23:59",
    "canceled",
    "trialing",
    "paused",
    "incomplete",
    "year",
    "day",
    "week",
    "month",
    "1000",
    "0.0000000001",
    "1,234,567.891",
    "true",
    "",
    " ",
];

pub fn mutate(rng: &mut ChaCha8Rng, input: &[u8]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..rng.random_range(1..6) {
        if bytes.is_empty() {
            bytes.extend_from_slice(NASTY[rng.random_range(0..NASTY.len())].as_bytes());
            continue;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..7) {
            0 => bytes[at] = rng.random(),
            1 => {
                let end = (at + rng.random_range(1..40)).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => {
                let fragment = NASTY[rng.random_range(0..NASTY.len())].as_bytes();
                bytes.splice(at..at, fragment.iter().copied());
            }
            3 => bytes.truncate(at),
            4 => {
                // Replace one field (between commas) with a nasty value.
                let start = bytes[..at].iter().rposition(|&b| b == b',').map(|p| p + 1).unwrap_or(at);
                let end =
                    bytes[at..].iter().position(|&b| b == b',' || b == b'\n').map(|p| at + p).unwrap_or(bytes.len());
                let fragment = NASTY[rng.random_range(0..NASTY.len())].as_bytes();
                bytes.splice(start..end, fragment.iter().copied());
            }
            5 => {
                // Repeat a line: duplicate ids, and more rows.
                let start = bytes[..at].iter().rposition(|&b| b == b'\n').map(|p| p + 1).unwrap_or(0);
                let end = bytes[at..].iter().position(|&b| b == b'\n').map(|p| at + p + 1).unwrap_or(bytes.len());
                let line = bytes[start..end].to_vec();
                bytes.splice(end..end, line);
            }
            _ => bytes.insert(at, b'"'),
        }
    }
    bytes
}

/// Imports, rebuilds and reports; with `fit`, also calibrates the twin (every model on whatever the
/// damaged file still holds), which costs tens of milliseconds, so only some rounds do.
fn run_everything(name: &str, bytes: &[u8], request: &HistoryRequest, fit: bool) {
    if fit {
        match subtwin::fit_exports(&[(name, bytes)], request, &mut |_| {}) {
            Ok(report) => {
                let json = subtwin::report::fit::to_json(&report);
                serde_json::from_str::<serde_json::Value>(&json).expect("the fit is valid JSON");
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
    match subtwin::history_of_export(name, bytes, request, &mut |_| {}) {
        Ok(report) => {
            let view = history_view(&report);
            let _ = render_text(&view);
            let json = to_json(&report);
            serde_json::from_str::<serde_json::Value>(&json).expect("the report is valid JSON");
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&fixtures)
        .expect("fixtures")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "csv"))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).expect("readable")))
        .collect();
    inputs.sort();
    let mut demo = Vec::new();
    subtwin::demo::write_stripe_csv(&mut demo, &subtwin::demo::DemoConfig { subscriptions: 60, ..Default::default() })
        .expect("in memory");
    inputs.push(("demo.csv".into(), demo));
    inputs
}

#[test]
fn damaged_exports_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(20251231);
    let inputs = seeds();
    let requests = [
        HistoryRequest::default(),
        HistoryRequest {
            import: ImportOptions { currency: Some("jpy".into()), ..ImportOptions::default() },
            history: HistoryOptions { as_of: Some(1_700_000_000) },
        },
    ];
    for round in 0..3000 {
        let (name, input) = &inputs[round % inputs.len()];
        let damaged = mutate(&mut rng, input);
        run_everything(name, &damaged, &requests[round % requests.len()], round % 15 == 0);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..500 {
        let length = rng.random_range(0..400);
        let bytes: Vec<u8> = (0..length).map(|_| rng.random()).collect();
        run_everything("noise.csv", &bytes, &HistoryRequest::default(), true);
    }
}

#[test]
fn extreme_but_valid_values_do_not_overflow_or_panic() {
    let header = "id,Customer ID,Status,Start Date (UTC),Ended At (UTC),Product,Interval,Interval Count,Quantity,Amount,Currency\n";
    let mut rows = String::from(header);
    // Prices near the importer's bounds, awkward interval counts in every unit (their least common
    // multiple is far beyond i128 once the MRR sums mix them), huge quantities.
    for (index, count) in [1, 2, 3, 7, 11, 13, 17, 19, 23, 29, 31, 36, 97, 365, 997, 1000].iter().enumerate() {
        for unit in ["day", "week", "month", "year"] {
            rows.push_str(&format!(
                "sub_{index}_{unit},cus_{index},active,2020-01-01 00:00,,P,{unit},{count},10000000,999999999999.999999999,usd\n"
            ));
        }
    }
    let report = subtwin::history_of_export("extreme.csv", rows.as_bytes(), &HistoryRequest::default(), &mut |_| {})
        .expect("valid rows");
    let total = report.months.last().expect("a month").figures.mrr;
    assert!(total.is_nan(), "a total beyond exact arithmetic is shown as unknown, not as a wrong number: {total}");
    let json = to_json(&report);
    let back: subtwin::report::HistoryReport = serde_json::from_str(&json).expect("the page can read the report back");
    let view = history_view(&back);
    let mrr = view.facts.iter().find(|f| f.label == "MRR").expect("an MRR fact");
    assert_eq!(mrr.value, "(too large to add up exactly)");
    rows.push_str("sub_old,cus_x,canceled,1970-01-01 00:00,2199-12-31 23:59,P,month,1,1,1.00,usd\n");
    run_everything("extreme.csv", rows.as_bytes(), &HistoryRequest::default(), true);
}

#[test]
fn damaged_invoices_and_payments_beside_a_subscriptions_export_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(20261126);
    let read = |name: &str| std::fs::read(crate::support::fixture_path(name)).expect("fixture");
    let subscriptions = read("basic.csv");
    let charges = [("invoices.csv", read("invoices.csv")), ("payments.csv", read("payments.csv"))];
    for round in 0..1000 {
        let (name, bytes) = &charges[round % charges.len()];
        let damaged = mutate(&mut rng, bytes);
        let inputs: [(&str, &[u8]); 2] = [("basic.csv", &subscriptions), (name, &damaged)];
        match subtwin::analyse_exports(&inputs, &HistoryRequest::default(), &mut |_| {}) {
            Ok(analysis) => {
                let json = analysis.to_json();
                serde_json::from_str::<serde_json::Value>(&json).expect("the report is valid JSON");
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
}
