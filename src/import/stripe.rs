//! The Stripe Dashboard subscriptions export (Billing > Subscriptions > Export).
//!
//! Columns are found by name, never by position, through alias lists that cover the header
//! generations seen in the wild (`Start (UTC)` became `Start Date (UTC)`, and so on). The rules that
//! turn Stripe's fields into a [`Subscription`] are written next to the code that applies them.

use std::collections::{BTreeMap, HashMap};

use super::values::{parse_bool, parse_instant, Instant};
use super::{
    normalise_header, BillingInterval, Format, Import, ImportError, ImportOptions, IntervalUnit, Problem, Progress,
    Status, Subscription,
};
use crate::money::{parse_major_amount, Currency};

/// The columns the importer reads, each with its accepted spellings (normalised: lower case, no
/// ` (UTC)` suffix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Field {
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
}

const FIELDS: &[(Field, &str, &[&str])] = &[
    (Field::Id, "id", &["id", "subscription id"]),
    (Field::Customer, "Customer ID", &["customer id", "customer"]),
    (Field::Status, "Status", &["status"]),
    (Field::Created, "Created (UTC)", &["created", "created date"]),
    (Field::Start, "Start Date (UTC)", &["start date", "start"]),
    (
        Field::CurrentPeriodStart,
        "Current Period Start (UTC)",
        &["current period start"],
    ),
    (
        Field::CurrentPeriodEnd,
        "Current Period End (UTC)",
        &["current period end"],
    ),
    (Field::TrialStart, "Trial Start (UTC)", &["trial start"]),
    (Field::TrialEnd, "Trial End (UTC)", &["trial end"]),
    (Field::CanceledAt, "Canceled At (UTC)", &["canceled at", "cancelled at"]),
    (Field::EndedAt, "Ended At (UTC)", &["ended at"]),
    (
        Field::CancelAtPeriodEnd,
        "Cancel At Period End",
        &["cancel at period end"],
    ),
    (Field::Product, "Product", &["product", "product name"]),
    (Field::ProductId, "Product ID", &["product id"]),
    (Field::Plan, "Plan", &["plan", "plan id", "price", "price id"]),
    (Field::Quantity, "Quantity", &["quantity"]),
    (Field::Interval, "Interval", &["interval", "plan interval"]),
    (
        Field::IntervalCount,
        "Interval Count",
        &["interval count", "plan interval count"],
    ),
    (Field::Amount, "Amount", &["amount", "plan amount"]),
    (Field::Currency, "Currency", &["currency", "plan currency"]),
];

/// Without these the file cannot be read as a Stripe export. A start comes from `Start Date` or,
/// in exports that lack it, `Created`; a product from `Product`, `Product ID` or `Plan`.
const REQUIRED: &[Field] = &[
    Field::Id,
    Field::Customer,
    Field::Status,
    Field::Amount,
    Field::Interval,
    Field::Currency,
];

/// Longer than any real export's field: such a value is set aside rather than carried around.
const MAX_FIELD_BYTES: usize = 1024;

/// Dates outside [1970-01-01, 2200-01-01) are typos or placeholders, not billing events.
const EARLIEST_PLAUSIBLE: Instant = 0;
const LATEST_PLAUSIBLE: Instant = 7_258_118_400;

/// How often the progress callback runs, in rows.
const PROGRESS_EVERY_ROWS: u64 = 1024;

struct Columns {
    index: HashMap<Field, usize>,
    names: Vec<String>,
}

impl Columns {
    fn find(header: &csv::StringRecord) -> Columns {
        let names: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
        let mut index = HashMap::new();
        for (position, name) in header.iter().enumerate() {
            let normalised = normalise_header(name);
            for (field, _, aliases) in FIELDS {
                if aliases.contains(&normalised.as_str()) {
                    index.entry(*field).or_insert(position);
                }
            }
        }
        Columns { index, names }
    }

    fn has(&self, field: Field) -> bool {
        self.index.contains_key(&field)
    }

    fn name(&self, field: Field) -> &str {
        self.index
            .get(&field)
            .and_then(|&i| self.names.get(i))
            .map(String::as_str)
            .unwrap_or_else(|| canonical(field))
    }
}

fn canonical(field: Field) -> &'static str {
    FIELDS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, name, _)| *name)
        .unwrap_or("?")
}

pub(super) fn import(
    file: &str,
    text: &[u8],
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Import, ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text);
    let header = reader
        .headers()
        .map_err(|e| {
            fail(format!(
                "the header line cannot be read as CSV ({e}). Save the file as UTF-8 CSV and try again."
            ))
        })?
        .clone();
    let columns = Columns::find(&header);
    check_columns(&columns, &header).map_err(fail)?;

    let wanted_currency = match &options.currency {
        Some(code) => Some(Currency::from_code(code).ok_or_else(|| {
            fail(format!(
                "`{code}` is not an ISO 4217 currency code. Give one such as usd, eur or jpy."
            ))
        })?),
        None => None,
    };

    let bytes_total = text.len() as u64;
    let mut rows_read = 0u64;
    let mut problems = Vec::new();
    let mut rows: Vec<(Subscription, String)> = Vec::new();
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let line = error.position().map(|p| p.line()).unwrap_or(0);
                let reason = match error.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".to_owned(),
                    _ => format!("the row cannot be read as CSV ({error})"),
                };
                rows_read += 1;
                problems.push(Problem {
                    file: file.to_owned(),
                    line,
                    column: String::new(),
                    value: String::new(),
                    reason,
                    hint:
                        "Save the file from your spreadsheet as UTF-8 CSV, or export it again from the billing system."
                            .into(),
                });
                if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) {
                    continue;
                }
                break;
            }
        }
        rows_read += 1;
        if rows_read % PROGRESS_EVERY_ROWS == 0 {
            let bytes_read = record.position().map(|p| p.byte()).unwrap_or(0);
            on_progress(Progress {
                bytes_read,
                bytes_total,
            });
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let row = Row {
            file,
            line,
            record: &record,
            columns: &columns,
        };
        match row.parse() {
            Ok((subscription, currency)) => {
                if let Some(first_line) = seen_ids.get(&subscription.id) {
                    problems.push(row.problem(
                        Field::Id,
                        format!("this subscription id already appeared on line {first_line}"),
                        "Each subscription should appear once; remove the repeated row or export again.",
                    ));
                    continue;
                }
                seen_ids.insert(subscription.id.clone(), line);
                rows.push((subscription, currency));
            }
            Err(mut row_problems) => problems.append(&mut row_problems),
        }
    }
    on_progress(Progress {
        bytes_read: bytes_total,
        bytes_total,
    });
    if rows_read == 0 {
        return Err(fail(
            "the file has a header but no rows. Export the subscriptions again, with data.".into(),
        ));
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
    let (currency, other_currencies) =
        choose_currency(&rows, wanted_currency, &columns, file, &mut problems).map_err(fail)?;
    let subscriptions = rows
        .into_iter()
        .filter(|(_, code)| *code == currency.code)
        .map(|(s, _)| s)
        .collect();
    problems.sort_by_key(|p| p.line);
    Ok(Import {
        file: file.to_owned(),
        format: Format::Stripe,
        currency,
        rows_read,
        subscriptions,
        problems,
        other_currencies,
    })
}

fn check_columns(columns: &Columns, header: &csv::StringRecord) -> Result<(), String> {
    let mut missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|f| !columns.has(**f))
        .map(|f| canonical(*f))
        .collect();
    if !columns.has(Field::Start) && !columns.has(Field::Created) {
        missing.push("Start Date (UTC)");
    }
    if !columns.has(Field::Product) && !columns.has(Field::ProductId) && !columns.has(Field::Plan) {
        missing.push("Product");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let found: Vec<&str> = header.iter().map(str::trim).take(40).collect();
    let stripe_like = [
        Field::Customer,
        Field::CancelAtPeriodEnd,
        Field::CurrentPeriodEnd,
        Field::EndedAt,
    ]
    .iter()
    .any(|f| columns.has(*f));
    let expected: Vec<&str> = REQUIRED
        .iter()
        .map(|f| canonical(*f))
        .chain(["Start Date (UTC)", "Product"])
        .collect();
    let lead = if stripe_like {
        format!(
            "this looks like a Stripe subscriptions export, but it lacks the column(s) {}.",
            missing.join(", ")
        )
    } else {
        format!(
            "this is not a recognised billing export: it lacks the column(s) {}.",
            missing.join(", ")
        )
    };
    Err(format!(
        "{lead} subtwin reads the Stripe subscriptions export (Billing > Subscriptions > Export, all columns), \
         which has the columns {}. The file's header is: {}.",
        expected.join(", "),
        found.join(", ")
    ))
}

/// One currency per analysis: the one asked for, else the one most subscriptions use (ties go to
/// the alphabetically first code). Rows in other currencies are set aside, never added in.
fn choose_currency(
    rows: &[(Subscription, String)],
    wanted: Option<Currency>,
    columns: &Columns,
    file: &str,
    problems: &mut Vec<Problem>,
) -> Result<(Currency, Vec<(String, u64)>), String> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, code) in rows {
        *counts.entry(code.as_str()).or_default() += 1;
    }
    let chosen = match wanted {
        Some(currency) => currency,
        None => {
            let most = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(code, _)| *code);
            match most {
                Some(code) => {
                    Currency::from_code(code).ok_or_else(|| format!("`{code}` is not an ISO 4217 currency"))?
                }
                None => {
                    return Err(
                        "no row of the file could be read; the problems listed say why. Fix them and import again."
                            .into(),
                    )
                }
            }
        }
    };
    let others: Vec<(String, u64)> = counts
        .iter()
        .filter(|(code, _)| **code != chosen.code)
        .map(|(code, n)| (code.to_string(), *n))
        .collect();
    for (subscription, code) in rows.iter().filter(|(_, code)| *code != chosen.code) {
        problems.push(Problem {
            file: file.to_owned(),
            line: subscription.line,
            column: columns.name(Field::Currency).to_owned(),
            value: code.clone(),
            reason: format!(
                "this subscription is billed in {code}, and this analysis is in {}",
                chosen.code
            ),
            hint: format!(
                "subtwin never adds different currencies; analyse {code} separately with --currency {code} \
                 (or the currency choice in the page)."
            ),
        });
    }
    Ok((chosen, others))
}

/// One data row. Its readers return a [`Problem`] as their error: a few strings, built only on the
/// cold path, so its size does not matter (hence the lint allowance).
struct Row<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a Columns,
}

#[allow(clippy::result_large_err)]
impl Row<'_> {
    fn raw(&self, field: Field) -> &str {
        self.columns
            .index
            .get(&field)
            .and_then(|&i| self.record.get(i))
            .unwrap_or("")
    }

    fn problem(&self, field: Field, reason: String, hint: &str) -> Problem {
        Problem {
            file: self.file.to_owned(),
            line: self.line,
            column: self.columns.name(field).to_owned(),
            value: self.raw(field).to_owned(),
            reason,
            hint: hint.to_owned(),
        }
    }

    /// Reads the row, or returns every problem found in the columns the analysis uses.
    fn parse(&self) -> Result<(Subscription, String), Vec<Problem>> {
        let mut problems = Vec::new();
        if self.record.len() != self.columns.names.len() {
            return Err(vec![Problem {
                file: self.file.to_owned(),
                line: self.line,
                column: String::new(),
                value: format!("{} fields", self.record.len()),
                reason: format!(
                    "the row has {} fields and the header has {}",
                    self.record.len(),
                    self.columns.names.len()
                ),
                hint: "A field probably holds an unquoted comma or a stray quote; fix the row or export again.".into(),
            }]);
        }
        if let Some((position, _)) = self.record.iter().enumerate().find(|(_, v)| v.len() > MAX_FIELD_BYTES) {
            let name = self.columns.names.get(position).cloned().unwrap_or_default();
            let value: String = self.record.get(position).unwrap_or("").chars().take(40).collect();
            return Err(vec![Problem {
                file: self.file.to_owned(),
                line: self.line,
                column: name,
                value: format!("{value}…"),
                reason: format!("the field is longer than {MAX_FIELD_BYTES} bytes, more than any real export holds"),
                hint: "The row is probably damaged (a missing closing quote joins many lines); fix it or export again."
                    .into(),
            }]);
        }

        let id = self.raw(Field::Id).trim().to_owned();
        if id.is_empty() {
            problems.push(self.problem(
                Field::Id,
                "the subscription id is blank".into(),
                "Every row needs its sub_… id.",
            ));
        }
        let customer = self.raw(Field::Customer).trim().to_owned();
        if customer.is_empty() {
            problems.push(self.problem(
                Field::Customer,
                "the customer id is blank".into(),
                "Every subscription belongs to a customer (cus_…); export again with the Customer ID column.",
            ));
        }
        let status = self.status().map_err(|p| problems.push(p)).ok();
        let start = self.start().map_err(|p| problems.push(p)).ok();
        let mut instant = |field: Field| {
            self.optional_instant(field)
                .map_err(|p| problems.push(p))
                .ok()
                .flatten()
        };
        let created = instant(Field::Created);
        let trial_start = instant(Field::TrialStart);
        let trial_end = instant(Field::TrialEnd);
        let canceled_at = instant(Field::CanceledAt);
        let ended_at = instant(Field::EndedAt);
        let current_period_start = instant(Field::CurrentPeriodStart);
        let current_period_end = instant(Field::CurrentPeriodEnd);
        let cancel_at_period_end = match parse_bool(self.raw(Field::CancelAtPeriodEnd)) {
            Some(value) => value,
            None => {
                problems.push(self.problem(
                    Field::CancelAtPeriodEnd,
                    "expected true or false".into(),
                    "Stripe writes true or false here.",
                ));
                false
            }
        };
        let product = [Field::Product, Field::ProductId, Field::Plan]
            .iter()
            .map(|f| self.raw(*f).trim())
            .find(|v| !v.is_empty())
            .unwrap_or("")
            .to_owned();
        if product.is_empty() {
            problems.push(self.problem(
                Field::Product,
                "the product is blank (and so are Product ID and Plan)".into(),
                "Segments are products; fill in the product name or export again with the Product column.",
            ));
        }
        let interval = self.interval().map_err(|p| problems.push(p)).ok();
        let currency_code = self.raw(Field::Currency).trim().to_ascii_lowercase();
        let currency = Currency::from_code(&currency_code);
        if currency.is_none() {
            problems.push(self.problem(
                Field::Currency,
                "not an ISO 4217 currency code".into(),
                "Stripe writes lower-case ISO codes such as usd or eur.",
            ));
        }
        let price = currency.as_ref().and_then(|c| {
            parse_major_amount(self.raw(Field::Amount), c.minor_digits)
                .map_err(|reason| {
                    problems.push(self.problem(
                        Field::Amount,
                        reason,
                        "Amount is the price per billing interval, such as 19.00.",
                    ))
                })
                .ok()
        });
        let quantity = self.quantity().map_err(|p| problems.push(p)).ok();

        // Consistency between fields.
        if let (Some(start), Some(ended)) = (start, ended_at) {
            if ended < start {
                problems.push(self.problem(
                    Field::EndedAt,
                    "the subscription ends before it starts".into(),
                    "Check the row's Start Date and Ended At.",
                ));
            }
        }
        if let (Some(trial_start), Some(trial_end)) = (trial_start, trial_end) {
            if trial_end < trial_start {
                problems.push(self.problem(
                    Field::TrialEnd,
                    "the trial ends before it starts".into(),
                    "Check the row's Trial Start and Trial End.",
                ));
            }
        }
        if status == Some(Status::Trialing) && trial_end.is_none() {
            problems.push(self.problem(
                Field::TrialEnd,
                "the subscription is trialing but the row has no Trial End".into(),
                "A trial needs its end date: that is when the paid subscription begins. Export again with the Trial End column.",
            ));
        } else if trial_start.is_some() && trial_end.is_none() {
            problems.push(self.problem(
                Field::TrialEnd,
                "the row has a Trial Start but no Trial End".into(),
                "A trial needs its end date: that is when the paid subscription begins.",
            ));
        }
        let ended_at = match (status, ended_at) {
            (Some(Status::Canceled), None) => {
                // Exports without an Ended At column (or with it blank) still say when a canceled
                // subscription ended: at its period end if it was set to cancel then, else when the
                // cancellation was made.
                let implied = if cancel_at_period_end {
                    current_period_end.or(canceled_at)
                } else {
                    canceled_at
                };
                if implied.is_none() {
                    problems.push(self.problem(
                        Field::EndedAt,
                        "the subscription is canceled but the row says neither when it ended nor when it was canceled"
                            .into(),
                        "Export again with the Ended At and Canceled At columns.",
                    ));
                }
                implied
            }
            (_, ended) => ended,
        };

        match (status, start, interval, price, quantity, currency) {
            (Some(status), Some(start), Some(interval), Some(price), Some(quantity), Some(currency))
                if problems.is_empty() =>
            {
                let total = price.scale(i128::from(quantity), 1);
                let mrr = total.and_then(|t| interval.monthly(t));
                let Some(mrr) = mrr else {
                    return Err(vec![self.problem(
                        Field::Amount,
                        "the amount is too large".into(),
                        "Check the row's Amount and Quantity.",
                    )]);
                };
                Ok((
                    Subscription {
                        line: self.line,
                        id,
                        customer,
                        product,
                        interval,
                        status,
                        start,
                        trial_start,
                        trial_end,
                        canceled_at,
                        ended_at,
                        cancel_at_period_end,
                        current_period_start,
                        current_period_end,
                        created,
                        price_per_interval: price,
                        quantity,
                        mrr,
                    },
                    currency.code,
                ))
            }
            _ => Err(problems),
        }
    }

    fn status(&self) -> Result<Status, Problem> {
        let text = self
            .raw(Field::Status)
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_");
        let status = match text.as_str() {
            "active" => Status::Active,
            "past_due" => Status::PastDue,
            "unpaid" => Status::Unpaid,
            "trialing" => Status::Trialing,
            "canceled" | "cancelled" => Status::Canceled,
            "incomplete" => Status::Incomplete,
            "incomplete_expired" => Status::IncompleteExpired,
            "paused" => Status::Paused,
            _ => return Err(self.problem(
                Field::Status,
                "not a Stripe subscription status".into(),
                "Expected one of active, trialing, past_due, unpaid, canceled, incomplete, incomplete_expired, paused.",
            )),
        };
        Ok(status)
    }

    fn start(&self) -> Result<Instant, Problem> {
        let field = if self.columns.has(Field::Start) && !self.raw(Field::Start).trim().is_empty() {
            Field::Start
        } else {
            Field::Created
        };
        match self.optional_instant(field)? {
            Some(instant) => Ok(instant),
            None => Err(self.problem(
                field,
                "the start date is blank".into(),
                "Every subscription needs its Start Date (UTC) as YYYY-MM-DD HH:MM.",
            )),
        }
    }

    fn optional_instant(&self, field: Field) -> Result<Option<Instant>, Problem> {
        let text = self.raw(field).trim();
        if text.is_empty() {
            return Ok(None);
        }
        let instant = parse_instant(text);
        if let Some(instant) = instant.filter(|i| !(EARLIEST_PLAUSIBLE..LATEST_PLAUSIBLE).contains(i)) {
            let year = crate::import::values::to_datetime(instant).year();
            return Err(self.problem(
                field,
                format!("the year {year} lies outside 1970 to 2199, the years a billing export can hold"),
                "It is probably a typo or a spreadsheet's placeholder date; correct it or export again.",
            ));
        }
        instant.map(Some).ok_or_else(|| {
            self.problem(
                field,
                "not a date subtwin can read".into(),
                "Stripe writes dates as YYYY-MM-DD HH:MM in UTC (seconds optional); a spreadsheet may have \
                 reformatted them: export again, or set the column's format back to that.",
            )
        })
    }

    fn interval(&self) -> Result<BillingInterval, Problem> {
        let unit = match self.raw(Field::Interval).trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => IntervalUnit::Day,
            "week" | "weekly" => IntervalUnit::Week,
            "month" | "monthly" => IntervalUnit::Month,
            "year" | "yearly" | "annual" | "annually" => IntervalUnit::Year,
            _ => {
                return Err(self.problem(
                    Field::Interval,
                    "not a billing interval".into(),
                    "Expected day, week, month or year.",
                ))
            }
        };
        let count_text = self.raw(Field::IntervalCount).trim();
        let count = if count_text.is_empty() {
            1
        } else {
            match count_text.parse::<u32>() {
                Ok(count) if (1..=1000).contains(&count) => count,
                _ => {
                    return Err(self.problem(
                        Field::IntervalCount,
                        "not a whole number of intervals between 1 and 1000".into(),
                        "Interval Count says how many intervals one billing period lasts, such as 3 for quarterly.",
                    ))
                }
            }
        };
        Ok(BillingInterval { unit, count })
    }

    fn quantity(&self) -> Result<u64, Problem> {
        let text = self.raw(Field::Quantity).trim();
        // Stripe's API defaults a subscription's quantity to 1; a blank cell means that.
        if text.is_empty() {
            return Ok(1);
        }
        match text.parse::<u64>() {
            Ok(quantity) if quantity <= 10_000_000 => Ok(quantity),
            _ => Err(self.problem(
                Field::Quantity,
                "not a whole, non-negative number of units".into(),
                "Quantity is the number of seats or units, such as 1 or 12.",
            )),
        }
    }
}
