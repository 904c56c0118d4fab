//! Renewal counts: from the history's paid spans to each segment's survival data.
//!
//! A retention clock counts renewals of the segment's own billing interval: a monthly
//! subscription renews every month on its paid start's day of the month (the 31st becomes the last
//! day of shorter months, as billing systems anchor it), an annual one every year, a weekly one
//! every seven days. Renewal j of a subscription whose paid span starts at s falls at r(j): s plus j
//! intervals, so r(0) = s begins the first period.
//!
//! - A span that ends at e churned at renewal t, where t counts the periods it began before e: the
//!   renewals r(j), j >= 0, that fall before e less a day (an end up to a day after a renewal date
//!   is that renewal's churn; an end during a period is the churn at the renewal that closes it).
//!   Hence t >= 1. A span that ended because its renewal payments failed (the export says so) ended
//!   after the retries, days or weeks past the renewal it failed: that renewal, the last at or before
//!   its end, is its churn.
//! - A span still paid at the as-of, or continued by a plan switch within its segment, is
//!   right-censored after the renewals it had passed by then: those r(j), j >= 1, at or before it.
//! - A plan switch into another segment leaves this one: for the segment's clock it is a departure
//!   like a churn, at the renewal it came before (and an arrival in the other segment). Retention is
//!   staying in the segment, which is what the segment's forecast needs; the customer's own
//!   continuity shows in the history as a move, never as churn.
//! - A reactivation is a new span with its own clock.

use std::collections::BTreeMap;

use time::{Date, Month, OffsetDateTime};

use crate::history::{PaidSpans, SpanEnding};
use crate::import::cohort::{CohortImport, Period};
use crate::import::snapshot::SnapshotImport;
use crate::import::values::MonthIndex;
use crate::import::values::SECONDS_PER_DAY;
use crate::import::{BillingInterval, Instant, IntervalUnit};

use super::retention::RenewalAgeCounts;

/// An end this soon after a renewal date is that renewal's churn.
pub const RENEWAL_SLACK_SECONDS: i64 = SECONDS_PER_DAY;

/// Renewal `j` of a span whose paid start is `start`: `start` plus `j` intervals, on the same day of
/// the month (clamped to the month's length) and time of day for months and years.
pub fn renewal_instant(start: Instant, interval: BillingInterval, j: u32) -> Instant {
    let count = i64::from(interval.count.max(1)) * i64::from(j);
    match interval.unit {
        IntervalUnit::Day => start.saturating_add(count.saturating_mul(SECONDS_PER_DAY)),
        IntervalUnit::Week => start.saturating_add(count.saturating_mul(7 * SECONDS_PER_DAY)),
        IntervalUnit::Month => add_months(start, count),
        IntervalUnit::Year => add_months(start, count.saturating_mul(12)),
    }
}

/// `instant` plus a number of calendar months, the day clamped to the target month's length; far
/// outside any real date, saturates.
fn add_months(instant: Instant, months: i64) -> Instant {
    let Ok(at) = OffsetDateTime::from_unix_timestamp(instant) else { return instant };
    let index = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + months;
    let Ok(year) = i32::try_from(index.div_euclid(12)) else { return Instant::MAX };
    let Ok(month) = Month::try_from((index.rem_euclid(12) + 1) as u8) else { return instant };
    let day = at.day().min(month.length(year));
    match Date::from_calendar_date(year, month, day) {
        Ok(date) => at.replace_date(date).unix_timestamp(),
        Err(_) => Instant::MAX,
    }
}

/// An interval's rough length, for a first guess of how many renewals fit in a time.
fn approximate_seconds(interval: BillingInterval) -> i64 {
    let unit = match interval.unit {
        IntervalUnit::Day => SECONDS_PER_DAY,
        IntervalUnit::Week => 7 * SECONDS_PER_DAY,
        IntervalUnit::Month => 2_629_746,
        IntervalUnit::Year => 31_556_952,
    };
    unit * i64::from(interval.count.max(1))
}

/// How many renewals r(j), j >= 1, fall at or before `at` (`inclusive`) or strictly before it.
pub fn renewals_by(start: Instant, interval: BillingInterval, at: Instant, inclusive: bool) -> u32 {
    if at <= start {
        return 0;
    }
    let passed = |j: u32| {
        let r = renewal_instant(start, interval, j);
        if inclusive {
            r <= at
        } else {
            r < at
        }
    };
    // A guess from the average length, then exact steps: calendar months vary by a few days, so the
    // guess is off by one at most, apart from extreme spans.
    let guess = ((at - start) / approximate_seconds(interval)).clamp(0, i64::from(u32::MAX - 1)) as u32;
    let mut j = guess;
    while j > 0 && !passed(j) {
        j -= 1;
    }
    while j < u32::MAX - 1 && passed(j + 1) {
        j += 1;
    }
    j
}

/// Where one span stands on its retention clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenewalOutcome {
    /// Churned at renewal t (t >= 1).
    Churned(u32),
    /// Still subscribed after this many renewals when it stopped being observed.
    Censored(u32),
}

/// The outcome of a span on its segment's clock (see the module's documentation).
pub fn renewal_outcome(
    start: Instant,
    interval: BillingInterval,
    ending: SpanEnding,
    payment_failed: bool,
    as_of: Instant,
) -> RenewalOutcome {
    match ending {
        SpanEnding::Churned(end) if payment_failed => {
            RenewalOutcome::Churned(renewals_by(start, interval, end, true).max(1))
        }
        SpanEnding::Churned(end) => {
            RenewalOutcome::Churned(1 + renewals_by(start, interval, end - RENEWAL_SLACK_SECONDS, false))
        }
        SpanEnding::Switched(at) => RenewalOutcome::Censored(renewals_by(start, interval, at, true)),
        SpanEnding::MovedOut(at) => {
            RenewalOutcome::Churned(1 + renewals_by(start, interval, at - RENEWAL_SLACK_SECONDS, false))
        }
        SpanEnding::Ongoing => RenewalOutcome::Censored(renewals_by(start, interval, as_of, true)),
    }
}

/// Each segment's survival data (indexed like `spans.segments`): churned and censored counts by
/// renewal age, ordered by age.
pub fn renewal_counts(spans: &PaidSpans) -> Vec<Vec<RenewalAgeCounts>> {
    let mut by_segment: Vec<BTreeMap<u32, (u64, u64)>> = vec![BTreeMap::new(); spans.segments.len()];
    for span in &spans.spans {
        let interval = spans.intervals[span.segment];
        let counts = &mut by_segment[span.segment];
        match renewal_outcome(span.start, interval, span.ending, span.payment_failed, spans.as_of) {
            RenewalOutcome::Churned(t) => counts.entry(t).or_default().0 += 1,
            RenewalOutcome::Censored(t) => counts.entry(t).or_default().1 += 1,
        }
    }
    by_segment.into_iter().map(rows_of).collect()
}

/// One start month's subscribers of a segment, and the share of them still subscribed after each
/// renewal.
#[derive(Clone, Debug, PartialEq)]
pub struct CohortRetention {
    /// The month of their paid start.
    pub month: MonthIndex,
    pub size: u64,
    /// `retained[a - 1]`: of those observed to renewal a (those censored earlier, by a plan switch or
    /// by the end of the data, are left out), the share still subscribed after it. Only ages that at
    /// least nine tenths of the cohort was observed to.
    pub retained: Vec<f64>,
}

/// Retention by start month, per segment (indexed like `spans.segments`), oldest cohort first: the
/// cohort view beside the fitted curve.
pub fn cohort_retention(spans: &PaidSpans) -> Vec<Vec<CohortRetention>> {
    let mut outcomes: Vec<BTreeMap<MonthIndex, Vec<RenewalOutcome>>> = vec![BTreeMap::new(); spans.segments.len()];
    for span in spans.spans.iter().filter(|s| !s.switched_in || s.moved_in) {
        let interval = spans.intervals[span.segment];
        let outcome = renewal_outcome(span.start, interval, span.ending, span.payment_failed, spans.as_of);
        outcomes[span.segment].entry(MonthIndex::of(span.start)).or_default().push(outcome);
    }
    outcomes
        .into_iter()
        .map(|cohorts| {
            cohorts
                .into_iter()
                .map(|(month, members)| {
                    let size = members.len() as u64;
                    let mut retained = Vec::new();
                    let oldest = members
                        .iter()
                        .map(|o| match *o {
                            RenewalOutcome::Churned(t) | RenewalOutcome::Censored(t) => t,
                        })
                        .max()
                        .unwrap_or(0);
                    for age in 1..=oldest {
                        let (mut still, mut gone) = (0u64, 0u64);
                        for outcome in &members {
                            match *outcome {
                                RenewalOutcome::Churned(t) if t <= age => gone += 1,
                                RenewalOutcome::Churned(_) => still += 1,
                                RenewalOutcome::Censored(t) if t >= age => still += 1,
                                RenewalOutcome::Censored(_) => {}
                            }
                        }
                        // Shown while nearly all the cohort is observed: a share of the few left would
                        // say more about who switched or started late than about retention.
                        if 10 * (still + gone) < 9 * size || still + gone == 0 {
                            break;
                        }
                        retained.push(still as f64 / (still + gone) as f64);
                        if still == 0 {
                            break;
                        }
                    }
                    CohortRetention { month, size, retained }
                })
                .collect()
        })
        .collect()
}

/// A snapshot table's customers as renewal counts per segment, by the survival-analysis
/// convention: the tenure in months is the duration, the churn flag the event (a churned customer
/// with a tenure of 0 churned at the first renewal). Every segment is monthly.
pub fn snapshot_renewals(table: &SnapshotImport) -> Vec<(String, BillingInterval, Vec<RenewalAgeCounts>)> {
    let mut by_segment: Vec<BTreeMap<u32, (u64, u64)>> = vec![BTreeMap::new(); table.segments.len()];
    for customer in &table.customers {
        let Some(counts) = by_segment.get_mut(customer.segment) else { continue };
        if customer.churned {
            counts.entry(customer.tenure.max(1)).or_default().0 += 1;
        } else {
            counts.entry(customer.tenure).or_default().1 += 1;
        }
    }
    let monthly = BillingInterval { unit: IntervalUnit::Month, count: 1 };
    table.segments.iter().zip(by_segment).map(|(name, ages)| (name.clone(), monthly, rows_of(ages))).collect()
}

/// A cohort table's survivors as renewal counts per segment: of each cohort, those gone between
/// one age and the next churned at that renewal, and those still there at the last age observed
/// are censored there.
pub fn cohort_renewals(table: &CohortImport) -> Vec<(String, BillingInterval, Vec<RenewalAgeCounts>)> {
    table
        .segments
        .iter()
        .map(|segment| {
            let mut ages: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
            for cohort in &segment.cohorts {
                for (age, pair) in cohort.survivors.windows(2).enumerate() {
                    let churned = pair[0].saturating_sub(pair[1]);
                    if churned > 0 {
                        ages.entry(age as u32 + 1).or_default().0 += churned;
                    }
                }
                if let Some(&last) = cohort.survivors.last() {
                    ages.entry(cohort.survivors.len() as u32 - 1).or_default().1 += last;
                }
            }
            let unit = match segment.period {
                Period::Month => IntervalUnit::Month,
                Period::Year => IntervalUnit::Year,
            };
            (segment.name.clone(), BillingInterval { unit, count: 1 }, rows_of(ages))
        })
        .collect()
}

fn rows_of(ages: BTreeMap<u32, (u64, u64)>) -> Vec<RenewalAgeCounts> {
    ages.into_iter().map(|(renewals, (churned, censored))| RenewalAgeCounts { renewals, churned, censored }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::values::parse_instant;

    fn at(text: &str) -> Instant {
        parse_instant(text).unwrap_or_else(|| panic!("{text}"))
    }

    const MONTH: BillingInterval = BillingInterval { unit: IntervalUnit::Month, count: 1 };
    const YEAR: BillingInterval = BillingInterval { unit: IntervalUnit::Year, count: 1 };
    const QUARTER: BillingInterval = BillingInterval { unit: IntervalUnit::Month, count: 3 };
    const WEEK: BillingInterval = BillingInterval { unit: IntervalUnit::Week, count: 1 };

    #[test]
    fn monthly_renewals_keep_the_day_of_the_month_clamped_to_short_months() {
        let start = at("2025-01-31 10:00");
        let dates: Vec<Instant> = (0..4).map(|j| renewal_instant(start, MONTH, j)).collect();
        assert_eq!(
            dates,
            [at("2025-01-31 10:00"), at("2025-02-28 10:00"), at("2025-03-31 10:00"), at("2025-04-30 10:00")]
        );
        assert_eq!(renewal_instant(at("2024-02-29 00:00"), YEAR, 1), at("2025-02-28 00:00"));
        assert_eq!(renewal_instant(start, QUARTER, 1), at("2025-04-30 10:00"));
        assert_eq!(renewal_instant(start, WEEK, 2), at("2025-02-14 10:00"));
    }

    #[test]
    fn renewals_are_counted_at_or_before_an_instant() {
        let start = at("2025-01-15 12:00");
        // Renewals: 02-15, 03-15, 04-15 12:00, ...
        for (instant, inclusive, expected) in [
            ("2025-01-15 12:00", true, 0),
            ("2025-02-15 11:59", true, 0),
            ("2025-02-15 12:00", true, 1),
            ("2025-02-15 12:00", false, 0),
            ("2025-04-20 00:00", true, 3),
            ("2027-01-15 12:00", true, 24),
            ("2027-01-15 12:00", false, 23),
        ] {
            assert_eq!(renewals_by(start, MONTH, at(instant), inclusive), expected, "{instant} {inclusive}");
        }
        assert_eq!(renewals_by(start, YEAR, at("2026-01-15 11:00"), true), 0);
        assert_eq!(renewals_by(start, YEAR, at("2026-01-15 12:00"), true), 1);
    }

    #[test]
    fn ends_map_to_the_renewal_that_was_not_made() {
        let start = at("2025-01-15 12:00");
        let as_of = at("2025-12-31 00:00");
        let outcome = |ending| renewal_outcome(start, MONTH, ending, false, as_of);
        // Ends at the end of the first period (the first renewal was not made): churn at renewal 1.
        assert_eq!(outcome(SpanEnding::Churned(at("2025-02-15 12:00"))), RenewalOutcome::Churned(1));
        // During the first period: renewal 1 too.
        assert_eq!(outcome(SpanEnding::Churned(at("2025-01-20 00:00"))), RenewalOutcome::Churned(1));
        // Half a day after the second renewal date (a failed payment): churn at renewal 2, not 3.
        assert_eq!(outcome(SpanEnding::Churned(at("2025-03-16 00:00"))), RenewalOutcome::Churned(2));
        // Two days after it: the third period had begun, so renewal 3.
        assert_eq!(outcome(SpanEnding::Churned(at("2025-03-17 13:00"))), RenewalOutcome::Churned(3));
        // Still paid at the as-of: renewals 02-15 ... 12-15 passed, 11 of them.
        assert_eq!(outcome(SpanEnding::Ongoing), RenewalOutcome::Censored(11));
        // A switch on 04-01: censored after the two renewals passed by then.
        assert_eq!(outcome(SpanEnding::Switched(at("2025-04-01 00:00"))), RenewalOutcome::Censored(2));
        // A move to another segment on 04-01 leaves this one during its third period: renewal 3.
        assert_eq!(outcome(SpanEnding::MovedOut(at("2025-04-01 00:00"))), RenewalOutcome::Churned(3));
        // An annual subscriber that leaves at its first anniversary churned at renewal 1.
        let yearly = renewal_outcome(start, YEAR, SpanEnding::Churned(at("2026-01-15 12:00")), false, as_of);
        assert_eq!(yearly, RenewalOutcome::Churned(1));
        // Payments failed at the third renewal (04-15) and the retries ended it on 05-02: renewal 3,
        // though the fourth period had begun by then.
        let failed = renewal_outcome(start, MONTH, SpanEnding::Churned(at("2025-05-02 00:00")), true, as_of);
        assert_eq!(failed, RenewalOutcome::Churned(3));
    }
}
