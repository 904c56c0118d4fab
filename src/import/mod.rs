//! Import: bytes of a billing export in, subscription records and problem reports out.
//!
//! The importer recognises the format from the header (Stripe's, Chargebee's, Recurly's or the
//! Baremetrics template; Chargebee's export zip is opened for its `Subscriptions.csv`), or takes the
//! one [`ImportOptions::format`] names. It maps each row to one [`Subscription`], and sets aside
//! every row it cannot read with a [`Problem`] naming the line, the column, the value and what to do
//! about it. A file it cannot use at all is an [`ImportError`]. It never panics on input,
//! and it knows nothing of files on disk, the clock or the browser: callers pass bytes and options in.
//!
//! Two other kinds of table are not subscription lists and have readers of their own: [`snapshot`]
//! tables (one row per customer with a tenure and a churn flag, no dates) and [`cohort`] survival
//! tables (survivors by segment, cohort and age). [`table_kind`] tells the kinds apart by the header.

mod baremetrics;
mod chargebee;
pub mod charges;
pub mod cohort;
mod infer;
pub mod mapped;
mod reader;
mod record;
mod recurly;
mod sheet;
pub mod snapshot;
mod stripe;
mod table;
mod text;
pub mod values;

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Minor};

pub use values::Instant;

/// The billing systems whose exports are recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Stripe,
    Chargebee,
    Recurly,
    Baremetrics,
    /// Any table, read through a person's column mapping.
    Mapped,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Stripe, Format::Chargebee, Format::Recurly, Format::Baremetrics];

    pub fn name(self) -> &'static str {
        match self {
            Format::Stripe => "stripe",
            Format::Chargebee => "chargebee",
            Format::Recurly => "recurly",
            Format::Baremetrics => "baremetrics",
            Format::Mapped => "mapped",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Stripe => "Stripe subscriptions export",
            Format::Chargebee => "Chargebee subscriptions export",
            Format::Recurly => "Recurly subscriptions export",
            Format::Baremetrics => "Baremetrics CSV import file",
            Format::Mapped => "table mapped column by column",
        }
    }

    /// The format a name (`stripe`, `chargebee`, ...) stands for, in any case.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(name.trim()))
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

    /// Reads back what [`BillingInterval::label`] wrote (a report's `interval`).
    pub fn from_label(label: &str) -> Option<BillingInterval> {
        let (count, unit) = match label.trim().split_once(' ') {
            Some((count, unit)) => (count.parse().ok()?, unit.strip_suffix('s')?),
            None => (1, label.trim()),
        };
        let unit = match unit {
            "day" => IntervalUnit::Day,
            "week" => IntervalUnit::Week,
            "month" => IntervalUnit::Month,
            "year" => IntervalUnit::Year,
            _ => return None,
        };
        (count > 0).then_some(BillingInterval { unit, count })
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

/// A subscription's status, in Stripe's vocabulary; each format maps its own words onto it.
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
    /// No MRR while paused: from [`Subscription::paused_at`] on when the export says when the pause
    /// began, else (Stripe's paused trials) at no time at all.
    Paused,
    /// Scheduled to start later (Chargebee `Future`, Recurly `future`): not started, never counted in
    /// the history, and not a problem.
    Scheduled,
}

impl Status {
    /// `incomplete` and `incomplete_expired` subscriptions never paid.
    pub fn never_paid(self) -> bool {
        matches!(self, Status::Incomplete | Status::IncompleteExpired)
    }
}

/// Where a subscription's billing interval came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalSource {
    /// An interval column of the export.
    #[default]
    Stated,
    /// The length of the current billing period (term) the export gives.
    PeriodDates,
    /// Other subscriptions of the same plan, whose period dates gave it.
    SamePlan,
    /// A word in the plan's id or name (`monthly`, `annual`, `3-month`, ...).
    PlanName,
    /// Not known yet: only while a file is being read. Such rows get their plan's interval from other
    /// rows or are set aside before the import returns, so no imported subscription has it.
    Unknown,
}

/// One subscription, as every later stage sees it, whatever the export's format.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscription {
    /// The line of the file where the record starts (1-based, header is line 1 or later).
    pub line: u64,
    pub id: String,
    pub customer: String,
    pub product: String,
    /// The plan or price id, when the export has one apart from the product.
    pub plan: Option<String>,
    pub interval: BillingInterval,
    pub interval_source: IntervalSource,
    pub status: Status,
    pub start: Instant,
    pub trial_start: Option<Instant>,
    pub trial_end: Option<Instant>,
    /// When the cancellation was requested.
    pub canceled_at: Option<Instant>,
    /// When the subscription really ended, as the export says or as its documented rules imply.
    pub ended_at: Option<Instant>,
    pub cancel_at_period_end: bool,
    /// It ended because its renewal payments failed, when the export says so: its end comes after
    /// the dunning retries, but the renewal it failed is the one before that end.
    pub payment_failed: bool,
    pub current_period_start: Option<Instant>,
    pub current_period_end: Option<Instant>,
    /// When a paused subscription's pause began, when the export says.
    pub paused_at: Option<Instant>,
    /// Creation time, when the export has it.
    pub created: Option<Instant>,
    pub price_per_interval: Minor,
    pub quantity: u64,
    /// The segment's name without its interval, when the person chose what segments are made of
    /// (`ImportOptions::segment_by`); else segments are by product.
    pub segment: Option<String>,
    /// Monthly recurring revenue when the paid span starts: at list price (price x quantity,
    /// normalised to a month, exact), or as first invoiced when an invoices export refines it.
    pub mrr: Minor,
    /// Later changes of the MRR within the subscription, in time order: empty unless an invoices or
    /// payments export shows them ([`charges::refine`]).
    pub mrr_changes: Vec<MrrChange>,
}

/// From this instant on, the subscription's MRR is this amount.
pub type MrrChange = (Instant, Minor);

impl Subscription {
    /// The instants at which something recorded in the file had already happened: creations,
    /// starts, cancellation requests, ends, pauses and period starts. Scheduled period and trial ends
    /// are not among them; they may lie in the future. Of a scheduled subscription, only its creation.
    pub fn happened_instants(&self) -> impl Iterator<Item = Instant> + '_ {
        let started = self.status != Status::Scheduled;
        [
            self.created,
            started.then_some(self.start),
            self.trial_start.filter(|_| started),
            self.canceled_at,
            self.ended_at,
            self.current_period_start.filter(|_| started),
            self.paused_at,
        ]
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

/// How many distinct lines the problems name: the rows set aside.
pub(crate) fn lines_with_problems(problems: &[Problem]) -> u64 {
    let mut lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
    lines.sort_unstable();
    lines.dedup();
    lines.len() as u64
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
    /// Read the file as this format instead of recognising it from the header.
    pub format: Option<Format>,
    /// How the file writes slashed dates (`03/04/2025`), when the person says so; otherwise read
    /// from the dates themselves, and asked for when they cannot tell.
    pub date_order: Option<values::DateOrder>,
    /// A person's column mapping: the file is read through it instead of being recognised.
    pub mapping: Option<mapped::ColumnMapping>,
    /// Exchange rates into one analysis currency: rows in a currency with a rate are converted
    /// instead of set aside.
    pub fx: Option<crate::money::ExchangeRates>,
    /// Now, as the caller's clock says (the core reads no clock): a subscription that starts after
    /// the end of this day is a problem unless the export says it is scheduled.
    pub today: Option<Instant>,
    /// Snapshot tables only: the column to segment by, instead of the default (a contract, plan or
    /// product column when there is one).
    pub segment: Option<String>,
    /// Subscriptions exports: what segments are made of, instead of the product: `product`, `plan`,
    /// `price` (the unit price), `interval`, or the file's own column names. The billing interval is
    /// always part of a segment (each segment has one renewal clock).
    pub segment_by: Vec<String>,
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
    /// What the import inferred or assumed that the file does not state, one sentence each (such as
    /// "billing interval inferred from the current term dates for 120 subscriptions").
    pub notes: Vec<String>,
}

impl Import {
    /// Rows set aside: distinct lines with at least one problem.
    pub fn rows_set_aside(&self) -> u64 {
        lines_with_problems(&self.problems)
    }
}

/// What a file holds, as its header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// A subscriptions export (or a zip, an empty or a binary file, whose errors the subscriptions
    /// import states), or a table read through a mapping or as a named format.
    Subscriptions,
    /// A snapshot table: a tenure and a churn flag per customer ([`snapshot`]).
    Snapshot,
    /// A cohort survival table ([`cohort`]).
    Cohorts,
    /// A Stripe invoices or payments export, which refines a subscriptions export's revenue
    /// ([`charges`]).
    Charges,
    /// Nothing subtwin reads: the subscriptions import says what is missing.
    Unrecognised,
}

/// Tells the kinds apart: a header that some subscriptions format reads is a subscriptions export;
/// otherwise one with `cohort` and `age` columns is a cohort table, and one with a tenure and a
/// churn flag a snapshot table. A format or a mapping the person gives means subscriptions.
pub fn table_kind(bytes: &[u8], options: &ImportOptions) -> TableKind {
    if options.format.is_some()
        || options.mapping.is_some()
        || is_zip(bytes)
        || looks_binary(bytes)
        || bytes.iter().all(|b| b.is_ascii_whitespace())
    {
        return TableKind::Subscriptions;
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let layouts = text::candidate_layouts(text);
    let readable = |header: &[String]| {
        specs().into_iter().any(|spec| spec.missing(&table::Columns::find(spec, header)).is_empty())
    };
    if layouts.iter().any(|layout| readable(&layout.header)) {
        return TableKind::Subscriptions;
    }
    for layout in &layouts {
        if charges::recognise(&layout.header).is_some() {
            return TableKind::Charges;
        }
        if cohort::recognise(&layout.header) {
            return TableKind::Cohorts;
        }
        if snapshot::recognise(&layout.header) {
            return TableKind::Snapshot;
        }
    }
    TableKind::Unrecognised
}

/// The formats the importer knows, in the order they are tried.
fn specs() -> [&'static table::FormatSpec; 4] {
    [&stripe::SPEC, &chargebee::SPEC, &recurly::SPEC, &baremetrics::SPEC]
}

/// A zip archive starts with a local file header (or, when empty, the end of its central directory).
fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The largest table read out of a zip: beyond this a page's memory would not hold it anyway, and a
/// small archive that claims more is a zip bomb.
const MAX_UNZIPPED_BYTES: u64 = 1 << 30;

/// Reads one export: a CSV, or the zip Chargebee's Export Data downloads (its `Subscriptions.csv` is
/// read). `on_progress` is called every thousand rows or so.
pub fn import(
    file: &str,
    bytes: &[u8],
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Import, ImportError> {
    let import = import_any(file, bytes, options, on_progress)?;
    if import.subscriptions.is_empty() {
        return Err(nothing_readable(vec![import]));
    }
    Ok(import)
}

/// Reads one export, a zip or a table; an import with no subscriptions is not an error here.
fn import_any(
    file: &str,
    bytes: &[u8],
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Import, ImportError> {
    import_reader(file, bytes, Some(bytes.len() as u64), options, on_progress)
}

/// How much of a file is read before anything is decided: enough for the layout's sample and for
/// the date order's (up to [`table::DATE_ORDER_SAMPLE_ROWS`] rows, of ordinary length).
const HEAD_BYTES: usize = 16 << 20;

/// Reads one export from a reader, as [`import`] reads bytes (an import with no subscriptions is not
/// an error here), a chunk at a time: a table's text is never held whole, only its records (and its
/// first [`HEAD_BYTES`]). A zip is read whole, as unpacking needs. `len_hint` is the file's size when
/// known, for progress reports and to size the records' vector.
pub fn import_reader(
    file: &str,
    mut reader: impl Read,
    len_hint: Option<u64>,
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Import, ImportError> {
    let unreadable = |error: std::io::Error| {
        ImportError::new(file, format!("the file could not be read ({error}). Choose it again."))
    };
    let mut head = Vec::with_capacity(len_hint.map_or(1 << 16, |n| n.min(HEAD_BYTES as u64) as usize));
    (&mut reader).take(HEAD_BYTES as u64).read_to_end(&mut head).map_err(unreadable)?;
    if is_zip(&head) {
        reader.read_to_end(&mut head).map_err(unreadable)?;
        let (inner, table) = subscriptions_from_zip(file, &head)?;
        drop(head);
        let size = table.len() as u64;
        return import_table(&format!("{file}/{inner}"), table, std::io::empty(), Some(size), options, on_progress);
    }
    let size = len_hint.or_else(|| (head.len() < HEAD_BYTES).then_some(head.len() as u64));
    import_table(file, head, reader, size, options, on_progress)
}

/// The `Subscriptions.csv` inside a zip (in any folder, any case), with its name in the archive.
fn subscriptions_from_zip(file: &str, bytes: &[u8]) -> Result<(String, Vec<u8>), ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| fail(format!("this zip file cannot be read ({e}). Download the export again.")))?;
    let mut names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    names.sort();
    let base = |name: &str| name.rsplit(['/', '\\']).next().unwrap_or(name).to_owned();
    let Some(name) = names.iter().find(|n| base(n).eq_ignore_ascii_case("subscriptions.csv")).cloned() else {
        let files: Vec<&str> = names.iter().filter(|n| !n.ends_with('/')).map(String::as_str).collect();
        let listed = if files.is_empty() {
            "nothing".to_owned()
        } else if files.len() > 20 {
            format!("{} and {} more files", files[..20].join(", "), files.len() - 20)
        } else {
            files.join(", ")
        };
        return Err(fail(format!(
            "this zip holds no Subscriptions.csv (it holds {listed}). subtwin reads the zip of Chargebee's \
             Export Data, or a subscriptions CSV on its own: unpack the zip and choose the subscriptions file."
        )));
    };
    let mut entry = archive.by_name(&name).map_err(|e| fail(format!("{name} in this zip cannot be read ({e}).")))?;
    // The size the archive claims is only a hint: a damaged or hostile one may claim anything.
    let claimed = entry.size().min(MAX_UNZIPPED_BYTES).min(bytes.len() as u64 * 8);
    let mut table = Vec::with_capacity(claimed as usize);
    (&mut entry)
        .take(MAX_UNZIPPED_BYTES + 1)
        .read_to_end(&mut table)
        .map_err(|e| fail(format!("{name} in this zip cannot be unpacked ({e}). Download the export again.")))?;
    if table.len() as u64 > MAX_UNZIPPED_BYTES {
        return Err(fail(format!(
            "{name} in this zip unpacks to more than {} MB, more than subtwin reads from a zip; unpack it and \
             choose the CSV.",
            MAX_UNZIPPED_BYTES >> 20
        )));
    }
    Ok((base(&name), table))
}

/// Reads a table: `head` is its first bytes (all of them when shorter than [`HEAD_BYTES`]), `rest`
/// the others.
fn import_table(
    file: &str,
    head: Vec<u8>,
    rest: impl Read,
    len_hint: Option<u64>,
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Import, ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    let whole = head.len() < HEAD_BYTES;
    if whole && head.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(fail("the file is empty. Export the subscriptions again and choose that file.".into()));
    }
    if looks_binary(&head) {
        return Err(fail(
            "this is not a CSV file (it holds binary data). Choose the CSV export of your billing system; \
             if it came as a zip, unpack it first."
                .into(),
        ));
    }
    let bom = if head.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let text = &head[bom..];
    // What the date order is decided from: the head, without a last line it may cut short.
    let sample = if whole { text } else { &text[..text.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1)] };
    let layouts = text::candidate_layouts(text);
    // The formats to consider: the one asked for, or all of them.
    let candidates: Vec<&table::FormatSpec> =
        specs().into_iter().filter(|spec| options.format.is_none_or(|f| spec.format == f)).collect();
    // The first candidate header (top of the file first) that some format can read, and among the
    // formats that can read it, the one that knows most of its columns.
    let chosen = layouts.iter().find_map(|layout| {
        candidates
            .iter()
            .map(|spec| (*spec, table::Columns::find(spec, &layout.header)))
            .filter(|(spec, columns)| spec.missing(columns).is_empty())
            .max_by_key(|(_, columns)| columns.matched())
            .map(|(spec, columns)| (layout, spec, columns))
    });
    let chosen = match &options.mapping {
        None => chosen,
        Some(mapping) => {
            let layout = layouts.first().ok_or_else(|| fail("the file holds no table.".into()))?;
            Some((layout, &mapped::SPEC, mapping.columns(&layout.header).map_err(fail)?))
        }
    };
    let Some((layout, spec, columns)) = chosen else {
        return Err(fail(unrecognised(layouts.first(), &candidates, options.format.is_some())));
    };
    let mut columns = columns;
    columns.today = options.today.map(values::end_of_day);
    columns.segment_by = table::segment_parts(&options.segment_by, &layout.header).map_err(fail)?;
    columns.date_order = match options.date_order {
        Some(order) => order,
        None => table::detect_date_order(sample, layout, &columns).map_err(fail)?,
    };
    let offset = bom + layout.header_offset;
    let body = (&head[offset..]).chain(rest);
    let total = len_hint.unwrap_or(0);
    let mut import = table::read(file, body, offset as u64, total, layout, spec, &columns, options, on_progress)?;
    let plan_column =
        columns.name(table::Field::Plan).or_else(|| columns.name(table::Field::Product)).unwrap_or("plan").to_owned();
    infer::resolve_unknown_intervals(&mut import, &plan_column);
    let inferred = notes(&import, &columns);
    import.notes.splice(0..0, inferred);
    Ok(import)
}

/// The error for an analysis left with no subscription: every row was set aside.
pub fn nothing_readable(imports: Vec<Import>) -> ImportError {
    let rows: u64 = imports.iter().map(|i| i.rows_read).sum();
    let file = imports.iter().map(|i| i.file.as_str()).collect::<Vec<_>>().join(", ");
    let whose = if imports.len() == 1 { "the file's" } else { "the files'" };
    ImportError {
        file,
        message: format!(
            "none of {whose} {rows} rows could be read; they were all set aside. Fix them and import again."
        ),
        problems: imports.into_iter().flat_map(|i| i.problems).collect(),
    }
}

/// What the import inferred or assumed, for the summary.
fn notes(import: &Import, columns: &table::Columns) -> Vec<String> {
    // One pass over the subscriptions (there may be millions) counts every source.
    let mut by_source: Vec<(IntervalSource, usize)> = Vec::new();
    for subscription in &import.subscriptions {
        match by_source.iter_mut().find(|(source, _)| *source == subscription.interval_source) {
            Some((_, n)) => *n += 1,
            None => by_source.push((subscription.interval_source, 1)),
        }
    }
    let count = |source: IntervalSource| by_source.iter().find(|(s, _)| *s == source).map_or(0, |(_, n)| *n);
    let subscriptions = |n: usize| if n == 1 { "1 subscription".to_owned() } else { format!("{n} subscriptions") };
    let dates = if import.format == Format::Chargebee { "term dates" } else { "current period dates" };
    let mut notes = Vec::new();
    for (source, from) in [
        (IntervalSource::PeriodDates, dates.to_owned()),
        (IntervalSource::SamePlan, "other subscriptions of the same plan".to_owned()),
        (IntervalSource::PlanName, "the plan name (such as `monthly` or `annual`)".to_owned()),
    ] {
        let n = count(source);
        if n > 0 {
            notes.push(format!("billing interval inferred from {from} for {}", subscriptions(n)));
        }
    }
    if import.format != Format::Stripe {
        let paused =
            import.subscriptions.iter().filter(|s| s.status == Status::Paused && s.paused_at.is_none()).count();
        if paused > 0 {
            notes.push(format!(
                "{} paused without saying when the pause began: no MRR counted for them at any time",
                subscriptions(paused)
            ));
        }
    }
    if columns.has(table::Field::AmountMinor) && !columns.has(table::Field::Amount) {
        let column = columns.name(table::Field::AmountMinor).unwrap_or("price");
        notes.push(format!("{column} read in the currency's minor unit (cents), as Chargebee's API defines it"));
    }
    notes
}

/// Says why no format fits: which columns the closest format lacks, and what the file has.
fn unrecognised(layout: Option<&text::Layout>, candidates: &[&table::FormatSpec], forced: bool) -> String {
    let Some(layout) = layout else {
        return "the file holds no table. Choose the CSV export of your billing system.".into();
    };
    // The format whose distinctive columns the file has most of, then the one that knows most of its
    // columns; on a tie, the first (Stripe's, the commonest).
    let closest = candidates
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let columns = table::Columns::find(spec, &layout.header);
            let distinctive = spec.distinctive.iter().filter(|f| columns.has(**f)).count();
            (distinctive, columns.matched(), std::cmp::Reverse(index), *spec, columns)
        })
        .max_by_key(|(distinctive, matched, index, _, _)| (*distinctive, *matched, *index))
        .map(|(distinctive, matched, _, spec, columns)| (distinctive, matched, spec, columns));
    let found: Vec<&str> = layout.header.iter().map(|h| h.trim()).take(40).collect();
    let Some((distinctive, _, spec, columns)) = closest else {
        return "no format is known".into();
    };
    let missing = spec.missing(&columns).join(", ");
    let lead = if forced {
        format!("read as a {} (as asked), the file lacks the column(s) {missing}.", spec.format.label())
    } else if distinctive > 0 {
        format!("this looks like a {}, but it lacks the column(s) {missing}.", spec.format.label())
    } else {
        format!("this is not a recognised billing export: it lacks the column(s) {missing}.")
    };
    let others: Vec<&str> =
        candidates.iter().filter(|other| other.format != spec.format).map(|other| other.format.label()).collect();
    let also = if forced || distinctive > 0 || others.is_empty() {
        String::new()
    } else {
        format!(" It also reads: {}.", others.join("; "))
    };
    format!(
        "{lead} subtwin reads the {} ({}), which has the columns {}.{also} The file's header is: {}.",
        spec.format.label(),
        spec.how_to_export,
        spec.required_names().join(", "),
        found.join(", ")
    )
}

/// The first rows of a table as a person would see them, for the page's mapping form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// A first guess at the mapping, from the header's names.
    pub suggested: mapped::ColumnMapping,
}

/// The header and up to `rows` rows of a table; `None` when the bytes hold no table.
pub fn preview(bytes: &[u8], rows: usize) -> Option<Preview> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let layout = text::candidate_layouts(text).into_iter().next()?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .delimiter(layout.delimiter)
        .from_reader(&text[layout.header_offset..]);
    let mut record = csv::ByteRecord::new();
    let mut shown = Vec::new();
    while shown.len() < rows && matches!(reader.read_byte_record(&mut record), Ok(true)) {
        shown.push(record.iter().map(|cell| table::decode(cell).chars().take(80).collect()).collect());
    }
    let suggested = mapped::suggest(&layout.header);
    Some(Preview { header: layout.header, rows: shown, suggested })
}

/// Reads several exports for one analysis (a migration's two billing systems, or yearly files).
///
/// One currency for all: the one asked for, else the one most subscriptions use across the files
/// (a file that chose another on its own is read again in that one). A subscription id that an
/// earlier file already holds is set aside in the later one.
pub fn import_all(
    inputs: &[(&str, &[u8])],
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Import>, ImportError> {
    let mut imports = Vec::with_capacity(inputs.len());
    for (file, bytes) in inputs {
        imports.push(import_any(file, bytes, options, on_progress)?);
    }
    if options.currency.is_none() && imports.iter().any(|i| i.currency != imports[0].currency) {
        let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        for import in &imports {
            *counts.entry(import.currency.code.clone()).or_default() += import.subscriptions.len() as u64;
            for (code, rows) in &import.other_currencies {
                *counts.entry(code.clone()).or_default() += rows;
            }
        }
        let chosen = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(code, _)| code.clone());
        let again = ImportOptions { currency: chosen.clone(), ..options.clone() };
        for (index, (file, bytes)) in inputs.iter().enumerate() {
            if Some(&imports[index].currency.code) != chosen.as_ref() {
                imports[index] = import_any(file, bytes, &again, on_progress)?;
            }
        }
    }
    let mut seen: std::collections::HashMap<String, (String, u64)> = std::collections::HashMap::new();
    for import in &mut imports {
        let file = import.file.clone();
        let mut duplicates = Vec::new();
        import.subscriptions.retain(|s| match seen.get(&s.id) {
            Some((first_file, first_line)) => {
                duplicates.push(Problem {
                    file: file.clone(),
                    line: s.line,
                    column: "id".into(),
                    value: s.id.clone(),
                    reason: format!("this subscription id is already in {first_file} (line {first_line})"),
                    hint: "Give each subscription once: leave the overlapping rows out of one of the files.".into(),
                });
                false
            }
            None => {
                seen.insert(s.id.clone(), (file.clone(), s.line));
                true
            }
        });
        import.problems.extend(duplicates);
        import.problems.sort_by_key(|p| p.line);
    }
    Ok(imports)
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
