//! Partial pooling of segments by empirical Bayes: small segments borrow strength from the others.
//!
//! The model. Each segment's sBG point z = (logit mean churn, logit polarisation) is drawn from a
//! shared normal prior with centre mu and a diagonal spread (standard deviations tau_m, tau_p): the
//! two coordinates are taken as independent across segments, which keeps the prior to four numbers
//! that a handful of segments can estimate.
//!
//! The prior is estimated by maximising the marginal likelihood of all segments, the product over
//! segments of the integral of the segment's likelihood against the prior. Each integral is taken by
//! Laplace's approximation at the segment's posterior mode z*:
//! ln marginal = l(z*) - sum over k of (z*_k - mu_k)^2 / (2 tau_k^2) - ln tau_m - ln tau_p - ln det(A) / 2,
//! with A = -(Hessian of l at z*) + diag(1 / tau^2) (the 2 pi factors cancel). The outer maximisation
//! over (mu, ln tau) is by Nelder-Mead, with tau kept within [`SPREAD_RANGE`]; each inner posterior
//! mode by Newton with analytic derivatives, started from the segment's own estimate so that the
//! result does not depend on the order of evaluations.
//!
//! Each segment's pooled estimate is its posterior mode under the estimated prior. A segment with
//! thousands of renewals has a likelihood far sharper than the prior and keeps its own estimate; a
//! segment of thirty subscribers is pulled toward the centre. How far is reported on the logit scale
//! and in plain terms, as the change in the share still subscribed after 12 renewals. A segment with
//! no churners (or nobody at risk yet) has no estimate of its own but still gets a pooled one. A
//! segment whose own fit is at the geometric limit has its own logit polarisation at the edge of the
//! search box (-18.4), so its pull on that scale is large by construction; the change in S(12) is the
//! number to read there. With a single segment there is nothing to pool with: its estimate is its
//! own maximum-likelihood one.

use super::data::RenewalData;
use super::fit::{fit_point, logit_bounds, negated};
use super::sbg::{log_likelihood_in_logits, SbgParameters};
use super::RetentionError;
use crate::model::optimise::{cholesky, minimise, nelder_mead, Bounds, NelderMeadTolerance};

/// The renewal age at which the pull is also reported as a change in survival.
pub const PULL_HORIZON_RENEWALS: u32 = 12;

/// The prior's standard deviations on the logit scale are kept within this range: from nearly
/// complete pooling to practically none.
pub const SPREAD_RANGE: (f64, f64) = (0.02, 20.0);

/// The shared prior of the segments, on the logit scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolingPrior {
    pub centre_logit_mean_churn: f64,
    pub centre_logit_polarisation: f64,
    /// Standard deviation of the segments' logit mean churn around the centre.
    pub spread_logit_mean_churn: f64,
    /// Standard deviation of the segments' logit polarisation around the centre.
    pub spread_logit_polarisation: f64,
}

/// An sBG point estimate of one segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentEstimate {
    pub logit_mean_churn: f64,
    pub logit_polarisation: f64,
    pub parameters: SbgParameters,
}

impl SegmentEstimate {
    fn at(logit_mean_churn: f64, logit_polarisation: f64) -> SegmentEstimate {
        SegmentEstimate {
            logit_mean_churn,
            logit_polarisation,
            parameters: SbgParameters::from_logits(logit_mean_churn, logit_polarisation),
        }
    }
}

/// One segment before and after pooling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PooledSegment {
    /// The segment's own maximum-likelihood estimate; `None` where it has none (no churners, or
    /// everyone churned at once, or nobody reached a renewal).
    pub unpooled: Option<SegmentEstimate>,
    /// The posterior mode under the shared prior.
    pub pooled: SegmentEstimate,
    /// S(12) under the segment's own estimate.
    pub survival_at_horizon_unpooled: Option<f64>,
    /// S(12) under the pooled estimate.
    pub survival_at_horizon_pooled: f64,
}

impl PooledSegment {
    /// How far pooling moved the logit of the mean churn (pooled minus own).
    pub fn pull_logit_mean_churn(&self) -> Option<f64> {
        self.unpooled.map(|own| self.pooled.logit_mean_churn - own.logit_mean_churn)
    }

    /// How far pooling moved the logit of the polarisation (pooled minus own).
    pub fn pull_logit_polarisation(&self) -> Option<f64> {
        self.unpooled.map(|own| self.pooled.logit_polarisation - own.logit_polarisation)
    }

    /// The pull in plain terms: the change in the share still subscribed after 12 renewals.
    pub fn change_in_survival_at_horizon(&self) -> Option<f64> {
        self.survival_at_horizon_unpooled.map(|own| self.survival_at_horizon_pooled - own)
    }
}

/// The pooled fit of several segments, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledRetention {
    /// The estimated prior; `None` with a single segment (nothing to pool with).
    pub prior: Option<PoolingPrior>,
    pub segments: Vec<PooledSegment>,
}

/// Pools the segments' sBG fits by empirical Bayes (the method is in the module comment).
///
/// Errors: no segment at all, or no churner in any segment ([`RetentionError::NoChurners`]), or a
/// single segment whose own fit fails (its error, under [`RetentionError::Segment`]).
pub fn pool_segments(segments: &[RenewalData]) -> Result<PooledRetention, RetentionError> {
    if segments.is_empty() {
        return Err(RetentionError::NoSubscribersAtRisk);
    }
    let own: Vec<Option<SegmentEstimate>> = segments
        .iter()
        .map(|data| {
            fit_point(data).ok().map(|point| SegmentEstimate::at(point.logit_mean_churn, point.logit_polarisation))
        })
        .collect();
    if segments.len() == 1 {
        let point =
            fit_point(&segments[0]).map_err(|error| RetentionError::Segment { index: 0, error: Box::new(error) })?;
        let estimate = SegmentEstimate::at(point.logit_mean_churn, point.logit_polarisation);
        return Ok(PooledRetention { prior: None, segments: vec![pooled_segment(Some(estimate), estimate)] });
    }
    if segments.iter().all(|data| data.churners() == 0) {
        let subscribers_at_risk = segments.iter().map(RenewalData::subscribers_at_risk_at_first_renewal).sum();
        return Err(RetentionError::NoChurners { subscribers_at_risk });
    }

    let prior = estimate_prior(segments, &own);
    let pooled = segments
        .iter()
        .zip(&own)
        .map(|(data, own_estimate)| {
            let mode = posterior_mode(data, own_estimate, &prior);
            pooled_segment(*own_estimate, SegmentEstimate::at(mode[0], mode[1]))
        })
        .collect();
    Ok(PooledRetention { prior: Some(prior), segments: pooled })
}

fn pooled_segment(unpooled: Option<SegmentEstimate>, pooled: SegmentEstimate) -> PooledSegment {
    PooledSegment {
        unpooled,
        pooled,
        survival_at_horizon_unpooled: unpooled.map(|own| own.parameters.survival(PULL_HORIZON_RENEWALS)),
        survival_at_horizon_pooled: pooled.parameters.survival(PULL_HORIZON_RENEWALS),
    }
}

/// The prior that maximises the Laplace-approximated marginal likelihood of all segments.
fn estimate_prior(segments: &[RenewalData], own: &[Option<SegmentEstimate>]) -> PoolingPrior {
    let box_bounds = logit_bounds();
    // Start at the mean of the segments' own estimates; polarisations at a limit (the geometric
    // floor sits at -18) would drag the mean, so they enter clamped to the ordinary range.
    let known: Vec<[f64; 2]> =
        own.iter().flatten().map(|e| [e.logit_mean_churn, e.logit_polarisation.clamp(-6.0, 6.0)]).collect();
    let count = known.len().max(1) as f64;
    let centre = [known.iter().map(|z| z[0]).sum::<f64>() / count, known.iter().map(|z| z[1]).sum::<f64>() / count];
    let (ln_spread_low, ln_spread_high) = (libm::log(SPREAD_RANGE.0), libm::log(SPREAD_RANGE.1));
    let bounds = Bounds {
        lower: vec![box_bounds.lower[0], box_bounds.lower[1], ln_spread_low, ln_spread_low],
        upper: vec![box_bounds.upper[0], box_bounds.upper[1], ln_spread_high, ln_spread_high],
    };
    let negative_marginal = |theta: &[f64]| {
        let prior = prior_from(theta);
        -segments
            .iter()
            .zip(own)
            .map(|(data, own_estimate)| laplace_log_marginal(data, own_estimate, &prior))
            .sum::<f64>()
    };
    let tolerance = NelderMeadTolerance { relative_value: 1e-11, width: 1e-6 };
    let found = nelder_mead(&negative_marginal, &[centre[0], centre[1], 0.0, 0.0], &bounds, &tolerance);
    prior_from(&found.point)
}

fn prior_from(theta: &[f64]) -> PoolingPrior {
    PoolingPrior {
        centre_logit_mean_churn: theta[0],
        centre_logit_polarisation: theta[1],
        spread_logit_mean_churn: libm::exp(theta[2]),
        spread_logit_polarisation: libm::exp(theta[3]),
    }
}

/// The segment's log-likelihood plus the log prior density (up to constants), with derivatives.
fn log_posterior(data: &RenewalData, z: &[f64], prior: &PoolingPrior) -> super::sbg::LogLikelihood2 {
    let mut at = log_likelihood_in_logits(z[0], z[1], data);
    let centre = [prior.centre_logit_mean_churn, prior.centre_logit_polarisation];
    let precision = [
        1.0 / (prior.spread_logit_mean_churn * prior.spread_logit_mean_churn),
        1.0 / (prior.spread_logit_polarisation * prior.spread_logit_polarisation),
    ];
    for k in 0..2 {
        let offset = z[k] - centre[k];
        at.value -= 0.5 * precision[k] * offset * offset;
        at.gradient[k] -= precision[k] * offset;
        at.hessian[k][k] -= precision[k];
    }
    at
}

/// The posterior mode of one segment, started from its own estimate (or the prior's centre).
fn posterior_mode(data: &RenewalData, own: &Option<SegmentEstimate>, prior: &PoolingPrior) -> [f64; 2] {
    let start = match own {
        Some(estimate) => [estimate.logit_mean_churn, estimate.logit_polarisation],
        None => [prior.centre_logit_mean_churn, prior.centre_logit_polarisation],
    };
    let value = |z: &[f64]| -log_posterior(data, z, prior).value;
    let derivatives = |z: &[f64]| negated(log_posterior(data, z, prior));
    let found = minimise(&value, &derivatives, &start, &logit_bounds());
    [found.point[0], found.point[1]]
}

/// Laplace's approximation of ln of the integral of the segment's likelihood against the prior.
fn laplace_log_marginal(data: &RenewalData, own: &Option<SegmentEstimate>, prior: &PoolingPrior) -> f64 {
    let mode = posterior_mode(data, own, prior);
    let at = log_posterior(data, &mode, prior);
    let curvature: Vec<Vec<f64>> = at.hessian.iter().map(|row| row.iter().map(|h| -h).collect()).collect();
    let Some(factor) = cholesky(&curvature) else {
        return f64::NEG_INFINITY;
    };
    // ln det A = 2 * sum of ln of the Cholesky factor's diagonal.
    let half_ln_determinant: f64 = (0..2).map(|i| libm::log(factor[i][i])).sum();
    at.value
        - libm::log(prior.spread_logit_mean_churn)
        - libm::log(prior.spread_logit_polarisation)
        - half_ln_determinant
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_segment_is_left_as_its_own_fit() {
        let data = RenewalData::from_survivor_curve(&[1000, 631, 468, 382, 326, 289, 262, 241]).unwrap();
        let pooled = pool_segments(std::slice::from_ref(&data)).unwrap();
        let own = fit_point(&data).unwrap();
        assert_eq!(pooled.prior, None);
        let segment = pooled.segments[0];
        assert_eq!(segment.pooled.logit_mean_churn, own.logit_mean_churn);
        assert_eq!(segment.pooled.logit_polarisation, own.logit_polarisation);
        assert_eq!((segment.pull_logit_mean_churn(), segment.change_in_survival_at_horizon()), (Some(0.0), Some(0.0)));
    }

    #[test]
    fn pooling_nothing_or_segments_without_churners_is_a_typed_error() {
        assert_eq!(pool_segments(&[]), Err(RetentionError::NoSubscribersAtRisk));
        let quiet = RenewalData::from_survivor_curve(&[5, 5, 5]).unwrap();
        assert_eq!(
            pool_segments(&[quiet.clone(), quiet.clone()]),
            Err(RetentionError::NoChurners { subscribers_at_risk: 10 })
        );
        assert!(matches!(pool_segments(&[quiet]), Err(RetentionError::Segment { index: 0, .. })));
    }

    #[test]
    fn the_laplace_marginal_of_a_segment_without_data_is_one() {
        // With no likelihood the integral of the prior is 1, and the approximation is exact.
        let empty = RenewalData::from_counts(&[]).unwrap();
        let prior = PoolingPrior {
            centre_logit_mean_churn: -1.0,
            centre_logit_polarisation: -2.0,
            spread_logit_mean_churn: 0.7,
            spread_logit_polarisation: 1.9,
        };
        assert!(laplace_log_marginal(&empty, &None, &prior).abs() < 1e-12);
    }
}
