//! Cell values: instants, months, booleans and whole numbers, parsed from export text.
//!
//! Time is UTC throughout. An [`Instant`] is whole seconds since 1970-01-01 00:00 UTC; a date
//! without a time means 00:00 UTC of that day.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Seconds since the Unix epoch, UTC.
pub type Instant = i64;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Parses `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS][Z]` or `YYYY-MM-DD`, all read as UTC.
/// A trailing ` UTC` or `+00:00` is accepted. Returns `None` for anything else.
pub fn parse_instant(text: &str) -> Option<Instant> {
    let text = text.trim();
    let text = text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_suffix("+00:00"))
        .or_else(|| text.strip_suffix('Z'))
        .unwrap_or(text);
    let bytes = text.as_bytes();
    if bytes.len() < 10 || !text.is_ascii() {
        return None;
    }
    let date = parse_date(&text[..10])?;
    let rest = &text[10..];
    let time = if rest.is_empty() {
        Time::MIDNIGHT
    } else {
        let rest = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('T'))?;
        parse_time(rest)?
    };
    Some(PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp())
}

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

/// A calendar month, counted from year 0: `year * 12 + (month - 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthIndex(pub i32);

impl MonthIndex {
    pub fn of(instant: Instant) -> MonthIndex {
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

/// `true`/`false` in any case, also `yes`/`no` and `1`/`0`.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "y" => Some(true),
        "false" | "no" | "0" | "n" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
