//! From a calibration to the twin the engine runs: the fitted parameters with their uncertainty,
//! and the real state at the calibration instant, as a plain [`Twin`] value.
//!
//! Choices made here, in one place:
//! - Retention is the pooled shifted-beta-geometric estimate (the segment's own where pooling had
//!   nothing to pool); a segment at the geometric limit runs as one constant churn rate. Its
//!   uncertainty is the own fit's covariance on (logit mean churn, logit polarisation); where the
//!   fit has none (too few churners for a Hessian, or a limit reached), the pooling prior's spread,
//!   which is what the other segments say a segment like it could be.
//! - Acquisition is the Poisson trend of each stream, with its (intercept, slope) covariance; trials
//!   convert within the month they start (the trials seen are shorter than a month) with the
//!   beta-binomial's conversion.
//! - Live subscribers are grouped into cells by renewals survived and the month of their next
//!   renewal; one whose next renewal fell in the rest of the calibration month renews in the first
//!   simulated month.

use std::collections::BTreeMap;

use crate::import::values::MonthIndex;
use crate::import::{BillingInterval, IntervalUnit};
use crate::money::{Currency, Minor};
use crate::twin::{
    Acquisition, BetaParams, Cadence, Cell, Covariance2, LearnedPriceResponse, MrrGroup, MrrMovements, NormalEstimate,
    PoissonTrend, Retention, SegmentTwin, Trials, Twin, TwinError, CONVERSION_PARAMETER_RANGE, ELASTICITY_RANGE,
    SBG_PARAMETER_RANGE,
};

use super::acquisition::PoissonTrendFit;
use super::calibrate::{Calibration, MonthlyRate, Movements, SegmentCalibration};
use super::price::{Estimate, PriceResponse};

/// Why a calibration gives no twin.
#[derive(Clone, Debug, PartialEq)]
pub enum BuildError {
    /// A table without dates (snapshot or cohort) has no state to start from.
    NoDates,
    /// No segment has a retention estimate (no churner anywhere).
    NoRetention,
    /// The twin failed its own checks (a bug here, reported rather than simulated).
    Invalid(TwinError),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::NoDates => write!(f, "the table has no dates, so there is no state to simulate from"),
            BuildError::NoRetention => {
                write!(f, "no segment has had a churner yet, so retention cannot be estimated for a forecast")
            }
            BuildError::Invalid(error) => write!(f, "the fitted twin is not valid ({error:?})"),
        }
    }
}

/// Builds the twin of a calibration, money in `currency`'s major units. Segments without any
/// retention estimate are left out (their names are returned), as the engine cannot run them.
pub fn build_twin(calibration: &Calibration, currency: &Currency) -> Result<(Twin, Vec<String>), BuildError> {
    let origin = calibration.origin.ok_or(BuildError::NoDates)?;
    let fallback = calibration.prior.map(|prior| Covariance2 {
        variance_first: prior.spread_logit_mean_churn * prior.spread_logit_mean_churn,
        variance_second: prior.spread_logit_polarisation * prior.spread_logit_polarisation,
        covariance: 0.0,
    });
    let mut segments = Vec::new();
    let mut left_out = Vec::new();
    for (index, segment) in calibration.segments.iter().enumerate() {
        match retention(segment, fallback) {
            Some(retention) => {
                let mut twin = segment_twin(segment, retention, origin.0, currency);
                twin.price_response = calibration
                    .price_responses
                    .iter()
                    .find(|response| response.segment == index)
                    .and_then(learned_response);
                segments.push(twin);
            }
            None => left_out.push(segment.name.clone()),
        }
    }
    if segments.is_empty() {
        return Err(BuildError::NoRetention);
    }
    let twin =
        Twin { start_month_index: origin.0, first_month_exposure: first_month_exposure(calibration, origin), segments };
    twin.check().map_err(BuildError::Invalid)?;
    Ok((twin, left_out))
}

/// 1 plus the share of the calibration month still to come after the as-of instant, which the first
/// simulated month takes in (0 when the data ends in the month's last second, as a backtest's cutoff
/// does).
fn first_month_exposure(calibration: &Calibration, origin: MonthIndex) -> f64 {
    let Some(as_of) = calibration.as_of else {
        return 1.0;
    };
    let month = MonthIndex(origin.0 - 1);
    let length = (month.end() - month.start()) as f64;
    let rest = (month.end() - 1 - as_of).clamp(0, month.end() - month.start()) as f64;
    if length > 0.0 {
        (1.0 + rest / length).clamp(1.0, 2.0)
    } else {
        1.0
    }
}

/// An estimate with a finite 95% interval as a normal distribution: the interval's half-width over
/// 1.96 is the standard error.
fn normal_estimate(estimate: &Estimate) -> Option<NormalEstimate> {
    let [low, high] = estimate.interval;
    let (min, max) = ELASTICITY_RANGE;
    let standard_error = (high - low) / (2.0 * 1.959_964);
    let finite = estimate.value.is_finite() && standard_error.is_finite() && standard_error >= 0.0;
    (finite && (min..=max).contains(&estimate.value) && standard_error <= max)
        .then_some(NormalEstimate { estimate: estimate.value, standard_error })
}

fn learned_response(response: &PriceResponse) -> Option<LearnedPriceResponse> {
    let churn_elasticity = response.churn_elasticity.as_ref().and_then(normal_estimate);
    let acquisition_elasticity = response.acquisition_elasticity.as_ref().and_then(normal_estimate);
    (churn_elasticity.is_some() || acquisition_elasticity.is_some())
        .then_some(LearnedPriceResponse { churn_elasticity, acquisition_elasticity })
}

/// The movements the history shows as the engine draws them: each rate's mean, with the standard
/// error its 95% t-interval implies (half-width over 1.96, a little wide for few months); `None`
/// when neither moves.
fn mrr_movements(movements: Movements) -> Option<MrrMovements> {
    let estimate = |rate: Option<MonthlyRate>| {
        let rate = rate?;
        let standard_error = (rate.interval[1] - rate.interval[0]) / (2.0 * 1.959_964);
        let finite = rate.mean.is_finite() && standard_error.is_finite();
        finite.then(|| NormalEstimate {
            estimate: rate.mean.clamp(0.0, 1.0),
            standard_error: standard_error.clamp(0.0, 1.0),
        })
    };
    let zero = NormalEstimate { estimate: 0.0, standard_error: 0.0 };
    let expansion = estimate(movements.expansion).unwrap_or(zero);
    let contraction = estimate(movements.contraction).unwrap_or(zero);
    (expansion != zero || contraction != zero).then_some(MrrMovements { expansion, contraction })
}

/// How often the segment renews, in the engine's terms.
pub fn cadence(interval: BillingInterval) -> Cadence {
    let count = interval.count.max(1);
    let per_year = match interval.unit {
        IntervalUnit::Month => return Cadence::EveryMonths(count.min(60)),
        IntervalUnit::Year => return Cadence::EveryMonths((12 * count).min(60)),
        IntervalUnit::Week => 52.0 / f64::from(count),
        IntervalUnit::Day => 365.0 / f64::from(count),
    };
    if per_year >= 13.0 {
        Cadence::TimesPerYear(libm::round(per_year) as u32)
    } else {
        Cadence::EveryMonths((libm::round(12.0 / per_year) as u32).clamp(1, 60))
    }
}

fn retention(segment: &SegmentCalibration, fallback: Option<Covariance2>) -> Option<Retention> {
    let parameters = segment.twin_parameters()?;
    let own = segment.own.as_ref().ok();
    let covariance = own
        .and_then(|fit| fit.logit_covariance)
        .map(|c| Covariance2 { variance_first: c[0][0], variance_second: c[1][1], covariance: c[0][1] })
        .or(fallback)
        .unwrap_or(Covariance2::ZERO);
    let at_limit = own.is_some_and(|fit| fit.geometric_limit) && segment.pooled.is_none();
    let (low, high) = SBG_PARAMETER_RANGE;
    if at_limit || parameters.alpha + parameters.beta >= high {
        let churn = parameters.mean_churn();
        return Some(Retention::Geometric {
            churn_probability: churn,
            variance_logit_churn: if churn > 0.0 && churn < 1.0 {
                covariance.variance_first.min(MAX_DRAWN_VARIANCE)
            } else {
                0.0
            },
        });
    }
    Some(Retention::ShiftedBetaGeometric {
        alpha: parameters.alpha.clamp(low, high),
        beta: parameters.beta.clamp(low, high),
        uncertainty: capped(covariance),
    })
}

/// The largest variance the twin draws a parameter with (on its log or logit scale): wider than any
/// fit that means anything, and far from the overflow of `exp`.
const MAX_DRAWN_VARIANCE: f64 = 100.0;

/// `covariance` with each variance at most [`MAX_DRAWN_VARIANCE`] and the covariance scaled with them,
/// so that the correlation stays what the fit found (within ±1): capping a variance alone can leave
/// a covariance no matrix has (a small segment whose profile interval is open on one side has a
/// variance in the thousands).
fn capped(covariance: Covariance2) -> Covariance2 {
    let Covariance2 { variance_first, variance_second, covariance } = covariance;
    let (first, second) = (variance_first.min(MAX_DRAWN_VARIANCE), variance_second.min(MAX_DRAWN_VARIANCE));
    let scale = libm::sqrt(first * second);
    let correlation = (covariance / libm::sqrt(variance_first * variance_second)).clamp(-1.0, 1.0);
    Covariance2 {
        variance_first: first,
        variance_second: second,
        // No variance (no scale) or no number: no covariance.
        covariance: if scale > 0.0 && !correlation.is_nan() { correlation * scale } else { 0.0 },
    }
}

fn poisson_trend(fit: &PoissonTrendFit) -> Option<PoissonTrend> {
    (fit.arrivals > 0).then(|| PoissonTrend {
        log_rate_intercept: fit.intercept.clamp(-50.0, 18.0),
        log_rate_slope_per_month: fit.slope_per_month.clamp(-1.0, 1.0),
        seasonal_log_multipliers: fit.seasonal.map(|s| s.clamp(-10.0, 10.0)),
        uncertainty: capped(Covariance2 {
            variance_first: fit.covariance[0][0],
            variance_second: fit.covariance[1][1],
            covariance: fit.covariance[0][1],
        }),
        dispersion: fit.dispersion.clamp(1.0, crate::twin::MAX_DISPERSION),
    })
}

fn segment_twin(segment: &SegmentCalibration, retention: Retention, origin: i32, currency: &Currency) -> SegmentTwin {
    let major = |amount: Minor| amount.to_major_f64(currency);
    let cadence = cadence(segment.interval);
    let months_between = match cadence {
        Cadence::EveryMonths(months) => months,
        Cadence::TimesPerYear(_) => 1,
    };
    let (low, high) = CONVERSION_PARAMETER_RANGE;
    let trials = match (segment.trials.as_ref().and_then(poisson_trend), &segment.conversion) {
        (Some(starts), Some(conversion)) => Some(Trials {
            starts,
            conversion: BetaParams { a: conversion.a.clamp(low, high), b: conversion.b.clamp(low, high) },
            lag_months: 0,
            in_progress_at_start: 0,
        }),
        _ => None,
    };
    // Cells: (renewals survived, months to the next renewal) -> MRR -> subscribers.
    let mut cells: BTreeMap<(u32, u32), BTreeMap<Minor, u64>> = BTreeMap::new();
    for active in &segment.active {
        let offset = (active.next_renewal.0 - origin).clamp(0, months_between as i32 - 1) as u32;
        *cells.entry((active.renewals_survived, offset)).or_default().entry(active.mrr).or_default() += 1;
    }
    SegmentTwin {
        name: segment.name.clone(),
        cadence,
        retention,
        acquisition: Acquisition { direct: segment.direct.as_ref().and_then(poisson_trend), trials },
        new_mrr: segment
            .new_mrr
            .iter()
            .map(|&(mrr, count)| MrrGroup { mrr_major_units: major(mrr), subscribers: count })
            .collect(),
        cells: cells
            .into_iter()
            .map(|((renewals_survived, next_renewal_offset_months), mrr)| Cell {
                renewals_survived,
                next_renewal_offset_months,
                mrr: mrr.into_iter().map(|(m, n)| MrrGroup { mrr_major_units: major(m), subscribers: n }).collect(),
            })
            .collect(),
        price_response: None,
        movements: segment.movements.and_then(mrr_movements),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capping_a_variance_keeps_the_correlation_and_a_valid_matrix() {
        let within = Covariance2 { variance_first: 4.0, variance_second: 9.0, covariance: 3.0 };
        assert_eq!(capped(within), within, "a covariance below the cap is kept");
        // An interval open on one side: a huge variance, correlated 0.9 with the other.
        let open = Covariance2 { variance_first: 2500.0, variance_second: 4.0, covariance: 90.0 };
        let kept = capped(open);
        assert_eq!((kept.variance_first, kept.variance_second), (MAX_DRAWN_VARIANCE, 4.0));
        assert!((kept.covariance - 0.9 * 20.0).abs() < 1e-12, "{kept:?}");
        assert!(kept.check("uncertainty").is_ok(), "{kept:?}");
        // Before, the variance alone was capped: 90² > 100 × 4, which no covariance matrix has.
        let capped_alone = Covariance2 { variance_first: MAX_DRAWN_VARIANCE, ..open };
        assert!(capped_alone.check("uncertainty").is_err());
        // A correlation a little beyond ±1 from rounding, and no variance at all.
        let beyond = Covariance2 { variance_first: 1e4, variance_second: 1e4, covariance: -1.0001e4 };
        assert!(capped(beyond).check("uncertainty").is_ok());
        assert_eq!(capped(Covariance2::ZERO), Covariance2::ZERO);
    }
}
