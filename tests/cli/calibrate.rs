//! Calibration's inputs, counted from a hand-written export: renewal ages on each segment's own
//! clock, monthly arrivals, and where each live subscriber stands; and the fits it makes of them.
//! The statistics themselves are tested against published and reference numbers in
//! `src/model/retention` and `src/model/acquisition`.

use subtwin::history::paid_spans;
use subtwin::import::values::{parse_instant, MonthIndex};
use subtwin::import::ImportOptions;
use subtwin::model::calibrate::calibrate_spans;
use subtwin::model::renewals::renewal_counts;
use subtwin::model::retention::RenewalAgeCounts;

use crate::support::*;

fn basic() -> Vec<subtwin::import::Subscription> {
    let bytes = fixture_bytes("basic.csv");
    subtwin::import::import("basic.csv", &bytes, &ImportOptions::default(), &mut |_| {})
        .expect("basic.csv")
        .subscriptions
}

fn month(label: &str) -> MonthIndex {
    MonthIndex::of(parse_instant(&format!("{label}-01")).expect("a month"))
}

// basic.csv at its as-of, 2025-04-18 16:42 (see history.rs for the rows):
//   Basic (month): b1 from 01-05 10:00, live, has passed the renewals of 02-05, 03-05 and 04-05:
//   censored after 3. b2 from 01-20 08:30 ended 03-20 08:30 at its period's end: it began two
//   periods (01-20, 02-20) and did not make the renewal of 03-20: churned at renewal 2. b3 from
//   03-10 14:00 ended 04-10 14:00: churned at renewal 1. b4 from 04-18 16:42: censored after 0.
//   Pro (month): p1 from 01-31 23:59 passed 02-28 23:59 and 03-31 23:59: censored after 2; p2 from
//   02-01 failed its payments at 04-01 (Cancellation Reason payment_failed): churned at renewal 2;
//   p3 from 02-14 09:15 passed 03-14 and 04-14: censored after 2.
//   Pro (year): y1 from 03-03: censored after 0. The trial t1 is not paid yet: not counted.
#[test]
fn renewal_ages_count_each_segments_own_billing_periods() {
    let subscriptions = basic();
    let as_of = parse_instant("2025-04-18 16:42").expect("as-of");
    let spans = paid_spans(&subscriptions, as_of);
    assert_eq!(spans.segments, ["Basic (month)", "Pro (month)", "Pro (year)"]);
    let row = |renewals, churned, censored| RenewalAgeCounts { renewals, churned, censored };
    assert_eq!(
        renewal_counts(&spans),
        [vec![row(0, 0, 1), row(1, 1, 0), row(2, 1, 0), row(3, 0, 1)], vec![row(2, 1, 2)], vec![row(0, 0, 1)],]
    );
}

// Arrivals per month, from January to April 2025: Basic direct starts 2, 0, 1, 1 and one trial
// started in April; Pro (month) 1, 2, 0, 0; Pro (year) 0, 0, 1, 0. Live subscribers: Basic b1
// (3 renewals survived, next renewal 05-05) and b4 (0, 05-18); Pro (month) p1 (2, next 04-30 23:59,
// in the as-of's own month) and p3 (2, 05-14); Pro (year) y1 (0, 2026-03-03).
#[test]
fn calibration_counts_arrivals_and_places_live_subscribers_on_their_clocks() {
    let subscriptions = basic();
    let as_of = parse_instant("2025-04-18 16:42").expect("as-of");
    let calibration = calibrate_spans(&paid_spans(&subscriptions, as_of));
    assert_eq!(calibration.origin, Some(month("2025-05")));
    let by_name = |name: &str| calibration.segments.iter().find(|s| s.name == name).expect(name);

    let basic = by_name("Basic (month)");
    let direct = basic.direct.as_ref().expect("Basic has direct starts");
    assert_eq!((direct.arrivals, direct.months_used), (4, 4));
    assert!(!direct.seasonal_fitted);
    assert_eq!(basic.trials.as_ref().map(|t| t.arrivals), Some(1));
    assert_eq!(basic.conversion, None, "no trial has ended");
    let mut active: Vec<(u32, String, String)> =
        basic.active.iter().map(|a| (a.renewals_survived, a.next_renewal.label(), format!("{:?}", a.mrr))).collect();
    active.sort();
    let ten = format!("{:?}", subtwin::money::Minor::from_integer(1000));
    assert_eq!(active, [(0, "2025-05".into(), ten.clone()), (3, "2025-05".into(), ten)]);

    let pro = by_name("Pro (month)");
    assert_eq!(pro.direct.as_ref().map(|d| d.arrivals), Some(3));
    let mut next: Vec<(u32, String)> =
        pro.active.iter().map(|a| (a.renewals_survived, a.next_renewal.label())).collect();
    next.sort();
    assert_eq!(next, [(2, "2025-04".into()), (2, "2025-05".into())]);
    // Retention by start month, Basic: January's b1 (censored after 3) and b2 (churned at 2) are both
    // still there after renewal 1, one of two after renewals 2 and 3; at 4 only b2 is observed, too few.
    // March's b3 churned at 1; April's b4 has reached no renewal.
    let cohorts: Vec<(String, u64, Vec<f64>)> =
        basic.cohorts.iter().map(|c| (c.month.label(), c.size, c.retained.clone())).collect();
    assert_eq!(
        cohorts,
        [
            ("2025-01".to_owned(), 2, vec![1.0, 0.5, 0.5]),
            ("2025-03".to_owned(), 1, vec![0.0]),
            ("2025-04".to_owned(), 1, vec![])
        ]
    );
    let yearly = by_name("Pro (year)");
    assert_eq!(yearly.active.iter().map(|a| a.next_renewal.label()).collect::<Vec<_>>(), ["2026-03"]);
    // New subscribers' MRR: Pro (month) started at 30 (p1, p3) and 60 (p2: two seats).
    let amounts: Vec<(String, u64)> = pro.new_mrr.iter().map(|(m, n)| (format!("{m:?}"), *n)).collect();
    assert_eq!(
        amounts,
        [
            (format!("{:?}", subtwin::money::Minor::from_integer(3000)), 2),
            (format!("{:?}", subtwin::money::Minor::from_integer(6000)), 1)
        ]
    );
}

// The demo company draws each subscriber's churn probability from Beta(0.6, 9.4) for monthly
// Starter and Beta(0.63, 17.37) for monthly Pro, and moves some to a better plan after an
// exponential wait with a mean of 180 months (Starter to Pro) or 450 (monthly Pro to Team)
// (src/demo.rs). Leaving the segment either way ends a subscriber's clock in it, so the share still in
// the segment after 12 renewals is the sBG's S(12) times (1 - u)^12, u = 1 - exp(-1 / mean wait):
// 0.567 for Starter, 0.697 for Pro. The twin's curve must find them, and for Pro, whose moves are
// rare, the 95% intervals of alpha and beta must cover the generator's.
#[test]
fn calibration_recovers_the_demo_companys_retention_for_its_large_monthly_segments() {
    let bytes =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/demo-stripe.csv")).expect("demo");
    let import = subtwin::import::import("demo.csv", &bytes, &ImportOptions::default(), &mut |_| {}).expect("demo");
    let as_of = subtwin::history::derive_as_of(&import.subscriptions).expect("as-of");
    let calibration = subtwin::model::calibrate::calibrate(&import.subscriptions, as_of);
    let survival_in_segment = |alpha: f64, beta: f64, mean_wait: f64| {
        let sbg: f64 = (0..12).map(|k| (beta + k as f64) / (alpha + beta + k as f64)).product();
        sbg * (-12.0 / mean_wait).exp()
    };
    for (name, alpha, beta, mean_wait) in [("Starter (month)", 0.60, 9.40, 180.0), ("Pro (month)", 0.63, 17.37, 450.0)]
    {
        let segment = calibration.segments.iter().find(|s| s.name == name).expect(name);
        let truth = survival_in_segment(alpha, beta, mean_wait);
        let fitted = segment.twin_parameters().expect("parameters").survival(12);
        assert!((fitted - truth).abs() < 0.03, "{name}: S(12) {fitted} against {truth}");
        let fit = segment.own.as_ref().expect("a fit");
        assert!(fit.churners > 300, "{name}: {} churners", fit.churners);
        if name == "Pro (month)" {
            assert!(fit.alpha_interval.contains(alpha), "{name}: alpha {alpha} outside {:?}", fit.alpha_interval);
            assert!(fit.beta_interval.contains(beta), "{name}: beta {beta} outside {:?}", fit.beta_interval);
        }
    }
}

// A backtest forecasts from each cutoff with what the history showed then: the movements of MRR it
// reads from the whole history's months up to the cutoff are those a calibration made at the cutoff
// finds (switches.csv, see history.rs: at April's end every switch so far has happened), and an
// earlier cutoff reads fewer months.
#[test]
fn movements_up_to_a_cutoff_are_those_a_calibration_at_the_cutoff_finds() {
    let bytes = fixture_bytes("switches.csv");
    let subscriptions = subtwin::import::import("switches.csv", &bytes, &ImportOptions::default(), &mut |_| {})
        .expect("switches.csv")
        .subscriptions;
    let as_of = subtwin::history::derive_as_of(&subscriptions).expect("as-of");
    let history = subtwin::history::build(&subscriptions, &subtwin::history::HistoryOptions { as_of: Some(as_of) })
        .expect("a history");
    let cutoff = month("2025-04");
    let at_cutoff = subtwin::model::calibrate::calibrate(&subscriptions, cutoff.end() - 1);
    assert_eq!(at_cutoff.segments.len(), 2);
    for segment in &at_cutoff.segments {
        let from_history = subtwin::model::calibrate::movements(&history, &segment.name, Some(cutoff));
        assert!(from_history.is_some(), "{}", segment.name);
        assert_eq!(from_history, segment.movements, "{}", segment.name);
    }
    let months = |until: &str| {
        let movements = subtwin::model::calibrate::movements(&history, "Pro (month)", Some(month(until)));
        movements.and_then(|m| m.expansion).map(|rate| rate.months)
    };
    assert_eq!((months("2025-02"), months("2025-04")), (Some(1), Some(3)));
}
