//! Tables that are not subscription lists: snapshot tables (one row per customer with a tenure and a
//! churn flag, the telco churn data set's shape) and cohort survival tables
//! (`segment,cohort,age,active[,period][,price]`). Recognised from the header by `subtwin history`
//! and `subtwin::analyse_export`; `history_of_export` still reads subscriptions only.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use subtwin::import::values::{parse_as_of, parse_instant, MonthIndex};
use subtwin::import::{table_kind, ImportOptions, TableKind};
use subtwin::money::Minor;
use subtwin::report::cohort::CohortReport;
use subtwin::report::snapshot::{SegmentSurvival, SnapshotReport};
use subtwin::{analyse_export, Analysis, HistoryRequest};

use crate::support::*;

fn analyse(name: &str, bytes: &[u8], request: &HistoryRequest) -> Analysis {
    analyse_export(name, bytes, request, &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn snapshot(name: &str, bytes: &[u8], request: &HistoryRequest) -> SnapshotReport {
    match analyse(name, bytes, request) {
        Analysis::Snapshot(report) => report,
        other => panic!("{name}: expected a snapshot report, got {other:?}"),
    }
}

fn cohorts(name: &str, bytes: &[u8], request: &HistoryRequest) -> CohortReport {
    match analyse(name, bytes, request) {
        Analysis::Cohorts(report) => report,
        other => panic!("{name}: expected a cohort report, got {other:?}"),
    }
}

fn segment<'a>(report: &'a SnapshotReport, name: &str) -> &'a SegmentSurvival {
    report.segments.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no segment {name}"))
}

/// (segment, active, churned, mrr, churned mrr, at_risk, churned_at)
type Expected<'a> = (&'a str, u64, u64, f64, f64, &'a [u64], &'a [u64]);

fn expect_segment(actual: &SegmentSurvival, expected: &Expected) {
    let (name, active, churned, mrr, churned_mrr, at_risk, churned_at) = expected;
    assert_eq!(actual.name, *name);
    assert_eq!(
        (actual.active, actual.churned, actual.customers, actual.mrr, actual.churned_mrr),
        (*active, *churned, active + churned, *mrr, *churned_mrr),
        "{name}"
    );
    assert_eq!(actual.at_risk, *at_risk, "{name}: at risk");
    assert_eq!(actual.churned_at, *churned_at, "{name}: churned at");
}

// telco_snapshot.csv: the telco churn data set's 21 columns, 12 customers (ids made up), tenure in
// months, customer 0011 brand new (tenure 0, TotalCharges a single space, as in the data set).
//
//   Month-to-month: 0001 t1 29.85 No; 0003 t2 53.85 Yes; 0005 t2 70.70 Yes; 0006 t8 99.65 Yes;
//                   0007 t5 89.10 No; 0008 t10 29.75 No; 0009 t3 104.80 Yes.
//     active 3: 29.85 + 89.10 + 29.75 = 148.70; churned 4: 53.85 + 70.70 + 99.65 + 104.80 = 329.00.
//     tenures 1,2,2,3,5,8,10. At risk (tenure >= t) for t = 0..12: 7 7 6 4 3 3 2 2 2 1 1 0 0.
//     Churned at t: 2 at t2 (0003, 0005), 1 at t3 (0009), 1 at t8 (0006).
//   One year: 0002 t9 56.95 No; 0004 t7 42.30 Yes; 0010 t12 56.15 No.
//     active 2: 56.95 + 56.15 = 113.10; churned 1: 42.30. At risk: 3 for t0..7, 2 for t8..9, 1 for
//     t10..12. Churned at t7: 1.
//   Two year: 0011 t0 52.55 No; 0012 t11 90.25 No.
//     active 2: 52.55 + 90.25 = 142.80; none churned. At risk: 2 at t0, 1 for t1..11, 0 at t12.
//   Total: active 7, churned 5, MRR 148.70 + 113.10 + 142.80 = 404.60, churned MRR 371.30.
//     At risk = the segments' sum: 12 11 10 8 7 7 6 6 5 4 3 2 1; churned at t2: 2, t3: 1, t7: 1, t8: 1.
//   The arrays run to the largest tenure, 12, in every segment.
const TELCO_SEGMENTS: [Expected; 3] = [
    (
        "Month-to-month",
        3,
        4,
        148.70,
        329.00,
        &[7, 7, 6, 4, 3, 3, 2, 2, 2, 1, 1, 0, 0],
        &[0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0],
    ),
    (
        "One year",
        2,
        1,
        113.10,
        42.30,
        &[3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 1, 1, 1],
        &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
    ),
    ("Two year", 2, 0, 142.80, 0.0, &[2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], &[0; 13]),
];
const TELCO_TOTAL: Expected = (
    "Total",
    7,
    5,
    404.60,
    371.30,
    &[12, 11, 10, 8, 7, 7, 6, 6, 5, 4, 3, 2, 1],
    &[0, 0, 2, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0],
);

#[test]
fn a_telco_snapshot_gives_actives_mrr_and_the_kaplan_meier_input_per_contract() {
    let report = snapshot("telco_snapshot.csv", &fixture_bytes("telco_snapshot.csv"), &HistoryRequest::default());
    assert_eq!(
        (report.kind.as_str(), report.format.as_str(), report.tenure_unit.as_str()),
        ("snapshot", "snapshot", "month")
    );
    // No currency named: none assumed, and amounts keep the file's two decimals.
    assert_eq!((report.currency.as_deref(), report.decimals), (None, 2));
    let c = &report.columns;
    assert_eq!(
        (c.tenure.as_str(), c.churned.as_str(), c.price.as_str(), c.id.as_deref(), c.segment.as_deref()),
        ("tenure", "Churn", "MonthlyCharges", Some("customerID"), Some("Contract"))
    );
    // The blank TotalCharges of customer 0011 is not read, so it is not a problem.
    assert_eq!(report.problems, []);
    let s = &report.summary;
    assert_eq!((s.rows_read, s.rows_set_aside, s.customers, s.active, s.churned), (12, 0, 12, 7, 5));
    assert_eq!(report.segments.len(), 3);
    for (actual, expected) in report.segments.iter().zip(&TELCO_SEGMENTS) {
        expect_segment(actual, expected);
    }
    expect_segment(&report.total, &TELCO_TOTAL);
}

#[test]
fn snapshot_money_is_in_the_currency_the_person_names() {
    let usd = snapshot("telco_snapshot.csv", &fixture_bytes("telco_snapshot.csv"), &request_currency("usd"));
    assert_eq!((usd.currency.as_deref(), usd.decimals, usd.total.mrr), (Some("usd"), 2, 404.60));
    assert_eq!(segment(&usd, "One year").churned_mrr, 42.30);
    // In yen (no minor unit) the exact sums are rounded once, for the report: 404.60 is 405, 148.70
    // is 149, 371.30 is 371.
    let jpy = snapshot("telco_snapshot.csv", &fixture_bytes("telco_snapshot.csv"), &request_currency("JPY"));
    assert_eq!((jpy.currency.as_deref(), jpy.decimals), (Some("jpy"), 0));
    assert_eq!((jpy.total.mrr, segment(&jpy, "Month-to-month").mrr, jpy.total.churned_mrr), (405.0, 149.0, 371.0));

    let output = run_subtwin(&["history", &fixture_arg("telco_snapshot.csv"), "--currency", "usd"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Currency   USD"), "{stdout}");
    assert!(stdout.contains("$404.60 (the active customers' monthly price)"), "{stdout}");
    let output = run_subtwin(&["history", &fixture_arg("telco_snapshot.csv"), "--currency", "xyz"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`xyz` is not an ISO 4217 currency code"), "{}", text(&output.stderr));
}

/// The table's lines with runs of spaces collapsed, to compare rows whatever the column widths.
fn squeezed(text: &str) -> Vec<String> {
    text.lines().map(|line| line.split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

#[test]
fn the_command_prints_a_snapshot_as_text_and_as_json() {
    let output = run_subtwin(&["history", &fixture_arg("telco_snapshot.csv")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
    let lines = squeezed(&text(&output.stdout));
    for wanted in [
        "Rows 12 read, 0 set aside",
        "Currency not stated: amounts as the file writes them (name it with --currency or the currency choice)",
        "Customers 12: 7 active, 5 churned",
        "MRR 404.60 (the active customers' monthly price)",
        "Segment Customers Active Churned MRR Churned MRR",
        "Month-to-month 7 3 4 148.70 329.00",
        "One year 3 2 1 113.10 42.30",
        "Two year 2 2 0 142.80 0.00",
        "Total 12 7 5 404.60 371.30",
        // Tenure 0, then each segment's at risk and churned, then the total's.
        "0 7 0 3 0 2 0 12 0",
        "2 6 2 3 0 1 0 10 2",
        "12 0 0 1 0 0 0 1 0",
    ] {
        assert!(lines.iter().any(|l| l == wanted), "no line {wanted:?} in:\n{}", lines.join("\n"));
    }

    let output = run_subtwin(&["history", &fixture_arg("telco_snapshot.csv"), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.matches('\n').count(), 1, "one line");
    let library = analyse("telco_snapshot.csv", &fixture_bytes("telco_snapshot.csv"), &HistoryRequest::default());
    assert_eq!(stdout.trim_end(), library.to_json(), "the same JSON as the library");
    let value: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(value["kind"], "snapshot");
    assert_eq!(value["currency"], Value::Null);
    assert_eq!(value["segments"][0]["name"], "Month-to-month");
    assert_eq!(value["segments"][0]["mrr"], 148.7);
    assert_eq!(value["total"]["at_risk"], serde_json::json!([12, 11, 10, 8, 7, 7, 6, 6, 5, 4, 3, 2, 1]));
    assert_eq!(value["inputs"][0]["format"], "snapshot");
    let back: SnapshotReport = serde_json::from_str(&stdout).expect("reads back");
    assert_eq!(Analysis::Snapshot(back), library);
}

#[test]
fn snapshot_headers_are_found_by_their_usual_names() {
    // The longer telco file's spellings (`Tenure Months`, `Monthly Charges`, `Churn Label`), a
    // semicolon and decimal commas, and a plan column as the segment.
    // Basic: X1 t3 19.99 No, X3 t3 19.99 No: 2 active, 39.98. Plus: X2 t1 29.99 Yes: churned at t1.
    // Total at risk t0..3: 3 3 2 2; churned at t1: 1.
    let table = "CustomerID;Tenure Months;Monthly Charges;Churn Label;Plan\n\
                 X1;3;19,99;No;Basic\nX2;1;29,99;Yes;Plus\nX3;3;19,99;No;Basic\n";
    let report = snapshot("ibm.csv", table.as_bytes(), &HistoryRequest::default());
    let c = &report.columns;
    assert_eq!(
        (c.tenure.as_str(), c.churned.as_str(), c.price.as_str(), c.segment.as_deref()),
        ("Tenure Months", "Churn Label", "Monthly Charges", Some("Plan"))
    );
    expect_segment(&report.segments[0], &("Basic", 2, 0, 39.98, 0.0, &[2, 2, 2, 2], &[0, 0, 0, 0]));
    expect_segment(&report.segments[1], &("Plus", 0, 1, 0.0, 29.99, &[1, 1, 0, 0], &[0, 1, 0, 0]));
    expect_segment(&report.total, &("Total", 2, 1, 39.98, 29.99, &[3, 3, 2, 2], &[0, 1, 0, 0]));

    // No segment column: one segment, All. true/false and 1/0 are churn flags too.
    let table = "id,months_subscribed,is_churned,mrr\na,2,false,10\nb,1,true,5\nc,0,0,7\n";
    let report = snapshot("plain.csv", table.as_bytes(), &HistoryRequest::default());
    assert_eq!(report.columns.segment, None);
    expect_segment(&report.segments[0], &("All", 2, 1, 17.0, 5.0, &[3, 2, 1], &[0, 1, 0]));
    assert_eq!(report.decimals, 0, "the file writes whole amounts");
}

#[test]
fn segment_picks_another_column_of_a_snapshot() {
    // By InternetService: DSL is 0001, 0002, 0003, 0004, 0008, 0010, 0011; active 0001 29.85,
    // 0002 56.95, 0008 29.75, 0010 56.15, 0011 52.55 = 225.25; churned 0003, 0004. Fiber optic:
    // active 0007 89.10 + 0012 90.25 = 179.35; churned 0005, 0006, 0009. Together 404.60 again.
    let request = HistoryRequest {
        import: ImportOptions { segment: Some("internetservice".into()), ..ImportOptions::default() },
        ..HistoryRequest::default()
    };
    let report = snapshot("telco_snapshot.csv", &fixture_bytes("telco_snapshot.csv"), &request);
    assert_eq!(report.columns.segment.as_deref(), Some("InternetService"));
    let figures: Vec<(&str, u64, u64, f64)> =
        report.segments.iter().map(|s| (s.name.as_str(), s.active, s.churned, s.mrr)).collect();
    assert_eq!(figures, [("DSL", 5, 2, 225.25), ("Fiber optic", 2, 3, 179.35)]);
    assert_eq!(report.total.mrr, 404.60);

    let output = run_subtwin(&["history", &fixture_arg("telco_snapshot.csv"), "--segment", "Colour"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no column `Colour`"), "{}", text(&output.stderr));
    let output = run_subtwin(&["history", &fixture_arg("basic.csv"), "--segment", "Product"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--segment applies to snapshot tables"), "{}", text(&output.stderr));
}

#[test]
fn snapshot_rows_that_cannot_be_read_are_set_aside_with_line_column_and_value() {
    let table = "customerID,tenure,Contract,MonthlyCharges,TotalCharges,Churn\n\
                 A1,5,Month-to-month,20.00, ,No\n\
                 A2,abc,Month-to-month,20.00,100,No\n\
                 A3,-3,Month-to-month,20.00,100,No\n\
                 A4,2.5,Month-to-month,20.00,100,Yes\n\
                 A5,4,Month-to-month,20.00,80,maybe\n\
                 A6,4,Month-to-month,20.00,80,\n\
                 A7,4,One year,-5.00,80,No\n\
                 A8,4,One year,abc,80,No\n\
                 A1,6,One year,30.00,180,Yes\n\
                 ,6,One year,30.00,180,Yes\n\
                 A9,6,One year,30.00,180\n\
                 A10,12.0,One year,30.00,360,1\n";
    let report = snapshot("mess.csv", table.as_bytes(), &HistoryRequest::default());
    // (line, column, value, a word of the reason)
    let expected: &[(u64, &str, &str, &str)] = &[
        (3, "tenure", "abc", "whole number"),
        (4, "tenure", "-3", "negative"),
        (5, "tenure", "2.5", "whole number"),
        (6, "Churn", "maybe", "churn flag"),
        (7, "Churn", "", "blank"),
        (8, "MonthlyCharges", "-5.00", "negative"),
        (9, "MonthlyCharges", "abc", "number"),
        (10, "customerID", "A1", "line 2"),
        (11, "customerID", "", "blank"),
        (12, "", "5 fields", "fields"),
    ];
    let actual: Vec<(u64, &str, &str)> =
        report.problems.iter().map(|p| (p.line, p.column.as_str(), p.value.as_str())).collect();
    let wanted: Vec<(u64, &str, &str)> = expected.iter().map(|(l, c, v, _)| (*l, *c, *v)).collect();
    assert_eq!(actual, wanted);
    for (problem, (_, _, _, word)) in report.problems.iter().zip(expected) {
        assert!(problem.reason.contains(word), "line {}: {:?} should say {word:?}", problem.line, problem.reason);
        assert!(!problem.hint.is_empty() && problem.file == "mess.csv");
    }
    // Kept: A1 (t5, 20.00, active) and A10 (t12 written 12.0, 30.00, churned flag 1). The blank
    // TotalCharges of line 2 is not read.
    let s = &report.summary;
    assert_eq!((s.rows_read, s.rows_set_aside, s.customers, s.active, s.churned), (12, 10, 2, 1, 1));
    assert_eq!((report.total.mrr, report.total.churned_mrr), (20.0, 30.0));
    assert_eq!(report.total.churned_at[12], 1);

    // --strict fails on them, and the problems go to stderr one per line.
    let path = scratch_path("mess-snapshot.csv");
    std::fs::write(&path, table).expect("write");
    let output = run_subtwin(&["history", &path.to_string_lossy(), "--strict"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("mess-snapshot.csv:4: tenure `-3`: `-3` is negative"), "{stderr}");
    assert!(stderr.contains("--strict: 10 row(s) were set aside"), "{stderr}");
}

#[test]
fn a_snapshot_without_a_price_or_rows_is_refused_with_what_is_missing() {
    let cases: &[(&str, &[&str])] = &[
        ("customerID,tenure,Churn\nA,1,No\n", &["snapshot table", "tenure", "Churn", "MonthlyCharges"]),
        ("tenure,Churn,MonthlyCharges\n", &["no rows"]),
        ("tenure,Churn,MonthlyCharges\nx,maybe,-1\n", &["none of the file's 1 rows"]),
    ];
    for (table, words) in cases {
        let error =
            analyse_export("t.csv", table.as_bytes(), &HistoryRequest::default(), &mut |_| {}).expect_err("refused");
        for word in *words {
            assert!(error.to_string().contains(word), "{table:?}: {error} should say {word:?}");
        }
    }
    // No dates, so no as-of; one file at a time.
    let request = HistoryRequest {
        history: subtwin::history::HistoryOptions { as_of: parse_as_of("2025-01-01") },
        ..HistoryRequest::default()
    };
    let error =
        analyse_export("t.csv", &fixture_bytes("telco_snapshot.csv"), &request, &mut |_| {}).expect_err("no dates");
    assert!(error.message.contains("--as-of"), "{error}");
    let output = run_subtwin(&["history", &fixture_arg("telco_snapshot.csv"), &fixture_arg("basic.csv")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("read on its own"), "{}", text(&output.stderr));
}

// cohorts.csv, by hand: Pro counts ages in months, its cohorts are months (2025-02's rows come
// first, and 2025-01's ages are out of order: they are placed by age). 2025-01: 10, 8, 7, 7;
// 2025-02: 5, 4, 2; 2025-03: 6, 6 (price 59.00, the others 49.00). Team counts in years; its
// cohorts 2024 (4, 3) and 2025 (2) are labels, not months, kept in the file's order; no price.
#[test]
fn a_cohort_table_gives_survivors_by_cohort_and_age() {
    let report = cohorts("cohorts.csv", &fixture_bytes("cohorts.csv"), &HistoryRequest::default());
    assert_eq!((report.kind.as_str(), report.format.as_str()), ("cohorts", "cohort_table"));
    assert_eq!((report.currency.as_deref(), report.decimals), (None, 2));
    assert_eq!(report.problems, []);
    let s = &report.summary;
    assert_eq!((s.rows_read, s.rows_set_aside, s.segments, s.cohorts), (12, 0, 2, 5));
    // (segment, period, [(cohort, month, size, survivors, price)])
    type Shape<'a> = (&'a str, &'a str, Vec<(&'a str, Option<&'a str>, u64, Vec<u64>, Option<f64>)>);
    let shape: Vec<Shape> = report
        .segments
        .iter()
        .map(|segment| {
            (
                segment.name.as_str(),
                segment.period.as_str(),
                segment
                    .cohorts
                    .iter()
                    .map(|c| (c.cohort.as_str(), c.month.as_deref(), c.size, c.survivors.clone(), c.price))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (
                "Pro",
                "month",
                vec![
                    ("2025-01", Some("2025-01"), 10, vec![10, 8, 7, 7], Some(49.0)),
                    ("2025-02", Some("2025-02"), 5, vec![5, 4, 2], Some(49.0)),
                    ("2025-03", Some("2025-03"), 6, vec![6, 6], Some(59.0)),
                ]
            ),
            ("Team", "year", vec![("2024", None, 4, vec![4, 3], None), ("2025", None, 2, vec![2], None)]),
        ]
    );
}

#[test]
fn the_command_prints_a_cohort_table_as_text_and_as_json() {
    let output = run_subtwin(&["history", &fixture_arg("cohorts.csv"), "--currency", "eur"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let lines = squeezed(&text(&output.stdout));
    for wanted in [
        "Rows 12 read, 0 set aside",
        "Segments Pro (3 cohorts, ages in months); Team (2 cohorts, ages in years)",
        "Currency EUR",
        "Pro: survivors by cohort and age (months)",
        "Cohort Price Age 0 1 2 3",
        "2025-01 €49.00 10 8 7 7",
        "2025-02 €49.00 5 4 2",
        "2025-03 €59.00 6 6",
        "Team: survivors by cohort and age (years)",
        "Cohort Age 0 1",
        "2024 4 3",
        "2025 2",
    ] {
        assert!(lines.iter().any(|l| l == wanted), "no line {wanted:?} in:\n{}", lines.join("\n"));
    }
    let output = run_subtwin(&["history", &fixture_arg("cohorts.csv"), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["kind"], "cohorts");
    assert_eq!(value["format"], "cohort_table");
    assert_eq!(value["currency"], Value::Null);
    assert_eq!(
        value["segments"][0]["cohorts"][0],
        serde_json::json!({"cohort": "2025-01", "month": "2025-01", "size": 10, "survivors": [10, 8, 7, 7], "price": 49.0})
    );
    let back: CohortReport = serde_json::from_slice(&output.stdout).expect("reads back");
    assert_eq!(back, cohorts("cohorts.csv", &fixture_bytes("cohorts.csv"), &HistoryRequest::default()));
}

#[test]
fn cohort_rows_that_cannot_be_read_are_set_aside_with_line_column_and_value() {
    let table = "segment,cohort,age,active,period,price\n\
                 Pro,2025-01,0,10,month,49.00\n\
                 Pro,2025-01,1,7.5,month,49.00\n\
                 Pro,2025-01,1,8,month,49.00\n\
                 Pro,2025-01,2,-1,month,49.00\n\
                 Pro,2025-02,0,5,month,49.00\n\
                 Pro,2025-02,1,4,month,49.00\n\
                 Pro,2025-02,2,6,month,49.00\n\
                 Pro,2025-02,1,3,month,49.00\n\
                 Pro,2025-03,1,6,month,59.00\n\
                 Pro,2025-03,2,5,month,59.00\n\
                 Pro,2025-04,0,6,week,59.00\n\
                 Pro,2025-04,0,6,year,59.00\n\
                 Pro,2025-05,0,6,month,59.00\n\
                 Pro,2025-05,1,5,month,55.00\n\
                 Pro,2025-06,0,9,month,\n\
                 Pro,2025-06,1,9,month,\n\
                 Pro,2025-06,3,8,month,\n";
    let report = cohorts("mess.csv", table.as_bytes(), &HistoryRequest::default());
    // (line, column, value, a word of the reason)
    let expected: &[(u64, &str, &str, &str)] = &[
        (3, "active", "7.5", "whole number"),
        (5, "active", "-1", "negative"),
        (8, "active", "6", "cannot increase"),
        (9, "age", "1", "line 7"),
        (10, "age", "1", "no age 0"),
        (11, "age", "2", "no age 0"),
        (12, "period", "week", "not a period"),
        (13, "period", "year", "months (line 2)"),
        (15, "price", "55.00", "another price on line 14"),
        (18, "age", "3", "no usable row for age 2"),
    ];
    let actual: Vec<(u64, &str, &str)> =
        report.problems.iter().map(|p| (p.line, p.column.as_str(), p.value.as_str())).collect();
    let wanted: Vec<(u64, &str, &str)> = expected.iter().map(|(l, c, v, _)| (*l, *c, *v)).collect();
    assert_eq!(actual, wanted);
    for (problem, (_, _, _, word)) in report.problems.iter().zip(expected) {
        assert!(problem.reason.contains(word), "line {}: {:?} should say {word:?}", problem.line, problem.reason);
        assert!(!problem.hint.is_empty());
    }
    // What is left: 2025-01 keeps ages 0 and 1 (line 4; line 3 was set aside, so line 4 is no
    // repeat), 2025-02 ages 0 and 1, 2025-05 its age 0, 2025-06 ages 0 and 1. 2025-03 (no size) and
    // 2025-04 (no readable row) are not there.
    let survivors: Vec<(&str, Vec<u64>)> =
        report.segments[0].cohorts.iter().map(|c| (c.cohort.as_str(), c.survivors.clone())).collect();
    assert_eq!(
        survivors,
        [("2025-01", vec![10, 8]), ("2025-02", vec![5, 4]), ("2025-05", vec![6]), ("2025-06", vec![9, 9])]
    );
    assert_eq!((report.summary.rows_read, report.summary.rows_set_aside), (17, 10));
}

#[test]
fn a_cohort_table_without_its_columns_is_refused_with_what_is_missing() {
    let error = analyse_export("c.csv", b"cohort,age,count\n2025-01,0,4\n", &HistoryRequest::default(), &mut |_| {})
        .expect_err("refused");
    assert!(error.message.contains("lacks the column(s) segment, active"), "{error}");
    let error =
        analyse_export("c.csv", b"segment,cohort,age,active\nA,2025-01,1,4\n", &HistoryRequest::default(), &mut |_| {})
            .expect_err("no cohort has its size");
    assert!(error.message.contains("none of the file's 1 rows"), "{error}");
    assert!(error.problems[0].reason.contains("no age 0"), "{error}");
}

#[test]
fn the_kind_of_table_is_recognised_from_the_header() {
    let kind = |name: &str| table_kind(&fixture_bytes(name), &ImportOptions::default());
    assert_eq!(kind("basic.csv"), TableKind::Subscriptions);
    assert_eq!(kind("chargebee_subscriptions.csv"), TableKind::Subscriptions);
    assert_eq!(kind("baremetrics.csv"), TableKind::Subscriptions);
    assert_eq!(kind("telco_snapshot.csv"), TableKind::Snapshot);
    assert_eq!(kind("other_kind.csv"), TableKind::Snapshot);
    assert_eq!(kind("cohorts.csv"), TableKind::Cohorts);
    let of = |text: &str| table_kind(text.as_bytes(), &ImportOptions::default());
    // Header names in any case and order, with spaces, a title line above, a byte-order mark.
    assert_eq!(of("Active,Age,Cohort,Segment\n1,0,2025-01,A\n"), TableKind::Cohorts);
    assert_eq!(of("Cohorts by plan\n\nsegment;cohort;age;active\nA;2025-01;0;3\n"), TableKind::Cohorts);
    assert_eq!(of("\u{feff}Tenure Months,Churn Value,Monthly Charges\n1,0,5\n"), TableKind::Snapshot);
    assert_eq!(of("name,email\nAda,ada@example.com\n"), TableKind::Unrecognised);
    // A format or a mapping the person gives means a subscriptions export.
    let forced = ImportOptions { format: subtwin::import::Format::from_name("stripe"), ..ImportOptions::default() };
    assert_eq!(table_kind(&fixture_bytes("telco_snapshot.csv"), &forced), TableKind::Subscriptions);

    // The subscriptions-only entry still refuses a snapshot, and the general one names what else it reads.
    assert!(subtwin::history_of_export(
        "t.csv",
        &fixture_bytes("telco_snapshot.csv"),
        &HistoryRequest::default(),
        &mut |_| {}
    )
    .is_err());
    let error =
        analyse_export("contacts.csv", b"name,email\nAda,ada@example.com\n", &HistoryRequest::default(), &mut |_| {})
            .expect_err("not a table subtwin reads");
    assert!(error.message.contains("Customer ID") && error.message.contains("also reads snapshot tables"), "{error}");
    // The command reads other_kind.csv (a telco excerpt) as a snapshot now.
    let output = run_subtwin(&["history", &fixture_arg("other_kind.csv"), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!((value["kind"].as_str(), value["summary"]["customers"].as_u64()), (Some("snapshot"), Some(3)));
}

#[test]
fn a_subscription_history_is_the_same_through_analyse_export() {
    for name in GOOD_FIXTURES {
        let analysis = analyse(name, &fixture_bytes(name), &HistoryRequest::default());
        let Analysis::History(report) = &analysis else { panic!("{name}: not a history") };
        assert_eq!(*report, report_of(name), "{name}");
        assert_eq!(analysis.to_json(), subtwin::report::to_json(report), "{name}: no `kind` added");
    }
}

#[test]
fn damaged_tables_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let inputs =
        [("telco_snapshot.csv", fixture_bytes("telco_snapshot.csv")), ("cohorts.csv", fixture_bytes("cohorts.csv"))];
    let requests = [HistoryRequest::default(), request_currency("jpy")];
    for round in 0..2000 {
        let (name, input) = &inputs[round % inputs.len()];
        let damaged = crate::robustness::mutate(&mut rng, input);
        match analyse_export(name, &damaged, &requests[round % requests.len()], &mut |_| {}) {
            Ok(analysis) => {
                let _ = analysis.to_text();
                serde_json::from_str::<Value>(&analysis.to_json()).expect("valid JSON");
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
}

/// The demo's as-of, as `subtwin history --json` derives it for `subtwin demo --subscriptions 2000`.
const DEMO_AS_OF: &str = "2025-12-31 15:27";

/// A month later by calendar, as SQL's `+ INTERVAL '1 month'` counts: the same day and time,
/// clamped to the month's last day.
fn plus_months(instant: i64, months: u32) -> i64 {
    let at = time::OffsetDateTime::from_unix_timestamp(instant).expect("a plausible instant");
    let index = at.year() * 12 + i32::from(u8::from(at.month())) - 1 + months as i32;
    let month = time::Month::try_from((index.rem_euclid(12) + 1) as u8).expect("1 to 12");
    let year = index.div_euclid(12);
    let day = at.day().min(month.length(year));
    let date = time::Date::from_calendar_date(year, month, day).expect("a date");
    date.with_time(at.time()).assume_utc().unix_timestamp()
}

// tests/fixtures/cohorts_demo_sql.csv was written by the SQL query of README ("From a subscriptions
// table to a cohort table"), run in DuckDB 2.0 on `subtwin demo --subscriptions 2000` with the as-of
// below and its optional line keeping the cohorts from 2025-01 on, after the demo's Stripe export
// was turned into the subscriptions table (id, customer_id, plan, started_at, ended_at,
// monthly_price) with: plan = `Product (Interval)`, started_at = the trial end when there was a
// trial else the start, ended_at = `Ended At`, monthly_price = Amount × Quantity (÷ 12 for yearly
// plans), leaving out incomplete and paused rows, trials lost at or before their end, and free rows.
// Here the same table is worked out from subtwin's own import of the same demo: the query and the
// importer must agree on every count and price.
#[test]
fn the_readme_query_gives_the_cohort_table_subtwin_reads() {
    let mut demo = Vec::new();
    let config = subtwin::demo::DemoConfig { subscriptions: 2000, ..Default::default() };
    subtwin::demo::write_stripe_csv(&mut demo, &config).expect("in memory");
    assert_eq!(report_of_bytes("demo.csv", &demo, &HistoryRequest::default()).as_of, "2025-12-31T15:27:00Z");
    let as_of = parse_instant(DEMO_AS_OF).expect("a date");
    let first_cohort = MonthIndex(2025 * 12);
    let as_of_month = MonthIndex::of(as_of);
    let import = subtwin::import::import("demo.csv", &demo, &ImportOptions::default(), &mut |_| {}).expect("imports");
    // (segment, cohort) → (paid starts and ends, exact monthly prices in cents)
    type Members = (Vec<(i64, Option<i64>)>, Vec<Minor>);
    let mut expected: BTreeMap<(String, String), Members> = BTreeMap::new();
    for s in &import.subscriptions {
        let lost_trial = s.trial_end.is_some_and(|trial_end| s.ended_at.is_some_and(|end| end <= trial_end));
        let never_paid = s.status.never_paid() || s.status == subtwin::import::Status::Paused;
        if never_paid || lost_trial || s.mrr.is_zero() {
            continue;
        }
        let paid_start = s.trial_end.unwrap_or(s.start);
        let cohort = MonthIndex::of(paid_start);
        if cohort < first_cohort || cohort >= as_of_month {
            continue;
        }
        let entry = expected.entry((subtwin::history::segment_name(s), cohort.label())).or_default();
        entry.0.push((paid_start, s.ended_at));
        entry.1.push(s.mrr);
    }
    let report = cohorts("cohorts_demo_sql.csv", &fixture_bytes("cohorts_demo_sql.csv"), &HistoryRequest::default());
    assert_eq!(report.problems, [], "the query's table has nothing to set aside");
    let mut read: BTreeMap<(String, String), (Vec<u64>, Option<f64>)> = BTreeMap::new();
    for segment in &report.segments {
        assert_eq!(segment.period, "month");
        for cohort in &segment.cohorts {
            read.insert((segment.name.clone(), cohort.cohort.clone()), (cohort.survivors.clone(), cohort.price));
        }
    }
    assert_eq!(read.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "the same cohorts");
    // Each segment's months 2025-01 to 2025-11 in which a subscription started paying: 6 × 11 less one.
    assert_eq!(read.len(), 65);
    for ((segment, label), (members, prices)) in &expected {
        let cohort =
            MonthIndex(label[..4].parse::<i32>().expect("year") * 12 + label[5..].parse::<i32>().expect("month") - 1);
        // Ages observed for the whole cohort: up to the as-of month's start, 2025-12 here.
        let last_age = (as_of_month.0 - cohort.0 - 1) as u32;
        let survivors: Vec<u64> = (0..=last_age)
            .map(|age| {
                members
                    .iter()
                    .filter(|(start, end)| age == 0 || end.is_none_or(|end| end > plus_months(*start, age)))
                    .count() as u64
            })
            .collect();
        // The query's price: the cohort's average monthly price, rounded to cents.
        let average = prices.iter().copied().sum::<Minor>().scale(1, prices.len() as i128).expect("small");
        let price = average.round_to_minor().expect("small") as f64 / 100.0;
        let (actual, actual_price) = &read[&(segment.clone(), label.clone())];
        assert_eq!(actual, &survivors, "{segment} {label}");
        assert_eq!(*actual_price, Some(price), "{segment} {label}");
    }
}
