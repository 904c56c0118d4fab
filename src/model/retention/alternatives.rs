//! The sBG's two alternatives and the held-out comparison that chooses among the three.
//!
//! - Geometric: one churn probability theta for everyone, h(t) = theta. With censoring its maximum
//!   likelihood estimate is closed-form: churners divided by subscriber-renewals at risk.
//! - Beta-discrete-Weibull (BdW): S(t) = B(alpha, beta + t^c) / B(alpha, beta). With c = 1 it is the
//!   sBG; c < 1 lets each subscriber's own churn fall with tenure, c > 1 rise. Fitted by maximum
//!   likelihood on (logit mean, -ln(alpha + beta), ln c) like the sBG, with finite-difference
//!   derivatives.
//!
//! The comparison scheme ([`compare_models`]). Retention models are used to project older tenures
//! than the data has seen much of, so the held-out data are the oldest renewals: every model is
//! fitted to the renewals at ages up to a cutoff (subscribers who got further count as censored at
//! the cutoff), and scored on the log-likelihood of the renewals after it, conditional on having
//! reached them: the sum over ages t past the cutoff of d_t ln h(t) + (n_t - d_t) ln(1 - h(t)). This
//! is exactly the part of the censored likelihood that the training fit did not see, so it is a
//! proper score for censored data, and it is deterministic. The cutoff is the first age by which two
//! thirds of all subscriber-renewals at risk have happened, but at least [`MIN_TRAINING_AGES`] (the
//! BdW has three parameters) and at most one less than the oldest age (something must be held out).
//! The model with the highest held-out log-likelihood is chosen; on an exact tie, the simpler one.

use super::data::{RenewalAgeCounts, RenewalData};
use super::fit::{
    check_estimable, fit_point, geometric_churn_rate, geometric_log_likelihood, logit_bounds, PointEstimate,
};
use super::sbg::SbgParameters;
use super::RetentionError;
use crate::model::optimise::{finite_difference_derivatives, minimise, Bounds};
use crate::model::special::{ln_beta_ratio, ln_sigmoid};

/// The fewest renewal ages the comparison trains on.
pub const MIN_TRAINING_AGES: u32 = 3;

/// The BdW's shape c is searched within [1/20, 20]: far beyond any tenure effect seen in practice.
const LN_SHAPE_LIMIT: f64 = 3.0;

/// The geometric model fitted to one segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeometricFit {
    /// The churn probability at every renewal.
    pub churn_probability: f64,
    pub log_likelihood: f64,
}

/// The three parameters of the beta-discrete-Weibull model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaDiscreteWeibullParameters {
    pub alpha: f64,
    pub beta: f64,
    /// The Weibull shape c: 1 is the sBG.
    pub shape: f64,
}

impl BetaDiscreteWeibullParameters {
    /// ln S(t) = ln B(alpha, beta + t^c) - ln B(alpha, beta).
    pub fn ln_survival(&self, renewals: u32) -> f64 {
        ln_beta_ratio(self.alpha, self.beta, libm::pow(f64::from(renewals), self.shape))
    }

    /// S(t), the share still subscribed after t renewals.
    pub fn survival(&self, renewals: u32) -> f64 {
        libm::exp(self.ln_survival(renewals))
    }

    /// h(t) = 1 - S(t) / S(t - 1), the churn at renewal t among those still there (0 for t = 0).
    pub fn hazard(&self, renewal: u32) -> f64 {
        if renewal == 0 {
            return 0.0;
        }
        -libm::expm1(self.ln_survival(renewal) - self.ln_survival(renewal - 1))
    }
}

/// The BdW fitted to one segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaDiscreteWeibullFit {
    pub parameters: BetaDiscreteWeibullParameters,
    pub log_likelihood: f64,
}

/// Which retention model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionModel {
    Geometric,
    ShiftedBetaGeometric,
    BetaDiscreteWeibull,
}

/// The held-out comparison of the three models on one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelComparison {
    /// Models were fitted to renewal ages 1 to this, and scored on the older ones.
    pub training_cutoff_renewals: u32,
    /// Subscriber-renewals at risk after the cutoff: the amount of held-out data.
    pub held_out_renewals_at_risk: u64,
    /// Churners after the cutoff.
    pub held_out_churners: u64,
    pub geometric_held_out_log_likelihood: f64,
    pub sbg_held_out_log_likelihood: f64,
    pub beta_discrete_weibull_held_out_log_likelihood: f64,
    /// The model with the highest held-out log-likelihood (the simpler on an exact tie).
    pub chosen: RetentionModel,
}

/// The geometric model's closed-form fit: theta = churners / subscriber-renewals at risk.
pub fn fit_geometric(data: &RenewalData) -> Result<GeometricFit, RetentionError> {
    check_estimable(data)?;
    Ok(GeometricFit { churn_probability: geometric_churn_rate(data), log_likelihood: geometric_log_likelihood(data) })
}

/// The BdW's censored log-likelihood, in the hazard form: d ln h(t) + (n - d) ln(1 - h(t)) at every
/// age, with ln(1 - h(t)) = ln S(t) - ln S(t - 1) and ln h(t) = ln(-expm1 of that).
fn beta_discrete_weibull_log_likelihood(parameters: &BetaDiscreteWeibullParameters, data: &RenewalData) -> f64 {
    hazard_form_log_likelihood(data, 1, u32::MAX, |renewal| {
        let step = parameters.ln_survival(renewal) - parameters.ln_survival(renewal - 1);
        (libm::log(-libm::expm1(step)), step)
    })
}

/// The parameters at a point of the search coordinates (x, y, w) = (logit of alpha / (alpha + beta),
/// -ln(alpha + beta), ln c): the sBG's coordinates and the log of the shape.
fn beta_discrete_weibull_from_coordinates(z: &[f64]) -> BetaDiscreteWeibullParameters {
    BetaDiscreteWeibullParameters {
        alpha: libm::exp(ln_sigmoid(z[0]) - z[1]),
        beta: libm::exp(ln_sigmoid(-z[0]) - z[1]),
        shape: libm::exp(z[2]),
    }
}

/// Fits the BdW by maximum likelihood, starting from the sBG's estimate (c = 1).
pub fn fit_beta_discrete_weibull(data: &RenewalData) -> Result<BetaDiscreteWeibullFit, RetentionError> {
    let start = fit_point(data)?;
    Ok(fit_beta_discrete_weibull_from(data, &start))
}

fn fit_beta_discrete_weibull_from(data: &RenewalData, start: &PointEstimate) -> BetaDiscreteWeibullFit {
    let logit_box = logit_bounds();
    let bounds = Bounds {
        lower: vec![logit_box.lower[0], logit_box.lower[1], -LN_SHAPE_LIMIT],
        upper: vec![logit_box.upper[0], logit_box.upper[1], LN_SHAPE_LIMIT],
    };
    let value = |z: &[f64]| -beta_discrete_weibull_log_likelihood(&beta_discrete_weibull_from_coordinates(z), data);
    let derivatives = |z: &[f64]| finite_difference_derivatives(&value, z, 1e-4);
    let found = minimise(&value, &derivatives, &[start.logit_mean_churn, start.logit_polarisation, 0.0], &bounds);
    BetaDiscreteWeibullFit {
        parameters: beta_discrete_weibull_from_coordinates(&found.point),
        log_likelihood: -found.value,
    }
}

/// Sum over renewal ages first..=last of d ln h + (n - d) ln(1 - h), where `log_hazards(t)` gives
/// (ln h(t), ln(1 - h(t))). A zero-count term adds nothing even where its log is infinite.
fn hazard_form_log_likelihood(
    data: &RenewalData,
    first: u32,
    last: u32,
    log_hazards: impl Fn(u32) -> (f64, f64),
) -> f64 {
    let mut total = 0.0;
    for (renewal, at_risk, churned) in data.hazard_table() {
        if renewal < first || renewal > last {
            continue;
        }
        let (ln_hazard, ln_retention) = log_hazards(renewal);
        let stayed = at_risk - churned;
        if churned > 0 {
            total += churned as f64 * ln_hazard;
        }
        if stayed > 0 {
            total += stayed as f64 * ln_retention;
        }
    }
    total
}

/// The data as they were known up to `cutoff`: ages past it are censored at it.
fn censored_at(data: &RenewalData, cutoff: u32) -> Result<RenewalData, RetentionError> {
    let mut rows = vec![RenewalAgeCounts { renewals: 0, churned: 0, censored: data.censored_at(0) }];
    let mut beyond: u64 = 0;
    for renewal in 1..=data.oldest_renewal_age() {
        if renewal <= cutoff {
            rows.push(RenewalAgeCounts {
                renewals: renewal,
                churned: data.churned_at(renewal),
                censored: data.censored_at(renewal),
            });
        } else {
            beyond += data.churned_at(renewal) + data.censored_at(renewal);
        }
    }
    rows.push(RenewalAgeCounts { renewals: cutoff, churned: 0, censored: beyond });
    RenewalData::from_counts(&rows)
}

/// The training cutoff of the held-out scheme (see the module comment).
fn training_cutoff(data: &RenewalData) -> Result<u32, RetentionError> {
    let oldest = data.oldest_renewal_age();
    if oldest <= MIN_TRAINING_AGES {
        return Err(RetentionError::TooFewRenewalAgesToCompare {
            oldest_renewal_age: oldest,
            needed: MIN_TRAINING_AGES + 1,
        });
    }
    let table = data.hazard_table();
    let total: u64 = table.iter().map(|&(_, at_risk, _)| at_risk).sum();
    let mut cumulative: u64 = 0;
    let mut two_thirds_age = oldest;
    for &(renewal, at_risk, _) in &table {
        cumulative += at_risk;
        // cumulative / total >= 2 / 3, in integers.
        if 3 * u128::from(cumulative) >= 2 * u128::from(total) {
            two_thirds_age = renewal;
            break;
        }
    }
    Ok(two_thirds_age.clamp(MIN_TRAINING_AGES, oldest - 1))
}

/// Fits the geometric, sBG and BdW models to the renewals up to a cutoff and scores each on the
/// held-out older renewals (the scheme is in the module comment).
pub fn compare_models(data: &RenewalData) -> Result<ModelComparison, RetentionError> {
    check_estimable(data)?;
    let cutoff = training_cutoff(data)?;
    let training = censored_at(data, cutoff)?;
    let sbg_point = fit_point(&training)?;
    let sbg = SbgParameters::from_logits(sbg_point.logit_mean_churn, sbg_point.logit_polarisation);
    let theta = geometric_churn_rate(&training);
    let bdw = fit_beta_discrete_weibull_from(&training, &sbg_point).parameters;

    let held_out =
        |log_hazards: &dyn Fn(u32) -> (f64, f64)| hazard_form_log_likelihood(data, cutoff + 1, u32::MAX, log_hazards);
    let geometric_score = held_out(&|_| (libm::log(theta), libm::log1p(-theta)));
    // At the geometric limit the sBG is the geometric model (its alpha and beta at the edge of the
    // search box are only a stand-in for infinity), so it scores exactly as the geometric one, and the
    // tie goes to the simpler model.
    let sbg_score = if sbg_point.geometric_limit {
        geometric_score
    } else {
        held_out(&|renewal| {
            let hazard = sbg.hazard(renewal);
            (libm::log(hazard), libm::log1p(-hazard))
        })
    };
    let bdw_score = held_out(&|renewal| {
        let step = bdw.ln_survival(renewal) - bdw.ln_survival(renewal - 1);
        (libm::log(-libm::expm1(step)), step)
    });

    // Simplest first, so that only a strictly higher score displaces it.
    let mut chosen = (RetentionModel::Geometric, geometric_score);
    for candidate in
        [(RetentionModel::ShiftedBetaGeometric, sbg_score), (RetentionModel::BetaDiscreteWeibull, bdw_score)]
    {
        if candidate.1 > chosen.1 {
            chosen = candidate;
        }
    }
    let held_out_rows: Vec<(u32, u64, u64)> =
        data.hazard_table().into_iter().filter(|&(renewal, _, _)| renewal > cutoff).collect();
    Ok(ModelComparison {
        training_cutoff_renewals: cutoff,
        held_out_renewals_at_risk: held_out_rows.iter().map(|&(_, at_risk, _)| at_risk).sum(),
        held_out_churners: held_out_rows.iter().map(|&(_, _, churned)| churned).sum(),
        geometric_held_out_log_likelihood: geometric_score,
        sbg_held_out_log_likelihood: sbg_score,
        beta_discrete_weibull_held_out_log_likelihood: bdw_score,
        chosen: chosen.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::retention::sbg::sbg_log_likelihood;
    use crate::model::special::logit;

    /// The search coordinates of given parameters (the inverse of `beta_discrete_weibull_from_coordinates`).
    fn coordinates_of(parameters: &BetaDiscreteWeibullParameters) -> [f64; 3] {
        let total = parameters.alpha + parameters.beta;
        [logit(parameters.alpha / total), -libm::log(total), libm::log(parameters.shape)]
    }

    fn fader_hardie_regular() -> RenewalData {
        RenewalData::from_survivor_curve(&[1000, 631, 468, 382, 326, 289, 262, 241]).unwrap()
    }

    #[test]
    fn the_geometric_rate_is_churners_over_renewals_at_risk() {
        // Churners 759; renewals at risk 1000 + 631 + 468 + 382 + 326 + 289 + 262 = 3358.
        let fit = fit_geometric(&fader_hardie_regular()).unwrap();
        assert!((fit.churn_probability - 759.0 / 3358.0).abs() < 1e-15);
        let expected = 759.0 * libm::log(759.0 / 3358.0) + 2599.0 * libm::log(2599.0 / 3358.0);
        assert!((fit.log_likelihood - expected).abs() < 1e-9);
    }

    #[test]
    fn the_beta_discrete_weibull_with_shape_one_is_the_sbg() {
        let data = fader_hardie_regular();
        let bdw = BetaDiscreteWeibullParameters { alpha: 0.9, beta: 2.1, shape: 1.0 };
        let sbg = SbgParameters::new(0.9, 2.1).unwrap();
        assert!((beta_discrete_weibull_log_likelihood(&bdw, &data) - sbg_log_likelihood(&sbg, &data)).abs() < 1e-9);
        for t in [1u32, 2, 5, 40] {
            assert!((bdw.survival(t) - sbg.survival(t)).abs() < 1e-13 && (bdw.hazard(t) - sbg.hazard(t)).abs() < 1e-13);
        }
        let back = beta_discrete_weibull_from_coordinates(&coordinates_of(&bdw));
        assert!(
            (back.alpha - 0.9).abs() < 1e-12 && (back.beta - 2.1).abs() < 1e-12 && (back.shape - 1.0).abs() < 1e-15
        );
    }

    #[test]
    fn the_beta_discrete_weibull_fits_at_least_as_well_as_the_sbg_it_contains() {
        let data = fader_hardie_regular();
        let sbg = fit_point(&data).unwrap();
        let bdw = fit_beta_discrete_weibull(&data).unwrap();
        assert!(bdw.log_likelihood >= sbg.log_likelihood - 1e-9, "{} vs {}", bdw.log_likelihood, sbg.log_likelihood);
    }

    #[test]
    fn fader_hardie_data_train_on_ages_one_to_four_and_prefer_a_heterogeneous_model() {
        // At risk by age: 1000, 631, 468, 382, ...: the cumulative share passes 2/3 of 3358 at age 4.
        let comparison = compare_models(&fader_hardie_regular()).unwrap();
        assert_eq!(comparison.training_cutoff_renewals, 4);
        assert_eq!(comparison.held_out_renewals_at_risk, 326 + 289 + 262);
        assert_eq!(comparison.held_out_churners, 37 + 27 + 21);
        assert_ne!(comparison.chosen, RetentionModel::Geometric);
        assert!(comparison.sbg_held_out_log_likelihood > comparison.geometric_held_out_log_likelihood + 10.0);
    }

    #[test]
    fn a_comparison_needs_ages_past_the_minimum_training_span() {
        let data = RenewalData::from_survivor_curve(&[100, 70, 60]).unwrap();
        assert_eq!(
            compare_models(&data),
            Err(RetentionError::TooFewRenewalAgesToCompare { oldest_renewal_age: 2, needed: 4 })
        );
    }

    #[test]
    fn censoring_at_the_cutoff_keeps_the_renewals_before_it_unchanged() {
        let data = fader_hardie_regular();
        let training = censored_at(&data, 4).unwrap();
        assert_eq!(training.hazard_table(), data.hazard_table()[..4].to_vec());
        assert_eq!(training.censored_at(4), 326);
    }
}
