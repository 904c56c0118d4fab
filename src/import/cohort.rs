//! Cohort survival tables: subtwin's own aggregate form, for data too big for a browser.
//!
//! Header `segment,cohort,age,active` with optional `period` (`month` or `year`, default month) and
//! `price`, in any order and any case. One row per segment, cohort and age: how many of the cohort
//! are still subscribed at that age (in periods); age 0 is the cohort's size. A cohort is any label,
//! a calendar month when it is written `YYYY-MM` (or `YYYY-MM-01`, as a warehouse's month truncation
//! writes it). Ages run from 0 without a gap up to the last one observed: a missing later age means
//! "not observed yet", so a query must write the zeros of a cohort that has all gone.
//!
//! Set aside, each with its line, column, value, reason and hint: a count or an age that is not a
//! whole number (or is negative), a blank segment or cohort, a period other than month or year, a
//! period that differs from the segment's or a price that differs from the cohort's, a second row
//! for the same segment, cohort and age, a count that rises with age (survivors cannot increase),
//! every row of a cohort without an age 0, and the rows after an age that is missing.

use std::collections::{BTreeMap, HashMap};

use super::sheet::{for_each_row, header_key, table_text, whole_number, Header, Prices, SheetRow};
use super::text::{candidate_layouts, Layout};
use super::values::MonthIndex;
use super::{ImportError, ImportOptions, Problem, Progress};
use crate::money::{Currency, Minor};

/// The columns, by name.
pub const SEGMENT: &str = "segment";
pub const COHORT: &str = "cohort";
pub const AGE: &str = "age";
pub const ACTIVE: &str = "active";
pub const PERIOD: &str = "period";
pub const PRICE: &str = "price";

/// Ages above this (a century of months) are typos.
const MAX_AGE: u64 = 1200;
/// Counts above this are not subscribers.
const MAX_COUNT: u64 = 1_000_000_000_000;

/// The unit of a cohort table's ages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Month,
    Year,
}

impl Period {
    pub fn name(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    fn parse(text: &str) -> Option<Period> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "month" | "months" | "monthly" => Some(Period::Month),
            "year" | "years" | "yearly" | "annual" => Some(Period::Year),
            _ => None,
        }
    }
}

/// One cohort: its survivors by age, from its size (age 0) to the last age observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cohort {
    /// The label as the file writes it.
    pub label: String,
    /// The calendar month, when the label is one.
    pub month: Option<MonthIndex>,
    /// `survivors[age]`; `survivors[0]` is the cohort's size.
    pub survivors: Vec<u64>,
    /// The monthly price per subscriber, in [`CohortImport::unit`], when the table gives one.
    pub price: Option<Minor>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CohortSegment {
    pub name: String,
    pub period: Period,
    /// Month cohorts first, in calendar order, then the other labels in the order the file gives them.
    pub cohorts: Vec<Cohort>,
}

/// Everything read from one cohort table.
#[derive(Clone, Debug)]
pub struct CohortImport {
    pub file: String,
    /// Data rows in the file (empty lines excluded).
    pub rows_read: u64,
    /// The currency the person named; `None` when the file's currency is not known.
    pub currency: Option<Currency>,
    /// What prices are counted in: the named currency, or a nameless one with the file's decimals.
    pub unit: Currency,
    /// Whether the table has a price column.
    pub has_price: bool,
    /// Sorted by name.
    pub segments: Vec<CohortSegment>,
    pub problems: Vec<Problem>,
}

impl CohortImport {
    /// Rows set aside: distinct lines with at least one problem.
    pub fn rows_set_aside(&self) -> u64 {
        super::lines_with_problems(&self.problems)
    }
}

/// Whether a header is a cohort table's: it has a `cohort` and an `age` column (the other
/// columns are then checked, with a message naming what is missing).
pub(crate) fn recognise(header: &[String]) -> bool {
    let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
    keys.iter().any(|k| k == COHORT) && keys.iter().any(|k| k == AGE)
}

/// Reads a cohort table. `options.currency` names the prices' currency.
pub fn import(
    file: &str,
    bytes: &[u8],
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<CohortImport, ImportError> {
    let text = table_text(file, bytes)?;
    let layouts = candidate_layouts(text);
    let Some(layout) = layouts.iter().find(|l| recognise(&l.header)) else {
        return Err(ImportError::new(
            file,
            "this is not a cohort table: its header must be segment,cohort,age,active (period and price optional)."
                .into(),
        ));
    };
    read(file, text, layout, options, on_progress)
}

/// A row that passed the cell checks, kept until its cohort is complete.
struct Entry {
    line: u64,
    age: u32,
    active: u64,
    active_text: String,
    age_text: String,
}

/// A cohort while the file is read.
struct Gathering {
    segment: String,
    label: String,
    entries: Vec<Entry>,
    price: Option<(Minor, u64)>,
}

struct Columns {
    segment: usize,
    cohort: usize,
    age: usize,
    active: usize,
    period: Option<usize>,
    price: Option<usize>,
}

const COUNT_HINT: &str = "`active` is how many of the cohort are still subscribed at that age: a whole number.";
const AGE_HINT: &str = "`age` is the number of periods since the cohort started: 0 for its size, then 1, 2, ...";

fn read(
    file: &str,
    text: &[u8],
    layout: &Layout,
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<CohortImport, ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    let header = Header::new(&layout.header);
    let found = |name: &str| header.find(&[name]);
    let missing: Vec<&str> = [SEGMENT, COHORT, AGE, ACTIVE].into_iter().filter(|n| found(n).is_none()).collect();
    let (Some(segment), Some(cohort), Some(age), Some(active)) =
        (found(SEGMENT), found(COHORT), found(AGE), found(ACTIVE))
    else {
        return Err(fail(format!(
            "this looks like a cohort table, but it lacks the column(s) {}. A cohort table's header is \
             segment,cohort,age,active (with period and price optional). The file's header is: {}.",
            missing.join(", "),
            header.listed()
        )));
    };
    let columns = Columns { segment, cohort, age, active, period: found(PERIOD), price: found(PRICE) };
    let mut prices = Prices::new(file, options.currency.as_deref())?;
    let mut problems = Vec::new();
    let mut cell_problems = Vec::new();
    let mut cohorts: Vec<Gathering> = Vec::new();
    let mut cohort_index: HashMap<(String, String), usize> = HashMap::new();
    let mut seen: HashMap<(usize, u32), u64> = HashMap::new();
    let mut periods: BTreeMap<String, (Period, u64)> = BTreeMap::new();
    let rows_read = for_each_row(file, text, layout, &header, &mut problems, on_progress, |row| {
        let Some((segment_name, label, entry, period, price)) =
            read_row(row, &columns, &mut prices, &mut cell_problems)
        else {
            return;
        };
        let next = cohorts.len();
        let index = *cohort_index.entry((segment_name.clone(), label.clone())).or_insert_with(|| {
            cohorts.push(Gathering {
                segment: segment_name.clone(),
                label: label.clone(),
                entries: Vec::new(),
                price: None,
            });
            next
        });
        let gathering = &mut cohorts[index];
        if let Some(first) = seen.get(&(index, entry.age)) {
            cell_problems.push(row.problem(
                columns.age,
                format!("segment {segment_name}, cohort {label}, age {} already has a row, on line {first}", entry.age),
                "Give one row per segment, cohort and age; remove the repeated row.",
            ));
            return;
        }
        if let (Some(column), Some((first, first_line))) = (columns.period, periods.get(&segment_name)) {
            if *first != period {
                cell_problems.push(row.problem(
                    column,
                    format!(
                        "segment {segment_name} counts its ages in {}s (line {first_line}), and this row in {}s",
                        first.name(),
                        period.name()
                    ),
                    "A segment has one period: month or year on every row of it.",
                ));
                return;
            }
        }
        if let (Some(column), Some(price), Some((first, first_line))) = (columns.price, price, gathering.price) {
            if price != first {
                cell_problems.push(row.problem(
                    column,
                    format!("cohort {label} of segment {segment_name} has another price on line {first_line}"),
                    "A cohort has one monthly price per subscriber: the same on each of its rows, or blank.",
                ));
                return;
            }
        }
        periods.entry(segment_name).or_insert((period, row.line()));
        if let (Some(price), None) = (price, gathering.price) {
            gathering.price = Some((price, row.line()));
        }
        seen.insert((index, entry.age), entry.line);
        gathering.entries.push(entry);
    });
    problems.append(&mut cell_problems);
    if rows_read == 0 {
        return Err(fail("the file has a header but no rows. Export the table again, with data.".into()));
    }
    let mut segments: BTreeMap<String, CohortSegment> = BTreeMap::new();
    let name = |column: usize| header.name(column).to_owned();
    for gathering in cohorts {
        let Some(survivors) = survivors(file, &gathering, &name(columns.age), &name(columns.active), &mut problems)
        else {
            continue;
        };
        let period = periods.get(&gathering.segment).map(|(p, _)| *p).unwrap_or(Period::Month);
        let segment = segments.entry(gathering.segment.clone()).or_insert_with(|| CohortSegment {
            name: gathering.segment.clone(),
            period,
            cohorts: Vec::new(),
        });
        segment.cohorts.push(Cohort {
            month: month_of_label(&gathering.label),
            label: gathering.label,
            survivors,
            price: gathering.price.map(|(price, _)| prices.finish(price)),
        });
    }
    problems.sort_by_key(|p| p.line);
    if segments.is_empty() {
        return Err(ImportError {
            file: file.to_owned(),
            message: format!(
                "none of the file's {rows_read} rows could be read; they were all set aside. Fix them and import again."
            ),
            problems,
        });
    }
    let mut segments: Vec<CohortSegment> = segments.into_values().collect();
    for segment in &mut segments {
        // Months in calendar order first; the other labels keep the file's order (a stable sort).
        segment.cohorts.sort_by_key(|c| (c.month.is_none(), c.month));
    }
    Ok(CohortImport {
        file: file.to_owned(),
        rows_read,
        currency: prices.named().cloned(),
        unit: prices.unit(),
        has_price: columns.price.is_some(),
        segments,
        problems,
    })
}

/// The cells of one row, or `None` with the problems pushed.
#[allow(clippy::type_complexity)]
fn read_row(
    row: &SheetRow<'_>,
    columns: &Columns,
    prices: &mut Prices,
    problems: &mut Vec<Problem>,
) -> Option<(String, String, Entry, Period, Option<Minor>)> {
    let segment = row.text(columns.segment);
    if segment.is_none() {
        problems.push(row.problem(
            columns.segment,
            "the segment is blank".into(),
            "Name the segment (a plan, or All when there is one).",
        ));
    }
    let cohort = row.text(columns.cohort);
    if cohort.is_none() {
        problems.push(row.problem(
            columns.cohort,
            "the cohort is blank".into(),
            "Name the cohort, such as its start month 2025-01.",
        ));
    }
    let age_text = row.raw(columns.age).trim().to_owned();
    let age =
        whole_number(&age_text, MAX_AGE).map_err(|reason| problems.push(row.problem(columns.age, reason, AGE_HINT)));
    let active_text = row.raw(columns.active).trim().to_owned();
    let active = whole_number(&active_text, MAX_COUNT)
        .map_err(|reason| problems.push(row.problem(columns.active, reason, COUNT_HINT)));
    let period = match columns.period {
        None => Some(Period::Month),
        Some(column) => {
            let period = Period::parse(&row.raw(column));
            if period.is_none() {
                problems.push(row.problem(
                    column,
                    "not a period (expected month or year)".into(),
                    "The period is the unit of the ages: month or year (blank means month).",
                ));
            }
            period
        }
    };
    let price = match columns.price.filter(|&column| row.text(column).is_some()) {
        None => Ok(None),
        Some(column) => prices.parse(&row.raw(column)).map(Some).map_err(|reason| {
            problems.push(row.problem(
                column,
                reason,
                "The price is the monthly price per subscriber, such as 19.00, or blank.",
            ))
        }),
    };
    let entry = Entry { line: row.line(), age: age.ok()? as u32, active: active.ok()?, active_text, age_text };
    Some((segment?, cohort?, entry, period?, price.ok()?))
}

/// The cohort's survivors by age, from its rows; rows that cannot take part are set aside with a
/// problem each, and a cohort without its size gives `None`.
fn survivors(
    file: &str,
    gathering: &Gathering,
    age_column: &str,
    active_column: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<u64>> {
    let mut entries: Vec<&Entry> = gathering.entries.iter().collect();
    entries.sort_by_key(|e| e.age);
    let (segment, label) = (&gathering.segment, &gathering.label);
    let problem = |entry: &Entry, column: &str, value: &str, reason: String, hint: &str| Problem {
        file: file.to_owned(),
        line: entry.line,
        column: column.to_owned(),
        value: value.to_owned(),
        reason,
        hint: hint.to_owned(),
    };
    if entries.first().is_none_or(|e| e.age != 0) {
        for entry in &entries {
            problems.push(problem(
                entry,
                age_column,
                &entry.age_text,
                format!("cohort {label} of segment {segment} has no age 0 row, which gives its size"),
                "Add the cohort's age 0 row: how many subscriptions it started with.",
            ));
        }
        return None;
    }
    let mut survivors: Vec<u64> = Vec::with_capacity(entries.len());
    for entry in entries {
        let expected = survivors.len() as u32;
        let previous = survivors.last().copied();
        if entry.age != expected {
            problems.push(problem(
                entry,
                age_column,
                &entry.age_text,
                format!("cohort {label} of segment {segment} has no usable row for age {expected}, so age {} cannot follow it", entry.age),
                "Give every age from 0 to the last one observed, with 0 when the whole cohort has gone.",
            ));
        } else if let Some(previous) = previous.filter(|&p| entry.active > p) {
            problems.push(problem(
                entry,
                active_column,
                &entry.active_text,
                format!(
                    "survivors cannot increase: {} at age {} is more than {previous} at age {}",
                    entry.active,
                    entry.age,
                    expected - 1
                ),
                "A cohort only loses subscribers as it ages; check the count or the age.",
            ));
        } else {
            survivors.push(entry.active);
        }
    }
    Some(survivors)
}

/// `2025-01` (or `2025-01-01`, as a month truncation writes it) is that month.
fn month_of_label(label: &str) -> Option<MonthIndex> {
    let month_part = match label.len() {
        7 => label,
        10 if label.ends_with("-01") => &label[..7],
        _ => return None,
    };
    let (year, month) = month_part.split_once('-')?;
    if year.len() != 4 || month.len() != 2 || !(year.bytes().chain(month.bytes()).all(|b| b.is_ascii_digit())) {
        return None;
    }
    let (year, month): (i32, i32) = (year.parse().ok()?, month.parse().ok()?);
    ((1..=12).contains(&month) && (1900..2200).contains(&year)).then_some(MonthIndex(year * 12 + month - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_labels_are_recognised() {
        assert_eq!(month_of_label("2025-01").map(MonthIndex::label).as_deref(), Some("2025-01"));
        assert_eq!(month_of_label("2025-12-01").map(MonthIndex::label).as_deref(), Some("2025-12"));
        for other in ["2025-13", "2025-1", "2025-01-15", "Q1 2025", "2025", "abcd-ef", ""] {
            assert_eq!(month_of_label(other), None, "{other:?}");
        }
    }
}
