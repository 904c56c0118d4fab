//! Exact money.
//!
//! Amounts are kept as exact rationals of the currency's minor unit (cents for USD, yen for JPY), so
//! that a yearly price divided by twelve, summed over thousands of subscriptions, loses nothing.
//! Rounding to the minor unit happens only when a number leaves the core: for display and for JSON.
//! The number of minor-unit digits of each currency comes from ISO 4217 (the `iso_currency` crate).

use std::cell::RefCell;

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
        if let Some(scaled) = small::scale(&value, numerator, denominator) {
            return Some(Minor(Some(scaled)));
        }
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
        self.combine(other, |a, b| small::add(a, b, false).or_else(|| a.checked_add(b)))
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
        self.combine(other, |a, b| small::add(a, b, true).or_else(|| a.checked_sub(b)))
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

/// Exact arithmetic on rationals whose parts fit in 62 bits, the case of every real amount: the
/// products cannot overflow an `i128`, and the greatest common divisors are taken on `u64`s, far
/// cheaper than on `i128`s. Each function gives exactly the reduced rational `num-rational` gives (the
/// tests compare them), or `None` to leave the case to it.
mod small {
    use num_rational::Ratio;

    const LIMIT: u128 = 1 << 62;

    fn fits(value: i128) -> bool {
        value.unsigned_abs() < LIMIT
    }

    /// Binary GCD; `gcd(0, n) = n`.
    pub(super) fn gcd(mut a: u64, mut b: u64) -> u64 {
        if a == 0 || b == 0 {
            return a | b;
        }
        if a == 1 || b == 1 {
            return 1;
        }
        let shift = (a | b).trailing_zeros();
        a >>= a.trailing_zeros();
        loop {
            b >>= b.trailing_zeros();
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            b -= a;
            if b == 0 {
                return a << shift;
            }
        }
    }

    fn gcd128(mut a: u128, mut b: u128) -> u128 {
        if a <= u128::from(u64::MAX) && b <= u128::from(u64::MAX) {
            return u128::from(gcd(a as u64, b as u64));
        }
        if a == 0 || b == 0 {
            return a | b;
        }
        let shift = (a | b).trailing_zeros();
        a >>= a.trailing_zeros();
        loop {
            b >>= b.trailing_zeros();
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            b -= a;
            if b == 0 {
                return a << shift;
            }
        }
    }

    /// `numerator / denominator` in lowest terms with a positive denominator (`denominator > 0`).
    fn reduced(numerator: i128, denominator: i128) -> Ratio<i128> {
        if numerator == 0 {
            return Ratio::new_raw(0, 1);
        }
        let g = gcd128(numerator.unsigned_abs(), denominator as u128);
        if g == 1 {
            return Ratio::new_raw(numerator, denominator);
        }
        let g = g as i128;
        Ratio::new_raw(numerator / g, denominator / g)
    }

    /// `a + b`, or `a - b` when `negate`.
    pub(super) fn add(a: &Ratio<i128>, b: &Ratio<i128>, negate: bool) -> Option<Ratio<i128>> {
        let (an, ad, bd) = (*a.numer(), *a.denom(), *b.denom());
        let bn = if negate { b.numer().checked_neg()? } else { *b.numer() };
        if ad == bd {
            let sum = an.checked_add(bn)?;
            return Some(if ad == 1 { Ratio::new_raw(sum, 1) } else { reduced(sum, ad) });
        }
        if !(fits(an) && fits(ad) && fits(bn) && fits(bd)) {
            return None;
        }
        // All four fit in 62 bits: divide as i64, multiply as i128.
        let (an, ad, bn, bd) = (an as i64, ad as i64, bn as i64, bd as i64);
        let g = gcd(ad as u64, bd as u64) as i64;
        let lcm = i128::from(ad / g) * i128::from(bd);
        Some(reduced(i128::from(an) * i128::from(bd / g) + i128::from(bn) * i128::from(ad / g), lcm))
    }

    /// `value * numerator / denominator` (`denominator != 0`).
    pub(super) fn scale(value: &Ratio<i128>, numerator: i128, denominator: i128) -> Option<Ratio<i128>> {
        let (a, b) = (*value.numer(), *value.denom());
        if !(fits(a) && fits(b) && fits(numerator) && fits(denominator)) {
            return None;
        }
        // All four fit in 62 bits: divide as i64, multiply as i128.
        let (a, b, numerator, denominator) = (a as i64, b as i64, numerator as i64, denominator as i64);
        // The factor in lowest terms, its sign on the numerator.
        let g = gcd(numerator.unsigned_abs(), denominator.unsigned_abs()) as i64;
        let (mut c, mut d) = (numerator / g, denominator / g);
        if d < 0 {
            (c, d) = (-c, -d);
        }
        // a/b and c/d are in lowest terms: cancelling across leaves the product in lowest terms.
        let g1 = gcd(a.unsigned_abs(), d as u64) as i64;
        let g2 = gcd(b as u64, c.unsigned_abs()) as i64;
        let numerator = i128::from(a / g1) * i128::from(c / g2);
        Some(Ratio::new_raw(numerator, i128::from(b / g2) * i128::from(d / g1)))
    }
}

/// A sum of many exact amounts, kept per denominator: adding is an integer addition into the
/// denominator's bucket, and the fractions are brought together once, when the sum is read. Its
/// [`MinorSum::total`] equals adding the amounts one by one with `+`, whatever their order; only the
/// point at which an absurd sum overflows may differ (it shows as [`Minor::OVERFLOW`] either way).
#[derive(Clone, Debug, Default)]
pub struct MinorSum {
    /// (denominator, numerator): a handful of denominators cover real prices (1, and the divisors
    /// of 12 that yearly, weekly and daily prices bring).
    buckets: Vec<(i128, i128)>,
    /// Everything that did not fit a bucket, added up the ordinary way.
    rest: Minor,
}

/// More distinct denominators than this go to [`MinorSum::rest`].
const SUM_BUCKETS: usize = 8;

impl MinorSum {
    pub fn add(&mut self, amount: Minor) {
        self.add_signed(amount, false);
    }

    pub fn sub(&mut self, amount: Minor) {
        self.add_signed(amount, true);
    }

    fn add_signed(&mut self, amount: Minor, negate: bool) {
        let Some(value) = amount.0 else {
            self.rest = Minor::OVERFLOW;
            return;
        };
        let (numerator, denominator) = (*value.numer(), *value.denom());
        let numerator = if negate { numerator.checked_neg() } else { Some(numerator) };
        let bucket = self.buckets.iter().position(|(d, _)| *d == denominator);
        match (numerator, bucket) {
            (Some(n), Some(i)) => match self.buckets[i].1.checked_add(n) {
                Some(sum) => self.buckets[i].1 = sum,
                None => {
                    let full = std::mem::replace(&mut self.buckets[i].1, n);
                    self.rest += Minor::from_fraction(full, denominator).unwrap_or(Minor::OVERFLOW);
                }
            },
            (Some(n), None) if self.buckets.len() < SUM_BUCKETS => self.buckets.push((denominator, n)),
            _ if negate => self.rest -= amount,
            _ => self.rest += amount,
        }
    }

    /// The exact sum.
    pub fn total(&self) -> Minor {
        self.buckets.iter().fold(self.rest, |sum, &(denominator, numerator)| {
            sum + Minor::from_fraction(numerator, denominator).unwrap_or(Minor::OVERFLOW)
        })
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
        // The importer asks once per row, and a file's rows nearly all name the same currency: the
        // last answer is kept.
        thread_local! {
            static LAST: RefCell<Option<(String, Option<Currency>)>> = const { RefCell::new(None) };
        }
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            match &*last {
                Some((asked, answer)) if asked == code => answer.clone(),
                _ => {
                    let answer = Currency::look_up(code);
                    *last = Some((code.to_owned(), answer.clone()));
                    answer
                }
            }
        })
    }

    fn look_up(code: &str) -> Option<Currency> {
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
    let normalised;
    let (whole, fraction) = match plain_decimal(unsigned) {
        Some(parts) => parts,
        None => {
            normalised = normalise_separators(unsigned)
                .ok_or_else(|| format!("`{trimmed}` is not a number this importer can read unambiguously"))?;
            match normalised.split_once('.') {
                Some((whole, fraction)) => (whole, fraction),
                None => (normalised.as_str(), ""),
            }
        }
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
    // At most 12 significant digits and 9 decimals: the number fits an i128 with room to spare.
    let numerator = whole.bytes().chain(fraction.bytes()).fold(0i128, |n, digit| n * 10 + i128::from(digit - b'0'));
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

/// Digits with at most one `.`, the way nearly every amount is written, split at the point (what
/// [`normalise_separators`] would make of them, without building a string); `None` otherwise.
fn plain_decimal(text: &str) -> Option<(&str, &str)> {
    let mut point = None;
    for (position, byte) in text.bytes().enumerate() {
        match byte {
            b'0'..=b'9' => {}
            b'.' if point.is_none() => point = Some(position),
            _ => return None,
        }
    }
    Some(match point {
        Some(position) => (&text[..position], &text[position + 1..]),
        None => (text, ""),
    })
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

    /// A small deterministic generator for the comparisons below.
    fn lcg(state: &mut u64) -> u64 {
        *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        *state >> 11
    }

    fn some_ratio(state: &mut u64) -> Ratio<i128> {
        let pick = lcg(state) % 6;
        let magnitude: i128 = match pick {
            0 => 1,
            1 => 1000,
            2 => 1 << 40,
            3 => 1 << 61,
            4 => 1 << 70,
            _ => i128::MAX / 3,
        };
        let numerator = ((lcg(state) as i128) << (lcg(state) % 80)) % magnitude;
        let numerator = if lcg(state).is_multiple_of(2) { numerator } else { -numerator };
        let denominator = [1, 2, 3, 12, 36, 365, 1000, 1 << 62, i128::MAX / 5][lcg(state) as usize % 9];
        Ratio::new(numerator, denominator)
    }

    #[test]
    fn fast_paths_give_what_num_rational_gives() {
        let mut state = 7;
        for _ in 0..200_000 {
            let (a, b) = (some_ratio(&mut state), some_ratio(&mut state));
            assert_eq!((Minor(Some(a)) + Minor(Some(b))).0, a.checked_add(&b), "{a} + {b}");
            assert_eq!((Minor(Some(a)) - Minor(Some(b))).0, a.checked_sub(&b), "{a} - {b}");
            let (n, d) = (*b.numer(), *b.denom() * if lcg(&mut state).is_multiple_of(2) { 1 } else { -1 });
            let expected = a.checked_mul(&Ratio::new(n, d)).map(|r| Minor(Some(r)));
            assert_eq!(Minor(Some(a)).scale(n, d), expected, "{a} * {n}/{d}");
        }
    }

    #[test]
    fn sums_by_denominator_equal_sums_one_by_one() {
        let mut state = 11;
        for round in 0..200 {
            let mut one_by_one = Minor::ZERO;
            let mut sum = MinorSum::default();
            for _ in 0..(round % 50) {
                let value = Minor::from_integer(i128::from(lcg(&mut state) % 100_000))
                    .scale(1, [1, 3, 12, 36, 365, 7, 11, 13, 17, 19][lcg(&mut state) as usize % 10])
                    .expect("fits");
                if lcg(&mut state).is_multiple_of(3) {
                    one_by_one -= value;
                    sum.sub(value);
                } else {
                    one_by_one += value;
                    sum.add(value);
                }
            }
            assert_eq!(sum.total(), one_by_one);
        }
        let mut overflowed = MinorSum::default();
        overflowed.add(Minor::OVERFLOW);
        overflowed.add(Minor::from_integer(5));
        assert!(overflowed.total().is_overflow());
        let mut huge = MinorSum::default();
        for _ in 0..3 {
            huge.add(Minor::from_integer(i128::MAX / 2));
        }
        assert!(huge.total().is_overflow());
    }

    #[test]
    fn json_major_units_are_rounded_to_the_minor_unit() {
        let third = Minor::from_fraction(10000, 3).expect("nonzero");
        assert_eq!(third.to_major_f64(&usd()), 33.33);
    }
}
