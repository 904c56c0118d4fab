//! Quantiles of simulated paths, month by month: the bands a chart draws.
//!
//! The quantile rule is R's and NumPy's default (Hyndman & Fan's type 7): with the n values sorted,
//! the q-quantile is linear interpolation between the order statistics at positions floor(h) and
//! floor(h) + 1 (counted from 0), where h = (n − 1) q. So the 0 and 1 quantiles are the smallest and
//! largest values, and the 0.5 quantile of an even number of values is the mean of the middle two.

use serde::{Deserialize, Serialize};

use super::engine::{MonthFigures, Series, SimError, Simulation};

/// The bands shown by default: 10%, the median and 90%.
pub const DEFAULT_PROBABILITIES: [f64; 3] = [0.1, 0.5, 0.9];

/// The quantiles of every series, month by month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// As in the twin: the first simulated month, `year * 12 + (month - 1)`.
    pub start_month_index: i32,
    /// The number of paths the quantiles are taken over.
    pub paths: u32,
    /// The probabilities of the quantiles, in the order asked for.
    pub probabilities: Vec<f64>,
    /// One per segment, in the simulation's order.
    pub segments: Vec<SeriesQuantiles>,
    pub total: SeriesQuantiles,
    /// The total's other figures.
    pub flows: FlowQuantiles,
}

/// The quantiles of one series: `active_subscribers[m][i]` is the `probabilities[i]` quantile over
/// paths of the active subscribers at the end of month `m` (0 is the start month); likewise MRR.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesQuantiles {
    /// The segment's name, or "total".
    pub name: String,
    pub active_subscribers: Vec<Vec<f64>>,
    pub mrr_major_units: Vec<Vec<f64>>,
}

/// The quantiles of the total's flows, month by month, as [`SeriesQuantiles`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowQuantiles {
    pub new_subscribers: Vec<Vec<f64>>,
    pub churned_subscribers: Vec<Vec<f64>>,
    /// Revenue as billed in the month (an annual plan pays its year in its renewal month).
    pub billed_major_units: Vec<Vec<f64>>,
    /// Billed from the start to the month's end.
    pub cumulative_billed_major_units: Vec<Vec<f64>>,
    /// MRR per paid subscriber (0 on a path with none).
    pub arpu_major_units: Vec<Vec<f64>>,
}

/// The quantiles of every series over the paths the simulation holds (merge batches first with
/// [`Simulation::append`]).
pub fn summarise(simulation: &Simulation, probabilities: &[f64]) -> Result<Summary, SimError> {
    summarise_segments(simulation, probabilities, |_| true)
}

/// [`summarise`], but only the segments `wanted` (by index) get their quantiles: the others' are
/// left empty, for a caller that has them already (a scenario's segments left to the baseline have
/// the baseline's figures, and so its quantiles).
pub fn summarise_segments(
    simulation: &Simulation,
    probabilities: &[f64],
    wanted: impl Fn(usize) -> bool,
) -> Result<Summary, SimError> {
    if let Some(&value) = probabilities.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(SimError::Probability { value });
    }
    if simulation.paths.is_empty() {
        return Err(SimError::NoPaths);
    }
    if simulation.is_partial() {
        return Err(SimError::Partial);
    }
    let horizon = simulation.options.horizon_months as usize;
    let paths = simulation.paths.len();
    let segments = simulation.segment_names.len();
    let wanted: Vec<usize> = (0..segments).filter(|s| wanted(*s)).collect();
    // Each month's values of every series are gathered in one pass over the paths (the figures are
    // stored path by path, so a series alone would read a cache line per path for one number), as
    // keys that order as the values do, then each series' quantiles are selected from its keys.
    const TOTALS: usize = 7;
    let (active, mrr, new, churned, billed, per_subscriber, cumulative) = (0, 1, 2, 3, 4, 5, 6);
    let series_count = TOTALS + 2 * wanted.len();
    let mut keys: Vec<Vec<i64>> = (0..series_count).map(|_| Vec::with_capacity(paths)).collect();
    let mut running = vec![0.0; paths];
    let mut quantiles: Vec<Vec<Vec<f64>>> = (0..series_count).map(|_| Vec::with_capacity(horizon)).collect();
    for month in 0..horizon {
        keys.iter_mut().for_each(Vec::clear);
        for (offset, path) in simulation.paths.clone().enumerate() {
            let total = simulation.path_totals(path).get(month).copied().unwrap_or_default();
            running[offset] += total.billed_major_units;
            for (series, value) in [
                (active, total.active_subscribers as f64),
                (mrr, total.mrr_major_units),
                (new, total.new_subscribers as f64),
                (churned, total.churned_subscribers as f64),
                (billed, total.billed_major_units),
                (per_subscriber, arpu(&total)),
                (cumulative, running[offset]),
            ] {
                keys[series].push(order_key(value));
            }
            let row = (offset * horizon + month) * segments;
            let held = simulation.segments.get(row..row + segments).unwrap_or_default();
            for (at, index) in wanted.iter().enumerate() {
                let figures = held.get(*index).copied().unwrap_or_default();
                keys[TOTALS + 2 * at].push(order_key(figures.active_subscribers as f64));
                keys[TOTALS + 2 * at + 1].push(order_key(figures.mrr_major_units));
            }
        }
        for (series, month_keys) in keys.iter_mut().enumerate() {
            quantiles[series].push(selected_quantiles(month_keys, probabilities));
        }
    }
    let mut quantiles = quantiles.into_iter();
    let mut next = || quantiles.next().unwrap_or_default();
    let (active_subscribers, mrr_major_units) = (next(), next());
    let flows = FlowQuantiles {
        new_subscribers: next(),
        churned_subscribers: next(),
        billed_major_units: next(),
        arpu_major_units: next(),
        cumulative_billed_major_units: next(),
    };
    let total = SeriesQuantiles { name: "total".to_owned(), active_subscribers, mrr_major_units };
    let segments = simulation
        .segment_names
        .iter()
        .enumerate()
        .map(|(index, name)| match wanted.binary_search(&index) {
            Ok(_) => SeriesQuantiles { name: name.clone(), active_subscribers: next(), mrr_major_units: next() },
            Err(_) => {
                SeriesQuantiles { name: name.clone(), active_subscribers: Vec::new(), mrr_major_units: Vec::new() }
            }
        })
        .collect();
    Ok(Summary {
        start_month_index: simulation.start_month_index,
        paths: simulation.paths.end - simulation.paths.start,
        probabilities: probabilities.to_vec(),
        segments,
        total,
        flows,
    })
}

/// MRR per paid subscriber; 0 with none.
fn arpu(figures: &MonthFigures) -> f64 {
    if figures.active_subscribers == 0 {
        0.0
    } else {
        figures.mrr_major_units / figures.active_subscribers as f64
    }
}

fn sorted_quantiles(values: &mut [f64], probabilities: &[f64]) -> Vec<f64> {
    values.sort_unstable_by(f64::total_cmp);
    probabilities.iter().map(|p| quantile_of_sorted(values, *p)).collect()
}

/// A key whose integer order is `value`'s [`f64::total_cmp`] order (the same map), so that
/// selecting on keys compares integers; [`value_of_key`] undoes it.
fn order_key(value: f64) -> i64 {
    let bits = value.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// The value of an [`order_key`] (the map is its own inverse: it keeps the sign bit).
fn value_of_key(key: i64) -> f64 {
    f64::from_bits(order_key(f64::from_bits(key as u64)) as u64)
}

/// The type-7 quantiles of the values whose [`order_key`]s are `keys`, without sorting them all:
/// only the order statistics the quantiles read are put in their sorted places (a selection around
/// each, nested), so the result is exactly [`sorted_quantiles`]'s, in about a third of the time for
/// a run's few probabilities.
fn selected_quantiles(keys: &mut [i64], probabilities: &[f64]) -> Vec<f64> {
    let Some(last) = keys.len().checked_sub(1) else {
        return vec![f64::NAN; probabilities.len()];
    };
    let mut ranks: Vec<usize> = Vec::with_capacity(2 * probabilities.len());
    for p in probabilities {
        let below = f64::floor(last as f64 * p.clamp(0.0, 1.0)) as usize;
        ranks.push(below.min(last));
        ranks.push((below + 1).min(last));
    }
    ranks.sort_unstable();
    ranks.dedup();
    select_ranks(keys, &ranks, 0);
    probabilities.iter().map(|p| type_seven(keys.len(), *p, |rank| value_of_key(keys[rank]))).collect()
}

/// Puts the order statistics of `ranks` (sorted, as positions in the whole slice, of which `values`
/// starts at `offset`) in their places: a selection at the middle rank splits the slice and the
/// ranks, and each side is done the same way.
fn select_ranks(values: &mut [i64], ranks: &[usize], offset: usize) {
    let Some(&middle) = ranks.get(ranks.len() / 2) else {
        return;
    };
    let Some(at) = middle.checked_sub(offset).filter(|at| *at < values.len()) else {
        return;
    };
    let (below, _, above) = values.select_nth_unstable(at);
    select_ranks(below, &ranks[..ranks.len() / 2], offset);
    select_ranks(above, &ranks[ranks.len() / 2 + 1..], middle + 1);
}

/// The number of bins of a difference's histogram.
pub const HISTOGRAM_BINS: usize = 30;

/// A scenario against the baseline on the same paths (common random numbers): the distribution over
/// paths of the scenario's figure minus the baseline's, at the horizon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// MRR at the end of the last month.
    pub mrr_major_units: Difference,
    /// Paid subscribers at the end of the last month.
    pub active_subscribers: Difference,
    /// Revenue billed over the whole horizon.
    pub cumulative_billed_major_units: Difference,
}

/// The distribution of a per-path difference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// In the summary's probabilities' order.
    pub quantiles: Vec<f64>,
    pub mean: f64,
    /// The share of paths on which the scenario is ahead (a difference above 0).
    pub probability_ahead: f64,
    /// The share of paths on which it is exactly level.
    pub probability_level: f64,
    pub histogram: Histogram,
}

/// Counts of values in equal-width bins: bin `i` is `[edges[i], edges[i + 1])`, the last one closed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

/// Compares a scenario's simulation with the baseline's over the same paths and options.
pub fn compare(baseline: &Simulation, scenario: &Simulation, probabilities: &[f64]) -> Result<Comparison, SimError> {
    if let Some(&value) = probabilities.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(SimError::Probability { value });
    }
    if baseline.is_partial() || scenario.is_partial() {
        return Err(SimError::Partial);
    }
    let same = baseline.options == scenario.options
        && baseline.start_month_index == scenario.start_month_index
        && baseline.paths == scenario.paths;
    if !same {
        return Err(SimError::NotTheSameRun);
    }
    if baseline.paths.is_empty() {
        return Err(SimError::NoPaths);
    }
    let last = baseline.options.horizon_months - 1;
    let at_horizon = |field: fn(&MonthFigures) -> f64| -> Vec<f64> {
        baseline
            .paths
            .clone()
            .map(|path| {
                let value =
                    |simulation: &Simulation| simulation.figures(path, last, Series::Total).map_or(0.0, |f| field(&f));
                value(scenario) - value(baseline)
            })
            .collect()
    };
    let cumulative: Vec<f64> = baseline
        .paths
        .clone()
        .map(|path| {
            let sum = |simulation: &Simulation| {
                simulation.path_totals(path).iter().map(|f| f.billed_major_units).sum::<f64>()
            };
            sum(scenario) - sum(baseline)
        })
        .collect();
    Ok(Comparison {
        mrr_major_units: difference(at_horizon(|f| f.mrr_major_units), probabilities),
        active_subscribers: difference(at_horizon(|f| f.active_subscribers as f64), probabilities),
        cumulative_billed_major_units: difference(cumulative, probabilities),
    })
}

fn difference(mut values: Vec<f64>, probabilities: &[f64]) -> Difference {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let probability_ahead = values.iter().filter(|v| **v > 0.0).count() as f64 / n;
    let probability_level = values.iter().filter(|v| **v == 0.0).count() as f64 / n;
    let quantiles = sorted_quantiles(&mut values, probabilities);
    Difference { quantiles, mean, probability_ahead, probability_level, histogram: histogram(&values) }
}

/// [`HISTOGRAM_BINS`] equal-width bins from the smallest value to the largest (one bin around a
/// value that does not vary).
fn histogram(sorted: &[f64]) -> Histogram {
    let (Some(&low), Some(&high)) = (sorted.first(), sorted.last()) else {
        return Histogram { edges: Vec::new(), counts: Vec::new() };
    };
    if high <= low {
        return Histogram { edges: vec![low, high], counts: vec![sorted.len() as u64] };
    }
    let width = (high - low) / HISTOGRAM_BINS as f64;
    let edges: Vec<f64> =
        (0..=HISTOGRAM_BINS).map(|i| if i == HISTOGRAM_BINS { high } else { low + width * i as f64 }).collect();
    let mut counts = vec![0u64; HISTOGRAM_BINS];
    for value in sorted {
        let bin = (f64::floor((value - low) / width) as usize).min(HISTOGRAM_BINS - 1);
        counts[bin] += 1;
    }
    Histogram { edges, counts }
}

/// The `probability` quantile of values sorted in increasing order, by linear interpolation between
/// order statistics (type 7). NaN for no values.
pub fn quantile_of_sorted(sorted: &[f64], probability: f64) -> f64 {
    type_seven(sorted.len(), probability, |rank| sorted[rank])
}

/// The type-7 `probability` quantile of `count` values, from their order statistics by rank
/// (`order_statistic(0)` the smallest); NaN for no values.
fn type_seven(count: usize, probability: f64, order_statistic: impl Fn(usize) -> f64) -> f64 {
    let Some(last) = count.checked_sub(1) else {
        return f64::NAN;
    };
    let position = last as f64 * probability.clamp(0.0, 1.0);
    let below = f64::floor(position) as usize;
    let (low, high) = (order_statistic(below.min(last)), order_statistic((below + 1).min(last)));
    low + (position - below as f64) * (high - low)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{simulate, SimOptions};
    use crate::twin::tests::example_twin;

    #[test]
    fn quantiles_interpolate_linearly_between_order_statistics() {
        // Each case: sorted values, probability, quantile (as R's quantile(x, p, type = 7) gives).
        let cases: [(&[f64], f64, f64); 8] = [
            (&[1.0, 2.0, 3.0, 4.0], 0.5, 2.5),
            (&[1.0, 2.0, 3.0, 4.0], 0.1, 1.3),
            (&[1.0, 2.0, 3.0, 4.0], 0.9, 3.7),
            (&[1.0, 2.0, 3.0, 4.0], 0.0, 1.0),
            (&[1.0, 2.0, 3.0, 4.0], 1.0, 4.0),
            (&[10.0, 20.0, 30.0], 0.25, 15.0),
            (&[7.0], 0.3, 7.0),
            (&[0.0, 10.0], 0.05, 0.5),
        ];
        for (values, probability, expected) in cases {
            let quantile = quantile_of_sorted(values, probability);
            assert!((quantile - expected).abs() < 1e-12, "{values:?} at {probability}: {quantile} vs {expected}");
        }
        assert!(quantile_of_sorted(&[], 0.5).is_nan());
    }

    #[test]
    fn selected_quantiles_equal_the_sorted_ones_with_ties_and_any_length() {
        let probabilities = [0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0];
        let mut state = 12345u64;
        for length in [1usize, 2, 3, 7, 10, 101, 1000, 4096] {
            for ties in [1_000_000u64, 5] {
                let values: Vec<f64> = (0..length)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        ((state >> 33) % ties) as f64 - 3.5
                    })
                    .collect();
                let (mut sorted, mut selected) =
                    (values.clone(), values.iter().map(|v| order_key(*v)).collect::<Vec<_>>());
                let expected = sorted_quantiles(&mut sorted, &probabilities);
                let got = selected_quantiles(&mut selected, &probabilities);
                assert_eq!(
                    got.iter().map(|q| q.to_bits()).collect::<Vec<_>>(),
                    expected.iter().map(|q| q.to_bits()).collect::<Vec<_>>(),
                    "{length} values, {ties} distinct at most"
                );
            }
        }
        assert!(selected_quantiles(&mut [], &probabilities).iter().all(|q| q.is_nan()));
    }

    #[test]
    fn order_keys_order_as_total_cmp_and_give_back_every_value_bit_for_bit() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -f64::MIN_POSITIVE,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            f64::MIN_POSITIVE,
            1.0,
            867_233.25,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
        ];
        for a in values {
            assert_eq!(value_of_key(order_key(a)).to_bits(), a.to_bits(), "{a}");
            for b in values {
                assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b), "{a} against {b}");
            }
        }
    }

    #[test]
    fn a_summary_of_some_segments_is_the_whole_summary_with_the_others_left_empty() {
        let mut twin = example_twin();
        let mut second = twin.segments[0].clone();
        second.name = "Second".into();
        twin.segments.push(second);
        let options = SimOptions { paths: 60, horizon_months: 5, seed: 8 };
        let simulation = simulate(&twin, &options).expect("the twin simulates");
        let whole = summarise(&simulation, &DEFAULT_PROBABILITIES).expect("valid probabilities");
        let some = summarise_segments(&simulation, &DEFAULT_PROBABILITIES, |s| s == 1).expect("valid probabilities");
        assert_eq!(some.total, whole.total);
        assert_eq!(some.flows, whole.flows);
        assert_eq!(some.segments[1], whole.segments[1]);
        assert_eq!(some.segments[0].name, whole.segments[0].name);
        assert!(some.segments[0].active_subscribers.is_empty() && some.segments[0].mrr_major_units.is_empty());
        assert_eq!(whole.segments[0].active_subscribers.len(), 5);
    }

    #[test]
    fn a_summary_has_ordered_bands_for_every_month_and_series() {
        let options = SimOptions { paths: 200, horizon_months: 6, seed: 3 };
        let simulation = simulate(&example_twin(), &options).expect("the example twin simulates");
        let summary = summarise(&simulation, &DEFAULT_PROBABILITIES).expect("valid probabilities");
        assert_eq!(summary.paths, 200);
        assert_eq!(summary.segments.len(), 1);
        assert_eq!(summary.total.name, "total");
        for series in summary.segments.iter().chain([&summary.total]) {
            for bands in series.active_subscribers.iter().chain(&series.mrr_major_units) {
                assert_eq!(bands.len(), 3);
                assert!(bands[0] <= bands[1] && bands[1] <= bands[2], "{}: {bands:?}", series.name);
            }
            assert_eq!(series.active_subscribers.len(), 6);
        }
        // One segment: its bands are the total's.
        assert_eq!(summary.segments[0].mrr_major_units, summary.total.mrr_major_units);
        // The median of month 0 is the median of the paths' values, computed directly.
        let mut month_zero: Vec<f64> =
            simulation.across_paths(0, Series::Total).map(|f| f.active_subscribers as f64).collect();
        month_zero.sort_by(f64::total_cmp);
        assert_eq!(summary.total.active_subscribers[0][1], (month_zero[99] + month_zero[100]) / 2.0);
    }

    #[test]
    fn a_probability_outside_zero_to_one_is_refused() {
        let options = SimOptions { paths: 2, horizon_months: 1, seed: 3 };
        let simulation = simulate(&example_twin(), &options).expect("the example twin simulates");
        for value in [-0.1, 1.5, f64::NAN] {
            assert!(matches!(summarise(&simulation, &[0.5, value]), Err(SimError::Probability { .. })));
        }
    }
}
