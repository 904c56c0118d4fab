//! The Stripe Dashboard subscriptions export (Billing > Subscriptions > Export).
//!
//! Columns are found by name through alias lists that cover the header generations seen in the wild
//! (`Start (UTC)` became `Start Date (UTC)`, `Customer Description` became `Customer Name`, and so
//! on). Stripe's own rules are applied here: a trial's end is the paid start, `incomplete`
//! subscriptions never paid, a subscription set to cancel at period end is live until then.

use std::borrow::Cow;

use super::record::{finish, Draft, Problems, MAX_QUANTITY};
use super::table::{ColumnSpec, Field, FormatSpec, Parsed, Row};
use super::values::lower_ascii;
use super::{BillingInterval, Format, IntervalSource, IntervalUnit, Problem, Status};

pub(crate) static SPEC: FormatSpec = FormatSpec {
    format: Format::Stripe,
    columns: COLUMNS,
    required: &[
        &[Field::Id],
        &[Field::Customer],
        &[Field::Status],
        &[Field::Start, Field::Created],
        &[Field::Amount],
        &[Field::Interval],
        &[Field::Currency],
        &[Field::Product, Field::ProductId, Field::Plan],
    ],
    distinctive: &[Field::CancelAtPeriodEnd, Field::CurrentPeriodEnd, Field::EndedAt],
    how_to_export: "Stripe Dashboard › Billing › Subscriptions › Export, with all columns",
    parse_row,
};

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec { field: Field::Id, name: "id", aliases: &["id", "subscription id"] },
    ColumnSpec { field: Field::Customer, name: "Customer ID", aliases: &["customer id", "customer"] },
    ColumnSpec { field: Field::Status, name: "Status", aliases: &["status"] },
    ColumnSpec { field: Field::Created, name: "Created (UTC)", aliases: &["created", "created date"] },
    ColumnSpec { field: Field::Start, name: "Start Date (UTC)", aliases: &["start date", "start"] },
    ColumnSpec {
        field: Field::CurrentPeriodStart,
        name: "Current Period Start (UTC)",
        aliases: &["current period start"],
    },
    ColumnSpec { field: Field::CurrentPeriodEnd, name: "Current Period End (UTC)", aliases: &["current period end"] },
    ColumnSpec { field: Field::TrialStart, name: "Trial Start (UTC)", aliases: &["trial start"] },
    ColumnSpec { field: Field::TrialEnd, name: "Trial End (UTC)", aliases: &["trial end"] },
    ColumnSpec { field: Field::CanceledAt, name: "Canceled At (UTC)", aliases: &["canceled at", "cancelled at"] },
    ColumnSpec { field: Field::EndedAt, name: "Ended At (UTC)", aliases: &["ended at"] },
    ColumnSpec { field: Field::CancelAtPeriodEnd, name: "Cancel At Period End", aliases: &["cancel at period end"] },
    ColumnSpec {
        field: Field::CancellationReason,
        name: "Cancellation Reason",
        aliases: &["cancellation reason", "cancellation details reason"],
    },
    ColumnSpec { field: Field::Product, name: "Product", aliases: &["product", "product name"] },
    ColumnSpec { field: Field::ProductId, name: "Product ID", aliases: &["product id"] },
    ColumnSpec { field: Field::Plan, name: "Plan", aliases: &["plan", "plan id", "price", "price id"] },
    ColumnSpec { field: Field::Quantity, name: "Quantity", aliases: &["quantity"] },
    ColumnSpec { field: Field::Interval, name: "Interval", aliases: &["interval", "plan interval"] },
    ColumnSpec {
        field: Field::IntervalCount,
        name: "Interval Count",
        aliases: &["interval count", "plan interval count"],
    },
    ColumnSpec { field: Field::Amount, name: "Amount", aliases: &["amount", "plan amount"] },
    ColumnSpec { field: Field::Currency, name: "Currency", aliases: &["currency", "plan currency"] },
];

const DATE_HINT: &str = "Stripe writes dates as YYYY-MM-DD HH:MM in UTC (seconds optional); a spreadsheet may have \
reformatted them: export again, or set the column's format back to that.";

#[allow(clippy::result_large_err)]
fn parse_row(row: &Row) -> Result<Parsed, Vec<Problem>> {
    let mut problems = Problems::default();
    let mut instant = |field: Field| problems.keep(row.instant(field, DATE_HINT)).flatten();
    let created = instant(Field::Created);
    let start_date = instant(Field::Start);
    let trial_start = instant(Field::TrialStart);
    let trial_end = instant(Field::TrialEnd);
    let canceled_at = instant(Field::CanceledAt);
    let ended_at = instant(Field::EndedAt);
    let current_period_start = instant(Field::CurrentPeriodStart);
    let current_period_end = instant(Field::CurrentPeriodEnd);
    // Exports without a Start Date column start subscriptions at their creation.
    let start = start_date.or(created);
    if start.is_none() && row.raw(Field::Start).trim().is_empty() && row.raw(Field::Created).trim().is_empty() {
        problems.push(row.problem(
            Field::Start,
            "the start date is blank".into(),
            "Every subscription needs its Start Date (UTC) as YYYY-MM-DD HH:MM.",
        ));
    }
    let status = problems.keep(status(row));
    let cancel_at_period_end = problems.keep(row.flag(Field::CancelAtPeriodEnd, "Stripe writes true or false here."));
    let interval = problems.keep(interval(row));
    let currency = problems.keep(row.currency("Stripe writes lower-case ISO codes such as usd or eur."));
    let price_per_interval = currency.as_ref().and_then(|currency| {
        problems.keep(row.major_amount(
            Field::Amount,
            currency,
            "Amount is the price per billing interval, such as 19.00.",
        ))
    });
    // Stripe's API defaults a subscription's quantity to 1; a blank cell means that.
    let quantity = problems.keep(row.count(
        Field::Quantity,
        1,
        MAX_QUANTITY,
        "Quantity is the number of seats or units, such as 1 or 12.",
    ));
    let draft = Draft {
        id: row.text(Field::Id),
        customer: row.text(Field::Customer),
        product: row.text(Field::Product).or_else(|| row.text(Field::ProductId)).or_else(|| row.text(Field::Plan)),
        plan: row.text(Field::Plan),
        status,
        created,
        start,
        trial_start,
        trial_end,
        canceled_at,
        ended_at,
        cancel_at_period_end: cancel_at_period_end.unwrap_or(false),
        payment_failed: row.text(Field::CancellationReason).is_some_and(|r| lower_ascii(&r) == "payment_failed"),
        current_period_start,
        current_period_end,
        paused_at: None,
        interval,
        interval_source: IntervalSource::Stated,
        currency,
        price_per_interval,
        quantity,
    };
    finish(row, draft, problems)
}

#[allow(clippy::result_large_err)]
fn status(row: &Row) -> Result<Status, Problem> {
    let raw = row.raw(Field::Status);
    let lower = lower_ascii(raw.trim());
    let text = if lower.contains([' ', '-']) { Cow::Owned(lower.replace([' ', '-'], "_")) } else { lower };
    Ok(match &*text {
        "active" => Status::Active,
        "past_due" => Status::PastDue,
        "unpaid" => Status::Unpaid,
        "trialing" => Status::Trialing,
        "canceled" | "cancelled" => Status::Canceled,
        "incomplete" => Status::Incomplete,
        "incomplete_expired" => Status::IncompleteExpired,
        "paused" => Status::Paused,
        _ => {
            return Err(row.problem(
                Field::Status,
                "not a Stripe subscription status".into(),
                "Expected one of active, trialing, past_due, unpaid, canceled, incomplete, incomplete_expired, paused.",
            ))
        }
    })
}

#[allow(clippy::result_large_err)]
fn interval(row: &Row) -> Result<BillingInterval, Problem> {
    let unit = match &*lower_ascii(row.raw(Field::Interval).trim()) {
        "day" | "daily" => IntervalUnit::Day,
        "week" | "weekly" => IntervalUnit::Week,
        "month" | "monthly" => IntervalUnit::Month,
        "year" | "yearly" | "annual" | "annually" => IntervalUnit::Year,
        _ => {
            return Err(row.problem(
                Field::Interval,
                "not a billing interval".into(),
                "Expected day, week, month or year.",
            ))
        }
    };
    let count = row.count(
        Field::IntervalCount,
        1,
        1000,
        "Interval Count says how many intervals one billing period lasts, such as 3 for quarterly.",
    )?;
    if count == 0 {
        return Err(row.problem(
            Field::IntervalCount,
            "a billing period of zero intervals".into(),
            "Interval Count is 1 or more, such as 3 for quarterly.",
        ));
    }
    Ok(BillingInterval { unit, count: count as u32 })
}
