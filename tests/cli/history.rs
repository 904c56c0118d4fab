//! The month-by-month history of small hand-written exports: actives and MRR at month end, the
//! movements, trials, plan switches, scheduled cancellations and Stripe's statuses.
//!
//! Conventions applied by hand below: a subscription is paid from its trial end (or start) until it
//! ends; a month's figures are the state just before the next month's first instant (UTC); the last
//! month stops at the as-of instant, which is by default the latest instant the file shows as having
//! happened (starts, creations, trial starts, cancellations, ends, period starts; never a period end
//! or a trial end).

use crate::support::*;

// basic.csv, one row per subscription (USD, monthly unless said, quantity 1 unless said):
//   sub_b1 Basic 10   2025-01-05 10:00 -> live
//   sub_b2 Basic 10   2025-01-20 08:30 -> ended 2025-03-20 08:30
//   sub_p1 Pro 30     2025-01-31 23:59 -> live (counts in January: starts before Feb 1 00:00)
//   sub_p2 Pro 30 x2  2025-02-01 00:00 -> ended 2025-04-01 00:00 (MRR 60; January misses it by a
//                     minute, March still has it: it ends at April's first instant)
//   sub_p3 Pro 30     2025-02-14 09:15 -> live
//   sub_y1 Pro 240/yr 2025-03-03 11:00 -> live (MRR 240 / 12 = 20, segment `Pro (year)`)
//   sub_b3 Basic 10   2025-03-10 14:00 -> ended 2025-04-10 14:00
//   sub_b4 Basic 10   2025-04-18 16:42 -> live (the latest event of the file: the as-of)
//   sub_t1 Basic 10   trial 2025-04-10 10:00 -> 2025-04-24 10:00, still running at the as-of
// Scheduled instants later than the as-of: period ends up to 2026-03-03, sub_t1's trial end
// 2025-04-24 10:00. They must not become the as-of.
#[test]
fn month_end_actives_mrr_and_movements_per_month_and_segment() {
    let report = report_of("basic.csv");
    assert_eq!(report.segments, ["Basic (month)", "Pro (month)", "Pro (year)"]);
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03", "2025-04"],
        &[
            // January: b1 + b2 (Basic 2 x 10) and p1 (Pro 30) = 3 active, 50.
            ("2025-01", None, &[("active", 3.0), ("mrr", 50.0), ("new", 3.0), ("new_mrr", 50.0)]),
            ("2025-01", Some("Basic (month)"), &[("active", 2.0), ("mrr", 20.0), ("new", 2.0), ("new_mrr", 20.0)]),
            ("2025-01", Some("Pro (month)"), &[("active", 1.0), ("mrr", 30.0), ("new", 1.0), ("new_mrr", 30.0)]),
            // February: + p2 (60) + p3 (30): 5 active, 50 + 90 = 140.
            ("2025-02", None, &[("active", 5.0), ("mrr", 140.0), ("new", 2.0), ("new_mrr", 90.0)]),
            ("2025-02", Some("Basic (month)"), &[("active", 2.0), ("mrr", 20.0)]),
            ("2025-02", Some("Pro (month)"), &[("active", 3.0), ("mrr", 120.0), ("new", 2.0), ("new_mrr", 90.0)]),
            // March: + y1 (20) + b3 (10), - b2 (10): 6 active, 140 + 30 - 10 = 160.
            (
                "2025-03",
                None,
                &[
                    ("active", 6.0),
                    ("mrr", 160.0),
                    ("new", 2.0),
                    ("new_mrr", 30.0),
                    ("churned", 1.0),
                    ("churned_mrr", 10.0),
                ],
            ),
            (
                "2025-03",
                Some("Basic (month)"),
                &[
                    ("active", 2.0),
                    ("mrr", 20.0),
                    ("new", 1.0),
                    ("new_mrr", 10.0),
                    ("churned", 1.0),
                    ("churned_mrr", 10.0),
                ],
            ),
            ("2025-03", Some("Pro (month)"), &[("active", 3.0), ("mrr", 120.0)]),
            ("2025-03", Some("Pro (year)"), &[("active", 1.0), ("mrr", 20.0), ("new", 1.0), ("new_mrr", 20.0)]),
            // April, to the as-of: - p2 (60, at 00:00 on the 1st), - b3 (10), + b4 (10), t1's trial
            // starts: 6 - 2 + 1 = 5 active, 160 - 70 + 10 = 100.
            (
                "2025-04",
                None,
                &[
                    ("active", 5.0),
                    ("mrr", 100.0),
                    ("new", 1.0),
                    ("new_mrr", 10.0),
                    ("churned", 2.0),
                    ("churned_mrr", 70.0),
                    ("trials_started", 1.0),
                ],
            ),
            (
                "2025-04",
                Some("Basic (month)"),
                &[
                    ("active", 2.0),
                    ("mrr", 20.0),
                    ("new", 1.0),
                    ("new_mrr", 10.0),
                    ("churned", 1.0),
                    ("churned_mrr", 10.0),
                    ("trials_started", 1.0),
                ],
            ),
            (
                "2025-04",
                Some("Pro (month)"),
                &[("active", 2.0), ("mrr", 60.0), ("churned", 1.0), ("churned_mrr", 60.0)],
            ),
            ("2025-04", Some("Pro (year)"), &[("active", 1.0), ("mrr", 20.0)]),
        ],
    );
}

#[test]
fn as_of_is_the_latest_event_that_happened_not_a_scheduled_period_or_trial_end() {
    let report = report_of("basic.csv");
    // sub_b4's start, 2025-04-18 16:42; later instants in the file are only scheduled ones.
    assert_eq!(report.as_of, "2025-04-18T16:42:00Z");
    assert!(report.summary.as_of_derived);
    let partial: Vec<(&str, bool)> = report.months.iter().map(|m| (m.month.as_str(), m.partial)).collect();
    assert_eq!(partial, [("2025-01", false), ("2025-02", false), ("2025-03", false), ("2025-04", true)]);
    let s = &report.summary;
    assert_eq!((s.rows_read, s.rows_set_aside, s.subscriptions), (9, 0, 9));
    // Paid at some point: all but the running trial t1.
    assert_eq!((s.paid, s.trialing, s.after_as_of), (8, 1, 0));
    assert_eq!(s.first_month.as_deref(), Some("2025-01"));
    assert_eq!(s.last_month.as_deref(), Some("2025-04"));
    assert_eq!(report.currency, "usd");
    assert_eq!(report.format, "stripe");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn as_of_given_as_a_date_is_the_end_of_that_day() {
    // To the end of 2025-01-31: sub_p1 (starts 23:59 that day) is in; January is complete.
    let report = report_with("basic.csv", &request_as_of("2025-01-31"));
    assert_eq!(report.as_of, "2025-01-31T23:59:59Z");
    assert!(!report.summary.as_of_derived);
    expect_history(
        &report,
        &["2025-01"],
        &[
            ("2025-01", None, &[("active", 3.0), ("mrr", 50.0), ("new", 3.0), ("new_mrr", 50.0)]),
            ("2025-01", Some("Basic (month)"), &[("active", 2.0), ("mrr", 20.0), ("new", 2.0), ("new_mrr", 20.0)]),
            ("2025-01", Some("Pro (month)"), &[("active", 1.0), ("mrr", 30.0), ("new", 1.0), ("new_mrr", 30.0)]),
        ],
    );
    assert!(!report.months[0].partial, "the as-of is January's last second");
    // p2, p3, y1, b3, b4 and t1 start later.
    assert_eq!(report.summary.after_as_of, 6);
}

// trials.csv, all `Team` monthly at 50 USD:
//   sub_t_conv        trial 01-10 09:00 -> 01-24 09:00, then paid, live
//   sub_t_cross       trial 01-25 12:00 -> 02-08 12:00, then paid, live (in trial at January's end)
//   sub_t_conv_churn  trial 01-05 -> 01-19, paid, ended 02-19 (paid churn)
//   sub_t_lost_early  trial 02-01 10:00 -> 02-15 10:00, canceled 02-05 10:00 (lost before its end)
//   sub_t_lost_at_end trial 02-20 08:00 -> 03-06 08:00, ended 03-06 08:00 (lost at its end)
//   sub_paused        trial 02-10 -> 02-24, paused (no payment method: lost, no MRR)
//   sub_t_running     trial 03-20 15:30 -> 04-03 15:30, trialing at the as-of
//   sub_plain         no trial, 03-12, live
//   sub_c_returns     no trial, 03-15 10:00, live: cus_c, whose trial was lost in February
// As-of: sub_t_conv's current period start 2025-03-24 09:00 (the latest happened instant).
#[test]
fn trials_month_by_month() {
    let report = report_of("trials.csv");
    assert_eq!(report.segments, ["Team (month)"]);
    assert_eq!(report.as_of, "2025-03-24T09:00:00Z");
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03"],
        &[
            // January: 3 trials start (t_conv, t_cross, t_conv_churn); 2 convert (01-24, 01-19) and
            // are new at 50 each. t_cross is still in trial at the month's end: 0 MRR from it.
            (
                "2025-01",
                None,
                &[
                    ("active", 2.0),
                    ("mrr", 100.0),
                    ("new", 2.0),
                    ("new_mrr", 100.0),
                    ("trials_started", 3.0),
                    ("trials_converted", 2.0),
                ],
            ),
            // February: 3 trials start (lost_early, lost_at_end, paused); t_cross converts (new 50);
            // lost_early and paused are lost (not churn); t_conv_churn churns (50).
            // Active 2 + 1 - 1 = 2, MRR 100.
            (
                "2025-02",
                None,
                &[
                    ("active", 2.0),
                    ("mrr", 100.0),
                    ("new", 1.0),
                    ("new_mrr", 50.0),
                    ("churned", 1.0),
                    ("churned_mrr", 50.0),
                    ("trials_started", 3.0),
                    ("trials_converted", 1.0),
                    ("trials_lost", 2.0),
                ],
            ),
            // March: t_running starts its trial; lost_at_end is lost; plain and c_returns are new
            // (cus_c lost a trial, it never churned: not a reactivation). Active 4, MRR 200.
            (
                "2025-03",
                None,
                &[
                    ("active", 4.0),
                    ("mrr", 200.0),
                    ("new", 2.0),
                    ("new_mrr", 100.0),
                    ("trials_started", 1.0),
                    ("trials_lost", 1.0),
                ],
            ),
        ],
    );
    let s = &report.summary;
    // Paid: t_conv, t_cross, t_conv_churn, plain, c_returns.
    assert_eq!((s.subscriptions, s.paid, s.trialing, s.paused), (9, 5, 1, 1));
}

#[test]
fn trial_converts_at_trial_end_and_counts_no_mrr_before() {
    // sub_t_cross is alone in the file: trial 2025-01-25 12:00 -> 2025-02-08 12:00, then 50 a month.
    // At the end of January it is a trial (0 active, 0 MRR); it converts and is new in February.
    let csv = "Status,id,Product,Amount,Currency,Interval,Customer ID,Trial Start (UTC),Trial End (UTC),Start Date (UTC),Current Period Start (UTC)\n\
               active,sub_t_cross,Team,50.00,usd,month,cus_b,2025-01-25 12:00:00,2025-02-08 12:00:00,2025-01-25 12:00:00,2025-03-08 12:00:00\n";
    let report = report_of_bytes("one_trial.csv", csv.as_bytes(), &Default::default());
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03"],
        &[
            ("2025-01", None, &[("trials_started", 1.0)]),
            (
                "2025-02",
                None,
                &[("active", 1.0), ("mrr", 50.0), ("new", 1.0), ("new_mrr", 50.0), ("trials_converted", 1.0)],
            ),
            ("2025-03", None, &[("active", 1.0), ("mrr", 50.0)]),
        ],
    );
}

#[test]
fn lost_trials_are_counted_as_lost_never_as_churn() {
    let report = report_of("trials.csv");
    let churned: Vec<(&str, u64, u64)> =
        report.months.iter().map(|m| (m.month.as_str(), m.figures.churned, m.figures.trials_lost)).collect();
    // Only the paid sub_t_conv_churn churns (February); the three lost trials are lost.
    assert_eq!(churned, [("2025-01", 0, 0), ("2025-02", 1, 2), ("2025-03", 0, 1)]);
}

#[test]
fn a_trial_running_at_the_as_of_is_neither_converted_nor_lost() {
    // As of 2025-02-01 23:59:59: t_cross (trial to 02-08) and lost_early (trial from 02-01 10:00 to
    // 02-15; its cancellation on 02-05 has not happened yet) are running trials.
    let report = report_with("trials.csv", &request_as_of("2025-02-01"));
    let s = &report.summary;
    assert_eq!(s.trialing, 2, "sub_t_cross and sub_t_lost_early are in trial");
    assert_eq!(month_labels(&report), ["2025-01", "2025-02"]);
    let february = month(&report, "2025-02");
    // Feb 1 to the end of that day: lost_early's trial starts (10:00); nothing converts or ends.
    // Still paid: t_conv and t_conv_churn (which ends only on 02-19).
    expect_figures("2025-02 totals", &february.figures, &[("active", 2.0), ("mrr", 100.0), ("trials_started", 1.0)]);
    assert!(february.partial);
}

// switches.csv (USD, monthly; Basic 10, Pro 30, Pro 45 on another price of the same product):
//   cus_s6  sub_s6  Basic 10  01-02 -> live                          (control)
//   cus_s4  sub_s4a Basic 10  01-05 -> 02-05;  sub_s4b Pro 30 03-07 -> live
//           30 days later: churn in February, reactivation in March
//   cus_s7  sub_s7a Basic 10  01-08 12:00 -> 04-10 12:00;  sub_s7b Basic 10 04-18 12:00 -> live
//           8 days later, outside the 7-day window: churn and reactivation in April
//   cus_s1  sub_s1a Basic 10  01-10 -> 02-15 12:00;  sub_s1b Pro 30 02-15 12:00 -> live
//           same instant: expansion +20 in February, Basic moved out, Pro moved in
//   cus_s3  sub_s3a Pro 30    01-15 -> 04-01 08:00;  sub_s3b Pro 45 03-30 08:00 -> live
//           the new one starts 2 days before the old ends: one subscription, +15 on 03-30 (March),
//           counted once at March's end although both rows run then; same segment
//   cus_s2  sub_s2a Pro 30    01-30 -> 03-30 09:00;  sub_s2b Basic 10 04-02 09:00 -> live
//           3 days later, across March's end: still Pro 30 at March's end, -20 on 04-02 (April),
//           Pro moved out, Basic moved in
//   cus_s5  sub_s5a Pro 45    02-01 -> 05-10 10:00;  sub_s5b Pro 30 05-10 10:00 -> live
//           same instant, same segment: contraction -15 in May
// As-of: sub_s7b's current period start 2025-05-18 12:00.
#[test]
fn plan_switches_are_expansion_or_contraction_not_churn_and_new() {
    let report = report_of("switches.csv");
    assert_eq!(report.segments, ["Basic (month)", "Pro (month)"]);
    assert_eq!(report.as_of, "2025-05-18T12:00:00Z");
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"],
        &[
            // January: s6, s4a, s7a, s1a (Basic 4 x 10); s3a, s2a (Pro 2 x 30).
            ("2025-01", None, &[("active", 6.0), ("mrr", 100.0), ("new", 6.0), ("new_mrr", 100.0)]),
            ("2025-01", Some("Basic (month)"), &[("active", 4.0), ("mrr", 40.0), ("new", 4.0), ("new_mrr", 40.0)]),
            ("2025-01", Some("Pro (month)"), &[("active", 2.0), ("mrr", 60.0), ("new", 2.0), ("new_mrr", 60.0)]),
            // February: s5a new (Pro 45); s4a churns (Basic 10); s1 switches Basic 10 -> Pro 30.
            // Totals: 6 + 1 - 1 = 6 active; 100 + 45 - 10 + 20 = 155.
            (
                "2025-02",
                None,
                &[
                    ("active", 6.0),
                    ("mrr", 155.0),
                    ("new", 1.0),
                    ("new_mrr", 45.0),
                    ("churned", 1.0),
                    ("churned_mrr", 10.0),
                    ("expanded", 1.0),
                    ("expansion_mrr", 20.0),
                ],
            ),
            // Basic: 4 - 1 churned - 1 moved out = 2 (s6, s7a).
            (
                "2025-02",
                Some("Basic (month)"),
                &[
                    ("active", 2.0),
                    ("mrr", 20.0),
                    ("churned", 1.0),
                    ("churned_mrr", 10.0),
                    ("moved_out", 1.0),
                    ("moved_out_mrr", 10.0),
                ],
            ),
            // Pro: 2 + 1 new + 1 moved in = 4 (s3a 30, s2a 30, s5a 45, s1b 30) = 135.
            (
                "2025-02",
                Some("Pro (month)"),
                &[
                    ("active", 4.0),
                    ("mrr", 135.0),
                    ("new", 1.0),
                    ("new_mrr", 45.0),
                    ("moved_in", 1.0),
                    ("moved_in_mrr", 30.0),
                ],
            ),
            // March: s4b reactivates (Pro 30); s3 goes 30 -> 45 in Pro. s2a is still Pro 30 at the
            // month's end (its successor starts 04-02). Totals 7, 155 + 30 + 15 = 200.
            (
                "2025-03",
                None,
                &[
                    ("active", 7.0),
                    ("mrr", 200.0),
                    ("reactivated", 1.0),
                    ("reactivation_mrr", 30.0),
                    ("expanded", 1.0),
                    ("expansion_mrr", 15.0),
                ],
            ),
            ("2025-03", Some("Basic (month)"), &[("active", 2.0), ("mrr", 20.0)]),
            (
                "2025-03",
                Some("Pro (month)"),
                &[
                    ("active", 5.0),
                    ("mrr", 180.0),
                    ("reactivated", 1.0),
                    ("reactivation_mrr", 30.0),
                    ("expanded", 1.0),
                    ("expansion_mrr", 15.0),
                ],
            ),
            // April: s2 Pro 30 -> Basic 10 (-20); s7a churns (10) and s7b reactivates (10).
            // Totals 7 - 1 + 1 = 7, 200 - 20 - 10 + 10 = 180.
            (
                "2025-04",
                None,
                &[
                    ("active", 7.0),
                    ("mrr", 180.0),
                    ("contracted", 1.0),
                    ("contraction_mrr", 20.0),
                    ("churned", 1.0),
                    ("churned_mrr", 10.0),
                    ("reactivated", 1.0),
                    ("reactivation_mrr", 10.0),
                ],
            ),
            // Basic: 2 + 1 moved in - 1 churned + 1 reactivated = 3 (s6, s2b, s7b).
            (
                "2025-04",
                Some("Basic (month)"),
                &[
                    ("active", 3.0),
                    ("mrr", 30.0),
                    ("moved_in", 1.0),
                    ("moved_in_mrr", 10.0),
                    ("churned", 1.0),
                    ("churned_mrr", 10.0),
                    ("reactivated", 1.0),
                    ("reactivation_mrr", 10.0),
                ],
            ),
            // Pro: 5 - 1 moved out = 4 (s3b 45, s5a 45, s1b 30, s4b 30) = 150.
            (
                "2025-04",
                Some("Pro (month)"),
                &[("active", 4.0), ("mrr", 150.0), ("moved_out", 1.0), ("moved_out_mrr", 30.0)],
            ),
            // May, to the as-of: s5 Pro 45 -> Pro 30 (-15). Totals 7, 165.
            ("2025-05", None, &[("active", 7.0), ("mrr", 165.0), ("contracted", 1.0), ("contraction_mrr", 15.0)]),
            ("2025-05", Some("Basic (month)"), &[("active", 3.0), ("mrr", 30.0)]),
            (
                "2025-05",
                Some("Pro (month)"),
                &[("active", 4.0), ("mrr", 135.0), ("contracted", 1.0), ("contraction_mrr", 15.0)],
            ),
        ],
    );
    let s = &report.summary;
    // Switches: s1, s3, s2, s5 (not s4 nor s7). Paid: all 13 rows.
    assert_eq!((s.plan_switches, s.paid, s.subscriptions), (4, 13, 13));
}

#[test]
fn a_switch_starting_before_the_old_subscription_ends_is_counted_once() {
    // cus_s3's two rows both run on 2025-03-31 (sub_s3a until 04-01 08:00, sub_s3b from 03-30), yet
    // the customer is one subscription at 45 at March's end: Pro holds s3b, s2a, s5a, s1b, s4b.
    let report = report_of("switches.csv");
    let pro = segment(month(&report, "2025-03"), "Pro (month)");
    assert_eq!((pro.active, pro.mrr), (5, 180.0));
}

#[test]
fn a_return_after_the_switch_window_is_churn_then_reactivation() {
    let report = report_of("switches.csv");
    let movements: Vec<(&str, u64, u64, u64)> = report
        .months
        .iter()
        .map(|m| (m.month.as_str(), m.figures.new, m.figures.churned, m.figures.reactivated))
        .collect();
    // cus_s4 back after 30 days (March), cus_s7 after 8 days (April); the switches are never new.
    assert_eq!(
        movements,
        [("2025-01", 6, 0, 0), ("2025-02", 1, 1, 0), ("2025-03", 0, 0, 1), ("2025-04", 0, 1, 1), ("2025-05", 0, 0, 0),]
    );
}

// cancel_at_period_end.csv (Pro, 30 USD a month):
//   sub_c1 from 2025-01-05 10:00, active, Cancel At Period End true (requested 03-20), no Ended At,
//          current period ends 2025-04-05 10:00
//   sub_c2 from 2025-02-10 10:00, active, period ends 2025-04-10 10:00, not cancelling
//   sub_c3 from 2025-03-25 14:30, the latest event: the derived as-of
#[test]
fn cancel_at_period_end_stays_active_until_the_period_end() {
    // (as-of, months, April's figures when April is in the history, whether the last month is
    // partial).
    type Case<'a> = (Option<&'a str>, &'a [&'a str], &'a [(&'a str, f64)], bool);
    let cases: &[Case] = &[
        // Derived as-of 03-25 14:30, before c1's period end: c1 still active, 3 x 30.
        (None, &["2025-01", "2025-02", "2025-03"], &[], true),
        // 04-04 23:59:59: still before 04-05 10:00.
        (Some("2025-04-04"), &["2025-01", "2025-02", "2025-03", "2025-04"], &[("active", 3.0), ("mrr", 90.0)], true),
        // 04-05 09:59: one minute before the period end.
        (
            Some("2025-04-05 09:59"),
            &["2025-01", "2025-02", "2025-03", "2025-04"],
            &[("active", 3.0), ("mrr", 90.0)],
            true,
        ),
        // 04-30 23:59:59: c1 churned at 04-05 10:00; c2's period end passed but it renews. April is
        // complete (the as-of is its last second).
        (
            Some("2025-04-30"),
            &["2025-01", "2025-02", "2025-03", "2025-04"],
            &[("active", 2.0), ("mrr", 60.0), ("churned", 1.0), ("churned_mrr", 30.0)],
            false,
        ),
    ];
    for (as_of, months, april, last_partial) in cases {
        let request = match as_of {
            Some(as_of) => request_as_of(as_of),
            None => Default::default(),
        };
        let report = report_with("cancel_at_period_end.csv", &request);
        let context = format!("as of {as_of:?}");
        assert_eq!(month_labels(&report), *months, "{context}");
        // January: c1 (30); February: + c2; March: + c3 = 3 x 30 whatever the as-of.
        let march = month(&report, "2025-03");
        expect_figures(
            &format!("{context} 2025-03"),
            &march.figures,
            &[("active", 3.0), ("mrr", 90.0), ("new", 1.0), ("new_mrr", 30.0)],
        );
        if months.contains(&"2025-04") {
            expect_figures(&format!("{context} 2025-04"), &month(&report, "2025-04").figures, april);
        }
        assert_eq!(report.months.last().map(|m| m.partial), Some(*last_partial), "{context}");
    }
}

// statuses.csv (Std, 20 USD a month):
//   sub_pd   past_due  from 01-10            -> subscribed throughout (dunning is not churn)
//   sub_up   unpaid    from 01-12            -> subscribed throughout
//   sub_cx1  canceled, no Ended At, Cancel At Period End true, Canceled At 02-10, period end
//            03-05 08:00                      -> ends 03-05 (March), not 02-10
//   sub_cx2  canceled, no Ended At, Cancel At Period End false, Canceled At 02-20 08:00, period
//            end 03-15                        -> ends 02-20 (February), not 03-15
//   sub_ie   incomplete_expired 02-03 (ended 02-04) -> never paid
//   sub_inc  incomplete 03-01                       -> never paid
//   sub_pa   paused, trial 02-01 -> 02-15           -> a lost trial, no MRR
//   sub_free active at 0.00                         -> free, not paid
//   sub_act  active from 01-20 12:00, period start 03-20 12:00 (the as-of)
#[test]
fn dunning_counts_as_subscribed_and_incomplete_never_paid() {
    let report = report_of("statuses.csv");
    assert_eq!(report.as_of, "2025-03-20T12:00:00Z");
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03"],
        &[
            // January: pd, up, cx1, cx2, act = 5 x 20.
            ("2025-01", None, &[("active", 5.0), ("mrr", 100.0), ("new", 5.0), ("new_mrr", 100.0)]),
            // February: cx2 ends 02-20; sub_pa's trial starts and is lost (paused).
            (
                "2025-02",
                None,
                &[
                    ("active", 4.0),
                    ("mrr", 80.0),
                    ("churned", 1.0),
                    ("churned_mrr", 20.0),
                    ("trials_started", 1.0),
                    ("trials_lost", 1.0),
                ],
            ),
            // March: cx1 ends 03-05 (its period end). pd and up are still subscribed.
            ("2025-03", None, &[("active", 3.0), ("mrr", 60.0), ("churned", 1.0), ("churned_mrr", 20.0)]),
        ],
    );
    let s = &report.summary;
    assert_eq!((s.subscriptions, s.paid, s.never_paid, s.paused, s.free), (9, 5, 2, 1, 1));
}

#[test]
fn a_canceled_row_without_ended_at_ends_at_period_end_or_at_cancellation() {
    // Each row alone: (row's Cancel At Period End, Canceled At, Current Period End, month it churns).
    let cases = [
        ("true", "2025-02-10 08:00", "2025-03-05 08:00", "2025-03"),
        ("false", "2025-02-20 08:00", "2025-03-15 08:00", "2025-02"),
        // Nothing to schedule: the cancellation time.
        ("true", "2025-02-20 08:00", "", "2025-02"),
    ];
    for (at_period_end, canceled_at, period_end, churn_month) in cases {
        let csv = format!(
            "id,Customer ID,Status,Product,Amount,Interval,Currency,Start Date (UTC),Current Period End (UTC),Cancel At Period End,Canceled At (UTC),Ended At (UTC)\n\
             sub_x,cus_x,canceled,Std,20.00,month,usd,2025-01-05 08:00,{period_end},{at_period_end},{canceled_at},\n"
        );
        // As of the end of April so that both candidate ends have happened.
        let report = report_of_bytes("one_row.csv", csv.as_bytes(), &request_as_of("2025-04-30"));
        let churned: Vec<&str> =
            report.months.iter().filter(|m| m.figures.churned == 1).map(|m| m.month.as_str()).collect();
        assert_eq!(churned, [churn_month], "{at_period_end} {canceled_at} {period_end:?}");
    }
}

#[test]
fn a_trialing_row_without_a_trial_end_counts_no_mrr() {
    // sub_2 says `trialing` but leaves Trial End blank. A trial counts no MRR, so whatever the
    // importer does with the row (a trial, or a row set aside for its missing Trial End), it is not
    // a paid subscription: March holds sub_1 alone, 1 active at 10.
    let csv = "id,Customer ID,Status,Start Date (UTC),Trial Start (UTC),Trial End (UTC),Current Period Start (UTC),Current Period End (UTC),Product,Interval,Amount,Currency\n\
               sub_1,cus_1,active,2025-01-05 00:00,,,2025-03-05 00:00,2025-04-05 00:00,Basic,month,10.00,usd\n\
               sub_2,cus_2,trialing,2025-03-01 00:00,,,2025-03-01 00:00,2025-03-15 00:00,Basic,month,10.00,usd\n";
    let report = report_of_bytes("trialing_without_end.csv", csv.as_bytes(), &Default::default());
    let march = month(&report, "2025-03");
    assert_eq!(
        (march.figures.active, march.figures.mrr, march.figures.new),
        (1, 10.0, 0),
        "the trialing row counts as paid: {:?}",
        march.figures
    );
    assert_eq!(report.summary.paid, 1);
}

#[test]
fn a_new_subscription_starting_at_the_old_ones_end_with_a_trial_is_a_switch() {
    // cus_1: Basic 10 from 2025-01-05, ended 2025-03-10 00:00; Pro 30 starts at that same instant
    // with a trial to 2025-03-24. The new subscription *starts* within seven days of the old one's
    // end, so by the convention the two are one subscription changing price at the new one's paid
    // start (03-24): +20 of expansion in March, Basic moved out, Pro moved in; no churn, no
    // reactivation.
    let csv = "id,Customer ID,Status,Start Date (UTC),Trial Start (UTC),Trial End (UTC),Ended At (UTC),Current Period Start (UTC),Product,Interval,Amount,Currency\n\
               sub_1,cus_1,canceled,2025-01-05 00:00,,,2025-03-10 00:00,2025-03-05 00:00,Basic,month,10.00,usd\n\
               sub_2,cus_1,active,2025-03-10 00:00,2025-03-10 00:00,2025-03-24 00:00,,2025-04-24 00:00,Pro,month,30.00,usd\n";
    let report = report_of_bytes("switch_into_trial.csv", csv.as_bytes(), &Default::default());
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03", "2025-04"],
        &[
            ("2025-01", None, &[("active", 1.0), ("mrr", 10.0), ("new", 1.0), ("new_mrr", 10.0)]),
            ("2025-01", Some("Basic (month)"), &[("active", 1.0), ("mrr", 10.0), ("new", 1.0), ("new_mrr", 10.0)]),
            ("2025-02", None, &[("active", 1.0), ("mrr", 10.0)]),
            ("2025-02", Some("Basic (month)"), &[("active", 1.0), ("mrr", 10.0)]),
            (
                "2025-03",
                None,
                &[
                    ("active", 1.0),
                    ("mrr", 30.0),
                    ("expanded", 1.0),
                    ("expansion_mrr", 20.0),
                    ("trials_started", 1.0),
                    ("trials_converted", 1.0),
                ],
            ),
            ("2025-03", Some("Basic (month)"), &[("moved_out", 1.0), ("moved_out_mrr", 10.0)]),
            (
                "2025-03",
                Some("Pro (month)"),
                &[
                    ("active", 1.0),
                    ("mrr", 30.0),
                    ("moved_in", 1.0),
                    ("moved_in_mrr", 30.0),
                    ("trials_started", 1.0),
                    ("trials_converted", 1.0),
                ],
            ),
            ("2025-04", None, &[("active", 1.0), ("mrr", 30.0)]),
            ("2025-04", Some("Pro (month)"), &[("active", 1.0), ("mrr", 30.0)]),
        ],
    );
    assert_eq!(report.summary.plan_switches, 1);
}
