//! The calibrated twin as the page shows it: every sentence, table and cell of the page's "Twin"
//! section, built here from a [`FitReport`] so that the page formats no number.
//!
//! Per segment: the retention summary; the model and its parameters with their intervals, in plain
//! words; what the data taught the twin (how much data, how far pooling moved the segment, which
//! model predicted held-out renewals best, the response to a price change, trial conversion); what
//! the twin assumes (retention beyond the oldest observed renewal, acquisition's trend going on,
//! price elasticities that no price change measured); the warnings; and retention by start month
//! as a shaded table. For the business: the facts, the parameter and acquisition tables, and the
//! price response.

use serde::{Deserialize, Serialize};

use super::fit::{
    acquisition_table, finite, renewals_in_words, retention_table, FitReport, PriceResponseReport, SegmentFitReport,
    StreamReport, CONVENTIONS, NO_DATES_NOTE, NO_PRICE_CHANGE_NOTE, PRICE_RESPONSE_NOTE,
};
use super::{Fact, Table};
use crate::import::values::{format_instant_readable, parse_instant};
use crate::import::{BillingInterval, IntervalUnit};
use crate::model::price::Estimate;
use crate::money::group_thousands;

/// Everything the page shows of a fit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FitPageView {
    pub facts: Vec<Fact>,
    pub conventions: String,
    /// One per segment, in the report's order (the page's segment buttons).
    pub segments: Vec<SegmentPageView>,
    /// Every segment's retention parameters.
    pub retention: Table,
    /// Every segment's acquisition: no rows for a table without dates, and then `acquisition_note`
    /// says why.
    pub acquisition: Table,
    pub acquisition_note: Option<String>,
    /// The price changes found and the response to them (no rows when none was found).
    pub price_response: Table,
    /// What the price response means, or why there is none.
    pub price_response_note: String,
    /// The backtest's verdict in plain words, or why there is none.
    pub backtest_verdict: String,
    /// The backtest's notes (cutoffs left out, segments not forecast).
    pub backtest_notes: Vec<String>,
    /// The backtest's scores per series (no rows without a backtest).
    pub backtest: Table,
    /// The backtest chart's accessible description.
    pub backtest_chart_label: String,
}

/// Everything the page shows of one segment's fit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentPageView {
    pub name: String,
    /// The retention in one or two sentences (the report's `summary`).
    pub summary: String,
    /// The retention model and its parameters with their intervals, in plain words.
    pub model: Vec<String>,
    /// What the data taught the twin about this segment.
    pub learned: Vec<String>,
    /// What the twin assumes for this segment beyond what the data showed.
    pub assumed: Vec<String>,
    pub warnings: Vec<String>,
    /// The retention chart's accessible description.
    pub chart_label: String,
    pub cohorts_title: String,
    pub cohorts_note: String,
    /// Retention by start month: a row per start month (oldest first), a column per renewal shown.
    pub cohorts: Table,
    /// A shade per cell of `cohorts`: `"0"` to `"10"` (tenths still subscribed) for a share, `""`
    /// for the other cells.
    pub cohort_shades: Vec<Vec<String>>,
}

/// The page's view of a fit.
pub fn fit_page_view(report: &FitReport) -> FitPageView {
    let calibration_notes = [NO_DATES_NOTE, NO_PRICE_CHANGE_NOTE, PRICE_RESPONSE_NOTE];
    let mut facts = vec![Fact {
        label: "Fitted".into(),
        value: format!("{} segments, from a {} table", report.segments.len(), report.source),
    }];
    if let Some(as_of) = &report.as_of {
        let readable = parse_instant(as_of).map(format_instant_readable).unwrap_or_else(|| as_of.clone());
        facts.push(Fact { label: "As of".into(), value: readable });
    }
    if let Some(origin) = &report.origin {
        facts.push(Fact { label: "Forecasts from".into(), value: origin.clone() });
    }
    for note in report.notes.iter().filter(|note| !calibration_notes.contains(&note.as_str())) {
        facts.push(Fact { label: "Note".into(), value: note.clone() });
    }
    let price_response_note = if report.as_of.is_none() {
        NO_DATES_NOTE
    } else if report.price_response.is_empty() {
        NO_PRICE_CHANGE_NOTE
    } else {
        PRICE_RESPONSE_NOTE
    };
    FitPageView {
        facts,
        conventions: CONVENTIONS.to_owned(),
        segments: report.segments.iter().map(|segment| segment_view(report, segment)).collect(),
        retention: retention_table(report),
        acquisition: acquisition_table(report),
        acquisition_note: report.acquisition.is_empty().then(|| NO_DATES_NOTE.to_owned()),
        price_response: price_response_table(&report.price_response),
        price_response_note: price_response_note.to_owned(),
        backtest_verdict: match &report.backtest {
            Some(backtest) => backtest.verdict.clone(),
            None => report
                .notes
                .iter()
                .find(|n| n.starts_with("No backtest"))
                .cloned()
                .unwrap_or_else(|| "No backtest: a table without dates has no history to replay.".to_owned()),
        },
        backtest_notes: report.backtest.as_ref().map(|b| b.notes.clone()).unwrap_or_default(),
        backtest: match &report.backtest {
            Some(backtest) => crate::report::fit::backtest_view(backtest).1.table,
            None => Table { columns: Vec::new(), rows: Vec::new() },
        },
        backtest_chart_label: match &report.backtest {
            Some(backtest) => format!(
                "The MRR of all segments month by month from {} to {}, with the twin's median forecast and its \
                 10-90% band from each cutoff ({}).",
                backtest.cutoffs.first().cloned().unwrap_or_default(),
                backtest.last_month,
                backtest.cutoffs.join(", ")
            ),
            None => String::new(),
        },
    }
}

fn segment_view(report: &FitReport, segment: &SegmentFitReport) -> SegmentPageView {
    // A report's interval is always a label `BillingInterval::label` wrote; a month is the fallback
    // for one edited by hand.
    let interval = BillingInterval::from_label(&segment.interval)
        .unwrap_or(BillingInterval { unit: IntervalUnit::Month, count: 1 });
    let (cohorts, cohort_shades) = cohort_table(segment);
    let unit_plural = renewals_in_words(interval, 2).trim_start_matches(|c: char| c.is_ascii_digit()).trim().to_owned();
    SegmentPageView {
        name: segment.name.clone(),
        summary: segment.summary.clone(),
        model: model_sentences(report, segment, interval),
        learned: learned_sentences(report, segment, interval),
        assumed: assumed_sentences(report, segment, interval),
        warnings: segment.warnings.clone(),
        chart_label: format!(
            "Retention of {}: the share of new subscribers still subscribed after each renewal ({}), as the \
             twin's fitted curve and as observed (Kaplan–Meier) with its 95% band.",
            segment.name,
            if interval.count == 1 { unit_plural.clone() } else { format!("one every {}", segment.interval) }
        ),
        cohorts_title: format!("Retention by start month: {}", segment.name),
        cohorts_note: if segment.cohorts.is_empty() {
            "A table without dates has no start months.".into()
        } else {
            format!(
                "The share of each month's new subscribers still subscribed after the number of {} in the \
                 column's head; blank where too few of them have been subscribed that long.",
                if interval.count == 1 { unit_plural } else { "renewals".into() }
            )
        },
        cohorts,
        cohort_shades,
    }
}

/// The model and its parameters: what the twin uses, what the segment's own data say, and the
/// chance of leaving at a few renewals.
fn model_sentences(report: &FitReport, segment: &SegmentFitReport, interval: BillingInterval) -> Vec<String> {
    let (Some(alpha), Some(beta)) = (segment.alpha, segment.beta) else {
        return vec!["No subscriber of this business has churned yet: the twin has no retention estimate.".into()];
    };
    let whose = match (&segment.pooled_from, &report.pooling) {
        (Some(_), _) => "after pooling with the other segments",
        (None, None) => "the segment's own estimate: there is no other segment to pool with",
        (None, Some(_)) => "the segment's own estimate",
    };
    let mut sentences = vec![format!(
        "The twin's retention model is the shifted-beta-geometric: each subscriber has their own chance of \
         leaving at each renewal, and across subscribers these chances follow a beta distribution with alpha {} \
         and beta {} ({whose}).",
        parameter(alpha),
        parameter(beta)
    )];
    if let Some(own) = &segment.unpooled {
        sentences.push(format!(
            "The segment's own data alone give alpha {} ({}) and beta {} ({}).",
            parameter(own.alpha),
            interval_in_words(&segment.alpha_interval),
            parameter(own.beta),
            interval_in_words(&segment.beta_interval)
        ));
    }
    let churn_at = |t: usize| {
        let before = if t == 1 { 1.0 } else { segment.survival[t - 2] };
        (before > 0.0).then(|| 1.0 - segment.survival[t - 1] / before)
    };
    let per_year = match (interval.unit, interval.count) {
        (IntervalUnit::Month, count) if 12 % count == 0 => (12 / count) as usize,
        (IntervalUnit::Week, count) if 52 % count == 0 => (52 / count) as usize,
        _ => 0,
    };
    let ages: Vec<usize> = if per_year > 1 { vec![1, per_year, 2 * per_year] } else { vec![1, 2, 5] };
    let shown: Vec<String> = ages
        .into_iter()
        .filter(|&t| t <= segment.survival.len())
        .filter_map(|t| {
            let churn = churn_at(t)?;
            Some(if t == 1 {
                format!("{} at the first renewal", percent(churn))
            } else {
                format!("{} at renewal {t} (after {})", percent(churn), renewals_in_words(interval, t as u32))
            })
        })
        .collect();
    if !shown.is_empty() {
        sentences.push(format!("The chance of leaving at a renewal, in the twin: {}.", join_words(&shown)));
    }
    sentences
}

/// What the data showed: how much there was, pooling's pull, the models compared, a price change,
/// trial conversion.
fn learned_sentences(report: &FitReport, segment: &SegmentFitReport, interval: BillingInterval) -> Vec<String> {
    let mut sentences = Vec::new();
    let observed = segment.kaplan_meier.iter().map(|row| row.t).max();
    let count = |n: u64| group_thousands(u128::from(n));
    sentences.push(match observed {
        Some(t) => format!(
            "{} subscribers, {} of whom churned, observed up to renewal {t} ({}).",
            count(segment.n),
            count(segment.churned),
            renewals_in_words(interval, t)
        ),
        None => format!("{} subscribers, {} of whom churned.", count(segment.n), count(segment.churned)),
    });
    let horizon = renewals_in_words(interval, 12);
    match (&segment.pooled_from, &report.pooling) {
        (Some(pull), _) => sentences.push(match pull.survival_12_own {
            Some(own) if percent(own) == percent(pull.survival_12_pooled) => format!(
                "Pooling with the other segments barely moved it: its retention after {horizon} stays at {}.",
                percent(own)
            ),
            Some(own) => format!(
                "Pooling with the other segments moved its retention after {horizon} from {} to {}.",
                percent(own),
                percent(pull.survival_12_pooled)
            ),
            None => format!(
                "Its own data are too few for a fit of their own: the twin uses what the other segments show \
                 (retention after {horizon}: {}).",
                percent(pull.survival_12_pooled)
            ),
        }),
        (None, None) if segment.alpha.is_some() => {
            sentences.push("With a single segment there is nothing to pool: the twin uses its own fit.".into())
        }
        _ => {}
    }
    if let Some(best) = segment.models_compared.iter().max_by(|a, b| a.held_out_loglik.total_cmp(&b.held_out_loglik)) {
        let others: Vec<String> = segment
            .models_compared
            .iter()
            .filter(|m| m.model != best.model)
            .map(|m| format!("{:.1} for {}", m.held_out_loglik, model_in_words(&m.model)))
            .collect();
        let mut sentence = format!(
            "On the renewals after renewal {} (held out of the fit), {} predicted best: log-likelihood {:.1}, \
             against {}.",
            best.trained_to,
            model_in_words(&best.model),
            best.held_out_loglik,
            join_words(&others)
        );
        if best.model != "sbg" {
            sentence.push_str(" The twin uses the shifted-beta-geometric.");
        }
        sentences.push(sentence);
    }
    for change in report.price_response.iter().filter(|r| r.segment == segment.name) {
        sentences.extend(price_change_sentences(change));
    }
    let acquisition = report.acquisition.iter().find(|a| a.segment == segment.name);
    if let Some(conversion) = acquisition.and_then(|a| a.trial_conversion.as_ref()).filter(|c| c.trials > 0) {
        sentences.push(format!(
            "{} of trials convert to a paid subscription ({} of {}).",
            percent(conversion.rate),
            count(conversion.converted),
            count(conversion.trials)
        ));
    }
    sentences
}

fn price_change_sentences(change: &PriceResponseReport) -> Vec<String> {
    let mut sentences = vec![format!(
        "From {}, new subscribers paid {} instead of {} ({} started at the old price in the 12 months before, {} \
         at the new price in the 12 months after).",
        change.month,
        price(change.new_price),
        price(change.old_price),
        change.old_cohort,
        change.new_cohort
    )];
    sentences.push(match &change.churn_elasticity {
        Some(e) => format!(
            "Churn elasticity {} ({}): churn per renewal becomes h × (new price / old price)^e, compared over the \
             first {} ({} churned at the old price, {} at the new one).",
            elasticity(e.value),
            estimate_interval(e),
            if change.renewals_compared == 1 {
                "renewal".to_owned()
            } else {
                format!("{} renewals", change.renewals_compared)
            },
            change.old_churners,
            change.new_churners
        ),
        None => "Too few churners on one side of the change to tell how churn responds to price.".into(),
    });
    sentences.push(match &change.acquisition_elasticity {
        Some(n) => format!(
            "Acquisition elasticity {} ({}): sign-ups become λ × (new price / old price)^−n.",
            elasticity(n.value),
            estimate_interval(n)
        ),
        None => "Too few months on one side of the change to tell how sign-ups respond to price.".into(),
    });
    sentences
}

/// What the twin takes for granted: retention beyond the data, acquisition's trend, and price
/// elasticities that no price change measured.
fn assumed_sentences(report: &FitReport, segment: &SegmentFitReport, interval: BillingInterval) -> Vec<String> {
    let mut sentences = Vec::new();
    if let Some(t) = segment.kaplan_meier.iter().map(|row| row.t).max().filter(|_| !segment.survival.is_empty()) {
        sentences.push(format!(
            "Beyond renewal {t} ({}), the oldest observed, retention follows the fitted curve (dashed in the chart).",
            renewals_in_words(interval, t)
        ));
    }
    if report.as_of.is_none() {
        sentences.push(
            "The table has no dates: sign-ups and the response to price are not fitted, and a scenario will ask \
             for them as assumptions."
                .into(),
        );
        return sentences;
    }
    let origin = report.origin.as_deref().unwrap_or("the first forecast month");
    if let Some(acquisition) = report.acquisition.iter().find(|a| a.segment == segment.name) {
        if let Some(direct) = &acquisition.direct {
            sentences.push(trend_sentence("Direct sign-ups (without a trial)", direct, origin));
        }
        if let Some(trials) = acquisition.trials.as_ref().filter(|t| t.arrivals > 0) {
            sentences.push(trend_sentence("Trial starts", trials, origin));
        }
    }
    if !report.price_response.iter().any(|r| r.segment == segment.name) {
        sentences.push(
            "No price change was found in this segment: a pricing scenario will ask how churn and sign-ups respond \
             to price (the price elasticities) as assumptions."
                .into(),
        );
    }
    sentences
}

fn trend_sentence(what: &str, stream: &StreamReport, origin: &str) -> String {
    format!(
        "{what} go on as over the last {} months: {} expected in {origin}, {} a month (95% interval {} to {}){}.",
        stream.months_used,
        finite(stream.next_month, |v| format!("{v:.1}")),
        signed_percent(stream.growth_per_month),
        signed_percent(stream.growth_interval[0]),
        signed_percent(stream.growth_interval[1]),
        if stream.seasonal.is_some() { ", with the same month-of-year pattern" } else { "" }
    )
}

fn price_response_table(changes: &[PriceResponseReport]) -> Table {
    let estimate = |e: &Option<Estimate>| {
        e.as_ref().map_or("-".to_owned(), |e| {
            format!("{} ({} to {})", elasticity(e.value), elasticity(e.interval[0]), elasticity(e.interval[1]))
        })
    };
    Table {
        columns: [
            "Segment",
            "From",
            "Old price",
            "New price",
            "New subscribers (old / new price)",
            "Churn elasticity (95%)",
            "Acquisition elasticity (95%)",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect(),
        rows: changes
            .iter()
            .map(|change| {
                vec![
                    change.segment.clone(),
                    change.month.clone(),
                    price(change.old_price),
                    price(change.new_price),
                    format!("{} / {}", change.old_cohort, change.new_cohort),
                    estimate(&change.churn_elasticity),
                    estimate(&change.acquisition_elasticity),
                ]
            })
            .collect(),
    }
}

/// Retention by start month, with a shade per share. Every renewal up to 12 is a column, then every
/// third to 24 and every sixth beyond, so that four years of monthly cohorts fit a screen.
fn cohort_table(segment: &SegmentFitReport) -> (Table, Vec<Vec<String>>) {
    let oldest = segment.cohorts.iter().map(|c| c.retained.len()).max().unwrap_or(0);
    let ages = cohort_ages(oldest);
    let mut columns = vec!["Started".to_owned(), "Subscribers".to_owned()];
    columns.extend(ages.iter().map(|age| age.to_string()));
    let mut rows = Vec::with_capacity(segment.cohorts.len());
    let mut shades = Vec::with_capacity(segment.cohorts.len());
    for cohort in &segment.cohorts {
        let mut row = vec![cohort.month.clone(), group_thousands(u128::from(cohort.size))];
        let mut shade = vec![String::new(), String::new()];
        for &age in &ages {
            match cohort.retained.get(age - 1) {
                Some(&share) => {
                    row.push(format!("{:.0}%", 100.0 * share));
                    shade.push(((10.0 * share).floor().clamp(0.0, 10.0) as u8).to_string());
                }
                None => {
                    row.push(String::new());
                    shade.push(String::new());
                }
            }
        }
        rows.push(row);
        shades.push(shade);
    }
    (Table { columns, rows }, shades)
}

/// The renewal ages a cohort table shows, up to `oldest`.
fn cohort_ages(oldest: usize) -> Vec<usize> {
    (1..=oldest).filter(|&age| age <= 12 || (age <= 24 && age % 3 == 0) || age % 6 == 0).collect()
}

fn model_in_words(model: &str) -> String {
    match model {
        "geometric" => "one constant churn rate (geometric)".into(),
        "sbg" => "the shifted-beta-geometric".into(),
        "bdw" => "the beta-discrete-Weibull".into(),
        other => other.to_owned(),
    }
}

/// A parameter's 95% interval, whose ends may be unbounded.
fn interval_in_words(pair: &[Option<f64>; 2]) -> String {
    match pair {
        [Some(lower), Some(upper)] => format!("95% interval {} to {}", parameter(*lower), parameter(*upper)),
        [Some(lower), None] => format!("95% interval from {}, with no upper bound", parameter(*lower)),
        [None, Some(upper)] => format!("95% interval up to {}", parameter(*upper)),
        [None, None] => "not bounded by the data".into(),
    }
}

fn estimate_interval(estimate: &Estimate) -> String {
    format!("95% interval {} to {}", elasticity(estimate.interval[0]), elasticity(estimate.interval[1]))
}

/// "a, b and c".
fn join_words(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A model parameter: three decimals, or a whole number with thousands separators when it is
/// large (a segment at the geometric limit has alpha and beta in the millions).
fn parameter(value: f64) -> String {
    if !value.is_finite() {
        "-".into()
    } else if value.abs() >= 1000.0 {
        let whole = group_thousands(value.abs().round() as u128);
        if value < 0.0 {
            format!("-{whole}")
        } else {
            whole
        }
    } else {
        format!("{value:.3}")
    }
}

fn percent(share: f64) -> String {
    finite(share, |share| format!("{:.1}%", 100.0 * share))
}

fn signed_percent(share: f64) -> String {
    finite(share, |share| format!("{:+.1}%", 100.0 * share))
}

/// Two decimals, and no "-0.00".
fn elasticity(value: f64) -> String {
    let text = finite(value, |value| format!("{value:.2}"));
    if text == "-0.00" {
        "0.00".into()
    } else {
        text
    }
}

/// A list price in major units: whole when it is, else with two decimals.
fn price(value: f64) -> String {
    finite(value, |value| if value == value.round() { format!("{value:.0}") } else { format!("{value:.2}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cohort_ages_thin_out_after_a_year() {
        assert_eq!(cohort_ages(4), [1, 2, 3, 4]);
        assert_eq!(cohort_ages(47), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 18, 21, 24, 30, 36, 42]);
    }

    #[test]
    fn intervals_read_in_words() {
        assert_eq!(interval_in_words(&[Some(0.415), Some(0.882)]), "95% interval 0.415 to 0.882");
        assert_eq!(interval_in_words(&[Some(0.574), None]), "95% interval from 0.574, with no upper bound");
        assert_eq!(elasticity(-0.0027), "0.00");
        assert_eq!(interval_in_words(&[None, None]), "not bounded by the data");
        assert_eq!(parameter(20_737_327.19), "20,737,327");
        assert_eq!(price(49.0), "49");
        assert_eq!(price(49.5), "49.50");
        assert_eq!(join_words(&["a".into(), "b".into(), "c".into()]), "a, b and c");
    }

    #[test]
    fn interval_labels_read_back() {
        for label in ["month", "year", "3 months", "2 weeks", "day"] {
            assert_eq!(BillingInterval::from_label(label).map(|i| i.label()).as_deref(), Some(label));
        }
        assert_eq!(BillingInterval::from_label("fortnight"), None);
        assert_eq!(BillingInterval::from_label("0 months"), None);
    }
}
