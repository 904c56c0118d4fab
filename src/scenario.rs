//! Scenarios: a pricing or business change, written as JSON by a person (or by the page's editor,
//! which reads and writes the same file), validated field by field, and compiled against a twin into
//! the engine's [`Plan`].
//!
//! ```json
//! {"version": 1, "name": "Monthly plans 20% dearer",
//!  "changes": [{"kind": "price", "segments": ["Pro (month)"], "month": "2026-03", "percent": 20,
//!               "applies_to": "next_renewal"}]}
//! ```
//!
//! Every change names the segments it aims at (as the twin names them) and the month it starts,
//! `YYYY-MM`, within the simulated months. What each change means is documented on [`Change`]; the
//! price response (how churn and arrivals answer a price that differs from the baseline's) is in
//! [`crate::sim::plan`]. A field out of range is refused with its path in the file, the value and the
//! allowed range, never clamped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::sim::plan::{
    Diversion, Draw, IntroDiscount, Migration, MonthlyFactor, NewPlan, Plan, PriceChange, ResponseDraws, NEVER,
};
use crate::twin::{Cadence, SegmentTwin, Twin, MAX_NAME_CHARS};

/// The version of the scenario format this build reads and writes.
pub const SCENARIO_VERSION: u32 = 1;
/// The most changes in one scenario.
pub const MAX_CHANGES: usize = 64;
/// The most scenarios in one run.
pub const MAX_SCENARIOS: usize = 8;
/// The largest scenario file, in bytes.
pub const MAX_SCENARIO_BYTES: usize = 256 * 1024;

/// A named set of changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// [`SCENARIO_VERSION`].
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change. Percentages are of the baseline's value: 20 is a fifth more, -10 a tenth less.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// A new price for the segments: `percent` (every subscriber's MRR scaled by 1 + percent/100:
    /// seats and discounts keep their proportion), or `price`, the new list price per billing
    /// interval in the twin's currency (a yearly price for an annual plan), as a ratio to the
    /// segment's current list price (its most common new-subscriber MRR). New subscribers pay it
    /// from `month`; existing ones as `applies_to` says.
    Price {
        segments: Vec<String>,
        month: String,
        #[serde(default)]
        percent: Option<f64>,
        #[serde(default)]
        price: Option<f64>,
        applies_to: AppliesTo,
        /// With `after_grandfathering`: existing subscribers keep their price this many months after
        /// `month`, then meet the new one at their next renewal.
        #[serde(default)]
        grandfather_months: Option<u32>,
        /// The month existing subscribers are told; none pays the new price before the month after
        /// it (a month's notice at least). At or before `month`.
        #[serde(default)]
        notice_month: Option<String>,
        #[serde(default)]
        response: Option<Response>,
    },
    /// New subscribers who start from `month` to `until_month` (inclusive; open-ended without)
    /// pay `percent` less until their first renewal at least `months` months after they started.
    IntroDiscount {
        segments: Vec<String>,
        month: String,
        #[serde(default)]
        until_month: Option<String>,
        percent: f64,
        months: u32,
        #[serde(default)]
        response: Option<Response>,
    },
    /// At their renewal in `month`, a share of `from_segment`'s subscribers move to `to_segment`
    /// (a longer billing interval), paying `discount_percent` less than their MRR there.
    MoveToAnnual { from_segment: String, to_segment: String, month: String, share_percent: f64, discount_percent: f64 },
    /// Arrivals (direct and trial starts) change by `percent` from `month` (to `until_month`).
    Acquisition {
        segments: Vec<String>,
        month: String,
        #[serde(default)]
        until_month: Option<String>,
        percent: f64,
    },
    /// The churn probability at every renewal changes by `percent` (a retention initiative: below 0).
    Churn {
        segments: Vec<String>,
        month: String,
        #[serde(default)]
        until_month: Option<String>,
        percent: f64,
    },
    /// The trial conversion probability changes by `percent` (capped at 1).
    TrialConversion {
        segments: Vec<String>,
        month: String,
        #[serde(default)]
        until_month: Option<String>,
        percent: f64,
    },
    /// A new plan, from `month`: it renews like `like` (its billing interval and its retention,
    /// answering its price relative to `like`'s through the churn elasticity) at `price` per billing
    /// interval, and takes `percent` of each named segment's new subscribers.
    NewPlan {
        name: String,
        like: String,
        price: f64,
        month: String,
        takes: Vec<Take>,
        #[serde(default)]
        response: Option<Response>,
    },
}

/// Which subscribers a price change reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    NewSubscribers,
    NextRenewal,
    AfterGrandfathering,
}

/// A share of a segment's new subscribers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Take {
    pub segment: String,
    pub percent: f64,
}

/// The response to a price: each elasticity is learned from the twin's history where it holds one
/// (unless `use_learned` is false), else drawn by each path from the assumed distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    #[serde(default = "default_elasticity")]
    pub churn_elasticity: Assumed,
    #[serde(default = "default_elasticity")]
    pub acquisition_elasticity: Assumed,
    /// The one-time share who leave at the first renewal that meets a higher price, 0 to 1.
    #[serde(default = "no_shock")]
    pub first_renewal_shock: Assumed,
    #[serde(default = "yes")]
    pub use_learned: bool,
}

impl Default for Response {
    fn default() -> Self {
        Response {
            churn_elasticity: default_elasticity(),
            acquisition_elasticity: default_elasticity(),
            first_renewal_shock: no_shock(),
            use_learned: true,
        }
    }
}

fn default_elasticity() -> Assumed {
    Assumed::Triangular { low: 0.0, mode: 1.0, high: 2.0 }
}

fn no_shock() -> Assumed {
    Assumed::Fixed(0.0)
}

fn yes() -> bool {
    true
}

/// An assumed number: fixed, or drawn by each path.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Assumed {
    Fixed(f64),
    Uniform { low: f64, high: f64 },
    Triangular { low: f64, mode: f64, high: f64 },
}

impl Assumed {
    fn draw(self) -> Draw {
        match self {
            Assumed::Fixed(value) => Draw::Fixed(value),
            Assumed::Uniform { low, high } => Draw::Uniform { low, high },
            Assumed::Triangular { low, mode, high } => Draw::Triangular { low, mode, high },
        }
    }
}

/// Why a scenario was refused: the field (a path into the file, `changes[2].percent`), the value
/// found and what is allowed.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioError {
    pub field: String,
    pub value: String,
    pub allowed: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} is not allowed: {}.", self.field, self.value, self.allowed)
    }
}

impl std::error::Error for ScenarioError {}

/// Where an input of the simulation came from: for the summary's "learned" and "assumed".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The segment (or new plan) it applies to.
    pub segment: String,
    /// `churn_elasticity`, `acquisition_elasticity` or `first_renewal_shock`.
    pub input: String,
    /// `learned` or `assumed`.
    pub source: String,
    /// In words: "learned: 1.3 (standard error 0.4)", "assumed: triangular 0 to 2, most likely 1".
    pub description: String,
    pub draw: Draw,
}

/// A scenario compiled against a twin.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    pub plan: Plan,
    pub inputs: Vec<Input>,
}

/// Reads a scenario from JSON text, naming the file, line and column of a syntax error and the
/// field of a type error.
pub fn from_json(file: &str, text: &[u8]) -> Result<Scenario, String> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(format!(
            "{file}: the scenario is {} bytes, more than the {MAX_SCENARIO_BYTES} a scenario may have.",
            text.len()
        ));
    }
    let scenario: Scenario = serde_json::from_slice(text).map_err(|error| {
        let (line, column) = (error.line(), error.column());
        // serde_json ends its message with the place, which this message starts with.
        let message = error.to_string();
        let message = message.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&message).to_owned();
        // A value left empty (a blank number field in the page) arrives as null: name its field.
        let empty = serde_json::from_slice::<serde_json::Value>(text)
            .ok()
            .and_then(|value| first_null(&value, String::new()))
            .map(|field| format!(" ({field} is empty: give it a value)"))
            .unwrap_or_default();
        format!(
            "{file}: line {line}, column {column}: {message}{empty}. A scenario is JSON like {{\"version\": 1, \
             \"name\": \"...\", \"changes\": [...]}}; see the README."
        )
    })?;
    if scenario.version != SCENARIO_VERSION {
        return Err(format!(
            "{file}: version {} is not one this build reads (it reads version {SCENARIO_VERSION}).",
            scenario.version
        ));
    }
    Ok(scenario)
}

/// The path (`changes[0].percent`) of the first null in a JSON value, depth first.
fn first_null(value: &serde_json::Value, at: String) -> Option<String> {
    match value {
        serde_json::Value::Null => Some(at),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, item)| first_null(item, format!("{at}[{index}]")))
        }
        serde_json::Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            first_null(item, if at.is_empty() { name.clone() } else { format!("{at}.{name}") })
        }),
        _ => None,
    }
}

/// The scenario as JSON, pretty-printed: what the page downloads and the command reads.
pub fn to_json(scenario: &Scenario) -> String {
    serde_json::to_string_pretty(scenario).unwrap_or_default()
}

/// Validates a scenario against the twin and the run's horizon, and compiles it into the engine's
/// plan. Every value is checked against its range; the error names the first field that is wrong.
pub fn compile(scenario: &Scenario, twin: &Twin, horizon_months: u32) -> Result<Compiled, ScenarioError> {
    let mut compiler = Compiler {
        twin,
        horizon: horizon_months,
        plan: Plan::baseline(twin.segments.len()),
        responses: BTreeMap::new(),
        inputs: Vec::new(),
    };
    let name_chars = scenario.name.chars().count();
    if name_chars == 0 || name_chars > MAX_NAME_CHARS {
        return Err(error("name", format!("{name_chars} characters"), format!("1 to {MAX_NAME_CHARS} characters")));
    }
    if scenario.changes.len() > MAX_CHANGES {
        return Err(error("changes", format!("{} changes", scenario.changes.len()), format!("at most {MAX_CHANGES}")));
    }
    for (index, change) in scenario.changes.iter().enumerate() {
        compiler.change(&format!("changes[{index}]"), change)?;
    }
    compiler.finish()
}

struct Compiler<'a> {
    twin: &'a Twin,
    horizon: u32,
    plan: Plan,
    /// Each segment's response, with the field it came from.
    responses: BTreeMap<usize, (String, Response)>,
    inputs: Vec<Input>,
}

fn error(field: &str, value: impl Into<String>, allowed: impl Into<String>) -> ScenarioError {
    ScenarioError { field: field.to_owned(), value: value.into(), allowed: allowed.into() }
}

fn number(field: &str, value: f64, min: f64, max: f64) -> Result<f64, ScenarioError> {
    if !value.is_finite() || value < min || value > max {
        return Err(error(field, format!("{value}"), format!("a number from {min} to {max}")));
    }
    Ok(value)
}

impl Compiler<'_> {
    fn segment(&self, field: &str, name: &str) -> Result<usize, ScenarioError> {
        self.twin.segments.iter().position(|s| s.name == name).ok_or_else(|| {
            let names: Vec<String> = self.twin.segments.iter().map(|s| format!("{:?}", s.name)).collect();
            error(field, format!("{name:?}"), format!("a segment of the twin: {}", names.join(", ")))
        })
    }

    fn segments(&self, field: &str, names: &[String]) -> Result<Vec<usize>, ScenarioError> {
        if names.is_empty() {
            return Err(error(field, "an empty list", "at least one segment's name"));
        }
        let mut indices = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let index = self.segment(&format!("{field}[{i}]"), name)?;
            if indices.contains(&index) {
                return Err(error(&format!("{field}[{i}]"), format!("{name:?}"), "each segment once"));
            }
            indices.push(index);
        }
        Ok(indices)
    }

    /// A month `YYYY-MM` as an offset from the start, which must be within the simulated months.
    fn month(&self, field: &str, text: &str) -> Result<u32, ScenarioError> {
        let start = crate::import::values::MonthIndex(self.twin.start_month_index);
        let last = crate::import::values::MonthIndex(self.twin.start_month_index + self.horizon as i32 - 1);
        let allowed =
            format!("a month written YYYY-MM from {} to {}, the simulated months", start.label(), last.label());
        let index = parse_month(text).ok_or_else(|| error(field, format!("{text:?}"), allowed.clone()))?;
        let offset = index - self.twin.start_month_index;
        if offset < 0 || offset >= self.horizon as i32 {
            return Err(error(field, format!("{text:?}"), allowed));
        }
        Ok(offset as u32)
    }

    /// An inclusive end month, after `from`, as an exclusive offset (months past the horizon allowed).
    fn until(&self, field: &str, text: &Option<String>, from: u32) -> Result<u32, ScenarioError> {
        let Some(text) = text else {
            return Ok(NEVER);
        };
        let index = parse_month(text)
            .ok_or_else(|| error(field, format!("{text:?}"), "a month written YYYY-MM, or no field for no end"))?;
        let offset = index - self.twin.start_month_index;
        if offset < from as i32 {
            return Err(error(field, format!("{text:?}"), "a month at or after the change's month"));
        }
        Ok(u32::try_from(offset + 1).unwrap_or(NEVER))
    }

    fn percent_factor(field: &str, percent: f64, min: f64, max: f64) -> Result<f64, ScenarioError> {
        Ok(1.0 + number(field, percent, min, max)? / 100.0)
    }

    fn change(&mut self, at: &str, change: &Change) -> Result<(), ScenarioError> {
        match change {
            Change::Price {
                segments,
                month,
                percent,
                price,
                applies_to,
                grandfather_months,
                notice_month,
                response,
            } => {
                let indices = self.segments(&format!("{at}.segments"), segments)?;
                let from = self.month(&format!("{at}.month"), month)?;
                let notice = match notice_month {
                    Some(text) => {
                        let field = format!("{at}.notice_month");
                        let index = parse_month(text)
                            .ok_or_else(|| error(&field, format!("{text:?}"), "a month written YYYY-MM"))?;
                        let offset = index - self.twin.start_month_index;
                        if offset > from as i32 {
                            return Err(error(
                                &field,
                                format!("{text:?}"),
                                format!("a month at or before the change's month {month}"),
                            ));
                        }
                        Some(offset)
                    }
                    None => None,
                };
                let mut existing_from = match (applies_to, grandfather_months) {
                    (AppliesTo::NewSubscribers, None) => NEVER,
                    (AppliesTo::NextRenewal, None) => from,
                    (AppliesTo::AfterGrandfathering, Some(months)) => {
                        number(&format!("{at}.grandfather_months"), f64::from(*months), 1.0, 120.0)?;
                        from.saturating_add(*months)
                    }
                    (AppliesTo::AfterGrandfathering, None) => {
                        return Err(error(
                            &format!("{at}.grandfather_months"),
                            "nothing",
                            "1 to 120 months with after_grandfathering",
                        ));
                    }
                    (_, Some(months)) => {
                        return Err(error(
                            &format!("{at}.grandfather_months"),
                            format!("{months}"),
                            "no grandfathering period unless applies_to is after_grandfathering",
                        ));
                    }
                };
                if let (Some(notice), true) = (notice, existing_from != NEVER) {
                    existing_from = existing_from.max(u32::try_from(notice + 1).unwrap_or(0));
                }
                for (i, &index) in indices.iter().enumerate() {
                    let ratio = match (percent, price) {
                        (Some(percent), None) => {
                            Self::percent_factor(&format!("{at}.percent"), *percent, -90.0, 1000.0)?
                        }
                        (None, Some(price)) => {
                            let field = format!("{at}.price");
                            let list = list_price(&self.twin.segments[index]);
                            number(&field, *price, 0.0, crate::twin::MAX_MRR_MAJOR_UNITS)?;
                            if list <= 0.0 {
                                return Err(error(
                                    &format!("{at}.segments[{i}]"),
                                    format!("{:?}", segments[i]),
                                    "a segment with a list price above 0 for a new price; give a percent instead",
                                ));
                            }
                            let ratio = price / list;
                            if !(0.1..=11.0).contains(&ratio) {
                                return Err(error(
                                    &field,
                                    format!("{price}"),
                                    format!("a price within 10% to 1100% of {:?}'s list price {list}", segments[i]),
                                ));
                            }
                            ratio
                        }
                        _ => return Err(error(at, "a price change", "exactly one of percent and price")),
                    };
                    let plan = &mut self.plan.segments[index];
                    if plan.price.is_some() {
                        return Err(error(
                            &format!("{at}.segments[{i}]"),
                            format!("{:?}", segments[i]),
                            "one price change per segment in a scenario",
                        ));
                    }
                    plan.price = Some(PriceChange { ratio, new_from: from, existing_from });
                    self.set_response(&format!("{at}.response"), index, response.clone().unwrap_or_default())?;
                }
            }
            Change::IntroDiscount { segments, month, until_month, percent, months, response } => {
                let indices = self.segments(&format!("{at}.segments"), segments)?;
                let from = self.month(&format!("{at}.month"), month)?;
                let until = self.until(&format!("{at}.until_month"), until_month, from)?;
                let factor = 1.0 - number(&format!("{at}.percent"), *percent, 0.0, 100.0)? / 100.0;
                number(&format!("{at}.months"), f64::from(*months), 1.0, 60.0)?;
                for (i, &index) in indices.iter().enumerate() {
                    let plan = &mut self.plan.segments[index];
                    if plan.discount.is_some() {
                        return Err(error(
                            &format!("{at}.segments[{i}]"),
                            format!("{:?}", segments[i]),
                            "one introductory discount per segment in a scenario",
                        ));
                    }
                    plan.discount = Some(IntroDiscount { factor, from, until, months: *months });
                    self.set_response(&format!("{at}.response"), index, response.clone().unwrap_or_default())?;
                }
            }
            Change::MoveToAnnual { from_segment, to_segment, month, share_percent, discount_percent } => {
                let from_index = self.segment(&format!("{at}.from_segment"), from_segment)?;
                let to_index = self.segment(&format!("{at}.to_segment"), to_segment)?;
                let months_of = |segment: &SegmentTwin| match segment.cadence {
                    Cadence::EveryMonths(months) => months,
                    Cadence::TimesPerYear(_) => 0,
                };
                let (from_months, to_months) =
                    (months_of(&self.twin.segments[from_index]), months_of(&self.twin.segments[to_index]));
                if to_months <= from_months.max(1) {
                    return Err(error(
                        &format!("{at}.to_segment"),
                        format!("{to_segment:?}"),
                        format!("a segment billed less often than {from_segment:?}"),
                    ));
                }
                let offset = self.month(&format!("{at}.month"), month)?;
                let share = number(&format!("{at}.share_percent"), *share_percent, 0.0, 100.0)? / 100.0;
                let discount = number(&format!("{at}.discount_percent"), *discount_percent, 0.0, 90.0)? / 100.0;
                let migration = Migration {
                    from_segment: from_index,
                    to_segment: to_index,
                    month: offset,
                    share,
                    price_factor: 1.0 - discount,
                };
                let mut candidate = self.plan.clone();
                candidate.migrations.push(migration);
                candidate.check(self.twin.segments.len()).map_err(|problem| error(at, "this move", problem))?;
                self.plan = candidate;
            }
            Change::Acquisition { segments, month, until_month, percent }
            | Change::Churn { segments, month, until_month, percent }
            | Change::TrialConversion { segments, month, until_month, percent } => {
                let indices = self.segments(&format!("{at}.segments"), segments)?;
                let from = self.month(&format!("{at}.month"), month)?;
                let until = self.until(&format!("{at}.until_month"), until_month, from)?;
                let factor = Self::percent_factor(&format!("{at}.percent"), *percent, -100.0, 1000.0)?;
                for index in indices {
                    let plan = &mut self.plan.segments[index];
                    let list = match change {
                        Change::Acquisition { .. } => &mut plan.acquisition,
                        Change::Churn { .. } => &mut plan.churn,
                        _ => &mut plan.conversion,
                    };
                    list.push(MonthlyFactor { from, until, factor });
                }
            }
            Change::NewPlan { name, like, price, month, takes, response } => {
                let chars = name.chars().count();
                if chars == 0 || chars > MAX_NAME_CHARS {
                    return Err(error(
                        &format!("{at}.name"),
                        format!("{name:?}"),
                        format!("1 to {MAX_NAME_CHARS} characters"),
                    ));
                }
                let taken = self.twin.segments.iter().any(|s| &s.name == name)
                    || self.plan.new_plans.iter().any(|p| &p.name == name);
                if taken {
                    return Err(error(
                        &format!("{at}.name"),
                        format!("{name:?}"),
                        "a name no segment or other new plan has",
                    ));
                }
                let like_index = self.segment(&format!("{at}.like"), like)?;
                let from = self.month(&format!("{at}.month"), month)?;
                let like_segment = &self.twin.segments[like_index];
                let list = list_price(like_segment);
                number(&format!("{at}.price"), *price, 0.0, crate::twin::MAX_MRR_MAJOR_UNITS)?;
                let relative = if list > 0.0 { price / list } else { 1.0 };
                if !(0.01..=100.0).contains(&relative) {
                    return Err(error(
                        &format!("{at}.price"),
                        format!("{price}"),
                        format!("a price within 1% to 10,000% of {like:?}'s list price {list}"),
                    ));
                }
                let mrr = price / like_segment.cadence.months_per_payment();
                if takes.is_empty() {
                    return Err(error(
                        &format!("{at}.takes"),
                        "an empty list",
                        "at least one segment whose new subscribers it takes a share of",
                    ));
                }
                let new_plan = self.plan.new_plans.len();
                for (i, take) in takes.iter().enumerate() {
                    let field = format!("{at}.takes[{i}]");
                    let index = self.segment(&format!("{field}.segment"), &take.segment)?;
                    let share = number(&format!("{field}.percent"), take.percent, 0.0, 100.0)? / 100.0;
                    let diversions = &mut self.plan.segments[index].diversions;
                    let total: f64 = diversions.iter().map(|d| d.share).sum::<f64>() + share;
                    if total > 1.0 + 1e-9 {
                        return Err(error(
                            &format!("{field}.percent"),
                            format!("{}", take.percent),
                            format!(
                                "at most what is left of {:?}'s new subscribers after other new plans",
                                take.segment
                            ),
                        ));
                    }
                    diversions.push(Diversion { new_plan, from, share });
                }
                let response = response.clone().unwrap_or_default();
                let draws = self.response_draws(&format!("{at}.response"), name, None, &response)?;
                self.plan.new_plans.push(NewPlan {
                    name: name.clone(),
                    like: like_index,
                    mrr_major_units: mrr,
                    price_ratio: relative,
                    response: draws,
                });
            }
        }
        Ok(())
    }

    fn set_response(&mut self, field: &str, index: usize, response: Response) -> Result<(), ScenarioError> {
        if let Some((first, earlier)) = self.responses.get(&index) {
            if *earlier != response {
                let name = &self.twin.segments[index].name;
                return Err(error(
                    field,
                    "a second, different response",
                    format!("the same response as {first} for {name:?}: a segment answers prices one way"),
                ));
            }
            return Ok(());
        }
        self.responses.insert(index, (field.to_owned(), response));
        Ok(())
    }

    fn response_draws(
        &mut self,
        field: &str,
        name: &str,
        learned: Option<&SegmentTwin>,
        response: &Response,
    ) -> Result<ResponseDraws, ScenarioError> {
        let (low, high) = crate::twin::ELASTICITY_RANGE;
        check_assumed(&format!("{field}.churn_elasticity"), response.churn_elasticity, low, high)?;
        check_assumed(&format!("{field}.acquisition_elasticity"), response.acquisition_elasticity, low, high)?;
        check_assumed(&format!("{field}.first_renewal_shock"), response.first_renewal_shock, 0.0, 1.0)?;
        let learned = learned.and_then(|s| s.price_response).filter(|_| response.use_learned);
        let mut pick = |input: &str, assumed: Assumed, learned: Option<crate::twin::NormalEstimate>| {
            let (source, draw, description) = match learned {
                Some(estimate) => (
                    "learned",
                    Draw::Normal { mean: estimate.estimate, standard_error: estimate.standard_error },
                    format!(
                        "learned from a past price change: {:.2} (standard error {:.2})",
                        estimate.estimate, estimate.standard_error
                    ),
                ),
                None => ("assumed", assumed.draw(), format!("assumed: {}", describe(assumed))),
            };
            self.inputs.push(Input {
                segment: name.to_owned(),
                input: input.to_owned(),
                source: source.to_owned(),
                description,
                draw,
            });
            draw
        };
        let churn_elasticity =
            pick("churn_elasticity", response.churn_elasticity, learned.and_then(|l| l.churn_elasticity));
        let acquisition_elasticity = pick(
            "acquisition_elasticity",
            response.acquisition_elasticity,
            learned.and_then(|l| l.acquisition_elasticity),
        );
        let shock = pick("first_renewal_shock", response.first_renewal_shock, None);
        Ok(ResponseDraws { churn_elasticity, acquisition_elasticity, shock })
    }

    fn finish(mut self) -> Result<Compiled, ScenarioError> {
        let responses = std::mem::take(&mut self.responses);
        for (index, (field, response)) in responses {
            let segment = &self.twin.segments[index];
            let draws = self.response_draws(&field, &segment.name, Some(segment), &response)?;
            self.plan.segments[index].response = draws;
        }
        self.plan.check(self.twin.segments.len()).map_err(|problem| error("changes", "the scenario", problem))?;
        Ok(Compiled { plan: self.plan, inputs: self.inputs })
    }
}

fn check_assumed(field: &str, assumed: Assumed, min: f64, max: f64) -> Result<(), ScenarioError> {
    let values: Vec<(&str, f64)> = match assumed {
        Assumed::Fixed(value) => vec![("fixed", value)],
        Assumed::Uniform { low, high } => vec![("uniform.low", low), ("uniform.high", high)],
        Assumed::Triangular { low, mode, high } => {
            vec![("triangular.low", low), ("triangular.mode", mode), ("triangular.high", high)]
        }
    };
    for (name, value) in &values {
        number(&format!("{field}.{name}"), *value, min, max)?;
    }
    if values.windows(2).any(|pair| pair[0].1 > pair[1].1) {
        return Err(error(field, describe(assumed), "low at most mode at most high"));
    }
    Ok(())
}

/// An assumed distribution in words.
pub fn describe(assumed: Assumed) -> String {
    match assumed {
        Assumed::Fixed(value) => format!("{value}"),
        Assumed::Uniform { low, high } => format!("uniform from {low} to {high}"),
        Assumed::Triangular { low, mode, high } => format!("triangular from {low} to {high}, most likely {mode}"),
    }
}

/// A segment's list price per billing interval: its most common new-subscriber MRR (by weight; the
/// lower of a tie), else its most common MRR among subscribers at the start, times the months an
/// interval pays for. 0 for a segment with neither.
pub fn list_price(segment: &SegmentTwin) -> f64 {
    let mut weights: BTreeMap<u64, u64> = BTreeMap::new();
    for group in &segment.new_mrr {
        *weights.entry(group.mrr_major_units.to_bits()).or_default() += group.subscribers;
    }
    if weights.values().all(|w| *w == 0) {
        for group in segment.cells.iter().flat_map(|c| &c.mrr) {
            *weights.entry(group.mrr_major_units.to_bits()).or_default() += group.subscribers;
        }
    }
    let mut best: Option<(f64, u64)> = None;
    for (bits, weight) in weights {
        let value = f64::from_bits(bits);
        let better = match best {
            None => weight > 0,
            Some((best_value, best_weight)) => weight > best_weight || (weight == best_weight && value < best_value),
        };
        if better {
            best = Some((value, weight));
        }
    }
    best.map_or(0.0, |(mrr, _)| mrr * segment.cadence.months_per_payment())
}

/// `YYYY-MM` strictly, as `year * 12 + (month - 1)`.
fn parse_month(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    if bytes.len() != 7 || bytes[4] != b'-' || !text.is_ascii() {
        return None;
    }
    let year: i32 = text[..4].parse().ok()?;
    let month: i32 = text[5..].parse().ok()?;
    ((1..=9999).contains(&year) && (1..=12).contains(&month)).then_some(year * 12 + month - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twin::tests::example_twin;

    fn scenario(changes: &str) -> Scenario {
        let text = format!(r#"{{"version": 1, "name": "test", "changes": [{changes}]}}"#);
        from_json("s.json", text.as_bytes()).expect("valid JSON")
    }

    fn refused(changes: &str) -> ScenarioError {
        compile(&scenario(changes), &example_twin(), 24).expect_err("refused")
    }

    #[test]
    fn a_price_change_compiles_to_the_ratio_and_months_it_names() {
        // The example twin starts in 2025-03; its list price is 59 (the most common new MRR).
        let changes = r#"{"kind": "price", "segments": ["Pro monthly"], "month": "2025-05", "price": 70.8,
                          "applies_to": "after_grandfathering", "grandfather_months": 6}"#;
        let compiled = compile(&scenario(changes), &example_twin(), 24).expect("valid");
        let price = compiled.plan.segments[0].price.expect("a price change");
        assert!((price.ratio - 1.2).abs() < 1e-12, "{}", price.ratio);
        assert_eq!((price.new_from, price.existing_from), (2, 8));
        // No price response learned in the example twin: the defaults are assumed, and say so.
        assert!(compiled.inputs.iter().all(|i| i.source == "assumed"));
        assert_eq!(
            compiled.plan.segments[0].response.churn_elasticity,
            Draw::Triangular { low: 0.0, mode: 1.0, high: 2.0 }
        );
    }

    #[test]
    fn a_learned_response_is_used_unless_the_scenario_declines_it() {
        let mut twin = example_twin();
        twin.segments[0].price_response = Some(crate::twin::LearnedPriceResponse {
            churn_elasticity: Some(crate::twin::NormalEstimate { estimate: 1.3, standard_error: 0.4 }),
            acquisition_elasticity: None,
        });
        let price = r#"{"kind": "price", "segments": ["Pro monthly"], "month": "2025-04", "percent": 10, "applies_to": "next_renewal""#;
        let learned = compile(&scenario(&format!("{price}}}")), &twin, 12).expect("valid");
        assert_eq!(learned.plan.segments[0].response.churn_elasticity, Draw::Normal { mean: 1.3, standard_error: 0.4 });
        let sources: Vec<(&str, &str)> = learned.inputs.iter().map(|i| (i.input.as_str(), i.source.as_str())).collect();
        assert!(
            sources.contains(&("churn_elasticity", "learned"))
                && sources.contains(&("acquisition_elasticity", "assumed"))
        );
        let declined = compile(
            &scenario(&format!(
                r#"{price}, "response": {{"use_learned": false, "churn_elasticity": {{"fixed": 0.5}}}}}}"#
            )),
            &twin,
            12,
        )
        .expect("valid");
        assert_eq!(declined.plan.segments[0].response.churn_elasticity, Draw::Fixed(0.5));
    }

    #[test]
    fn every_refusal_names_the_field_the_value_and_what_is_allowed() {
        let cases = [
            (
                r#"{"kind": "price", "segments": ["Nope"], "month": "2025-04", "percent": 10, "applies_to": "next_renewal"}"#,
                "changes[0].segments[0]",
                "\"Pro monthly\"",
            ),
            (
                r#"{"kind": "price", "segments": ["Pro monthly"], "month": "2024-01", "percent": 10, "applies_to": "next_renewal"}"#,
                "changes[0].month",
                "2025-03 to 2027-02",
            ),
            (
                r#"{"kind": "price", "segments": ["Pro monthly"], "month": "2025-04", "percent": 5000, "applies_to": "next_renewal"}"#,
                "changes[0].percent",
                "-90 to 1000",
            ),
            (
                r#"{"kind": "price", "segments": ["Pro monthly"], "month": "2025-04", "applies_to": "next_renewal"}"#,
                "changes[0]",
                "exactly one of percent and price",
            ),
            (
                r#"{"kind": "price", "segments": ["Pro monthly"], "month": "2025-04", "percent": 5, "applies_to": "after_grandfathering"}"#,
                "changes[0].grandfather_months",
                "1 to 120",
            ),
            (
                r#"{"kind": "price", "segments": ["Pro monthly"], "month": "2025-04", "percent": 5, "applies_to": "next_renewal", "notice_month": "2025-06"}"#,
                "changes[0].notice_month",
                "at or before",
            ),
            (
                r#"{"kind": "intro_discount", "segments": ["Pro monthly"], "month": "2025-04", "percent": 120, "months": 3}"#,
                "changes[0].percent",
                "0 to 100",
            ),
            (
                r#"{"kind": "churn", "segments": ["Pro monthly"], "month": "2025-04", "until_month": "2025-03", "percent": -10}"#,
                "changes[0].until_month",
                "at or after",
            ),
            (
                r#"{"kind": "move_to_annual", "from_segment": "Pro monthly", "to_segment": "Pro monthly", "month": "2025-04", "share_percent": 10, "discount_percent": 10}"#,
                "changes[0].to_segment",
                "billed less often",
            ),
            (
                r#"{"kind": "new_plan", "name": "Pro monthly", "like": "Pro monthly", "price": 40, "month": "2025-04", "takes": [{"segment": "Pro monthly", "percent": 20}]}"#,
                "changes[0].name",
                "a name no segment",
            ),
            (
                r#"{"kind": "price", "segments": ["Pro monthly"], "month": "2025-04", "percent": 5, "applies_to": "next_renewal", "response": {"churn_elasticity": {"triangular": {"low": 2, "mode": 1, "high": 3}}}}"#,
                "changes[0].response.churn_elasticity",
                "low at most mode",
            ),
        ];
        for (change, field, allowed) in cases {
            let error = refused(change);
            assert_eq!(error.field, field, "{change}: {error}");
            assert!(error.to_string().contains(allowed), "{change}: {error}");
        }
    }

    #[test]
    fn malformed_files_are_refused_with_their_line_and_column_or_version() {
        let error = from_json("s.json", b"{\"version\": 1,\n \"name\": 3}").expect_err("a number for a name");
        assert!(error.starts_with("s.json: line 2, column"), "{error}");
        let error = from_json("s.json", br#"{"version": 1, "name": "x", "changes": [{"kind": "price", "colour": 1}]}"#)
            .expect_err("an unknown field");
        assert!(error.contains("colour"), "{error}");
        let error = from_json("s.json", br#"{"version": 2, "name": "x"}"#).expect_err("a later version");
        assert!(error.contains("version 2 is not one this build reads"), "{error}");
        let big = vec![b' '; MAX_SCENARIO_BYTES + 1];
        assert!(from_json("s.json", &big).expect_err("too big").contains("more than"));
        assert!(from_json("s.json", br#"{"version": 1, "name": "x"} {}"#)
            .expect_err("trailing")
            .contains("s.json: line 1"));
    }

    #[test]
    fn an_empty_value_is_named_by_its_field() {
        // What the page sends for a number field left blank.
        let text = br#"{"version": 1, "name": "x", "changes": [{"kind": "churn", "segments": ["A"], "month": "2026-02", "percent": null}]}"#;
        let error = from_json("Scenario 1", text).expect_err("an empty percent");
        assert!(error.contains("(changes[0].percent is empty: give it a value)"), "{error}");
        assert!(error.starts_with("Scenario 1: line 1, column"), "{error}");
    }

    #[test]
    fn a_scenario_survives_its_own_json() {
        let original = scenario(
            r#"{"kind": "new_plan", "name": "Plus", "like": "Pro monthly", "price": 40, "month": "2025-04",
                "takes": [{"segment": "Pro monthly", "percent": 20}]},
               {"kind": "acquisition", "segments": ["Pro monthly"], "month": "2025-05", "percent": 25}"#,
        );
        let back = from_json("again.json", to_json(&original).as_bytes()).expect("reads back");
        assert_eq!(back, original);
        let compiled = compile(&back, &example_twin(), 12).expect("valid");
        assert_eq!(compiled.plan.new_plans[0].name, "Plus");
        assert!((compiled.plan.new_plans[0].price_ratio - 40.0 / 59.0).abs() < 1e-12);
    }
}
