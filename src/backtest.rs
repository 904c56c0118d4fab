//! The backtest: would the twin have predicted the recent past, and better than the naive
//! forecasts people use instead?
//!
//! For each cutoff (a month; by default 6, 9, 12 and 18 months before the last whole month of data),
//! everything is refitted on what was known at the cutoff's last second ([`paid_spans`] sees nothing
//! later), the twin starts from the real state then, and the engine simulates forward to the last
//! whole month. Each month's forecast (median and 10-90% band, per segment) is compared with what
//! really happened, as the history rebuilds it: active subscribers and MRR at the month's end.
//!
//! Scores, pooled over cutoffs, segments and months: the mean absolute percentage error (MAPE) of the
//! median forecast, and the coverage of the 10-90% band (the share of months where reality fell
//! inside it; an honest band holds it about 80% of the time). Beside them, on the same months, three
//! naive forecasts from the 12 months up to the cutoff: the last value carried forward, a straight
//! line fitted by least squares, and one constant churn rate with the average inflow. The total
//! series is scored apart (a segment launched after a cutoff is in the real total, and no forecast
//! made at the cutoff could know it).
//!
//! The backtest sits above the models and the engine: it calls both, neither calls it.

use serde::{Deserialize, Serialize};

use crate::history::paid_spans;
use crate::history::{self, History, HistoryOptions, MonthFigures};
use crate::import::values::MonthIndex;
use crate::import::{Instant, Subscription};
use crate::model::build::build_twin;
use crate::model::calibrate::{calibrate_spans, movements};
use crate::money::Currency;
use crate::sim::{simulate, summarise, SimOptions};

/// How many months before the last whole month the default cutoffs lie.
pub const DEFAULT_CUTOFFS_BEFORE_END: [i32; 4] = [18, 12, 9, 6];
/// Paths per cutoff unless asked otherwise.
pub const DEFAULT_PATHS: u32 = 500;
pub const DEFAULT_SEED: u64 = 20_251_231;
/// A cutoff needs this many months of history up to it.
pub const MIN_MONTHS_BEFORE_CUTOFF: i32 = 6;
/// The naive forecasts look back this many months.
pub const NAIVE_LOOKBACK_MONTHS: usize = 12;
/// The band's quantiles.
const BAND: [f64; 3] = [0.1, 0.5, 0.9];

/// What to backtest: the cutoffs (empty for the defaults), and the simulation's size and seed.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestOptions {
    pub cutoffs: Vec<MonthIndex>,
    pub paths: u32,
    pub seed: u64,
}

impl Default for BacktestOptions {
    fn default() -> BacktestOptions {
        BacktestOptions { cutoffs: Vec::new(), paths: DEFAULT_PATHS, seed: DEFAULT_SEED }
    }
}

/// Active subscribers and MRR (major units).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub active: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub mrr: f64,
}

/// One month of one series of one cutoff's forecast, beside what happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestMonth {
    /// The last month the refit saw, `YYYY-MM`.
    pub cutoff: String,
    pub month: String,
    /// Months after the cutoff (1 is the first forecast month).
    pub ahead: u32,
    /// A segment's name, or `total`.
    pub series: String,
    pub actual: Pair,
    /// The twin's 10%, 50% and 90% quantiles.
    #[serde(deserialize_with = "crate::nonfinite::array_or_nan")]
    pub active_band: [f64; 3],
    #[serde(deserialize_with = "crate::nonfinite::array_or_nan")]
    pub mrr_band: [f64; 3],
    pub last_value: Pair,
    pub linear_trend: Pair,
    pub constant_churn: Pair,
}

/// A score of active subscribers and of MRR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub active: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub mrr: f64,
}

/// The naive forecasts' MAPE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    pub last_value: Score,
    pub linear_trend: Score,
    pub constant_churn: Score,
}

/// The scores of one set of series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Months compared (each series and cutoff counts its own).
    pub months: u64,
    /// MAPE of the twin's median, as a fraction (0.05 is 5%).
    pub mape: Score,
    /// Share of months inside the 10-90% band.
    pub coverage: Score,
    pub baselines: Baselines,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesScores {
    pub series: String,
    pub scores: Scores,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// The cutoffs used, `YYYY-MM`, oldest first.
    pub cutoffs: Vec<String>,
    /// The last month compared: the last whole month of the data.
    pub last_month: String,
    pub paths: u32,
    pub seed: u64,
    /// Pooled over cutoffs and segments (not the total).
    pub mape: Score,
    pub coverage: Score,
    pub baselines: Baselines,
    pub months_compared: u64,
    /// The total series on its own.
    pub total: Scores,
    pub by_segment: Vec<SeriesScores>,
    pub months: Vec<BacktestMonth>,
    /// The result in plain words.
    pub verdict: String,
    /// Cutoffs asked for but not used, and why; segments a cutoff could not simulate.
    pub notes: Vec<String>,
}

/// Runs the backtest on the subscriptions as known at `as_of`, money in `currency`. `None` when the
/// history is too short for any cutoff (the reason is the error).
pub fn backtest(
    subscriptions: &[Subscription],
    as_of: Instant,
    currency: &Currency,
    options: &BacktestOptions,
) -> Result<BacktestReport, String> {
    let history = history::build(subscriptions, &HistoryOptions { as_of: Some(as_of) })
        .ok_or_else(|| "there is no history to backtest".to_owned())?;
    let first = history.months.first().map(|m| m.month).ok_or_else(|| "the history has no months".to_owned())?;
    let last_full = match history.months.last() {
        Some(m) if m.partial => MonthIndex(m.month.0 - 1),
        Some(m) => m.month,
        None => return Err("the history has no months".into()),
    };
    let mut notes = Vec::new();
    let earliest = first.0 + MIN_MONTHS_BEFORE_CUTOFF - 1;
    let requested: Vec<MonthIndex> = if options.cutoffs.is_empty() {
        DEFAULT_CUTOFFS_BEFORE_END.iter().map(|k| MonthIndex(last_full.0 - k)).filter(|c| c.0 >= earliest).collect()
    } else {
        options.cutoffs.clone()
    };
    let mut cutoffs = Vec::new();
    for cutoff in requested {
        if cutoff.0 < earliest {
            notes.push(format!(
                "cutoff {} left out: it needs {MIN_MONTHS_BEFORE_CUTOFF} months of history up to it (the data start in {})",
                cutoff.label(),
                first.label()
            ));
        } else if cutoff.0 >= last_full.0 {
            notes.push(format!(
                "cutoff {} left out: nothing whole comes after it to compare with (the last whole month is {})",
                cutoff.label(),
                last_full.label()
            ));
        } else if !cutoffs.contains(&cutoff) {
            cutoffs.push(cutoff);
        }
    }
    cutoffs.sort();
    if cutoffs.is_empty() {
        return Err(format!(
            "the history is too short to backtest: a cutoff needs {MIN_MONTHS_BEFORE_CUTOFF} months before it and at \
             least one whole month after it (the data run from {} to {})",
            first.label(),
            last_full.label()
        ));
    }
    let mut months = Vec::new();
    for &cutoff in &cutoffs {
        let (mut cutoff_months, mut cutoff_notes) =
            forecast_from(subscriptions, &history, cutoff, last_full, currency, options)?;
        months.append(&mut cutoff_months);
        notes.append(&mut cutoff_notes);
    }
    let segment_months: Vec<&BacktestMonth> = months.iter().filter(|m| m.series != TOTAL).collect();
    let pooled = scores(&segment_months);
    let total = scores(&months.iter().filter(|m| m.series == TOTAL).collect::<Vec<_>>());
    let mut names: Vec<&str> = segment_months.iter().map(|m| m.series.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let by_segment = names
        .iter()
        .map(|&name| SeriesScores {
            series: name.to_owned(),
            scores: scores(&months.iter().filter(|m| m.series == name).collect::<Vec<_>>()),
        })
        .collect();
    let verdict = verdict(&pooled, cutoffs.len());
    Ok(BacktestReport {
        cutoffs: cutoffs.iter().map(|c| c.label()).collect(),
        last_month: last_full.label(),
        paths: options.paths,
        seed: options.seed,
        mape: pooled.mape,
        coverage: pooled.coverage,
        baselines: pooled.baselines,
        months_compared: pooled.months,
        total,
        by_segment,
        months,
        verdict,
        notes,
    })
}

/// The name of the total series.
pub const TOTAL: &str = "total";

/// One cutoff's forecasts beside reality, for every segment the twin could run and the total.
fn forecast_from(
    subscriptions: &[Subscription],
    history: &History,
    cutoff: MonthIndex,
    last_full: MonthIndex,
    currency: &Currency,
    options: &BacktestOptions,
) -> Result<(Vec<BacktestMonth>, Vec<String>), String> {
    // What the twin needs: retention, acquisition, the movements of MRR and the state at the cutoff
    // (not the price response, which the full calibration adds for the report and the twin carries
    // only into scenarios).
    let mut calibration = calibrate_spans(&paid_spans(subscriptions, cutoff.end() - 1));
    for segment in &mut calibration.segments {
        segment.movements = movements(history, &segment.name, Some(cutoff));
    }
    let (twin, left_out) = build_twin(&calibration, currency).map_err(|e| format!("cutoff {}: {e}", cutoff.label()))?;
    let mut notes: Vec<String> = left_out
        .iter()
        .map(|name| format!("cutoff {}: {name} left out of the forecast (no retention estimate yet)", cutoff.label()))
        .collect();
    let horizon = (last_full.0 - cutoff.0) as u32;
    let sim_options = SimOptions { paths: options.paths, horizon_months: horizon, seed: options.seed };
    let simulation = simulate(&twin, &sim_options).map_err(|e| format!("cutoff {}: {e}", cutoff.label()))?;
    let summary = summarise(&simulation, &BAND).map_err(|e| format!("cutoff {}: {e}", cutoff.label()))?;
    let month_index = |m: MonthIndex| history.months.iter().position(|h| h.month == m);
    let Some(cutoff_at) = month_index(cutoff) else {
        return Err(format!("cutoff {} lies outside the history", cutoff.label()));
    };
    let lookback_from = cutoff_at.saturating_sub(NAIVE_LOOKBACK_MONTHS - 1);
    let major =
        |figures: &MonthFigures| Pair { active: figures.active as f64, mrr: figures.mrr.to_major_f64(currency) };
    let mut series: Vec<(String, Option<usize>, &crate::sim::SeriesQuantiles)> = summary
        .segments
        .iter()
        .map(|q| (q.name.clone(), history.segments.iter().position(|s| *s == q.name), q))
        .collect();
    series.push((TOTAL.to_owned(), None, &summary.total));
    let mut months = Vec::new();
    for (name, history_segment, quantiles) in series {
        let figures_of = |index: usize| -> Option<&MonthFigures> {
            let month = history.months.get(index)?;
            match history_segment {
                Some(segment) => month.by_segment.get(segment),
                None if name == TOTAL => Some(&month.total),
                None => None,
            }
        };
        if name != TOTAL && history_segment.is_none() {
            notes.push(format!("cutoff {}: {name} is not in the history's segments", cutoff.label()));
            continue;
        }
        let past: Vec<&MonthFigures> = (lookback_from..=cutoff_at).filter_map(figures_of).collect();
        let naive = Naive::fit(&past, currency);
        for ahead in 1..=horizon {
            let Some(actual) = month_index(MonthIndex(cutoff.0 + ahead as i32)).and_then(figures_of) else {
                continue;
            };
            let step = (ahead - 1) as usize;
            let band = |values: &Vec<Vec<f64>>| -> [f64; 3] {
                let q = &values[step];
                [q[0], q[1], q[2]]
            };
            months.push(BacktestMonth {
                cutoff: cutoff.label(),
                month: MonthIndex(cutoff.0 + ahead as i32).label(),
                ahead,
                series: name.clone(),
                actual: major(actual),
                active_band: band(&quantiles.active_subscribers),
                mrr_band: band(&quantiles.mrr_major_units),
                last_value: naive.last_value,
                linear_trend: naive.linear_trend(ahead),
                constant_churn: naive.constant_churn(ahead),
            });
        }
    }
    Ok((months, notes))
}

/// The naive forecasts, fitted on the months up to a cutoff (oldest first, the cutoff's last).
struct Naive {
    last_value: Pair,
    /// Least-squares slope per month of each series over the lookback.
    slope: Pair,
    /// The fitted line's value at the cutoff.
    level: Pair,
    /// Monthly churn rates (churned over the previous month's value) and average inflows.
    churn_rate: Pair,
    inflow: Pair,
}

impl Naive {
    fn fit(past: &[&MonthFigures], currency: &Currency) -> Naive {
        let active: Vec<f64> = past.iter().map(|f| f.active as f64).collect();
        let mrr: Vec<f64> = past.iter().map(|f| f.mrr.to_major_f64(currency)).collect();
        let last_value =
            Pair { active: active.last().copied().unwrap_or(0.0), mrr: mrr.last().copied().unwrap_or(0.0) };
        let (active_level, active_slope) = least_squares(&active);
        let (mrr_level, mrr_slope) = least_squares(&mrr);
        // Churn over the months with a previous month in the lookback.
        let (mut churned, mut exposed, mut churned_mrr, mut exposed_mrr) = (0.0, 0.0, 0.0, 0.0);
        let (mut inflow_active, mut inflow_mrr) = (0.0, 0.0);
        for pair in past.windows(2) {
            let (before, now) = (pair[0], pair[1]);
            churned += now.churned as f64;
            exposed += before.active as f64;
            churned_mrr += now.churned_mrr.to_major_f64(currency);
            exposed_mrr += before.mrr.to_major_f64(currency);
            inflow_active += (now.new + now.reactivated + now.moved_in) as f64 - now.moved_out as f64;
            inflow_mrr += (now.new_mrr + now.reactivation_mrr + now.expansion_mrr - now.contraction_mrr
                + now.moved_in_mrr
                - now.moved_out_mrr)
                .to_major_f64(currency);
        }
        let steps = past.len().saturating_sub(1).max(1) as f64;
        let rate = |gone: f64, base: f64| if base > 0.0 { gone / base } else { 0.0 };
        Naive {
            last_value,
            slope: Pair { active: active_slope, mrr: mrr_slope },
            level: Pair { active: active_level, mrr: mrr_level },
            churn_rate: Pair { active: rate(churned, exposed), mrr: rate(churned_mrr, exposed_mrr) },
            inflow: Pair { active: inflow_active / steps, mrr: inflow_mrr / steps },
        }
    }

    fn linear_trend(&self, ahead: u32) -> Pair {
        let h = f64::from(ahead);
        Pair {
            active: (self.level.active + self.slope.active * h).max(0.0),
            mrr: (self.level.mrr + self.slope.mrr * h).max(0.0),
        }
    }

    fn constant_churn(&self, ahead: u32) -> Pair {
        let mut value = self.last_value;
        for _ in 0..ahead {
            value.active = value.active * (1.0 - self.churn_rate.active) + self.inflow.active;
            value.mrr = value.mrr * (1.0 - self.churn_rate.mrr) + self.inflow.mrr;
        }
        value
    }
}

/// The least-squares line through `values` at x = 0, 1, ...: its value at the last x, and its slope.
/// One value is a flat line.
fn least_squares(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n < 2 {
        return (values.first().copied().unwrap_or(0.0), 0.0);
    }
    let mean_x = (n - 1) as f64 / 2.0;
    let mean_y = values.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in values.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    let slope = sxy / sxx;
    (mean_y + slope * ((n - 1) as f64 - mean_x), slope)
}

/// MAPE and coverage over some months.
fn scores(months: &[&BacktestMonth]) -> Scores {
    let mape = |forecast: &dyn Fn(&BacktestMonth) -> Pair| -> Score {
        let (mut active, mut n_active, mut mrr, mut n_mrr) = (0.0, 0u64, 0.0, 0u64);
        for m in months {
            let f = forecast(m);
            if m.actual.active > 0.0 {
                active += (f.active - m.actual.active).abs() / m.actual.active;
                n_active += 1;
            }
            if m.actual.mrr > 0.0 {
                mrr += (f.mrr - m.actual.mrr).abs() / m.actual.mrr;
                n_mrr += 1;
            }
        }
        Score { active: active / n_active.max(1) as f64, mrr: mrr / n_mrr.max(1) as f64 }
    };
    let inside = |band: [f64; 3], actual: f64| band[0] <= actual && actual <= band[2];
    let count = months.len().max(1) as f64;
    Scores {
        months: months.len() as u64,
        mape: mape(&|m| Pair { active: m.active_band[1], mrr: m.mrr_band[1] }),
        coverage: Score {
            active: months.iter().filter(|m| inside(m.active_band, m.actual.active)).count() as f64 / count,
            mrr: months.iter().filter(|m| inside(m.mrr_band, m.actual.mrr)).count() as f64 / count,
        },
        baselines: Baselines {
            last_value: mape(&|m| m.last_value),
            linear_trend: mape(&|m| m.linear_trend),
            constant_churn: mape(&|m| m.constant_churn),
        },
    }
}

/// The result in plain words: did the twin beat the naive forecasts, and are its bands honest?
fn verdict(scores: &Scores, cutoffs: usize) -> String {
    let best = |pick: fn(&Score) -> f64| {
        [
            ("the last value carried forward", pick(&scores.baselines.last_value)),
            ("a straight-line trend", pick(&scores.baselines.linear_trend)),
            ("one constant churn rate", pick(&scores.baselines.constant_churn)),
        ]
        .into_iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(("none", f64::NAN))
    };
    let sentence = |what: &str, twin: f64, coverage: f64, (name, naive): (&str, f64)| {
        let outcome = if twin < naive { "beat" } else { "did not beat" };
        format!(
            "For {what}, the twin's median forecast was off by {:.1}% on average, against {:.1}% for the best naive \
             forecast ({name}): it {outcome} them. Its 10-90% band held the real value {:.0}% of the time{}.",
            100.0 * twin,
            100.0 * naive,
            100.0 * coverage,
            band_word(coverage)
        )
    };
    format!(
        "Backtested from {cutoffs} cutoff{} over {} segment-months. {} {}",
        if cutoffs == 1 { "" } else { "s" },
        scores.months,
        sentence("MRR", scores.mape.mrr, scores.coverage.mrr, best(|s| s.mrr)),
        sentence("paid subscribers", scores.mape.active, scores.coverage.active, best(|s| s.active)),
    )
}

/// How an 80% band's coverage reads.
fn band_word(coverage: f64) -> &'static str {
    if coverage < 0.65 {
        " (an honest band holds it about 80% of the time: this one is too narrow)"
    } else if coverage > 0.92 {
        " (an honest band holds it about 80% of the time: this one is wider than it needs to be)"
    } else {
        " (about the 80% an honest band holds)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_extrapolates_a_straight_line_exactly() {
        let (level, slope) = least_squares(&[10.0, 12.0, 14.0, 16.0]);
        assert!((level - 16.0).abs() < 1e-12 && (slope - 2.0).abs() < 1e-12);
        assert_eq!(least_squares(&[5.0]), (5.0, 0.0));
    }

    #[test]
    fn scores_count_the_band_and_the_median_error() {
        let month = |actual: f64, band: [f64; 3]| BacktestMonth {
            cutoff: "2025-01".into(),
            month: "2025-02".into(),
            ahead: 1,
            series: "A".into(),
            actual: Pair { active: actual, mrr: actual },
            active_band: band,
            mrr_band: band,
            last_value: Pair { active: 90.0, mrr: 90.0 },
            linear_trend: Pair { active: 100.0, mrr: 100.0 },
            constant_churn: Pair { active: 110.0, mrr: 110.0 },
        };
        let a = month(100.0, [95.0, 100.0, 105.0]);
        let b = month(200.0, [150.0, 180.0, 190.0]);
        let scores = scores(&[&a, &b]);
        // Median errors 0 and 10%: MAPE 5%. Only the first month lies in its band.
        assert!((scores.mape.mrr - 0.05).abs() < 1e-12, "{scores:?}");
        assert!((scores.coverage.active - 0.5).abs() < 1e-12, "{scores:?}");
        // Last value 90: errors 10% and 55%.
        assert!((scores.baselines.last_value.active - 0.325).abs() < 1e-12, "{scores:?}");
    }
}
