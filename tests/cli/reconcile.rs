//! The movements explain every change, month after month, for every fixture and for the demo:
//! `active = previous + new + reactivated - churned` and
//! `mrr = previous + new + reactivation + expansion - contraction - churned` in totals, with moves in
//! and out added in segment views; the segments add up to the totals.
//!
//! Checked twice: exactly, on the history the library builds (exact minor units), and on the JSON,
//! where every money figure is rounded to the minor unit on its own.

use subtwin::demo::{write_stripe_csv, DemoConfig};
use subtwin::history::{self, HistoryOptions, MonthFigures};
use subtwin::import::{self, ImportOptions};
use subtwin::money::{Currency, Minor};
use subtwin::report::{FiguresReport, HistoryReport};
use subtwin::HistoryRequest;

use crate::support::*;

fn demo_export() -> Vec<u8> {
    let mut bytes = Vec::new();
    write_stripe_csv(&mut bytes, &DemoConfig::default()).expect("writing to a Vec");
    bytes
}

/// Every input the reconciliation runs on: the fixtures, each currency of the two-currency file,
/// and the demo.
fn inputs() -> Vec<(String, Vec<u8>, ImportOptions)> {
    let mut inputs: Vec<(String, Vec<u8>, ImportOptions)> =
        GOOD_FIXTURES.iter().map(|name| (name.to_string(), fixture_bytes(name), ImportOptions::default())).collect();
    inputs.push((
        "currencies.csv".into(),
        fixture_bytes("currencies.csv"),
        ImportOptions { currency: Some("eur".into()), ..ImportOptions::default() },
    ));
    inputs.push(("demo.csv".into(), demo_export(), ImportOptions::default()));
    inputs
}

fn signed(count: u64) -> i64 {
    i64::try_from(count).expect("a count fits in i64")
}

fn check_exact(context: &str, previous: &MonthFigures, now: &MonthFigures, segment_view: bool) {
    let (moved_in, moved_out) = if segment_view {
        (signed(now.moved_in), signed(now.moved_out))
    } else {
        assert_eq!((now.moved_in, now.moved_out), (0, 0), "{context}: moves in totals");
        (0, 0)
    };
    let active = signed(previous.active) + signed(now.new) + signed(now.reactivated) - signed(now.churned) + moved_in
        - moved_out;
    assert_eq!(signed(now.active), active, "{context}: active");
    let mrr =
        previous.mrr + now.new_mrr + now.reactivation_mrr + now.expansion_mrr - now.contraction_mrr - now.churned_mrr
            + now.moved_in_mrr
            - now.moved_out_mrr;
    assert_eq!(now.mrr, mrr, "{context}: mrr");
}

#[test]
fn movements_reconcile_exactly_in_the_history() {
    for (name, bytes, options) in inputs() {
        let imported = import::import(&name, &bytes, &options, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
        let history = history::build(&imported.subscriptions, &HistoryOptions::default()).expect("a history");
        assert!(!history.months.is_empty(), "{name}: no months");
        let empty_segments = vec![MonthFigures::default(); history.segments.len()];
        let empty = MonthFigures::default();
        for (index, month) in history.months.iter().enumerate() {
            let previous = index.checked_sub(1).map(|i| &history.months[i]);
            let context = format!("{name} {}", month.month.label());
            check_exact(
                &format!("{context} totals"),
                previous.map(|p| &p.total).unwrap_or(&empty),
                &month.total,
                false,
            );
            let previous_segments = previous.map(|p| &p.by_segment).unwrap_or(&empty_segments);
            for ((segment, figures), previous) in history.segments.iter().zip(&month.by_segment).zip(previous_segments)
            {
                check_exact(&format!("{context} {segment}"), previous, figures, true);
            }
            let active: u64 = month.by_segment.iter().map(|f| f.active).sum();
            let mrr: Minor = month.by_segment.iter().map(|f| f.mrr).sum();
            assert_eq!((active, mrr), (month.total.active, month.total.mrr), "{context}: segment sums");
        }
    }
}

/// JSON rounds every money figure to the minor unit on its own, so an equation between rounded
/// figures may miss by a little: 1.1 minor units (0.011 in dollars) is allowed. (The exact check
/// above is the one that proves the movements; this one proves the JSON carries them faithfully.)
fn tolerance(currency: &Currency) -> f64 {
    1.1 * 10f64.powi(-(currency.minor_digits as i32))
}

fn check_json(context: &str, previous: Option<&FiguresReport>, now: &FiguresReport, currency: &Currency) {
    let previous_active = previous.map(|p| p.active).unwrap_or(0);
    let previous_mrr = previous.map(|p| p.mrr).unwrap_or(0.0);
    let moved_in = now.moved_in.unwrap_or(0);
    let moved_out = now.moved_out.unwrap_or(0);
    assert_eq!(
        signed(now.active),
        signed(previous_active) + signed(now.new) + signed(now.reactivated) - signed(now.churned) + signed(moved_in)
            - signed(moved_out),
        "{context}: active"
    );
    let terms = [
        previous_mrr,
        now.new_mrr,
        now.reactivation_mrr,
        now.expansion_mrr,
        -now.contraction_mrr,
        -now.churned_mrr,
        now.moved_in_mrr.unwrap_or(0.0),
        -now.moved_out_mrr.unwrap_or(0.0),
    ];
    let explained: f64 = terms.iter().sum();
    let limit = tolerance(currency);
    assert!(
        (now.mrr - explained).abs() <= limit,
        "{context}: mrr {} but the movements explain {explained} (tolerance {limit})",
        now.mrr
    );
}

fn check_report_json(name: &str, report: &HistoryReport) {
    let currency = Currency::from_code(&report.currency).expect("an ISO currency");
    for (index, month) in report.months.iter().enumerate() {
        let previous = index.checked_sub(1).map(|i| &report.months[i]);
        let context = format!("{name} {}", month.month);
        check_json(&format!("{context} totals"), previous.map(|p| &p.figures), &month.figures, &currency);
        assert!(month.figures.moved_in.is_none() && month.figures.moved_out.is_none());
        for (segment, figures) in &month.by_segment {
            check_json(&format!("{context} {segment}"), previous.map(|p| &p.by_segment[segment]), figures, &currency);
        }
        let active: u64 = month.by_segment.values().map(|f| f.active).sum();
        assert_eq!(active, month.figures.active, "{context}: segment actives");
        let mrr: f64 = month.by_segment.values().map(|f| f.mrr).sum();
        let limit = tolerance(&currency);
        assert!(
            (mrr - month.figures.mrr).abs() <= limit,
            "{context}: segments sum to {mrr}, the total is {}",
            month.figures.mrr
        );
    }
}

#[test]
fn movements_reconcile_in_the_json_within_rounding() {
    for (name, bytes, options) in inputs() {
        let request = HistoryRequest { import: options, ..HistoryRequest::default() };
        let report = report_of_bytes(&name, &bytes, &request);
        check_report_json(&name, &report);
    }
}

#[test]
fn movements_reconcile_when_the_as_of_cuts_a_month() {
    // A given as-of in the middle of the history: the partial last month still adds up.
    for (name, as_of) in
        [("switches.csv", "2025-03-31 08:00"), ("trials.csv", "2025-02-10"), ("basic.csv", "2025-03-15")]
    {
        let report = report_with(name, &request_as_of(as_of));
        check_report_json(&format!("{name} as of {as_of}"), &report);
    }
}
