//! Exact JSON numbers. Documents keep every number as the text it was
//! written with (serde_json's `arbitrary_precision`), so nothing is rounded
//! through binary floating point on the way from a file to the store and
//! back. This module gives that text its exact decimal value: for equality
//! (`1 == 1.0 == 1E0`, as JSON Schema's equality has it), for exact sums
//! (`set --increment`) and for the checksum's canonical form.

use std::cmp::Ordering;

use serde_json::Number;

/// A number's exact decimal value: `(-1)^negative × digits × 10^exponent`.
///
/// `digits` has no leading zeros; trailing zeros are kept until
/// [`Decimal::normalized`] (so `1.50` keeps its scale in sums).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

/// The largest exponent magnitude a number may have (far beyond anything
/// binary64 can hold, so every finite number a reader accepts fits).
const MAX_EXPONENT: i64 = 1 << 40;

/// The most digits an exact sum may produce before it is refused.
const MAX_SUM_DIGITS: usize = 4096;

impl Decimal {
    /// Parses JSON number syntax (`-`? int frac? exp?). `None` for anything
    /// else, or an exponent beyond ±2^40.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (mantissa, None),
        };
        let digit_run = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digit_run(int) || (int.len() > 1 && int.starts_with('0')) {
            return None;
        }
        if frac.is_some_and(|f| !digit_run(f)) {
            return None;
        }
        let mut exponent: i64 = match exp {
            Some(e) => {
                let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
                if !digit_run(unsigned) {
                    return None;
                }
                let trimmed = unsigned.trim_start_matches('0');
                if trimmed.len() > 13 {
                    return None;
                }
                let v: i64 = trimmed.parse().unwrap_or(0);
                if e.starts_with('-') { -v } else { v }
            }
            None => 0,
        };
        let frac = frac.unwrap_or("");
        exponent -= frac.len() as i64;
        if exponent.abs() > MAX_EXPONENT {
            return None;
        }
        let digits: Vec<u8> = int
            .bytes()
            .chain(frac.bytes())
            .map(|b| b - b'0')
            .skip_while(|&d| d == 0)
            .collect();
        Some(Decimal {
            negative: negative && !digits.is_empty(),
            digits,
            exponent,
        })
    }

    /// The value of a JSON number.
    pub fn of(n: &Number) -> Option<Decimal> {
        Decimal::parse(n.as_str())
    }

    /// Whether the value is zero (`0`, `-0`, `0.000`).
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The same value with trailing zeros moved into the exponent, so that
    /// equal values are equal structs.
    pub fn normalized(mut self) -> Decimal {
        if self.digits.is_empty() {
            self.exponent = 0;
            return self;
        }
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exponent += 1;
        }
        self
    }

    /// The exact sum, or `None` when it would need more than 4096 digits.
    pub fn checked_add(&self, other: &Decimal) -> Option<Decimal> {
        let exponent = self.exponent.min(other.exponent);
        let scale = |d: &Decimal| -> Option<Vec<u8>> {
            let zeros = usize::try_from(d.exponent - exponent).ok()?;
            if d.digits.len() + zeros > MAX_SUM_DIGITS {
                return None;
            }
            let mut v = d.digits.clone();
            v.resize(d.digits.len() + zeros, 0);
            Some(v)
        };
        let (a, b) = (scale(self)?, scale(other)?);
        let (negative, digits) = if self.negative == other.negative {
            (self.negative, add_digits(&a, &b))
        } else {
            match cmp_digits(&a, &b) {
                Ordering::Less => (other.negative, sub_digits(&b, &a)),
                _ => (self.negative, sub_digits(&a, &b)),
            }
        };
        let digits: Vec<u8> = digits.into_iter().skip_while(|&d| d == 0).collect();
        Some(Decimal {
            negative: negative && !digits.is_empty(),
            digits,
            exponent,
        })
    }

    /// The value as JSON number text: plain digits while that stays short
    /// (`120`, `-0.0015`, `2.50`), exponent notation beyond (`1.5e-400`).
    pub fn to_json(&self) -> String {
        let sign = if self.negative { "-" } else { "" };
        let digits: String = if self.digits.is_empty() {
            "0".to_owned()
        } else {
            self.digits.iter().map(|d| char::from(b'0' + d)).collect()
        };
        let len = digits.len() as i64;
        if (0..=40).contains(&self.exponent) && len + self.exponent <= 80 {
            let zeros = "0".repeat(self.exponent as usize);
            return format!("{sign}{digits}{zeros}");
        }
        if self.exponent < 0 && -self.exponent <= 64 {
            let frac = (-self.exponent) as usize;
            let padded = format!("{digits:0>width$}", width = frac + 1);
            let (int, frac) = padded.split_at(padded.len() - frac);
            return format!("{sign}{int}.{frac}");
        }
        let (first, rest) = digits.split_at(1);
        let exp = self.exponent + len - 1;
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        match exp {
            0 => format!("{sign}{first}{rest}"),
            _ => format!("{sign}{first}{rest}e{exp}"),
        }
    }
}

fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |v: &[u8]| v.iter().position(|&d| d != 0).map_or(0, |i| v.len() - i);
    strip(a).cmp(&strip(b)).then_with(|| {
        let (a, b) = (&a[a.len() - strip(a)..], &b[b.len() - strip(b)..]);
        a.cmp(b)
    })
}

fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let x = if i > 0 { a[i - 1] } else { 0 };
        let y = if j > 0 { b[j - 1] } else { 0 };
        let s = x + y + carry;
        out.push(s % 10);
        carry = s / 10;
        i = i.saturating_sub(1);
        j = j.saturating_sub(1);
    }
    out.reverse();
    out
}

/// `a - b` for `a >= b`.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut j, mut borrow) = (b.len(), 0i8);
    for &x in a.iter().rev() {
        let y = if j > 0 { b[j - 1] as i8 } else { 0 };
        j = j.saturating_sub(1);
        let mut d = x as i8 - y - borrow;
        borrow = i8::from(d < 0);
        if d < 0 {
            d += 10;
        }
        out.push(d as u8);
    }
    out.reverse();
    out
}

/// Whether `text` is JSON number syntax (`-`? int frac? exp?), whatever
/// its magnitude.
pub fn is_number_syntax(text: &str) -> bool {
    let b = text.strip_prefix('-').unwrap_or(text).as_bytes();
    let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    if int == 0 || (int > 1 && b[0] == b'0') {
        return false;
    }
    let mut i = int;
    if b.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        if frac == 0 {
            return false;
        }
        i += 1 + frac;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// Whether two numbers have the same exact value (`1`, `1.0`, `1e0` and
/// `10E-1` do; `0.1` and `0.10000000000000000001` do not).
pub fn same_value(a: &Number, b: &Number) -> bool {
    if a.as_str() == b.as_str() {
        return true;
    }
    match (Decimal::of(a), Decimal::of(b)) {
        (Some(x), Some(y)) => x.normalized() == y.normalized(),
        _ => false,
    }
}

/// Whether two values are equal with numbers compared by exact value
/// (JSON Schema's equality): `{"a": [1]}` equals `{"a": [1.0]}`.
pub fn values_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => same_value(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A text for the number that is the same for equal values (`1`, `1.0`
/// and `1E0` all give `1`).
pub fn value_key(n: &Number) -> String {
    Decimal::of(n).map_or_else(|| n.to_string(), |d| d.normalized().to_json())
}

/// The number's text in the checksum's canonical form. Integers are their
/// digits; any other number that binary64 holds exactly as written is
/// formatted as serde_json formats an `f64` (`1E2` → `100.0`), so the
/// checksums of documents written before numbers were kept exact do not
/// change; a number binary64 would round keeps its exact value
/// (`0.10000000000000000001`).
pub fn canonical_text(n: &Number) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let text = n.as_str();
    let integer = !text.contains(['.', 'e', 'E']);
    if integer && text != "-0" {
        return Cow::Borrowed(text);
    }
    let Some(float) = text.parse::<f64>().ok().and_then(Number::from_f64) else {
        return Cow::Borrowed(text);
    };
    if float.as_str() == text || same_value(&float, n) {
        return Cow::Owned(float.as_str().to_owned());
    }
    Cow::Owned(Decimal::of(n).map_or_else(|| text.to_owned(), |d| d.normalized().to_json()))
}

/// Whether the number is finite as binary64 (`1e400` is not): readers
/// refuse numbers beyond binary64's range, as they always have.
pub fn in_range(n: &Number) -> bool {
    n.as_f64().is_some() && Decimal::of(n).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn equal_values_across_spellings() {
        assert!(same_value(&n("1"), &n("1.0")));
        assert!(same_value(&n("100"), &n("1e2")));
        assert!(same_value(&n("1.0"), &n("1.00")));
        assert!(same_value(&n("0"), &n("-0")));
        assert!(!same_value(&n("0.1"), &n("0.10000000000000000001")));
        assert!(!same_value(
            &n("18446744073709551617123"),
            &n("18446744073709551617124")
        ));
        assert_eq!(value_key(&n("1.50e1")), "15");
    }

    #[test]
    fn exact_sums() {
        let sum = |a: &str, b: &str| {
            Decimal::parse(a)
                .unwrap()
                .checked_add(&Decimal::parse(b).unwrap())
                .unwrap()
                .to_json()
        };
        assert_eq!(sum("18446744073709551617", "1"), "18446744073709551618");
        assert_eq!(sum("-18446744073709551617", "1"), "-18446744073709551616");
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("1.0", "1"), "2.0");
        assert_eq!(sum("5", "-7"), "-2");
        assert_eq!(sum("1", "-1"), "0");
        assert_eq!(
            sum("1e-50", "1"),
            "1.00000000000000000000000000000000000000000000000001"
        );
        assert_eq!(sum("1e100", "1e100"), "2e100");
    }

    #[test]
    fn canonical_text_keeps_old_checksums_and_new_exactness() {
        let c = |s: &str| canonical_text(&n(s)).into_owned();
        assert_eq!(c("1E2"), "100.0");
        assert_eq!(c("1.0"), "1.0");
        assert_eq!(c("-0"), "-0.0");
        assert_eq!(c("0.1"), "0.1");
        assert_eq!(c("2.5e-3"), "0.0025");
        assert_eq!(c("18446744073709551617"), "18446744073709551617");
        assert_eq!(c("0.10000000000000000001"), "0.10000000000000000001");
        assert!(!in_range(&n("1e400")));
        assert!(is_number_syntax("1e400") && is_number_syntax("-0.5E+3"));
        assert!(!is_number_syntax("1.") && !is_number_syntax("01") && !is_number_syntax("x"));
        assert!(in_range(&n("1e-400")));
    }

    #[test]
    fn refuses_what_is_not_json_number_syntax() {
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "1e99999999999999"] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
    }
}
