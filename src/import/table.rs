//! Tables: what every CSV-shaped export shares, whatever billing system wrote it.
//!
//! A format is a [`FormatSpec`]: the columns it reads (each with the spellings seen in the wild),
//! which of them it cannot do without, and a function that turns one row into a [`Subscription`].
//! This module finds the columns by name in the header, walks the rows, decodes each cell (UTF-8,
//! or Windows-1252 when a cell is not valid UTF-8, as spreadsheets on Windows save them), hands the
//! rows to the format, sets aside the rows it refuses, and keeps one currency per analysis.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::text::Layout;
use super::values::{order_evidence, parse_bool, parse_instant_in, to_datetime, DateOrder, Instant, OrderEvidence};
use super::{normalise_header, Format, Import, ImportError, ImportOptions, Problem, Progress, Subscription};
use crate::money::{parse_major_amount, Currency, Minor};

/// Every column any format reads, by meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Field {
    Id,
    Customer,
    Status,
    Created,
    Start,
    CurrentPeriodStart,
    CurrentPeriodEnd,
    TrialStart,
    TrialEnd,
    CanceledAt,
    EndedAt,
    CancelAtPeriodEnd,
    Product,
    ProductId,
    Plan,
    Quantity,
    Interval,
    IntervalCount,
    Amount,
    Currency,
    /// A price in the currency's minor unit (Chargebee's bulk-import `subscription[plan_unit_price]`).
    AmountMinor,
    /// When a subscription starts or is scheduled to (Chargebee's `start_date`, beside `started_at`).
    StartsAt,
    /// When a paused subscription's pause began.
    PausedAt,
    /// Whether the subscription renews at the end of its term (Recurly's `auto_renew`).
    AutoRenew,
    /// The end of the current contract term, when it differs from the billing period (Recurly).
    TermEnd,
}

/// A column a format reads: its meaning, its name as the vendor writes it today, and every
/// accepted spelling after [`normalise_header`] (lower case, no ` (UTC)` suffix).
pub(crate) struct ColumnSpec {
    pub field: Field,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
}

/// One subscription read from a row, and the currency it is billed in (lower-case ISO code).
pub(crate) struct Parsed {
    pub subscription: Subscription,
    pub currency: String,
}

pub(crate) struct FormatSpec {
    pub format: Format,
    pub columns: &'static [ColumnSpec],
    /// Each group needs at least one of its columns.
    pub required: &'static [&'static [Field]],
    /// Columns no other format has: their presence says "this is meant to be that format".
    pub distinctive: &'static [Field],
    /// Where a person finds this export, for messages.
    pub how_to_export: &'static str,
    pub parse_row: fn(&Row) -> Result<Parsed, Vec<Problem>>,
}

impl FormatSpec {
    fn canonical(&self, field: Field) -> &'static str {
        self.columns.iter().find(|c| c.field == field).map(|c| c.name).unwrap_or("?")
    }

    /// The required columns the header lacks, by their canonical names.
    pub fn missing(&self, columns: &Columns) -> Vec<&'static str> {
        self.required
            .iter()
            .filter(|group| !group.iter().any(|f| columns.has(*f)))
            .map(|group| self.canonical(group[0]))
            .collect()
    }

    pub fn required_names(&self) -> Vec<&'static str> {
        self.required.iter().map(|group| self.canonical(group[0])).collect()
    }
}

/// Longer than any real export's field: such a value is set aside rather than carried around.
pub(crate) const MAX_FIELD_BYTES: usize = 1024;

/// Dates outside [1970-01-01, 2200-01-01) are typos or placeholders, not billing events.
const EARLIEST_PLAUSIBLE: Instant = 0;
const LATEST_PLAUSIBLE: Instant = 7_258_118_400;

/// How often the progress callback runs, in rows.
const PROGRESS_EVERY_ROWS: u64 = 1024;

/// Where each field sits in one file's header, and how the file writes its dates.
pub(crate) struct Columns {
    index: HashMap<Field, usize>,
    names: Vec<String>,
    /// Values a person fixed for fields the file has no column for (a mapping's `interval=@month`).
    fixed: HashMap<Field, String>,
    /// Decided once per file by [`detect_date_order`] (or given by the person).
    pub date_order: DateOrder,
    /// The day the file is read (its last second), when the caller knows it: nothing but a
    /// scheduled subscription can start after it.
    pub today: Option<Instant>,
}

impl Columns {
    pub fn find(spec: &FormatSpec, header: &[String]) -> Columns {
        let mut index = HashMap::new();
        for (position, name) in header.iter().enumerate() {
            let normalised = normalise_header(name);
            for column in spec.columns {
                if column.aliases.contains(&normalised.as_str()) {
                    index.entry(column.field).or_insert(position);
                }
            }
        }
        Columns::from_parts(index, header, HashMap::new())
    }

    /// Columns placed by a person's mapping rather than found by name.
    pub fn from_parts(index: HashMap<Field, usize>, header: &[String], fixed: HashMap<Field, String>) -> Columns {
        Columns {
            index,
            names: header.iter().map(|h| h.trim().to_owned()).collect(),
            fixed,
            date_order: DateOrder::IsoOnly,
            today: None,
        }
    }

    pub fn has(&self, field: Field) -> bool {
        self.index.contains_key(&field) || self.fixed.contains_key(&field)
    }

    /// How many of the header's columns the format knows.
    pub fn matched(&self) -> usize {
        self.index.len()
    }

    /// The column's name as this file writes it.
    pub fn name(&self, field: Field) -> Option<&str> {
        self.index.get(&field).and_then(|&i| self.names.get(i)).map(String::as_str)
    }
}

/// One data row, with everything needed to read its cells and report its problems.
pub(crate) struct Row<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::ByteRecord,
    columns: &'a Columns,
    spec: &'a FormatSpec,
}

/// A row's readers return a [`Problem`] as their error: a few strings, built only on the cold path,
/// so its size does not matter (hence the lint allowance).
#[allow(clippy::result_large_err)]
impl Row<'_> {
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The day the file is read, if known (see [`Columns::today`]).
    pub fn today(&self) -> Option<Instant> {
        self.columns.today
    }

    /// The cell's text: UTF-8, or Windows-1252 when the bytes are not valid UTF-8. Blank when the
    /// file has no such column.
    pub fn raw(&self, field: Field) -> Cow<'_, str> {
        if let Some(fixed) = self.columns.fixed.get(&field) {
            return Cow::Borrowed(fixed);
        }
        let bytes = self.columns.index.get(&field).and_then(|&i| self.record.get(i)).unwrap_or(b"");
        decode(bytes)
    }

    /// The trimmed cell, `None` when blank or absent.
    pub fn text(&self, field: Field) -> Option<String> {
        let raw = self.raw(field);
        let trimmed = raw.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    pub fn problem(&self, field: Field, reason: String, hint: &str) -> Problem {
        Problem {
            file: self.file.to_owned(),
            line: self.line,
            column: self.columns.name(field).unwrap_or_else(|| self.spec.canonical(field)).to_owned(),
            value: self.raw(field).into_owned(),
            reason,
            hint: hint.to_owned(),
        }
    }

    /// An optional instant. Blank is `None`; an unreadable or implausible date is a problem.
    pub fn instant(&self, field: Field, hint: &str) -> Result<Option<Instant>, Problem> {
        let raw = self.raw(field);
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        match parse_instant_in(text, self.columns.date_order) {
            None if self.columns.date_order != DateOrder::IsoOnly
                && order_evidence(text) != OrderEvidence::NotSlashed =>
            {
                let order = if self.columns.date_order == DateOrder::DayMonth { "day/month" } else { "month/day" };
                Err(self.problem(
                    field,
                    format!("not a date in the file's {order} order"),
                    "The file's other dates fixed its order; check this one, or say the order with --date-order.",
                ))
            }
            None => Err(self.problem(field, "not a date subtwin can read".into(), hint)),
            Some(instant) if !(EARLIEST_PLAUSIBLE..LATEST_PLAUSIBLE).contains(&instant) => {
                let year = to_datetime(instant).year();
                Err(self.problem(
                    field,
                    format!("the year {year} lies outside 1970 to 2199, the years a billing export can hold"),
                    "It is probably a typo or a spreadsheet's placeholder date; correct it or export again.",
                ))
            }
            Some(instant) => Ok(Some(instant)),
        }
    }

    /// `true`/`false` (also yes/no, 1/0); blank is `false`.
    pub fn flag(&self, field: Field, hint: &str) -> Result<bool, Problem> {
        parse_bool(&self.raw(field)).ok_or_else(|| self.problem(field, "expected true or false".into(), hint))
    }

    /// A non-negative amount in major units (`19.00`), exact in the currency's minor units.
    pub fn major_amount(&self, field: Field, currency: &Currency, hint: &str) -> Result<Minor, Problem> {
        parse_major_amount(&self.raw(field), currency.minor_digits).map_err(|reason| self.problem(field, reason, hint))
    }

    /// A whole number of units; blank means `default_when_blank`.
    pub fn count(&self, field: Field, default_when_blank: u64, max: u64, hint: &str) -> Result<u64, Problem> {
        let raw = self.raw(field);
        let text = raw.trim();
        if text.is_empty() {
            return Ok(default_when_blank);
        }
        match text.parse::<u64>() {
            Ok(value) if value <= max => Ok(value),
            _ => Err(self.problem(field, format!("not a whole number between 0 and {max}"), hint)),
        }
    }

    /// The problem when the row's field count differs from the header's, or a field is absurdly long.
    fn shape_problem(&self) -> Option<Problem> {
        if self.record.len() != self.columns.names.len() {
            return Some(Problem {
                file: self.file.to_owned(),
                line: self.line,
                column: String::new(),
                value: format!("{} fields", self.record.len()),
                reason: format!(
                    "the row has {} fields and the header has {}",
                    self.record.len(),
                    self.columns.names.len()
                ),
                hint: "A field probably holds an unquoted delimiter or a stray quote; fix the row or export again."
                    .into(),
            });
        }
        let (position, field) = self.record.iter().enumerate().find(|(_, v)| v.len() > MAX_FIELD_BYTES)?;
        let value: String = decode(field).chars().take(40).collect();
        Some(Problem {
            file: self.file.to_owned(),
            line: self.line,
            column: self.columns.names.get(position).cloned().unwrap_or_default(),
            value: format!("{value}…"),
            reason: format!("the field is longer than {MAX_FIELD_BYTES} bytes, more than any real export holds"),
            hint: "The row is probably damaged (a missing closing quote joins many lines); fix it or export again."
                .into(),
        })
    }
}

/// How many rows the date order is decided from.
const DATE_ORDER_SAMPLE_ROWS: usize = 50_000;

/// Decides how the file writes slashed dates from the cells themselves: a first number above 12
/// means day/month, a second one above 12 month/day. When its dates are slashed but none settles
/// the order, or the file holds both kinds, the person is asked (the error says how).
pub(crate) fn detect_date_order(text: &[u8], layout: &Layout, columns: &Columns) -> Result<DateOrder, String> {
    let body = &text[layout.header_offset.min(text.len())..];
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).has_headers(true).delimiter(layout.delimiter).from_reader(body);
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new();
    lines.line_of(body, 0);
    let positions: Vec<usize> = columns.index.values().copied().collect();
    // The first cell of each kind, with its line, for the message.
    let mut day_first: Option<(u64, String)> = None;
    let mut month_first: Option<(u64, String)> = None;
    let mut either: Option<(u64, String)> = None;
    for _ in 0..DATE_ORDER_SAMPLE_ROWS {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
        for &position in &positions {
            let Some(cell) = record.get(position) else { continue };
            let cell = decode(cell);
            let evidence = order_evidence(&cell);
            let slot = match evidence {
                OrderEvidence::NotSlashed => continue,
                OrderEvidence::DayFirst => &mut day_first,
                OrderEvidence::MonthFirst => &mut month_first,
                OrderEvidence::Either => &mut either,
            };
            if slot.is_none() {
                let byte = record.position().map(|p| p.byte() as usize).unwrap_or(0);
                *slot = Some((lines.line_of(body, byte) + layout.lines_before_header, cell.trim().to_owned()));
            }
        }
        if day_first.is_some() && month_first.is_some() {
            break;
        }
    }
    match (day_first, month_first, either) {
        (Some((day_line, day)), Some((month_line, month)), _) => Err(format!(
            "the file mixes day/month dates ({day} on line {day_line}) and month/day dates ({month} on line \
             {month_line}). Make them consistent, or say which order the file uses with --date-order dmy|mdy \
             (the date order choice in the page)."
        )),
        (Some(_), None, _) => Ok(DateOrder::DayMonth),
        (None, Some(_), _) => Ok(DateOrder::MonthDay),
        (None, None, Some((line, cell))) => Err(format!(
            "the file's dates could be day/month or month/day (such as {cell} on line {line}), and none of them \
             settles which. Say which order the file uses with --date-order dmy (31/12/2025) or mdy (12/31/2025) \
             (the date order choice in the page)."
        )),
        (None, None, None) => Ok(DateOrder::IsoOnly),
    }
}

/// Line numbers of records, counted from the bytes: the csv reader's own positions point before
/// the blank lines (and count CRLF oddly), while a person needs the line where the record's text
/// starts.
pub(crate) struct LineCounter {
    offset: usize,
    line: u64,
}

impl LineCounter {
    pub fn new() -> LineCounter {
        LineCounter { offset: 0, line: 1 }
    }

    /// The 1-based line of the record whose position the csv reader gives as `byte`. Records must
    /// come in file order.
    pub fn line_of(&mut self, text: &[u8], byte: usize) -> u64 {
        let mut start = byte.min(text.len());
        while start < text.len() && (text[start] == b'\n' || text[start] == b'\r') {
            start += 1;
        }
        if start >= self.offset {
            self.line += text[self.offset..start].iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset = start;
        }
        self.line
    }
}

/// UTF-8 when valid, else Windows-1252 (a superset of Latin-1 for printable text).
pub(crate) fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

/// Reads every row of a table whose format is known.
pub(crate) fn read(
    file: &str,
    bytes: &[u8],
    layout: &Layout,
    spec: &FormatSpec,
    columns: &Columns,
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Import, ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    let wanted_currency = match &options.currency {
        Some(code) => Some(Currency::from_code(code).ok_or_else(|| {
            fail(format!("`{code}` is not an ISO 4217 currency code. Give one such as usd, eur or jpy."))
        })?),
        None => None,
    };
    let body = &bytes[layout.header_offset..];
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).has_headers(true).delimiter(layout.delimiter).from_reader(body);
    let bytes_total = bytes.len() as u64;
    let mut rows_read = 0u64;
    let mut problems = Vec::new();
    let mut rows: Vec<Parsed> = Vec::new();
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new();
    // The header's line, so that data rows count from it.
    lines.line_of(body, 0);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                rows_read += 1;
                problems.push(Problem {
                    file: file.to_owned(),
                    line: lines.line_of(body, error.position().map(|p| p.byte() as usize).unwrap_or(0))
                        + layout.lines_before_header,
                    column: String::new(),
                    value: String::new(),
                    reason: format!("the rest of the file cannot be read as CSV ({error})"),
                    hint: "Export the file again from the billing system, or save it from the spreadsheet as CSV."
                        .into(),
                });
                break;
            }
        }
        rows_read += 1;
        if rows_read.is_multiple_of(PROGRESS_EVERY_ROWS) {
            let bytes_read = layout.header_offset as u64 + record.position().map(|p| p.byte()).unwrap_or(0);
            on_progress(Progress { bytes_read, bytes_total });
        }
        let byte = record.position().map(|p| p.byte() as usize).unwrap_or(0);
        let line = lines.line_of(body, byte) + layout.lines_before_header;
        let row = Row { file, line, record: &record, columns, spec };
        if let Some(problem) = row.shape_problem() {
            problems.push(problem);
            continue;
        }
        match (spec.parse_row)(&row) {
            Ok(parsed) => {
                if let Some(first_line) = seen_ids.get(&parsed.subscription.id) {
                    problems.push(row.problem(
                        Field::Id,
                        format!("this subscription id already appeared on line {first_line}"),
                        "Each subscription should appear once; remove the repeated row or export again.",
                    ));
                    continue;
                }
                seen_ids.insert(parsed.subscription.id.clone(), line);
                rows.push(parsed);
            }
            Err(mut row_problems) => problems.append(&mut row_problems),
        }
    }
    on_progress(Progress { bytes_read: bytes_total, bytes_total });
    if rows_read == 0 {
        return Err(fail(format!(
            "the file has a header but no rows. Export the subscriptions again, with data ({}).",
            spec.how_to_export
        )));
    }
    if rows.is_empty() {
        return Err(ImportError {
            file: file.to_owned(),
            message: format!(
                "none of the file's {rows_read} rows could be read; they were all set aside. Fix them and import again."
            ),
            problems,
        });
    }
    let currency_column = columns.name(Field::Currency).unwrap_or("Currency").to_owned();
    let wanted_currency = match (&options.fx, wanted_currency) {
        (Some(fx), Some(wanted)) if wanted != fx.to => {
            return Err(fail(format!(
                "--currency {} and the exchange rates (into {}) disagree; give one analysis currency.",
                wanted.code, fx.to.code
            )))
        }
        (Some(fx), _) => Some(fx.to.clone()),
        (None, wanted) => wanted,
    };
    let (currency, other_currencies) =
        choose_currency(&rows, wanted_currency, options.fx.as_ref(), &currency_column, file, &mut problems)
            .map_err(fail)?;
    let mut converted: BTreeMap<String, u64> = BTreeMap::new();
    let subscriptions = rows
        .into_iter()
        .filter_map(|parsed| {
            if parsed.currency == currency.code {
                return Some(parsed.subscription);
            }
            let rates = options.fx.as_ref()?;
            let from = Currency::from_code(&parsed.currency)?;
            let mut subscription = parsed.subscription;
            subscription.mrr = rates.convert(subscription.mrr, &from)?;
            subscription.price_per_interval = rates.convert(subscription.price_per_interval, &from)?;
            *converted.entry(parsed.currency).or_default() += 1;
            Some(subscription)
        })
        .collect();
    let notes = converted
        .iter()
        .map(|(code, n)| {
            let rate = options.fx.as_ref().and_then(|fx| fx.rate_text(code)).unwrap_or("?");
            format!(
                "{n} subscription(s) billed in {} converted at {rate} {} per {}",
                code.to_uppercase(),
                currency.code.to_uppercase(),
                code.to_uppercase()
            )
        })
        .collect();
    problems.sort_by_key(|p| p.line);
    Ok(Import {
        file: file.to_owned(),
        format: spec.format,
        currency,
        rows_read,
        subscriptions,
        problems,
        other_currencies,
        notes,
    })
}

/// One currency per analysis: the one asked for, else the one most subscriptions use (ties go to
/// the alphabetically first code). Rows in other currencies are set aside, never added in.
fn choose_currency(
    rows: &[Parsed],
    wanted: Option<Currency>,
    fx: Option<&crate::money::ExchangeRates>,
    currency_column: &str,
    file: &str,
    problems: &mut Vec<Problem>,
) -> Result<(Currency, Vec<(String, u64)>), String> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for parsed in rows {
        *counts.entry(parsed.currency.as_str()).or_default() += 1;
    }
    let chosen = match wanted {
        Some(currency) => currency,
        None => {
            let most = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(code, _)| *code);
            let code = most.unwrap_or("");
            Currency::from_code(code).ok_or_else(|| format!("`{code}` is not an ISO 4217 currency"))?
        }
    };
    // Converted with a given rate, or set aside: never added as they are.
    let convertible = |code: &str| fx.is_some_and(|fx| fx.rate_text(code).is_some());
    let others: Vec<(String, u64)> = counts
        .iter()
        .filter(|(code, _)| **code != chosen.code && !convertible(code))
        .map(|(code, n)| (code.to_string(), *n))
        .collect();
    for parsed in rows.iter().filter(|parsed| parsed.currency != chosen.code && !convertible(&parsed.currency)) {
        let code = &parsed.currency;
        let hint = if fx.is_some() {
            format!(
                "The exchange rates have no rate for {code}; add a line `{code},{},RATE` to convert it.",
                chosen.code
            )
        } else {
            format!(
                "subtwin never adds different currencies; analyse {code} separately with --currency {code} (or the \
                 currency choice in the page), or give exchange rates with --fx."
            )
        };
        problems.push(Problem {
            file: file.to_owned(),
            line: parsed.subscription.line,
            column: currency_column.to_owned(),
            value: code.clone(),
            reason: format!("this subscription is billed in {code}, and this analysis is in {}", chosen.code),
            hint,
        });
    }
    Ok((chosen, others))
}
