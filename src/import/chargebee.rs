//! Chargebee: `Subscriptions.csv` of Export Data (dotted headers, `subscriptions.plan_id`), which
//! `import` also reads straight from the downloaded zip, and bulk-import files (bracketed headers,
//! `subscription[plan_id]`). One spec carries both spellings.
//!
//! Chargebee's statuses and what they mean here:
//! - `Active`: subscribed. `In Trial`: a trial, paid from `trial_end`.
//! - `Non Renewing`: cancellation scheduled; live until `current_term_end` (else `cancelled_at`,
//!   which for such a subscription is the date it is set to be cancelled), like Stripe's cancel at
//!   period end.
//! - `Cancelled`: ended at `cancelled_at` (Chargebee's `cancelled_at` is when it ended, not when the
//!   cancellation was asked for).
//! - `Paused`: no MRR from `pause_date` on (a pause is an end of paid life, as a churn); without a
//!   pause date, no MRR at any time, and the import's notes say how many.
//! - `Future`: scheduled to start at `start_date`; not counted, not a problem.
//!
//! On a live subscription (`Active`, `In Trial`) a `cancelled_at` is a scheduled cancellation: it is
//! live until then. The export has no interval column (unless `billing_period_unit` is there): the
//! interval is inferred from the current term's dates, the plan's other subscriptions or the plan id
//! (see `infer`). Prices are major units (`subscriptions.plan_unit_price`, 19.00); in bulk-import
//! files `subscription[plan_unit_price]` is in cents as Chargebee's API defines it, and
//! `subscription[plan_unit_price_in_decimal]` in major units.

use super::infer::{amount_either_way, infer_interval, instant};
use super::record::{finish, Draft, Problems, MAX_QUANTITY};
use super::table::{ColumnSpec, Field, FormatSpec, Parsed, Row};
use super::{BillingInterval, Format, IntervalSource, IntervalUnit, Problem, Status};

pub(crate) static SPEC: FormatSpec = FormatSpec {
    format: Format::Chargebee,
    columns: COLUMNS,
    required: &[
        &[Field::Id],
        &[Field::Customer],
        &[Field::Status],
        &[Field::Start, Field::StartsAt, Field::Created],
        &[Field::Amount, Field::AmountMinor],
        &[Field::Currency],
        &[Field::Product],
    ],
    distinctive: &[Field::Id, Field::Status, Field::Product, Field::Customer, Field::CurrentPeriodEnd],
    how_to_export: "Chargebee › Settings › Import & Export Data › Export Data, subscriptions (the zip, or the \
                    Subscriptions.csv inside it)",
    parse_row,
};

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec { field: Field::Id, name: "subscriptions.id", aliases: &["subscriptions.id", "subscription[id]"] },
    ColumnSpec {
        field: Field::Customer,
        name: "customers.id",
        aliases: &["customers.id", "customer[id]", "subscriptions.customer_id", "subscription[customer_id]"],
    },
    ColumnSpec {
        field: Field::Product,
        name: "subscriptions.plan_id",
        aliases: &["subscriptions.plan_id", "subscription[plan_id]"],
    },
    ColumnSpec {
        field: Field::Quantity,
        name: "subscriptions.plan_quantity",
        aliases: &["subscriptions.plan_quantity", "subscription[plan_quantity]"],
    },
    ColumnSpec {
        field: Field::Amount,
        name: "subscriptions.plan_unit_price",
        aliases: &[
            "subscriptions.plan_unit_price",
            "subscriptions.plan_unit_price_in_decimal",
            "subscription[plan_unit_price_in_decimal]",
        ],
    },
    ColumnSpec {
        field: Field::AmountMinor,
        name: "subscription[plan_unit_price]",
        aliases: &["subscription[plan_unit_price]"],
    },
    ColumnSpec {
        field: Field::Currency,
        name: "subscriptions.currency_code",
        aliases: &["subscriptions.currency_code", "subscription[currency_code]"],
    },
    ColumnSpec {
        field: Field::Status,
        name: "subscriptions.status",
        aliases: &["subscriptions.status", "subscription[status]"],
    },
    ColumnSpec {
        field: Field::Start,
        name: "subscriptions.started_at",
        aliases: &["subscriptions.started_at", "subscription[started_at]"],
    },
    ColumnSpec {
        field: Field::StartsAt,
        name: "subscriptions.start_date",
        aliases: &["subscriptions.start_date", "subscription[start_date]"],
    },
    ColumnSpec {
        field: Field::Created,
        name: "subscriptions.created_at",
        aliases: &["subscriptions.created_at", "subscription[created_at]"],
    },
    ColumnSpec {
        field: Field::TrialStart,
        name: "subscriptions.trial_start",
        aliases: &["subscriptions.trial_start", "subscription[trial_start]"],
    },
    ColumnSpec {
        field: Field::TrialEnd,
        name: "subscriptions.trial_end",
        aliases: &["subscriptions.trial_end", "subscription[trial_end]"],
    },
    ColumnSpec {
        field: Field::CurrentPeriodStart,
        name: "subscriptions.current_term_start",
        aliases: &["subscriptions.current_term_start", "subscription[current_term_start]"],
    },
    ColumnSpec {
        field: Field::CurrentPeriodEnd,
        name: "subscriptions.current_term_end",
        aliases: &["subscriptions.current_term_end", "subscription[current_term_end]"],
    },
    ColumnSpec {
        field: Field::EndedAt,
        name: "subscriptions.cancelled_at",
        aliases: &["subscriptions.cancelled_at", "subscription[cancelled_at]"],
    },
    ColumnSpec {
        field: Field::PausedAt,
        name: "subscriptions.pause_date",
        aliases: &["subscriptions.pause_date", "subscription[pause_date]"],
    },
    ColumnSpec {
        field: Field::Interval,
        name: "subscriptions.billing_period_unit",
        aliases: &["subscriptions.billing_period_unit", "subscription[billing_period_unit]"],
    },
    ColumnSpec {
        field: Field::IntervalCount,
        name: "subscriptions.billing_period",
        aliases: &["subscriptions.billing_period", "subscription[billing_period]"],
    },
];

const DATE_HINT: &str = "Chargebee dates read here are YYYY-MM-DD HH:MM[:SS] (ISO 8601 too), in UTC unless a zone \
follows; a spreadsheet may have reformatted them: export again, or set the column's format back to that.";

#[allow(clippy::result_large_err)]
fn parse_row(row: &Row) -> Result<Parsed, Vec<Problem>> {
    let mut problems = Problems::default();
    let mut date = |field: Field| problems.keep(instant(row, field, DATE_HINT)).flatten();
    let created = date(Field::Created);
    let started_at = date(Field::Start);
    let start_date = date(Field::StartsAt);
    let trial_start = date(Field::TrialStart);
    let trial_end = date(Field::TrialEnd);
    let term_start = date(Field::CurrentPeriodStart);
    let term_end = date(Field::CurrentPeriodEnd);
    let cancelled_at = date(Field::EndedAt);
    let pause_date = date(Field::PausedAt);
    let start = started_at.or(start_date).or(created);
    let all_blank = [Field::Start, Field::StartsAt, Field::Created].iter().all(|f| row.raw(*f).trim().is_empty());
    if start.is_none() && all_blank {
        problems.push(row.problem(
            Field::Start,
            "the start date is blank".into(),
            "Every subscription needs its started_at (or start_date) as YYYY-MM-DD HH:MM:SS.",
        ));
    }
    let (status, non_renewing) = match problems.keep(status(row)) {
        Some((status, non_renewing)) => (Some(status), non_renewing),
        None => (None, false),
    };

    // What each status makes of `cancelled_at` and the term.
    let (mut ended_at, mut cancel_at_period_end, mut period_end, mut paused_at) = (None, false, term_end, None);
    match status {
        Some(Status::Canceled) => ended_at = cancelled_at,
        Some(Status::Active) if non_renewing => {
            cancel_at_period_end = true;
            period_end = term_end.or(cancelled_at);
            if period_end.is_none() {
                problems.push(row.problem(
                    Field::CurrentPeriodEnd,
                    "the subscription is non-renewing but the row says neither its term end nor its cancellation date"
                        .into(),
                    "A non-renewing subscription is live until its current term ends; export again with \
                     subscriptions.current_term_end.",
                ));
            }
        }
        Some(Status::Active | Status::Trialing) if cancelled_at.is_some() => {
            cancel_at_period_end = true;
            period_end = cancelled_at;
        }
        Some(Status::Paused) => paused_at = pause_date,
        _ => {}
    }

    let currency = problems.keep(row.currency("Chargebee writes ISO codes such as USD or EUR."));
    let price_per_interval = currency.as_ref().and_then(|currency| {
        problems.keep(amount_either_way(
            row,
            currency,
            "subscriptions.plan_unit_price is the plan's price per billing period, such as 19.00.",
            "In bulk-import files subscription[plan_unit_price] is in cents, a whole number such as 1900 for 19.00 \
             (subscription[plan_unit_price_in_decimal] takes 19.00).",
        ))
    });
    let quantity = problems.keep(row.count(
        Field::Quantity,
        1,
        MAX_QUANTITY,
        "plan_quantity is the number of units or seats, such as 1 or 12.",
    ));
    let product = row.text(Field::Product);
    let (interval, interval_source) = match problems.keep(stated_interval(row)) {
        Some(Some(interval)) => (Some(interval), IntervalSource::Stated),
        Some(None) => {
            let (interval, source) = infer_interval(term_start, term_end, trial_end, std::slice::from_ref(&product));
            (Some(interval), source)
        }
        None => (None, IntervalSource::Stated),
    };
    let draft = Draft {
        id: row.text(Field::Id),
        customer: row.text(Field::Customer),
        product: product.clone(),
        plan: product,
        status,
        created,
        start,
        trial_start,
        trial_end,
        canceled_at: None,
        ended_at,
        cancel_at_period_end,
        payment_failed: false,
        current_period_start: term_start,
        current_period_end: period_end,
        paused_at,
        interval,
        interval_source,
        currency,
        price_per_interval,
        quantity,
    };
    finish(row, draft, problems)
}

/// Title Case in Export Data (`Non Renewing`), lower_snake in bulk-import files (`non_renewing`).
/// `Non Renewing` is `Active` with a scheduled end (see `parse_row`): the flag says so.
#[allow(clippy::result_large_err)]
fn status(row: &Row) -> Result<(Status, bool), Problem> {
    let text = row.raw(Field::Status).trim().to_ascii_lowercase().replace([' ', '-'], "_");
    if text == "non_renewing" {
        return Ok((Status::Active, true));
    }
    let status = match text.as_str() {
        "active" => Status::Active,
        "in_trial" => Status::Trialing,
        "cancelled" | "canceled" => Status::Canceled,
        "paused" => Status::Paused,
        "future" => Status::Scheduled,
        "transferred" => {
            return Err(row.problem(
                Field::Status,
                "the subscription was transferred to another business entity".into(),
                "A transferred subscription's history continues in the other entity's export; analyse that one.",
            ))
        }
        _ => {
            return Err(row.problem(
                Field::Status,
                "not a Chargebee subscription status".into(),
                "Expected one of Active, In Trial, Non Renewing, Paused, Cancelled, Future.",
            ))
        }
    };
    Ok((status, false))
}

/// The interval when the file has a `billing_period_unit` column and the row fills it.
#[allow(clippy::result_large_err)]
fn stated_interval(row: &Row) -> Result<Option<BillingInterval>, Problem> {
    let unit = match row.raw(Field::Interval).trim().to_ascii_lowercase().as_str() {
        "" => return Ok(None),
        "day" => IntervalUnit::Day,
        "week" => IntervalUnit::Week,
        "month" => IntervalUnit::Month,
        "year" => IntervalUnit::Year,
        _ => {
            return Err(row.problem(
                Field::Interval,
                "not a billing period unit".into(),
                "Expected day, week, month or year.",
            ))
        }
    };
    let count = row.count(Field::IntervalCount, 1, 1000, "billing_period is a whole number of units, such as 3.")?;
    if count == 0 {
        return Err(row.problem(
            Field::IntervalCount,
            "a billing period of zero units".into(),
            "billing_period is 1 or more.",
        ));
    }
    Ok(Some(BillingInterval { unit, count: count as u32 }))
}
