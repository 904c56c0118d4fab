//! Retention: how long subscribers stay, counted in renewals of their own billing interval.
//!
//! The statistics of the shifted-beta-geometric model (sBG, Fader & Hardie 2007) and its companions,
//! fitted to one segment's renewal-count survival data, with right censoring, and pooled across
//! segments by empirical Bayes:
//!
//! - [`data`]: the input, [`RenewalData`], checked once when it is built: for every renewal age t, how
//!   many subscribers churned at renewal t and how many were still subscribed after t renewals when
//!   the data ends (right-censored there).
//! - [`sbg`]: the closed forms P(T = t), S(t), h(t) and r(t) of [`SbgParameters`], and the censored
//!   log-likelihood.
//! - [`fit`]: the maximum-likelihood fit with 95% intervals for alpha and beta ([`fit_sbg`]), including
//!   the geometric limit and degenerate data.
//! - [`alternatives`]: the geometric and beta-discrete-Weibull models and the held-out comparison of
//!   the three ([`compare_models`]).
//! - [`kaplan_meier`]: the non-parametric reference curve with lifelines' log-log intervals.
//! - [`pooling`]: partial pooling of several segments by empirical Bayes ([`pool_segments`]).
//!
//! Conventions, in one place. A renewal age t counts the billing periods a subscription began: one
//! that ended during or at the end of its t-th period churned at renewal t (t >= 1) and contributes
//! ln P(T = t) to the likelihood; one still subscribed after t renewals contributes ln S(t). One still
//! in its first period (censored after 0 renewals) contributes ln S(0) = 0: it is accepted, counted,
//! and otherwise ignored. In the hazard form used throughout, the subscribers at risk at renewal t are
//! those that churned at t or later or were censored at t or later, exactly as lifelines counts ties
//! between events and censoring.
//!
//! Tests sit beside the code they check; two files hold the larger ones: `recovery_tests.rs`
//! (simulate from known parameters, refit, check that 95% intervals cover the truth 95% of the time,
//! the geometric limit, pooling) and `reference_tests.rs` (agreement with scipy and lifelines, from
//! `tests/fixtures/retention/reference.json`, which `tests/fixtures/retention/reference.py` writes).
//!
//! Everything here is a pure function of plain numbers: no clock, no I/O, no randomness, and every
//! transcendental function goes through `libm` so that a fit gives the same bits natively and in
//! WebAssembly. Nothing panics on data: impossible input is a [`RetentionError`], and data that
//! pins a parameter to the edge of its range is a flagged result.

pub mod alternatives;
pub mod data;
pub mod fit;
pub mod kaplan_meier;
pub mod pooling;
pub mod sbg;

#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod reference_tests;

pub use alternatives::{compare_models, fit_beta_discrete_weibull, fit_geometric, BetaDiscreteWeibullFit};
pub use alternatives::{BetaDiscreteWeibullParameters, GeometricFit, ModelComparison, RetentionModel};
pub use data::{RenewalAgeCounts, RenewalData};
pub use fit::{fit_sbg, Interval95, IntervalMethod, SbgFit};
pub use kaplan_meier::{kaplan_meier, KaplanMeierRow};
pub use pooling::{pool_segments, PooledRetention, PooledSegment, PoolingPrior, SegmentEstimate};
pub use sbg::{sbg_log_likelihood, SbgParameters};

/// Why retention could not be estimated from a segment's data, with what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum RetentionError {
    /// A row reported churners at renewal 0, which cannot happen: every subscription that churned
    /// began at least one billing period.
    ChurnAtRenewalZero { churned: u64 },
    /// A renewal age beyond what the fitting code accepts (it keeps one counter per age).
    RenewalAgeTooLarge { renewals: u32, limit: u32 },
    /// A survivor curve went up from one renewal to the next.
    SurvivorsIncrease { renewals: u32, survivors_before: u64, survivors_after: u64 },
    /// The counts add up to more than 2^64 subscribers.
    CountOverflow,
    /// Alpha or beta given by a caller was not a positive finite number.
    InvalidParameters { alpha: f64, beta: f64 },
    /// Nobody in the segment reached a renewal: there is nothing to estimate retention from.
    NoSubscribersAtRisk,
    /// Nobody churned, so the churn rate has no maximum-likelihood estimate (it would be zero).
    NoChurners { subscribers_at_risk: u64 },
    /// Everyone observed at the first renewal churned there, so the churn rate would be one.
    EveryoneChurnedAtFirstRenewal { churners: u64 },
    /// The held-out comparison needs enough distinct renewal ages to fit on some and test on others.
    TooFewRenewalAgesToCompare { oldest_renewal_age: u32, needed: u32 },
    /// One segment of several could not be used; the inner error says why.
    Segment { index: usize, error: Box<RetentionError> },
}

impl std::fmt::Display for RetentionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RetentionError::ChurnAtRenewalZero { churned } => write!(
                f,
                "{churned} subscribers are counted as churned at renewal 0; a churn happens at renewal 1 or \
                 later (the number of billing periods the subscription began). Count a subscription that \
                 ended in its first period as churned at renewal 1."
            ),
            RetentionError::RenewalAgeTooLarge { renewals, limit } => write!(
                f,
                "a renewal age of {renewals} is beyond the {limit} renewals this model accepts. Check that \
                 ages are counted in billing periods, not in days or minutes."
            ),
            RetentionError::SurvivorsIncrease { renewals, survivors_before, survivors_after } => write!(
                f,
                "the survivor curve goes up from {survivors_before} to {survivors_after} at renewal {renewals}; \
                 a cohort can only shrink. Give survivors of one cohort, not active counts of a changing group."
            ),
            RetentionError::CountOverflow => {
                write!(f, "the subscriber counts add up to more than 2^64. Check the counts for a wrapped number.")
            }
            RetentionError::InvalidParameters { alpha, beta } => {
                write!(f, "alpha = {alpha} and beta = {beta}: both must be positive finite numbers.")
            }
            RetentionError::NoSubscribersAtRisk => write!(
                f,
                "no subscriber in this segment has reached a renewal yet, so there is nothing to estimate \
                 retention from. Use data that reaches further, or pool the segment with others."
            ),
            RetentionError::NoChurners { subscribers_at_risk } => write!(
                f,
                "none of the {subscribers_at_risk} subscribers observed at a renewal churned, so the churn rate \
                 cannot be estimated on its own (its best estimate would be zero). Pool the segment with \
                 others, or wait for more history."
            ),
            RetentionError::EveryoneChurnedAtFirstRenewal { churners } => write!(
                f,
                "all {churners} subscribers observed at the first renewal churned there, so the churn rate \
                 cannot be estimated on its own (its best estimate would be one). Check that renewals are \
                 counted from the start of each subscription, or pool the segment with others."
            ),
            RetentionError::TooFewRenewalAgesToCompare { oldest_renewal_age, needed } => write!(
                f,
                "the oldest subscriber here has passed {oldest_renewal_age} renewals; comparing models on held-out \
                 renewals needs subscribers observed to at least {needed}."
            ),
            RetentionError::Segment { index, error } => write!(f, "segment {}: {error}", index + 1),
        }
    }
}

impl std::error::Error for RetentionError {}
