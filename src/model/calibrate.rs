//! Calibration: every model of the twin fitted to a rebuilt history, segment by segment, on what
//! was known at one instant (the as-of, or a backtest's cutoff).
//!
//! The history's paid spans ([`crate::history::paid_spans`]) are the one source: renewal counts
//! for retention ([`super::renewals`]), monthly arrivals for acquisition, ended trials for
//! conversion, the MRR that new subscribers started with, and the movements of MRR within
//! subscriptions. Nothing after the instant is seen: `paid_spans` treats later events as not yet
//! happened, so a refit at a cutoff is an honest one.

use std::collections::BTreeMap;

use crate::history::{paid_spans, PaidSpans, SpanEnding, TrialEvent};
use crate::import::values::MonthIndex;
use crate::import::{BillingInterval, Instant, Subscription};
use crate::money::Minor;

use super::acquisition::{fit_conversion, fit_poisson_trend, ConversionFit, MonthlyCounts, PoissonTrendFit};
use super::price::{price_responses, PriceResponse};
use super::renewals::{cohort_retention, renewal_counts, renewal_instant, renewals_by, CohortRetention};
use super::retention::{
    compare_models, fit_sbg, kaplan_meier, pool_segments, KaplanMeierRow, ModelComparison, PooledSegment, PoolingPrior,
    RenewalData, RetentionError, SbgFit, SbgParameters,
};

/// How far back the MRR of new subscribers is sampled from: the prices sold lately.
pub const NEW_MRR_MONTHS: i32 = 12;

/// One segment's fitted models.
#[derive(Clone, Debug)]
pub struct SegmentCalibration {
    pub name: String,
    pub interval: BillingInterval,
    pub data: RenewalData,
    /// The segment's own sBG fit, or why there is none.
    pub own: Result<SbgFit, RetentionError>,
    /// The estimate after partial pooling with the other segments (`None` when pooling failed for
    /// every segment, which means no segment has a churner).
    pub pooled: Option<PooledSegment>,
    pub comparison: Option<ModelComparison>,
    pub kaplan_meier: Vec<KaplanMeierRow>,
    /// Direct paid starts (no trial; returning customers and moves in from other segments included)
    /// per month.
    pub direct: Option<PoissonTrendFit>,
    /// Trial starts per month.
    pub trials: Option<PoissonTrendFit>,
    pub conversion: Option<ConversionFit>,
    /// The MRR new subscribers started with in the last [`NEW_MRR_MONTHS`] (all time when none
    /// started then): distinct amounts with their counts.
    pub new_mrr: Vec<(Minor, u64)>,
    /// Subscribers paid-active at the instant: (renewals survived, month of the next renewal, MRR).
    pub active: Vec<ActiveSubscriber>,
    /// Retention by start month (empty for a table without dates).
    pub cohorts: Vec<CohortRetention>,
    /// MRR moving up and down among existing subscribers, and returning customers, per month over
    /// the last [`MOVEMENT_MONTHS`] whole months (`None` for a table without dates).
    pub movements: Option<Movements>,
}

/// How many whole months the movement rates are averaged over.
pub const MOVEMENT_MONTHS: usize = 12;

/// A monthly rate: its mean over the months, and a 95% interval for that mean (a t-interval over
/// the months, so months that differ widen it).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonthlyRate {
    #[serde(deserialize_with = "crate::nonfinite::f64_or_nan")]
    pub mean: f64,
    #[serde(deserialize_with = "crate::nonfinite::array_or_nan")]
    pub interval: [f64; 2],
    pub months: u32,
}

impl MonthlyRate {
    /// `None` for no months. A single month has no spread to go by: its interval is the value itself.
    pub fn of(values: &[f64]) -> Option<MonthlyRate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let half = if n > 1 {
            let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
            t_quantile_975(n - 1) * libm::sqrt(variance / n as f64)
        } else {
            f64::INFINITY
        };
        let interval = if half.is_finite() { [mean - half, mean + half] } else { [f64::NEG_INFINITY, f64::INFINITY] };
        // Every rate here (a share of MRR, a count) is at least 0.
        let interval = interval.map(|v| if v.is_finite() { v.max(0.0) } else { mean });
        Some(MonthlyRate { mean, interval, months: n as u32 })
    }
}

/// The 97.5% quantile of Student's t with `degrees` degrees of freedom (table to 30, then normal
/// with a correction): for the 95% interval of a mean over a few months.
fn t_quantile_975(degrees: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match degrees {
        0 => f64::INFINITY,
        d if d <= 30 => TABLE[d - 1],
        d => 1.959_964 + 2.4 / d as f64,
    }
}

/// A segment's movements of MRR within existing subscribers, and its reactivations.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Movements {
    /// Expansion MRR in a month over the MRR at the end of the month before.
    pub expansion: Option<MonthlyRate>,
    /// Contraction MRR likewise.
    pub contraction: Option<MonthlyRate>,
    /// Returning customers per month.
    pub reactivations: Option<MonthlyRate>,
}

impl SegmentCalibration {
    /// The estimate the twin uses: pooled, else the segment's own.
    pub fn twin_parameters(&self) -> Option<SbgParameters> {
        self.pooled.map(|p| p.pooled.parameters).or_else(|| self.own.as_ref().ok().map(|fit| fit.parameters))
    }
}

/// One subscriber paid-active at the calibration instant, where the simulation starts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActiveSubscriber {
    /// Renewals of its interval it has survived.
    pub renewals_survived: u32,
    /// The calendar month of its next renewal.
    pub next_renewal: MonthIndex,
    pub mrr: Minor,
}

/// Everything fitted at one instant.
#[derive(Clone, Debug)]
pub struct Calibration {
    /// The instant fitted at; `None` for a table without dates (snapshot or cohort table), which
    /// calibrates retention only.
    pub as_of: Option<Instant>,
    /// The first month after the as-of's month: where forecasts start.
    pub origin: Option<MonthIndex>,
    pub prior: Option<PoolingPrior>,
    pub segments: Vec<SegmentCalibration>,
    /// Past price changes and the response to them (segments index `segments`).
    pub price_responses: Vec<PriceResponse>,
}

/// Fits every model on the subscriptions as known at `as_of`.
pub fn calibrate(subscriptions: &[Subscription], as_of: Instant) -> Calibration {
    let spans = paid_spans(subscriptions, as_of);
    let mut calibration = calibrate_spans(&spans);
    calibration.price_responses = price_responses(subscriptions, &spans);
    if let Some(history) = crate::history::build(subscriptions, &crate::history::HistoryOptions { as_of: Some(as_of) })
    {
        for segment in &mut calibration.segments {
            segment.movements = movements(&history, &segment.name, None);
        }
    }
    calibration
}

/// A segment's movement rates over the last whole months of the history, up to `until` (a backtest's
/// cutoff) or all of them. Up to a cutoff, these are the months of the history built at the data's
/// end: the same as the history known at the cutoff showed, except where a subscription replaced
/// another across the cutoff, which reads as the data recorded it later.
pub fn movements(history: &crate::history::History, name: &str, until: Option<MonthIndex>) -> Option<Movements> {
    let index = history.segments.iter().position(|s| s == name)?;
    let whole: Vec<&crate::history::MonthHistory> =
        history.months.iter().filter(|m| !m.partial && until.is_none_or(|last| m.month <= last)).collect();
    let recent = &whole[whole.len().saturating_sub(MOVEMENT_MONTHS + 1)..];
    let (mut expansion, mut contraction, mut reactivations) = (Vec::new(), Vec::new(), Vec::new());
    for pair in recent.windows(2) {
        let (before, now) = (&pair[0].by_segment[index], &pair[1].by_segment[index]);
        let base = before.mrr.round_to_minor().unwrap_or(0) as f64;
        if base > 0.0 {
            let share = |amount: crate::money::Minor| amount.round_to_minor().unwrap_or(0) as f64 / base;
            expansion.push(share(now.expansion_mrr));
            contraction.push(share(now.contraction_mrr));
        }
        reactivations.push(now.reactivated as f64);
    }
    Some(Movements {
        expansion: MonthlyRate::of(&expansion),
        contraction: MonthlyRate::of(&contraction),
        reactivations: MonthlyRate::of(&reactivations),
    })
}

/// [`calibrate`] on spans already found.
pub fn calibrate_spans(spans: &PaidSpans) -> Calibration {
    let origin = MonthIndex::of(spans.as_of).next();
    let segments = spans
        .segments
        .iter()
        .zip(&spans.intervals)
        .zip(renewal_counts(spans))
        // Counts built from spans always pass the checks; a segment is never dropped, so an impossible
        // failure leaves it empty.
        .map(|((name, interval), rows)| (name.clone(), *interval, RenewalData::from_counts(&rows).unwrap_or_default()))
        .collect();
    let mut calibration = calibrate_retention(segments);
    calibration.as_of = Some(spans.as_of);
    calibration.origin = Some(origin);
    let arrivals = Arrivals::count(spans);
    let mut cohorts = cohort_retention(spans);
    for (segment, calibrated) in calibration.segments.iter_mut().enumerate() {
        calibrated.cohorts = std::mem::take(&mut cohorts[segment]);
        calibrated.direct = fit_poisson_trend(&arrivals.direct[segment]);
        calibrated.trials = fit_poisson_trend(&arrivals.trials[segment]);
        calibrated.conversion = fit_conversion(&arrivals.conversions[segment]);
        calibrated.new_mrr = new_mrr(spans, segment, origin);
        calibrated.active = active_subscribers(spans, segment);
    }
    calibration
}

/// Retention alone, for survival data without dates (a snapshot or cohort table): each segment's
/// name, billing interval and renewal counts.
pub fn calibrate_retention(segments: Vec<(String, BillingInterval, RenewalData)>) -> Calibration {
    let data: Vec<RenewalData> = segments.iter().map(|s| s.2.clone()).collect();
    let pooled = pool_segments(&data).ok();
    let calibrated = segments
        .into_iter()
        .enumerate()
        .map(|(index, (name, interval, data))| SegmentCalibration {
            name,
            interval,
            own: fit_sbg(&data),
            pooled: pooled.as_ref().and_then(|p| p.segments.get(index).copied()),
            comparison: compare_models(&data).ok(),
            kaplan_meier: kaplan_meier(&data),
            direct: None,
            trials: None,
            conversion: None,
            new_mrr: Vec::new(),
            active: Vec::new(),
            cohorts: Vec::new(),
            movements: None,
            data,
        })
        .collect();
    Calibration {
        as_of: None,
        origin: None,
        prior: pooled.and_then(|p| p.prior),
        segments: calibrated,
        price_responses: Vec::new(),
    }
}

/// Monthly arrivals per segment and stream, from the first month anything happened to the as-of's.
struct Arrivals {
    direct: Vec<MonthlyCounts>,
    trials: Vec<MonthlyCounts>,
    /// (trials ended, converted) per month.
    conversions: Vec<Vec<(u64, u64)>>,
}

impl Arrivals {
    fn count(spans: &PaidSpans) -> Arrivals {
        let segments = spans.segments.len();
        let last = MonthIndex::of(spans.as_of);
        let first = spans
            .spans
            .iter()
            .map(|s| s.signup)
            .chain(spans.trials.iter().map(|t| t.0))
            .map(MonthIndex::of)
            .min()
            .unwrap_or(last);
        let months = (last.0 - first.0 + 1).max(1) as usize;
        let slot = |at: Instant| (MonthIndex::of(at).0 - first.0).clamp(0, months as i32 - 1) as usize;
        let calendar_months: Vec<u8> = (0..months).map(|i| MonthIndex(first.0 + i as i32).month()).collect();
        let mut exposure = vec![1.0; months];
        let (start, end) = (last.start(), last.end());
        exposure[months - 1] = ((spans.as_of - start) as f64 / (end - start) as f64).clamp(1e-6, 1.0);
        let empty = MonthlyCounts { counts: vec![0; months], calendar_months, exposure };
        let mut direct = vec![empty.clone(); segments];
        let mut trials = vec![empty; segments];
        let mut conversions = vec![vec![(0u64, 0u64); months]; segments];
        for span in &spans.spans {
            if (!span.switched_in || span.moved_in) && !span.had_trial {
                direct[span.segment].counts[slot(span.start)] += 1;
            }
        }
        for &(at, segment, event) in &spans.trials {
            match event {
                TrialEvent::Started => trials[segment].counts[slot(at)] += 1,
                TrialEvent::Converted => {
                    conversions[segment][slot(at)].0 += 1;
                    conversions[segment][slot(at)].1 += 1;
                }
                TrialEvent::Lost => conversions[segment][slot(at)].0 += 1,
            }
        }
        Arrivals { direct, trials, conversions }
    }
}

/// The distinct MRR amounts new subscribers of a segment started with lately, with counts.
fn new_mrr(spans: &PaidSpans, segment: usize, origin: MonthIndex) -> Vec<(Minor, u64)> {
    let new: Vec<&crate::history::PaidSpan> =
        spans.spans.iter().filter(|s| s.segment == segment && (!s.switched_in || s.moved_in)).collect();
    let recent: Vec<&&crate::history::PaidSpan> =
        new.iter().filter(|s| MonthIndex::of(s.start).0 >= origin.0 - NEW_MRR_MONTHS).collect();
    let chosen: Vec<Minor> =
        if recent.is_empty() { new.iter().map(|s| s.mrr).collect() } else { recent.iter().map(|s| s.mrr).collect() };
    let mut counts: BTreeMap<Minor, u64> = BTreeMap::new();
    for mrr in chosen {
        *counts.entry(mrr).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// The segment's subscribers paid-active at the as-of, with their place on the retention clock.
fn active_subscribers(spans: &PaidSpans, segment: usize) -> Vec<ActiveSubscriber> {
    let interval = spans.intervals[segment];
    spans
        .spans
        .iter()
        .filter(|s| s.segment == segment && s.ending == SpanEnding::Ongoing)
        .map(|s| {
            let survived = renewals_by(s.start, interval, spans.as_of, true);
            ActiveSubscriber {
                renewals_survived: survived,
                next_renewal: MonthIndex::of(renewal_instant(s.start, interval, survived + 1)),
                mrr: s.final_mrr,
            }
        })
        .collect()
}
