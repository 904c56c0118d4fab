//! The engine under a plan: each lever checked against what it must do, on twins small enough to
//! work out by hand (no churn, or a known constant churn), and the common random numbers that make a
//! scenario's difference from the baseline meaningful.

use super::plan::*;
use super::*;
use crate::twin::{Acquisition, Cadence, Cell, Covariance2, MrrGroup, PoissonTrend, Retention, SegmentTwin, Twin};

fn geometric(churn_probability: f64) -> Retention {
    Retention::Geometric { churn_probability, variance_logit_churn: 0.0 }
}

fn segment(name: &str, cadence: Cadence, retention: Retention, cells: Vec<Cell>) -> SegmentTwin {
    SegmentTwin {
        name: name.into(),
        cadence,
        retention,
        acquisition: Acquisition { direct: None, trials: None },
        new_mrr: Vec::new(),
        cells,
        price_response: None,
        movements: None,
    }
}

fn cell(renewals_survived: u32, next_renewal_offset_months: u32, mrr: f64, subscribers: u64) -> Cell {
    Cell { renewals_survived, next_renewal_offset_months, mrr: vec![MrrGroup { mrr_major_units: mrr, subscribers }] }
}

fn direct(rate: f64) -> PoissonTrend {
    PoissonTrend {
        log_rate_intercept: rate.ln(),
        log_rate_slope_per_month: 0.0,
        seasonal_log_multipliers: [0.0; 12],
        uncertainty: Covariance2::ZERO,
        dispersion: 1.0,
    }
}

fn acquiring(mut segment: SegmentTwin, rate: f64, mrr: f64) -> SegmentTwin {
    segment.acquisition.direct = Some(direct(rate));
    segment.new_mrr = vec![MrrGroup { mrr_major_units: mrr, subscribers: 1 }];
    segment
}

fn twin_of(segments: Vec<SegmentTwin>) -> Twin {
    Twin { start_month_index: 2026 * 12, first_month_exposure: 1.0, segments }
}

fn run(twin: &Twin, plan: &Plan, paths: u32, horizon_months: u32) -> Simulation {
    simulate_plan(twin, plan, &SimOptions { paths, horizon_months, seed: 77 }).expect("a valid twin and plan")
}

fn totals(simulation: &Simulation, month: u32) -> Vec<MonthFigures> {
    simulation.across_paths(month, Series::Total).collect()
}

fn mean(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let values: Vec<f64> = values.collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (variance / n).sqrt())
}

fn assert_mean_near(what: &str, values: impl Iterator<Item = f64>, expected: f64) {
    let (mean, error) = mean(values);
    assert!(
        (mean - expected).abs() <= 5.0 * error + 1e-9 * expected.abs().max(1.0),
        "{what}: mean {mean} vs {expected} (standard error {error})"
    );
}

fn price_plan(segments: usize, index: usize, ratio: f64, new_from: u32, existing_from: u32) -> Plan {
    let mut plan = Plan::baseline(segments);
    plan.segments[index].price = Some(PriceChange { ratio, new_from, existing_from });
    plan
}

#[test]
fn the_plan_that_changes_nothing_is_the_baseline_bit_for_bit() {
    let twin = crate::twin::tests::example_twin();
    let options = SimOptions { paths: 20, horizon_months: 12, seed: 5 };
    let baseline = simulate(&twin, &options).expect("simulates");
    let planned = simulate_plan(&twin, &Plan::baseline(1), &options).expect("simulates");
    assert_eq!(planned, baseline);
}

#[test]
fn a_change_to_one_segment_leaves_the_others_draws_untouched() {
    let mut second = crate::twin::tests::example_twin().segments[0].clone();
    second.name = "Other".into();
    let mut twin = crate::twin::tests::example_twin();
    twin.segments.push(second);
    let options = SimOptions { paths: 30, horizon_months: 18, seed: 8 };
    let baseline = simulate(&twin, &options).expect("simulates");
    let mut plan = price_plan(2, 0, 1.3, 2, 2);
    plan.segments[0].response.churn_elasticity = Draw::Uniform { low: 0.5, high: 2.0 };
    plan.segments[0].acquisition.push(MonthlyFactor { from: 3, until: NEVER, factor: 1.5 });
    let scenario = simulate_plan(&twin, &plan, &options).expect("simulates");
    let mut first_differs = false;
    for path in 0..30 {
        for month in 0..18 {
            let other = |s: &Simulation| s.figures(path, month, Series::Segment(1));
            assert_eq!(other(&scenario), other(&baseline), "path {path}, month {month}");
            let changed = |s: &Simulation| s.figures(path, month, Series::Segment(0));
            first_differs |= changed(&scenario) != changed(&baseline);
            if month < 2 {
                // Before the change's month, the changed segment is the baseline too.
                assert_eq!(changed(&scenario), changed(&baseline), "path {path}, month {month}");
            }
        }
    }
    assert!(first_differs, "the price change shows in the segment it aims at");
}

#[test]
fn existing_subscribers_meet_a_new_price_at_their_next_renewal_and_pay_it_up_front() {
    // No churn and no arrivals: only the price moves. Monthly subscribers at 10, annual at 100 a
    // month renewing in month 5; +20% from month 2 for existing subscribers at their next renewal.
    let twin = twin_of(vec![
        segment("monthly", Cadence::EveryMonths(1), geometric(0.0), vec![cell(3, 0, 10.0, 50)]),
        segment("annual", Cadence::EveryMonths(12), geometric(0.0), vec![cell(0, 5, 100.0, 4)]),
    ]);
    let mut plan = price_plan(2, 0, 1.2, 2, 2);
    plan.segments[1].price = Some(PriceChange { ratio: 1.2, new_from: 2, existing_from: 2 });
    let simulation = run(&twin, &plan, 1, 14);
    let f = |month: u32| simulation.figures(0, month, Series::Total).expect("a month");
    let expected_mrr = [900.0, 900.0, 1000.0, 1000.0, 1000.0, 600.0 + 400.0 * 1.2];
    for (month, mrr) in expected_mrr.iter().enumerate() {
        assert!((f(month as u32).mrr_major_units - mrr).abs() < 1e-9, "month {month}: {:?}", f(month as u32));
    }
    // Billed: monthly subscribers pay each month; the annual ones a year up front in month 5.
    assert!((f(1).billed_major_units - 500.0).abs() < 1e-9);
    assert!((f(2).billed_major_units - 600.0).abs() < 1e-9);
    assert!((f(5).billed_major_units - (600.0 + 4.0 * 120.0 * 12.0)).abs() < 1e-9);
    assert!((f(6).billed_major_units - 600.0).abs() < 1e-9);
}

#[test]
fn grandfathering_and_new_subscribers_only_keep_existing_prices() {
    let twin = twin_of(vec![acquiring(
        segment("monthly", Cadence::EveryMonths(1), geometric(0.0), vec![cell(3, 0, 10.0, 50)]),
        5.0,
        10.0,
    )]);
    // Existing subscribers keep 10 until month 8 (grandfathered six months from month 2).
    let grandfathered = run(&twin, &price_plan(1, 0, 1.5, 2, 8), 1, 10);
    let new_only = run(&twin, &price_plan(1, 0, 1.5, 2, NEVER), 1, 10);
    for (simulation, name) in [(&grandfathered, "grandfathered"), (&new_only, "new only")] {
        // MRR = 50 existing x 10 (x 1.5 once they meet it) + arrivals before month 2 at 10 and
        // after at 15, all without churn.
        let mut arrived_before = 0;
        let mut arrived_after = 0;
        for month in 0..10u32 {
            let f = simulation.figures(0, month, Series::Total).expect("a month");
            if month < 2 {
                arrived_before += f.new_subscribers;
            } else {
                arrived_after += f.new_subscribers;
            }
            let existing_price = if name == "grandfathered" && month >= 8 { 15.0 } else { 10.0 };
            let expected = (50 + arrived_before) as f64 * existing_price + arrived_after as f64 * 15.0;
            assert!((f.mrr_major_units - expected).abs() < 1e-9, "{name}, month {month}: {f:?} vs {expected}");
        }
    }
}

#[test]
fn the_churn_elasticity_scales_the_renewal_hazard_and_the_shock_strikes_once() {
    // Constant churn 0.1; price x1.2 with elasticity 2: h' = 0.1 x 1.44 = 0.144 at every renewal
    // from month 1, and with a shock of 0.1 the first one is 1 - 0.856 x 0.9.
    let n = 2000u64;
    let twin = twin_of(vec![segment("monthly", Cadence::EveryMonths(1), geometric(0.1), vec![cell(5, 0, 10.0, n)])]);
    let mut plan = price_plan(1, 0, 1.2, 1, 1);
    plan.segments[0].response = ResponseDraws {
        churn_elasticity: Draw::Fixed(2.0),
        acquisition_elasticity: Draw::Fixed(0.0),
        shock: Draw::Fixed(0.1),
    };
    let simulation = run(&twin, &plan, 2000, 3);
    let survive = [0.9, 0.856 * 0.9, 0.856];
    let mut expected = n as f64;
    for (month, share) in survive.iter().enumerate() {
        expected *= share;
        let active = totals(&simulation, month as u32).into_iter().map(|f| f.active_subscribers as f64);
        assert_mean_near(&format!("paid after month {month}"), active, expected);
    }
}

#[test]
fn the_acquisition_elasticity_and_factor_scale_arrivals() {
    let twin =
        twin_of(vec![acquiring(segment("monthly", Cadence::EveryMonths(1), geometric(0.05), Vec::new()), 100.0, 10.0)]);
    let mut plan = price_plan(1, 0, 1.25, 1, NEVER);
    plan.segments[0].response.acquisition_elasticity = Draw::Fixed(1.5);
    plan.segments[0].acquisition.push(MonthlyFactor { from: 2, until: 3, factor: 2.0 });
    let simulation = run(&twin, &plan, 3000, 4);
    let price_factor = 1.25f64.powf(-1.5);
    for (month, expected) in
        [(0u32, 100.0), (1, 100.0 * price_factor), (2, 200.0 * price_factor), (3, 100.0 * price_factor)]
    {
        let new = totals(&simulation, month).into_iter().map(|f| f.new_subscribers as f64);
        assert_mean_near(&format!("arrivals in month {month}"), new, expected);
    }
}

#[test]
fn an_introductory_discount_lasts_its_months_then_rolls_off() {
    // No churn; 40 arrivals a month at 10, 30% off for 3 months from month 0: at the end of month t
    // the cohorts of months t - 2 to t still pay 7, the older ones 10.
    let twin =
        twin_of(vec![acquiring(segment("monthly", Cadence::EveryMonths(1), geometric(0.0), Vec::new()), 40.0, 10.0)]);
    let mut plan = Plan::baseline(1);
    plan.segments[0].discount = Some(IntroDiscount { factor: 0.7, from: 0, until: NEVER, months: 3 });
    let simulation = run(&twin, &plan, 1, 8);
    let arrivals: Vec<u64> =
        (0..8).map(|m| simulation.figures(0, m, Series::Total).expect("a month").new_subscribers).collect();
    for month in 0..8usize {
        let discounted: u64 = arrivals[month.saturating_sub(2)..=month].iter().sum();
        let full: u64 = arrivals[..month.saturating_sub(2)].iter().sum();
        let expected = discounted as f64 * 7.0 + full as f64 * 10.0;
        let f = simulation.figures(0, month as u32, Series::Total).expect("a month");
        assert!((f.mrr_major_units - expected).abs() < 1e-9, "month {month}: {} vs {expected}", f.mrr_major_units);
    }
}

#[test]
fn a_move_to_annual_billing_keeps_everyone_and_bills_the_year_up_front() {
    let twin = twin_of(vec![
        segment("monthly", Cadence::EveryMonths(1), geometric(0.0), vec![cell(2, 0, 20.0, 1000)]),
        segment("annual", Cadence::EveryMonths(12), geometric(0.0), Vec::new()),
    ]);
    let mut plan = Plan::baseline(2);
    plan.migrations.push(Migration { from_segment: 0, to_segment: 1, month: 3, share: 0.2, price_factor: 0.85 });
    let simulation = run(&twin, &plan, 2000, 6);
    let moved: Vec<f64> = simulation.across_paths(3, Series::Segment(1)).map(|f| f.active_subscribers as f64).collect();
    assert_mean_near("movers", moved.iter().copied(), 200.0);
    for path in 0..2000 {
        let total = simulation.figures(path, 5, Series::Total).expect("a month");
        assert_eq!(total.active_subscribers, 1000, "nobody is lost by moving");
        let annual = simulation.figures(path, 3, Series::Segment(1)).expect("a month");
        assert!((annual.mrr_major_units - annual.active_subscribers as f64 * 17.0).abs() < 1e-9);
        let month3 = simulation.figures(path, 3, Series::Total).expect("a month");
        let stayed = 1000 - annual.active_subscribers;
        let billed = stayed as f64 * 20.0 + annual.active_subscribers as f64 * 17.0 * 12.0;
        assert!((month3.billed_major_units - billed).abs() < 1e-6, "path {path}");
    }
}

#[test]
fn a_new_plan_takes_its_share_of_arrivals_and_total_arrivals_stay_the_same() {
    let twin =
        twin_of(vec![acquiring(segment("starter", Cadence::EveryMonths(1), geometric(0.05), Vec::new()), 100.0, 10.0)]);
    let mut plan = Plan::baseline(1);
    plan.new_plans.push(NewPlan {
        name: "plus".into(),
        like: 0,
        mrr_major_units: 15.0,
        price_ratio: 1.5,
        response: ResponseDraws::default(),
    });
    plan.segments[0].diversions.push(Diversion { new_plan: 0, from: 1, share: 0.3 });
    let simulation = run(&twin, &plan, 3000, 3);
    assert_eq!(simulation.segment_names, vec!["starter".to_owned(), "plus".to_owned()]);
    let plus_month0 = simulation.across_paths(0, Series::Segment(1)).map(|f| f.active_subscribers as f64);
    assert_mean_near("plus before its month", plus_month0, 0.0);
    let plus_new = simulation.across_paths(1, Series::Segment(1)).map(|f| f.active_subscribers as f64);
    assert_mean_near("plus's first month", plus_new, 30.0);
    let all_new = totals(&simulation, 1).into_iter().map(|f| f.new_subscribers as f64);
    assert_mean_near("all arrivals", all_new, 100.0);
    for path in 0..3000 {
        let plus = simulation.figures(path, 1, Series::Segment(1)).expect("a month");
        assert!((plus.mrr_major_units - plus.active_subscribers as f64 * 15.0).abs() < 1e-9);
    }
}

#[test]
fn a_retention_initiative_scales_churn_within_its_months() {
    let twin = twin_of(vec![segment("monthly", Cadence::EveryMonths(1), geometric(0.2), vec![cell(1, 0, 10.0, 5000)])]);
    let mut plan = Plan::baseline(1);
    plan.segments[0].churn.push(MonthlyFactor { from: 1, until: 2, factor: 0.5 });
    let simulation = run(&twin, &plan, 1000, 3);
    let churned = |month: u32| totals(&simulation, month).into_iter().map(|f| f.churned_subscribers as f64);
    assert_mean_near("month 0", churned(0), 1000.0);
    assert_mean_near("month 1, halved", churned(1), 4000.0 * 0.1);
    assert_mean_near("month 2", churned(2), 3600.0 * 0.2);
}

#[test]
fn a_comparison_counts_the_paths_where_the_scenario_is_ahead() {
    let twin = twin_of(vec![segment("monthly", Cadence::EveryMonths(1), geometric(0.1), vec![cell(1, 0, 10.0, 500)])]);
    let options = SimOptions { paths: 300, horizon_months: 6, seed: 3 };
    let baseline = simulate(&twin, &options).expect("simulates");
    // A price rise with no churn response is ahead on every path, by exactly a fifth of MRR.
    let rise = simulate_plan(&twin, &price_plan(1, 0, 1.2, 0, 0), &options).expect("simulates");
    let comparison = compare(&baseline, &rise, &[0.1, 0.5, 0.9]).expect("the same run");
    assert_eq!(comparison.mrr_major_units.probability_ahead, 1.0);
    assert_eq!(comparison.active_subscribers.probability_level, 1.0);
    for path in 0..300 {
        let (b, r) = (baseline.figures(path, 5, Series::Total), rise.figures(path, 5, Series::Total));
        let (b, r) = (b.expect("a month"), r.expect("a month"));
        assert!((r.mrr_major_units - 1.2 * b.mrr_major_units).abs() < 1e-6);
    }
    let histogram = &comparison.mrr_major_units.histogram;
    assert_eq!(histogram.counts.iter().sum::<u64>(), 300);
    assert_eq!(histogram.edges.len(), histogram.counts.len() + 1);
}

#[test]
fn expansion_and_contraction_move_existing_subscribers_mrr_each_month() {
    use crate::twin::{MrrMovements, NormalEstimate};
    let mut monthly = segment("monthly", Cadence::EveryMonths(1), geometric(0.0), vec![cell(2, 0, 10.0, 100)]);
    monthly.movements = Some(MrrMovements {
        expansion: NormalEstimate { estimate: 0.03, standard_error: 0.0 },
        contraction: NormalEstimate { estimate: 0.01, standard_error: 0.0 },
    });
    let twin = twin_of(vec![monthly]);
    let simulation = run(&twin, &Plan::baseline(1), 1, 6);
    for month in 0..6u32 {
        let f = simulation.figures(0, month, Series::Total).expect("a month");
        let expected = 1000.0 * 1.02f64.powi(month as i32 + 1);
        assert!((f.mrr_major_units - expected).abs() < 1e-6, "month {month}: {} vs {expected}", f.mrr_major_units);
        // What is billed at a renewal is the MRR the subscribers had then, before the month's movement.
        let billed = 1000.0 * 1.02f64.powi(month as i32);
        assert!((f.billed_major_units - billed).abs() < 1e-6, "month {month}: billed {}", f.billed_major_units);
    }
}
