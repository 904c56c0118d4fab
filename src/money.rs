//! Exact money.
//!
//! Amounts are kept as exact rationals of the currency's minor unit (cents for USD, yen for JPY), so
//! that a yearly price divided by twelve, summed over thousands of subscriptions, loses nothing.
//! Rounding to the minor unit happens only when a number leaves the core: for display and for JSON.
//! The number of minor-unit digits of each currency comes from ISO 4217 (the `iso_currency` crate).

use num_rational::Ratio;
use num_traits::{CheckedAdd, CheckedMul, CheckedSub, Signed, ToPrimitive, Zero};

/// An exact amount in minor units of some currency (the currency is carried alongside, not inside).
///
/// The value is a rational of `i128`s. Arithmetic is checked: a result that would not fit (only
/// absurd inputs get there: the importer bounds amounts, quantities and interval counts) becomes
/// [`Minor::OVERFLOW`], which stays overflowed through later arithmetic and shows as "too large"
/// rather than as a wrong number, and never panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Minor(Option<Ratio<i128>>);

impl Minor {
    pub const ZERO: Minor = Minor(Some(Ratio::new_raw(0, 1)));
    pub const OVERFLOW: Minor = Minor(None);

    pub fn from_integer(minor_units: i128) -> Minor {
        Minor(Some(Ratio::from_integer(minor_units)))
    }

    /// `numerator / denominator` minor units; `None` when the denominator is zero.
    pub fn from_fraction(numerator: i128, denominator: i128) -> Option<Minor> {
        if denominator == 0 {
            return None;
        }
        Some(Minor(Some(Ratio::new(numerator, denominator))))
    }

    pub fn is_zero(self) -> bool {
        self.0.is_some_and(|r| r.is_zero())
    }

    pub fn is_negative(self) -> bool {
        self.0.is_some_and(|r| r.is_negative())
    }

    pub fn is_overflow(self) -> bool {
        self.0.is_none()
    }

    /// Multiplies by `numerator / denominator`, exactly. `None` on overflow or a zero denominator.
    pub fn scale(self, numerator: i128, denominator: i128) -> Option<Minor> {
        if denominator == 0 {
            return None;
        }
        let value = self.0?;
        let factor = Ratio::new(numerator, denominator);
        value.checked_mul(&factor).map(|r| Minor(Some(r)))
    }

    /// Rounds to a whole number of minor units, halves away from zero; `None` when overflowed.
    pub fn round_to_minor(self) -> Option<i128> {
        self.0.map(|r| r.round().to_integer())
    }

    /// Major units rounded to the currency's minor unit, as JSON carries them (NaN, which JSON
    /// writes as `null`, when overflowed).
    pub fn to_major_f64(self, currency: &Currency) -> f64 {
        let Some(minor) = self.round_to_minor() else {
            return f64::NAN;
        };
        let scale = 10f64.powi(currency.minor_digits as i32);
        // Both operands are exact in f64 for any realistic amount and the division is correctly
        // rounded, so the result is the same on every platform.
        minor.to_f64().unwrap_or(f64::NAN) / scale
    }

    fn combine(self, other: Minor, op: impl Fn(&Ratio<i128>, &Ratio<i128>) -> Option<Ratio<i128>>) -> Minor {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Minor(op(&a, &b)),
            _ => Minor::OVERFLOW,
        }
    }
}

impl Default for Minor {
    fn default() -> Self {
        Minor::ZERO
    }
}

impl std::ops::Add for Minor {
    type Output = Minor;
    fn add(self, other: Minor) -> Minor {
        self.combine(other, |a, b| a.checked_add(b))
    }
}

impl std::ops::AddAssign for Minor {
    fn add_assign(&mut self, other: Minor) {
        *self = *self + other;
    }
}

impl std::ops::Sub for Minor {
    type Output = Minor;
    fn sub(self, other: Minor) -> Minor {
        self.combine(other, |a, b| a.checked_sub(b))
    }
}

impl std::ops::SubAssign for Minor {
    fn sub_assign(&mut self, other: Minor) {
        *self = *self - other;
    }
}

impl std::ops::Neg for Minor {
    type Output = Minor;
    fn neg(self) -> Minor {
        Minor::ZERO - self
    }
}

impl std::iter::Sum for Minor {
    fn sum<I: Iterator<Item = Minor>>(iter: I) -> Minor {
        iter.fold(Minor::ZERO, |a, b| a + b)
    }
}

/// An ISO 4217 currency as the analysis uses it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    /// Lower-case code, as Stripe writes it (`usd`).
    pub code: String,
    /// Digits of the minor unit: 2 for USD, 0 for JPY, 3 for KWD.
    pub minor_digits: u32,
    /// The symbol used for display (`$`), or the upper-case code when ISO gives none.
    pub symbol: String,
}

impl Currency {
    /// Looks a code up in ISO 4217, case-insensitively. `None` for an unknown code.
    pub fn from_code(code: &str) -> Option<Currency> {
        let upper = code.trim().to_ascii_uppercase();
        let iso = iso_currency::Currency::from_code(&upper)?;
        // Funds and precious metals have no minor unit in ISO 4217; whole units are the honest choice.
        let minor_digits = iso.exponent().map(u32::from).unwrap_or(0);
        let symbol = iso.symbol().symbol;
        let symbol = if symbol.is_empty() { upper.clone() } else { symbol };
        Some(Currency { code: upper.to_ascii_lowercase(), minor_digits, symbol })
    }

    /// Formats an amount for people: `$12,345.67`, `¥1,200`, rounded to the minor unit.
    pub fn format(&self, amount: Minor) -> String {
        let Some(minor) = amount.round_to_minor() else {
            return "(too large to add up exactly)".to_owned();
        };
        let sign = if minor < 0 { "-" } else { "" };
        let minor = minor.unsigned_abs();
        let scale = 10u128.pow(self.minor_digits);
        let whole = group_thousands(minor / scale);
        if self.minor_digits == 0 {
            format!("{sign}{}{whole}", self.symbol)
        } else {
            let fraction = minor % scale;
            let digits = self.minor_digits as usize;
            format!("{sign}{}{whole}.{fraction:0digits$}", self.symbol)
        }
    }

    /// Formats a whole-unit amount compactly for chart axes: `$1.2k`, `$3.4M`.
    pub fn format_compact(&self, major: f64) -> String {
        let (value, suffix) = match major.abs() {
            m if m >= 1e9 => (major / 1e9, "B"),
            m if m >= 1e6 => (major / 1e6, "M"),
            m if m >= 1e3 => (major / 1e3, "k"),
            _ => (major, ""),
        };
        let text = if suffix.is_empty() || value.abs() >= 100.0 {
            format!("{value:.0}")
        } else {
            let text = format!("{value:.1}");
            text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
        };
        format!("{}{text}{suffix}", self.symbol)
    }
}

/// Exchange rates a person gives (`--fx FILE`), into one analysis currency.
///
/// The file is CSV with the header `from,to,rate`: one unit of `from` is worth `rate` units of `to`
/// (`eur,usd,1.0825`). Every row names the same `to`, which becomes the analysis currency. Rates
/// are exact decimals, so converted amounts stay exact until they are rounded for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeRates {
    pub to: Currency,
    /// Lower-case `from` code → (the rate as written, the rate exactly).
    rates: std::collections::BTreeMap<String, (String, Ratio<i128>)>,
}

impl ExchangeRates {
    /// Reads the rates file; the error names the line and what to fix.
    pub fn parse(file: &str, text: &str) -> Result<ExchangeRates, String> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let header = lines.next().map(|(_, l)| l.trim().trim_start_matches('\u{feff}').to_ascii_lowercase());
        if header.as_deref().map(|h| h.replace(' ', "")) != Some("from,to,rate".to_owned()) {
            return Err(format!(
                "{file}: the first line must be the header `from,to,rate` (such as `eur,usd,1.0825` below it)."
            ));
        }
        let mut to: Option<Currency> = None;
        let mut rates = std::collections::BTreeMap::new();
        for (index, line) in lines {
            let at = format!("{file}:{}", index + 1);
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let [from_code, to_code, rate_text] = cells[..] else {
                return Err(format!("{at}: expected three fields, from,to,rate, and found `{line}`."));
            };
            let from = Currency::from_code(from_code)
                .ok_or_else(|| format!("{at}: `{from_code}` is not an ISO 4217 currency code."))?;
            let target = Currency::from_code(to_code)
                .ok_or_else(|| format!("{at}: `{to_code}` is not an ISO 4217 currency code."))?;
            if to.as_ref().is_some_and(|t| *t != target) {
                return Err(format!(
                    "{at}: every rate must convert into the same currency; this one is into {to_code}."
                ));
            }
            // A rate is a positive decimal; parse it as an amount with 9 decimal digits of precision.
            let scaled = parse_major_amount(rate_text, 9).map_err(|reason| format!("{at}: the rate {reason}."))?;
            let rate = scaled.0.map(|r| r / Ratio::from_integer(1_000_000_000)).filter(|r| r.is_positive());
            let Some(rate) = rate else {
                return Err(format!("{at}: the rate `{rate_text}` must be a positive number."));
            };
            if rates.insert(from.code.clone(), (rate_text.to_owned(), rate)).is_some() {
                return Err(format!("{at}: a second rate for {from_code}; give one rate per currency."));
            }
            to = Some(target);
        }
        let to = to.ok_or_else(|| format!("{file}: no rates below the header."))?;
        Ok(ExchangeRates { to, rates })
    }

    /// The rate as the file writes it, if it has one for `from`.
    pub fn rate_text(&self, from: &str) -> Option<&str> {
        self.rates.get(from).map(|(text, _)| text.as_str())
    }

    /// Converts an amount in `from`'s minor units into the target's minor units, exactly; `None`
    /// without a rate for `from`.
    pub fn convert(&self, amount: Minor, from: &Currency) -> Option<Minor> {
        if *from == self.to {
            return Some(amount);
        }
        let (_, rate) = self.rates.get(&from.code)?;
        let shift = self.to.minor_digits as i32 - from.minor_digits as i32;
        let digits = Ratio::from_integer(10i128.pow(shift.unsigned_abs()));
        let factor = if shift >= 0 { rate * digits } else { rate / digits };
        Some(amount.0.and_then(|value| value.checked_mul(&factor)).map_or(Minor::OVERFLOW, |v| Minor(Some(v))))
    }
}

/// `1234567` becomes `1,234,567`.
pub fn group_thousands(value: u128) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Parses a whole number of minor units (`4900` cents is $49.00), as Baremetrics and Chargebee's
/// API write amounts. A decimal point, a sign or a separator is refused: such a value is in some other
/// unit, and guessing which would be off by a factor of a hundred.
pub fn parse_minor_amount(text: &str) -> Result<Minor, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the amount is blank".into());
    }
    if trimmed.starts_with('-') {
        return Err("the amount is negative".into());
    }
    if !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{trimmed}` is not a whole number of the currency's minor unit (such as cents)"));
    }
    if trimmed.trim_start_matches('0').len() > 15 {
        return Err(format!("`{trimmed}` has more digits than any real price"));
    }
    trimmed.parse::<i128>().map(Minor::from_integer).map_err(|_| format!("`{trimmed}` is not a number"))
}

/// Parses a non-negative decimal amount in major units (`19.00`, `1,234.50`, `60,00`) into exact
/// minor units. Returns a sentence saying what is wrong otherwise.
///
/// Separators: a `.` is a decimal point unless the text also holds a later `,`. A lone `,` followed
/// by one or two digits (or as many as the currency's minor digits) is a decimal comma; a `,`
/// followed by groups of exactly three digits separates thousands. Anything else is refused rather
/// than guessed at.
pub fn parse_major_amount(text: &str, currency_minor_digits: u32) -> Result<Minor, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the amount is blank".into());
    }
    if trimmed.starts_with('-') {
        return Err("the amount is negative".into());
    }
    let unsigned = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let normalised = normalise_separators(unsigned)
        .ok_or_else(|| format!("`{trimmed}` is not a number this importer can read unambiguously"))?;
    let (whole, fraction) = match normalised.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (normalised.as_str(), ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(format!("`{trimmed}` is not a number"));
    }
    if whole.trim_start_matches('0').len() > 12 || fraction.len() > 9 {
        return Err(format!(
            "`{trimmed}` has more digits than any real price (at most 12 before the decimal point and 9 after)"
        ));
    }
    let digits: String = format!("{whole}{fraction}");
    let numerator: i128 =
        if digits.is_empty() { 0 } else { digits.parse().map_err(|_| format!("`{trimmed}` is not a number"))? };
    let exponent = currency_minor_digits as i32 - fraction.len() as i32;
    let amount = if exponent >= 0 {
        Minor::from_integer(numerator).scale(10i128.pow(exponent as u32), 1)
    } else {
        Minor::from_fraction(numerator, 10i128.pow((-exponent) as u32))
    };
    amount.ok_or_else(|| format!("`{trimmed}` is too large"))
}

/// How many decimals an amount is written with (`49.00` has 2, `1,234` none), read as
/// [`parse_major_amount`] reads it; `None` when it is not an amount.
pub fn written_decimals(text: &str) -> Option<u32> {
    let trimmed = text.trim();
    let normalised = normalise_separators(trimmed.strip_prefix('+').unwrap_or(trimmed))?;
    Some(normalised.split_once('.').map_or(0, |(_, fraction)| fraction.len() as u32))
}

/// Rewrites `1,234.50`, `1.234,50` and `60,00` as `1234.50`, `1234.50` and `60.00`; `None` when the
/// separators are ambiguous or malformed.
fn normalise_separators(text: &str) -> Option<String> {
    let last_comma = text.rfind(',');
    let last_dot = text.rfind('.');
    let (decimal, thousands) = match (last_comma, last_dot) {
        (None, None) => return Some(text.to_owned()),
        (Some(c), Some(d)) if c < d => ('.', ','),
        (Some(_), Some(_)) => (',', '.'),
        (None, Some(_)) => ('.', ','),
        (Some(c), None) => {
            let after = &text[c + 1..];
            let commas = text.matches(',').count();
            if commas == 1 && !after.is_empty() && after.len() <= 2 {
                (',', '.')
            } else if after.len() == 3 {
                // `1,234` or `1,234,567`: thousands, never a three-digit decimal fraction.
                ('.', ',')
            } else {
                return None;
            }
        }
    };
    let (whole, fraction) = match text.rfind(decimal) {
        Some(position) if decimal == '.' || text.matches(decimal).count() == 1 => {
            (&text[..position], Some(&text[position + 1..]))
        }
        Some(_) => return None,
        None => (text, None),
    };
    if whole.matches(decimal).count() > 0 {
        return None;
    }
    if whole.contains(thousands) {
        let groups: Vec<&str> = whole.split(thousands).collect();
        let first_ok = !groups[0].is_empty() && groups[0].len() <= 3;
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
    }
    let mut out: String = whole.chars().filter(|&c| c != thousands).collect();
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::from_code("usd").expect("usd is in ISO 4217")
    }

    #[test]
    fn currencies_take_their_minor_digits_from_iso_4217() {
        assert_eq!(Currency::from_code("USD").map(|c| c.minor_digits), Some(2));
        assert_eq!(Currency::from_code("jpy").map(|c| c.minor_digits), Some(0));
        assert_eq!(Currency::from_code("kwd").map(|c| c.minor_digits), Some(3));
        assert_eq!(Currency::from_code("xyz"), None);
    }

    #[test]
    fn whole_minor_units_parse_and_anything_else_is_refused() {
        assert_eq!(parse_minor_amount("4900"), Ok(Minor::from_integer(4900)));
        assert_eq!(parse_minor_amount(" 0 "), Ok(Minor::ZERO));
        for text in ["49.00", "4,900", "-4900", "", "abc", "1e3", "1234567890123456"] {
            assert!(parse_minor_amount(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn amounts_parse_to_exact_minor_units() {
        let cases: &[(&str, u32, Option<i128>)] = &[
            ("19.00", 2, Some(1900)),
            ("19", 2, Some(1900)),
            ("19.5", 2, Some(1950)),
            ("60,00", 2, Some(6000)),
            ("1,234.56", 2, Some(123456)),
            ("1.234,56", 2, Some(123456)),
            ("1,234", 2, Some(123400)),
            ("1200", 0, Some(1200)),
            ("0", 2, Some(0)),
            ("-5.00", 2, None),
            ("abc", 2, None),
            ("1,2,3", 2, None),
            ("", 2, None),
            ("NaN", 2, None),
            ("inf", 2, None),
            ("1e5", 2, None),
        ];
        for (text, digits, expected) in cases {
            let parsed = parse_major_amount(text, *digits).ok().and_then(|m| m.round_to_minor());
            assert_eq!(parsed, *expected, "parsing {text:?}");
        }
    }

    #[test]
    fn sub_minor_fractions_are_kept_exactly() {
        let amount = parse_major_amount("0.005", 2).expect("valid");
        assert_eq!(amount, Minor::from_fraction(1, 2).expect("nonzero"));
        let twelve = (0..12).map(|_| Minor::from_integer(19000).scale(1, 12).expect("fits")).sum::<Minor>();
        assert_eq!(twelve, Minor::from_integer(19000));
    }

    #[test]
    fn rounding_goes_half_away_from_zero() {
        assert_eq!(Minor::from_fraction(5, 2).and_then(Minor::round_to_minor), Some(3));
        assert_eq!(Minor::from_fraction(-5, 2).and_then(Minor::round_to_minor), Some(-3));
        assert_eq!(Minor::from_fraction(7, 3).and_then(Minor::round_to_minor), Some(2));
    }

    #[test]
    fn display_formats_group_thousands_and_respect_minor_digits() {
        assert_eq!(usd().format(Minor::from_integer(123456789)), "$1,234,567.89");
        assert_eq!(usd().format(Minor::from_integer(-5)), "-$0.05");
        let yen = Currency::from_code("jpy").expect("jpy is in ISO 4217");
        assert_eq!(yen.format(Minor::from_integer(1200)), "¥1,200");
        assert_eq!(usd().format_compact(12_345.0), "$12.3k");
        assert_eq!(usd().format_compact(2_000_000.0), "$2M");
        assert_eq!(usd().format_compact(950.0), "$950");
    }

    #[test]
    fn exchange_rates_convert_exactly_between_minor_units() {
        let rates = ExchangeRates::parse("fx.csv", "from,to,rate\neur,usd,1.0825\njpy,usd,0.0067\n").expect("valid");
        assert_eq!(rates.to.code, "usd");
        let eur = Currency::from_code("eur").expect("iso");
        let jpy = Currency::from_code("jpy").expect("iso");
        // €10.00 = 1000 cents → $10.825 = 1082.5 cents, kept exactly.
        assert_eq!(rates.convert(Minor::from_integer(1000), &eur), Minor::from_fraction(2165, 2));
        // ¥1,500 (no minor unit) → $10.05 = 1005 cents.
        assert_eq!(rates.convert(Minor::from_integer(1500), &jpy), Some(Minor::from_integer(1005)));
        assert_eq!(rates.convert(Minor::from_integer(1), &Currency::from_code("gbp").expect("iso")), None);
        assert_eq!(rates.rate_text("eur"), Some("1.0825"));
    }

    #[test]
    fn bad_rate_files_say_which_line_and_why() {
        let cases = [
            ("eur,usd,1.08\n", "header"),
            ("from,to,rate\n", "no rates"),
            ("from,to,rate\neur,usd\n", "fx.csv:2: expected three fields"),
            ("from,to,rate\neur,usd,0\n", "positive"),
            ("from,to,rate\neur,usd,-1\n", "negative"),
            ("from,to,rate\neur,usd,1.1\ngbp,eur,1.2\n", "same currency"),
            ("from,to,rate\neur,usd,1.1\neur,usd,1.2\n", "second rate"),
            ("from,to,rate\nxyz,usd,1.1\n", "ISO 4217"),
        ];
        for (text, expected) in cases {
            let error = ExchangeRates::parse("fx.csv", text).expect_err(text);
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn overflow_is_sticky_and_never_panics() {
        let huge = Minor::from_integer(i128::MAX / 2);
        let sum = huge + huge + huge;
        assert!(sum.is_overflow());
        assert!((sum - huge).is_overflow());
        assert_eq!(usd().format(sum), "(too large to add up exactly)");
        assert!(sum.to_major_f64(&usd()).is_nan());
        let coprime = Minor::from_fraction(1, i128::MAX - 1).expect("nonzero")
            + Minor::from_fraction(1, i128::MAX).expect("nonzero");
        assert!(coprime.is_overflow());
    }

    #[test]
    fn json_major_units_are_rounded_to_the_minor_unit() {
        let third = Minor::from_fraction(10000, 3).expect("nonzero");
        assert_eq!(third.to_major_f64(&usd()), 33.33);
    }
}
