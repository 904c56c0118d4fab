//! Building a [`Subscription`] from one row's values, with the checks every format shares.
//!
//! A format reads its cells into a [`Draft`] in its own vocabulary (statuses, amounts in cents or
//! not, where the end date lives); [`finish`] then checks what must hold whatever the vendor (an end
//! after the start, a trial with an end), applies the documented rules for missing ends, and works
//! out the exact MRR.

use super::table::{Field, Parsed, Row};
use super::values::Instant;
use super::{BillingInterval, IntervalSource, Problem, Status, Subscription};
use crate::money::{Currency, Minor};

/// Quantities above this are not seat counts.
pub(crate) const MAX_QUANTITY: u64 = 10_000_000;

#[derive(Default)]
pub(crate) struct Draft {
    pub id: Option<String>,
    pub customer: Option<String>,
    pub product: Option<String>,
    pub plan: Option<String>,
    pub status: Option<Status>,
    pub created: Option<Instant>,
    pub start: Option<Instant>,
    pub trial_start: Option<Instant>,
    pub trial_end: Option<Instant>,
    pub canceled_at: Option<Instant>,
    pub ended_at: Option<Instant>,
    pub cancel_at_period_end: bool,
    /// It ended because its renewal payments failed (after the dunning retries).
    pub payment_failed: bool,
    pub current_period_start: Option<Instant>,
    pub current_period_end: Option<Instant>,
    pub paused_at: Option<Instant>,
    pub interval: Option<BillingInterval>,
    pub interval_source: IntervalSource,
    pub currency: Option<Currency>,
    pub price_per_interval: Option<Minor>,
    pub quantity: Option<u64>,
}

/// Collects a row's problems while its cells are read, so that a person sees all of them at once.
#[derive(Default)]
pub(crate) struct Problems(pub Vec<Problem>);

impl Problems {
    /// The value, or `None` with its problem kept.
    pub fn keep<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        result.map_err(|p| self.0.push(p)).ok()
    }

    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }
}

/// Checks the draft and turns it into a subscription, or returns every problem the row has.
pub(crate) fn finish(row: &Row, draft: Draft, mut problems: Problems) -> Result<Parsed, Vec<Problem>> {
    if draft.id.is_none() {
        problems.push(row.problem(Field::Id, "the subscription id is blank".into(), "Every row needs its id."));
    }
    if draft.customer.is_none() {
        problems.push(row.problem(
            Field::Customer,
            "the customer id is blank".into(),
            "Every subscription belongs to a customer; export again with the customer column.",
        ));
    }
    if draft.product.is_none() {
        problems.push(row.problem(
            Field::Product,
            "the product is blank".into(),
            "Segments are products (or plans); fill in the product or export again with that column.",
        ));
    }
    if let (Some(start), Some(today)) = (draft.start, row.today()) {
        if start > today && draft.status != Some(Status::Scheduled) {
            problems.push(row.problem(
                Field::Start,
                format!("the subscription starts after today ({})", super::values::format_instant_readable(today)),
                "Only a scheduled subscription can start later; check the date (and the computer's clock).",
            ));
        }
    }
    if let (Some(start), Some(ended)) = (draft.start, draft.ended_at) {
        if ended < start {
            problems.push(row.problem(
                Field::EndedAt,
                "the subscription ends before it starts".into(),
                "Check the row's start and end dates.",
            ));
        }
    }
    if let (Some(trial_start), Some(trial_end)) = (draft.trial_start, draft.trial_end) {
        if trial_end < trial_start {
            problems.push(row.problem(
                Field::TrialEnd,
                "the trial ends before it starts".into(),
                "Check the row's trial start and trial end.",
            ));
        }
    }
    if draft.status == Some(Status::Trialing) && draft.trial_end.is_none() {
        problems.push(row.problem(
            Field::TrialEnd,
            "the subscription is in trial but the row has no trial end".into(),
            "A trial needs its end date: that is when the paid subscription begins. Export again with that column.",
        ));
    } else if draft.trial_start.is_some() && draft.trial_end.is_none() {
        problems.push(row.problem(
            Field::TrialEnd,
            "the row has a trial start but no trial end".into(),
            "A trial needs its end date: that is when the paid subscription begins.",
        ));
    }
    let ended_at =
        match (draft.status, draft.ended_at) {
            (Some(Status::Canceled), None) => {
                // Without an end date, a canceled subscription ended at its period end if it was set to
                // cancel then, else when the cancellation was made.
                let implied = if draft.cancel_at_period_end {
                    draft.current_period_end.or(draft.canceled_at)
                } else {
                    draft.canceled_at
                };
                if implied.is_none() {
                    problems.push(row.problem(
                    Field::EndedAt,
                    "the subscription is canceled but the row says neither when it ended nor when it was canceled"
                        .into(),
                    "Export again with the end and cancellation date columns.",
                ));
                }
                implied
            }
            (_, ended) => ended,
        };
    let Problems(problems) = problems;
    let (
        Some(id),
        Some(customer),
        Some(product),
        Some(status),
        Some(start),
        Some(interval),
        Some(currency),
        Some(price),
        Some(quantity),
    ) = (
        draft.id,
        draft.customer,
        draft.product,
        draft.status,
        draft.start,
        draft.interval,
        draft.currency,
        draft.price_per_interval,
        draft.quantity,
    )
    else {
        if problems.is_empty() {
            // A format that leaves a value unset must have said why; this keeps the row visible if
            // one ever does not.
            return Err(vec![row.problem(
                Field::Id,
                "the row lacks a value the analysis needs".into(),
                "Check the row against the export's documented columns.",
            )]);
        }
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(mrr) = price.scale(i128::from(quantity), 1).and_then(|total| interval.monthly(total)) else {
        return Err(vec![row.problem(
            Field::Amount,
            "the amount is too large".into(),
            "Check the amount and quantity.",
        )]);
    };
    Ok(Parsed {
        subscription: Subscription {
            line: row.line(),
            id,
            customer,
            product,
            plan: draft.plan,
            interval,
            interval_source: draft.interval_source,
            status,
            start,
            trial_start: draft.trial_start,
            trial_end: draft.trial_end,
            canceled_at: draft.canceled_at,
            ended_at,
            cancel_at_period_end: draft.cancel_at_period_end,
            payment_failed: draft.payment_failed,
            current_period_start: draft.current_period_start,
            current_period_end: draft.current_period_end,
            paused_at: draft.paused_at,
            created: draft.created,
            price_per_interval: price,
            quantity,
            mrr,
            mrr_changes: Vec::new(),
            segment: None,
        },
        currency: currency.code,
    })
}
