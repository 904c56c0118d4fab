//! What the exports without an interval column leave to inference, and the cell readers the newer
//! formats share: dates that may carry a time zone, and prices in minor units (cents).
//!
//! Chargebee and Recurly subscription exports say when the current billing period (term) starts and
//! ends, not how long a billing period is. The interval is inferred, in this order:
//! 1. from the row's current period, when it is a whole number of calendar months (1 to 12, 24, 36,
//!    renewals on the same day of the month, clamped to the month's last day), weeks (1 to 4) or one
//!    day, give or take two hours (renewals at a local time move by an hour across daylight saving);
//!    a period that is the trial itself says nothing about the paid interval;
//! 2. from other subscriptions of the same plan whose periods showed one interval (a plan has one);
//! 3. from a word in the plan's id or name: `monthly`, `annual`, `yearly`, `quarterly`, `weekly`,
//!    `3-month`, `6months`, `2 years`, ... (`bi-annual` and `bi-monthly`, which mean opposite things
//!    to different people, say nothing).
//!
//! A row that none of these settles is set aside with a problem. The import's notes count how many
//! subscriptions took their interval from each source.

use std::collections::HashMap;

use time::{Date, Month, PrimitiveDateTime, Time};

use super::table::{Field, Row};
use super::values::{to_datetime, zone_problem, Instant, SECONDS_PER_DAY};
use super::{BillingInterval, Import, IntervalSource, IntervalUnit, Problem, Subscription};
use crate::money::{parse_minor_amount, Minor};

/// How far a period's end may sit from the exact renewal instant.
const SLACK_SECONDS: i64 = 2 * 3600;

/// The interval a row carries until its plan's other rows settle it (see [`IntervalSource::Unknown`]).
pub(crate) const PLACEHOLDER: BillingInterval = BillingInterval { unit: IntervalUnit::Month, count: 1 };

/// A date cell that may end in a time-zone abbreviation: an ambiguous or unknown abbreviation gets
/// its own reason, anything else is read as [`Row::instant`] reads it.
#[allow(clippy::result_large_err)]
pub(crate) fn instant(row: &Row, field: Field, hint: &str) -> Result<Option<Instant>, Problem> {
    let raw = row.raw(field);
    if raw.trim_start().starts_with(|c: char| c.is_ascii_digit()) {
        if let Some(reason) = zone_problem(&raw) {
            return Err(row.problem(field, reason, hint));
        }
    }
    row.instant(field, hint)
}

/// A price written as a whole number of minor units (cents).
#[allow(clippy::result_large_err)]
pub(crate) fn minor_amount(row: &Row, field: Field, hint: &str) -> Result<Minor, Problem> {
    parse_minor_amount(&row.raw(field)).map_err(|reason| row.problem(field, reason, hint))
}

/// The price per billing interval of a billing system that writes it either in major units
/// ([`Field::Amount`], which wins when both are there) or as a whole number of minor units
/// ([`Field::AmountMinor`]), each with the hint its problem shows.
#[allow(clippy::result_large_err)]
pub(crate) fn amount_either_way(
    row: &Row,
    currency: &crate::money::Currency,
    major_hint: &str,
    minor_hint: &str,
) -> Result<Minor, Problem> {
    if row.text(Field::Amount).is_some() || row.text(Field::AmountMinor).is_none() {
        row.major_amount(Field::Amount, currency, major_hint)
    } else {
        minor_amount(row, Field::AmountMinor, minor_hint)
    }
}

/// The interval from the row's own evidence: its current period, else its plan's names. Without
/// either, [`PLACEHOLDER`] marked [`IntervalSource::Unknown`], for [`resolve_unknown_intervals`].
pub(crate) fn infer_interval(
    period_start: Option<Instant>,
    period_end: Option<Instant>,
    trial_end: Option<Instant>,
    names: &[Option<String>],
) -> (BillingInterval, IntervalSource) {
    if let (Some(start), Some(end)) = (period_start, period_end) {
        let is_the_trial = trial_end.is_some_and(|trial_end| (end - trial_end).abs() <= SLACK_SECONDS);
        if let Some(interval) = interval_from_period(start, end).filter(|_| !is_the_trial) {
            return (interval, IntervalSource::PeriodDates);
        }
    }
    match names.iter().flatten().find_map(|name| interval_from_name(name)) {
        Some(interval) => (interval, IntervalSource::PlanName),
        None => (PLACEHOLDER, IntervalSource::Unknown),
    }
}

/// The billing interval a period from `start` to `end` is one of, if it is a whole one.
pub(crate) fn interval_from_period(start: Instant, end: Instant) -> Option<BillingInterval> {
    if end <= start {
        return None;
    }
    for months in (1..=12).chain([24, 36]) {
        if ends_months_later(start, end, months) {
            return Some(in_months(months));
        }
    }
    let length = end - start;
    for weeks in 1..=4 {
        if (length - weeks * 7 * SECONDS_PER_DAY).abs() <= SLACK_SECONDS {
            return Some(BillingInterval { unit: IntervalUnit::Week, count: weeks as u32 });
        }
    }
    ((length - SECONDS_PER_DAY).abs() <= SLACK_SECONDS).then_some(BillingInterval { unit: IntervalUnit::Day, count: 1 })
}

/// `months` months as an interval: whole years as years, so that both sources name it alike.
fn in_months(months: u32) -> BillingInterval {
    if months.is_multiple_of(12) {
        BillingInterval { unit: IntervalUnit::Year, count: months / 12 }
    } else {
        BillingInterval { unit: IntervalUnit::Month, count: months }
    }
}

/// Whether `end` is `months` calendar months after `start`, at the same time of day: on the same day
/// of the month, clamped to the month's last day; a start on its month's last day may have been
/// clamped itself (a subscription anchored on the 31st renews on Feb 28, then Mar 31), so then any
/// later day of the target month up to its last also fits.
fn ends_months_later(start: Instant, end: Instant, months: u32) -> bool {
    let from = to_datetime(start);
    let (year, month, day) = (from.year(), i32::from(u8::from(from.month())), from.day());
    let target = year * 12 + (month - 1) + months as i32;
    let (target_year, target_month) = (target.div_euclid(12), target.rem_euclid(12) + 1);
    let Ok(target_month) = Month::try_from(target_month as u8) else {
        return false;
    };
    let length = target_month.length(target_year);
    let first = day.min(length);
    let last = if day == from.month().length(year) { length } else { first };
    let time_of_day = start.rem_euclid(SECONDS_PER_DAY);
    let at = |day: u8| {
        Date::from_calendar_date(target_year, target_month, day)
            .map(|date| PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc().unix_timestamp() + time_of_day)
    };
    match (at(first), at(last)) {
        (Ok(low), Ok(high)) => (low - SLACK_SECONDS..=high + SLACK_SECONDS).contains(&end),
        _ => false,
    }
}

/// The interval a plan's id or name states, if it states exactly one.
pub(crate) fn interval_from_name(name: &str) -> Option<BillingInterval> {
    let words = words(name);
    let mut found: Option<BillingInterval> = None;
    for (index, word) in words.iter().enumerate() {
        let (unit, count) = match word.as_str() {
            "month" | "months" | "monthly" | "mo" | "mos" | "mth" | "mths" | "mthly" => (IntervalUnit::Month, 1),
            "year" | "years" | "yearly" | "annual" | "annually" | "annum" | "yr" | "yrs" | "yrly" => {
                (IntervalUnit::Year, 1)
            }
            "quarter" | "quarterly" | "qtr" | "qtrly" => (IntervalUnit::Month, 3),
            "semiannual" | "semiannually" | "halfyearly" => (IntervalUnit::Month, 6),
            "week" | "weeks" | "weekly" | "wk" | "wks" => (IntervalUnit::Week, 1),
            "fortnight" | "fortnightly" => (IntervalUnit::Week, 2),
            "day" | "days" | "daily" => (IntervalUnit::Day, 1),
            "biennial" | "biennially" => (IntervalUnit::Year, 2),
            "biannual" | "biannually" | "bimonthly" | "biweekly" => return None,
            _ => continue,
        };
        let before = index.checked_sub(1).map(|i| words[i].as_str());
        let interval = match before {
            Some("bi") => return None,
            Some("half" | "semi") if unit == IntervalUnit::Year => in_months(6),
            Some(number) => match number.parse::<u32>() {
                Ok(n) if (1..=36).contains(&n) => scaled(unit, count * n),
                _ => scaled(unit, count),
            },
            None => scaled(unit, count),
        };
        if found.is_some_and(|f| f != interval) {
            return None;
        }
        found = Some(interval);
    }
    found
}

fn scaled(unit: IntervalUnit, count: u32) -> BillingInterval {
    match unit {
        IntervalUnit::Month => in_months(count),
        unit => BillingInterval { unit, count },
    }
}

/// Lower-case words of a name: split at anything not a letter or digit, between letters and digits,
/// and before an upper-case letter that follows a lower-case one (`ProMonthly3`: pro, monthly, 3).
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        let split = match previous {
            _ if !c.is_alphanumeric() => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                previous = None;
                continue;
            }
            Some(p) => p.is_ascii_digit() != c.is_ascii_digit() || (p.is_lowercase() && c.is_uppercase()),
            None => false,
        };
        if split && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
        previous = Some(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Settles the rows whose own cells did not give their interval: a plan whose other rows' periods all
/// showed one interval lends it (also over a contradicting plan name); a row still without one is set
/// aside with a problem in the plan column.
pub(crate) fn resolve_unknown_intervals(import: &mut Import, plan_column: &str) {
    let needs = |s: &Subscription| matches!(s.interval_source, IntervalSource::Unknown | IntervalSource::PlanName);
    if !import.subscriptions.iter().any(needs) {
        return;
    }
    let key = |s: &Subscription| s.plan.clone().unwrap_or_else(|| s.product.clone());
    // Per plan: the one interval its periods showed, or `None` when they showed several.
    let mut shown: HashMap<String, Option<BillingInterval>> = HashMap::new();
    for s in &import.subscriptions {
        if matches!(s.interval_source, IntervalSource::Stated | IntervalSource::PeriodDates) {
            shown
                .entry(key(s))
                .and_modify(|seen| *seen = seen.filter(|i| *i == s.interval))
                .or_insert(Some(s.interval));
        }
    }
    let mut kept = Vec::with_capacity(import.subscriptions.len());
    for mut s in std::mem::take(&mut import.subscriptions) {
        if needs(&s) {
            if let Some(Some(interval)) = shown.get(&key(&s)) {
                if *interval != s.interval || s.interval_source == IntervalSource::Unknown {
                    s.interval = *interval;
                    s.interval_source = IntervalSource::SamePlan;
                    match s.price_per_interval.scale(s.quantity as i128, 1).and_then(|total| interval.monthly(total)) {
                        Some(mrr) => s.mrr = mrr,
                        None => {
                            import.problems.push(unsettled(&import.file, &s, plan_column, "the amount is too large"));
                            continue;
                        }
                    }
                }
            }
        }
        if s.interval_source == IntervalSource::Unknown {
            let reason = "the billing interval cannot be inferred: the row's current period is not one whole billing \
                          period, no other subscription of this plan shows one, and the plan's name does not say";
            import.problems.push(unsettled(&import.file, &s, plan_column, reason));
            continue;
        }
        kept.push(s);
    }
    import.subscriptions = kept;
    import.problems.sort_by_key(|p| p.line);
}

fn unsettled(file: &str, s: &Subscription, column: &str, reason: &str) -> Problem {
    Problem {
        file: file.to_owned(),
        line: s.line,
        column: column.to_owned(),
        value: s.plan.clone().unwrap_or_else(|| s.product.clone()),
        reason: reason.to_owned(),
        hint: "The export has no interval column, so subtwin reads the interval from the current period (term) \
               dates or from the plan's id (such as pro-monthly or pro-annual). Export again with the period dates, \
               or name the plan's interval in its id."
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::values::parse_instant;

    fn at(text: &str) -> Instant {
        parse_instant(text).unwrap_or_else(|| panic!("{text}"))
    }

    fn label(interval: Option<BillingInterval>) -> Option<String> {
        interval.map(BillingInterval::label)
    }

    #[test]
    fn periods_give_whole_months_years_weeks_and_days() {
        let cases = [
            ("2025-01-15 10:00", "2025-02-15 10:00", Some("month")),
            ("2025-01-31 10:00", "2025-02-28 10:00", Some("month")),
            // Anchored on the 31st, clamped to Feb 28, back to the 31st.
            ("2025-02-28 10:00", "2025-03-31 10:00", Some("month")),
            ("2024-02-29 00:00", "2025-02-28 00:00", Some("year")),
            ("2025-01-01 00:00", "2025-04-01 00:00", Some("3 months")),
            ("2025-01-01 00:00", "2025-07-01 00:00", Some("6 months")),
            ("2025-01-01 00:00", "2027-01-01 00:00", Some("2 years")),
            ("2025-04-01 00:00", "2025-04-29 00:00", Some("4 weeks")),
            ("2025-04-01 00:00", "2025-04-08 00:00", Some("week")),
            ("2025-04-01 00:00", "2025-04-15 00:00", Some("2 weeks")),
            ("2025-04-01 00:00", "2025-04-02 00:00", Some("day")),
            // Across a daylight-saving change, local renewals move an hour in UTC.
            ("2025-10-15 07:00", "2025-11-15 08:00", Some("month")),
            // A partial first period (calendar billing) is no interval.
            ("2025-01-13 00:00", "2025-02-01 00:00", None),
            ("2025-01-15 10:00", "2025-02-17 10:00", None),
            ("2025-02-15 10:00", "2025-02-15 10:00", None),
        ];
        for (start, end, expected) in cases {
            assert_eq!(label(interval_from_period(at(start), at(end))).as_deref(), expected, "{start} -> {end}");
        }
    }

    #[test]
    fn plan_names_give_their_interval_when_they_name_one() {
        let cases = [
            ("pro-monthly", Some("month")),
            ("pro_monthly_2022", Some("month")),
            ("Pro-USD-Yearly", Some("year")),
            ("starter-annual", Some("year")),
            ("ProMonthly", Some("month")),
            ("team_quarterly", Some("3 months")),
            ("pro-3-month", Some("3 months")),
            ("pro-6months", Some("6 months")),
            ("pro-12-months", Some("year")),
            ("basic-2-years", Some("2 years")),
            ("semi-annual", Some("6 months")),
            ("half-year", Some("6 months")),
            ("weekly-box", Some("week")),
            ("pro-2022", None),
            ("enterprise", None),
            ("bi-annual", None),
            ("bimonthly", None),
            ("annual-billed-monthly", None),
            ("monthly-month", Some("month")),
        ];
        for (name, expected) in cases {
            assert_eq!(label(interval_from_name(name)).as_deref(), expected, "{name}");
        }
    }

    #[test]
    fn the_trial_period_says_nothing_about_the_paid_interval() {
        let (start, end) = (at("2025-01-01 00:00"), at("2025-01-15 00:00"));
        let names = [Some("pro-annual".to_owned())];
        assert_eq!(infer_interval(Some(start), Some(end), Some(end), &names).1, IntervalSource::PlanName);
        assert_eq!(infer_interval(Some(start), Some(end), None, &names).1, IntervalSource::PeriodDates);
        assert_eq!(infer_interval(None, None, None, &[Some("gold".into())]).1, IntervalSource::Unknown);
    }
}
