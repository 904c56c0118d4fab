//! Invoices and payments exports given beside a subscriptions export: each subscription's MRR
//! follows what it was billed (before tax, after discounts) or paid, so discounts and changes
//! within a subscription show in the history; rows left out are counted and unreadable rows are
//! problems.
//!
//! `invoices.csv` and `payments.csv` bill the subscriptions of `basic.csv` (see `history.rs` for
//! that file's list-price history: 50, 140, 160 and 100 at the ends of January to April 2025).

use subtwin::import::{ImportOptions, IntervalUnit};
use subtwin::report::HistoryReport;
use subtwin::{analyse_exports, Analysis, HistoryRequest};

use crate::support::*;

fn history_of(names: &[&str]) -> HistoryReport {
    let files: Vec<(String, Vec<u8>)> = names.iter().map(|n| (n.to_string(), fixture_bytes(n))).collect();
    history_of_bytes(&files)
}

fn history_of_bytes(files: &[(String, Vec<u8>)]) -> HistoryReport {
    let inputs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    match analyse_exports(&inputs, &HistoryRequest::default(), &mut |_| {}) {
        Ok(Analysis::History(report)) => report,
        Ok(other) => panic!("not a history: {}", other.to_json()),
        Err(error) => panic!("{error}"),
    }
}

// invoices.csv, the renewal invoices that count (amount = Subtotal - Total Discount Amount, tax left
// out), as MRR:
//   sub_b1 (Basic, month): 5 on 01-05 and 02-05 (a 50% coupon), 10 from 03-05: +5 in March.
//   sub_b2: 10, 10 (ends 03-20).   sub_p1 (Pro): 30, 30, then 60 on 03-31 23:59 (a second seat):
//   +30 in March; its 03-15 proration (subscription_update) is left out.
//   sub_p2: 60, then 60 uncollectible (billed all the same).   sub_p3: 30 each month; the void 99
//   invoice of 03-14 is left out.   sub_y1 (Pro, year): 240 - 48 = 192 a year = 16 a month.
//   sub_b3: 10.   sub_b4: 10 (its second row has a bad date: a problem).   sub_t1: the trial's
//   zero invoice comes before its paid start and is left out; the trial still runs at the as-of.
// Month ends:
//   January:  b1 5 + b2 10 + p1 30 = 45, all new.
//   February: + p2 60 + p3 30 = 135.
//   March:    + y1 16 + b3 10 new, + 5 (b1) + 30 (p1) expansion, - 10 (b2) churn = 186.
//   April:    + b4 10 new, - p2 60 - b3 10 churn = 126 (partial month, to the as-of 04-18 16:42).
#[test]
fn invoices_set_mrr_net_of_discounts_and_show_expansion_within_a_subscription() {
    let report = history_of(&["basic.csv", "invoices.csv"]);
    assert_eq!(report.summary.mrr_basis, "invoiced");
    assert_eq!(report.format, "stripe");
    let inputs: Vec<(&str, &str)> = report.inputs.iter().map(|i| (i.file.as_str(), i.format.as_str())).collect();
    assert_eq!(inputs, [("basic.csv", "stripe"), ("invoices.csv", "stripe_invoices")]);
    assert_eq!(month_labels(&report), ["2025-01", "2025-02", "2025-03", "2025-04"]);
    let totals: &[(&str, &[(&str, f64)])] = &[
        ("2025-01", &[("active", 3.0), ("mrr", 45.0), ("new", 3.0), ("new_mrr", 45.0)]),
        ("2025-02", &[("active", 5.0), ("mrr", 135.0), ("new", 2.0), ("new_mrr", 90.0)]),
        (
            "2025-03",
            &[
                ("active", 6.0),
                ("mrr", 186.0),
                ("new", 2.0),
                ("new_mrr", 26.0),
                ("expanded", 2.0),
                ("expansion_mrr", 35.0),
                ("churned", 1.0),
                ("churned_mrr", 10.0),
            ],
        ),
        (
            "2025-04",
            &[
                ("active", 5.0),
                ("mrr", 126.0),
                ("new", 1.0),
                ("new_mrr", 10.0),
                ("churned", 2.0),
                ("churned_mrr", 70.0),
                ("trials_started", 1.0),
            ],
        ),
    ];
    for (label, expected) in totals {
        expect_figures(&format!("{label} totals"), &month(&report, label).figures, expected);
    }
    // The expansion lies in the subscriptions' own segments: b1's in Basic, p1's in Pro.
    let march = month(&report, "2025-03");
    assert_eq!(segment(march, "Basic (month)").expansion_mrr, 5.0);
    assert_eq!(segment(march, "Pro (month)").expansion_mrr, 30.0);
    assert_eq!(segment(march, "Pro (year)").mrr, 16.0);
}

#[test]
fn invoices_left_out_are_counted_and_unreadable_ones_are_problems() {
    let report = history_of(&["basic.csv", "invoices.csv"]);
    let notes = report.summary.notes.join("\n");
    for expected in [
        "invoices.csv: 1 invoice left out: draft or void",
        "invoices.csv: 1 invoice left out: they belong to no subscription",
        "invoices.csv: 1 invoice left out: prorations or manual invoices",
        "MRR follows invoiced amounts (before tax, after discounts) for 8 subscriptions",
    ] {
        assert!(notes.contains(expected), "notes lack {expected:?}:\n{notes}");
    }
    let problems: Vec<(&str, u64, &str, &str)> = report
        .problems
        .iter()
        .filter(|p| p.file == "invoices.csv")
        .map(|p| (p.file.as_str(), p.line, p.column.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        problems,
        [("invoices.csv", 22, "Date (UTC)", "2025-13-01 00:00"), ("invoices.csv", 24, "Subscription", "sub_zz")]
    );
    let unknown = report.problems.iter().find(|p| p.value == "sub_zz").expect("the unknown subscription");
    assert!(unknown.reason.contains("no subscription with this id"), "{}", unknown.reason);
    // basic.csv has 9 rows and invoices.csv 23.
    assert_eq!((report.summary.rows_read, report.summary.rows_set_aside), (32, 2));
}

// payments.csv, for basic.csv alone (no invoices export): Amount - Amount Refunded, matched to the
// customer's one live subscription.
//   cus_1 (sub_b1): 5, 5, 10 (03-05), a failed 12 (left out), 10 (04-06): 5 in Jan and Feb, +5 in March.
//   cus_5 (sub_p3): a refunded-in-full 30 (left out), then 30 - 5 = 25 on 03-14: p3's MRR is 25 from
//   its start, the first amount in its paid span.
//   cus_77: no subscription (a consulting fee): left out.
//   Every other subscription keeps its list price.
// Month ends: January b1 5 + b2 10 + p1 30 = 45; February + p2 60 + p3 25 = 130; March + y1 20 +
// b3 10 new, + 5 expansion, - b2 10 churn = 155; April + b4 10, - p2 60 - b3 10 = 95.
#[test]
fn payments_refine_mrr_when_there_is_no_invoices_export() {
    let report = history_of(&["basic.csv", "payments.csv"]);
    assert_eq!(report.summary.mrr_basis, "payments");
    let mrr: Vec<f64> = report.months.iter().map(|m| m.figures.mrr).collect();
    assert_eq!(mrr, [45.0, 130.0, 155.0, 95.0]);
    expect_figures(
        "March",
        &month(&report, "2025-03").figures,
        &[
            ("active", 6.0),
            ("mrr", 155.0),
            ("new", 2.0),
            ("new_mrr", 30.0),
            ("expanded", 1.0),
            ("expansion_mrr", 5.0),
            ("churned", 1.0),
            ("churned_mrr", 10.0),
        ],
    );
    let notes = report.summary.notes.join("\n");
    for expected in [
        "payments.csv: 1 payment left out: failed, pending or not captured",
        "payments.csv: 1 payment left out: refunded in full",
        "1 payment left out: their customer had no subscription live at the payment's date",
        "5 paid subscriptions have no recurring charge in their paid span",
    ] {
        assert!(notes.contains(expected), "notes lack {expected:?}:\n{notes}");
    }
}

#[test]
fn payments_of_invoices_already_given_are_not_counted_twice() {
    let with_payments = history_of(&["basic.csv", "invoices.csv", "payments.csv"]);
    let invoices_only = history_of(&["basic.csv", "invoices.csv"]);
    assert_eq!(with_payments.months, invoices_only.months);
    assert_eq!(with_payments.summary.mrr_basis, "invoiced");
    let notes = with_payments.summary.notes.join("\n");
    assert!(notes.contains("5 payments already counted through their invoices"), "{notes}");
}

#[test]
fn an_invoices_export_alone_asks_for_the_subscriptions_export() {
    let bytes = fixture_bytes("invoices.csv");
    let error = analyse_exports(&[("invoices.csv", &bytes)], &HistoryRequest::default(), &mut |_| {})
        .expect_err("invoices alone are not a history");
    assert_eq!(error.file, "invoices.csv");
    assert!(error.message.contains("Stripe invoices export"), "{}", error.message);
    assert!(error.message.contains("give the subscriptions export with it"), "{}", error.message);

    let output = run_subtwin(&["history", &fixture_arg("invoices.csv")]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("give the subscriptions export with it"), "{}", text(&output.stderr));
}

#[test]
fn the_command_reads_invoices_beside_subscriptions() {
    let output = run_subtwin(&["history", &fixture_arg("basic.csv"), &fixture_arg("invoices.csv"), "--json"]);
    // Two invoice rows are set aside; without --strict that is still success.
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["summary"]["mrr_basis"], "invoiced");
    assert_eq!(json["months"][2]["mrr"], 186.0);
    assert_eq!(json["inputs"][1]["format"], "stripe_invoices");
}

/// Writes an invoices export that bills every paid subscription of an import at its list price, on
/// each renewal from its paid start to its end or the as-of.
fn invoices_at_list_price(subscriptions: &[subtwin::import::Subscription], as_of: i64) -> Vec<u8> {
    use time::OffsetDateTime;
    let mut out = String::from("id,Subscription,Customer,Billing Reason,Status,Date (UTC),Currency,Subtotal,Total Discount Amount,Tax,Amount Paid\n");
    let mut number = 0u64;
    for s in subscriptions {
        if s.status.never_paid() || s.mrr.is_zero() {
            continue;
        }
        let paid_start = s.trial_end.filter(|&t| t > s.start).unwrap_or(s.start);
        let end = s.ended_at.unwrap_or(i64::MAX).min(as_of + 1);
        let mut at = OffsetDateTime::from_unix_timestamp(paid_start).expect("a date");
        let step = |at: OffsetDateTime| match s.interval.unit {
            IntervalUnit::Month => {
                at.checked_add(time::Duration::days(0)).and_then(|d| add_months(d, s.interval.count))
            }
            IntervalUnit::Year => add_months(at, 12 * s.interval.count),
            IntervalUnit::Week => at.checked_add(time::Duration::weeks(i64::from(s.interval.count))),
            IntervalUnit::Day => at.checked_add(time::Duration::days(i64::from(s.interval.count))),
        };
        let amount =
            s.price_per_interval.scale(i128::from(s.quantity), 1).and_then(|a| a.round_to_minor()).expect("cents");
        while at.unix_timestamp() < end {
            number += 1;
            let date = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            );
            let reason = if number == 1 { "subscription_create" } else { "subscription_cycle" };
            out.push_str(&format!(
                "in_{number},{},{},{reason},paid,{date},usd,{}.{:02},,0.00,{}.{:02}\n",
                s.id,
                s.customer,
                amount / 100,
                amount % 100,
                amount / 100,
                amount % 100
            ));
            at = step(at).expect("a later date");
        }
    }
    out.into_bytes()
}

/// A month later, on the same day or the month's last day (as Stripe's billing anchor does).
fn add_months(at: time::OffsetDateTime, months: u32) -> Option<time::OffsetDateTime> {
    let index = at.year() * 12 + i32::from(u8::from(at.month())) - 1 + months as i32;
    let (year, month) = (index.div_euclid(12), time::Month::try_from((index.rem_euclid(12) + 1) as u8).ok()?);
    let day = at.day().min(month.length(year));
    at.replace_day(1).ok()?.replace_year(year).ok()?.replace_month(month).ok()?.replace_day(day).ok()
}

// Invoices that bill exactly the list price, on every renewal, change no figure of the demo
// company's history: the refinement adds what invoices say and nothing else.
#[test]
fn invoices_at_list_price_leave_the_demo_history_unchanged() {
    let mut demo = Vec::new();
    let config = subtwin::demo::DemoConfig { subscriptions: 3_000, ..subtwin::demo::DemoConfig::default() };
    subtwin::demo::write_stripe_csv(&mut demo, &config).expect("demo");
    let import = subtwin::import::import("demo.csv", &demo, &ImportOptions::default(), &mut |_| {}).expect("demo");
    let plain = history_of_bytes(&[("demo.csv".into(), demo.clone())]);
    let as_of = subtwin::import::values::parse_instant(&plain.as_of).expect("as-of");
    let invoices = invoices_at_list_price(&import.subscriptions, as_of);
    let refined = history_of_bytes(&[("demo.csv".into(), demo), ("invoices.csv".into(), invoices)]);
    assert_eq!(refined.summary.mrr_basis, "invoiced");
    let notes = refined.summary.notes.join("\n");
    let refined_count = format!("for {} subscriptions", plain.summary.paid);
    assert!(notes.contains(&refined_count), "every paid subscription is billed ({refined_count}):\n{notes}");
    assert!(!notes.contains("no recurring charge"), "{notes}");
    assert_eq!(refined.months, plain.months);
    assert!(refined.problems.len() == plain.problems.len(), "{:?}", &refined.problems[..refined.problems.len().min(5)]);
}
