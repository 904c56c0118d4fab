//! Tables: what every CSV-shaped export shares, whatever billing system wrote it.
//!
//! A format is a [`FormatSpec`]: the columns it reads (each with the spellings seen in the wild),
//! which of them it cannot do without, and a function that turns one row into a [`Subscription`].
//! This module finds the columns by name in the header, walks the rows, decodes each cell (UTF-8,
//! or Windows-1252 when a cell is not valid UTF-8, as spreadsheets on Windows save them), hands the
//! rows to the format, sets aside the rows it refuses, and keeps one currency per analysis.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use super::reader::{Record, RecordReader};
use super::text::Layout;
use super::values::{
    order_evidence, parse_bool, parse_instant_in, parse_plain_instant, to_datetime, DateOrder, Instant, OrderEvidence,
};
use super::{normalise_header, Format, Import, ImportError, ImportOptions, Problem, Progress, Subscription};
use crate::fasthash::{for_each_repeated, FastMap};
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
    /// Why the subscription was canceled (Stripe's `Cancellation Reason`: `payment_failed`, ...).
    CancellationReason,
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

/// Where each field sits in one file's header, and how the file writes its dates.
pub(crate) struct Columns {
    /// The column of each field, indexed by `Field as usize` (a lookup per cell, so not a map).
    index: Vec<Option<usize>>,
    names: Vec<String>,
    /// Values a person fixed for fields the file has no column for (a mapping's `interval=@month`).
    fixed: HashMap<Field, String>,
    /// Decided once per file by [`detect_date_order`] (or given by the person).
    pub date_order: DateOrder,
    /// The day the file is read (its last second), when the caller knows it: nothing but a
    /// scheduled subscription can start after it.
    pub today: Option<Instant>,
    /// What segments are made of, when the person chose (empty: by product).
    pub segment_by: Vec<SegmentPart>,
}

/// One part of a segment's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SegmentPart {
    Product,
    Plan,
    /// The unit price per billing interval.
    Price,
    /// A column of the file, by position.
    Column(usize),
}

/// The parts a person named (`--segment-by`), found in the header: `product`, `plan`, `price` and
/// `interval` are built in (the interval is always part of a segment, so it adds nothing here);
/// anything else is a column name, matched as headers are. The error names what is missing.
pub(crate) fn segment_parts(names: &[String], header: &[String]) -> Result<Vec<SegmentPart>, String> {
    let mut parts = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let part = match name.to_ascii_lowercase().as_str() {
            "product" => SegmentPart::Product,
            "plan" => SegmentPart::Plan,
            "price" => SegmentPart::Price,
            "interval" => continue,
            _ => {
                let wanted = normalise_header(name);
                let position = header.iter().position(|h| normalise_header(h) == wanted).ok_or_else(|| {
                    let listed: Vec<&str> = header.iter().map(|h| h.trim()).take(40).collect();
                    format!(
                        "--segment-by: the file has no column `{name}` (nor is it product, plan, price or interval). \
                         The file's header is: {}.",
                        listed.join(", ")
                    )
                })?;
                SegmentPart::Column(position)
            }
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    // Naming only the interval segments by it alone.
    if parts.is_empty() && !names.iter().all(|n| n.trim().is_empty()) {
        parts.push(SegmentPart::Column(usize::MAX));
    }
    Ok(parts)
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
        let mut by_field: Vec<Option<usize>> = Vec::new();
        for (field, position) in index {
            let slot = field as usize;
            if by_field.len() <= slot {
                by_field.resize(slot + 1, None);
            }
            by_field[slot] = Some(position);
        }
        Columns {
            index: by_field,
            names: header.iter().map(|h| h.trim().to_owned()).collect(),
            fixed,
            date_order: DateOrder::IsoOnly,
            today: None,
            segment_by: Vec::new(),
        }
    }

    /// The field's column, if the header has it.
    fn position(&self, field: Field) -> Option<usize> {
        self.index.get(field as usize).copied().flatten()
    }

    /// The columns the format knows, in the order of their fields.
    fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.index.iter().flatten().copied()
    }

    pub fn has(&self, field: Field) -> bool {
        self.position(field).is_some() || self.fixed.contains_key(&field)
    }

    /// How many of the header's columns the format knows.
    pub fn matched(&self) -> usize {
        self.positions().count()
    }

    /// The column's name as this file writes it.
    pub fn name(&self, field: Field) -> Option<&str> {
        self.position(field).and_then(|i| self.names.get(i)).map(String::as_str)
    }
}

/// One data row, with everything needed to read its cells and report its problems.
pub(crate) struct Row<'a> {
    file: &'a str,
    line: u64,
    record: Record<'a>,
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
        if !self.columns.fixed.is_empty() {
            if let Some(fixed) = self.columns.fixed.get(&field) {
                return Cow::Borrowed(fixed);
            }
        }
        decode(self.bytes(field))
    }

    /// The cell's bytes, as the file has them; empty when the file has no such column.
    fn bytes(&self, field: Field) -> &[u8] {
        self.columns.position(field).and_then(|i| self.record.get(i)).unwrap_or(b"")
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
        // The shapes nearly every cell has, read from the bytes without decoding them first.
        if self.columns.fixed.is_empty() {
            if let Some(instant) = parse_plain_instant(self.bytes(field).trim_ascii()) {
                if (EARLIEST_PLAUSIBLE..LATEST_PLAUSIBLE).contains(&instant) {
                    return Ok(Some(instant));
                }
            }
        }
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

    /// The row's currency, an ISO 4217 code in any case.
    pub fn currency(&self, hint: &str) -> Result<Currency, Problem> {
        Currency::from_code(&self.raw(Field::Currency))
            .ok_or_else(|| self.problem(Field::Currency, "not an ISO 4217 currency code".into(), hint))
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
        if self.record.byte_len() <= MAX_FIELD_BYTES {
            return None;
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
pub(crate) const DATE_ORDER_SAMPLE_ROWS: usize = 50_000;

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
    let positions: Vec<usize> = columns.positions().collect();
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

/// Reads every row of a table whose format is known. `body` is the text from the header line on;
/// `offset` bytes of the file come before it, and `bytes_total` is the file's size when known (else
/// 0), both for the progress reports.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read(
    file: &str,
    body: impl Read,
    offset: u64,
    bytes_total: u64,
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
    let unreadable = |error: std::io::Error| {
        fail(format!(
            "the file could not be read to its end ({error}). Choose it again, or copy it to a local disk first."
        ))
    };
    let mut reader = RecordReader::new(body, layout.delimiter);
    // The header: its cells were read with the layout; here it only moves the reader past it.
    reader.next_record().map_err(unreadable)?;
    let mut rows_read = 0u64;
    let mut problems = Vec::new();
    // The rows read, and the currency of each (an index into `currencies`).
    let mut subscriptions: Vec<Subscription> = Vec::new();
    let mut currency_of: Vec<u32> = Vec::new();
    let mut currencies: Vec<String> = Vec::new();
    // The id cells of rows whose id is not the cell as written (spaces around it), by row: a
    // duplicate's problem shows the cell.
    let mut id_cells: FastMap<usize, String> = FastMap::default();
    // How many records the whole file holds, estimated from the first batch's bytes per record.
    let expected_rows = std::cell::Cell::new(None);
    let mut consume = |outcomes: Vec<Outcome>| {
        for outcome in outcomes {
            rows_read += 1;
            match outcome {
                Ok((parsed, id_cell)) => {
                    let currency = match currencies.iter().position(|c| *c == parsed.currency) {
                        Some(index) => index,
                        None => {
                            currencies.push(parsed.currency);
                            currencies.len() - 1
                        }
                    };
                    if let Some(cell) = id_cell {
                        id_cells.insert(subscriptions.len(), cell);
                    }
                    subscriptions.push(parsed.subscription);
                    currency_of.push(currency as u32);
                }
                Err(mut row_problems) => problems.append(&mut row_problems),
            }
        }
        if let Some(expected) = expected_rows.take() {
            // Room for the whole file at once: growing a vector of a million records by doubling
            // would hold two copies at the end.
            subscriptions.reserve(expected);
            currency_of.reserve(expected);
        }
    };
    let parse = |batch: &Batch| parse_batch(batch, file, columns, spec);
    let mut first = true;
    let mut next_batch = |batch: &mut Batch| -> Result<bool, ImportError> {
        let more = batch.fill(&mut reader, layout.lines_before_header).map_err(unreadable)?;
        if std::mem::take(&mut first) && more {
            let per_row = (reader.consumed() / batch.records.len() as u64).max(1);
            let remaining = bytes_total.saturating_sub(offset + reader.consumed()) / per_row;
            expected_rows.set(Some((remaining + remaining / 16 + 2 * BATCH_ROWS as u64) as usize));
        }
        let bytes_read = offset + reader.consumed();
        on_progress(Progress { bytes_read, bytes_total: bytes_total.max(bytes_read) });
        Ok(more)
    };
    parse_batches(&mut next_batch, &parse, &mut consume)?;
    let id_column = columns.name(Field::Id).unwrap_or_else(|| spec.canonical(Field::Id));
    if spec.format == Format::Mapped {
        set_aside_repeated_periods(file, id_column, &mut subscriptions, &mut currency_of, &mut problems);
    } else {
        set_aside_repeated_ids(file, id_column, &mut subscriptions, &mut currency_of, id_cells, &mut problems);
    }
    if rows_read == 0 {
        return Err(fail(format!(
            "the file has a header but no rows. Export the subscriptions again, with data ({}).",
            spec.how_to_export
        )));
    }
    if subscriptions.is_empty() {
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
    let (currency, other_currencies) = choose_currency(
        &subscriptions,
        &currency_of,
        &currencies,
        wanted_currency,
        options.fx.as_ref(),
        &currency_column,
        file,
        &mut problems,
    )
    .map_err(fail)?;
    // Rows in another currency are converted with a given rate, or left out (choose_currency has
    // set them aside): never added as they are. A file in one currency needs none of this.
    let mut converted: BTreeMap<String, u64> = BTreeMap::new();
    if currencies.len() > 1 || currencies.first() != Some(&currency.code) {
        let mut codes = currency_of.iter();
        subscriptions.retain_mut(|subscription| {
            let Some(code) = codes.next().map(|&c| &currencies[c as usize]) else {
                return false;
            };
            if *code == currency.code {
                return true;
            }
            let (Some(rates), Some(from)) = (options.fx.as_ref(), Currency::from_code(code)) else {
                return false;
            };
            let mrr = rates.convert(subscription.mrr, &from);
            let price = rates.convert(subscription.price_per_interval, &from);
            let (Some(mrr), Some(price)) = (mrr, price) else {
                return false;
            };
            subscription.mrr = mrr;
            subscription.price_per_interval = price;
            *converted.entry(code.clone()).or_default() += 1;
            true
        });
    }
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

/// Rows are parsed in batches of this many (and progress is reported once a batch).
const BATCH_ROWS: usize = 1024;

/// What parsing one row gives: a subscription (with its id cell as written, when that is not the id
/// itself), or the row's problems.
type Outcome = Result<(Parsed, Option<String>), Vec<Problem>>;

/// Records copied out of the reader's buffer, so that they can be parsed elsewhere (natively, on a
/// second thread) while the reader goes on.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Per record: its bytes, its field ends, the gap between its fields, its line.
    records: Vec<(std::ops::Range<usize>, std::ops::Range<usize>, usize, u64)>,
}

impl Batch {
    /// Reads up to [`BATCH_ROWS`] records; `false` when the text has ended (the batch may still hold
    /// some).
    fn fill<R: Read>(&mut self, reader: &mut RecordReader<R>, lines_before_header: u64) -> std::io::Result<bool> {
        self.clear();
        while self.records.len() < BATCH_ROWS {
            let Some((record, line)) = reader.next_record()? else {
                return Ok(false);
            };
            let (bytes, ends, gap) = record.parts();
            let (at, from) = (self.bytes.len(), self.ends.len());
            self.bytes.extend_from_slice(bytes);
            self.ends.extend_from_slice(ends);
            self.records.push((at..self.bytes.len(), from..self.ends.len(), gap, line + lines_before_header));
        }
        Ok(true)
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.records.clear();
    }
}

fn parse_batch(batch: &Batch, file: &str, columns: &Columns, spec: &FormatSpec) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(batch.records.len());
    for (bytes, ends, gap, line) in &batch.records {
        let record = Record::from_parts(&batch.bytes[bytes.clone()], &batch.ends[ends.clone()], *gap);
        let row = Row { file, line: *line, record, columns, spec };
        let parsed = match row.shape_problem() {
            Some(problem) => Err(vec![problem]),
            None => (spec.parse_row)(&row),
        };
        outcomes.push(parsed.map(|mut parsed| {
            if !columns.segment_by.is_empty() {
                parsed.subscription.segment = Some(segment_label(&row, &parsed, &columns.segment_by));
            }
            let cell = row.raw(Field::Id);
            let cell = (*cell != parsed.subscription.id).then(|| cell.into_owned());
            (parsed, cell)
        }));
    }
    outcomes
}

/// A subscription's segment name, without its interval, from the parts a person chose: their values
/// joined by ` · ` (a blank cell reads `(blank)`).
fn segment_label(row: &Row<'_>, parsed: &Parsed, parts: &[SegmentPart]) -> String {
    let subscription = &parsed.subscription;
    let values: Vec<String> = parts
        .iter()
        .map(|part| match part {
            SegmentPart::Product => subscription.product.clone(),
            SegmentPart::Plan => subscription.plan.clone().unwrap_or_else(|| subscription.product.clone()),
            SegmentPart::Price => match Currency::from_code(&parsed.currency) {
                Some(currency) => currency.format(subscription.price_per_interval),
                None => format!("{:?}", subscription.price_per_interval.round_to_minor()),
            },
            SegmentPart::Column(usize::MAX) => "All".to_owned(),
            SegmentPart::Column(position) => {
                let text = row.record.get(*position).map(decode).unwrap_or_default();
                let trimmed = text.trim();
                if trimmed.is_empty() {
                    "(blank)".to_owned()
                } else {
                    trimmed.chars().take(60).collect()
                }
            }
        })
        .collect();
    values.join(" · ")
}

/// Reads batches with `next` and hands each one's outcomes to `consume`, in the file's order. Natively
/// a second thread parses every other batch (a computer has two cores or more); in WebAssembly, one
/// thread does everything.
fn parse_batches(
    next: &mut dyn FnMut(&mut Batch) -> Result<bool, ImportError>,
    parse: &(dyn Fn(&Batch) -> Vec<Outcome> + Sync),
    consume: &mut dyn FnMut(Vec<Outcome>),
) -> Result<(), ImportError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::scope(|scope| {
            let (to_helper, work) = std::sync::mpsc::sync_channel::<Batch>(1);
            let (done, parsed) = std::sync::mpsc::sync_channel::<(Batch, Vec<Outcome>)>(1);
            scope.spawn(move || {
                for batch in work {
                    let outcomes = parse(&batch);
                    if done.send((batch, outcomes)).is_err() {
                        break;
                    }
                }
            });
            let (mut first, mut second) = (Batch::default(), Batch::default());
            loop {
                let more = next(&mut first)?;
                if first.records.is_empty() {
                    return Ok(());
                }
                // The helper parses the first batch while this thread reads and parses the second.
                let sent = to_helper.send(std::mem::take(&mut first)).is_ok();
                let more = if more {
                    next(&mut second)?
                } else {
                    second.clear();
                    false
                };
                let own = parse(&second);
                // The helper only stops early by panicking, which the scope then passes on.
                let Some((batch, outcomes)) = sent.then(|| parsed.recv().ok()).flatten() else {
                    return Ok(());
                };
                first = batch;
                consume(outcomes);
                consume(own);
                if !more {
                    return Ok(());
                }
            }
        })
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut batch = Batch::default();
        loop {
            let more = next(&mut batch)?;
            consume(parse(&batch));
            if !more {
                return Ok(());
            }
        }
    }
}

/// In a mapped table, rows that share an id (transactions, invoice lines, service periods) are
/// successive periods of one subscription: the history links each to the one before it as it links
/// a plan switch (the same customer, within seven days), so consecutive periods continue the
/// subscription and a price change between them is an expansion or a contraction; a longer gap is a
/// churn and a return. Only a row that repeats an earlier row's id and start is set aside.
fn set_aside_repeated_periods(
    file: &str,
    id_column: &str,
    subscriptions: &mut Vec<Subscription>,
    currency_of: &mut Vec<u32>,
    problems: &mut Vec<Problem>,
) {
    let key = |s: &Subscription| {
        let mut key = s.id.as_bytes().to_vec();
        key.push(0x1f);
        key.extend_from_slice(&s.start.to_le_bytes());
        Cow::Owned(key)
    };
    let repeats = repeated_rows(subscriptions, key);
    for &(first, repeat) in &repeats {
        let rows: &[Subscription] = subscriptions;
        problems.push(Problem {
            file: file.to_owned(),
            line: rows[repeat].line,
            column: id_column.to_owned(),
            value: rows[repeat].id.clone(),
            reason: format!("line {} already gives this subscription a period with the same start", rows[first].line),
            hint: "Each period of a subscription should appear once; remove the repeated row.".into(),
        });
    }
    remove_rows(subscriptions, currency_of, &repeats);
}

/// Each subscription id is kept once, on the first row that has it: later rows with the same id are
/// set aside (with `id_cells[i]`, the cell as written, when it is not the id itself).
fn set_aside_repeated_ids(
    file: &str,
    id_column: &str,
    subscriptions: &mut Vec<Subscription>,
    currency_of: &mut Vec<u32>,
    mut id_cells: FastMap<usize, String>,
    problems: &mut Vec<Problem>,
) {
    let repeats = repeated_rows(subscriptions, |s| Cow::Borrowed(s.id.as_bytes()));
    for &(first, repeat) in &repeats {
        let rows: &[Subscription] = subscriptions;
        problems.push(Problem {
            file: file.to_owned(),
            line: rows[repeat].line,
            column: id_column.to_owned(),
            value: id_cells.remove(&repeat).unwrap_or_else(|| rows[repeat].id.clone()),
            reason: format!("this subscription id already appeared on line {}", rows[first].line),
            hint: "Each subscription should appear once; remove the repeated row or export again.".into(),
        });
    }
    remove_rows(subscriptions, currency_of, &repeats);
}

/// Pairs (first, repeat) of rows whose keys are equal: every row after the first of its group.
fn repeated_rows<'a>(rows: &'a [Subscription], key: impl Fn(&'a Subscription) -> Cow<'a, [u8]>) -> Vec<(usize, usize)> {
    let keys: Vec<Cow<'a, [u8]>> = rows.iter().map(key).collect();
    let mut repeats = Vec::new();
    for_each_repeated(
        rows.len(),
        |i| &*keys[i],
        |members| {
            let first = members[0] as usize;
            repeats.extend(members[1..].iter().map(|&m| (first, m as usize)));
        },
    );
    repeats
}

/// Removes the repeats of [`repeated_rows`] from the rows and their currencies, keeping the order.
fn remove_rows(subscriptions: &mut Vec<Subscription>, currency_of: &mut Vec<u32>, repeats: &[(usize, usize)]) {
    if repeats.is_empty() {
        return;
    }
    let mut keep = vec![true; subscriptions.len()];
    for &(_, repeat) in repeats {
        keep[repeat] = false;
    }
    let mut kept = keep.iter();
    subscriptions.retain(|_| kept.next().copied().unwrap_or(true));
    let mut kept = keep.iter();
    currency_of.retain(|_| kept.next().copied().unwrap_or(true));
}

/// One currency per analysis: the one asked for, else the one most subscriptions use (ties go to
/// the alphabetically first code). Rows in other currencies are converted when `fx` has their rate,
/// else set aside, never added in. `currency_of[i]` indexes `codes` for `rows[i]`.
#[allow(clippy::too_many_arguments)]
fn choose_currency(
    rows: &[Subscription],
    currency_of: &[u32],
    codes: &[String],
    wanted: Option<Currency>,
    fx: Option<&crate::money::ExchangeRates>,
    currency_column: &str,
    file: &str,
    problems: &mut Vec<Problem>,
) -> Result<(Currency, Vec<(String, u64)>), String> {
    let mut per_code = vec![0u64; codes.len()];
    for &code in currency_of {
        per_code[code as usize] += 1;
    }
    let counts: BTreeMap<&str, u64> = codes.iter().map(String::as_str).zip(per_code).collect();
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
    for (subscription, &code) in rows.iter().zip(currency_of) {
        let code = &codes[code as usize];
        if *code == chosen.code || convertible(code) {
            continue;
        }
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
            line: subscription.line,
            column: currency_column.to_owned(),
            value: code.clone(),
            reason: format!("this subscription is billed in {code}, and this analysis is in {}", chosen.code),
            hint,
        });
    }
    Ok((chosen, others))
}
