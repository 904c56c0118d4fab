//! The page's scenario section as display values, so that the page formats no number and decides
//! nothing about the business: what the editor offers for a calibrated twin ([`editor_view`]: the
//! segments and their list prices, the simulated months, a starting change of each kind, the presets
//! for the common questions and the range of every field), and a simulation's results as the page
//! shows them ([`simulation_page_view`]: the facts, the conventions, the key numbers at the horizon,
//! each scenario's summary, break-even and sensitivity, and the charts' descriptions).

use serde::{Deserialize, Serialize};

use super::simulate::{ScenarioReport, SimulationReport};
use super::{Fact, Table};
use crate::import::values::MonthIndex;
use crate::money::{group_thousands, Currency, Minor};
use crate::scenario::{self, AppliesTo, Change, Response, Scenario, Take, SCENARIO_VERSION};
use crate::sim::Difference;
use crate::twin::{Cadence, SegmentTwin};
use crate::CalibratedTwin;

/// The most scenario cards the page shows side by side.
pub const MAX_PAGE_SCENARIOS: usize = 4;
/// The run bar's defaults: as `subtwin simulate` has them.
pub const DEFAULT_HORIZON_MONTHS: u32 = 24;
pub const DEFAULT_PATHS: u32 = 1000;

/// What the scenario editor offers for a twin and a horizon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorView {
    /// The twin's currency, upper-case (`USD`), for the price fields' labels.
    pub currency: String,
    pub segments: Vec<EditorSegment>,
    /// The simulated months, `YYYY-MM`: the range of every month field.
    pub months: Vec<String>,
    /// The month a new change starts in: the second simulated month (the first with one month).
    pub default_month: String,
    /// One starting change of each kind the twin allows, as the scenario file writes it.
    pub kinds: Vec<KindChoice>,
    /// Ready-made scenarios for the common questions, as scenario files.
    pub presets: Vec<Preset>,
    pub limits: Limits,
    pub max_scenarios: usize,
    pub max_changes: usize,
    pub default_horizon_months: u32,
    pub max_horizon_months: u32,
    pub default_paths: u32,
    pub max_paths: u32,
    /// As a decimal string: JavaScript numbers are exact only to 2^53.
    pub default_seed: String,
}

/// A segment as the editor lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorSegment {
    pub name: String,
    /// How often it renews, in words: `monthly`, `yearly`, `every 3 months`, `52 times a year`.
    pub interval: String,
    /// Its list price per billing interval ([`scenario::list_price`]), the start of a new price.
    pub list_price: f64,
    /// The same in words: `$59 a month`.
    pub list_price_text: String,
    /// The segments billed less often, which a move to annual may move its subscribers to.
    pub longer_segments: Vec<String>,
}

/// A kind of change, its label and a starting change of that kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindChoice {
    /// As the scenario file names it (`price`, `intro_discount`, ...).
    pub kind: String,
    pub label: String,
    /// The starting change as JSON.
    pub change: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    pub label: String,
    /// The scenario, as [`scenario::to_json`] writes it (the file the command reads).
    pub scenario: String,
}

/// The allowed range of every number the editor asks for, as [`scenario::compile`] checks them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// A price change in percent.
    pub price_percent: (f64, f64),
    /// A change of acquisition, churn or trial conversion, in percent.
    pub factor_percent: (f64, f64),
    /// An introductory discount in percent, and the months it lasts at least.
    pub discount_percent: (f64, f64),
    pub discount_months: (f64, f64),
    /// The share of a segment's subscribers who move to annual, and the discount they get.
    pub share_percent: (f64, f64),
    pub move_discount_percent: (f64, f64),
    pub grandfather_months: (f64, f64),
    /// A new plan's share of a segment's new subscribers.
    pub take_percent: (f64, f64),
    /// Churn and acquisition elasticities.
    pub elasticity: (f64, f64),
    /// The share who leave at the first renewal that meets a higher price.
    pub shock: (f64, f64),
}

pub const LIMITS: Limits = Limits {
    price_percent: (-90.0, 1000.0),
    factor_percent: (-100.0, 1000.0),
    discount_percent: (0.0, 100.0),
    discount_months: (1.0, 60.0),
    share_percent: (0.0, 100.0),
    move_discount_percent: (0.0, 90.0),
    grandfather_months: (1.0, 120.0),
    take_percent: (0.0, 100.0),
    elasticity: crate::twin::ELASTICITY_RANGE,
    shock: (0.0, 1.0),
};

/// How often a cadence renews, in words.
fn interval_words(cadence: Cadence) -> String {
    match cadence {
        Cadence::EveryMonths(1) => "monthly".into(),
        Cadence::EveryMonths(12) => "yearly".into(),
        Cadence::EveryMonths(months) => format!("every {months} months"),
        Cadence::TimesPerYear(52) => "weekly".into(),
        Cadence::TimesPerYear(times) => format!("{times} times a year"),
    }
}

/// What a cadence's price is per, for a list price in words.
fn price_per(cadence: Cadence) -> String {
    match cadence {
        Cadence::EveryMonths(1) => "a month".into(),
        Cadence::EveryMonths(12) => "a year".into(),
        Cadence::EveryMonths(months) => format!("per {months} months"),
        Cadence::TimesPerYear(times) => format!("per renewal ({times} a year)"),
    }
}

fn months_between_renewals(cadence: Cadence) -> u32 {
    match cadence {
        Cadence::EveryMonths(months) => months,
        Cadence::TimesPerYear(_) => 0,
    }
}

/// An amount in major units as people read it, rounded to the minor unit: `$1,234.50`.
pub fn money(currency: &Currency, major: f64) -> String {
    if !major.is_finite() {
        return "n/a".into();
    }
    let scale = 10f64.powi(currency.minor_digits as i32);
    let minor = (major * scale).round();
    if minor.abs() >= 1e30 {
        return currency.format_compact(major);
    }
    currency.format(Minor::from_integer(minor as i128))
}

/// A signed amount, compactly: `+$28.8k`, `-$350`.
fn signed_money(currency: &Currency, value: f64) -> String {
    if !value.is_finite() {
        "n/a".into()
    } else if value < 0.0 {
        format!("-{}", currency.format_compact(-value))
    } else {
        format!("+{}", currency.format_compact(value))
    }
}

/// A count of subscribers: `1,234`, or `1,234.5` for a quantile between two paths.
pub(crate) fn count(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let tenths = (value.abs() * 10.0).round() as u128;
    let whole = group_thousands(tenths / 10);
    match tenths % 10 {
        0 => format!("{sign}{whole}"),
        tenth => format!("{sign}{whole}.{tenth}"),
    }
}

fn signed_count(value: f64) -> String {
    if value > 0.0 {
        format!("+{}", count(value))
    } else {
        count(value)
    }
}

fn share(value: f64) -> String {
    if value.is_finite() {
        format!("{:.0}%", value * 100.0)
    } else {
        "n/a".into()
    }
}

/// A number as the scenario file writes it: `2`, `-2.33`.
fn plain(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.to_owned()
    }
}

/// The name of a segment without its billing interval: `Pro` for `Pro (month)`.
fn product_of(name: &str) -> &str {
    match name.rfind(" (") {
        Some(at) if name.ends_with(')') => &name[..at],
        _ => name,
    }
}

/// Subscribers of a segment at the start.
fn subscribers_at_start(segment: &SegmentTwin) -> u64 {
    segment.cells.iter().flat_map(|cell| &cell.mrr).map(|group| group.subscribers).sum()
}

/// What the editor offers for a twin simulated `horizon_months` ahead.
pub fn editor_view(calibrated: &CalibratedTwin, horizon_months: u32) -> EditorView {
    let twin = &calibrated.twin;
    let currency = &calibrated.currency;
    let horizon = horizon_months.clamp(1, crate::MAX_SIMULATION_HORIZON_MONTHS);
    let months: Vec<String> =
        (0..horizon as i32).map(|offset| MonthIndex(twin.start_month_index + offset).label()).collect();
    let default_month = months.get(1).or(months.first()).cloned().unwrap_or_default();
    let segments: Vec<EditorSegment> = twin
        .segments
        .iter()
        .map(|segment| {
            let list_price = scenario::list_price(segment);
            let months = months_between_renewals(segment.cadence);
            let mut longer: Vec<&SegmentTwin> =
                twin.segments.iter().filter(|other| months_between_renewals(other.cadence) > months.max(1)).collect();
            // The same product first: Pro (month) moves to Pro (year).
            longer.sort_by_key(|other| product_of(&other.name) != product_of(&segment.name));
            EditorSegment {
                name: segment.name.clone(),
                interval: interval_words(segment.cadence),
                list_price,
                list_price_text: format!("{} {}", money(currency, list_price), price_per(segment.cadence)),
                longer_segments: longer.iter().map(|other| other.name.clone()).collect(),
            }
        })
        .collect();
    let presets = presets(calibrated, &default_month)
        .into_iter()
        .map(|scenario| Preset { label: scenario.name.clone(), scenario: scenario::to_json(&scenario) })
        .collect();
    EditorView {
        currency: currency.code.to_uppercase(),
        kinds: kind_choices(calibrated, &segments, &default_month),
        segments,
        months,
        default_month,
        presets,
        limits: LIMITS,
        max_scenarios: MAX_PAGE_SCENARIOS.min(scenario::MAX_SCENARIOS),
        max_changes: scenario::MAX_CHANGES,
        default_horizon_months: DEFAULT_HORIZON_MONTHS,
        max_horizon_months: crate::MAX_SIMULATION_HORIZON_MONTHS,
        default_paths: DEFAULT_PATHS,
        max_paths: crate::MAX_SIMULATION_PATHS,
        default_seed: crate::backtest::DEFAULT_SEED.to_string(),
    }
}

/// A change's response to price when nothing is said: the defaults the scenario file has.
fn default_response() -> Option<Response> {
    Some(Response::default())
}

/// The kinds of change, each with a starting change on the twin's first segment.
fn kind_choices(calibrated: &CalibratedTwin, segments: &[EditorSegment], month: &str) -> Vec<KindChoice> {
    let Some(first) = segments.first() else {
        return Vec::new();
    };
    let one = vec![first.name.clone()];
    let mut choices = vec![
        (
            "price",
            "Price change",
            Change::Price {
                segments: one.clone(),
                month: month.to_owned(),
                percent: Some(10.0),
                price: None,
                applies_to: AppliesTo::NextRenewal,
                grandfather_months: None,
                notice_month: None,
                response: default_response(),
            },
        ),
        (
            "intro_discount",
            "Introductory discount",
            Change::IntroDiscount {
                segments: one.clone(),
                month: month.to_owned(),
                until_month: None,
                percent: 20.0,
                months: 3,
                response: default_response(),
            },
        ),
    ];
    if let Some(from) = segments.iter().find(|s| !s.longer_segments.is_empty()) {
        choices.push((
            "move_to_annual",
            "Move to annual",
            Change::MoveToAnnual {
                from_segment: from.name.clone(),
                to_segment: from.longer_segments[0].clone(),
                month: month.to_owned(),
                share_percent: 20.0,
                discount_percent: 15.0,
            },
        ));
    }
    let factor = |percent: f64| (one.clone(), month.to_owned(), None, percent);
    let (s, m, u, p) = factor(10.0);
    choices.push((
        "acquisition",
        "Acquisition",
        Change::Acquisition { segments: s, month: m, until_month: u, percent: p },
    ));
    let (s, m, u, p) = factor(-10.0);
    choices.push(("churn", "Churn", Change::Churn { segments: s, month: m, until_month: u, percent: p }));
    let (s, m, u, p) = factor(10.0);
    choices.push((
        "trial_conversion",
        "Trial conversion",
        Change::TrialConversion { segments: s, month: m, until_month: u, percent: p },
    ));
    let taken = |name: &str| calibrated.twin.segments.iter().any(|s| s.name == name);
    let name = ["New plan", "New plan 2", "New plan 3"].into_iter().find(|n| !taken(n)).unwrap_or("Another new plan");
    choices.push((
        "new_plan",
        "New plan",
        Change::NewPlan {
            name: name.to_owned(),
            like: first.name.clone(),
            price: if first.list_price > 0.0 { first.list_price } else { 1.0 },
            month: month.to_owned(),
            takes: vec![Take { segment: first.name.clone(), percent: 10.0 }],
            response: default_response(),
        },
    ));
    choices
        .into_iter()
        .map(|(kind, label, change)| KindChoice {
            kind: kind.to_owned(),
            label: label.to_owned(),
            change: serde_json::to_string(&change).unwrap_or_default(),
        })
        .collect()
}

fn scenario_of(name: String, changes: Vec<Change>) -> Scenario {
    Scenario { version: SCENARIO_VERSION, name, changes }
}

/// The presets for a twin: the common questions, on the twin's own segments, from `month`. A preset
/// the twin has no segments for (no monthly plan, no annual plan to move to) is left out.
pub fn presets(calibrated: &CalibratedTwin, month: &str) -> Vec<Scenario> {
    let twin = &calibrated.twin;
    let month = month.to_owned();
    let monthly: Vec<&SegmentTwin> = twin.segments.iter().filter(|s| s.cadence == Cadence::EveryMonths(1)).collect();
    let monthly_names: Vec<String> = monthly.iter().map(|s| s.name.clone()).collect();
    let all: Vec<String> = twin.segments.iter().map(|s| s.name.clone()).collect();
    let mut presets = Vec::new();
    let price = |applies_to: AppliesTo, grandfather_months: Option<u32>| Change::Price {
        segments: monthly_names.clone(),
        month: month.clone(),
        percent: Some(20.0),
        price: None,
        applies_to,
        grandfather_months,
        notice_month: None,
        response: default_response(),
    };
    if !monthly.is_empty() {
        presets.push(scenario_of("Raise monthly prices 20%".into(), vec![price(AppliesTo::NextRenewal, None)]));
        presets.push(scenario_of(
            "Raise prices for new subscribers only".into(),
            vec![price(AppliesTo::NewSubscribers, None)],
        ));
        presets.push(scenario_of(
            "Grandfather existing subscribers 6 months".into(),
            vec![price(AppliesTo::AfterGrandfathering, Some(6))],
        ));
        presets.push(scenario_of(
            "Introductory discount 30% for 3 months".into(),
            vec![Change::IntroDiscount {
                segments: monthly_names.clone(),
                month: month.clone(),
                until_month: None,
                percent: 30.0,
                months: 3,
                response: default_response(),
            }],
        ));
    }
    // Each monthly plan to the same product's annual plan.
    let moves: Vec<Change> = monthly
        .iter()
        .filter_map(|from| {
            let to = twin
                .segments
                .iter()
                .find(|to| to.cadence == Cadence::EveryMonths(12) && product_of(&to.name) == product_of(&from.name))?;
            Some(Change::MoveToAnnual {
                from_segment: from.name.clone(),
                to_segment: to.name.clone(),
                month: month.clone(),
                share_percent: 20.0,
                discount_percent: 15.0,
            })
        })
        .collect();
    if !moves.is_empty() {
        presets.push(scenario_of("Move 20% of monthly subscribers to annual at 15% off".into(), moves));
    }
    if !all.is_empty() {
        presets.push(scenario_of(
            "Acquisition push +25%".into(),
            vec![Change::Acquisition { segments: all.clone(), month: month.clone(), until_month: None, percent: 25.0 }],
        ));
        presets.push(scenario_of(
            "Retention initiative: churn -10%".into(),
            vec![Change::Churn { segments: all.clone(), month: month.clone(), until_month: None, percent: -10.0 }],
        ));
    }
    // A plan priced between the two largest monthly plans, taking a share of each one's arrivals.
    let mut largest: Vec<&&SegmentTwin> = monthly.iter().filter(|s| scenario::list_price(s) > 0.0).collect();
    largest.sort_by(|a, b| subscribers_at_start(b).cmp(&subscribers_at_start(a)).then(a.name.cmp(&b.name)));
    if let [first, second, ..] = largest.as_slice() {
        let (low, high) =
            if scenario::list_price(first) <= scenario::list_price(second) { (first, second) } else { (second, first) };
        let price = ((scenario::list_price(low) + scenario::list_price(high)) / 2.0).round();
        let taken = |name: &str| twin.segments.iter().any(|s| s.name == name);
        let name = ["Plus (month)", "Plus plan (month)", "Middle plan (month)"]
            .into_iter()
            .find(|n| !taken(n))
            .unwrap_or("New plan (month)");
        presets.push(scenario_of(
            format!("New plan between {} and {}", product_of(&low.name), product_of(&high.name)),
            vec![Change::NewPlan {
                name: name.to_owned(),
                like: low.name.clone(),
                price,
                month: month.clone(),
                takes: vec![
                    Take { segment: low.name.clone(), percent: 20.0 },
                    Take { segment: high.name.clone(), percent: 20.0 },
                ],
                response: default_response(),
            }],
        ));
    }
    presets
}

/// Everything the page shows of a simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulationPageView {
    pub facts: Vec<Fact>,
    /// The conventions in a short paragraph.
    pub conventions: String,
    /// The runs in the charts' order and colours: the baseline, then each scenario.
    pub runs: Vec<String>,
    pub key_numbers_title: String,
    /// Per figure at the horizon and per run: P10, P50, P90, and against the baseline.
    pub key_numbers: Table,
    pub scenarios: Vec<ScenarioPageView>,
    pub notes: Vec<String>,
    pub fan_mrr_label: String,
    pub fan_paid_label: String,
    pub histogram_mrr_label: String,
    pub histogram_revenue_label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioPageView {
    pub name: String,
    /// The result in plain words, with what was learned and what assumed (the report's `summary`).
    pub summary: String,
    /// Whether the break-even and the sensitivity are in (they are computed after the rest).
    pub searched: bool,
    /// The break-even in words, `computing…` before the search, or why there is none.
    pub break_even: String,
    /// Each drawn input: where it comes from, in words.
    pub inputs: Vec<String>,
    /// The tornado's bars as a table (input, range, mean difference at each end).
    pub sensitivity: Table,
    pub tornado_label: String,
}

/// Where `probability` is in the report's quantiles.
fn quantile_at(report: &SimulationReport, probability: f64) -> Option<usize> {
    report.probabilities.iter().position(|p| (p - probability).abs() < 1e-12)
}

/// Where a scenario's break-even and sensitivity stand on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    Computing,
    Done,
    /// The person cancelled the run before they were in.
    Stopped,
}

impl Search {
    /// The page's code for it: 1 done, 2 stopped, anything else still computing.
    pub fn from_code(code: u8) -> Search {
        match code {
            1 => Search::Done,
            2 => Search::Stopped,
            _ => Search::Computing,
        }
    }
}

/// The page's view of a report; `searched[i]` says where scenario `i`'s break-even and sensitivity
/// stand.
pub fn simulation_page_view(report: &SimulationReport, searched: &[Search]) -> SimulationPageView {
    let currency = super::simulate::report_currency(&report.currency);
    let last = report.months.last().cloned().unwrap_or_default();
    let first = report.months.first().cloned().unwrap_or_default();
    let as_of = crate::import::values::parse_instant(&report.as_of)
        .map(crate::import::values::format_instant_readable)
        .unwrap_or_else(|| report.as_of.clone());
    let paths = group_thousands(u128::from(report.paths));
    let facts = vec![
        Fact {
            label: "Simulated".into(),
            value: format!(
                "{paths} paths, {} months: {first} to {last}",
                group_thousands(u128::from(report.horizon_months))
            ),
        },
        Fact { label: "Starts at".into(), value: format!("the as-of, {as_of}") },
        Fact { label: "Seed".into(), value: report.seed.clone() },
    ];
    let conventions = format!(
        "The simulation starts at the as-of instant ({as_of}): what happens in the rest of that month counts in \
         the first simulated month, {first}, and a month's figures are at its end. Revenue is counted as billed: \
         each start and renewal pays its whole billing interval up front, so an annual plan bills twelve months of \
         MRR in its renewal month. Quantiles are {}. The baseline is the twin run forward with no change; every \
         scenario runs on the same paths with the same random numbers (common random numbers), so the \
         difference on a path shows the scenario rather than luck.",
        report.quantile_rule
    );
    let mut runs = vec!["Baseline".to_owned()];
    runs.extend(report.scenarios.iter().map(|s| s.name.clone()));
    let scenarios = report
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, scenario)| {
            scenario_view(scenario, searched.get(i).copied().unwrap_or(Search::Computing), &currency, &last)
        })
        .collect();
    let names = runs.join(", ");
    SimulationPageView {
        facts,
        conventions,
        key_numbers_title: format!("At the horizon, {last}: 10%, 50% and 90% of paths, and against the baseline"),
        key_numbers: key_numbers(report, &currency),
        runs,
        scenarios,
        notes: report.notes.clone(),
        fan_mrr_label: format!("MRR month by month, {first} to {last}: the median and 10-90% band of {names}"),
        fan_paid_label: format!(
            "Paid subscribers month by month, {first} to {last}: the median and 10-90% band of {names}"
        ),
        histogram_mrr_label: format!("How each scenario's MRR at {last} differs from the baseline's, path by path"),
        histogram_revenue_label: format!(
            "How each scenario's revenue billed from {first} to {last} differs from the baseline's, path by path"
        ),
    }
}

fn key_numbers(report: &SimulationReport, currency: &Currency) -> Table {
    let (low, mid, high) = (quantile_at(report, 0.1), quantile_at(report, 0.5), quantile_at(report, 0.9));
    let last = report.months.len().saturating_sub(1);
    let pick = |rows: &[Vec<f64>], at: Option<usize>| {
        rows.get(last).and_then(|row| at.and_then(|i| row.get(i))).copied().unwrap_or(f64::NAN)
    };
    type Field = fn(&super::simulate::TotalReport) -> &[Vec<f64>];
    type Diff = fn(&crate::sim::Comparison) -> &Difference;
    let figures: [(&str, Field, Option<Diff>, bool); 4] = [
        ("MRR", |t| &t.mrr, Some(|c| &c.mrr_major_units), true),
        ("Paid subscribers", |t| &t.active, Some(|c| &c.active_subscribers), false),
        ("Revenue billed, cumulative", |t| &t.cumulative_billed, Some(|c| &c.cumulative_billed_major_units), true),
        ("ARPU", |t| &t.arpu, None, true),
    ];
    let mut rows = Vec::new();
    for (figure, field, diff, is_money) in figures {
        let show = |value: f64| if is_money { money(currency, value) } else { count(value) };
        let show_signed = |value: f64| if is_money { signed_money(currency, value) } else { signed_count(value) };
        let quantiles = |total: &super::simulate::TotalReport| {
            let rows = field(total);
            [show(pick(rows, low)), show(pick(rows, mid)), show(pick(rows, high))]
        };
        let [p10, p50, p90] = quantiles(&report.baseline.total);
        rows.push(vec![figure.to_owned(), "Baseline".to_owned(), p10, p50, p90, "".into(), "".into()]);
        for scenario in &report.scenarios {
            let [p10, p50, p90] = quantiles(&scenario.run.total);
            let (against, ahead) = match diff {
                Some(diff) => {
                    let d = diff(&scenario.difference);
                    let at = |i: Option<usize>| i.and_then(|i| d.quantiles.get(i)).copied().unwrap_or(f64::NAN);
                    (
                        format!("{} ({} to {})", show_signed(at(mid)), show_signed(at(low)), show_signed(at(high))),
                        share(d.probability_ahead),
                    )
                }
                None => ("not compared path by path".into(), "".into()),
            };
            rows.push(vec![figure.to_owned(), scenario.name.clone(), p10, p50, p90, against, ahead]);
        }
    }
    Table {
        columns: ["Figure", "Run", "P10", "P50", "P90", "Against the baseline: P50 (P10 to P90)", "Ahead on"]
            .iter()
            .map(|c| c.to_string())
            .collect(),
        rows,
    }
}

fn input_words(input: &str) -> String {
    input.replace('_', " ")
}

/// What a scenario's break-even and sensitivity say when Cancel stopped their search.
const STOPPED_BREAK_EVEN: &str = "Break-even: not computed, the run was cancelled. Press Simulate to compute it.";
const STOPPED_SENSITIVITY: &str = "Sensitivity: not computed, the run was cancelled. Press Simulate to compute it.";

fn scenario_view(scenario: &ScenarioReport, search: Search, currency: &Currency, last: &str) -> ScenarioPageView {
    let searched = search == Search::Done;
    let break_even = match (&scenario.break_even, searched) {
        (_, false) if search == Search::Stopped => STOPPED_BREAK_EVEN.to_owned(),
        (_, false) => "Break-even: computing…".to_owned(),
        (Some(break_even), true) => format!(
            "Break-even: {} Found on the mean revenue billed over the horizon, over the run's first {} paths.",
            break_even.description,
            group_thousands(u128::from(break_even.paths))
        ),
        (None, true) => "No price changes, so no break-even elasticity.".to_owned(),
    };
    let inputs = scenario
        .inputs
        .iter()
        .map(|input| format!("{} of {}: {}", input_words(&input.input), input.segment, input.description))
        .collect();
    let rows = scenario
        .sensitivity
        .iter()
        .map(|bar| {
            vec![
                input_words(&bar.input),
                format!("{} to {}", plain(bar.low), plain(bar.high)),
                signed_money(currency, bar.difference_at_low),
                signed_money(currency, bar.difference_at_high),
            ]
        })
        .collect();
    let tornado_label = if searched {
        format!(
            "How {}'s mean difference in revenue billed to {last} moves with each assumed input held at the low and \
             the high end of its range",
            scenario.name
        )
    } else if search == Search::Stopped {
        STOPPED_SENSITIVITY.to_owned()
    } else {
        "Sensitivity: computing…".to_owned()
    };
    ScenarioPageView {
        name: scenario.name.clone(),
        summary: scenario.summary.clone(),
        searched,
        break_even,
        inputs,
        sensitivity: Table {
            columns: ["Input", "Range", "Revenue difference at the low end", "At the high end"]
                .iter()
                .map(|c| c.to_string())
                .collect(),
            rows,
        },
        tornado_label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_plain_numbers_read_as_people_write_them() {
        assert_eq!(count(1234.0), "1,234");
        assert_eq!(count(1234.5), "1,234.5");
        assert_eq!(count(-12.0), "-12");
        assert_eq!(signed_count(3.0), "+3");
        assert_eq!(plain(2.0), "2");
        assert_eq!(plain(-2.3344), "-2.33");
        assert_eq!(plain(-0.001), "0");
        assert_eq!(product_of("Pro (month)"), "Pro");
        assert_eq!(product_of("Pro"), "Pro");
        let usd = Currency::from_code("usd").expect("usd");
        assert_eq!(money(&usd, 41.666), "$41.67");
        assert_eq!(money(&usd, 1234567.0), "$1,234,567.00");
    }

    fn demo_twin() -> CalibratedTwin {
        let bytes: &[u8] = include_bytes!("../../www/demo-stripe.csv");
        let (_, twin) = crate::fit_exports_and_twin(
            &[("demo-stripe.csv", bytes)],
            &Default::default(),
            &Default::default(),
            &mut |_| {},
        )
        .expect("the demo fits");
        twin.expect("the demo has a twin")
    }

    #[test]
    fn every_preset_and_starting_change_compiles_against_the_demo() {
        let twin = demo_twin();
        for horizon in [1, 2, 24, 120] {
            let view = editor_view(&twin, horizon);
            assert_eq!(view.months.len(), horizon as usize);
            let labels: Vec<&str> = view.presets.iter().map(|p| p.label.as_str()).collect();
            assert_eq!(
                labels,
                [
                    "Raise monthly prices 20%",
                    "Raise prices for new subscribers only",
                    "Grandfather existing subscribers 6 months",
                    "Introductory discount 30% for 3 months",
                    "Move 20% of monthly subscribers to annual at 15% off",
                    "Acquisition push +25%",
                    "Retention initiative: churn -10%",
                    "New plan between Starter and Pro",
                ]
            );
            for preset in &view.presets {
                let scenario = scenario::from_json("preset", preset.scenario.as_bytes()).expect("reads back");
                scenario::compile(&scenario, &twin.twin, horizon).unwrap_or_else(|e| panic!("{}: {e}", preset.label));
            }
            let kinds: Vec<&str> = view.kinds.iter().map(|k| k.kind.as_str()).collect();
            assert_eq!(
                kinds,
                ["price", "intro_discount", "move_to_annual", "acquisition", "churn", "trial_conversion", "new_plan"]
            );
            for kind in &view.kinds {
                let change: Change = serde_json::from_str(&kind.change).expect("a change");
                let scenario = scenario_of(kind.label.clone(), vec![change]);
                scenario::compile(&scenario, &twin.twin, horizon).unwrap_or_else(|e| panic!("{}: {e}", kind.kind));
            }
        }
        let view = editor_view(&twin, 24);
        assert_eq!(view.default_month, "2026-02", "the second simulated month");
        let pro = view.segments.iter().find(|s| s.name == "Pro (month)").expect("Pro (month)");
        assert_eq!(pro.list_price_text, "$59.00 a month");
        assert_eq!(pro.longer_segments[0], "Pro (year)", "the same product's annual plan first");
        assert!(view.segments.iter().find(|s| s.name == "Pro (year)").expect("Pro (year)").longer_segments.is_empty());
    }
}
