//! The shifted-beta-geometric model: its closed forms and its censored log-likelihood.
//!
//! Each subscriber churns at every renewal with their own probability theta, and theta varies across
//! subscribers as Beta(alpha, beta). Then, for renewals t = 1, 2, ...:
//! - h(t) = alpha / (alpha + beta + t - 1), the churn at renewal t among those still there;
//! - r(t) = 1 - h(t) = (beta + t - 1) / (alpha + beta + t - 1), the retention rate;
//! - S(t) = B(alpha, beta + t) / B(alpha, beta) = r(1) r(2) ... r(t);
//! - P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta) = S(t - 1) h(t).
//!
//! The likelihood is computed in its hazard form, sum over t of d_t ln h(t) + (n_t - d_t) ln r(t) with
//! n_t at risk and d_t churned at t, which equals the sum of ln P(T = t) over churners and ln S(t)
//! over the censored, term for term, but needs no beta functions at all: every term is a ratio of
//! two numbers, so it stays exact as alpha and beta grow without bound (the geometric limit).
//!
//! Two coordinate systems are used for derivatives. The fit works on x = logit(m) and y = logit(p),
//! with m = alpha / (alpha + beta) the mean churn and p = 1 / (alpha + beta + 1) the polarisation;
//! then alpha + beta = e^-y, alpha = m e^-y and beta = (1 - m) e^-y. Profile likelihoods work on
//! (ln alpha, ln beta). Both come from one analytic gradient and Hessian in (ln alpha, ln beta).

use super::data::RenewalData;
use super::RetentionError;
use crate::model::special::{ln_beta_ratio, ln_sigmoid, sigmoid};

/// Ages up to this are summed term by term (exact); older ages use ln-gamma differences (fast).
const LONGEST_PRODUCT_RENEWALS: u32 = 1_000;

/// The two parameters of the beta distribution of churn probabilities across subscribers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SbgParameters {
    pub alpha: f64,
    pub beta: f64,
}

impl SbgParameters {
    /// Checked parameters: both must be positive and finite.
    pub fn new(alpha: f64, beta: f64) -> Result<SbgParameters, RetentionError> {
        let valid = |value: f64| value.is_finite() && value > 0.0;
        if valid(alpha) && valid(beta) {
            Ok(SbgParameters { alpha, beta })
        } else {
            Err(RetentionError::InvalidParameters { alpha, beta })
        }
    }

    /// The parameters at a point of the fit's coordinates: x = logit(mean churn), y = logit(polarisation).
    pub fn from_logits(logit_mean_churn: f64, logit_polarisation: f64) -> SbgParameters {
        let ln_total = -logit_polarisation;
        SbgParameters {
            alpha: libm::exp(ln_sigmoid(logit_mean_churn) + ln_total),
            beta: libm::exp(ln_sigmoid(-logit_mean_churn) + ln_total),
        }
    }

    /// Mean churn probability per renewal across subscribers, alpha / (alpha + beta) = h(1).
    pub fn mean_churn(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// Polarisation 1 / (alpha + beta + 1): 0 when everyone has the same churn probability (the
    /// geometric limit), towards 1 when subscribers either leave at once or stay for ever.
    pub fn polarisation(&self) -> f64 {
        1.0 / (self.alpha + self.beta + 1.0)
    }

    /// h(t): the probability of churning at renewal t for a subscriber who reached it (0 for t = 0,
    /// which is not a renewal).
    pub fn hazard(&self, renewal: u32) -> f64 {
        if renewal == 0 {
            return 0.0;
        }
        self.alpha / (self.alpha + self.beta + f64::from(renewal - 1))
    }

    /// r(t) = S(t) / S(t - 1) = 1 - h(t): the share of those who reached renewal t that stay.
    pub fn retention_rate(&self, renewal: u32) -> f64 {
        if renewal == 0 {
            return 1.0;
        }
        let older = self.beta + f64::from(renewal - 1);
        older / (self.alpha + older)
    }

    /// ln S(t), the log of the share still subscribed after t renewals (0 at t = 0).
    pub fn ln_survival(&self, renewals: u32) -> f64 {
        if renewals <= LONGEST_PRODUCT_RENEWALS {
            // ln r(i) = ln(1 - h(i)), summed; log1p keeps small hazards exact.
            (1..=renewals).map(|renewal| libm::log1p(-self.hazard(renewal))).sum()
        } else {
            ln_beta_ratio(self.alpha, self.beta, f64::from(renewals))
        }
    }

    /// S(t) = B(alpha, beta + t) / B(alpha, beta).
    pub fn survival(&self, renewals: u32) -> f64 {
        libm::exp(self.ln_survival(renewals))
    }

    /// ln P(T = t) = ln S(t - 1) + ln h(t) (minus infinity at t = 0: nobody churns before starting).
    pub fn ln_churn_probability_at(&self, renewal: u32) -> f64 {
        if renewal == 0 {
            return f64::NEG_INFINITY;
        }
        self.ln_survival(renewal - 1) + libm::log(self.alpha)
            - libm::log(self.alpha + self.beta + f64::from(renewal - 1))
    }

    /// P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta): the share that churns at renewal t.
    pub fn churn_probability_at(&self, renewal: u32) -> f64 {
        libm::exp(self.ln_churn_probability_at(renewal))
    }
}

/// The censored log-likelihood of the sBG at `parameters` for `data`: ln P(T = t) for every churner at
/// t, ln S(t) for every subscriber censored after t renewals.
pub fn sbg_log_likelihood(parameters: &SbgParameters, data: &RenewalData) -> f64 {
    log_likelihood_with_derivatives(libm::log(parameters.alpha), libm::log(parameters.beta), data).value
}

/// A log-likelihood with its gradient and Hessian in some two coordinates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogLikelihood2 {
    pub value: f64,
    pub gradient: [f64; 2],
    pub hessian: [[f64; 2]; 2],
}

/// The log-likelihood and its analytic derivatives with respect to (ln alpha, ln beta).
///
/// Per renewal age t with n at risk and d churned, and D = alpha + beta + t - 1, the term is
/// d ln alpha + (n - d) ln(beta + t - 1) - n ln D. Its derivatives follow from d(ln x)/d(ln alpha) =
/// alpha / x; they are written out below.
pub(crate) fn log_likelihood_with_derivatives(ln_alpha: f64, ln_beta: f64, data: &RenewalData) -> LogLikelihood2 {
    let alpha = libm::exp(ln_alpha);
    let beta = libm::exp(ln_beta);
    let mut value = 0.0;
    let mut gradient = [0.0; 2];
    let mut hessian = [[0.0; 2]; 2];
    for (renewal, at_risk, churned) in data.hazard_table() {
        let at_risk = at_risk as f64;
        let churned = churned as f64;
        let stayed = at_risk - churned;
        let elapsed = f64::from(renewal - 1);
        let total = alpha + beta + elapsed;
        let older = beta + elapsed;
        // ln(beta + t - 1), exact at t = 1 where it is ln beta itself.
        let ln_older = if renewal == 1 { ln_beta } else { libm::log(older) };
        if churned > 0.0 {
            value += churned * ln_alpha;
        }
        if stayed > 0.0 {
            value += stayed * ln_older;
        }
        value -= at_risk * libm::log(total);

        let alpha_share = alpha / total;
        let beta_share = beta / total;
        gradient[0] += churned - at_risk * alpha_share;
        gradient[1] += stayed * (beta / older) - at_risk * beta_share;

        let total_squared = total * total;
        hessian[0][0] -= at_risk * alpha * (beta + elapsed) / total_squared;
        hessian[0][1] += at_risk * alpha * beta / total_squared;
        hessian[1][1] += stayed * beta * elapsed / (older * older) - at_risk * beta * (alpha + elapsed) / total_squared;
    }
    hessian[1][0] = hessian[0][1];
    LogLikelihood2 { value, gradient, hessian }
}

/// The log-likelihood and its derivatives with respect to the fit's coordinates
/// (x, y) = (logit mean churn, logit polarisation), by the chain rule from (ln alpha, ln beta):
/// ln alpha = ln sigmoid(x) - y and ln beta = ln sigmoid(-x) - y.
pub(crate) fn log_likelihood_in_logits(
    logit_mean_churn: f64,
    logit_polarisation: f64,
    data: &RenewalData,
) -> LogLikelihood2 {
    let ln_alpha = ln_sigmoid(logit_mean_churn) - logit_polarisation;
    let ln_beta = ln_sigmoid(-logit_mean_churn) - logit_polarisation;
    let inner = log_likelihood_with_derivatives(ln_alpha, ln_beta, data);
    let mean_churn = sigmoid(logit_mean_churn);
    // Jacobian rows: d(ln alpha)/d(x, y) = (1 - m, -1); d(ln beta)/d(x, y) = (-m, -1).
    let jacobian = [[1.0 - mean_churn, -1.0], [-mean_churn, -1.0]];
    let mut gradient = [0.0; 2];
    let mut hessian = [[0.0; 2]; 2];
    for i in 0..2 {
        gradient[i] = jacobian[0][i] * inner.gradient[0] + jacobian[1][i] * inner.gradient[1];
        for j in 0..2 {
            let mut sum = 0.0;
            for (k, jacobian_k) in jacobian.iter().enumerate() {
                for (l, jacobian_l) in jacobian.iter().enumerate() {
                    sum += jacobian_k[i] * inner.hessian[k][l] * jacobian_l[j];
                }
            }
            hessian[i][j] = sum;
        }
    }
    // Both ln alpha and ln beta have second derivative -m (1 - m) in x and none elsewhere.
    hessian[0][0] -= (inner.gradient[0] + inner.gradient[1]) * mean_churn * (1.0 - mean_churn);
    LogLikelihood2 { value: inner.value, gradient, hessian }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::retention::data::RenewalAgeCounts;
    use crate::model::special::ln_gamma_ratio;

    fn parameters(alpha: f64, beta: f64) -> SbgParameters {
        SbgParameters::new(alpha, beta).unwrap()
    }

    #[test]
    fn alpha_one_beta_one_gives_survival_one_over_t_plus_one() {
        // With a uniform theta, S(t) = integral of (1 - theta)^t = 1 / (t + 1), P(T = t) = 1 / (t (t + 1)),
        // h(t) = 1 / (t + 1).
        let uniform = parameters(1.0, 1.0);
        for t in [0u32, 1, 2, 3, 10, 999, 1000, 1001, 5000, 10_000_000] {
            let expected = 1.0 / f64::from(t + 1);
            assert!((uniform.survival(t) / expected - 1.0).abs() < 1e-13, "S({t}) = {}", uniform.survival(t));
        }
        for t in [1u32, 2, 7, 1500] {
            let tf = f64::from(t);
            assert!((uniform.churn_probability_at(t) * tf * (tf + 1.0) - 1.0).abs() < 1e-12, "P({t})");
            assert!((uniform.hazard(t) * (tf + 1.0) - 1.0).abs() < 1e-15, "h({t})");
        }
    }

    #[test]
    fn hand_computed_values_for_alpha_two_beta_three() {
        // h(1) = 2/5, h(2) = 2/6, r(2) = 4/6; S(2) = (3/5)(4/6) = 0.4; P(T = 2) = (3/5)(2/6) = 0.2.
        let p = parameters(2.0, 3.0);
        assert!((p.hazard(1) - 0.4).abs() < 1e-15);
        assert!((p.retention_rate(2) - 4.0 / 6.0).abs() < 1e-15);
        assert!((p.survival(2) - 0.4).abs() < 1e-15);
        assert!((p.churn_probability_at(2) - 0.2).abs() < 1e-15);
        assert_eq!((p.mean_churn(), p.polarisation()), (0.4, 1.0 / 6.0));
    }

    #[test]
    fn probabilities_and_survival_add_up_to_one_and_agree_with_hazards_and_retention() {
        for (alpha, beta) in [(0.704, 1.182), (0.668, 3.806), (0.05, 0.2), (40.0, 300.0), (3e6, 7e6)] {
            let p = parameters(alpha, beta);
            let mut churned_so_far = 0.0;
            for t in 1..=60u32 {
                churned_so_far += p.churn_probability_at(t);
                assert!((churned_so_far + p.survival(t) - 1.0).abs() < 1e-12, "{alpha},{beta} t={t}");
                let ratio = p.survival(t) / p.survival(t - 1);
                assert!((ratio - p.retention_rate(t)).abs() < 1e-12);
                assert!((p.retention_rate(t) + p.hazard(t) - 1.0).abs() < 1e-15);
                assert!((p.churn_probability_at(t) / (p.survival(t - 1) * p.hazard(t)) - 1.0).abs() < 1e-12);
            }
            // Retention rises with tenure: heterogeneity sorts out the churners first.
            assert!(p.retention_rate(30) > p.retention_rate(2));
        }
    }

    #[test]
    fn survival_by_product_and_by_ln_gamma_agree_where_the_two_meet() {
        for (alpha, beta) in [(0.5, 2.0), (1.3, 40.0), (200.0, 900.0)] {
            let p = parameters(alpha, beta);
            let by_ln_gamma = ln_gamma_ratio(beta, 1000.0) - ln_gamma_ratio(alpha + beta, 1000.0);
            assert!((p.ln_survival(1000) - by_ln_gamma).abs() < 1e-10 * (1.0 + by_ln_gamma.abs()));
            // One step further, on the ln-gamma branch, the ratio is still r(1001).
            let step = libm::exp(p.ln_survival(1001) - p.ln_survival(1000));
            assert!((step - p.retention_rate(1001)).abs() < 1e-10);
        }
    }

    #[test]
    fn the_likelihood_is_ln_p_for_churners_and_ln_s_for_the_censored() {
        let data = RenewalData::from_counts(&[
            RenewalAgeCounts { renewals: 1, churned: 3, censored: 1 },
            RenewalAgeCounts { renewals: 3, churned: 2, censored: 4 },
            RenewalAgeCounts { renewals: 0, churned: 0, censored: 9 },
        ])
        .unwrap();
        let p = parameters(0.8, 2.5);
        let expected = 3.0 * p.ln_churn_probability_at(1)
            + p.ln_survival(1)
            + 2.0 * p.ln_churn_probability_at(3)
            + 4.0 * p.ln_survival(3);
        assert!((sbg_log_likelihood(&p, &data) - expected).abs() < 1e-12);
    }

    #[test]
    fn analytic_derivatives_match_finite_differences_in_both_coordinate_systems() {
        let data = RenewalData::from_survivor_curve(&[1000, 631, 468, 382, 326, 289, 262, 241]).unwrap();
        let step = 1e-5;
        type Evaluate = fn(f64, f64, &RenewalData) -> LogLikelihood2;
        let systems: [(Evaluate, [f64; 2]); 2] =
            [(log_likelihood_with_derivatives, [-0.3, 0.2]), (log_likelihood_in_logits, [-0.5, -1.2])];
        for (evaluate, point) in systems {
            let at = evaluate(point[0], point[1], &data);
            for i in 0..2 {
                let mut up = point;
                let mut down = point;
                up[i] += step;
                down[i] -= step;
                let (plus, minus) = (evaluate(up[0], up[1], &data), evaluate(down[0], down[1], &data));
                let numeric_gradient = (plus.value - minus.value) / (2.0 * step);
                assert!((numeric_gradient - at.gradient[i]).abs() < 1e-5 * (1.0 + at.gradient[i].abs()), "g{i}");
                for j in 0..2 {
                    let numeric_hessian = (plus.gradient[j] - minus.gradient[j]) / (2.0 * step);
                    assert!((numeric_hessian - at.hessian[i][j]).abs() < 1e-5 * (1.0 + at.hessian[i][j].abs()));
                }
            }
        }
    }

    #[test]
    fn logits_map_to_mean_churn_and_polarisation() {
        let p = SbgParameters::from_logits(crate::model::special::logit(0.3), -libm::log(9.0));
        // y = logit(p) = -ln(alpha + beta) so alpha + beta = 9: alpha = 2.7, beta = 6.3.
        assert!((p.alpha - 2.7).abs() < 1e-12 && (p.beta - 6.3).abs() < 1e-12);
        assert!(SbgParameters::new(0.0, 1.0).is_err() && SbgParameters::new(1.0, f64::NAN).is_err());
    }
}
