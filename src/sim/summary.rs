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
    /// One per segment, in the twin's order.
    pub segments: Vec<SeriesQuantiles>,
    pub total: SeriesQuantiles,
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

/// The quantiles of active subscribers and MRR, per month, per segment and in total, over the paths
/// the simulation holds (merge batches first with [`Simulation::append`]).
pub fn summarise(simulation: &Simulation, probabilities: &[f64]) -> Result<Summary, SimError> {
    if let Some(&value) = probabilities.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(SimError::Probability { value });
    }
    if simulation.paths.is_empty() {
        return Err(SimError::NoPaths);
    }
    let series = |series: Series, name: &str| series_quantiles(simulation, series, name, probabilities);
    Ok(Summary {
        start_month_index: simulation.start_month_index,
        paths: simulation.paths.end - simulation.paths.start,
        probabilities: probabilities.to_vec(),
        segments: simulation
            .segment_names
            .iter()
            .enumerate()
            .map(|(i, name)| series(Series::Segment(i), name))
            .collect(),
        total: series(Series::Total, "total"),
    })
}

fn series_quantiles(simulation: &Simulation, series: Series, name: &str, probabilities: &[f64]) -> SeriesQuantiles {
    let mut values = Vec::with_capacity(simulation.paths.len());
    let mut quantiles_of = |month: u32, field: fn(&MonthFigures) -> f64| {
        values.clear();
        values.extend(simulation.across_paths(month, series).map(field));
        values.sort_unstable_by(f64::total_cmp);
        probabilities.iter().map(|p| quantile_of_sorted(&values, *p)).collect::<Vec<f64>>()
    };
    let months = 0..simulation.options.horizon_months;
    let active_subscribers = months.clone().map(|m| quantiles_of(m, |f| f.active_subscribers as f64)).collect();
    let mrr_major_units = months.map(|m| quantiles_of(m, |f| f.mrr_major_units)).collect();
    SeriesQuantiles { name: name.to_owned(), active_subscribers, mrr_major_units }
}

/// The `probability` quantile of values sorted in increasing order, by linear interpolation between
/// order statistics (type 7). NaN for no values.
pub fn quantile_of_sorted(sorted: &[f64], probability: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let position = last as f64 * probability.clamp(0.0, 1.0);
    let below = libm::floor(position) as usize;
    let above = (below + 1).min(last);
    let fraction = position - below as f64;
    sorted[below] + fraction * (sorted[above] - sorted[below])
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
