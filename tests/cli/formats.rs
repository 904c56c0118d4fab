//! The Chargebee, Recurly and Baremetrics exports: small files written by hand from each vendor's
//! documented header (not by the demo generator, which cannot catch its own misreading of a vendor),
//! format detection, the Chargebee zip, and the same generated business exported by all four vendors.
//!
//! The hand computations follow README's conventions: paid from the trial end (or start) until the
//! end; a month's figures are the state just before the next month begins (UTC). Vendor rules applied
//! by hand: Chargebee `Non Renewing` is live until `current_term_end`, `Cancelled` ended at
//! `cancelled_at`, `Future` is not counted, `Paused` stops counting at `pause_date`; Recurly
//! `canceled` is live until `expires_at`, `expired` ended at `expires_at`; Baremetrics amounts are
//! cents and a row without `subscription_canceled_at` is live.

use std::io::Write;

use subtwin::demo::{write_csv, write_stripe_csv, DemoConfig, DemoFormat};
use subtwin::import::{Format, ImportError, ImportOptions};
use subtwin::report::HistoryReport;
use subtwin::HistoryRequest;

use crate::support::*;

/// Every hand-written fixture of this module, with the format it is.
const VENDOR_FIXTURES: &[(&str, &str)] = &[
    ("chargebee_subscriptions.csv", "chargebee"),
    ("chargebee_bulk_import.csv", "chargebee"),
    ("recurly_v6.csv", "recurly"),
    ("recurly_old.csv", "recurly"),
    ("baremetrics.csv", "baremetrics"),
];

fn forced(format: Format) -> HistoryRequest {
    HistoryRequest { import: ImportOptions { format: Some(format), ..ImportOptions::default() }, ..Default::default() }
}

fn import_error(name: &str, bytes: &[u8], request: &HistoryRequest) -> ImportError {
    match subtwin::history_of_export(name, bytes, request, &mut |_| {}) {
        Ok(report) => panic!("{name}: expected an import error, got a {} report", report.format),
        Err(error) => error,
    }
}

fn problem_columns(report: &HistoryReport) -> Vec<(u64, &str, &str)> {
    report.problems.iter().map(|p| (p.line, p.column.as_str(), p.value.as_str())).collect()
}

// chargebee_subscriptions.csv (Export Data, dotted header; USD; customers all different):
//   cb_a1 basic-monthly 10        Active from 2025-01-10; term Mar 10 -> Apr 10: a month
//   cb_a2 pro 2 x 150             Active from 2025-01-20; term 2025-01-20 -> 2026-01-20: a year,
//                                 MRR 300 / 12 = 25, segment `pro (year)`
//   cb_q1 growth 90               Active from 2025-02-01; term Feb 1 -> May 1: 3 months, MRR 30
//   cb_q2 growth 90               Cancelled (no term) 2025-01-08 -> 2025-02-08; 3 months from
//                                 cb_q1, the same plan: MRR 30
//   cb_n1 basic-monthly 10        Non Renewing from 2025-01-15 12:00, live until its term ends,
//                                 2025-04-15 12:00
//   cb_c1 basic-annual 120        Cancelled (no term) 2025-01-05 -> 2025-03-05; `annual` in the
//                                 plan id: a year, MRR 10
//   cb_t1 pro-monthly 40          In Trial 2025-04-20 -> 2025-05-04 (no term): still a trial
//   cb_t2 pro-monthly 40          trial 2025-02-10 -> 2025-02-24, then paid; term a month: MRR 40
//   cb_p1 basic-monthly 10        Paused at 2025-03-25 (pause_date); paid from 2025-01-25
//   cb_f1 pro-monthly 40          Future, starting 2025-06-01: not counted, not a problem
//   cb_x1 enterprise 500          Cancelled, no term, no interval in the id, no other row of the
//                                 plan: set aside (line 12)
// Month ends (to the end of April):
//   Jan: a1 10, a2 25, q2 30, n1 10, c1 10, p1 10 = 6 active, 95, all new
//   Feb: + q1 30 + t2 40 (its trial started and converted), - q2 30 = 7 active, 135
//   Mar: - c1 10 (Mar 5), - p1 10 (paused Mar 25) = 5 active, 115
//   Apr: - n1 10 (Apr 15); t1's trial starts = 4 active, 105 (a1 10 + a2 25 + q1 30 + t2 40)
#[test]
fn chargebee_export_month_by_month_with_its_statuses_and_inferred_intervals() {
    let report = report_with("chargebee_subscriptions.csv", &request_as_of("2025-04-30"));
    assert_eq!(report.format, "chargebee");
    assert_eq!(
        report.segments,
        ["basic-annual (year)", "basic-monthly (month)", "growth (3 months)", "pro (year)", "pro-monthly (month)"]
    );
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03", "2025-04"],
        &[
            ("2025-01", None, &[("active", 6.0), ("mrr", 95.0), ("new", 6.0), ("new_mrr", 95.0)]),
            (
                "2025-01",
                Some("basic-annual (year)"),
                &[("active", 1.0), ("mrr", 10.0), ("new", 1.0), ("new_mrr", 10.0)],
            ),
            (
                "2025-01",
                Some("basic-monthly (month)"),
                &[("active", 3.0), ("mrr", 30.0), ("new", 3.0), ("new_mrr", 30.0)],
            ),
            ("2025-01", Some("growth (3 months)"), &[("active", 1.0), ("mrr", 30.0), ("new", 1.0), ("new_mrr", 30.0)]),
            ("2025-01", Some("pro (year)"), &[("active", 1.0), ("mrr", 25.0), ("new", 1.0), ("new_mrr", 25.0)]),
            (
                "2025-02",
                None,
                &[
                    ("active", 7.0),
                    ("mrr", 135.0),
                    ("new", 2.0),
                    ("new_mrr", 70.0),
                    ("churned", 1.0),
                    ("churned_mrr", 30.0),
                    ("trials_started", 1.0),
                    ("trials_converted", 1.0),
                ],
            ),
            ("2025-02", Some("basic-annual (year)"), &[("active", 1.0), ("mrr", 10.0)]),
            ("2025-02", Some("basic-monthly (month)"), &[("active", 3.0), ("mrr", 30.0)]),
            (
                "2025-02",
                Some("growth (3 months)"),
                &[
                    ("active", 1.0),
                    ("mrr", 30.0),
                    ("new", 1.0),
                    ("new_mrr", 30.0),
                    ("churned", 1.0),
                    ("churned_mrr", 30.0),
                ],
            ),
            ("2025-02", Some("pro (year)"), &[("active", 1.0), ("mrr", 25.0)]),
            (
                "2025-02",
                Some("pro-monthly (month)"),
                &[
                    ("active", 1.0),
                    ("mrr", 40.0),
                    ("new", 1.0),
                    ("new_mrr", 40.0),
                    ("trials_started", 1.0),
                    ("trials_converted", 1.0),
                ],
            ),
            ("2025-03", None, &[("active", 5.0), ("mrr", 115.0), ("churned", 2.0), ("churned_mrr", 20.0)]),
            ("2025-03", Some("basic-annual (year)"), &[("churned", 1.0), ("churned_mrr", 10.0)]),
            (
                "2025-03",
                Some("basic-monthly (month)"),
                &[("active", 2.0), ("mrr", 20.0), ("churned", 1.0), ("churned_mrr", 10.0)],
            ),
            ("2025-03", Some("growth (3 months)"), &[("active", 1.0), ("mrr", 30.0)]),
            ("2025-03", Some("pro (year)"), &[("active", 1.0), ("mrr", 25.0)]),
            ("2025-03", Some("pro-monthly (month)"), &[("active", 1.0), ("mrr", 40.0)]),
            (
                "2025-04",
                None,
                &[("active", 4.0), ("mrr", 105.0), ("churned", 1.0), ("churned_mrr", 10.0), ("trials_started", 1.0)],
            ),
            (
                "2025-04",
                Some("basic-monthly (month)"),
                &[("active", 1.0), ("mrr", 10.0), ("churned", 1.0), ("churned_mrr", 10.0)],
            ),
            ("2025-04", Some("growth (3 months)"), &[("active", 1.0), ("mrr", 30.0)]),
            ("2025-04", Some("pro (year)"), &[("active", 1.0), ("mrr", 25.0)]),
            ("2025-04", Some("pro-monthly (month)"), &[("active", 1.0), ("mrr", 40.0), ("trials_started", 1.0)]),
        ],
    );
    let s = &report.summary;
    assert_eq!((s.rows_read, s.rows_set_aside, s.subscriptions), (11, 1, 10));
    // Paid: all but the trial t1 and the scheduled f1; p1 paid until its pause.
    assert_eq!((s.paid, s.trialing, s.paused, s.after_as_of), (8, 1, 1, 1));
    assert_eq!(problem_columns(&report), [(12, "subscriptions.plan_id", "enterprise")]);
    assert!(report.problems[0].reason.contains("billing interval cannot be inferred"));
    // Term dates: a1, a2, q1, n1, t2, p1. The same plan: q2. The plan id: c1, t1, f1.
    assert_eq!(
        s.notes,
        [
            "billing interval inferred from term dates for 6 subscriptions",
            "billing interval inferred from other subscriptions of the same plan for 1 subscription",
            "billing interval inferred from the plan name (such as `monthly` or `annual`) for 3 subscriptions",
        ]
    );
}

#[test]
fn a_future_chargebee_subscription_does_not_move_the_as_of_and_paused_ones_say_so() {
    // The latest event that happened is cb_f1's creation, 2025-04-28 09:00; its start (June) is
    // scheduled, as are the term ends and t1's trial end.
    let report = report_of("chargebee_subscriptions.csv");
    assert_eq!(report.as_of, "2025-04-28T09:00:00Z");
    assert_eq!(month(&report, "2025-04").figures.active, 4);
    // Without its pause date, cb_p1 counts no MRR at any time, and a note says so: Jan 95 - 10.
    let text =
        text(&fixture_bytes("chargebee_subscriptions.csv")).replace(",2025-03-25 00:00:00,USD,cus_9", ",,USD,cus_9");
    let report = report_of_bytes("chargebee_subscriptions.csv", text.as_bytes(), &request_as_of("2025-04-30"));
    assert_eq!(month(&report, "2025-01").figures.mrr, 85.0);
    assert!(report.summary.notes.iter().any(|n| n.contains("1 subscription paused without saying when")));
}

// chargebee_bulk_import.csv (bracketed header, lower_snake statuses, prices in cents):
//   bk1 starter-monthly 1900 -> 19     active from 2025-01-05 10:00; term a month
//   bk2 team 5 x 1500 -> 75            active from 2025-01-12; term a month
//   bk3 team 3 x 1500 -> 45            cancelled 2025-01-20 -> 2025-02-20; a month from bk2's plan
//   bk4 starter-monthly                in_trial 2025-02-20 -> 2025-03-06
//   bk5 starter-monthly 19             non_renewing from 2025-01-25, live until 2025-03-25
//   bk6 `19.00` in the cents column    set aside: not a whole number of cents (line 7)
// To the end of February: Jan bk1 + bk2 + bk3 + bk5 = 4 active, 158; Feb - bk3 (45) = 3, 113.
#[test]
fn chargebee_bulk_import_files_read_with_bracketed_headers_and_cents() {
    let report = report_with("chargebee_bulk_import.csv", &request_as_of("2025-02-28"));
    assert_eq!(report.format, "chargebee");
    assert_eq!(report.segments, ["starter-monthly (month)", "team (month)"]);
    expect_history(
        &report,
        &["2025-01", "2025-02"],
        &[
            ("2025-01", None, &[("active", 4.0), ("mrr", 158.0), ("new", 4.0), ("new_mrr", 158.0)]),
            (
                "2025-01",
                Some("starter-monthly (month)"),
                &[("active", 2.0), ("mrr", 38.0), ("new", 2.0), ("new_mrr", 38.0)],
            ),
            ("2025-01", Some("team (month)"), &[("active", 2.0), ("mrr", 120.0), ("new", 2.0), ("new_mrr", 120.0)]),
            (
                "2025-02",
                None,
                &[("active", 3.0), ("mrr", 113.0), ("churned", 1.0), ("churned_mrr", 45.0), ("trials_started", 1.0)],
            ),
            ("2025-02", Some("starter-monthly (month)"), &[("active", 2.0), ("mrr", 38.0), ("trials_started", 1.0)]),
            (
                "2025-02",
                Some("team (month)"),
                &[("active", 1.0), ("mrr", 75.0), ("churned", 1.0), ("churned_mrr", 45.0)],
            ),
        ],
    );
    assert_eq!(problem_columns(&report), [(7, "subscription[plan_unit_price]", "19.00")]);
    assert!(report.summary.notes.iter().any(|n| n.contains("subscription[plan_unit_price] read in")));
}

// recurly_v6.csv (version 6 header, then a custom field; USD; dates with zones):
//   r1 basic-monthly Basic 10   active, activated 2025-01-10 01:00 PST (09:00 UTC); period
//                               Apr 10 02:00 PDT -> May 10 02:00 PDT (09:00 UTC both): a month
//   r2 pro-annual Pro 240       active, activated 2025-01-31 23:30 EST = 2025-02-01 04:30 UTC, so
//                               February's; period a year: MRR 20, `Pro (year)`
//   r3 basic-monthly 10         canceled (asked 2025-03-20), live until expires_at 2025-04-15 12:00
//   r4 basic-monthly 10         expired: 2025-01-20 -> expires_at 2025-02-20 (canceled_at Feb 10
//                               was the request)
//   r5 pro-monthly Pro 30       active in trial 2025-04-25 -> 2025-05-09; its period is the trial,
//                               so the interval comes from the plan code
//   r6 pro-monthly              future (2025-06-01): not counted
//   r7 pro-monthly Pro 30       paused at 2025-04-05; paid from 2025-02-05
//   r8 basic-monthly            dates in IST (India, Israel or Ireland?): set aside, line 9
//   r9 gold 99                  a 17-day period, no other gold row, no interval in the name:
//                               set aside, line 10
//   r10 team Team 4 x 15 = 60   activated 2025-03-01 01:00 +02:00 = 2025-02-28 23:00 UTC: February's
// Month ends (to the end of April):
//   Jan: r1 10, r3 10, r4 10 = 3 active, 30
//   Feb: + r2 20 + r7 30 + r10 60 - r4 10 = 5 active, 130
//   Mar: 5 active, 130
//   Apr: - r7 30 (paused Apr 5), - r3 10 (Apr 15); r5's trial starts = 3 active, 90
#[test]
fn recurly_v6_export_with_time_zones_states_and_inferred_intervals() {
    let report = report_with("recurly_v6.csv", &request_as_of("2025-04-30"));
    assert_eq!(report.format, "recurly");
    assert_eq!(report.segments, ["Basic (month)", "Pro (month)", "Pro (year)", "Team (month)"]);
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03", "2025-04"],
        &[
            ("2025-01", None, &[("active", 3.0), ("mrr", 30.0), ("new", 3.0), ("new_mrr", 30.0)]),
            ("2025-01", Some("Basic (month)"), &[("active", 3.0), ("mrr", 30.0), ("new", 3.0), ("new_mrr", 30.0)]),
            (
                "2025-02",
                None,
                &[
                    ("active", 5.0),
                    ("mrr", 130.0),
                    ("new", 3.0),
                    ("new_mrr", 110.0),
                    ("churned", 1.0),
                    ("churned_mrr", 10.0),
                ],
            ),
            (
                "2025-02",
                Some("Basic (month)"),
                &[("active", 2.0), ("mrr", 20.0), ("churned", 1.0), ("churned_mrr", 10.0)],
            ),
            ("2025-02", Some("Pro (month)"), &[("active", 1.0), ("mrr", 30.0), ("new", 1.0), ("new_mrr", 30.0)]),
            ("2025-02", Some("Pro (year)"), &[("active", 1.0), ("mrr", 20.0), ("new", 1.0), ("new_mrr", 20.0)]),
            ("2025-02", Some("Team (month)"), &[("active", 1.0), ("mrr", 60.0), ("new", 1.0), ("new_mrr", 60.0)]),
            ("2025-03", None, &[("active", 5.0), ("mrr", 130.0)]),
            ("2025-03", Some("Basic (month)"), &[("active", 2.0), ("mrr", 20.0)]),
            ("2025-03", Some("Pro (month)"), &[("active", 1.0), ("mrr", 30.0)]),
            ("2025-03", Some("Pro (year)"), &[("active", 1.0), ("mrr", 20.0)]),
            ("2025-03", Some("Team (month)"), &[("active", 1.0), ("mrr", 60.0)]),
            (
                "2025-04",
                None,
                &[("active", 3.0), ("mrr", 90.0), ("churned", 2.0), ("churned_mrr", 40.0), ("trials_started", 1.0)],
            ),
            (
                "2025-04",
                Some("Basic (month)"),
                &[("active", 1.0), ("mrr", 10.0), ("churned", 1.0), ("churned_mrr", 10.0)],
            ),
            ("2025-04", Some("Pro (month)"), &[("churned", 1.0), ("churned_mrr", 30.0), ("trials_started", 1.0)]),
            ("2025-04", Some("Pro (year)"), &[("active", 1.0), ("mrr", 20.0)]),
            ("2025-04", Some("Team (month)"), &[("active", 1.0), ("mrr", 60.0)]),
        ],
    );
    let s = &report.summary;
    assert_eq!((s.rows_read, s.rows_set_aside, s.subscriptions), (10, 2, 8));
    assert_eq!((s.paid, s.trialing, s.paused, s.after_as_of), (6, 1, 1, 1));
    assert_eq!(
        problem_columns(&report),
        [
            (9, "activated_at", "2025-02-02 10:00:00 IST"),
            (9, "current_period_started_at", "2025-04-02 10:00:00 IST"),
            (9, "current_period_ends_at", "2025-05-02 10:00:00 IST"),
            (10, "plan_code", "gold"),
        ]
    );
    assert!(report.problems[0].reason.contains("ambiguous"), "{:?}", report.problems[0]);
    assert_eq!(
        s.notes,
        [
            "billing interval inferred from current period dates for 6 subscriptions",
            "billing interval inferred from the plan name (such as `monthly` or `annual`) for 2 subscriptions",
        ]
    );
}

// recurly_old.csv: the first 21 columns of version 6 (no plan_name: the plan code is the segment), EUR.
//   o1 silver-monthly 12   active from 2024-11-05 10:00; period a month
//   o2 silver-monthly 12   expired 2024-11-20 -> 2024-12-20 00:00 (the latest event: the as-of)
//   o3 silver-yearly 120   canceled on 2024-12-15, live until 2025-12-10: MRR 10
// Nov: o1 + o2 = 2 active, 24. Dec (to Dec 20 00:00): + o3 10, - o2 12 = 2 active, 22.
#[test]
fn older_recurly_exports_with_fewer_columns_read_too() {
    let report = report_of("recurly_old.csv");
    assert_eq!((report.format.as_str(), report.currency.as_str()), ("recurly", "eur"));
    assert_eq!(report.as_of, "2024-12-20T00:00:00Z");
    expect_history(
        &report,
        &["2024-11", "2024-12"],
        &[
            ("2024-11", None, &[("active", 2.0), ("mrr", 24.0), ("new", 2.0), ("new_mrr", 24.0)]),
            (
                "2024-11",
                Some("silver-monthly (month)"),
                &[("active", 2.0), ("mrr", 24.0), ("new", 2.0), ("new_mrr", 24.0)],
            ),
            (
                "2024-12",
                None,
                &[
                    ("active", 2.0),
                    ("mrr", 22.0),
                    ("new", 1.0),
                    ("new_mrr", 10.0),
                    ("churned", 1.0),
                    ("churned_mrr", 12.0),
                ],
            ),
            (
                "2024-12",
                Some("silver-monthly (month)"),
                &[("active", 1.0), ("mrr", 12.0), ("churned", 1.0), ("churned_mrr", 12.0)],
            ),
            (
                "2024-12",
                Some("silver-yearly (year)"),
                &[("active", 1.0), ("mrr", 10.0), ("new", 1.0), ("new_mrr", 10.0)],
            ),
        ],
    );
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

// baremetrics.csv (the template's header; cents; dates alone):
//   subscription_1 Starter 1900 month        from 2025-01-05: 19
//   subscription_2 Team 4 x 1500 month       2025-01-10 -> 2025-03-10: 60
//   subscription_3 Starter 18000 year, quantity blank (1)   from 2025-02-01: 180 / 12 = 15
//   subscription_4 Pro 12000 every 3 months  from 2025-02-14: 120 / 3 = 40
//   subscription_5 Weekly box 1200 week      from 2025-03-03: 12 x 52 / 12 = 52
//   subscription_6 `19.00` cents             set aside (line 7)
//   subscription_7 Pro 12000 / 3 months      customer_2 again, from 2025-03-12: two days after
//                                            subscription_2 ended, a switch: 60 -> 40, contraction 20
// To the end of March: Jan 19 + 60 = 2 active, 79. Feb + 15 + 40 = 4, 134. Mar + 52, switch - 20 =
// 5 active, 166; in segments the switch is a move out of Team (60) and into Pro (40).
#[test]
fn baremetrics_template_in_cents_with_a_plan_switch() {
    let report = report_with("baremetrics.csv", &request_as_of("2025-03-31"));
    assert_eq!(report.format, "baremetrics");
    assert_eq!(
        report.segments,
        ["Pro (3 months)", "Starter (month)", "Starter (year)", "Team (month)", "Weekly box (week)"]
    );
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03"],
        &[
            ("2025-01", None, &[("active", 2.0), ("mrr", 79.0), ("new", 2.0), ("new_mrr", 79.0)]),
            ("2025-01", Some("Starter (month)"), &[("active", 1.0), ("mrr", 19.0), ("new", 1.0), ("new_mrr", 19.0)]),
            ("2025-01", Some("Team (month)"), &[("active", 1.0), ("mrr", 60.0), ("new", 1.0), ("new_mrr", 60.0)]),
            ("2025-02", None, &[("active", 4.0), ("mrr", 134.0), ("new", 2.0), ("new_mrr", 55.0)]),
            ("2025-02", Some("Pro (3 months)"), &[("active", 1.0), ("mrr", 40.0), ("new", 1.0), ("new_mrr", 40.0)]),
            ("2025-02", Some("Starter (month)"), &[("active", 1.0), ("mrr", 19.0)]),
            ("2025-02", Some("Starter (year)"), &[("active", 1.0), ("mrr", 15.0), ("new", 1.0), ("new_mrr", 15.0)]),
            ("2025-02", Some("Team (month)"), &[("active", 1.0), ("mrr", 60.0)]),
            (
                "2025-03",
                None,
                &[
                    ("active", 5.0),
                    ("mrr", 166.0),
                    ("new", 1.0),
                    ("new_mrr", 52.0),
                    ("contracted", 1.0),
                    ("contraction_mrr", 20.0),
                ],
            ),
            (
                "2025-03",
                Some("Pro (3 months)"),
                &[("active", 2.0), ("mrr", 80.0), ("moved_in", 1.0), ("moved_in_mrr", 40.0)],
            ),
            ("2025-03", Some("Starter (month)"), &[("active", 1.0), ("mrr", 19.0)]),
            ("2025-03", Some("Starter (year)"), &[("active", 1.0), ("mrr", 15.0)]),
            ("2025-03", Some("Team (month)"), &[("moved_out", 1.0), ("moved_out_mrr", 60.0)]),
            ("2025-03", Some("Weekly box (week)"), &[("active", 1.0), ("mrr", 52.0), ("new", 1.0), ("new_mrr", 52.0)]),
        ],
    );
    assert_eq!(problem_columns(&report), [(7, "plan_amount", "19.00")]);
    assert_eq!(report.summary.plan_switches, 1);
    assert!(report.summary.notes.is_empty(), "{:?}", report.summary.notes);
}

#[test]
fn each_vendor_file_is_detected_as_its_format_with_certainty() {
    for (name, format) in VENDOR_FIXTURES {
        let report = report_of(name);
        assert_eq!(report.format, *format, "{name}");
        assert_eq!(report.inputs.len(), 1);
        assert_eq!((report.inputs[0].format.as_str(), report.inputs[0].confidence.as_str()), (*format, "certain"));
        let view = subtwin::report::history_view(&report);
        let label = Format::from_name(format).expect("a known format").label();
        assert_eq!(view.facts[0].value, format!("{name} ({label}, certain)"), "{name}");
    }
}

/// Detection never mixes formats up: each file is readable as its own format only, so no other
/// format's spec can win it, whichever order they are tried in.
#[test]
fn no_file_can_be_read_as_another_format() {
    let files: Vec<(&str, &str)> =
        VENDOR_FIXTURES.iter().copied().chain(GOOD_FIXTURES.iter().map(|name| (*name, "stripe"))).collect();
    for (name, own) in files {
        for format in Format::ALL {
            let request = forced(format);
            if format.name() == own {
                assert_eq!(report_with(name, &request).format, own, "{name} forced to its own format");
                continue;
            }
            let error = import_error(name, &fixture_bytes(name), &request);
            assert!(
                error.message.contains(format.label()) && error.message.contains("as asked"),
                "{name} read as {}: {}",
                format.name(),
                error.message
            );
        }
    }
}

#[test]
fn a_chargebee_file_missing_a_required_column_names_it() {
    let original = text(&fixture_bytes("chargebee_subscriptions.csv"));
    let without_currency: String = original
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            // subscriptions.currency_code is the 15th column; the one quoted field (a city with a
            // comma) comes after it and is joined back whole.
            let mut kept: Vec<&str> = fields[..14].to_vec();
            kept.extend_from_slice(&fields[15..]);
            kept.join(",") + "\n"
        })
        .collect();
    let error = import_error("no_currency.csv", without_currency.as_bytes(), &HistoryRequest::default());
    assert!(
        error.message.contains("looks like a Chargebee subscriptions export")
            && error.message.contains("lacks the column(s) subscriptions.currency_code"),
        "{}",
        error.message
    );
    // A Recurly header without state: named, as Recurly's.
    let recurly = text(&fixture_bytes("recurly_old.csv")).replacen(",state,", ",status_x,", 1);
    let error = import_error("no_state.csv", recurly.as_bytes(), &HistoryRequest::default());
    assert!(
        error.message.contains("Recurly") && error.message.contains("lacks the column(s) state"),
        "{}",
        error.message
    );
}

fn zip_of(files: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in files {
        zip.start_file(*name, options).expect("zip entry");
        zip.write_all(bytes).expect("zip write");
    }
    zip.finish().expect("zip finished").into_inner()
}

#[test]
fn the_chargebee_export_zip_is_read_as_downloaded() {
    let csv = fixture_bytes("chargebee_subscriptions.csv");
    let plain = report_with("chargebee_subscriptions.csv", &request_as_of("2025-04-30"));
    for method in [zip::CompressionMethod::Deflated, zip::CompressionMethod::Stored] {
        let zipped = zip_of(
            &[
                ("Customers.csv", b"customers.id,customers.email\ncus_1,a1@example.com\n"),
                ("Subscriptions.csv", &csv),
                ("Invoices.csv", b"invoices.id\ninv_1\n"),
            ],
            method,
        );
        let report = report_of_bytes("chargebee_export.zip", &zipped, &request_as_of("2025-04-30"));
        assert_eq!(report.format, "chargebee");
        assert_eq!(report.months, plain.months, "{method:?}");
        assert_eq!(report.inputs[0].file, "chargebee_export.zip/Subscriptions.csv");
        assert_eq!(report.problems[0].file, "chargebee_export.zip/Subscriptions.csv");
    }
    // In a folder, in another case: still found.
    let nested = zip_of(&[("export/subscriptions.CSV", &csv)], zip::CompressionMethod::Deflated);
    assert_eq!(report_of_bytes("e.zip", &nested, &request_as_of("2025-04-30")).months, plain.months);
}

#[test]
fn a_zip_without_subscriptions_says_what_it_holds() {
    let zipped = zip_of(
        &[("Customers.csv", b"customers.id\ncus_1\n"), ("Invoices.csv", b"invoices.id\ninv_1\n")],
        zip::CompressionMethod::Deflated,
    );
    let error = import_error("export.zip", &zipped, &HistoryRequest::default());
    assert_eq!(error.file, "export.zip");
    assert!(
        error.message.contains("no Subscriptions.csv") && error.message.contains("Customers.csv, Invoices.csv"),
        "{}",
        error.message
    );
    let broken = [b"PK\x03\x04".as_slice(), &[7u8; 40]].concat();
    let error = import_error("broken.zip", &broken, &HistoryRequest::default());
    assert!(error.message.contains("zip"), "{}", error.message);
    // The command says the same, exit 2.
    let path = scratch_path("no-subscriptions.zip");
    std::fs::write(&path, &zipped).expect("scratch zip written");
    let output = run_subtwin(&["history", &path.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no Subscriptions.csv"), "{}", text(&output.stderr));
}

/// A damaged zip (cut short anywhere, or with bytes overwritten) is an error or, when what is left
/// still holds the table, a report: never a panic.
#[test]
fn damaged_zips_never_panic() {
    let csv = fixture_bytes("chargebee_subscriptions.csv");
    let zipped = zip_of(&[("Subscriptions.csv", &csv)], zip::CompressionMethod::Deflated);
    let run = |bytes: &[u8]| {
        let _ = subtwin::history_of_export("damaged.zip", bytes, &HistoryRequest::default(), &mut |_| {});
    };
    for length in 0..zipped.len() {
        run(&zipped[..length]);
    }
    for position in 0..zipped.len() {
        for value in [0u8, 0xFF, zipped[position].wrapping_add(1)] {
            let mut damaged = zipped.clone();
            damaged[position] = value;
            run(&damaged);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One business, four exports.

/// The demo company as `format` exports it.
fn demo_report(format: DemoFormat, config: &DemoConfig, as_of: &str) -> HistoryReport {
    let mut bytes = Vec::new();
    write_csv(&mut bytes, config, format).expect("writing to a Vec cannot fail");
    let name = format!("demo-{}.csv", format.name());
    let report = report_of_bytes(&name, &bytes, &request_as_of(as_of));
    assert_eq!(report.format, format.name());
    assert!(report.problems.is_empty(), "{name}: {:?}", &report.problems[..report.problems.len().min(3)]);
    report
}

/// Chargebee's segments are its plan ids (`pro-monthly-2024 (month)`: no product name in its export);
/// summed by product and interval they are Stripe's `Pro (month)`.
fn chargebee_segment_as_stripe(segment: &str) -> String {
    let (plan, interval) = segment.split_once(" (").expect("a segment name");
    let product = plan.split('-').next().expect("a product slug");
    let mut name = product.to_owned();
    name[..1].make_ascii_uppercase();
    format!("{name} ({interval}")
}

/// The same business (800 subscriptions) exported by each vendor. At the as-of instant, with full
/// timestamps, Recurly's export must give exactly Stripe's history (every figure, every segment,
/// the summary); Chargebee's every total figure (its segments are plan ids: their active and MRR,
/// summed per product, equal Stripe's segments). Baremetrics' template has dates only, no statuses
/// and no trials, and holds only subscriptions that paid: month-end actives and MRR, in total and
/// per segment, must agree (a date moves an event earlier within its own day, never across a month
/// end, and every event that happened lies before the as-of); its movements may not (a subscription
/// that starts and ends within one day disappears, trials do not exist).
#[test]
fn the_same_business_exported_by_all_four_vendors_has_the_same_history() {
    let config = DemoConfig { subscriptions: 800, seed: 7, ..DemoConfig::default() };
    let as_of = "2025-12-31 18:04";
    let stripe = demo_report(DemoFormat::Stripe, &config, as_of);
    let recurly = demo_report(DemoFormat::Recurly, &config, as_of);
    let chargebee = demo_report(DemoFormat::Chargebee, &config, as_of);
    let baremetrics = demo_report(DemoFormat::Baremetrics, &config, as_of);
    // 2022-01 to 2025-12.
    assert_eq!(stripe.months.len(), 48);
    assert!(stripe.summary.trialing > 0 && stripe.summary.plan_switches > 10 && stripe.summary.never_paid > 0);

    assert_eq!(recurly.months, stripe.months);
    assert_eq!(recurly.segments, stripe.segments);
    assert_eq!(recurly.summary.paid, stripe.summary.paid);
    assert_eq!(
        (recurly.summary.never_paid, recurly.summary.trialing, recurly.summary.plan_switches),
        (stripe.summary.never_paid, stripe.summary.trialing, stripe.summary.plan_switches)
    );

    assert_eq!(month_labels(&chargebee), month_labels(&stripe));
    assert_eq!(month_labels(&baremetrics), month_labels(&stripe));
    for (index, expected) in stripe.months.iter().enumerate() {
        assert_eq!(chargebee.months[index].figures, expected.figures, "Chargebee {}", expected.month);
        let b = &baremetrics.months[index];
        assert_eq!((b.figures.active, b.figures.mrr), (expected.figures.active, expected.figures.mrr), "{}", b.month);
        for (segment, figures) in &expected.by_segment {
            let summed = chargebee.months[index]
                .by_segment
                .iter()
                .filter(|(name, _)| chargebee_segment_as_stripe(name) == *segment)
                .fold((0, 0.0), |(active, mrr), (_, f)| (active + f.active, mrr + f.mrr));
            let context = format!("{} {segment}", expected.month);
            assert_eq!(summed.0, figures.active, "Chargebee {context}");
            // Each plan's MRR is rounded to the cent on its own: two plans' sum may be a cent off.
            assert!((summed.1 - figures.mrr).abs() < 0.0101, "Chargebee {context}: {} vs {}", summed.1, figures.mrr);
            let b = segment_of(b, segment);
            assert_eq!((b.active, b.mrr), (figures.active, figures.mrr), "Baremetrics {context}");
        }
    }
    // Stripe's `incomplete_expired` rows are not in Chargebee's export, nor trials in Baremetrics'.
    assert_eq!(chargebee.summary.rows_read, stripe.summary.rows_read - stripe.summary.never_paid);
    assert!(chargebee.summary.notes.iter().any(|n| n.contains("from term dates")));
    assert!(recurly.summary.notes.iter().any(|n| n.contains("from current period dates")));
}

fn segment_of<'a>(month: &'a subtwin::report::MonthReport, name: &str) -> &'a subtwin::report::FiguresReport {
    segment(month, name)
}

#[test]
fn the_demo_writes_every_vendor_format_and_stripe_bytes_are_unchanged() {
    let config = DemoConfig { subscriptions: 300, ..DemoConfig::default() };
    let mut old = Vec::new();
    write_stripe_csv(&mut old, &config).expect("written");
    let mut new = Vec::new();
    write_csv(&mut new, &config, DemoFormat::Stripe).expect("written");
    assert!(old == new, "write_csv(Stripe) differs from write_stripe_csv");
    for format in DemoFormat::ALL {
        let output = run_subtwin(&["demo", "--subscriptions", "50", "--format", format.name()]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let first = text(&output.stdout).lines().next().unwrap_or_default().to_owned();
        let expected_start = match format {
            DemoFormat::Stripe => "id,Customer ID,",
            DemoFormat::Chargebee => "subscriptions.id,",
            DemoFormat::Recurly => "uuid,account_code,email,plan_code,state,",
            DemoFormat::Baremetrics => "plan_oid,plan_name,plan_currency,plan_amount,",
        };
        assert!(first.starts_with(expected_start), "{}: {first}", format.name());
    }
    let output = run_subtwin(&["demo", "--format", "paddle"]);
    assert_eq!(output.status.code(), Some(2));
}
