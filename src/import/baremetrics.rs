//! The Baremetrics CSV import template, which many teams also use as a plain subscription format:
//! one row per subscription, its plan (`plan_amount` in integer cents, `plan_interval` and
//! `plan_interval_count`), its customer, `subscription_started_at` and `subscription_canceled_at`
//! (the end), dates `YYYY-MM-DD`.
//!
//! There is no status column: a subscription is active from its start until it is canceled. There
//! are no trials either: the start is when paying began. The product (segment) is `plan_name`, else
//! `plan_oid`.

use super::infer::{instant, minor_amount};
use super::record::{finish, Draft, Problems, MAX_QUANTITY};
use super::table::{ColumnSpec, Field, FormatSpec, Parsed, Row};
use super::{BillingInterval, Format, IntervalSource, IntervalUnit, Problem, Status};

pub(crate) static SPEC: FormatSpec = FormatSpec {
    format: Format::Baremetrics,
    columns: COLUMNS,
    required: &[
        &[Field::Id],
        &[Field::Customer],
        &[Field::Start],
        &[Field::Amount],
        &[Field::Interval],
        &[Field::Currency],
        &[Field::Product, Field::Plan],
    ],
    distinctive: &[Field::Id, Field::Customer, Field::Start, Field::Amount, Field::Interval, Field::Plan],
    how_to_export: "the Baremetrics CSV import template, one row per subscription",
    parse_row,
};

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec { field: Field::Plan, name: "plan_oid", aliases: &["plan_oid"] },
    ColumnSpec { field: Field::Product, name: "plan_name", aliases: &["plan_name"] },
    ColumnSpec { field: Field::Currency, name: "plan_currency", aliases: &["plan_currency"] },
    ColumnSpec { field: Field::Amount, name: "plan_amount", aliases: &["plan_amount"] },
    ColumnSpec { field: Field::Interval, name: "plan_interval", aliases: &["plan_interval"] },
    ColumnSpec { field: Field::IntervalCount, name: "plan_interval_count", aliases: &["plan_interval_count"] },
    ColumnSpec { field: Field::Customer, name: "customer_oid", aliases: &["customer_oid"] },
    ColumnSpec { field: Field::Id, name: "subscription_oid", aliases: &["subscription_oid"] },
    ColumnSpec { field: Field::Start, name: "subscription_started_at", aliases: &["subscription_started_at"] },
    ColumnSpec { field: Field::EndedAt, name: "subscription_canceled_at", aliases: &["subscription_canceled_at"] },
    ColumnSpec { field: Field::Quantity, name: "subscription_quantity", aliases: &["subscription_quantity"] },
];

const DATE_HINT: &str = "Baremetrics dates are YYYY-MM-DD; a spreadsheet may have reformatted them: set the \
column's format back to that.";

#[allow(clippy::result_large_err)]
fn parse_row(row: &Row) -> Result<Parsed, Vec<Problem>> {
    let mut problems = Problems::default();
    let start = problems.keep(instant(row, Field::Start, DATE_HINT)).flatten();
    if start.is_none() && row.raw(Field::Start).trim().is_empty() {
        problems.push(row.problem(
            Field::Start,
            "the start date is blank".into(),
            "Every subscription needs its subscription_started_at as YYYY-MM-DD.",
        ));
    }
    let ended_at = problems.keep(instant(row, Field::EndedAt, DATE_HINT)).flatten();
    let currency = problems.keep(row.currency("plan_currency is an ISO code such as USD or EUR."));
    let price_per_interval = problems.keep(minor_amount(
        row,
        Field::Amount,
        "plan_amount is the price per billing interval in cents, a whole number: 5000 for $50.00.",
    ));
    let quantity = problems.keep(row.count(
        Field::Quantity,
        1,
        MAX_QUANTITY,
        "subscription_quantity is the number of units or seats (1 when blank).",
    ));
    let interval = problems.keep(interval(row));
    let plan = row.text(Field::Plan);
    let draft = Draft {
        id: row.text(Field::Id),
        customer: row.text(Field::Customer),
        product: row.text(Field::Product).or_else(|| plan.clone()),
        plan,
        status: Some(if ended_at.is_some() { Status::Canceled } else { Status::Active }),
        start,
        ended_at,
        interval,
        interval_source: IntervalSource::Stated,
        currency,
        price_per_interval,
        quantity,
        ..Draft::default()
    };
    finish(row, draft, problems)
}

#[allow(clippy::result_large_err)]
fn interval(row: &Row) -> Result<BillingInterval, Problem> {
    let unit = match row.raw(Field::Interval).trim().to_ascii_lowercase().as_str() {
        "day" | "daily" => IntervalUnit::Day,
        "week" | "weekly" => IntervalUnit::Week,
        "month" | "monthly" => IntervalUnit::Month,
        "year" | "yearly" | "annual" => IntervalUnit::Year,
        _ => {
            return Err(row.problem(
                Field::Interval,
                "not a billing interval".into(),
                "plan_interval is day, week, month or year.",
            ))
        }
    };
    let count = row.count(
        Field::IntervalCount,
        1,
        1000,
        "plan_interval_count says how many intervals one billing period lasts, such as 3 for quarterly.",
    )?;
    if count == 0 {
        return Err(row.problem(
            Field::IntervalCount,
            "a billing period of zero intervals".into(),
            "plan_interval_count is 1 or more.",
        ));
    }
    Ok(BillingInterval { unit, count: count as u32 })
}
