//! Cell values: instants, months, booleans and whole numbers, parsed from export text.
//!
//! Time is UTC throughout. An [`Instant`] is whole seconds since 1970-01-01 00:00 UTC; a date
//! without a time means 00:00 UTC of that day.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Seconds since the Unix epoch, UTC.
pub type Instant = i64;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Parses `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD`, read as UTC unless a
/// zone follows: `Z`, a numeric offset (`+02:00`, `-0700`, `+02`) or a time-zone abbreviation from
/// [`ZONE_ABBREVIATIONS`] (`2010-03-24 17:18:46 PDT`, as Recurly writes them), each converted to
/// UTC. An abbreviation that names different zones in different places (`IST`, see
/// [`ambiguous_zone`]) or that is not in the table is refused (`None`), never guessed.
pub fn parse_instant(text: &str) -> Option<Instant> {
    if let Some(instant) = parse_plain_instant(text.as_bytes()) {
        return Some(instant);
    }
    let text = text.trim();
    if !text.is_ascii() {
        return None;
    }
    let (local, offset_seconds) = split_zone(text)?;
    let bytes = local.as_bytes();
    if bytes.len() < 10 {
        return None;
    }
    let date = parse_date(&local[..10])?;
    let rest = &local[10..];
    let time = if rest.is_empty() {
        Time::MIDNIGHT
    } else {
        let rest = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('T'))?;
        parse_time(rest)?
    };
    Some(PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp() - offset_seconds)
}

/// How a file writes the day and month of slashed or dotted dates (`03/04/2025`): ISO dates
/// (`2025-04-03`) need no order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// Only ISO dates are read; a slashed date is refused.
    #[default]
    IsoOnly,
    /// `31/12/2025`: day first.
    DayMonth,
    /// `12/31/2025`: month first.
    MonthDay,
}

impl DateOrder {
    pub fn parse(name: &str) -> Option<DateOrder> {
        match name.trim().to_ascii_lowercase().as_str() {
            "dmy" => Some(DateOrder::DayMonth),
            "mdy" => Some(DateOrder::MonthDay),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DateOrder::IsoOnly => "iso",
            DateOrder::DayMonth => "dmy",
            DateOrder::MonthDay => "mdy",
        }
    }
}

/// What one cell says about the file's date order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderEvidence {
    /// Not a slashed or dotted date (ISO, blank, or not a date at all).
    NotSlashed,
    /// `13/01/2025`: only day-first reads it.
    DayFirst,
    /// `01/13/2025`: only month-first reads it.
    MonthFirst,
    /// `03/04/2025`: either reading is a date.
    Either,
}

/// The first two numbers of a slashed or dotted date (`D/M/YYYY`, `M.D.YYYY`, ...), if it is one.
fn slashed_parts(text: &str) -> Option<(u32, u32, i32, &str)> {
    let text = text.trim();
    let end = text.find([' ', 'T']).unwrap_or(text.len());
    let (date, rest) = text.split_at(end);
    let separator = date.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
    let mut parts = date.split(separator);
    let (a, b, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || a.len() > 2 || b.len() > 2 || year.len() != 4 {
        return None;
    }
    Some((digits(a)?, digits(b)?, digits(year)? as i32, rest))
}

/// What `text` says about the date order.
pub fn order_evidence(text: &str) -> OrderEvidence {
    match slashed_parts(text) {
        None => OrderEvidence::NotSlashed,
        Some((a, b, _, _)) if a > 12 && (1..=12).contains(&b) => OrderEvidence::DayFirst,
        Some((a, b, _, _)) if b > 12 && (1..=12).contains(&a) => OrderEvidence::MonthFirst,
        Some((a, b, _, _)) if (1..=12).contains(&a) && (1..=12).contains(&b) => OrderEvidence::Either,
        Some(_) => OrderEvidence::NotSlashed,
    }
}

/// Like [`parse_instant`], and also reads slashed or dotted dates in the given order, with an
/// optional time (`H:MM`, `H:MM:SS`, with `AM`/`PM` or not) in UTC.
pub fn parse_instant_in(text: &str, order: DateOrder) -> Option<Instant> {
    if let Some(instant) = parse_instant(text) {
        return Some(instant);
    }
    let (a, b, year, rest) = slashed_parts(text)?;
    let (day, month) = match order {
        DateOrder::IsoOnly => return None,
        DateOrder::DayMonth => (a, b),
        DateOrder::MonthDay => (b, a),
    };
    let date =
        Date::from_calendar_date(year, Month::try_from(u8::try_from(month).ok()?).ok()?, u8::try_from(day).ok()?)
            .ok()?;
    let rest = rest.trim();
    let time = if rest.is_empty() { Time::MIDNIGHT } else { parse_clock(rest)? };
    Some(PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp())
}

/// `17:04`, `5:04 PM`, `17:04:59`, `12:00 AM` (midnight).
fn parse_clock(text: &str) -> Option<Time> {
    let upper = text.to_ascii_uppercase();
    let (clock, meridiem) = match upper.strip_suffix("AM").or_else(|| upper.strip_suffix("PM")) {
        Some(clock) => (clock.trim().to_owned(), Some(upper.ends_with("PM"))),
        None => (upper.clone(), None),
    };
    let mut parts = clock.split(':');
    let hour = digits(parts.next()?)?;
    let minute = digits(parts.next()?)?;
    let second = match parts.next() {
        Some(s) => digits(s)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let hour = match meridiem {
        None => hour,
        Some(_) if !(1..=12).contains(&hour) => return None,
        Some(false) => hour % 12,
        Some(true) => hour % 12 + 12,
    };
    Time::from_hms(u8::try_from(hour).ok()?, u8::try_from(minute).ok()?, u8::try_from(second).ok()?).ok()
}

/// Time-zone abbreviations read in exports, with their offset from UTC in minutes. Only those that
/// name one offset wherever they are used (the North American names in their North American sense,
/// as US billing systems write them; `BST` as British Summer Time, its only use in the tz database).
pub const ZONE_ABBREVIATIONS: &[(&str, i32)] = &[
    ("UTC", 0),
    ("UT", 0),
    ("GMT", 0),
    ("Z", 0),
    ("EST", -5 * 60),
    ("EDT", -4 * 60),
    ("CST", -6 * 60),
    ("CDT", -5 * 60),
    ("MST", -7 * 60),
    ("MDT", -6 * 60),
    ("PST", -8 * 60),
    ("PDT", -7 * 60),
    ("AKST", -9 * 60),
    ("AKDT", -8 * 60),
    ("HST", -10 * 60),
    ("WET", 0),
    ("WEST", 60),
    ("BST", 60),
    ("CET", 60),
    ("CEST", 2 * 60),
    ("EET", 2 * 60),
    ("EEST", 3 * 60),
    ("MSK", 3 * 60),
    ("SAST", 2 * 60),
    ("HKT", 8 * 60),
    ("SGT", 8 * 60),
    ("AWST", 8 * 60),
    ("JST", 9 * 60),
    ("KST", 9 * 60),
    ("ACST", 9 * 60 + 30),
    ("ACDT", 10 * 60 + 30),
    ("AEST", 10 * 60),
    ("AEDT", 11 * 60),
    ("NZST", 12 * 60),
    ("NZDT", 13 * 60),
];

/// Abbreviations that mean different offsets in different places, and what they may mean.
const AMBIGUOUS_ZONES: &[(&str, &str)] = &[
    ("IST", "India (UTC+5:30), Israel (UTC+2) or Ireland (UTC+1)"),
    ("AST", "Atlantic (UTC−4) or Arabia (UTC+3) time"),
    ("ADT", "Atlantic (UTC−3) or Arabia daylight time"),
    ("SST", "Samoa (UTC−11) or Singapore (UTC+8) time"),
    ("ECT", "Ecuador (UTC−5) or Eastern Caribbean (UTC−4) time"),
    ("CAT", "Central Africa (UTC+2) or, in old files, Central Alaska time"),
];

/// Why a date's trailing time-zone abbreviation cannot be read: it is ambiguous (`IST`) or unknown.
/// `None` when the text ends in no abbreviation or in one of [`ZONE_ABBREVIATIONS`].
pub fn zone_problem(text: &str) -> Option<String> {
    let (_, last) = text.trim().rsplit_once(' ')?;
    if last.is_empty() || !last.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let upper = last.to_ascii_uppercase();
    if ZONE_ABBREVIATIONS.iter().any(|(name, _)| *name == upper) {
        return None;
    }
    Some(match AMBIGUOUS_ZONES.iter().find(|(name, _)| *name == upper) {
        Some((_, meanings)) => {
            format!("the time zone `{last}` is ambiguous: it may mean {meanings}, so the instant is not guessed")
        }
        None => format!("`{last}` is not a time-zone abbreviation subtwin knows"),
    })
}

/// Splits a trailing zone off: the local date-time text and the zone's offset in seconds east of UTC.
/// No zone means UTC. `None` for an unknown or ambiguous abbreviation or a malformed offset.
fn split_zone(text: &str) -> Option<(&str, i64)> {
    // An abbreviation, after a space.
    if let Some((local, last)) = text.rsplit_once(' ') {
        if !last.is_empty() && last.bytes().all(|b| b.is_ascii_alphabetic()) {
            let upper = last.to_ascii_uppercase();
            let (_, minutes) = ZONE_ABBREVIATIONS.iter().find(|(name, _)| *name == upper)?;
            return Some((local.trim_end(), i64::from(*minutes) * 60));
        }
    }
    if let Some(local) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return Some((local.trim_end(), 0));
    }
    // A numeric offset after the time (never inside the date, whose dashes come first).
    if text.len() > 10 {
        if let Some(position) = text[10..].rfind(['+', '-']).map(|p| p + 10) {
            let sign: i64 = if text.as_bytes()[position] == b'-' { -1 } else { 1 };
            let offset = text[position + 1..].replace(':', "");
            let (hours, minutes) = match offset.len() {
                2 => (digits(&offset)?, 0),
                4 => (digits(&offset[..2])?, digits(&offset[2..])?),
                _ => return None,
            };
            if hours > 14 || minutes > 59 {
                return None;
            }
            let seconds = sign * (i64::from(hours) * 3600 + i64::from(minutes) * 60);
            return Some((text[..position].trim_end(), seconds));
        }
    }
    Some((text, 0))
}

/// The shapes almost every cell has, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` and `YYYY-MM-DD HH:MM:SS` (or
/// with a `T`), read without the general parser: a million-row export holds millions of dates. `None`
/// for anything else, which the general parser then reads (or refuses).
pub(crate) fn parse_plain_instant(b: &[u8]) -> Option<Instant> {
    let two = |i: usize| -> Option<u32> {
        let (hi, lo) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
        (hi < 10 && lo < 10).then_some(u32::from(hi) * 10 + u32::from(lo))
    };
    if !matches!(b.len(), 10 | 16 | 19) || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = two(0)? * 100 + two(2)?;
    let (month, day) = (two(5)?, two(8)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year as i64, month) {
        return None;
    }
    let mut seconds = days_from_civil(i64::from(year), month, day) * SECONDS_PER_DAY;
    if b.len() > 10 {
        if !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' {
            return None;
        }
        let (hour, minute) = (two(11)?, two(14)?);
        let second = if b.len() == 19 {
            if b[16] != b':' {
                return None;
            }
            two(17)?
        } else {
            0
        };
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        seconds += i64::from(hour * 3600 + minute * 60 + second);
    }
    Some(seconds)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The year and month (1 to 12) of a day counted from 1970-01-01 (Hinnant's `civil_from_days`).
fn year_month_of_day(days: i64) -> (i64, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month)
}

/// The instants `time` can represent (the years -9999 to 9999); others are read as the epoch.
const TIME_RANGE: std::ops::RangeInclusive<Instant> = -377_705_116_800..=253_402_300_799;

fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i32 = digits(&text[0..4])? as i32;
    let month: u8 = digits(&text[5..7])? as u8;
    let day: u8 = digits(&text[8..10])? as u8;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn parse_time(text: &str) -> Option<Time> {
    let b = text.as_bytes();
    let (hour, minute, second) = match b.len() {
        5 if b[2] == b':' => (digits(&text[0..2])?, digits(&text[3..5])?, 0),
        8 if b[2] == b':' && b[5] == b':' => (digits(&text[0..2])?, digits(&text[3..5])?, digits(&text[6..8])?),
        // Fractional seconds are dropped: nothing here is measured finer than a second.
        n if n > 9 && b[2] == b':' && b[5] == b':' && b[8] == b'.' && text[9..].bytes().all(|c| c.is_ascii_digit()) => {
            (digits(&text[0..2])?, digits(&text[3..5])?, digits(&text[6..8])?)
        }
        _ => return None,
    };
    Time::from_hms(hour as u8, minute as u8, second as u8).ok()
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses a date or instant given by a person (`--as-of`): a date alone means the end of that day,
/// its last second, so that everything recorded on that day is included.
pub fn parse_as_of(text: &str) -> Option<Instant> {
    let trimmed = text.trim();
    if trimmed.len() == 10 {
        return parse_instant(trimmed).map(|midnight| midnight + SECONDS_PER_DAY - 1);
    }
    parse_instant(trimmed)
}

/// The last second of the UTC day that holds `instant`.
pub fn end_of_day(instant: Instant) -> Instant {
    instant - instant.rem_euclid(SECONDS_PER_DAY) + SECONDS_PER_DAY - 1
}

/// A calendar month, counted from year 0: `year * 12 + (month - 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthIndex(pub i32);

impl MonthIndex {
    pub fn of(instant: Instant) -> MonthIndex {
        if TIME_RANGE.contains(&instant) {
            let (year, month) = year_month_of_day(instant.div_euclid(SECONDS_PER_DAY));
            return MonthIndex(year as i32 * 12 + month as i32 - 1);
        }
        let date = to_datetime(instant).date();
        MonthIndex(date.year() * 12 + i32::from(u8::from(date.month())) - 1)
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1 to 12.
    pub fn month(self) -> u8 {
        (self.0.rem_euclid(12) + 1) as u8
    }

    /// The first instant of the month.
    pub fn start(self) -> Instant {
        let month = Month::try_from(self.month()).unwrap_or(Month::January);
        match Date::from_calendar_date(self.year(), month, 1) {
            Ok(date) => PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc().unix_timestamp(),
            // Out of `time`'s range (beyond year 9999): parsing never produces such months.
            Err(_) => Instant::MAX,
        }
    }

    /// The first instant of the next month: the state "at the end of this month" is the state just
    /// before it.
    pub fn end(self) -> Instant {
        MonthIndex(self.0 + 1).start()
    }

    pub fn next(self) -> MonthIndex {
        MonthIndex(self.0 + 1)
    }

    /// `YYYY-MM`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year(), self.month())
    }
}

pub fn to_datetime(instant: Instant) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(instant).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2025-12-31T18:04:00Z`.
pub fn format_instant(instant: Instant) -> String {
    let t = to_datetime(instant);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2025-12-31 18:04 UTC`, for people.
pub fn format_instant_readable(instant: Instant) -> String {
    let t = to_datetime(instant);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// The text in ASCII lower case, borrowed when it already is (as cells nearly always are).
pub fn lower_ascii(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(text.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `true`/`false` in any case, also `yes`/`no` and `1`/`0`.
pub fn parse_bool(text: &str) -> Option<bool> {
    match &*lower_ascii(text.trim()) {
        "true" | "yes" | "1" | "y" => Some(true),
        "false" | "no" | "0" | "n" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashed_dates_read_in_the_files_order() {
        let day = |t: &str, order| parse_instant_in(t, order).map(format_instant);
        let cases: &[(&str, DateOrder, Option<&str>)] = &[
            ("31/12/2025", DateOrder::DayMonth, Some("2025-12-31T00:00:00Z")),
            ("12/31/2025", DateOrder::MonthDay, Some("2025-12-31T00:00:00Z")),
            ("03/04/2025", DateOrder::DayMonth, Some("2025-04-03T00:00:00Z")),
            ("03/04/2025", DateOrder::MonthDay, Some("2025-03-04T00:00:00Z")),
            ("3.4.2025 17:04", DateOrder::DayMonth, Some("2025-04-03T17:04:00Z")),
            ("12/31/2025 5:04 PM", DateOrder::MonthDay, Some("2025-12-31T17:04:00Z")),
            ("12/31/2025 12:00 AM", DateOrder::MonthDay, Some("2025-12-31T00:00:00Z")),
            ("31/12/2025", DateOrder::MonthDay, None),
            ("31/12/2025", DateOrder::IsoOnly, None),
            ("2025-12-31", DateOrder::DayMonth, Some("2025-12-31T00:00:00Z")),
            ("31/12/25", DateOrder::DayMonth, None),
            ("12/31/2025 13:00 PM", DateOrder::MonthDay, None),
        ];
        for (text, order, expected) in cases {
            assert_eq!(day(text, *order).as_deref(), *expected, "{text:?} in {order:?}");
        }
    }

    #[test]
    fn cells_tell_the_date_order_when_they_can() {
        assert_eq!(order_evidence("31/12/2025"), OrderEvidence::DayFirst);
        assert_eq!(order_evidence("12/31/2025 10:00"), OrderEvidence::MonthFirst);
        assert_eq!(order_evidence("03/04/2025"), OrderEvidence::Either);
        assert_eq!(order_evidence("2025-03-04"), OrderEvidence::NotSlashed);
        assert_eq!(order_evidence(""), OrderEvidence::NotSlashed);
        assert_eq!(order_evidence("13/13/2025"), OrderEvidence::NotSlashed);
    }

    #[test]
    fn instants_parse_in_every_stripe_shape_as_utc() {
        let expected = Some(1_767_204_240); // 2025-12-31 18:04:00 UTC
        for text in [
            "2025-12-31 18:04",
            "2025-12-31 18:04:00",
            "2025-12-31T18:04:00Z",
            "2025-12-31T18:04:00.000Z",
            "2025-12-31 18:04:00 UTC",
            " 2025-12-31 18:04 ",
        ] {
            assert_eq!(parse_instant(text), expected, "{text:?}");
        }
        assert_eq!(parse_instant("2025-12-31"), Some(1_767_139_200));
    }

    #[test]
    fn zones_and_offsets_are_converted_to_utc() {
        let expected = Some(1_767_204_240); // 2025-12-31 18:04:00 UTC
        for text in [
            "2025-12-31 10:04:00 PST",
            "2025-12-31 13:04:00 EST",
            "2025-12-31 12:04:00 cst",
            "2025-12-31 18:04:00 GMT",
            "2025-12-31 19:04:00 CET",
            "2026-01-01 03:04:00 JST",
            "2026-01-01 05:04:00 AEDT",
            "2025-12-31T20:04:00+02:00",
            "2025-12-31 11:04:00 -0700",
            "2025-12-31T23:34:00.250+05:30",
            "2025-12-31T21:04+03",
            "2025-12-31 18:04:00Z",
        ] {
            assert_eq!(parse_instant(text), expected, "{text:?}");
        }
        // Recurly's documented example: 17:18:46 Pacific daylight time is 00:18:46 UTC the next day.
        assert_eq!(parse_instant("2010-03-24 17:18:46 PDT").map(format_instant), Some("2010-03-25T00:18:46Z".into()));
        // A date alone with a zone is that zone's midnight.
        assert_eq!(parse_instant("2025-12-31 EST").map(format_instant), Some("2025-12-31T05:00:00Z".into()));
    }

    #[test]
    fn ambiguous_and_unknown_zones_are_refused_with_a_reason() {
        for text in ["2025-12-31 18:04:00 IST", "2025-12-31 18:04:00 XYZ", "2025-12-31 18:04:00 +2500"] {
            assert_eq!(parse_instant(text), None, "{text:?}");
        }
        assert!(zone_problem("2025-12-31 18:04:00 IST").is_some_and(|r| r.contains("ambiguous")));
        assert!(zone_problem("2025-12-31 18:04:00 XYZ").is_some_and(|r| r.contains("not a time-zone")));
        assert_eq!(zone_problem("2025-12-31 18:04:00 PDT"), None);
        assert_eq!(zone_problem("2025-12-31 18:04:00"), None);
    }

    #[test]
    fn the_plain_shapes_read_as_the_general_parser_reads_them() {
        let general = |text: &str| {
            let date = parse_date(&text[..10])?;
            let time = if text.len() == 10 { Time::MIDNIGHT } else { parse_time(&text[11..])? };
            Some(PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp())
        };
        let mut state = 3u64;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for _ in 0..100_000 {
            let text = format!(
                "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
                next(10_000),
                next(14),
                next(33),
                if next(2) == 0 { ' ' } else { 'T' },
                next(26),
                next(61),
                next(62)
            );
            for shape in [&text[..10], &text[..16], &text[..]] {
                assert_eq!(parse_plain_instant(shape.as_bytes()), general(shape), "{shape}");
            }
        }
        for instant in (-377_705_116_800i64..=253_402_300_799).step_by(7_777_777).chain([-1, 0, 1, 951_782_400]) {
            let date = to_datetime(instant).date();
            assert_eq!(MonthIndex::of(instant), MonthIndex(date.year() * 12 + i32::from(u8::from(date.month())) - 1));
        }
        assert_eq!(MonthIndex::of(i64::MAX), MonthIndex(1970 * 12));
    }

    #[test]
    fn impossible_dates_are_refused() {
        for text in
            ["2025-02-30", "2025-13-01 00:00", "31/12/2025", "2025-12-31 25:00", "", "yesterday", "2025-12-31 18"]
        {
            assert_eq!(parse_instant(text), None, "{text:?}");
        }
    }

    #[test]
    fn as_of_date_alone_means_the_last_second_of_that_day() {
        assert_eq!(parse_as_of("2025-12-31").map(format_instant), Some("2025-12-31T23:59:59Z".to_owned()));
        assert_eq!(parse_as_of("2025-12-31 18:04").map(format_instant), Some("2025-12-31T18:04:00Z".to_owned()));
    }

    #[test]
    fn months_know_their_boundaries() {
        let december = MonthIndex::of(1_767_204_240);
        assert_eq!(december.label(), "2025-12");
        assert_eq!(format_instant(december.start()), "2025-12-01T00:00:00Z");
        assert_eq!(format_instant(december.end()), "2026-01-01T00:00:00Z");
        assert_eq!(MonthIndex::of(december.end()), december.next());
        assert_eq!(MonthIndex::of(december.end() - 1), december);
    }
}
