//! Simulation timings: `cargo bench --bench simulate [-- TWIN.json]`. Loads a twin as
//! `subtwin simulate FILE --save-twin TWIN.json` writes it (the argument, or the file named by
//! `SUBTWIN_TWIN`; by default the demo company's twin, calibrated from www/demo-stripe.csv before any
//! clock starts), then times `sim::simulate` over 60 months for 1,000 and 10,000 paths (or the counts
//! in `SUBTWIN_BENCH_PATHS`, comma-separated), reporting the median and minimum of several runs
//! (`SUBTWIN_BENCH_RUNS`; by default 5, and 3 from 10,000 paths). Runs above the engine's figures per
//! batch are simulated in batches of paths, one after another, on one core.
//!
//! Beside each time, "the floor": the binomial draws the workload needs, timed alone with
//! `sim::sample::binomial` on the same generator. They are the renewals of the twin's expected path
//! (every cell that renews in a month, in the engine's order and calendar, with the subscribers it
//! expects then and the fitted hazard; a cell of new subscribers each month per acquiring segment),
//! drawn once per simulated path. The engine cannot be faster than its churn draws, so the ratio of
//! its time to the floor is what the rest costs: the split of churners over MRR values, the new
//! subscribers' MRR, the arrivals, the streams and the bookkeeping.
//!
//! The CPU time of the process (user and system, from /proc/self/stat in 10 ms ticks; Linux only) is
//! printed beside the wall time, for machines where other work competes for the cores.
//!
//! Under each time, the monthly price rise (`tests/fixtures/scenarios/raise-monthly.json`) timed on a
//! baseline kept for reuse, as the page reruns a scenario when a slider moves: the segments it leaves
//! alone are taken from the baseline.
//!
//! Also prints the medians of total active subscribers and MRR at month 12 and at the horizon, to
//! set beside `python benches/baseline_simulate.py TWIN.json PATHS 60`.

use std::time::Instant;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use subtwin::sim::plan::Plan;
use subtwin::sim::{self, quantile_of_sorted, Series, SimOptions, Simulation};
use subtwin::twin::{Cadence, PoissonTrend, Retention, Twin};

const HORIZON_MONTHS: u32 = 60;
const SEED: u64 = 20251231;

fn main() {
    let path = std::env::args().skip(1).find(|a| !a.starts_with('-')).or_else(|| std::env::var("SUBTWIN_TWIN").ok());
    let (twin, source) = match path {
        Some(path) => {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            (serde_json::from_str::<Twin>(&text).unwrap_or_else(|e| panic!("{path}: not a twin ({e})")), path)
        }
        None => (demo_twin(), "the demo company (www/demo-stripe.csv)".to_owned()),
    };
    let path_counts: Vec<u32> = std::env::var("SUBTWIN_BENCH_PATHS")
        .ok()
        .map(|s| s.split(',').filter_map(|p| p.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 10_000]);
    let runs_wanted: Option<usize> = std::env::var("SUBTWIN_BENCH_RUNS").ok().and_then(|r| r.parse().ok());

    let cells: usize = twin.segments.iter().map(|s| s.cells.len()).sum();
    let groups: usize = twin.segments.iter().flat_map(|s| &s.cells).map(|c| c.mrr.len()).sum();
    let new_groups: usize = twin.segments.iter().map(|s| s.new_mrr.len()).sum();
    let subscribers: u64 =
        twin.segments.iter().flat_map(|s| &s.cells).flat_map(|c| &c.mrr).map(|g| g.subscribers).sum();
    println!("twin: {source}");
    println!(
        "  {} segments, {cells} cells, {groups} MRR groups in cells (+{new_groups} new-subscriber values), \
         {subscribers} subscribers at the start",
        twin.segments.len()
    );
    let monthly_rise = monthly_price_rise(&twin);
    let draws = expected_renewals(&twin, HORIZON_MONTHS as usize);
    let subscribers_renewing: u64 = draws.iter().map(|(n, _)| n).sum();
    println!(
        "  {} binomial draws per path over {HORIZON_MONTHS} months (mean n {:.0}, mean p {:.4})",
        draws.len(),
        subscribers_renewing as f64 / draws.len().max(1) as f64,
        draws.iter().map(|(_, p)| p).sum::<f64>() / draws.len().max(1) as f64
    );
    println!(
        "{:>8} {:>7} {:>5} {:>11} {:>11} {:>11} {:>11} {:>9} {:>14} {:>14} {:>14} {:>14}",
        "paths",
        "months",
        "runs",
        "median ms",
        "min ms",
        "cpu ms",
        "floor ms",
        "x floor",
        "active m12",
        "MRR m12",
        "active end",
        "MRR end"
    );
    for paths in path_counts {
        let options = SimOptions { paths, horizon_months: HORIZON_MONTHS, seed: SEED };
        let runs = runs_wanted.unwrap_or(if paths >= 10_000 { 3 } else { 5 });
        let mut medians = None;
        let mut cpu_times = Vec::new();
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let cpu = cpu_ms();
                let start = Instant::now();
                let simulation = simulate_in_batches(&twin, &options);
                let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                cpu_times.extend(cpu_ms().zip(cpu).map(|(end, start)| end - start));
                medians.get_or_insert_with(|| medians_of(&simulation));
                elapsed
            })
            .collect();
        times.sort_by(f64::total_cmp);
        cpu_times.sort_by(f64::total_cmp);
        let cpu = cpu_times.get(cpu_times.len() / 2).map_or("-".to_owned(), |ms| format!("{ms:.0}"));
        let floor = time_floor(&draws, paths);
        let median = times[times.len() / 2];
        let [a12, m12, a_end, m_end] = medians.expect("at least one run");
        println!(
            "{paths:>8} {HORIZON_MONTHS:>7} {runs:>5} {median:>11.1} {:>11.1} {cpu:>11} {floor:>11.1} {:>9.2} {a12:>14.1} {m12:>14.0} \
             {a_end:>14.1} {m_end:>14.0}",
            times[0],
            times[0] / floor,
        );
        if let Some(plan) = &monthly_rise {
            time_scenario(&twin, &options, plan, runs);
        }
    }
}

/// Times the monthly price rise (`tests/fixtures/scenarios/raise-monthly.json`) on a baseline kept
/// for reuse, as the page reruns a scenario when a slider moves: only the segments it changes are
/// simulated.
fn time_scenario(twin: &Twin, options: &SimOptions, plan: &Plan, runs: usize) {
    let kept = sim::simulate_reusable(twin, options, 0..options.paths).expect("the twin simulates");
    let changed = sim::changed_segments(plan).iter().filter(|c| **c).count();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let simulation = sim::simulate_plan_on(twin, plan, &kept).expect("the scenario simulates");
            std::hint::black_box(simulation);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{:>8}   the monthly price rise on the baseline kept ({changed} of {} segments simulated, {} kept): median \
         {:.1} ms, min {:.1} ms",
        "",
        twin.segments.len(),
        if kept.keeps_flows() { "every segment's figures" } else { "the totals alone: too large to keep" },
        times[times.len() / 2],
        times[0],
    );
}

/// The monthly price rise of the scenario fixture, compiled for `twin` (`None` when the twin lacks
/// its segments).
fn monthly_price_rise(twin: &Twin) -> Option<Plan> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scenarios/raise-monthly.json");
    let text = std::fs::read(file).ok()?;
    let scenario = subtwin::scenario::from_json("raise-monthly.json", &text).ok()?;
    subtwin::scenario::compile(&scenario, twin, HORIZON_MONTHS).ok().map(|compiled| compiled.plan)
}

/// The demo company's twin, calibrated as `subtwin simulate www/demo-stripe.csv` does.
fn demo_twin() -> Twin {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/www/demo-stripe.csv");
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    subtwin::calibrated_twin(&[("demo-stripe.csv", &bytes)], &Default::default(), &mut |_| {})
        .expect("the demo export calibrates")
        .twin
}

/// All of the run's paths, in as few batches as the engine's figures per batch allow, appended in
/// order (the same figures as one call).
fn simulate_in_batches(twin: &Twin, options: &SimOptions) -> Simulation {
    let per_path = u64::from(options.horizon_months) * (twin.segments.len() as u64 + 1);
    let batch = (sim::MAX_FIGURES_PER_BATCH / per_path).max(1) as u32;
    let mut simulation: Option<Simulation> = None;
    let mut start = 0;
    while start < options.paths {
        let end = options.paths.min(start + batch);
        let part = sim::simulate_paths(twin, options, start..end).expect("the twin simulates");
        match &mut simulation {
            Some(whole) => whole.append(part).expect("batches in order"),
            None => simulation = Some(part),
        }
        start = end;
    }
    simulation.expect("at least one path")
}

/// Medians over paths of the total's active subscribers and MRR at month 12 and at the horizon.
fn medians_of(simulation: &Simulation) -> [f64; 4] {
    let median = |month: u32, field: fn(&sim::MonthFigures) -> f64| {
        let mut values: Vec<f64> = simulation.across_paths(month, Series::Total).map(|f| field(&f)).collect();
        values.sort_unstable_by(f64::total_cmp);
        quantile_of_sorted(&values, 0.5)
    };
    let month_12 = 11.min(simulation.options.horizon_months - 1);
    let end = simulation.options.horizon_months - 1;
    let active = |f: &sim::MonthFigures| f.active_subscribers as f64;
    let mrr = |f: &sim::MonthFigures| f.mrr_major_units;
    [median(month_12, active), median(month_12, mrr), median(end, active), median(end, mrr)]
}

/// The churn draws of the twin's expected path: (subscribers, churn probability) of every renewal of
/// every cell with a subscriber left, in month order, with the fitted (central) parameters and the
/// expected subscribers; one new cell per month and acquiring segment with the expected arrivals.
fn expected_renewals(twin: &Twin, horizon: usize) -> Vec<(u64, f64)> {
    let mut draws = Vec::new();
    for segment in &twin.segments {
        let hazard = |k: u64| match segment.retention {
            Retention::ShiftedBetaGeometric { alpha, beta, .. } => alpha / (alpha + beta + k as f64),
            Retention::Geometric { churn_probability, .. } => churn_probability,
        };
        // (renewals survived, next renewal month, expected subscribers)
        let mut cells: Vec<(u64, usize, f64)> = segment
            .cells
            .iter()
            .map(|c| {
                let n: u64 = c.mrr.iter().map(|g| g.subscribers).sum();
                (u64::from(c.renewals_survived), c.next_renewal_offset_months as usize, n as f64)
            })
            .collect();
        let rate = |trend: &PoissonTrend, month: usize| {
            let calendar = (i64::from(twin.start_month_index) + month as i64).rem_euclid(12) as usize;
            let ln = trend.log_rate_intercept
                + trend.log_rate_slope_per_month * month as f64
                + trend.seasonal_log_multipliers[calendar];
            ln.min(sim::MAX_RATE_PER_MONTH.ln()).exp()
        };
        for month in 0..horizon {
            for (k, next, n) in cells.iter_mut() {
                let renewals = match segment.cadence {
                    Cadence::EveryMonths(months) if *next == month => {
                        *next += months as usize;
                        1
                    }
                    Cadence::EveryMonths(_) => 0,
                    Cadence::TimesPerYear(t) if *next <= month => {
                        let (t, m) = (u64::from(t), month as u64);
                        (m + 1) * t / 12 - m * t / 12
                    }
                    Cadence::TimesPerYear(_) => 0,
                };
                for _ in 0..renewals {
                    let subscribers = n.round() as u64;
                    if subscribers == 0 {
                        break;
                    }
                    let h = hazard(*k);
                    draws.push((subscribers, h));
                    *n *= 1.0 - h;
                    *k += 1;
                }
            }
            let direct = segment.acquisition.direct.as_ref().map_or(0.0, |t| rate(t, month));
            let converted = segment.acquisition.trials.as_ref().map_or(0.0, |t| {
                let p = t.conversion.a / (t.conversion.a + t.conversion.b);
                rate(&t.starts, month) * p
            });
            if direct + converted > 0.5 {
                let first = match segment.cadence {
                    Cadence::EveryMonths(months) => month + months as usize,
                    Cadence::TimesPerYear(_) => month + 1,
                };
                cells.push((0, first, direct + converted));
            }
        }
    }
    draws
}

/// Milliseconds to draw the workload's binomials once per path.
fn time_floor(draws: &[(u64, f64)], paths: u32) -> f64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let start = Instant::now();
    let mut total = 0u64;
    for _ in 0..paths {
        for &(n, p) in draws {
            total = total.wrapping_add(sim::sample::binomial(&mut rng, n, p));
        }
    }
    std::hint::black_box(total);
    start.elapsed().as_secs_f64() * 1000.0
}

/// The process's CPU time so far (user and system) in milliseconds, from /proc/self/stat (Linux, 100
/// ticks a second); `None` elsewhere.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|f| f.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    Some((ticks(11)? + ticks(12)?) * 10.0)
}
