//! Acquisition: how many new paid subscribers each segment gains a month, and how many trials
//! convert.
//!
//! Two streams per segment: direct paid starts (no trial;
//! returning customers and moves in from other segments included, so that reactivations and plan
//! switches are part of the forecast) and trial starts,
//! of which a share converts. Each monthly count is Poisson with a log-linear trend, fitted by
//! maximum likelihood on the recent months: the last [`WINDOW_MONTHS`] from the segment's first
//! arrival, with a month-of-year effect only when that window spans two years or more. A month the
//! data covers only in part (the as-of month) counts with its share of the month as exposure, so a
//! partial month neither drags the trend down nor is dropped. Parameter uncertainty is the inverse
//! Fisher information widened by the counts' overdispersion (quasi-Poisson: arrivals vary more than
//! a Poisson's from month to month), reported for the intercept and the slope (what the simulation
//! draws).
//!
//! Trial conversion is beta-binomial over months (the trials that ended each month, and how many of
//! them converted), so months that convert unusually well or badly widen the uncertainty; when the
//! months agree with one binomial rate, the fit reaches the binomial limit and says so.

use super::optimise::{cholesky, cholesky_solve};

/// The most recent months an acquisition trend is fitted on.
pub const WINDOW_MONTHS: usize = 36;
/// A month-of-year effect is fitted only on at least this many months.
pub const SEASONAL_MIN_MONTHS: usize = 24;
/// The prior standard deviation of a month-of-year log multiplier: most months within ±20% of the
/// year's average, unless the data say more.
pub const SEASONAL_PRIOR_SD: f64 = 0.1;

/// One segment's monthly counts of one stream, oldest first, with each month's calendar month
/// (1 to 12) and the share of it the data covers (1 for a whole month).
#[derive(Clone, Debug, PartialEq)]
pub struct MonthlyCounts {
    pub counts: Vec<u64>,
    pub calendar_months: Vec<u8>,
    pub exposure: Vec<f64>,
}

/// A Poisson rate with a log-linear trend, per month: at `k` months after the forecast origin (the
/// month after the last month of data), the expected count is
/// `exp(intercept + slope * k + seasonal[calendar month - 1])`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoissonTrendFit {
    /// Log of the expected count at the forecast origin, before the month-of-year effect.
    pub intercept: f64,
    /// Change of the log rate per month (0.03 is about 3% growth a month).
    pub slope_per_month: f64,
    /// Log multipliers by calendar month (January first), summing to zero; all zero without a
    /// month-of-year effect.
    pub seasonal: [f64; 12],
    /// Covariance of (intercept, slope), widened by the counts' overdispersion (quasi-Poisson).
    pub covariance: [[f64; 2]; 2],
    /// Pearson's dispersion of the counts around the fit (1 for Poisson, at least 1 here).
    pub dispersion: f64,
    pub months_used: u32,
    pub seasonal_fitted: bool,
    /// Arrivals in the months used.
    pub arrivals: u64,
}

impl PoissonTrendFit {
    /// The expected count `k` months after the origin, in calendar month `calendar_month` (1 to 12).
    pub fn expected(&self, k: i32, calendar_month: u8) -> f64 {
        let season = self.seasonal[usize::from(calendar_month.clamp(1, 12)) - 1];
        libm::exp(self.intercept + self.slope_per_month * f64::from(k) + season)
    }

    /// The rate of a stream that had no arrivals in its window: next to nothing, with no trend.
    fn nothing(months_used: u32) -> PoissonTrendFit {
        PoissonTrendFit {
            intercept: NO_ARRIVALS_LOG_RATE,
            slope_per_month: 0.0,
            seasonal: [0.0; 12],
            covariance: [[0.0; 2]; 2],
            dispersion: 1.0,
            months_used,
            seasonal_fitted: false,
            arrivals: 0,
        }
    }
}

/// The log rate given to a stream with no arrivals at all: one in a billion months.
const NO_ARRIVALS_LOG_RATE: f64 = -20.723_265_836_946_41;

/// Fits the trend to a stream's counts (oldest first). `None` when there is no month to fit.
pub fn fit_poisson_trend(data: &MonthlyCounts) -> Option<PoissonTrendFit> {
    let len = data.counts.len().min(data.calendar_months.len()).min(data.exposure.len());
    // From the first arrival (a segment does not exist before it sells), then the last months.
    let first_arrival = data.counts[..len].iter().position(|&c| c > 0).unwrap_or(len);
    let start = first_arrival.max(len.saturating_sub(WINDOW_MONTHS));
    let months = len - start;
    if months == 0 {
        return (len > 0).then(|| PoissonTrendFit::nothing(len.min(WINDOW_MONTHS) as u32));
    }
    let arrivals: u64 = data.counts[start..len].iter().sum();
    let seasonal = months >= SEASONAL_MIN_MONTHS;
    // Columns: intercept, months from the origin, then January to November effects against
    // December when seasonal (`December = -(sum of the others)` keeps the effects summing to zero).
    let width = if seasonal { 13 } else { 2 };
    let rows: Vec<(Vec<f64>, f64, f64)> = (start..len)
        .filter(|&i| data.exposure[i] > 0.0)
        .map(|i| {
            let mut x = vec![0.0; width];
            x[0] = 1.0;
            x[1] = i as f64 - len as f64;
            if seasonal {
                let month = usize::from(data.calendar_months[i].clamp(1, 12));
                if month == 12 {
                    x[2..13].iter_mut().for_each(|v| *v = -1.0);
                } else {
                    x[1 + month] = 1.0;
                }
            }
            (x, data.counts[i] as f64, libm::log(data.exposure[i]))
        })
        .collect();
    let mean_rate = arrivals as f64 / rows.iter().map(|r| libm::exp(r.2)).sum::<f64>().max(1e-9);
    let mut beta = vec![0.0; width];
    beta[0] = libm::log(mean_rate.max(1e-9));
    // Month-of-year effects are shrunk towards none (a normal prior with a standard deviation of
    // SEASONAL_PRIOR_SD on each log multiplier): two or three years give each calendar month two or
    // three noisy counts, and an unshrunk effect would carry one lucky month into every forecast.
    let mut precision = vec![0.0; width];
    if seasonal {
        precision[2..].iter_mut().for_each(|p| *p = 1.0 / (SEASONAL_PRIOR_SD * SEASONAL_PRIOR_SD));
    }
    let fisher = newton_poisson_penalised(&rows, &mut beta, &precision)?;
    let dispersion = overdispersion(&rows, &beta);
    let covariance_full: Vec<Vec<f64>> =
        invert(&fisher)?.into_iter().map(|row| row.into_iter().map(|v| v * dispersion).collect()).collect();
    let mut seasonal_effects = [0.0; 12];
    if seasonal {
        // Columns 2 to 12 hold January to November.
        seasonal_effects[..11].copy_from_slice(&beta[2..13]);
        seasonal_effects[11] = -beta[2..13].iter().sum::<f64>();
    }
    Some(PoissonTrendFit {
        intercept: beta[0],
        slope_per_month: beta[1],
        seasonal: seasonal_effects,
        covariance: [[covariance_full[0][0], covariance_full[0][1]], [covariance_full[1][0], covariance_full[1][1]]],
        dispersion,
        months_used: months as u32,
        seasonal_fitted: seasonal,
        arrivals,
    })
    .filter(|fit| fit.intercept.is_finite() && fit.slope_per_month.is_finite())
    .or_else(|| (arrivals == 0).then(|| PoissonTrendFit::nothing(months as u32)))
}

/// Maximises the Poisson log-likelihood of `rows` (covariates, count, log exposure) by Newton's
/// method with step halving (the log-likelihood is concave); returns the Fisher information at the
/// maximum. `None` when it is singular (a trend on one month, say).
pub(crate) fn newton_poisson(rows: &[(Vec<f64>, f64, f64)], beta: &mut [f64]) -> Option<Vec<Vec<f64>>> {
    newton_poisson_penalised(rows, beta, &vec![0.0; beta.len()])
}

/// [`newton_poisson`] with a normal prior of precision `precision[i]` around 0 on coefficient i (0
/// for none): the posterior mode, and the posterior information.
pub(crate) fn newton_poisson_penalised(
    rows: &[(Vec<f64>, f64, f64)],
    beta: &mut [f64],
    precision: &[f64],
) -> Option<Vec<Vec<f64>>> {
    let width = beta.len();
    let log_likelihood = |b: &[f64]| -> f64 {
        let penalty: f64 = b.iter().zip(precision).map(|(c, p)| 0.5 * p * c * c).sum();
        rows.iter()
            .map(|(x, y, offset)| {
                let eta = offset + x.iter().zip(b).map(|(a, c)| a * c).sum::<f64>();
                y * eta - libm::exp(eta)
            })
            .sum::<f64>()
            - penalty
    };
    let mut current = log_likelihood(beta);
    for _ in 0..100 {
        let mut gradient = vec![0.0; width];
        let mut information = vec![vec![0.0; width]; width];
        for (x, y, offset) in rows {
            let eta = offset + x.iter().zip(beta.iter()).map(|(a, c)| a * c).sum::<f64>();
            let mu = libm::exp(eta);
            for i in 0..width {
                gradient[i] += (y - mu) * x[i];
                for j in 0..width {
                    information[i][j] += mu * x[i] * x[j];
                }
            }
        }
        // A tiny ridge keeps a nearly flat direction (a month with no exposure) solvable.
        for (i, row) in information.iter_mut().enumerate() {
            row[i] += 1e-10 + precision[i];
            gradient[i] -= precision[i] * beta[i];
        }
        let step = cholesky_solve(&information, &gradient)?;
        let mut length = 1.0;
        let mut improved = false;
        for _ in 0..50 {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + length * s).collect();
            let value = log_likelihood(&trial);
            if value.is_finite() && value >= current - 1e-12 * current.abs().max(1.0) {
                let gain = value - current;
                beta.copy_from_slice(&trial);
                current = value;
                improved = gain > 1e-12 * current.abs().max(1.0);
                break;
            }
            length *= 0.5;
        }
        if !improved {
            return Some(information);
        }
    }
    None
}

/// How much more the counts vary than a Poisson's would (Pearson's chi-square over the residual
/// degrees of freedom), at least 1: the quasi-Poisson factor for the covariance. Arrivals vary more
/// than Poisson from month to month (campaigns, launches, news), and intervals that ignore it are
/// too narrow.
pub(crate) fn overdispersion(rows: &[(Vec<f64>, f64, f64)], beta: &[f64]) -> f64 {
    let degrees = rows.len().saturating_sub(beta.len());
    if degrees == 0 {
        return 1.0;
    }
    let chi_square: f64 = rows
        .iter()
        .map(|(x, y, offset)| {
            let mu = libm::exp(offset + x.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>());
            if mu > 0.0 {
                (y - mu) * (y - mu) / mu
            } else {
                0.0
            }
        })
        .sum();
    (chi_square / degrees as f64).max(1.0)
}

/// The inverse of a symmetric positive definite matrix, column by column.
pub(crate) fn invert(matrix: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    cholesky(matrix)?;
    let size = matrix.len();
    let mut inverse = vec![vec![0.0; size]; size];
    for column in 0..size {
        let mut unit = vec![0.0; size];
        unit[column] = 1.0;
        let solved = cholesky_solve(matrix, &unit)?;
        for row in 0..size {
            inverse[row][column] = solved[row];
        }
    }
    Some(inverse)
}

/// Trial conversion, beta-binomial: each month's conversion rate is Beta(a, b).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConversionFit {
    pub a: f64,
    pub b: f64,
    /// Trials that ended (converted or lost) in the months used, and how many converted.
    pub trials: u64,
    pub converted: u64,
    /// The months agree with one binomial rate: a and b are at their bound, the rate is a / (a + b).
    pub binomial_limit: bool,
}

impl ConversionFit {
    pub fn mean(&self) -> f64 {
        self.a / (self.a + self.b)
    }
}

/// The largest a + b considered: beyond it the beta-binomial is a binomial for every purpose here.
const MAX_CONCENTRATION: f64 = 1e6;

/// A fitted a + b this large means the months agree with one binomial rate: the likelihood is flat
/// from here to the bound, so where the optimiser stops says nothing more.
const BINOMIAL_LIMIT_CONCENTRATION: f64 = 1e4;

/// Fits a beta-binomial to (trials, converted) per month. `None` without a single ended trial.
pub fn fit_conversion(months: &[(u64, u64)]) -> Option<ConversionFit> {
    let months: Vec<(f64, f64)> =
        months.iter().filter(|(n, _)| *n > 0).map(|&(n, x)| (n as f64, x.min(n) as f64)).collect();
    let trials: f64 = months.iter().map(|m| m.0).sum();
    let converted: f64 = months.iter().map(|m| m.1).sum();
    if trials == 0.0 {
        return None;
    }
    // On (logit mean, log concentration): the mean is well determined, the concentration may run off.
    let mean0 = ((converted + 0.5) / (trials + 1.0)).clamp(1e-6, 1.0 - 1e-6);
    let negative_log_likelihood = |point: &[f64]| -> f64 {
        let mean = 1.0 / (1.0 + libm::exp(-point[0]));
        let concentration = libm::exp(point[1]);
        let (a, b) = (mean * concentration, (1.0 - mean) * concentration);
        if !(a > 0.0 && b > 0.0) {
            return f64::INFINITY;
        }
        let ln_beta = |x: f64, y: f64| libm::lgamma(x) + libm::lgamma(y) - libm::lgamma(x + y);
        -months.iter().map(|&(n, x)| ln_beta(x + a, n - x + b) - ln_beta(a, b)).sum::<f64>()
    };
    let bounds = super::optimise::Bounds {
        lower: vec![-30.0, libm::log(1e-3)],
        upper: vec![30.0, libm::log(MAX_CONCENTRATION)],
    };
    let derivatives =
        |point: &[f64]| super::optimise::finite_difference_derivatives(&negative_log_likelihood, point, 1e-4);
    let start = [libm::log(mean0 / (1.0 - mean0)), libm::log(10.0)];
    let minimum = super::optimise::minimise(&negative_log_likelihood, &derivatives, &start, &bounds);
    let mean = 1.0 / (1.0 + libm::exp(-minimum.point[0]));
    let concentration = libm::exp(minimum.point[1]);
    Some(ConversionFit {
        a: mean * concentration,
        b: (1.0 - mean) * concentration,
        trials: trials as u64,
        converted: converted as u64,
        binomial_limit: concentration >= BINOMIAL_LIMIT_CONCENTRATION,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A Poisson draw by inversion (small rates only), for the recovery tests.
    fn poisson(rng: &mut ChaCha8Rng, rate: f64) -> u64 {
        let mut k = 0u64;
        let mut p = libm::exp(-rate);
        let mut cumulative = p;
        let u: f64 = rng.random();
        while u > cumulative && k < 10_000 {
            k += 1;
            p *= rate / k as f64;
            cumulative += p;
        }
        k
    }

    fn months(counts: Vec<u64>, first_calendar_month: u8) -> MonthlyCounts {
        let n = counts.len();
        MonthlyCounts {
            calendar_months: (0..n).map(|i| ((usize::from(first_calendar_month) - 1 + i) % 12 + 1) as u8).collect(),
            exposure: vec![1.0; n],
            counts,
        }
    }

    #[test]
    fn a_constant_rate_is_the_mean_count_with_no_trend() {
        let fit = fit_poisson_trend(&months(vec![10, 10, 10, 10, 10, 10], 1)).expect("a fit");
        assert!((libm::exp(fit.intercept) - 10.0).abs() < 1e-6, "{fit:?}");
        assert!(fit.slope_per_month.abs() < 1e-9, "{fit:?}");
        assert!(!fit.seasonal_fitted);
        // The origin lies a month past the data, so the log rate there is less certain than the mean's
        // 1 / 60: by the regression formula, (1/n + (x0 - mean x)^2 / sum (x - mean x)^2) / rate
        // = (1/6 + 3.5^2 / 17.5) / 10 = 0.0867.
        assert!((fit.covariance[0][0] - (1.0 / 6.0 + 3.5 * 3.5 / 17.5) / 10.0).abs() < 1e-6, "{fit:?}");
    }

    #[test]
    fn a_known_trend_and_season_are_recovered_from_simulated_counts() {
        // 36 months growing 3% a month from 50, with a December peak of +0.4 and a July dip of -0.3.
        let mut truth_season = [0.0; 12];
        truth_season[11] = 0.4;
        truth_season[6] = -0.3;
        let mean_season: f64 = truth_season.iter().sum::<f64>() / 12.0;
        truth_season.iter_mut().for_each(|s| *s -= mean_season);
        let mut inside = 0;
        let runs = 200;
        for seed in 0..runs {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let counts: Vec<u64> = (0..36)
                .map(|i| {
                    let log_rate = libm::log(50.0) + 0.03 * i as f64 + truth_season[i % 12];
                    poisson(&mut rng, libm::exp(log_rate))
                })
                .collect();
            let fit = fit_poisson_trend(&months(counts, 1)).expect("a fit");
            assert!(fit.seasonal_fitted);
            // The origin is month 36: the true log rate there, before the season, is ln 50 + 0.03 * 36.
            let truth = libm::log(50.0) + 0.03 * 36.0;
            let se = libm::sqrt(fit.covariance[1][1]);
            if (fit.slope_per_month - 0.03).abs() <= 1.96 * se {
                inside += 1;
            }
            assert!((fit.intercept - truth).abs() < 5.0 * libm::sqrt(fit.covariance[0][0]), "seed {seed}: {fit:?}");
            assert!((fit.seasonal[11] - truth_season[11]).abs() < 0.25, "seed {seed}: {fit:?}");
        }
        // 95% intervals for the slope cover the truth in 200 runs: binomial sd 1.5%, so 90% to 99%.
        assert!((180..=199).contains(&inside), "the slope's 95% interval covered the truth {inside} times in {runs}");
    }

    #[test]
    fn a_partial_month_counts_with_its_exposure() {
        // 20 a month, and a last month seen for a quarter of its length with 5 arrivals: no trend.
        let mut data = months(vec![20, 20, 20, 20, 20, 5], 1);
        data.exposure[5] = 0.25;
        let fit = fit_poisson_trend(&data).expect("a fit");
        assert!(fit.slope_per_month.abs() < 1e-6, "{fit:?}");
        assert!((fit.expected(0, 7) - 20.0).abs() < 1e-6, "{fit:?}");
    }

    #[test]
    fn a_stream_without_arrivals_expects_none() {
        let fit = fit_poisson_trend(&months(vec![0; 10], 1)).expect("a fit");
        assert_eq!(fit.arrivals, 0);
        assert!(fit.expected(0, 1) < 1e-8);
        assert!(fit_poisson_trend(&months(Vec::new(), 1)).is_none());
    }

    #[test]
    fn conversion_with_months_that_agree_reaches_the_binomial_limit() {
        let fit = fit_conversion(&[(100, 57), (100, 57), (100, 57), (100, 57)]).expect("a fit");
        assert!(fit.binomial_limit, "{fit:?}");
        assert!((fit.mean() - 0.57).abs() < 1e-3, "{fit:?}");
        assert_eq!((fit.trials, fit.converted), (400, 228));
    }

    #[test]
    fn conversion_that_varies_by_month_is_overdispersed() {
        let fit = fit_conversion(&[(100, 20), (100, 80), (100, 30), (100, 70), (100, 50)]).expect("a fit");
        assert!(!fit.binomial_limit, "{fit:?}");
        assert!((fit.mean() - 0.5).abs() < 0.02, "{fit:?}");
        // The months' spread (sd about 0.23) needs a + b near 3.7: far below a binomial's.
        assert!(fit.a + fit.b < 10.0, "{fit:?}");
        assert!(fit_conversion(&[]).is_none());
    }
}
