//! Tables that are not subscription lists (snapshot tables, cohort tables): what their readers share.
//!
//! They are read with the same layout detection (`text`), cell decoding, line numbers and problem
//! rows as the subscription exports (`table`), but they yield no subscriptions, so they have this
//! small reader of their own: columns found by name among aliases, each data row handed over with
//! the line where it starts, ragged and absurdly long rows set aside before any cell is read, whole
//! numbers, and prices in a named currency or, when none is named, exactly as the file writes them.

use std::borrow::Cow;

use super::table::{decode, LineCounter, MAX_FIELD_BYTES};
use super::text::Layout;
use super::{normalise_header, ImportError, Problem, Progress};
use crate::money::{parse_major_amount, written_decimals, Currency, Minor};

/// How often the progress callback runs, in rows (as for subscription exports).
const PROGRESS_EVERY_ROWS: u64 = 1024;

/// A header name as these tables match it: as subscription exports match theirs (trimmed, case
/// folded, a byte-order mark and a ` (UTC)` suffix ignored), and spaces and hyphens read as
/// underscores, so that `Tenure Months`, `tenure-months` and `tenure_months` are one name.
pub(crate) fn header_key(name: &str) -> String {
    normalise_header(name).replace([' ', '-'], "_")
}

/// A table's header: the names as written and as matched.
pub(crate) struct Header {
    names: Vec<String>,
    keys: Vec<String>,
}

impl Header {
    pub fn new(cells: &[String]) -> Header {
        Header {
            names: cells.iter().map(|c| c.trim_start_matches('\u{feff}').trim().to_owned()).collect(),
            keys: cells.iter().map(|c| header_key(c)).collect(),
        }
    }

    /// The column of the first alias (in the aliases' order) that the header has.
    pub fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases.iter().find_map(|alias| self.keys.iter().position(|key| key == alias))
    }

    /// The column a person named, matched like the aliases (`contract` finds `Contract`).
    pub fn find_named(&self, name: &str) -> Option<usize> {
        let key = header_key(name);
        self.keys.iter().position(|k| *k == key)
    }

    /// The column's name as the file writes it.
    pub fn name(&self, column: usize) -> &str {
        self.names.get(column).map(String::as_str).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// The header as written, for messages.
    pub fn listed(&self) -> String {
        let names: Vec<&str> = self.names.iter().map(String::as_str).take(40).collect();
        names.join(", ")
    }
}

/// One data row, with what is needed to read its cells and report its problems.
pub(crate) struct SheetRow<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::ByteRecord,
    header: &'a Header,
}

impl SheetRow<'_> {
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The cell's text: UTF-8, or Windows-1252 when the bytes are not valid UTF-8.
    pub fn raw(&self, column: usize) -> Cow<'_, str> {
        decode(self.record.get(column).unwrap_or(b""))
    }

    /// The trimmed cell, `None` when blank.
    pub fn text(&self, column: usize) -> Option<String> {
        let raw = self.raw(column);
        let trimmed = raw.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    pub fn problem(&self, column: usize, reason: String, hint: &str) -> Problem {
        Problem {
            file: self.file.to_owned(),
            line: self.line,
            column: self.header.name(column).to_owned(),
            value: self.raw(column).into_owned(),
            reason,
            hint: hint.to_owned(),
        }
    }

    /// The problem when the row's field count differs from the header's, or a field is absurdly
    /// long (the same reasons and hints as for subscription exports).
    fn shape_problem(&self) -> Option<Problem> {
        if self.record.len() != self.header.len() {
            return Some(Problem {
                file: self.file.to_owned(),
                line: self.line,
                column: String::new(),
                value: format!("{} fields", self.record.len()),
                reason: format!("the row has {} fields and the header has {}", self.record.len(), self.header.len()),
                hint: "A field probably holds an unquoted delimiter or a stray quote; fix the row or export again."
                    .into(),
            });
        }
        let (position, field) = self.record.iter().enumerate().find(|(_, v)| v.len() > MAX_FIELD_BYTES)?;
        let value: String = decode(field).chars().take(40).collect();
        Some(Problem {
            file: self.file.to_owned(),
            line: self.line,
            column: self.header.name(position).to_owned(),
            value: format!("{value}…"),
            reason: format!("the field is longer than {MAX_FIELD_BYTES} bytes, more than any real export holds"),
            hint: "The row is probably damaged (a missing closing quote joins many lines); fix it or export again."
                .into(),
        })
    }
}

/// Walks the data rows below `layout`'s header in file order, calling `visit` with each row whose
/// shape is sound; the others, and a tail that cannot be read as CSV, become problems. Returns how
/// many data rows the file has (empty lines excluded).
pub(crate) fn for_each_row(
    file: &str,
    text: &[u8],
    layout: &Layout,
    header: &Header,
    problems: &mut Vec<Problem>,
    on_progress: &mut dyn FnMut(Progress),
    mut visit: impl FnMut(&SheetRow<'_>),
) -> u64 {
    let body = &text[layout.header_offset.min(text.len())..];
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).has_headers(true).delimiter(layout.delimiter).from_reader(body);
    let bytes_total = text.len() as u64;
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new();
    // The header's line, so that data rows count from it.
    lines.line_of(body, 0);
    let mut rows_read = 0u64;
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
                    hint: "Export the table again, or save it from the spreadsheet as CSV.".into(),
                });
                break;
            }
        }
        rows_read += 1;
        let byte = record.position().map(|p| p.byte() as usize).unwrap_or(0);
        if rows_read.is_multiple_of(PROGRESS_EVERY_ROWS) {
            on_progress(Progress { bytes_read: (layout.header_offset + byte) as u64, bytes_total });
        }
        let line = lines.line_of(body, byte) + layout.lines_before_header;
        let row = SheetRow { file, line, record: &record, header };
        match row.shape_problem() {
            Some(problem) => problems.push(problem),
            None => visit(&row),
        }
    }
    on_progress(Progress { bytes_read: bytes_total, bytes_total });
    rows_read
}

/// A whole number from 0 to `max`; `12.0` (as some tools write whole numbers) is 12. The error is
/// the reason, for a problem.
pub(crate) fn whole_number(text: &str, max: u64) -> Result<u64, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the cell is blank".into());
    }
    if trimmed.starts_with('-') && trimmed.len() > 1 {
        return Err(format!("`{trimmed}` is negative"));
    }
    let digits = match trimmed.split_once('.') {
        Some((whole, zeros)) if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') => whole,
        _ => trimmed,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{trimmed}` is not a whole number"));
    }
    match digits.parse::<u64>() {
        Ok(value) if value <= max => Ok(value),
        _ => Err(format!("`{trimmed}` is more than {max}")),
    }
}

/// How many decimal digits amounts are read with when the file's currency is not named: more than
/// any price has, so that every amount is exact.
const UNNAMED_DIGITS: u32 = 9;

/// Prices of a table whose rows name no currency: in the currency the person named, or, without
/// one, exactly as the file writes them (never assumed to be dollars).
pub(crate) struct Prices {
    /// The currency the person named.
    currency: Option<Currency>,
    /// Without a named currency: the most decimals a price was written with so far.
    digits_seen: u32,
}

impl Prices {
    /// The currency from `--currency` (the page's currency choice), if any; an unknown code makes
    /// the file unusable as asked.
    pub fn new(file: &str, code: Option<&str>) -> Result<Prices, ImportError> {
        let currency = match code.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(code) => Some(Currency::from_code(code).ok_or_else(|| {
                ImportError::new(
                    file,
                    format!("`{code}` is not an ISO 4217 currency code. Give one such as usd, eur or jpy."),
                )
            })?),
        };
        Ok(Prices { currency, digits_seen: 0 })
    }

    /// A non-negative amount in major units (`29.85`, `1,234.50`, `60,00`), exact; the error is the
    /// reason. Amounts are in [`Prices::unit`] once [`Prices::finish`] has rescaled them.
    pub fn parse(&mut self, text: &str) -> Result<Minor, String> {
        let Some(currency) = &self.currency else {
            let amount = parse_major_amount(text, UNNAMED_DIGITS)?;
            let digits = written_decimals(text).unwrap_or(UNNAMED_DIGITS).min(UNNAMED_DIGITS);
            self.digits_seen = self.digits_seen.max(digits);
            return Ok(amount);
        };
        parse_major_amount(text, currency.minor_digits)
    }

    /// The currency the person named.
    pub fn named(&self) -> Option<&Currency> {
        self.currency.as_ref()
    }

    /// What amounts are counted in: the named currency's minor unit, or without one the smallest
    /// decimal the file's prices use (a nameless "currency" with that many digits and no symbol).
    pub fn unit(&self) -> Currency {
        match &self.currency {
            Some(currency) => currency.clone(),
            None => Currency { code: String::new(), minor_digits: self.digits_seen, symbol: String::new() },
        }
    }

    /// An amount [`Prices::parse`] returned, in [`Prices::unit`]: exact, since no price has more
    /// digits than the unit.
    pub fn finish(&self, amount: Minor) -> Minor {
        match self.currency {
            Some(_) => amount,
            None => amount.scale(1, 10i128.pow(UNNAMED_DIGITS - self.digits_seen)).unwrap_or(Minor::OVERFLOW),
        }
    }
}

/// The text of a file that should hold a table: the error when it is empty or binary, as for
/// subscription exports; a byte-order mark is left out.
pub(crate) fn table_text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a [u8], ImportError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::new(file, "the file is empty. Export the table again and choose that file.".into()));
    }
    if super::looks_binary(bytes) || super::is_zip(bytes) {
        return Err(ImportError::new(
            file,
            "this is not a CSV file (it holds binary data). Choose the table saved as CSV.".into(),
        ));
    }
    Ok(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_digits_or_a_whole_decimal() {
        assert_eq!(whole_number("12", 100), Ok(12));
        assert_eq!(whole_number(" 12.0 ", 100), Ok(12));
        assert_eq!(whole_number("0", 100), Ok(0));
        for bad in ["", "12.5", "-3", "abc", "1e3", "NaN", "12.", ".0", "101"] {
            assert!(whole_number(bad, 100).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unnamed_prices_stay_exact_in_the_files_own_decimals() {
        let mut prices = Prices::new("t.csv", None).expect("no currency is fine");
        let a = prices.parse("29.85").expect("a price");
        let b = prices.parse("104.8").expect("a price");
        let c = prices.parse("1,000").expect("a price");
        assert_eq!(prices.unit().minor_digits, 2, "104.8 has one decimal, 29.85 two");
        let unit = prices.unit();
        assert_eq!((unit.minor_digits, unit.code.as_str(), unit.symbol.as_str()), (2, "", ""));
        let total = prices.finish(a) + prices.finish(b) + prices.finish(c);
        assert_eq!(total, Minor::from_integer(113_465));
        assert_eq!(unit.format(total), "1,134.65");
    }

    #[test]
    fn named_currencies_use_their_minor_unit() {
        let mut prices = Prices::new("t.csv", Some("jpy")).expect("jpy");
        assert_eq!(prices.parse("1200").map(|a| prices.finish(a)), Ok(Minor::from_integer(1200)));
        assert!(Prices::new("t.csv", Some("xyz")).is_err());
    }
}
