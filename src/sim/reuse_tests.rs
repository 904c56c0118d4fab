//! Scenarios simulated on a kept baseline: a plan's unchanged segments are taken from the baseline
//! instead of being simulated again, and the result must be the whole simulation to the last bit,
//! whatever the plan does and however the paths are split into batches.

use super::engine::PLAIN_RENEWALS;
use super::plan::*;
use super::*;
use crate::twin::{Cadence, Cell, MrrGroup, Twin};

/// Four segments of the example's shape: two monthly and two annual, all acquiring, with cells of
/// one and of several MRR values, so that every part of a month (renewals, the split of churners,
/// arrivals, trials, annual renewals) is in play.
fn four_segments() -> Twin {
    let mut twin = crate::twin::tests::example_twin();
    let monthly = twin.segments[0].clone();
    let mut annual = monthly.clone();
    annual.cadence = Cadence::EveryMonths(12);
    annual.cells.push(Cell {
        renewals_survived: 2,
        next_renewal_offset_months: 5,
        mrr: vec![
            MrrGroup { mrr_major_units: 41.0, subscribers: 30 },
            MrrGroup { mrr_major_units: 45.0, subscribers: 9 },
        ],
    });
    let names = ["Pro (month)", "Pro (year)", "Team (month)", "Team (year)"];
    twin.segments = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let mut segment = if index % 2 == 0 { monthly.clone() } else { annual.clone() };
            segment.name = (*name).into();
            segment
        })
        .collect();
    twin.check().expect("a valid twin");
    twin
}

/// One plan of each kind the engine knows, with the segments each leaves to the baseline.
fn plans() -> Vec<(&'static str, Plan, Vec<usize>)> {
    let mut plans = Vec::new();
    plans.push(("no change", Plan::baseline(4), vec![0, 1, 2, 3]));

    let mut price = Plan::baseline(4);
    for index in [0, 2] {
        price.segments[index].price = Some(PriceChange { ratio: 1.2, new_from: 1, existing_from: 2 });
        price.segments[index].response.churn_elasticity = Draw::Uniform { low: 0.5, high: 1.5 };
        price.segments[index].response.shock = Draw::Fixed(0.05);
    }
    plans.push(("monthly prices up 20%", price, vec![1, 3]));

    let mut discount = Plan::baseline(4);
    discount.segments[1].discount = Some(IntroDiscount { factor: 0.5, from: 0, until: 6, months: 12 });
    plans.push(("an introductory discount", discount, vec![0, 2, 3]));

    let mut retention = Plan::baseline(4);
    retention.segments[3].churn.push(MonthlyFactor { from: 2, until: 9, factor: 0.7 });
    retention.segments[3].conversion.push(MonthlyFactor { from: 0, until: NEVER, factor: 1.1 });
    plans.push(("a retention initiative", retention, vec![0, 1, 2]));

    let mut migration = Plan::baseline(4);
    migration.migrations.push(Migration { from_segment: 2, to_segment: 3, month: 3, share: 0.25, price_factor: 0.85 });
    plans.push(("a move to annual billing", migration, vec![0, 1]));

    let mut new_plan = Plan::baseline(4);
    new_plan.new_plans.push(NewPlan {
        name: "Plus".into(),
        like: 0,
        mrr_major_units: 69.0,
        price_ratio: 1.2,
        response: ResponseDraws::default(),
    });
    new_plan.segments[0].diversions.push(Diversion { new_plan: 0, from: 2, share: 0.3 });
    plans.push(("a new plan", new_plan, vec![1, 2, 3]));
    plans
}

#[test]
fn a_plan_leaves_to_the_baseline_exactly_the_segments_it_does_not_touch() {
    for (name, plan, left) in plans() {
        let changed = changed_segments(&plan);
        assert_eq!(changed.len(), 4 + plan.new_plans.len(), "{name}");
        let unchanged: Vec<usize> = (0..changed.len()).filter(|s| !changed[*s]).collect();
        assert_eq!(unchanged, left, "{name}");
    }
}

#[test]
fn a_scenario_completed_from_the_kept_baseline_is_its_whole_simulation_bit_for_bit() {
    let twin = four_segments();
    let options = SimOptions { paths: 40, horizon_months: 30, seed: 11 };
    let baseline = simulate_reusable(&twin, &options, 0..options.paths).expect("simulates");
    assert!(baseline.keeps_flows());
    // The kept baseline is the plain baseline, with more kept.
    let plain = simulate(&twin, &options).expect("simulates");
    assert_eq!(plain.path_totals(7), baseline.path_totals(7));
    for (name, plan, left) in plans() {
        let whole = simulate_plan(&twin, &plan, &options).expect("simulates");
        let on_baseline = simulate_plan_on(&twin, &plan, &baseline).expect("simulates");
        assert!(on_baseline == whole, "{name}: completed from the baseline, it differs from the whole simulation");

        // As the page's workers do it: partial batches, through bytes, appended, then completed.
        let mut merged: Option<Simulation> = None;
        for range in [0..13, 13..29, 29..40] {
            let part = simulate_changed_paths(&twin, &plan, &options, range).expect("simulates");
            assert!(part.is_partial());
            let part = Simulation::from_bytes(&part.to_bytes()).expect("reads back");
            match merged.as_mut() {
                Some(merged) => merged.append(part).expect("appends"),
                None => merged = Some(part),
            }
        }
        let mut merged = merged.expect("batches");
        assert_eq!(merged.pending(), Some(&left[..]), "{name}");
        let kept = Simulation::from_bytes(&baseline.to_bytes()).expect("reads back");
        merged.complete(&kept).expect("completes");
        assert!(merged == whole, "{name}: completed from batches, it differs from the whole simulation");
    }
}

#[test]
fn renewals_without_changes_due_give_what_the_renewals_checking_for_changes_give_bit_for_bit() {
    // Months in which no cell of a plan meets new terms and no one migrates take a shorter loop; with
    // it turned off, every month takes the loop that checks for every change.
    let twin = four_segments();
    let options = SimOptions { paths: 30, horizon_months: 30, seed: 5 };
    let mut all = plans();
    let mut roll_off = Plan::baseline(4);
    roll_off.segments[0].discount = Some(IntroDiscount { factor: 0.7, from: 1, until: 9, months: 3 });
    roll_off.segments[0].response.churn_elasticity = Draw::Fixed(1.3);
    all.push(("a monthly discount rolling off", roll_off, vec![1, 2, 3]));
    let mut grandfathered = Plan::baseline(4);
    for index in [1, 2] {
        grandfathered.segments[index].price = Some(PriceChange { ratio: 1.3, new_from: 2, existing_from: 14 });
        grandfathered.segments[index].response.churn_elasticity = Draw::Fixed(0.8);
        grandfathered.segments[index].response.shock = Draw::Fixed(0.1);
    }
    all.push(("prices up, existing subscribers grandfathered for a year", grandfathered, vec![0, 3]));
    for (name, plan, _) in all {
        let plain = simulate_plan(&twin, &plan, &options).expect("simulates");
        PLAIN_RENEWALS.with(|allowed| allowed.set(false));
        let checked = simulate_plan(&twin, &plan, &options);
        PLAIN_RENEWALS.with(|allowed| allowed.set(true));
        let checked = checked.expect("simulates");
        assert!(plain.to_bytes() == checked.to_bytes(), "{name}: the plain renewals changed the figures");
    }
}

#[test]
fn the_kept_baseline_also_completes_a_scenario_over_its_first_paths() {
    // The break-even search runs scenarios over the run's first paths against the baseline's.
    let twin = four_segments();
    let options = SimOptions { paths: 100, horizon_months: 14, seed: 3 };
    let prefix = simulate_reusable_paths(&twin, &options, 0..25).expect("simulates");
    let (_, plan, _) = plans().swap_remove(1);
    let whole = simulate_plan_paths(&twin, &plan, &options, 0..25).expect("simulates");
    assert!(simulate_plan_on(&twin, &plan, &prefix).expect("simulates") == whole);
    // A later range completes from a baseline that holds it.
    let mut later = simulate_changed_paths(&twin, &plan, &options, 10..20).expect("simulates");
    later.complete(&prefix).expect("completes");
    assert!(later == simulate_plan_paths(&twin, &plan, &options, 10..20).expect("simulates"));
}

#[test]
fn a_partial_simulation_is_refused_where_a_whole_one_is_needed_and_by_another_runs_baseline() {
    let twin = four_segments();
    let options = SimOptions { paths: 10, horizon_months: 6, seed: 1 };
    let (_, plan, _) = plans().swap_remove(1);
    let partial = simulate_changed_paths(&twin, &plan, &options, 0..10).expect("simulates");
    let baseline = simulate_reusable(&twin, &options, 0..options.paths).expect("simulates");
    assert_eq!(compare(&baseline, &partial, &[0.5]).err(), Some(SimError::Partial));
    assert_eq!(summarise(&partial, &[0.5]).err(), Some(SimError::Partial));
    assert!(partial.figures(0, 0, Series::Total).is_none(), "a partial simulation has no totals");

    let without_flows = simulate(&twin, &options).expect("simulates");
    assert_eq!(partial.clone().complete(&without_flows), Err(SimError::NothingToReuse));
    let other_seed = simulate_reusable(&twin, &SimOptions { seed: 2, ..options }, 0..10).expect("simulates");
    assert_eq!(partial.clone().complete(&other_seed), Err(SimError::NotTheSameRun));
    let fewer_paths = simulate_reusable_paths(&twin, &options, 0..5).expect("simulates");
    assert!(matches!(partial.clone().complete(&fewer_paths), Err(SimError::PathRange { .. })));
    // Without flows, a scenario on that baseline is simulated whole, to the same numbers.
    let whole = simulate_plan(&twin, &plan, &options).expect("simulates");
    assert!(simulate_plan_on(&twin, &plan, &without_flows).expect("simulates") == whole);
    // Batches that keep different things do not append.
    let mut first = simulate_changed_paths(&twin, &plan, &options, 0..5).expect("simulates");
    let next = simulate_plan_paths(&twin, &plan, &options, 5..10).expect("simulates");
    assert_eq!(first.append(next), Err(SimError::NotTheSameRun));
}

#[test]
fn a_partial_simulation_travels_in_fewer_bytes_and_bad_bytes_are_refused() {
    let twin = four_segments();
    let options = SimOptions { paths: 20, horizon_months: 12, seed: 9 };
    let (_, plan, _) = plans().swap_remove(2);
    let whole = simulate_plan(&twin, &plan, &options).expect("simulates").to_bytes();
    let partial = simulate_changed_paths(&twin, &plan, &options, 0..20).expect("simulates").to_bytes();
    // One segment of four with its flows (48 bytes a month) and no totals, against four segments'
    // actives and MRR (16 bytes each) and the totals (48).
    let rows = 20 * 12;
    assert_eq!(whole.len() - partial.len(), rows * (4 * 16 + 48) - rows * 48 - 4 - 3 * 4);
    let header = partial.len() - rows * 48;
    let mut bad = partial.clone();
    // The kind byte follows the names; make the partial one whole.
    let kind = header - 4 - 3 * 4 - 1;
    assert_eq!(bad[kind], 2);
    bad[kind] = 0;
    assert!(matches!(Simulation::from_bytes(&bad), Err(SimError::Encoding(_))));
    let mut unsorted = partial.clone();
    // The segments left to the baseline must be in increasing order and within the names.
    unsorted[kind + 5..kind + 9].copy_from_slice(&9u32.to_le_bytes());
    assert!(matches!(Simulation::from_bytes(&unsorted), Err(SimError::Encoding(_))));
    assert!(matches!(Simulation::from_bytes(&partial[..partial.len() - 1]), Err(SimError::Encoding(_))));
}

#[test]
fn room_reserved_for_the_rest_of_a_run_is_what_its_batches_fill() {
    let twin = four_segments();
    let options = SimOptions { paths: 30, horizon_months: 8, seed: 2 };
    for (keep_flows, scenario) in [(false, false), (true, false), (true, true)] {
        let (_, plan, _) = plans().swap_remove(1);
        let batch = |range: std::ops::Range<u32>| match (keep_flows, scenario) {
            (false, _) => simulate_paths(&twin, &options, range),
            (true, false) => simulate_reusable_paths(&twin, &options, range),
            (true, true) => simulate_changed_paths(&twin, &plan, &options, range),
        };
        let mut merged = batch(0..10).expect("simulates");
        merged.reserve_paths(20).expect("room for 20 paths");
        let capacity = (merged.totals.capacity(), merged.segments.capacity(), merged.flows.capacity());
        merged.append(batch(10..30).expect("simulates")).expect("appends");
        let after = (merged.totals.capacity(), merged.segments.capacity(), merged.flows.capacity());
        assert_eq!(
            after, capacity,
            "flows {keep_flows}, scenario {scenario}: appending the reserved paths reallocated"
        );
        assert!(merged == batch(0..30).expect("simulates"), "flows {keep_flows}, scenario {scenario}");
    }
}
