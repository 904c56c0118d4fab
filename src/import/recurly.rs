//! Recurly's subscriptions export (Exports › Subscriptions), version 6 and the older versions, which
//! have fewer columns. Columns are found by name, so any version with the needed ones reads.
//!
//! Recurly's states and what they mean here:
//! - `active`: subscribed; a trial while `trial_ends_at` lies ahead. With `auto_renew` false it ends
//!   at `current_term_ends_at`.
//! - `canceled`: will not renew, still live until `expires_at` (like Stripe's cancel at period end);
//!   `canceled_at` is when the cancellation was asked for.
//! - `expired`: ended at `expires_at`.
//! - `future`: scheduled; not counted, not a problem.
//! - `paused`: no MRR from `paused_at` on (without it, at no time).
//! - `failed`: the first payment failed; never paid.
//!
//! Dates carry a time-zone abbreviation (`2010-03-24 17:18:46 PDT`, mostly `UTC`) or an offset and
//! are converted to UTC; an ambiguous abbreviation (`IST`) is a problem, never a guess. `unit_amount`
//! is in major units (older exports' `unit_amount_in_cents` in cents). There is no interval column:
//! the interval is inferred from the current period's dates, the plan's other subscriptions or the
//! plan code and name (see `infer`). The product (segment) is `plan_name`, else `plan_code`.

use super::infer::{amount_either_way, infer_interval, instant};
use super::record::{finish, Draft, Problems, MAX_QUANTITY};
use super::table::{ColumnSpec, Field, FormatSpec, Parsed, Row};
use super::{Format, Problem, Status};

pub(crate) static SPEC: FormatSpec = FormatSpec {
    format: Format::Recurly,
    columns: COLUMNS,
    required: &[
        &[Field::Id],
        &[Field::Customer],
        &[Field::Status],
        &[Field::Start],
        &[Field::Amount, Field::AmountMinor],
        &[Field::Currency],
        &[Field::Product, Field::Plan],
    ],
    distinctive: &[Field::Id, Field::Customer, Field::Status, Field::EndedAt, Field::Plan],
    how_to_export: "Recurly › Exports › Subscriptions (all subscriptions, any version)",
    parse_row,
};

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec { field: Field::Id, name: "uuid", aliases: &["uuid", "subscription_uuid"] },
    ColumnSpec { field: Field::Customer, name: "account_code", aliases: &["account_code"] },
    ColumnSpec { field: Field::Plan, name: "plan_code", aliases: &["plan_code"] },
    ColumnSpec { field: Field::Product, name: "plan_name", aliases: &["plan_name"] },
    ColumnSpec { field: Field::Status, name: "state", aliases: &["state"] },
    ColumnSpec { field: Field::AutoRenew, name: "auto_renew", aliases: &["auto_renew"] },
    ColumnSpec { field: Field::Currency, name: "currency", aliases: &["currency"] },
    ColumnSpec { field: Field::Quantity, name: "quantity", aliases: &["quantity"] },
    ColumnSpec { field: Field::Amount, name: "unit_amount", aliases: &["unit_amount"] },
    ColumnSpec { field: Field::AmountMinor, name: "unit_amount_in_cents", aliases: &["unit_amount_in_cents"] },
    ColumnSpec {
        field: Field::CurrentPeriodStart,
        name: "current_period_started_at",
        aliases: &["current_period_started_at"],
    },
    ColumnSpec { field: Field::CurrentPeriodEnd, name: "current_period_ends_at", aliases: &["current_period_ends_at"] },
    ColumnSpec { field: Field::TrialStart, name: "trial_started_at", aliases: &["trial_started_at"] },
    ColumnSpec { field: Field::TrialEnd, name: "trial_ends_at", aliases: &["trial_ends_at"] },
    ColumnSpec { field: Field::Start, name: "activated_at", aliases: &["activated_at"] },
    ColumnSpec { field: Field::Created, name: "created_at", aliases: &["created_at"] },
    ColumnSpec { field: Field::CanceledAt, name: "canceled_at", aliases: &["canceled_at"] },
    ColumnSpec { field: Field::EndedAt, name: "expires_at", aliases: &["expires_at"] },
    ColumnSpec { field: Field::PausedAt, name: "paused_at", aliases: &["paused_at"] },
    ColumnSpec { field: Field::TermEnd, name: "current_term_ends_at", aliases: &["current_term_ends_at"] },
];

const DATE_HINT: &str = "Recurly writes dates as YYYY-MM-DD HH:MM:SS followed by a time zone such as UTC or PDT; \
a spreadsheet may have reformatted them: export again, or set the column's format back to that.";

#[allow(clippy::result_large_err)]
fn parse_row(row: &Row) -> Result<Parsed, Vec<Problem>> {
    let mut problems = Problems::default();
    let mut date = |field: Field| problems.keep(instant(row, field, DATE_HINT)).flatten();
    let activated_at = date(Field::Start);
    let created = date(Field::Created);
    let period_start = date(Field::CurrentPeriodStart);
    let period_end = date(Field::CurrentPeriodEnd);
    let trial_start = date(Field::TrialStart);
    let trial_end = date(Field::TrialEnd);
    let canceled_at = date(Field::CanceledAt);
    let expires_at = date(Field::EndedAt);
    let paused_at = date(Field::PausedAt);
    let term_end = date(Field::TermEnd);
    let (status, canceled) = match problems.keep(status(row)) {
        Some((status, canceled)) => (Some(status), canceled),
        None => (None, false),
    };
    // A future subscription has not been activated: its scheduled start is its first period's.
    let start = activated_at.or(created).or(trial_start).or(period_start);
    if start.is_none() && row.raw(Field::Start).trim().is_empty() {
        problems.push(row.problem(
            Field::Start,
            "the start date is blank".into(),
            "Every subscription needs its activated_at (or, for a future one, its current period start).",
        ));
    }

    let (mut ended_at, mut cancel_at_period_end, mut scheduled_end, mut paused) = (None, false, period_end, None);
    match status {
        Some(Status::Canceled) => ended_at = expires_at,
        Some(Status::Active) if canceled => {
            cancel_at_period_end = true;
            scheduled_end = expires_at.or(period_end);
            if scheduled_end.is_none() {
                problems.push(row.problem(
                    Field::EndedAt,
                    "the subscription is canceled but the row says neither when it expires nor when its period ends"
                        .into(),
                    "A canceled Recurly subscription is live until expires_at; export again with that column.",
                ));
            }
        }
        Some(Status::Active) => {
            let auto_renew = problems.keep(row.flag(Field::AutoRenew, "Recurly writes true or false here."));
            if auto_renew == Some(false) && row.text(Field::AutoRenew).is_some() {
                if let Some(term_end) = term_end.or(expires_at) {
                    cancel_at_period_end = true;
                    scheduled_end = Some(term_end);
                }
            }
        }
        Some(Status::Paused) => paused = paused_at,
        _ => {}
    }

    let currency = problems.keep(row.currency("Recurly writes ISO codes such as USD or EUR."));
    let price_per_interval = currency.as_ref().and_then(|currency| {
        problems.keep(amount_either_way(
            row,
            currency,
            "unit_amount is the plan's price per billing period, such as 19.00.",
            "unit_amount_in_cents is a whole number of cents, such as 1900 for 19.00.",
        ))
    });
    let quantity = problems.keep(row.count(
        Field::Quantity,
        1,
        MAX_QUANTITY,
        "quantity is the number of units or seats, such as 1 or 12.",
    ));
    let plan = row.text(Field::Plan);
    let name = row.text(Field::Product);
    let (interval, interval_source) =
        infer_interval(period_start, period_end, trial_end, &[plan.clone(), name.clone()]);
    let draft = Draft {
        id: row.text(Field::Id),
        customer: row.text(Field::Customer),
        product: name.or_else(|| plan.clone()),
        plan,
        status,
        created,
        start,
        trial_start,
        trial_end,
        canceled_at,
        ended_at,
        cancel_at_period_end,
        payment_failed: false,
        current_period_start: period_start,
        current_period_end: scheduled_end,
        paused_at: paused,
        interval: Some(interval),
        interval_source,
        currency,
        price_per_interval,
        quantity,
    };
    finish(row, draft, problems)
}

/// Recurly's `state`. `canceled` is `Active` with a scheduled end (see `parse_row`): the flag says
/// so; `expired` is what Stripe calls canceled.
#[allow(clippy::result_large_err)]
fn status(row: &Row) -> Result<(Status, bool), Problem> {
    let text = row.raw(Field::Status).trim().to_ascii_lowercase();
    if text == "canceled" || text == "cancelled" {
        return Ok((Status::Active, true));
    }
    let status = match text.as_str() {
        "active" => Status::Active,
        "expired" => Status::Canceled,
        "future" => Status::Scheduled,
        "paused" => Status::Paused,
        "failed" => Status::IncompleteExpired,
        _ => {
            return Err(row.problem(
                Field::Status,
                "not a Recurly subscription state".into(),
                "Expected one of active, canceled, expired, future, paused, failed.",
            ))
        }
    };
    Ok((status, false))
}
