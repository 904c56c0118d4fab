//! Price response: what a past price change did to churn and to acquisition, where the history
//! holds one.
//!
//! A price change is found per segment when new subscribers paid one list price (per unit, per
//! interval) and, from some month on, another: at least [`MIN_COHORT`] new subscribers at each
//! price, the old price making at least four fifths of the segment's starts in the
//! [`WINDOW_MONTHS`] before the change and the new price four fifths of those after it.
//!
//! - **Churn elasticity** e (the price response's `h' = h x (p_new / p_old)^e`): the new-price cohorts'
//!   churn per renewal over their first K renewals (K: the ages they have reached, at most 12),
//!   against the churn of the old-price cohorts of the window before the change over the same
//!   first K renewals. `e = ln(h_new / h_old) / ln(p_new / p_old)`, with a 95% interval from the
//!   Poisson standard error of each log rate (sqrt(1 / churners)).
//! - **Acquisition elasticity** n (`lambda' = lambda x (p_new / p_old)^(-n)`): the segment's new
//!   starts per month in the window around the change, Poisson with a log-linear trend and a step
//!   at the change; `n = -step / ln(p_new / p_old)`, with its interval from the Fisher information
//!   widened by the counts' overdispersion (quasi-Poisson).
//!   No month-of-year effect: the window is too short to separate it from the step.
//!
//! Both compare cohorts that started at different times, so anything else that changed at the
//! same time is in the estimate too; the report says so. Where no change is found, scenarios ask
//! for the elasticities as assumptions.

use std::collections::BTreeMap;

use crate::history::PaidSpans;
use crate::import::values::MonthIndex;
use crate::import::Subscription;
use crate::money::Minor;

use super::acquisition::{invert, newton_poisson, overdispersion};
use super::renewals::{renewal_outcome, RenewalOutcome};
use super::special::NORMAL_QUANTILE_97_5;

/// New subscribers needed at each price.
pub const MIN_COHORT: u64 = 20;
/// Months before and after the change that are compared.
pub const WINDOW_MONTHS: i32 = 12;
/// The most renewals the churn comparison reaches.
pub const MAX_RENEWALS_COMPARED: u32 = 12;
/// The share of a period's starts that a price must make to be that period's price.
const DOMINANT_SHARE: f64 = 0.8;

/// An estimate with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimate {
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub value: f64,
    #[serde(deserialize_with = "crate::nonfinite::array_or_nan")]
    pub interval: [f64; 2],
}

/// A price change found in a segment, and the response to it.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceResponse {
    pub segment: usize,
    /// The first month new subscribers paid the new price.
    pub month: MonthIndex,
    /// List prices per unit and interval, before and after.
    pub old_price: Minor,
    pub new_price: Minor,
    /// New subscribers at each price in the windows compared.
    pub old_cohort: u64,
    pub new_cohort: u64,
    /// Renewals over which churn was compared, and the churners in each group.
    pub renewals_compared: u32,
    pub old_churners: u64,
    pub new_churners: u64,
    pub churn_elasticity: Option<Estimate>,
    pub acquisition_elasticity: Option<Estimate>,
}

/// Finds each segment's price change, if any, and estimates the response to it.
pub fn price_responses(subscriptions: &[Subscription], spans: &PaidSpans) -> Vec<PriceResponse> {
    (0..spans.segments.len()).filter_map(|segment| segment_response(subscriptions, spans, segment)).collect()
}

fn segment_response(subscriptions: &[Subscription], spans: &PaidSpans, segment: usize) -> Option<PriceResponse> {
    // New subscribers of the segment: (start month, unit price, span index).
    let new: Vec<(MonthIndex, Minor, usize)> = spans
        .spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.segment == segment && !s.switched_in)
        .map(|(index, s)| (MonthIndex::of(s.start), subscriptions[s.subscription].price_per_interval, index))
        .collect();
    let (month, old_price, new_price) = find_change(&new)?;
    let in_window = |m: MonthIndex, before: bool| {
        if before {
            m.0 < month.0 && m.0 >= month.0 - WINDOW_MONTHS
        } else {
            m.0 >= month.0 && m.0 < month.0 + WINDOW_MONTHS
        }
    };
    let old: Vec<usize> = new.iter().filter(|(m, p, _)| *p == old_price && in_window(*m, true)).map(|t| t.2).collect();
    let fresh: Vec<usize> =
        new.iter().filter(|(m, p, _)| *p == new_price && in_window(*m, false)).map(|t| t.2).collect();
    let minor = |price: Minor| price.round_to_minor().map_or(f64::NAN, |units| units as f64);
    let ratio = libm::log(minor(new_price) / minor(old_price));
    if !ratio.is_finite() || ratio == 0.0 {
        return None;
    }
    let interval = spans.intervals[segment];
    let outcome = |index: usize| {
        let span = &spans.spans[index];
        renewal_outcome(span.start, interval, span.ending, span.payment_failed, spans.as_of)
    };
    let outcomes_new: Vec<RenewalOutcome> = fresh.iter().map(|&i| outcome(i)).collect();
    let reached = outcomes_new
        .iter()
        .map(|o| match *o {
            RenewalOutcome::Churned(t) | RenewalOutcome::Censored(t) => t,
        })
        .max()
        .unwrap_or(0)
        .min(MAX_RENEWALS_COMPARED);
    let outcomes_old: Vec<RenewalOutcome> = old.iter().map(|&i| outcome(i)).collect();
    let (old_churners, old_at_risk) = churn_within(&outcomes_old, reached);
    let (new_churners, new_at_risk) = churn_within(&outcomes_new, reached);
    let churn_elasticity = (reached > 0 && old_churners > 0 && new_churners > 0).then(|| {
        let log_ratio =
            libm::log((new_churners as f64 / new_at_risk as f64) / (old_churners as f64 / old_at_risk as f64));
        let se = libm::sqrt(1.0 / old_churners as f64 + 1.0 / new_churners as f64);
        elasticity(log_ratio, se, ratio)
    });
    let acquisition_elasticity = step_in_arrivals(&new, month, spans.as_of).map(|(step, se)| {
        let estimate = elasticity(step, se, ratio);
        Estimate { value: -estimate.value, interval: [-estimate.interval[1], -estimate.interval[0]] }
    });
    Some(PriceResponse {
        segment,
        month,
        old_price,
        new_price,
        old_cohort: old.len() as u64,
        new_cohort: fresh.len() as u64,
        renewals_compared: reached,
        old_churners,
        new_churners,
        churn_elasticity,
        acquisition_elasticity,
    })
}

/// An effect on the log scale, with its standard error, per unit of log price.
fn elasticity(log_effect: f64, se: f64, log_price_ratio: f64) -> Estimate {
    let value = log_effect / log_price_ratio;
    let a = (log_effect - NORMAL_QUANTILE_97_5 * se) / log_price_ratio;
    let b = (log_effect + NORMAL_QUANTILE_97_5 * se) / log_price_ratio;
    Estimate { value, interval: [a.min(b), a.max(b)] }
}

/// Churners and subscriber-renewals at risk over renewals 1 to `renewals`.
fn churn_within(outcomes: &[RenewalOutcome], renewals: u32) -> (u64, u64) {
    let (mut churners, mut at_risk) = (0u64, 0u64);
    for outcome in outcomes {
        match *outcome {
            RenewalOutcome::Churned(t) if t <= renewals => {
                churners += 1;
                at_risk += u64::from(t);
            }
            RenewalOutcome::Churned(_) => at_risk += u64::from(renewals),
            RenewalOutcome::Censored(t) => at_risk += u64::from(t.min(renewals)),
        }
    }
    (churners, at_risk)
}

/// The month the segment's new subscribers switched from one price to another, and the two prices.
fn find_change(new: &[(MonthIndex, Minor, usize)]) -> Option<(MonthIndex, Minor, Minor)> {
    let mut by_price: BTreeMap<Minor, (u64, MonthIndex)> = BTreeMap::new();
    for &(month, price, _) in new {
        let entry = by_price.entry(price).or_insert((0, month));
        entry.0 += 1;
        entry.1 = entry.1.min(month);
    }
    let share_of = |price: Minor, from: i32, to: i32| {
        let window: Vec<&(MonthIndex, Minor, usize)> =
            new.iter().filter(|(m, _, _)| (from..to).contains(&m.0)).collect();
        if window.is_empty() {
            return 0.0;
        }
        window.iter().filter(|(_, p, _)| *p == price).count() as f64 / window.len() as f64
    };
    let mut best: Option<(u64, MonthIndex, Minor, Minor)> = None;
    for (&new_price, &(new_count, first)) in &by_price {
        for (&old_price, &(old_count, old_first)) in &by_price {
            if old_price == new_price || old_count < MIN_COHORT || new_count < MIN_COHORT || old_first >= first {
                continue;
            }
            let before = share_of(old_price, first.0 - WINDOW_MONTHS, first.0);
            let after = share_of(new_price, first.0, first.0 + WINDOW_MONTHS);
            if before >= DOMINANT_SHARE && after >= DOMINANT_SHARE {
                let weight = old_count.min(new_count);
                if best.is_none_or(|b| weight > b.0) {
                    best = Some((weight, first, old_price, new_price));
                }
            }
        }
    }
    best.map(|(_, month, old, new)| (month, old, new))
}

/// The step in monthly starts at `month`, on the log scale, with its standard error: Poisson with a
/// log-linear trend over the window around the change. `None` without three months on each side.
fn step_in_arrivals(new: &[(MonthIndex, Minor, usize)], month: MonthIndex, as_of: i64) -> Option<(f64, f64)> {
    let last = MonthIndex::of(as_of);
    let first_data = new.iter().map(|t| t.0).min()?;
    let from = (month.0 - WINDOW_MONTHS).max(first_data.0);
    let to = (month.0 + WINDOW_MONTHS - 1).min(last.0);
    if month.0 - from < 3 || to - month.0 + 1 < 3 {
        return None;
    }
    let mut counts = vec![0u64; (to - from + 1) as usize];
    for (m, _, _) in new {
        if (from..=to).contains(&m.0) {
            counts[(m.0 - from) as usize] += 1;
        }
    }
    let exposure_last = {
        let (start, end) = (last.start(), last.end());
        ((as_of - start) as f64 / (end - start) as f64).clamp(1e-6, 1.0)
    };
    let rows: Vec<(Vec<f64>, f64, f64)> = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let m = from + i as i32;
            let exposure = if m == last.0 { exposure_last } else { 1.0 };
            (vec![1.0, f64::from(m - month.0), f64::from(u8::from(m >= month.0))], count as f64, libm::log(exposure))
        })
        .collect();
    let total: f64 = counts.iter().sum::<u64>() as f64;
    let mut beta = vec![libm::log((total / counts.len() as f64).max(1e-3)), 0.0, 0.0];
    let information = newton_poisson(&rows, &mut beta)?;
    let covariance = invert(&information)?;
    let se = libm::sqrt(covariance[2][2].max(0.0) * overdispersion(&rows, &beta));
    (beta[2].is_finite() && se.is_finite()).then_some((beta[2], se))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_is_counted_over_the_same_first_renewals() {
        let outcomes = [
            RenewalOutcome::Churned(1),
            RenewalOutcome::Churned(3),
            RenewalOutcome::Churned(5),
            RenewalOutcome::Censored(2),
            RenewalOutcome::Censored(8),
        ];
        // Over renewals 1 to 3: churners at 1 and 3; at risk 1 + 3 + 3 (the one churning at 5) + 2 + 3.
        assert_eq!(churn_within(&outcomes, 3), (2, 12));
    }

    #[test]
    fn an_elasticity_is_the_log_effect_per_log_price_and_keeps_its_interval_ordered() {
        // Churn per renewal doubled when the price rose by half: e = ln 2 / ln 1.5 = 1.7095.
        let estimate = elasticity(libm::log(2.0), 0.1, libm::log(1.5));
        assert!((estimate.value - 1.709_511).abs() < 1e-6, "{estimate:?}");
        assert!(estimate.interval[0] < estimate.value && estimate.value < estimate.interval[1]);
        // A price cut flips the sign of the ratio; the interval stays ordered.
        let cut = elasticity(libm::log(2.0), 0.1, libm::log(0.5));
        assert!(cut.interval[0] < cut.value && cut.value < cut.interval[1], "{cut:?}");
    }

    #[test]
    fn a_drop_in_starts_at_a_price_rise_gives_the_acquisition_elasticity() {
        // 100 starts a month for a year at 40.00, then 80 a month at 50.00: the step is ln 0.8, and
        // n = -ln 0.8 / ln 1.25 = 1 exactly.
        let m = |i: i32| MonthIndex(24_300 + i);
        let mut new = Vec::new();
        for month in 0..24 {
            let (count, price) = if month < 12 { (100, 4000) } else { (80, 5000) };
            for _ in 0..count {
                new.push((m(month), Minor::from_integer(price), new.len()));
            }
        }
        let as_of = m(24).start() - 1;
        let (step, se) = step_in_arrivals(&new, m(12), as_of).expect("a step");
        assert!((step - libm::log(0.8)).abs() < 1e-6, "{step}");
        let n = -elasticity(step, se, libm::log(1.25)).value;
        assert!((n - 1.0).abs() < 1e-5, "{n}");
        // Counts this regular are less dispersed than Poisson: the standard error stays Poisson's,
        // sqrt(1/1200 + 1/960) for the two levels (the trend is estimated too, so a little more).
        assert!(se >= libm::sqrt(1.0 / 1200.0 + 1.0 / 960.0), "{se}");
    }

    #[test]
    fn a_change_needs_the_old_price_before_and_the_new_one_after() {
        let m = |i: i32| MonthIndex(24_300 + i);
        let price = |cents: i128| Minor::from_integer(cents);
        let mut new = Vec::new();
        for month in 0..24 {
            let p = if month < 12 { price(4900) } else { price(5900) };
            for k in 0..5 {
                new.push((m(month), p, new.len() + k));
            }
        }
        assert_eq!(find_change(&new), Some((m(12), price(4900), price(5900))));
        // Two prices sold side by side all along (two plans in one segment) are no change.
        let mixed: Vec<(MonthIndex, Minor, usize)> =
            (0..200).map(|i| (m(i as i32 / 8), if i % 2 == 0 { price(4900) } else { price(5900) }, i)).collect();
        assert_eq!(find_change(&mixed), None);
    }
}
