//! The sBG fitted by maximum likelihood to one segment, with 95% intervals for alpha and beta.
//!
//! The search runs on x = logit(mean churn) and y = logit(polarisation) (see [`super::sbg`]) with
//! analytic derivatives, by bounded Newton ([`crate::model::optimise`]), inside a box that keeps alpha + beta
//! between 1e-6 and 1e8. The two edges of that box in y are the two limits of the model:
//!
//! - The geometric limit (y at its floor, alpha + beta huge): everyone has the same churn
//!   probability. The likelihood keeps rising, ever more slowly, as alpha and beta grow together, so
//!   an unbounded search would run away. The fit recognises it (the search ends on the floor, or the
//!   score with respect to the polarisation at p = 0 is not positive and no interior point beats the
//!   geometric model), reports the mean churn of the geometric model, alpha and beta at the floor,
//!   `geometric_limit: true`, and no upper ends for alpha and beta.
//! - The polarised limit (alpha + beta tiny): some subscribers leave at the first renewal and the
//!   rest never do. It is flagged the same way (`polarised_limit: true`).
//!
//! Intervals. Wald intervals from the observed information are computed on ln alpha and ln beta by
//! the delta method through the logits (so they are never negative and are skewed like the
//! likelihood). They are used only where they are trustworthy: at least
//! [`CHURNERS_FOR_HESSIAN_INTERVALS`] churners, no limit reached, a positive definite information
//! matrix, and the geometric limit far away: a likelihood ratio against the geometric model of at
//! least [`GEOMETRIC_RATIO_FOR_HESSIAN_INTERVALS`] (the boundary p = 0 some five standard errors off).
//! Near that boundary the likelihood is strongly skewed in the polarisation, and simulation showed
//! Wald intervals covering 90% (80 subscribers, alpha = 3, beta = 6) or 98% (300 subscribers) where
//! profile intervals covered 95-96%. Everywhere else each end is found on the profile likelihood: the
//! value of alpha (beta) at which the log-likelihood, maximised over the other parameter, falls
//! chi-square(1, 0.95) / 2 = 1.92 below its maximum. An end the data cannot bound is `None`; the
//! upper ends are unbounded exactly when the geometric model is not rejected at 5%, since the profile
//! tends to the geometric log-likelihood as either parameter grows.

use super::data::RenewalData;
use super::sbg::{log_likelihood_in_logits, log_likelihood_with_derivatives, SbgParameters};
use super::RetentionError;
use crate::model::optimise::{bracketed_root, minimise, newton, Bounds, Derivatives};
use crate::model::special::{logit, sigmoid, HALF_CHI_SQUARE_1_95, NORMAL_QUANTILE_97_5};

/// With fewer churners than this, Hessian (Wald) intervals under-cover, so profile likelihood is used.
pub const CHURNERS_FOR_HESSIAN_INTERVALS: u64 = 50;

/// Hessian (Wald) intervals also need the likelihood ratio statistic 2 (l_sBG - l_geometric) to reach
/// this: 25 = 5^2, the geometric boundary five standard errors away.
pub const GEOMETRIC_RATIO_FOR_HESSIAN_INTERVALS: f64 = 25.0;

/// With fewer churners than this, the fit says plainly that the data say little.
pub const FEW_CHURNERS: u64 = 10;

/// The largest alpha + beta searched: beyond it the model is the geometric one for every purpose.
const LARGEST_ALPHA_PLUS_BETA: f64 = 1e8;
/// The smallest alpha + beta searched: below it the model is the polarised limit.
const SMALLEST_ALPHA_PLUS_BETA: f64 = 1e-6;
/// The mean churn is kept within logit +-20 (2e-9 from 0 or 1); only degenerate data, refused before
/// the search, would push it further.
const LOGIT_MEAN_CHURN_LIMIT: f64 = 20.0;
/// The profile search for ln alpha and ln beta stays within these.
const PROFILE_LN_RANGE: (f64, f64) = (-20.7, 23.0);

/// A 95% interval; `None` is an end the data cannot bound (towards 0 below, towards infinity above).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval95 {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

impl Interval95 {
    /// Whether `value` lies inside, an absent end counting as unbounded.
    pub fn contains(&self, value: f64) -> bool {
        self.lower.is_none_or(|lower| lower <= value) && self.upper.is_none_or(|upper| value <= upper)
    }
}

/// How the intervals of a fit were computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalMethod {
    /// From the observed information, on ln alpha and ln beta (many churners).
    WaldOnLogScale,
    /// From the profile likelihood (few churners, or at or near a limit of the model).
    ProfileLikelihood,
}

/// The sBG fitted to one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SbgFit {
    /// The maximum-likelihood alpha and beta (at the edge of the search box when a limit is reached).
    pub parameters: SbgParameters,
    /// The estimate in the fit's coordinates: logit of alpha / (alpha + beta).
    pub logit_mean_churn: f64,
    /// The estimate in the fit's coordinates: logit of 1 / (alpha + beta + 1), which is -ln(alpha + beta).
    pub logit_polarisation: f64,
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    pub alpha_interval: Interval95,
    pub beta_interval: Interval95,
    pub interval_method: IntervalMethod,
    /// The inverse observed information on (logit mean churn, logit polarisation), where it is
    /// positive definite and no limit was reached: the uncertainty to draw parameters from.
    pub logit_covariance: Option<[[f64; 2]; 2]>,
    /// Alpha and beta run to infinity together: one constant churn rate, the mean churn, fits best.
    pub geometric_limit: bool,
    /// Alpha and beta run to zero together: some leave at the first renewal, the rest never do.
    pub polarised_limit: bool,
    pub churners: u64,
    pub subscribers_at_risk: u64,
}

impl SbgFit {
    /// Fewer than [`FEW_CHURNERS`] churners: the estimate says little, whatever its interval.
    pub fn few_churners(&self) -> bool {
        self.churners < FEW_CHURNERS
    }

    /// Plain-language warnings for whoever reads the fit: one per flag that is set.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.few_churners() {
            warnings.push(format!(
                "Only {} of {} subscribers churned: too few to say much about this segment's retention. \
                 Treat the curve as a guess, or pool the segment with others.",
                self.churners, self.subscribers_at_risk
            ));
        }
        if self.geometric_limit {
            warnings.push(format!(
                "The data fit one constant churn rate ({:.4} per renewal) as well as any mix of churn rates: \
                 alpha and beta have no upper bound, and retention is not seen to rise with tenure.",
                self.parameters.mean_churn()
            ));
        }
        if self.polarised_limit {
            warnings.push(format!(
                "The data look like two groups: {:.1}% leave at the first renewal and the rest hardly ever; \
                 alpha and beta are pinned near zero.",
                100.0 * self.parameters.mean_churn()
            ));
        }
        warnings
    }
}

/// The point estimate alone, as the pooling code needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PointEstimate {
    pub logit_mean_churn: f64,
    pub logit_polarisation: f64,
    pub log_likelihood: f64,
    pub geometric_limit: bool,
    pub polarised_limit: bool,
}

/// Fits the sBG to one segment by maximum likelihood, with 95% intervals for alpha and beta.
///
/// Data with no maximum-likelihood estimate are errors: nobody at risk
/// ([`RetentionError::NoSubscribersAtRisk`]), nobody churned ([`RetentionError::NoChurners`]), or
/// everyone churned at the first renewal ([`RetentionError::EveryoneChurnedAtFirstRenewal`]).
pub fn fit_sbg(data: &RenewalData) -> Result<SbgFit, RetentionError> {
    let point = fit_point(data)?;
    let parameters = SbgParameters::from_logits(point.logit_mean_churn, point.logit_polarisation);
    let churners = data.churners();
    let geometric_log_likelihood = geometric_log_likelihood(data);
    let information = information_matrix(&point, data);
    let covariance = information.as_ref().and_then(invert_2x2);
    let logit_covariance = if point.geometric_limit || point.polarised_limit { None } else { covariance };
    let geometric_ratio = 2.0 * (point.log_likelihood - geometric_log_likelihood);
    let geometric_rejected = geometric_ratio > 2.0 * HALF_CHI_SQUARE_1_95;
    let hessian_trusted = churners >= CHURNERS_FOR_HESSIAN_INTERVALS
        && logit_covariance.is_some()
        && geometric_ratio >= GEOMETRIC_RATIO_FOR_HESSIAN_INTERVALS;
    let (alpha_interval, beta_interval, interval_method) = match logit_covariance {
        Some(covariance) if hessian_trusted => {
            let (alpha_interval, beta_interval) = wald_intervals(&point, &covariance);
            (alpha_interval, beta_interval, IntervalMethod::WaldOnLogScale)
        }
        _ => {
            let profile = ProfileSearch { data, parameters, maximum: point.log_likelihood, geometric_rejected };
            (profile.interval(Profiled::Alpha), profile.interval(Profiled::Beta), IntervalMethod::ProfileLikelihood)
        }
    };
    Ok(SbgFit {
        parameters,
        logit_mean_churn: point.logit_mean_churn,
        logit_polarisation: point.logit_polarisation,
        log_likelihood: point.log_likelihood,
        alpha_interval,
        beta_interval,
        interval_method,
        logit_covariance,
        geometric_limit: point.geometric_limit,
        polarised_limit: point.polarised_limit,
        churners,
        subscribers_at_risk: data.subscribers_at_risk_at_first_renewal(),
    })
}

/// Refuses data that have no maximum-likelihood estimate, with the reason.
pub(crate) fn check_estimable(data: &RenewalData) -> Result<(), RetentionError> {
    let subscribers_at_risk = data.subscribers_at_risk_at_first_renewal();
    if subscribers_at_risk == 0 {
        return Err(RetentionError::NoSubscribersAtRisk);
    }
    let churners = data.churners();
    if churners == 0 {
        return Err(RetentionError::NoChurners { subscribers_at_risk });
    }
    if data.churned_at(1) == subscribers_at_risk {
        return Err(RetentionError::EveryoneChurnedAtFirstRenewal { churners });
    }
    Ok(())
}

/// The search box in (logit mean churn, logit polarisation).
pub(crate) fn logit_bounds() -> Bounds {
    Bounds {
        lower: vec![-LOGIT_MEAN_CHURN_LIMIT, -libm::log(LARGEST_ALPHA_PLUS_BETA)],
        upper: vec![LOGIT_MEAN_CHURN_LIMIT, -libm::log(SMALLEST_ALPHA_PLUS_BETA)],
    }
}

/// The geometric model's churn rate: churners over subscriber-renewals at risk.
pub(crate) fn geometric_churn_rate(data: &RenewalData) -> f64 {
    data.churners() as f64 / data.renewals_at_risk() as f64
}

/// The geometric model's maximised log-likelihood: the sBG's supremum as alpha + beta grows.
pub(crate) fn geometric_log_likelihood(data: &RenewalData) -> f64 {
    let churners = data.churners() as f64;
    let stayed = data.renewals_at_risk() as f64 - churners;
    let theta = geometric_churn_rate(data);
    let churn_part = if churners > 0.0 { churners * libm::log(theta) } else { 0.0 };
    let stay_part = if stayed > 0.0 { stayed * libm::log1p(-theta) } else { 0.0 };
    churn_part + stay_part
}

/// The derivative of the sBG log-likelihood with respect to the polarisation p at p = 0, at the
/// geometric churn rate m. Near p = 0, h(t) = m (1 - (t - 1) p) + O(p^2), so each renewal age adds
/// (t - 1) (-d_t + (n_t - d_t) m / (1 - m)). If it is not positive, the likelihood falls as soon as
/// subscribers are allowed to differ: the geometric model is a (local) maximum.
fn polarisation_score_at_geometric_limit(data: &RenewalData) -> f64 {
    let m = geometric_churn_rate(data);
    data.hazard_table()
        .iter()
        .map(|&(renewal, at_risk, churned)| {
            let stayed = (at_risk - churned) as f64;
            f64::from(renewal - 1) * (-(churned as f64) + stayed * m / (1.0 - m))
        })
        .sum()
}

/// A start for the search: the mean churn is h(1), estimated by the first renewal's churn share; the
/// polarisation from the best of a few values on a coarse grid.
fn starting_point(data: &RenewalData) -> [f64; 2] {
    let table = data.hazard_table();
    let first_renewal_churn = table.first().map_or(0.5, |&(_, at_risk, churned)| churned as f64 / at_risk as f64);
    let x = logit(first_renewal_churn.clamp(1e-4, 1.0 - 1e-4));
    let mut best = [x, -2.0];
    let mut best_value = f64::NEG_INFINITY;
    for y in [-6.0, -4.0, -2.0, -1.0, 0.0, 2.0] {
        let value = log_likelihood_in_logits(x, y, data).value;
        if value > best_value {
            best_value = value;
            best = [x, y];
        }
    }
    best
}

/// The maximum-likelihood point, with the limits recognised.
pub(crate) fn fit_point(data: &RenewalData) -> Result<PointEstimate, RetentionError> {
    check_estimable(data)?;
    let bounds = logit_bounds();
    let value = |z: &[f64]| -log_likelihood_in_logits(z[0], z[1], data).value;
    let derivatives = |z: &[f64]| negated(log_likelihood_in_logits(z[0], z[1], data));
    let found = minimise(&value, &derivatives, &starting_point(data), &bounds);
    let (x, y) = (found.point[0], found.point[1]);
    let log_likelihood = -found.value;
    let geometric = geometric_log_likelihood(data);
    let on_floor = y <= bounds.lower[1] + 1e-9;
    let no_better_than_geometric = log_likelihood <= geometric + 1e-9 * geometric.abs().max(1.0);
    if on_floor || (no_better_than_geometric && polarisation_score_at_geometric_limit(data) <= 0.0) {
        let x_geometric = logit(geometric_churn_rate(data));
        let y_floor = bounds.lower[1];
        return Ok(PointEstimate {
            logit_mean_churn: x_geometric,
            logit_polarisation: y_floor,
            log_likelihood: log_likelihood_in_logits(x_geometric, y_floor, data).value,
            geometric_limit: true,
            polarised_limit: false,
        });
    }
    Ok(PointEstimate {
        logit_mean_churn: x,
        logit_polarisation: y,
        log_likelihood,
        geometric_limit: false,
        polarised_limit: y >= bounds.upper[1] - 1e-9,
    })
}

/// Turns a log-likelihood with derivatives into the objective the minimiser wants (its negative).
pub(crate) fn negated(log_likelihood: super::sbg::LogLikelihood2) -> Derivatives {
    Derivatives {
        value: -log_likelihood.value,
        gradient: log_likelihood.gradient.iter().map(|g| -g).collect(),
        hessian: log_likelihood.hessian.iter().map(|row| row.iter().map(|h| -h).collect()).collect(),
    }
}

/// The observed information (minus the Hessian of the log-likelihood) on the logits at a point.
fn information_matrix(point: &PointEstimate, data: &RenewalData) -> Option<[[f64; 2]; 2]> {
    let at = log_likelihood_in_logits(point.logit_mean_churn, point.logit_polarisation, data);
    let information = [[-at.hessian[0][0], -at.hessian[0][1]], [-at.hessian[1][0], -at.hessian[1][1]]];
    information.iter().flatten().all(|v| v.is_finite()).then_some(information)
}

/// The inverse of a symmetric 2x2 matrix, if it is positive definite.
fn invert_2x2(matrix: &[[f64; 2]; 2]) -> Option<[[f64; 2]; 2]> {
    let determinant = matrix[0][0] * matrix[1][1] - matrix[0][1] * matrix[1][0];
    if !(matrix[0][0] > 0.0 && determinant > 0.0 && determinant.is_finite()) {
        return None;
    }
    Some([
        [matrix[1][1] / determinant, -matrix[0][1] / determinant],
        [-matrix[1][0] / determinant, matrix[0][0] / determinant],
    ])
}

/// Wald intervals on ln alpha and ln beta. With ln alpha = ln sigmoid(x) - y, its gradient in (x, y) is
/// (1 - m, -1); for ln beta it is (-m, -1). The variance of each is gradient' covariance gradient.
fn wald_intervals(point: &PointEstimate, covariance: &[[f64; 2]; 2]) -> (Interval95, Interval95) {
    let m = sigmoid(point.logit_mean_churn);
    let parameters = SbgParameters::from_logits(point.logit_mean_churn, point.logit_polarisation);
    let interval = |estimate: f64, gradient: [f64; 2]| {
        let variance = gradient[0] * gradient[0] * covariance[0][0]
            + 2.0 * gradient[0] * gradient[1] * covariance[0][1]
            + gradient[1] * gradient[1] * covariance[1][1];
        let half_width = NORMAL_QUANTILE_97_5 * libm::sqrt(variance.max(0.0));
        let ln_estimate = libm::log(estimate);
        Interval95 {
            lower: Some(libm::exp(ln_estimate - half_width)),
            upper: Some(libm::exp(ln_estimate + half_width)),
        }
    };
    (interval(parameters.alpha, [1.0 - m, -1.0]), interval(parameters.beta, [-m, -1.0]))
}

/// Which parameter a profile holds fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profiled {
    Alpha,
    Beta,
}

/// Everything a profile-likelihood interval search needs about one fit.
struct ProfileSearch<'a> {
    data: &'a RenewalData,
    parameters: SbgParameters,
    maximum: f64,
    /// Whether the geometric model is rejected at 5%: if not, no upper end exists, since the profile
    /// tends to the geometric log-likelihood as either parameter grows.
    geometric_rejected: bool,
}

impl ProfileSearch<'_> {
    /// The profile log-likelihood at `ln_fixed` for the profiled parameter: the log-likelihood
    /// maximised over the other one's log, starting from `ln_other` (updated to the maximiser).
    fn profile(&self, profiled: Profiled, ln_fixed: f64, ln_other: &mut f64) -> f64 {
        let arrange = |ln_free: f64| match profiled {
            Profiled::Alpha => (ln_fixed, ln_free),
            Profiled::Beta => (ln_free, ln_fixed),
        };
        let free_index = match profiled {
            Profiled::Alpha => 1,
            Profiled::Beta => 0,
        };
        let value = |z: &[f64]| {
            let (ln_alpha, ln_beta) = arrange(z[0]);
            -log_likelihood_with_derivatives(ln_alpha, ln_beta, self.data).value
        };
        let derivatives = |z: &[f64]| {
            let (ln_alpha, ln_beta) = arrange(z[0]);
            let at = log_likelihood_with_derivatives(ln_alpha, ln_beta, self.data);
            Derivatives {
                value: -at.value,
                gradient: vec![-at.gradient[free_index]],
                hessian: vec![vec![-at.hessian[free_index][free_index]]],
            }
        };
        let bounds = Bounds { lower: vec![PROFILE_LN_RANGE.0], upper: vec![PROFILE_LN_RANGE.1] };
        let found = newton(&value, &derivatives, &[*ln_other], &bounds);
        *ln_other = found.point[0];
        -found.value
    }

    /// The 95% profile interval for one parameter.
    fn interval(&self, profiled: Profiled) -> Interval95 {
        let lower = self.end(profiled, -1.0);
        let upper = if self.geometric_rejected { self.end(profiled, 1.0) } else { None };
        Interval95 { lower, upper }
    }

    /// One end of the interval, searching from the estimate in `direction` (+1 up, -1 down) on the log
    /// scale: steps that double in length until the profile has fallen 1.92 below the maximum, then
    /// false position between the last point inside and the first outside. `None` when the search
    /// reaches the edge of its range still inside.
    fn end(&self, profiled: Profiled, direction: f64) -> Option<f64> {
        let (ln_estimate, ln_other_estimate) = match profiled {
            Profiled::Alpha => (libm::log(self.parameters.alpha), libm::log(self.parameters.beta)),
            Profiled::Beta => (libm::log(self.parameters.beta), libm::log(self.parameters.alpha)),
        };
        let ln_other = std::cell::Cell::new(ln_other_estimate);
        let excess_drop = |ln_fixed: f64| {
            let mut other = ln_other.get();
            let profile = self.profile(profiled, ln_fixed, &mut other);
            ln_other.set(other);
            self.maximum - profile - HALF_CHI_SQUARE_1_95
        };
        let edge = if direction > 0.0 { PROFILE_LN_RANGE.1 } else { PROFILE_LN_RANGE.0 };
        let mut inside = ln_estimate.clamp(PROFILE_LN_RANGE.0, PROFILE_LN_RANGE.1);
        let mut step = 0.05;
        let outside = loop {
            let candidate = inside + direction * step;
            let beyond_edge = (candidate - edge) * direction >= 0.0;
            let probe = if beyond_edge { edge } else { candidate };
            if excess_drop(probe) > 0.0 {
                break probe;
            }
            if beyond_edge {
                return None;
            }
            inside = candidate;
            step *= 2.0;
        };
        // The inner search is warm-started from the last point, which is inside the interval.
        Some(libm::exp(bracketed_root(&excess_drop, inside, outside, 1e-9)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::retention::data::RenewalAgeCounts;

    fn fader_hardie_regular() -> RenewalData {
        RenewalData::from_survivor_curve(&[1000, 631, 468, 382, 326, 289, 262, 241]).unwrap()
    }

    fn fader_hardie_high_end() -> RenewalData {
        RenewalData::from_survivor_curve(&[1000, 869, 743, 653, 593, 551, 517, 491]).unwrap()
    }

    fn rounded(value: f64, decimals: i32) -> f64 {
        let scale = libm::pow(10.0, f64::from(decimals));
        libm::round(value * scale) / scale
    }

    #[test]
    fn fader_hardie_2007_worked_example_reproduces_the_published_estimates() {
        // "How to Project Customer Retention", fitted to years 1..7 with the year-7 survivors censored:
        // Regular alpha = 0.704, beta = 1.182 (LL -1680.3); High End alpha = 0.668, beta = 3.806 (LL -1611.2).
        for (data, alpha, beta, log_likelihood) in
            [(fader_hardie_regular(), 0.704, 1.182, -1680.3), (fader_hardie_high_end(), 0.668, 3.806, -1611.2)]
        {
            let fit = fit_sbg(&data).unwrap();
            assert_eq!(rounded(fit.parameters.alpha, 3), alpha, "{fit:?}");
            assert_eq!(rounded(fit.parameters.beta, 3), beta, "{fit:?}");
            assert_eq!(rounded(fit.log_likelihood, 1), log_likelihood);
            assert!(!fit.geometric_limit && !fit.polarised_limit && fit.warnings().is_empty());
            assert_eq!(fit.interval_method, IntervalMethod::WaldOnLogScale);
            assert!(fit.alpha_interval.contains(alpha) && fit.beta_interval.contains(beta));
        }
    }

    #[test]
    fn wald_and_profile_intervals_agree_closely_when_churners_are_many() {
        let data = fader_hardie_regular();
        let fit = fit_sbg(&data).unwrap();
        let point = fit_point(&data).unwrap();
        let profile = ProfileSearch {
            data: &data,
            parameters: fit.parameters,
            maximum: point.log_likelihood,
            geometric_rejected: true,
        };
        for (wald, profiled) in [
            (fit.alpha_interval, profile.interval(Profiled::Alpha)),
            (fit.beta_interval, profile.interval(Profiled::Beta)),
        ] {
            for (a, b) in [(wald.lower, profiled.lower), (wald.upper, profiled.upper)] {
                let (a, b) = (a.unwrap(), b.unwrap());
                assert!((a / b - 1.0).abs() < 0.05, "wald {wald:?} vs profile {profiled:?}");
            }
        }
    }

    #[test]
    fn a_profile_interval_end_sits_where_the_profile_falls_by_half_the_chi_square_quantile() {
        let data = RenewalData::from_survivor_curve(&[40, 31, 26, 22, 21, 19]).unwrap();
        let fit = fit_sbg(&data).unwrap();
        assert_eq!(fit.interval_method, IntervalMethod::ProfileLikelihood);
        let profile = ProfileSearch {
            data: &data,
            parameters: fit.parameters,
            maximum: fit.log_likelihood,
            geometric_rejected: true,
        };
        let lower = fit.alpha_interval.lower.unwrap();
        let mut ln_beta = libm::log(fit.parameters.beta);
        let drop = fit.log_likelihood - profile.profile(Profiled::Alpha, libm::log(lower), &mut ln_beta);
        assert!((drop - 1.920729410347062).abs() < 1e-6, "drop {drop}");
        assert!(lower < fit.parameters.alpha);
    }

    #[test]
    fn degenerate_segments_are_typed_errors_not_panics() {
        let counts = |rows: &[(u32, u64, u64)]| {
            let rows: Vec<RenewalAgeCounts> = rows
                .iter()
                .map(|&(renewals, churned, censored)| RenewalAgeCounts { renewals, churned, censored })
                .collect();
            RenewalData::from_counts(&rows).unwrap()
        };
        assert_eq!(fit_sbg(&counts(&[])), Err(RetentionError::NoSubscribersAtRisk));
        assert_eq!(fit_sbg(&counts(&[(0, 0, 25)])), Err(RetentionError::NoSubscribersAtRisk));
        assert_eq!(
            fit_sbg(&counts(&[(3, 0, 12), (0, 0, 4)])),
            Err(RetentionError::NoChurners { subscribers_at_risk: 12 })
        );
        assert_eq!(
            fit_sbg(&counts(&[(1, 9, 0), (0, 0, 3)])),
            Err(RetentionError::EveryoneChurnedAtFirstRenewal { churners: 9 })
        );
    }

    #[test]
    fn a_segment_with_three_churners_fits_with_a_warning_and_wide_finite_or_open_intervals() {
        let data = RenewalData::from_counts(&[
            RenewalAgeCounts { renewals: 1, churned: 2, censored: 5 },
            RenewalAgeCounts { renewals: 4, churned: 1, censored: 9 },
        ])
        .unwrap();
        let fit = fit_sbg(&data).unwrap();
        assert!(fit.few_churners() && fit.warnings()[0].contains("Only 3 of 17"));
        assert_eq!(fit.interval_method, IntervalMethod::ProfileLikelihood);
        for interval in [fit.alpha_interval, fit.beta_interval] {
            assert!(interval.lower.is_none_or(|v| v.is_finite() && v > 0.0));
            assert!(interval.upper.is_none_or(|v| v.is_finite()));
        }
        assert!(fit.parameters.alpha.is_finite() && fit.parameters.beta.is_finite());
    }

    #[test]
    fn churn_only_at_the_first_renewal_is_the_polarised_limit_flagged() {
        // Half leave at the first renewal and nobody after: h(1) = 1/2, h(t > 1) = 0.
        let data = RenewalData::from_counts(&[
            RenewalAgeCounts { renewals: 1, churned: 50, censored: 0 },
            RenewalAgeCounts { renewals: 10, churned: 0, censored: 50 },
        ])
        .unwrap();
        let fit = fit_sbg(&data).unwrap();
        assert!(fit.polarised_limit && !fit.geometric_limit, "{fit:?}");
        assert!((fit.parameters.mean_churn() - 0.5).abs() < 1e-6);
        assert_eq!(fit.interval_method, IntervalMethod::ProfileLikelihood);
        assert!(fit.warnings().iter().any(|w| w.contains("two groups")));
        assert!(fit.log_likelihood.is_finite());
    }

    #[test]
    fn survivors_falling_by_a_constant_share_is_the_geometric_limit() {
        // Exactly half churn at every renewal: no heterogeneity at all.
        let data = RenewalData::from_survivor_curve(&[4096, 2048, 1024, 512, 256, 128]).unwrap();
        let fit = fit_sbg(&data).unwrap();
        assert!(fit.geometric_limit, "{fit:?}");
        assert!((fit.parameters.mean_churn() - 0.5).abs() < 1e-12);
        assert_eq!((fit.alpha_interval.upper, fit.beta_interval.upper), (None, None));
        assert!(fit.alpha_interval.lower.is_some_and(|v| v > 10.0), "{:?}", fit.alpha_interval);
        assert!(fit.logit_covariance.is_none() && fit.warnings().iter().any(|w| w.contains("constant churn")));
    }
}
