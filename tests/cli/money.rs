//! MRR: price x quantity normalised to a month (year / 12, week x 52 / 12, day x 365 / 12, divided
//! by the interval count), summed exactly and rounded to the currency's minor unit only in the JSON.

use crate::support::*;

// intervals.csv (USD; every subscription live; all in June unless said):
//   sub_a01..sub_a12  Analytics 190.00 a year        12 x 19000 / 12 cents = 19000 = 190.00 exactly
//                     (each alone is 1583.33.. cents: rounding each first would give 189.96)
//   sub_w1, sub_w2    Meals 10.00 a week             2 x 1000 x 52 / 12 = 8666.66.. -> 86.67
//   sub_q1            Support 90.00 every 3 months   9000 / 3 = 3000
//   sub_q2            Support 100.00 every 3 months  10000 / 3 = 3333.33..; with q1 6333.33.. -> 63.33
//   sub_s1            Seats 12.00 x 5 seats          6000 -> 60.00
//   sub_d1 (July)     Daily 1.00 a day               100 x 365 / 12 = 3041.66.. -> 30.42
//   sub_tiny (August) Tiny 1.26 a year               126 / 12 = 10.5 -> 0.11 (half away from zero)
// Totals: June 19000 + 8666.66.. + 6333.33.. + 6000 = 40000 exactly -> 400.00;
//         July + 3041.66.. = 43041.66.. -> 430.42; August + 10.5 = 43052.16.. -> 430.52.
#[test]
fn mrr_normalises_years_weeks_days_and_interval_counts_exactly() {
    let report = report_of("intervals.csv");
    assert_eq!(
        report.segments,
        ["Analytics (year)", "Daily (day)", "Meals (week)", "Seats (month)", "Support (3 months)", "Tiny (year)"]
    );
    assert_eq!(report.as_of, "2025-08-19T08:00:00Z");
    let analytics: &[(&str, f64)] = &[("active", 12.0), ("mrr", 190.0)];
    let meals: &[(&str, f64)] = &[("active", 2.0), ("mrr", 86.67)];
    let support: &[(&str, f64)] = &[("active", 2.0), ("mrr", 63.33)];
    let seats: &[(&str, f64)] = &[("active", 1.0), ("mrr", 60.0)];
    let daily: &[(&str, f64)] = &[("active", 1.0), ("mrr", 30.42)];
    expect_history(
        &report,
        &["2025-06", "2025-07", "2025-08"],
        &[
            ("2025-06", None, &[("active", 17.0), ("mrr", 400.0), ("new", 17.0), ("new_mrr", 400.0)]),
            (
                "2025-06",
                Some("Analytics (year)"),
                &[("active", 12.0), ("mrr", 190.0), ("new", 12.0), ("new_mrr", 190.0)],
            ),
            ("2025-06", Some("Meals (week)"), &[("active", 2.0), ("mrr", 86.67), ("new", 2.0), ("new_mrr", 86.67)]),
            (
                "2025-06",
                Some("Support (3 months)"),
                &[("active", 2.0), ("mrr", 63.33), ("new", 2.0), ("new_mrr", 63.33)],
            ),
            ("2025-06", Some("Seats (month)"), &[("active", 1.0), ("mrr", 60.0), ("new", 1.0), ("new_mrr", 60.0)]),
            ("2025-07", None, &[("active", 18.0), ("mrr", 430.42), ("new", 1.0), ("new_mrr", 30.42)]),
            ("2025-07", Some("Analytics (year)"), analytics),
            ("2025-07", Some("Meals (week)"), meals),
            ("2025-07", Some("Support (3 months)"), support),
            ("2025-07", Some("Seats (month)"), seats),
            ("2025-07", Some("Daily (day)"), &[("active", 1.0), ("mrr", 30.42), ("new", 1.0), ("new_mrr", 30.42)]),
            ("2025-08", None, &[("active", 19.0), ("mrr", 430.52), ("new", 1.0), ("new_mrr", 0.11)]),
            ("2025-08", Some("Analytics (year)"), analytics),
            ("2025-08", Some("Meals (week)"), meals),
            ("2025-08", Some("Support (3 months)"), support),
            ("2025-08", Some("Seats (month)"), seats),
            ("2025-08", Some("Daily (day)"), daily),
            ("2025-08", Some("Tiny (year)"), &[("active", 1.0), ("mrr", 0.11), ("new", 1.0), ("new_mrr", 0.11)]),
        ],
    );
}

#[test]
fn twelve_annual_subscriptions_at_190_make_exactly_190_of_mrr() {
    let report = report_of("intervals.csv");
    for m in &report.months {
        assert_eq!(segment(m, "Analytics (year)").mrr, 190.0, "{}", m.month);
    }
}

#[test]
fn single_subscription_mrr_by_interval_count_and_quantity() {
    // (interval, interval count, amount, quantity, currency, MRR in the JSON), worked out in minor
    // units and rounded half away from zero at the end.
    let cases: &[(&str, &str, &str, &str, &str, f64)] = &[
        ("month", "", "19.00", "1", "usd", 19.00),
        ("year", "", "190.00", "1", "usd", 15.83),   // 19000 / 12 = 1583.33..
        ("year", "", "1.26", "1", "usd", 0.11),      // 126 / 12 = 10.5 -> 11
        ("week", "", "10.00", "1", "usd", 43.33),    // 1000 x 52 / 12 = 4333.33..
        ("week", "2", "10.00", "1", "usd", 21.67),   // 4333.33.. / 2 = 2166.66..
        ("day", "", "1.00", "1", "usd", 30.42),      // 100 x 365 / 12 = 3041.66..
        ("month", "3", "90.00", "1", "usd", 30.00),  // quarterly
        ("month", "6", "100.00", "1", "usd", 16.67), // 10000 / 6 = 1666.66..
        ("year", "2", "240.00", "1", "usd", 10.00),  // 24000 / 24
        ("month", "", "12.00", "5", "usd", 60.00),   // five seats
        ("year", "", "99.00", "3", "usd", 24.75),    // 29700 / 12 = 2475
        ("month", "", "60,00", "1", "eur", 60.00),   // a decimal comma
        ("month", "", "1200", "1", "jpy", 1200.0),   // no minor unit
        ("year", "", "10000", "1", "jpy", 833.0),    // 833.33.. yen -> 833
        ("year", "", "1.000", "1", "kwd", 0.083),    // 1000 fils / 12 = 83.33.. -> 83 fils
    ];
    for (interval, count, amount, quantity, currency, mrr) in cases {
        let csv = format!(
            "id,Customer ID,Status,Start Date (UTC),Product,Interval,Interval Count,Amount,Quantity,Currency\n\
             sub_1,cus_1,active,2025-01-15 00:00,Plan,{interval},{count},\"{amount}\",{quantity},{currency}\n"
        );
        let report = report_of_bytes("one_row.csv", csv.as_bytes(), &Default::default());
        let context = format!("{amount} {currency} per {count} {interval} x {quantity}");
        assert!(report.problems.is_empty(), "{context}: {:?}", report.problems);
        assert_eq!(report.months.len(), 1, "{context}");
        assert_eq!(report.months[0].figures.mrr, *mrr, "{context}");
        assert_eq!(report.months[0].figures.new_mrr, *mrr, "{context}");
    }
}

// jpy.csv (older header names `Start (UTC)` and `Customer Description`; yen have no minor unit):
//   sub_j1 Basic 980 a month x 3    05-02 -> live      2940
//   sub_j2 Basic 10000 a year       05-07 -> live       833.33..
//   sub_j3 Basic 10000 a year       05-20 -> live       833.33..  (segment: 1666.66.. -> 1667)
//   sub_j4 Pro 1500 a month         05-25 -> live      1500
//   sub_j6 Pro 1500 a month         05-03 -> 06-03     1500
//   sub_j5 Pro 1500 a month x 2     06-11 -> live      3000
// May: 2940 + 1666.66.. + 3000 = 7606.66.. -> 7607. June: - 1500 + 3000 = 9106.66.. -> 9107.
// As-of: sub_j4's period start 2025-06-25 08:00.
#[test]
fn yen_amounts_round_to_whole_yen() {
    let report = report_of("jpy.csv");
    assert_eq!(report.currency, "jpy");
    assert_eq!(report.as_of, "2025-06-25T08:00:00Z");
    assert_eq!(report.segments, ["Basic (month)", "Basic (year)", "Pro (month)"]);
    expect_history(
        &report,
        &["2025-05", "2025-06"],
        &[
            ("2025-05", None, &[("active", 5.0), ("mrr", 7607.0), ("new", 5.0), ("new_mrr", 7607.0)]),
            ("2025-05", Some("Basic (month)"), &[("active", 1.0), ("mrr", 2940.0), ("new", 1.0), ("new_mrr", 2940.0)]),
            ("2025-05", Some("Basic (year)"), &[("active", 2.0), ("mrr", 1667.0), ("new", 2.0), ("new_mrr", 1667.0)]),
            ("2025-05", Some("Pro (month)"), &[("active", 2.0), ("mrr", 3000.0), ("new", 2.0), ("new_mrr", 3000.0)]),
            (
                "2025-06",
                None,
                &[
                    ("active", 5.0),
                    ("mrr", 9107.0),
                    ("new", 1.0),
                    ("new_mrr", 3000.0),
                    ("churned", 1.0),
                    ("churned_mrr", 1500.0),
                ],
            ),
            ("2025-06", Some("Basic (month)"), &[("active", 1.0), ("mrr", 2940.0)]),
            ("2025-06", Some("Basic (year)"), &[("active", 2.0), ("mrr", 1667.0)]),
            (
                "2025-06",
                Some("Pro (month)"),
                &[
                    ("active", 2.0),
                    ("mrr", 4500.0),
                    ("new", 1.0),
                    ("new_mrr", 3000.0),
                    ("churned", 1.0),
                    ("churned_mrr", 1500.0),
                ],
            ),
        ],
    );
}

#[test]
fn older_header_names_are_recognised() {
    // jpy.csv says `Start (UTC)` and `Customer Description`: every row is read.
    let report = report_of("jpy.csv");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.summary.rows_read, report.summary.subscriptions), (6, 6));
}
