//! A simulation as a report: the twin run forward with no change (the baseline) and under each
//! scenario, on the same paths, month by month, with the quantiles of every figure, each scenario's
//! difference from the baseline at the horizon, the break-even elasticity of a price change and a
//! sensitivity over the assumed inputs (`subtwin simulate --json`, and the page's scenario section).

use serde::{Deserialize, Serialize};

use super::{Fact, Table, TablesView, TitledTable};
use crate::import::values::MonthIndex;
use crate::money::Currency;
use crate::scenario::{Compiled, Input, Scenario};
use crate::sim::plan::{Draw, Plan};
use crate::sim::{self, Comparison, SimError, SimOptions, Simulation, Summary};
use crate::twin::Twin;

/// The quantiles reported, in order.
pub const PROBABILITIES: [f64; 7] = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];

/// How quantiles are taken, stated in every report.
pub const QUANTILE_RULE: &str = "type 7 (R's and NumPy's default): linear interpolation between the order \
statistics at positions floor(h) and floor(h) + 1, h = (paths - 1) x p";

/// The most paths the break-even search and the sensitivity simulate (the first paths of the run).
pub const SEARCH_PATHS: u32 = 400;
/// Bisection steps of the break-even search over elasticities from 0 to [`BREAK_EVEN_MAX`].
pub const BREAK_EVEN_STEPS: u32 = 12;
/// The largest churn elasticity the break-even search considers.
pub const BREAK_EVEN_MAX: f64 = 20.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulationReport {
    /// Always `simulation`.
    pub kind: String,
    /// The instant the twin was calibrated at: the simulation starts there, and the rest of its
    /// month belongs to the first simulated month.
    pub as_of: String,
    /// The first simulated month, `YYYY-MM`.
    pub start_month: String,
    pub horizon_months: u32,
    pub paths: u32,
    /// The seed, as a decimal string (JavaScript numbers are exact only to 2^53).
    pub seed: String,
    /// The analysis currency (lower-case ISO code).
    pub currency: String,
    pub quantile_rule: String,
    pub probabilities: Vec<f64>,
    /// The months simulated, `YYYY-MM`; every series below has one row per month.
    pub months: Vec<String>,
    pub baseline: RunReport,
    pub scenarios: Vec<ScenarioReport>,
    /// Segments the twin could not run (no retention estimate), and other remarks.
    pub notes: Vec<String>,
}

/// One run (the baseline or a scenario): per segment, and in total, the quantiles (in
/// `probabilities`' order) of each figure at each month's end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub segments: Vec<SeriesReport>,
    pub total: TotalReport,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesReport {
    pub name: String,
    pub active: Vec<Vec<f64>>,
    pub mrr: Vec<Vec<f64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TotalReport {
    pub active: Vec<Vec<f64>>,
    pub mrr: Vec<Vec<f64>>,
    pub new: Vec<Vec<f64>>,
    pub churned: Vec<Vec<f64>>,
    /// Revenue as billed in the month: each renewal and start pays its interval up front.
    pub billed: Vec<Vec<f64>>,
    /// Billed from the start to the month's end.
    pub cumulative_billed: Vec<Vec<f64>>,
    /// MRR per paid subscriber.
    pub arpu: Vec<Vec<f64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    /// The scenario as given.
    pub scenario: Scenario,
    /// Where each drawn input came from: learned from the history, or assumed.
    pub inputs: Vec<Input>,
    pub run: RunReport,
    /// The scenario minus the baseline, path by path, at the horizon.
    pub difference: Comparison,
    /// For a scenario that changes a price: the churn elasticity at which it stops paying.
    pub break_even: Option<BreakEven>,
    /// How the mean difference in cumulative revenue moves across each drawn input's range.
    pub sensitivity: Vec<Sensitivity>,
    /// The result in plain words.
    pub summary: String,
}

/// The churn elasticity at which the scenario's mean cumulative revenue over the horizon equals the
/// baseline's, every other input drawn as in the run, over the run's first [`SEARCH_PATHS`] paths.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakEven {
    /// `None` when the sign does not change between 0 and [`BREAK_EVEN_MAX`].
    pub churn_elasticity: Option<f64>,
    /// In words, with which side of it the scenario pays.
    pub description: String,
    pub paths: u32,
}

/// One bar of the tornado: an input held at each end of its range on every path (each segment's at
/// the ends of its own range; `low` and `high` span them all).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    pub input: String,
    pub low: f64,
    pub high: f64,
    /// The mean difference in cumulative revenue over the horizon with the input at `low`, and at
    /// `high`.
    pub difference_at_low: f64,
    pub difference_at_high: f64,
    pub paths: u32,
}

/// Everything a report needs besides the simulations.
pub struct ReportContext<'a> {
    pub twin: &'a Twin,
    pub as_of: &'a str,
    pub seed: u64,
    pub currency: &'a Currency,
    pub notes: Vec<String>,
}

/// A scenario to report: as given, compiled, and its simulation over the same paths as the
/// baseline's.
pub struct ScenarioRun<'a> {
    pub scenario: &'a Scenario,
    pub compiled: &'a Compiled,
    pub simulation: &'a Simulation,
}

/// The report of a baseline simulation and its scenarios. The break-even and the sensitivity
/// simulate again (the first [`SEARCH_PATHS`] paths), which the same seed makes reproducible.
pub fn simulation_report(
    context: &ReportContext,
    baseline: &Simulation,
    scenarios: &[ScenarioRun],
) -> Result<SimulationReport, SimError> {
    let summary = sim::summarise(baseline, &PROBABILITIES)?;
    let horizon = baseline.options.horizon_months;
    let months: Vec<String> = (0..horizon as i32).map(|k| MonthIndex(summary.start_month_index + k).label()).collect();
    let baseline_report = run_report(&summary);
    let reports = scenarios
        .iter()
        .map(|run| scenario_report(context, (baseline, &baseline_report), &months, run))
        .collect::<Result<_, _>>()?;
    Ok(SimulationReport {
        kind: "simulation".into(),
        as_of: context.as_of.to_owned(),
        start_month: MonthIndex(summary.start_month_index).label(),
        horizon_months: horizon,
        paths: summary.paths,
        seed: context.seed.to_string(),
        currency: context.currency.code.clone(),
        quantile_rule: QUANTILE_RULE.to_owned(),
        probabilities: summary.probabilities.clone(),
        months,
        baseline: baseline_report,
        scenarios: reports,
        notes: context.notes.clone(),
    })
}

/// Completes a report's scenarios with the break-even elasticity (for those that change a price)
/// and the sensitivity over their drawn inputs: simulations again over the run's first
/// [`SEARCH_PATHS`] paths, slower than the run itself, which is why the page shows the report first
/// and this after it. `plans` are the scenarios' compiled plans, in the report's order.
pub fn complete_search(
    report: &mut SimulationReport,
    twin: &Twin,
    options: &SimOptions,
    plans: &[&Plan],
) -> Result<(), SimError> {
    search(report, twin, options, plans, SearchPart::Both)
}

/// The parts of the search, which are independent of each other: the page runs them in two workers
/// at once and joins them ([`join_search`]); the command runs both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchPart {
    BreakEven,
    Sensitivity,
    Both,
}

impl SearchPart {
    /// `"break_even"`, `"sensitivity"`, or `""` for both.
    pub fn from_name(name: &str) -> Option<SearchPart> {
        match name {
            "break_even" => Some(SearchPart::BreakEven),
            "sensitivity" => Some(SearchPart::Sensitivity),
            "" | "both" => Some(SearchPart::Both),
            _ => None,
        }
    }

    /// Whether this part fills in the break-even.
    pub fn break_even(self) -> bool {
        self != SearchPart::Sensitivity
    }

    /// Whether this part fills in the sensitivity.
    pub fn sensitivity(self) -> bool {
        self != SearchPart::BreakEven
    }
}

/// [`complete_search`] for one part: the break-even of each scenario, or its sensitivity, or both;
/// each scenario's summary in words says what is in.
pub fn search(
    report: &mut SimulationReport,
    twin: &Twin,
    options: &SimOptions,
    plans: &[&Plan],
    part: SearchPart,
) -> Result<(), SimError> {
    let needed = part.sensitivity() || plans.iter().any(|plan| changes_price(plan));
    if report.scenarios.is_empty() || !needed {
        for scenario in &mut report.scenarios {
            scenario.break_even = None;
        }
        return Ok(());
    }
    let search = SearchRuns::new(twin, options)?;
    let currency = report_currency(&report.currency);
    let last_month = report.months.last().cloned();
    for (scenario, plan) in report.scenarios.iter_mut().zip(plans) {
        if part.break_even() {
            scenario.break_even = if changes_price(plan) { Some(search.break_even(plan)?) } else { None };
        }
        if part.sensitivity() {
            scenario.sensitivity = search.sensitivity(plan)?;
        }
        scenario.summary = summary_in_words(scenario, &currency, last_month.as_ref());
    }
    Ok(())
}

/// Puts `part` of a scenario's search (from [`search`] on the same scenario's report) into `held`,
/// and words its summary again: once both parts are in, `held` is what [`complete_search`] makes.
pub fn join_search(
    held: &mut ScenarioReport,
    searched: &ScenarioReport,
    part: SearchPart,
    currency: &str,
    months: &[String],
) {
    if part.break_even() {
        held.break_even = searched.break_even.clone();
    }
    if part.sensitivity() {
        held.sensitivity = searched.sensitivity.clone();
    }
    held.summary = summary_in_words(held, &report_currency(currency), months.last());
}

/// One scenario's part of [`simulation_report`], before its search: what the coordinating worker
/// adds to the baseline's report, which it made once, when a scenario changes. `baseline` is the
/// baseline's simulation and its part of the report; `months` are the report's month labels. The
/// segments the scenario leaves alone have the baseline's figures on every path, and so its
/// quantiles, which are taken from its report.
pub fn scenario_report(
    context: &ReportContext,
    baseline: (&Simulation, &RunReport),
    months: &[String],
    run: &ScenarioRun,
) -> Result<ScenarioReport, SimError> {
    let (baseline, baseline_report) = baseline;
    let changed = sim::changed_segments(&run.compiled.plan);
    let known = |segment: usize| {
        let same = !changed.get(segment).copied().unwrap_or(true);
        baseline_report.segments.get(segment).filter(|_| same)
    };
    let scenario_summary = sim::summarise_segments(run.simulation, &PROBABILITIES, |s| known(s).is_none())?;
    let difference = sim::compare(baseline, run.simulation, &PROBABILITIES)?;
    let mut run_part = run_report(&scenario_summary);
    for (index, segment) in run_part.segments.iter_mut().enumerate() {
        if let Some(from_baseline) = known(index) {
            segment.active.clone_from(&from_baseline.active);
            segment.mrr.clone_from(&from_baseline.mrr);
        }
    }
    let mut report = ScenarioReport {
        name: run.scenario.name.clone(),
        scenario: run.scenario.clone(),
        inputs: run.compiled.inputs.clone(),
        run: run_part,
        difference,
        break_even: None,
        sensitivity: Vec::new(),
        summary: String::new(),
    };
    report.summary = summary_in_words(&report, context.currency, months.last());
    Ok(report)
}

fn run_report(summary: &Summary) -> RunReport {
    RunReport {
        segments: summary
            .segments
            .iter()
            .map(|s| SeriesReport {
                name: s.name.clone(),
                active: s.active_subscribers.clone(),
                mrr: s.mrr_major_units.clone(),
            })
            .collect(),
        total: TotalReport {
            active: summary.total.active_subscribers.clone(),
            mrr: summary.total.mrr_major_units.clone(),
            new: summary.flows.new_subscribers.clone(),
            churned: summary.flows.churned_subscribers.clone(),
            billed: summary.flows.billed_major_units.clone(),
            cumulative_billed: summary.flows.cumulative_billed_major_units.clone(),
            arpu: summary.flows.arpu_major_units.clone(),
        },
    }
}

fn changes_price(plan: &Plan) -> bool {
    plan.segments.iter().any(|s| s.price.is_some_and(|p| p.ratio != 1.0)) || !plan.new_plans.is_empty()
}

/// Simulations over the run's first paths with one input pinned, against the baseline's same paths.
struct SearchRuns<'a> {
    twin: &'a Twin,
    paths: u32,
    baseline: Simulation,
}

impl<'a> SearchRuns<'a> {
    fn new(twin: &'a Twin, options: &SimOptions) -> Result<SearchRuns<'a>, SimError> {
        let paths = SEARCH_PATHS.min(options.paths);
        // Kept with every segment's figures, so that each run of the search simulates only the
        // segments the scenario changes.
        let prefix = sim::simulate_reusable(twin, options, 0..paths)?;
        Ok(SearchRuns { twin, paths, baseline: prefix })
    }

    /// The mean difference in cumulative revenue over the horizon under `plan`.
    fn mean_difference(&self, plan: &Plan) -> Result<f64, SimError> {
        let simulation = sim::simulate_plan_on(self.twin, plan, &self.baseline)?;
        Ok(sim::compare(&self.baseline, &simulation, &[0.5])?.cumulative_billed_major_units.mean)
    }

    /// Bisection on the churn elasticity of every segment and new plan whose price changes.
    fn break_even(&self, plan: &Plan) -> Result<BreakEven, SimError> {
        let at = |elasticity: f64| -> Result<f64, SimError> {
            let mut pinned = plan.clone();
            pin(&mut pinned, "churn_elasticity", elasticity);
            self.mean_difference(&pinned)
        };
        let (mut low, mut high) = (0.0, BREAK_EVEN_MAX);
        let (at_low, at_high) = (at(low)?, at(high)?);
        if (at_low > 0.0) == (at_high > 0.0) {
            let description = if at_low > 0.0 {
                format!("It pays at any churn elasticity from 0 to {BREAK_EVEN_MAX}.")
            } else {
                format!("It does not pay at any churn elasticity from 0 to {BREAK_EVEN_MAX}.")
            };
            return Ok(BreakEven { churn_elasticity: None, description, paths: self.paths });
        }
        for _ in 0..BREAK_EVEN_STEPS {
            let middle = (low + high) / 2.0;
            if (at(middle)? > 0.0) == (at_low > 0.0) {
                low = middle;
            } else {
                high = middle;
            }
        }
        let elasticity = (low + high) / 2.0;
        let description = if at_low > 0.0 {
            format!("It pays while the churn elasticity is below {elasticity:.2}.")
        } else {
            format!("It pays once the churn elasticity is above {elasticity:.2}.")
        };
        Ok(BreakEven { churn_elasticity: Some(elasticity), description, paths: self.paths })
    }

    /// For each input drawn from a range, the mean difference with it pinned at each end.
    fn sensitivity(&self, plan: &Plan) -> Result<Vec<Sensitivity>, SimError> {
        let mut bars = Vec::new();
        for input in ["churn_elasticity", "acquisition_elasticity", "shock"] {
            let ranges: Vec<(f64, f64)> = draws(plan, input).filter_map(|d| d.range()).collect();
            if ranges.is_empty() {
                continue;
            }
            let low = ranges.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
            let high = ranges.iter().map(|r| r.1).fold(f64::NEG_INFINITY, f64::max);
            // Each segment's draw goes to its own range's end (a fixed one stays where it is).
            let pinned_at = |high_end: bool| -> Result<f64, SimError> {
                let mut pinned = plan.clone();
                pin_each(&mut pinned, input, |draw| match draw.range() {
                    Some((low, high)) => {
                        if high_end {
                            high
                        } else {
                            low
                        }
                    }
                    None => draw.mean(),
                });
                self.mean_difference(&pinned)
            };
            let name = if input == "shock" { "first_renewal_shock" } else { input };
            bars.push(Sensitivity {
                input: name.to_owned(),
                low,
                high,
                difference_at_low: pinned_at(false)?,
                difference_at_high: pinned_at(true)?,
                paths: self.paths,
            });
        }
        Ok(bars)
    }
}

/// The draws of one input across the plan's segments and new plans that answer a price.
fn draws<'p>(plan: &'p Plan, input: &'p str) -> impl Iterator<Item = Draw> + 'p {
    let responses = plan
        .segments
        .iter()
        .filter(|s| s.price.is_some() || s.discount.is_some())
        .map(|s| s.response)
        .chain(plan.new_plans.iter().map(|p| p.response));
    responses.map(move |r| match input {
        "churn_elasticity" => r.churn_elasticity,
        "acquisition_elasticity" => r.acquisition_elasticity,
        _ => r.shock,
    })
}

/// Pins an input to one value on every segment and new plan that answers a price.
fn pin(plan: &mut Plan, input: &str, value: f64) {
    pin_each(plan, input, |_| value);
}

/// Pins an input on every segment and new plan that answers a price, each to the value `choose`
/// gives for its own draw.
fn pin_each(plan: &mut Plan, input: &str, choose: impl Fn(Draw) -> f64) {
    let set = |response: &mut crate::sim::plan::ResponseDraws| {
        let draw = match input {
            "churn_elasticity" => &mut response.churn_elasticity,
            "acquisition_elasticity" => &mut response.acquisition_elasticity,
            _ => &mut response.shock,
        };
        *draw = Draw::Fixed(choose(*draw));
    };
    for segment in plan.segments.iter_mut().filter(|s| s.price.is_some() || s.discount.is_some()) {
        set(&mut segment.response);
    }
    for new_plan in &mut plan.new_plans {
        set(&mut new_plan.response);
    }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn signed(currency: &Currency, value: f64) -> String {
    if value < 0.0 {
        format!("-{}", currency.format_compact(-value))
    } else {
        format!("+{}", currency.format_compact(value))
    }
}

/// A report's currency by its code; one the build does not know is shown with 2 digits and no symbol.
pub(crate) fn report_currency(code: &str) -> Currency {
    Currency::from_code(code).unwrap_or(Currency { code: code.to_owned(), minor_digits: 2, symbol: String::new() })
}

/// Gives a scenario's part of a report a new name (the scenario otherwise the same): nothing
/// simulated depends on the name, so this is the report a run under the new name makes. `months` and
/// `currency` are the report's.
pub fn rename_scenario(part: &mut ScenarioReport, renamed: Scenario, currency: &str, months: &[String]) {
    let currency = report_currency(currency);
    part.name = renamed.name.clone();
    part.scenario = renamed;
    part.summary = summary_in_words(part, &currency, months.last());
}

/// Whether two scenarios differ in their name alone.
pub fn same_but_name(a: &Scenario, b: &Scenario) -> bool {
    Scenario { name: String::new(), ..a.clone() } == Scenario { name: String::new(), ..b.clone() }
}

fn summary_in_words(report: &ScenarioReport, currency: &Currency, last_month: Option<&String>) -> String {
    let difference = &report.difference;
    let at = |p: f64| PROBABILITIES.iter().position(|q| (q - p).abs() < 1e-12).unwrap_or(0);
    let (low, mid, high) = (at(0.1), at(0.5), at(0.9));
    let mrr = &difference.mrr_major_units;
    let revenue = &difference.cumulative_billed_major_units;
    let mut words = format!(
        "{}: by {}, MRR is {} against doing nothing in the median (10-90%: {} to {}), and revenue billed over \
         the horizon {} ({} to {}). The scenario is ahead on MRR on {} of paths and on revenue on {}.",
        report.name,
        last_month.map_or("the horizon", String::as_str),
        signed(currency, mrr.quantiles[mid]),
        signed(currency, mrr.quantiles[low]),
        signed(currency, mrr.quantiles[high]),
        signed(currency, revenue.quantiles[mid]),
        signed(currency, revenue.quantiles[low]),
        signed(currency, revenue.quantiles[high]),
        percent(mrr.probability_ahead),
        percent(revenue.probability_ahead),
    );
    if let Some(break_even) = &report.break_even {
        words.push(' ');
        words.push_str(&break_even.description);
    }
    let learned: Vec<String> = report
        .inputs
        .iter()
        .filter(|i| i.source == "learned")
        .map(|i| format!("{} of {} ({})", i.input.replace('_', " "), i.segment, i.description))
        .collect();
    let assumed: Vec<String> = report
        .inputs
        .iter()
        .filter(|i| i.source == "assumed" && i.draw != Draw::Fixed(0.0))
        .map(|i| format!("{} of {} ({})", i.input.replace('_', " "), i.segment, i.description))
        .collect();
    if !learned.is_empty() {
        words.push_str(&format!(" Learned from the history: {}.", learned.join("; ")));
    }
    if !assumed.is_empty() {
        words.push_str(&format!(" Assumed: {}.", assumed.join("; ")));
    }
    words
}

/// The report as the command prints it: compact JSON, one line.
pub fn to_json(report: &SimulationReport) -> String {
    serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// What the command prints: the facts; for the baseline and each scenario, the median and 10-90%
/// range of paid subscribers and MRR month by month; and each scenario's difference at the horizon.
pub fn simulation_view(report: &SimulationReport) -> TablesView {
    let currency = report_currency(&report.currency);
    let at = |p: f64| report.probabilities.iter().position(|q| (q - p).abs() < 1e-12);
    let (low, mid, high) = (at(0.1), at(0.5), at(0.9));
    let pick = |row: &Vec<f64>, i: Option<usize>| i.and_then(|i| row.get(i)).copied().unwrap_or(f64::NAN);
    let mut facts = vec![
        Fact {
            label: "Simulated".into(),
            value: format!("{} paths, {} months from {}", report.paths, report.horizon_months, report.start_month),
        },
        Fact { label: "As of".into(), value: report.as_of.clone() },
        Fact { label: "Seed".into(), value: report.seed.clone() },
        Fact { label: "Quantiles".into(), value: report.quantile_rule.clone() },
    ];
    for note in &report.notes {
        facts.push(Fact { label: "Note".into(), value: note.clone() });
    }
    for scenario in &report.scenarios {
        facts.push(Fact { label: scenario.name.clone(), value: scenario.summary.clone() });
    }
    let run_table = |title: String, total: &TotalReport| TitledTable {
        title,
        table: Table {
            columns: ["Month", "Paid", "Paid 10-90%", "MRR", "MRR 10-90%", "Billed", "Cumulative billed"]
                .iter()
                .map(|c| c.to_string())
                .collect(),
            rows: report
                .months
                .iter()
                .enumerate()
                .map(|(m, month)| {
                    let (active, mrr) = (&total.active[m], &total.mrr[m]);
                    vec![
                        month.clone(),
                        format!("{:.0}", pick(active, mid)),
                        format!("{:.0} to {:.0}", pick(active, low), pick(active, high)),
                        currency.format_compact(pick(mrr, mid)),
                        format!(
                            "{} to {}",
                            currency.format_compact(pick(mrr, low)),
                            currency.format_compact(pick(mrr, high))
                        ),
                        currency.format_compact(pick(&total.billed[m], mid)),
                        currency.format_compact(pick(&total.cumulative_billed[m], mid)),
                    ]
                })
                .collect(),
        },
    };
    let mut tables = vec![run_table("Baseline, all segments (median, and 10% to 90%)".into(), &report.baseline.total)];
    for scenario in &report.scenarios {
        tables
            .push(run_table(format!("{}, all segments (median, and 10% to 90%)", scenario.name), &scenario.run.total));
    }
    if !report.scenarios.is_empty() {
        let rows = report
            .scenarios
            .iter()
            .flat_map(|s| {
                let d = &s.difference;
                let row = |what: &str, diff: &crate::sim::Difference, money: bool| {
                    let show = |v: f64| if money { signed(&currency, v) } else { format!("{v:+.0}") };
                    vec![
                        s.name.clone(),
                        what.to_owned(),
                        show(pick(&diff.quantiles, low)),
                        show(pick(&diff.quantiles, mid)),
                        show(pick(&diff.quantiles, high)),
                        percent(diff.probability_ahead),
                    ]
                };
                vec![
                    row("MRR", &d.mrr_major_units, true),
                    row("Paid subscribers", &d.active_subscribers, false),
                    row("Revenue billed", &d.cumulative_billed_major_units, true),
                ]
            })
            .collect();
        tables.push(TitledTable {
            title: format!(
                "Against the baseline at {} (per path, same random numbers)",
                report.months.last().cloned().unwrap_or_default()
            ),
            table: Table {
                columns: ["Scenario", "Figure", "P10", "P50", "P90", "Ahead on"]
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                rows,
            },
        });
    }
    TablesView {
        facts,
        conventions: "The baseline is the calibrated twin run forward with no change; each scenario runs on the same \
                      paths and random numbers. A month's figures are at its end; revenue billed counts each renewal's \
                      whole interval in its month."
            .into(),
        tables,
        problems: Table { columns: Vec::new(), rows: Vec::new() },
        problems_csv: String::new(),
    }
}
