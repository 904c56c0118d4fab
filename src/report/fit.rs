//! The calibrated twin as a report: the documented JSON of `subtwin fit` (README, "Calibrating the
//! twin") and the tables and sentences a person reads.
//!
//! Per segment: the retention model the twin uses (the pooled shifted-beta-geometric estimate),
//! the segment's own maximum-likelihood fit and intervals beside it, how far pooling moved it, the
//! held-out comparison with the geometric and beta-discrete-Weibull models, the survival curve at
//! least twelve renewals past the oldest observed age, and Kaplan-Meier with its 95% log-log band
//! over the observed ages. Per segment too, acquisition: direct starts and trial starts with their
//! trends, and trial conversion.

use serde::{Deserialize, Serialize};

use super::{problems_csv, problems_table, Fact, InputReport, Table, TablesView, TitledTable};
use crate::backtest::BacktestReport;
use crate::import::values::format_instant;
use crate::import::{BillingInterval, IntervalUnit, Problem};
use crate::model::acquisition::{ConversionFit, PoissonTrendFit};
use crate::model::calibrate::{Calibration, Movements, SegmentCalibration};
use crate::model::price::Estimate;
use crate::model::retention::{Interval95, IntervalMethod, RetentionModel};
use crate::money::{Currency, Minor};

/// How many renewals past the oldest observed age the survival curve reaches.
pub const SURVIVAL_BEYOND_OBSERVED: u32 = 12;

/// The conventions behind the fit's numbers.
pub const CONVENTIONS: &str = "Retention is counted in renewals of each segment's own billing interval \
(months for monthly plans, years for annual ones): S(t) is the share of new subscribers still paying after t \
renewals. A subscription that ends during or at the end of its t-th period churned at renewal t; one still \
paying, or that switched plans, is censored at the renewals it has passed. The twin uses each segment's \
shifted-beta-geometric estimate after partial pooling with the other segments; the segment's own \
maximum-likelihood fit and its 95% intervals are shown beside it. Acquisition is Poisson per month with a \
log-linear trend (and a month-of-year effect given two years of data), on the last 36 months.";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Always `fit`.
    pub kind: String,
    /// What the fit was made from: `subscriptions`, `snapshot` or `cohorts`.
    pub source: String,
    /// The instant fitted at (`null` for a table without dates).
    pub as_of: Option<String>,
    /// The first month a forecast from this fit covers (`YYYY-MM`).
    pub origin: Option<String>,
    /// The analysis currency (lower-case ISO code) of every amount; `null` for a table without one.
    pub currency: Option<String>,
    pub segments: Vec<SegmentFitReport>,
    /// The shared prior of partial pooling, on the logit scale; `null` with one segment.
    pub pooling: Option<PoolingReport>,
    pub acquisition: Vec<AcquisitionReport>,
    /// Price changes found in the history, with the response to them; empty when none was found
    /// (`notes` says so).
    pub price_response: Vec<PriceResponseReport>,
    /// How well the twin would have predicted the recent past (`null` for a table without dates or a
    /// history too short; `notes` says why).
    pub backtest: Option<BacktestReport>,
    pub notes: Vec<String>,
    pub inputs: Vec<InputReport>,
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentFitReport {
    pub name: String,
    /// The billing interval whose renewals the clock counts: `month`, `year`, `3 months`, ...
    pub interval: String,
    /// Subscribers in the segment's data, and how many churned.
    pub n: u64,
    pub churned: u64,
    /// The model that scored best on held-out renewals: `sbg`, `geometric` or `bdw`
    /// (beta-discrete-Weibull); `sbg` when there were too few renewal ages to compare.
    pub model: String,
    /// What the twin uses: the shifted-beta-geometric estimate after pooling (`null` when no
    /// segment has a churner).
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    /// 95% intervals of the segment's own fit; an unbounded end is `null`.
    pub alpha_interval: [Option<f64>; 2],
    pub beta_interval: [Option<f64>; 2],
    /// `hessian` (many churners) or `profile` (few, or near a limit of the model).
    pub interval_method: Option<String>,
    /// The segment's own maximised log-likelihood.
    pub loglik: Option<f64>,
    /// The segment's own maximum-likelihood fit.
    pub unpooled: Option<UnpooledReport>,
    /// How far partial pooling moved the estimate.
    pub pooled_from: Option<PulledReport>,
    /// The chosen beta-discrete-Weibull's shape `c` (`null` unless `model` is `bdw`).
    pub c: Option<f64>,
    pub models_compared: Vec<ModelScoreReport>,
    /// S(1), S(2), ...: the share still subscribed after each renewal, under the twin's estimate.
    #[serde(deserialize_with = "crate::nonfinite::vec_or_nan")]
    pub survival: Vec<f64>,
    /// The share still subscribed a year after starting (12 monthly renewals, 1 yearly, 52 weekly), for
    /// comparing segments with different intervals; `null` for intervals that do not divide a year.
    pub survival_after_a_year: Option<f64>,
    pub kaplan_meier: Vec<KaplanMeierReport>,
    /// Retention by start month: each cohort's size and the share still subscribed after each
    /// renewal, over the ages at least nine tenths of it was observed to (empty for a table without dates).
    pub cohorts: Vec<CohortReport>,
    /// The retention in plain words.
    pub summary: String,
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnpooledReport {
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub alpha: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub beta: f64,
    /// Alpha and beta ran off together: one constant churn rate fits as well.
    pub geometric_limit: bool,
    /// Alpha and beta ran to zero together: some leave at once, the rest never.
    pub polarised_limit: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PulledReport {
    /// The segment's own estimate (`null` fields when it has none).
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    /// Pooled minus own, on the logit scale of the mean churn and of the polarisation.
    pub logit_mean_churn_shift: Option<f64>,
    pub logit_polarisation_shift: Option<f64>,
    /// S(12) under the segment's own estimate and after pooling.
    pub survival_12_own: Option<f64>,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub survival_12_pooled: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelScoreReport {
    pub model: String,
    /// Log-likelihood of the held-out renewals (ages after `trained_to`).
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub held_out_loglik: f64,
    pub trained_to: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortReport {
    /// The start month, `YYYY-MM`.
    pub month: String,
    pub size: u64,
    #[serde(deserialize_with = "crate::nonfinite::vec_or_nan")]
    pub retained: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KaplanMeierReport {
    pub t: u32,
    pub at_risk: u64,
    pub churned: u64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub survival: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub lower: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub upper: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolingReport {
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub centre_logit_mean_churn: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub centre_logit_polarisation: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub spread_logit_mean_churn: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub spread_logit_polarisation: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcquisitionReport {
    pub segment: String,
    /// Paid starts without a trial (returning customers and moves in from other segments included).
    pub direct: Option<StreamReport>,
    pub trials: Option<StreamReport>,
    pub trial_conversion: Option<ConversionReport>,
    /// Expansion and contraction MRR per month as a share of the month before's MRR, and
    /// reactivations per month, over the last 12 whole months, with 95% intervals. Reported; the
    /// simulation keeps each subscriber's MRR as it is.
    pub movements: Option<Movements>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamReport {
    /// Expected arrivals in the first forecast month (its month-of-year effect included).
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub next_month: f64,
    /// Growth per month (0.03 is 3%), with its 95% interval.
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub growth_per_month: f64,
    #[serde(deserialize_with = "crate::nonfinite::array_or_nan")]
    pub growth_interval: [f64; 2],
    /// The fitted log-linear model: log rate at the origin, slope per month, their covariance.
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub intercept: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub slope: f64,
    #[serde(deserialize_with = "crate::nonfinite::matrix_or_nan")]
    pub covariance: [[f64; 2]; 2],
    /// Multipliers by calendar month (January first), when a month-of-year effect was fitted.
    #[serde(deserialize_with = "crate::nonfinite::optional_array_or_nan")]
    pub seasonal: Option<[f64; 12]>,
    pub months_used: u32,
    pub arrivals: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversionReport {
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub rate: f64,
    /// The beta-binomial's parameters: each month's conversion rate is Beta(a, b).
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub a: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub b: f64,
    pub trials: u64,
    pub converted: u64,
    /// The months agree with one binomial rate.
    pub binomial_limit: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceResponseReport {
    pub segment: String,
    /// The first month new subscribers paid the new price.
    pub month: String,
    /// List prices per unit and billing interval, in major units.
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub old_price: f64,
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub new_price: f64,
    /// New subscribers at each price in the 12 months before and after the change.
    pub old_cohort: u64,
    pub new_cohort: u64,
    /// Churn per renewal compared over the first `renewals_compared` renewals of each group.
    pub renewals_compared: u32,
    pub old_churners: u64,
    pub new_churners: u64,
    /// e in h' = h x (p_new / p_old)^e, with its 95% interval; `null` without churners on both sides.
    pub churn_elasticity: Option<Estimate>,
    /// n in lambda' = lambda x (p_new / p_old)^(-n), with its 95% interval; `null` without three months
    /// on each side of the change.
    pub acquisition_elasticity: Option<Estimate>,
}

/// Where the fit came from, for the report.
pub struct FitSource<'a> {
    /// `subscriptions`, `snapshot` or `cohorts`.
    pub kind: &'a str,
    pub inputs: Vec<InputReport>,
    pub problems: Vec<Problem>,
    pub notes: Vec<String>,
    /// The analysis currency, for prices.
    pub currency: Option<Currency>,
}

/// The note of a fit made from a table without dates.
pub const NO_DATES_NOTE: &str = "The table has no dates: retention is fitted, acquisition and price response are \
not (they need a subscriptions export).";

/// The note of a fit whose history holds no price change.
pub const NO_PRICE_CHANGE_NOTE: &str = "No price change was found in the history (new subscribers of a segment \
paying one list price and, from some month on, another): scenarios will ask for the price elasticities as \
assumptions.";

/// The note of a fit that found price changes.
pub const PRICE_RESPONSE_NOTE: &str = "Price responses compare cohorts that started before and after a change: \
anything else that changed at the same time is in the estimate too.";

pub fn fit_report(calibration: &Calibration, source: FitSource<'_>) -> FitReport {
    let mut notes = source.notes;
    notes.push(
        if calibration.as_of.is_none() {
            NO_DATES_NOTE
        } else if calibration.price_responses.is_empty() {
            NO_PRICE_CHANGE_NOTE
        } else {
            PRICE_RESPONSE_NOTE
        }
        .into(),
    );
    let major = |amount: Minor| match &source.currency {
        Some(currency) => amount.to_major_f64(currency),
        None => amount.round_to_minor().map_or(f64::NAN, |units| units as f64),
    };
    let price_response = calibration
        .price_responses
        .iter()
        .map(|r| PriceResponseReport {
            segment: calibration.segments.get(r.segment).map(|s| s.name.clone()).unwrap_or_default(),
            month: r.month.label(),
            old_price: major(r.old_price),
            new_price: major(r.new_price),
            old_cohort: r.old_cohort,
            new_cohort: r.new_cohort,
            renewals_compared: r.renewals_compared,
            old_churners: r.old_churners,
            new_churners: r.new_churners,
            churn_elasticity: r.churn_elasticity,
            acquisition_elasticity: r.acquisition_elasticity,
        })
        .collect();
    FitReport {
        kind: "fit".into(),
        source: source.kind.into(),
        as_of: calibration.as_of.map(format_instant),
        origin: calibration.origin.map(|m| m.label()),
        currency: source.currency.as_ref().map(|c| c.code.clone()),
        segments: calibration.segments.iter().map(segment_report).collect(),
        pooling: calibration.prior.map(|p| PoolingReport {
            centre_logit_mean_churn: p.centre_logit_mean_churn,
            centre_logit_polarisation: p.centre_logit_polarisation,
            spread_logit_mean_churn: p.spread_logit_mean_churn,
            spread_logit_polarisation: p.spread_logit_polarisation,
        }),
        acquisition: match calibration.origin {
            Some(origin) => calibration.segments.iter().map(|s| acquisition_report(s, origin.month())).collect(),
            None => Vec::new(),
        },
        price_response,
        backtest: None,
        notes,
        inputs: source.inputs,
        problems: source.problems,
    }
}

fn interval_pair(interval: &Interval95) -> [Option<f64>; 2] {
    [interval.lower, interval.upper]
}

fn model_name(model: RetentionModel) -> &'static str {
    match model {
        RetentionModel::Geometric => "geometric",
        RetentionModel::ShiftedBetaGeometric => "sbg",
        RetentionModel::BetaDiscreteWeibull => "bdw",
    }
}

fn segment_report(segment: &SegmentCalibration) -> SegmentFitReport {
    let parameters = segment.twin_parameters();
    let own = segment.own.as_ref().ok();
    let horizon = segment.data.oldest_renewal_age() + SURVIVAL_BEYOND_OBSERVED;
    let after_a_year = renewals_in_a_year(segment.interval).and_then(|t| parameters.map(|p| p.survival(t)));
    let survival: Vec<f64> = match parameters {
        Some(p) => (1..=horizon).map(|t| p.survival(t)).collect(),
        None => Vec::new(),
    };
    let mut warnings: Vec<String> = own.map(|fit| fit.warnings()).unwrap_or_default();
    if let Err(error) = &segment.own {
        warnings.push(format!("No fit of this segment's own: {error}"));
    }
    let comparison = segment.comparison.as_ref();
    let bdw_c = comparison
        .filter(|c| c.chosen == RetentionModel::BetaDiscreteWeibull)
        .and_then(|_| crate::model::retention::fit_beta_discrete_weibull(&segment.data).ok())
        .map(|fit| fit.parameters.shape);
    SegmentFitReport {
        name: segment.name.clone(),
        interval: segment.interval.label(),
        n: segment.data.subscribers(),
        churned: segment.data.churners(),
        model: comparison.map_or("sbg", |c| model_name(c.chosen)).into(),
        alpha: parameters.map(|p| p.alpha),
        beta: parameters.map(|p| p.beta),
        alpha_interval: own.map_or([None, None], |fit| interval_pair(&fit.alpha_interval)),
        beta_interval: own.map_or([None, None], |fit| interval_pair(&fit.beta_interval)),
        interval_method: own.map(|fit| {
            match fit.interval_method {
                IntervalMethod::WaldOnLogScale => "hessian",
                IntervalMethod::ProfileLikelihood => "profile",
            }
            .into()
        }),
        loglik: own.map(|fit| fit.log_likelihood),
        unpooled: own.map(|fit| UnpooledReport {
            alpha: fit.parameters.alpha,
            beta: fit.parameters.beta,
            geometric_limit: fit.geometric_limit,
            polarised_limit: fit.polarised_limit,
        }),
        pooled_from: segment.pooled.map(|p| PulledReport {
            alpha: p.unpooled.map(|u| u.parameters.alpha),
            beta: p.unpooled.map(|u| u.parameters.beta),
            logit_mean_churn_shift: p.pull_logit_mean_churn(),
            logit_polarisation_shift: p.pull_logit_polarisation(),
            survival_12_own: p.survival_at_horizon_unpooled,
            survival_12_pooled: p.survival_at_horizon_pooled,
        }),
        c: bdw_c,
        models_compared: comparison
            .map(|c| {
                [
                    (RetentionModel::Geometric, c.geometric_held_out_log_likelihood),
                    (RetentionModel::ShiftedBetaGeometric, c.sbg_held_out_log_likelihood),
                    (RetentionModel::BetaDiscreteWeibull, c.beta_discrete_weibull_held_out_log_likelihood),
                ]
                .into_iter()
                .map(|(model, loglik)| ModelScoreReport {
                    model: model_name(model).into(),
                    held_out_loglik: loglik,
                    trained_to: c.training_cutoff_renewals,
                })
                .collect()
            })
            .unwrap_or_default(),
        summary: plain_summary(&segment.name, segment.interval, &survival, after_a_year),
        survival_after_a_year: after_a_year,
        survival,
        kaplan_meier: segment
            .kaplan_meier
            .iter()
            .map(|row| KaplanMeierReport {
                t: row.renewals,
                at_risk: row.at_risk,
                churned: row.churned,
                survival: row.survival,
                lower: row.survival_lower_95,
                upper: row.survival_upper_95,
            })
            .collect(),
        cohorts: segment
            .cohorts
            .iter()
            .map(|c| CohortReport { month: c.month.label(), size: c.size, retained: c.retained.clone() })
            .collect(),
        warnings,
    }
}

/// How many renewals of an interval make a year, when a whole number do.
fn renewals_in_a_year(interval: BillingInterval) -> Option<u32> {
    let per_year: u32 = match interval.unit {
        IntervalUnit::Month => 12,
        IntervalUnit::Year => 1,
        IntervalUnit::Week => 52,
        IntervalUnit::Day => 365,
    };
    let count = interval.count.max(1);
    (per_year.is_multiple_of(count) && per_year >= count).then_some(per_year / count)
}

/// `t` renewals of `interval` as a duration: "7 months", "1 year", "6 weeks".
pub fn renewals_in_words(interval: BillingInterval, t: u32) -> String {
    let count = t * interval.count.max(1);
    let word = match interval.unit {
        IntervalUnit::Day => "day",
        IntervalUnit::Week => "week",
        IntervalUnit::Month => "month",
        IntervalUnit::Year => "year",
    };
    format!("{count} {word}{}", if count == 1 { "" } else { "s" })
}

/// "Half of new Starter (month) subscribers are still here after 7 months."
fn plain_summary(name: &str, interval: BillingInterval, survival: &[f64], after_a_year: Option<f64>) -> String {
    let unit = |t: u32| renewals_in_words(interval, t);
    if survival.is_empty() {
        return format!("Too little data to say how long new {name} subscribers stay.");
    }
    let still_half = survival.iter().take_while(|&&s| s >= 0.5).count() as u32;
    let after_12 = after_a_year.map(|s| format!(" A year after starting, {:.0}% are still here.", 100.0 * s));
    match still_half {
        0 => format!(
            "Fewer than half of new {name} subscribers make their first renewal.{}",
            after_12.unwrap_or_default()
        ),
        n if n as usize == survival.len() => format!(
            "More than half of new {name} subscribers are still here after {}.{}",
            unit(n),
            after_12.unwrap_or_default()
        ),
        n => {
            format!("Half of new {name} subscribers are still here after {}.{}", unit(n), after_12.unwrap_or_default())
        }
    }
}

fn stream_report(fit: &PoissonTrendFit, origin_month: u8) -> StreamReport {
    let se = libm::sqrt(fit.covariance[1][1].max(0.0));
    StreamReport {
        next_month: fit.expected(0, origin_month),
        growth_per_month: libm::expm1(fit.slope_per_month),
        growth_interval: [
            libm::expm1(fit.slope_per_month - 1.959_963_984_540_054 * se),
            libm::expm1(fit.slope_per_month + 1.959_963_984_540_054 * se),
        ],
        intercept: fit.intercept,
        slope: fit.slope_per_month,
        covariance: fit.covariance,
        seasonal: fit.seasonal_fitted.then(|| fit.seasonal.map(libm::exp)),
        months_used: fit.months_used,
        arrivals: fit.arrivals,
    }
}

fn conversion_report(fit: &ConversionFit) -> ConversionReport {
    ConversionReport {
        rate: fit.mean(),
        a: fit.a,
        b: fit.b,
        trials: fit.trials,
        converted: fit.converted,
        binomial_limit: fit.binomial_limit,
    }
}

/// `origin_month`: the calendar month (1 to 12) of the first forecast month.
fn acquisition_report(segment: &SegmentCalibration, origin_month: u8) -> AcquisitionReport {
    AcquisitionReport {
        segment: segment.name.clone(),
        direct: segment.direct.as_ref().map(|fit| stream_report(fit, origin_month)),
        trials: segment.trials.as_ref().map(|fit| stream_report(fit, origin_month)),
        trial_conversion: segment.conversion.as_ref().map(conversion_report),
        movements: segment.movements,
    }
}

/// The report as the command prints it: compact JSON, one line. Numbers that are not finite (none
/// should be) are written as `null` by serde_json.
pub fn to_json(report: &FitReport) -> String {
    serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

impl FitReport {
    /// Reads back what [`to_json`] wrote (the page's main thread does, from the worker's JSON).
    pub fn from_json(text: &str) -> Result<FitReport, String> {
        let report: FitReport = serde_json::from_str(text).map_err(|e| format!("unreadable fit report: {e}"))?;
        if report.kind != "fit" {
            return Err(format!("this is not a fit report (its kind is `{}`)", report.kind));
        }
        Ok(report)
    }
}

/// What the command prints and the page shows of a fit.
pub fn fit_view(report: &FitReport) -> TablesView {
    let mut facts = vec![Fact {
        label: "Fitted".into(),
        value: format!("{} segments, from a {} table", report.segments.len(), report.source),
    }];
    if let Some(as_of) = &report.as_of {
        facts.push(Fact { label: "As of".into(), value: as_of.clone() });
    }
    for note in &report.notes {
        facts.push(Fact { label: "Note".into(), value: note.clone() });
    }
    for segment in &report.segments {
        let mut text = segment.summary.clone();
        for warning in &segment.warnings {
            text.push(' ');
            text.push_str(warning);
        }
        facts.push(Fact { label: segment.name.clone(), value: text });
    }
    let mut tables = vec![TitledTable { title: "Retention".into(), table: retention_table(report) }];
    if let Some(backtest) = &report.backtest {
        let (backtest_facts, table) = backtest_view(backtest);
        facts.extend(backtest_facts);
        tables.push(table);
    }
    if !report.acquisition.is_empty() {
        tables.push(TitledTable { title: "Acquisition".into(), table: acquisition_table(report) });
    }
    TablesView {
        facts,
        conventions: CONVENTIONS.to_owned(),
        tables,
        problems: problems_table(&report.problems),
        problems_csv: problems_csv(&report.problems),
    }
}

/// Each segment's retention parameters: the twin's (pooled) and the segment's own 95% intervals.
pub fn retention_table(report: &FitReport) -> Table {
    let number = |x: Option<f64>| x.map_or("-".to_owned(), |v| finite(v, |v| format!("{v:.3}")));
    let interval = |pair: &[Option<f64>; 2]| {
        format!(
            "{} to {}",
            pair[0].map_or("0".into(), |v| format!("{v:.3}")),
            pair[1].map_or("∞".into(), |v| format!("{v:.3}"))
        )
    };
    Table {
        columns: [
            "Segment",
            "Subscribers",
            "Churned",
            "Model",
            "Alpha",
            "Beta",
            "Alpha (own, 95%)",
            "Beta (own, 95%)",
            "After a year",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect(),
        rows: report
            .segments
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.n.to_string(),
                    s.churned.to_string(),
                    s.model.clone(),
                    number(s.alpha),
                    number(s.beta),
                    interval(&s.alpha_interval),
                    interval(&s.beta_interval),
                    s.survival_after_a_year.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v)),
                ]
            })
            .collect(),
    }
}

/// A number as `text` writes it, or `-` when it is not finite (a JSON report read back holds NaN
/// where the number was unbounded).
pub fn finite(value: f64, text: impl FnOnce(f64) -> String) -> String {
    if value.is_finite() {
        text(value)
    } else {
        "-".into()
    }
}

/// Each segment's acquisition: direct starts and their trend, trial starts and conversion.
pub fn acquisition_table(report: &FitReport) -> Table {
    Table {
        columns: ["Segment", "Direct starts next month", "Growth a month", "Trials next month", "Trial conversion"]
            .iter()
            .map(|c| c.to_string())
            .collect(),
        rows: report
            .acquisition
            .iter()
            .map(|a| {
                vec![
                    a.segment.clone(),
                    a.direct.as_ref().map_or("-".into(), |d| finite(d.next_month, |v| format!("{v:.1}"))),
                    a.direct.as_ref().map_or("-".into(), |d| {
                        let growth = |share: f64| finite(share, |v| format!("{:+.1}%", 100.0 * v));
                        format!(
                            "{} ({} to {})",
                            growth(d.growth_per_month),
                            growth(d.growth_interval[0]),
                            growth(d.growth_interval[1])
                        )
                    }),
                    a.trials
                        .as_ref()
                        .filter(|t| t.arrivals > 0)
                        .map_or("-".into(), |t| finite(t.next_month, |v| format!("{v:.1}"))),
                    a.trial_conversion.as_ref().map_or("-".into(), |c| {
                        format!(
                            "{} ({} of {})",
                            finite(c.rate, |v| format!("{:.1}%", 100.0 * v)),
                            c.converted,
                            c.trials
                        )
                    }),
                ]
            })
            .collect(),
    }
}

/// The backtest's verdict and notes as facts, and its scores per series as a table.
pub fn backtest_view(backtest: &BacktestReport) -> (Vec<Fact>, TitledTable) {
    let mut facts = vec![Fact { label: "Backtest".into(), value: backtest.verdict.clone() }];
    for note in &backtest.notes {
        facts.push(Fact { label: "Backtest note".into(), value: note.clone() });
    }
    let percent = |x: f64| finite(x, |v| format!("{:.1}%", 100.0 * v));
    let row = |name: &str, s: &crate::backtest::Scores| {
        vec![
            name.to_owned(),
            s.months.to_string(),
            percent(s.mape.mrr),
            percent(s.coverage.mrr),
            percent(s.baselines.last_value.mrr),
            percent(s.baselines.linear_trend.mrr),
            percent(s.baselines.constant_churn.mrr),
            percent(s.mape.active),
            percent(s.coverage.active),
        ]
    };
    let mut rows: Vec<Vec<String>> = backtest.by_segment.iter().map(|s| row(&s.series, &s.scores)).collect();
    rows.push(row("Total", &backtest.total));
    let table = TitledTable {
        title: format!(
            "Backtest from {} (MAPE of the median; band = share inside the 10-90% band)",
            backtest.cutoffs.join(", ")
        ),
        table: Table {
            columns: [
                "Series",
                "Months",
                "MRR MAPE",
                "MRR band",
                "Last value",
                "Trend",
                "Constant churn",
                "Subscribers MAPE",
                "Subscribers band",
            ]
            .iter()
            .map(|c| c.to_string())
            .collect(),
            rows,
        },
    };
    (facts, table)
}
