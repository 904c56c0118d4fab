//! Import: bytes of a billing export in, subscription records and problem reports out.
//!
//! The importer recognises the format from the header, maps each row to one [`Subscription`], and
//! sets aside every row it cannot read with a [`Problem`] naming the line, the column, the value and
//! what to do about it. A file it cannot use at all is an [`ImportError`]. It never panics on input,
//! and it knows nothing of files on disk, the clock or the browser: callers pass bytes and options in.

mod record;
mod stripe;
mod table;
mod text;
pub mod values;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Minor};

pub use values::Instant;

/// The billing systems whose exports are recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Stripe,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Stripe => "stripe",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Stripe => "Stripe subscriptions export",
        }
    }
}

/// The unit of a billing interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalUnit {
    Day,
    Week,
    Month,
    Year,
}

/// How often a subscription renews: every `count` `unit`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BillingInterval {
    pub unit: IntervalUnit,
    pub count: u32,
}

impl BillingInterval {
    /// `month`, `year`, `3 months`: the label used in segment names.
    pub fn label(self) -> String {
        let unit = match self.unit {
            IntervalUnit::Day => "day",
            IntervalUnit::Week => "week",
            IntervalUnit::Month => "month",
            IntervalUnit::Year => "year",
        };
        if self.count == 1 {
            unit.to_owned()
        } else {
            format!("{} {unit}s", self.count)
        }
    }

    /// Normalises a price per interval to a month, exactly: a year is 12 months, a week 52/12 of a
    /// month's worth, a day 365/12, and the result is divided by the interval count.
    pub fn monthly(self, price_per_interval: Minor) -> Option<Minor> {
        let (numerator, denominator): (i128, i128) = match self.unit {
            IntervalUnit::Month => (1, 1),
            IntervalUnit::Year => (1, 12),
            IntervalUnit::Week => (52, 12),
            IntervalUnit::Day => (365, 12),
        };
        price_per_interval.scale(numerator, denominator * i128::from(self.count))
    }
}

/// A subscription's status as the export states it (Stripe's vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    PastDue,
    Unpaid,
    Trialing,
    Canceled,
    Incomplete,
    IncompleteExpired,
    Paused,
}

impl Status {
    /// `incomplete` and `incomplete_expired` subscriptions never paid.
    pub fn never_paid(self) -> bool {
        matches!(self, Status::Incomplete | Status::IncompleteExpired)
    }
}

/// One subscription, as every later stage sees it, whatever the export's format.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscription {
    /// The line of the file where the record starts (1-based, header is line 1 or later).
    pub line: u64,
    pub id: String,
    pub customer: String,
    pub product: String,
    pub interval: BillingInterval,
    pub status: Status,
    pub start: Instant,
    pub trial_start: Option<Instant>,
    pub trial_end: Option<Instant>,
    /// When the cancellation was requested.
    pub canceled_at: Option<Instant>,
    /// When the subscription really ended, as the export says or as its documented rules imply.
    pub ended_at: Option<Instant>,
    pub cancel_at_period_end: bool,
    pub current_period_start: Option<Instant>,
    pub current_period_end: Option<Instant>,
    /// Creation time, when the export has it.
    pub created: Option<Instant>,
    pub price_per_interval: Minor,
    pub quantity: u64,
    /// Monthly recurring revenue at list price: price x quantity, normalised to a month, exact.
    pub mrr: Minor,
}

impl Subscription {
    /// The instants at which something recorded in the file had already happened: creations,
    /// starts, cancellation requests, ends and period starts. Scheduled period and trial ends are
    /// not among them; they may lie in the future.
    pub fn happened_instants(&self) -> impl Iterator<Item = Instant> + '_ {
        [Some(self.start), self.created, self.trial_start, self.canceled_at, self.ended_at, self.current_period_start]
            .into_iter()
            .flatten()
    }
}

/// A row set aside, with everything a person needs to find and fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub file: String,
    /// The line where the record starts.
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
    pub hint: String,
}

/// A file that cannot be used at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    pub message: String,
    /// The rows set aside, when the file failed because none of its rows could be read.
    pub problems: Vec<Problem>,
}

impl ImportError {
    pub fn new(file: &str, message: String) -> ImportError {
        ImportError { file: file.to_owned(), message, problems: Vec::new() }
    }
}

/// How many of the problems an error message lists before it summarises the rest.
const PROBLEMS_IN_MESSAGE: usize = 10;

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)?;
        for p in self.problems.iter().take(PROBLEMS_IN_MESSAGE) {
            write!(f, "\n  {}:{}: {} `{}`: {}. {}", p.file, p.line, p.column, p.value, p.reason, p.hint)?;
        }
        if self.problems.len() > PROBLEMS_IN_MESSAGE {
            write!(f, "\n  ... and {} more.", self.problems.len() - PROBLEMS_IN_MESSAGE)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

/// What the caller knows that the file does not.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Analyse this currency (lower- or upper-case ISO code); by default the one most subscriptions use.
    pub currency: Option<String>,
}

/// How far the import has got, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub bytes_read: u64,
    pub bytes_total: u64,
}

/// Everything an import learned from one file.
#[derive(Clone, Debug)]
pub struct Import {
    pub file: String,
    pub format: Format,
    pub currency: Currency,
    /// Data rows in the file (empty lines excluded).
    pub rows_read: u64,
    pub subscriptions: Vec<Subscription>,
    pub problems: Vec<Problem>,
    /// Rows in other currencies than the analysed one, by currency code (they are also problems).
    pub other_currencies: Vec<(String, u64)>,
}

impl Import {
    /// Rows set aside: distinct lines with at least one problem.
    pub fn rows_set_aside(&self) -> u64 {
        let mut lines: Vec<u64> = self.problems.iter().map(|p| p.line).collect();
        lines.sort_unstable();
        lines.dedup();
        lines.len() as u64
    }
}

/// The formats the importer knows, in the order they are tried.
fn specs() -> [&'static table::FormatSpec; 1] {
    [&stripe::SPEC]
}

/// Reads one export. `on_progress` is called every thousand rows or so.
pub fn import(
    file: &str,
    bytes: &[u8],
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Import, ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(fail("the file is empty. Export the subscriptions again and choose that file.".into()));
    }
    if looks_binary(bytes) {
        return Err(fail(
            "this is not a CSV file (it holds binary data). Choose the CSV export of your billing system; \
             if it came as a zip, unpack it first."
                .into(),
        ));
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let layouts = text::candidate_layouts(text);
    // The first candidate header (top of the file first) that some format can read, and among the
    // formats that can read it, the one that knows most of its columns.
    let chosen = layouts.iter().find_map(|layout| {
        specs()
            .into_iter()
            .map(|spec| (spec, table::Columns::find(spec, &layout.header)))
            .filter(|(spec, columns)| spec.missing(columns).is_empty())
            .max_by_key(|(_, columns)| columns.matched())
            .map(|(spec, columns)| (layout, spec, columns))
    });
    let Some((layout, spec, columns)) = chosen else {
        return Err(fail(unrecognised(layouts.first())));
    };
    table::read(file, text, layout, spec, &columns, options, on_progress)
}

/// Says why no format fits: which columns the closest format lacks, and what the file has.
fn unrecognised(layout: Option<&text::Layout>) -> String {
    let Some(layout) = layout else {
        return "the file holds no table. Choose the CSV export of your billing system.".into();
    };
    let closest = specs()
        .into_iter()
        .map(|spec| {
            let columns = table::Columns::find(spec, &layout.header);
            let distinctive = spec.distinctive.iter().filter(|f| columns.has(**f)).count();
            (distinctive, columns.matched(), spec, columns)
        })
        .max_by_key(|(distinctive, matched, _, _)| (*distinctive, *matched));
    let found: Vec<&str> = layout.header.iter().map(|h| h.trim()).take(40).collect();
    let Some((distinctive, _, spec, columns)) = closest else {
        return "no format is known".into();
    };
    let missing = spec.missing(&columns).join(", ");
    let lead = if distinctive > 0 {
        format!("this looks like a {}, but it lacks the column(s) {missing}.", spec.format.label())
    } else {
        format!("this is not a recognised billing export: it lacks the column(s) {missing}.")
    };
    format!(
        "{lead} subtwin reads the {} ({}), which has the columns {}. The file's header is: {}.",
        spec.format.label(),
        spec.how_to_export,
        spec.required_names().join(", "),
        found.join(", ")
    )
}

/// A NUL byte, or many control characters, in the first few kilobytes means a binary file.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    let controls = head.iter().filter(|&&b| b < 0x09 || (0x0E..0x20).contains(&b)).count();
    head.contains(&0) || controls * 20 > head.len()
}

/// Header matching as the formats expect it: trimmed, BOM removed, case folded, a trailing
/// ` (UTC)` ignored.
pub fn normalise_header(name: &str) -> String {
    let name = name.trim_start_matches('\u{feff}').trim().to_lowercase();
    name.strip_suffix("(utc)").map(|s| s.trim_end().to_owned()).unwrap_or(name)
}
