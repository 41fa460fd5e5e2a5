//! Decimal text to `f64` and back: filter literals and parameter values in, metadata and
//! category text out.
//!
//! The standard library's parser is exact for every input, but carries a 10 KiB table of
//! 128-bit powers of five that compresses poorly, a large share of the wasm package for a few
//! filter numbers. Here the numbers people write (at most 15 significant digits and a decimal
//! exponent within ±22 of them) take the exact fast path: the digits as an integer, which `f64`
//! holds exactly, times or divided by a power of ten that `f64` also holds exactly, which is a
//! single correctly rounded operation and so the same value the standard library gives. Longer
//! or more extreme numbers are read as JSON numbers (`crate::json`, already in the package for
//! item properties, which converts them as `serde_json` does), within a relative 1e-14 of the
//! exact value.

//! Printing is the same trade the other way: the standard library's float printer (Grisu with
//! a Dragon4 fallback and their tables) is about a fifth of the package. Here the shortest
//! digits that read back as the same `f64` are searched with the same exact operations, which
//! settles every value of up to 15 significant digits with an exponent in range; anything else
//! gets 17 significant digits computed in floating point (within a unit or two of the last
//! digit: metadata display, not storage).

use crate::json::POW10;

/// Most significant digits the fast path takes (2^53 > 10^15).
const FAST_DIGITS: usize = 15;

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (digits on at least one side of the point),
/// as `str::parse::<f64>` does for such text. `None` for anything else, including `inf` and
/// `NaN`, which no caller accepts.
#[must_use]
pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let digits_from = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = digits_from(i);
    let int_digits = &b[i..i + int_len];
    i += int_len;
    let mut frac_digits: &[u8] = &[];
    if b.get(i) == Some(&b'.') {
        let n = digits_from(i + 1);
        frac_digits = &b[i + 1..i + 1 + n];
        i += 1 + n;
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let n = digits_from(i);
        if n == 0 {
            return None;
        }
        for &c in &b[i..i + n] {
            // saturates far beyond any f64 exponent; the value is then 0 or infinite anyway
            exp = (exp * 10 + i64::from(c - b'0')).min(1 << 40);
        }
        if exp_negative {
            exp = -exp;
        }
        i += n;
    }
    if i != b.len() {
        return None;
    }
    // significant digits: integer and fraction digits without leading zeros, trailing zeros
    // moved into the exponent
    let mut digits: Vec<u8> = int_digits.iter().chain(frac_digits).copied().collect();
    exp -= i64::try_from(frac_digits.len()).ok()?;
    let lead = digits.iter().take_while(|&&c| c == b'0').count();
    digits.drain(..lead);
    while digits.last() == Some(&b'0') {
        digits.pop();
        exp += 1;
    }
    let magnitude = if digits.is_empty() {
        0.0
    } else if let Some(x) = fast_path(&digits, exp) {
        x
    } else {
        // read as the JSON number of the digits and the exponent (`crate::json`)
        let mut json = String::with_capacity(digits.len() + 24);
        json.extend(digits.iter().map(|&c| char::from(c)));
        json.push('e');
        json.push_str(&exp.to_string());
        match crate::json::from_str(&json).ok()? {
            crate::json::Value::Number(n) => n.as_f64()?,
            _ => return None,
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Exactly `digits × 10^exp` when both the digits and the power of ten are exact in `f64`.
fn fast_path(digits: &[u8], exp: i64) -> Option<f64> {
    if digits.len() > FAST_DIGITS {
        return None;
    }
    let mut m: u64 = 0;
    for &c in digits {
        m = m * 10 + u64::from(c - b'0');
    }
    #[allow(clippy::cast_precision_loss)] // m < 10^15 < 2^53: exact
    let m = m as f64;
    let e = usize::try_from(exp.unsigned_abs()).ok()?;
    if exp >= 0 {
        if let Some(&p) = POW10.get(e) {
            return Some(m * p);
        }
        // 123e25 = 123000e22 when the shifted digits stay exact
        let shift = e - (POW10.len() - 1);
        let scaled = m * POW10.get(shift)?;
        (scaled < 9_007_199_254_740_992.0).then(|| scaled * POW10[POW10.len() - 1])
    } else {
        POW10.get(e).map(|&p| m / p)
    }
}

/// The shortest decimal digits of `|x|` (finite, not zero) and the exponent of the first:
/// `|x| = d.ddd × 10^exp`. `("125", -1)` for 0.125.
#[must_use]
pub(crate) fn shortest_digits(x: f64) -> (String, i32) {
    let a = x.abs();
    #[allow(clippy::cast_possible_truncation)] // |log10| < 400
    let e0 = a.log10().floor() as i32;
    let (m, k) = exact_shortest(a, e0).unwrap_or_else(|| {
        let k = e0 - 16;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let m = scale10(a, -k).round() as u64;
        (m, k)
    });
    let mut digits = m.to_string();
    let mut k = k;
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
        k += 1;
    }
    let len = i32::try_from(digits.len()).unwrap_or(0);
    (digits, k + len - 1)
}

/// `a × 10^n` in steps of exact powers of ten (no overflow or underflow on the way for
/// finite `a` and a result near 10^16).
fn scale10(mut a: f64, n: i32) -> f64 {
    let big = POW10[POW10.len() - 1];
    let mut n = n;
    while n > 22 {
        a *= big;
        n -= 22;
    }
    while n < -22 {
        a /= big;
        n += 22;
    }
    let p = POW10[usize::try_from(n.unsigned_abs()).unwrap_or(0)];
    if n >= 0 { a * p } else { a / p }
}

/// `(m, k)` with `m × 10^k == a` exactly in `f64` and `m` of the fewest digits, when some
/// `m` of at most 15 digits with an exact power of ten does.
fn exact_shortest(a: f64, e0: i32) -> Option<(u64, i32)> {
    // FAST_DIGITS is 15: the conversion is folded away.
    let digits = i32::try_from(FAST_DIGITS).unwrap_or(15);
    for p in 1..=digits {
        let k = e0 - p + 1;
        let pow = *POW10.get(usize::try_from(k.unsigned_abs()).ok()?)?;
        let (scaled, back): (f64, fn(f64, f64) -> f64) = if k >= 0 {
            (a / pow, |m, p| m * p)
        } else {
            (a * pow, |m, p| m / p)
        };
        let m = scaled.round();
        for cand in [m, m - 1.0, m + 1.0] {
            if cand > 0.0 && cand < 1e15 && back(cand, pow) == a {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                return Some((cand as u64, k));
            }
        }
    }
    None
}

/// `x` as plain decimal text (`10.99`, `-0.001`, `1500`), in exponent form only outside
/// 1e-7 ..= 1e21 (`1e-9`, `2.5e+22`), like JavaScript's `String(number)`.
#[must_use]
pub(crate) fn format_f64(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    let sign = if x.is_sign_negative() && x != 0.0 {
        "-"
    } else {
        ""
    };
    if x.is_infinite() {
        return format!("{sign}inf");
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    render(x, -7..21, "")
}

/// Finite, non-zero `x` as its shortest digits: plain decimal text when the exponent of its
/// first digit is in `plain` (whole numbers followed by `whole_suffix`, e.g. `".0"`), else
/// exponent form (`1.5e+16`, `1e-7`).
#[must_use]
pub(crate) fn render(x: f64, plain: std::ops::Range<i32>, whole_suffix: &str) -> String {
    let (digits, exp) = shortest_digits(x);
    let mut s = String::with_capacity(digits.len() + 24);
    if x.is_sign_negative() {
        s.push('-');
    }
    let n = i32::try_from(digits.len()).unwrap_or(0);
    if plain.contains(&exp) {
        if exp < 0 {
            s.push_str("0.");
            s.extend(std::iter::repeat_n(
                '0',
                usize::try_from(-exp - 1).unwrap_or(0),
            ));
            s.push_str(&digits);
        } else if exp + 1 >= n {
            s.push_str(&digits);
            s.extend(std::iter::repeat_n(
                '0',
                usize::try_from(exp + 1 - n).unwrap_or(0),
            ));
            s.push_str(whole_suffix);
        } else {
            // (ASCII digits: any split is at a character boundary)
            let (int, frac) = digits
                .split_at_checked(usize::try_from(exp + 1).unwrap_or(0))
                .unwrap_or((&digits, ""));
            s.push_str(int);
            s.push('.');
            s.push_str(frac);
        }
    } else {
        let (first, rest) = digits.split_at_checked(1).unwrap_or((&digits, ""));
        s.push_str(first);
        if !rest.is_empty() {
            s.push('.');
            s.push_str(rest);
        }
        s.push('e');
        s.push(if exp < 0 { '-' } else { '+' });
        s.push_str(&exp.unsigned_abs().to_string());
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::{format_f64, parse_f64};
    use proptest::prelude::*;

    #[test]
    fn accepts_what_people_write() {
        for text in [
            "0",
            "-0",
            "+1",
            "10.99",
            ".5",
            "5.",
            "1e3",
            "2.5E-3",
            "-7.25e+2",
            "0.1",
            "123456789012345",
            "1e22",
            "123e25",
            "0.000000000000000000001",
            "00012.5000",
        ] {
            assert_eq!(
                parse_f64(text).map(f64::to_bits),
                text.parse::<f64>().ok().map(f64::to_bits),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_decimal() {
        for text in [
            "", "-", ".", "e5", "1e", "1e+", "1.2.3", "inf", "NaN", "1 ", " 1", "0x10", "1_000",
        ] {
            assert_eq!(parse_f64(text), None, "{text}");
        }
    }

    #[test]
    fn far_out_numbers_are_close_to_exact() {
        assert!(
            parse_f64("1e400").is_none_or(f64::is_infinite),
            "out of range"
        );
        for text in [
            "1.7976931348623157e308",
            "1e-300",
            "1e-400",
            "12345678901234567890.123",
        ] {
            let ours = parse_f64(text).unwrap();
            let std = text.parse::<f64>().unwrap();
            assert!(
                ours == std || (ours.to_bits().abs_diff(std.to_bits()) <= 1),
                "{text}: {ours} vs {std}"
            );
        }
    }

    #[test]
    fn prints_like_people_write() {
        for (x, text) in [
            (0.0, "0"),
            (10.99, "10.99"),
            (-0.001, "-0.001"),
            (1500.0, "1500"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e-9, "1e-9"),
            (2.5e22, "2.5e+22"),
            (123_456_789_012_345.0, "123456789012345"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(format_f64(x), text);
        }
    }

    proptest! {
        /// Values of up to 15 significant digits print as the standard library prints them
        /// (and so read back exactly).
        #[test]
        fn prints_the_shortest_digits(m in -999_999_999_999_999i64..1_000_000_000_000_000, e in -7i32..6) {
            let x: f64 = format!("{m}e{e}").parse().unwrap();
            prop_assume!(x != 0.0 && x.abs() < 1e21 && x.abs() >= 1e-7);
            prop_assert_eq!(format_f64(x), format!("{x}"));
        }

        /// Anything finite prints to text that reads back within a relative 1e-14.
        #[test]
        fn reads_back_close(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite() && x != 0.0);
            let back: f64 = format_f64(x).parse().unwrap();
            prop_assert!((back - x).abs() <= 1e-14 * x.abs() || x.abs() < 1e-307, "{} {}", x, back);
        }

        /// Up to 15 significant digits and a moderate exponent: bit for bit the standard
        /// library's value.
        #[test]
        fn exact_where_people_write(m in 0u64..1_000_000_000_000_000, point in 0usize..16, e in -22i32..22, neg in any::<bool>()) {
            let s = m.to_string();
            let point = point.min(s.len());
            let e = e.clamp(-22 + point as i32, 22);
            let text = format!("{}{}.{}e{e}", if neg { "-" } else { "" }, &s[..s.len() - point], &s[s.len() - point..]);
            prop_assert_eq!(parse_f64(&text).map(f64::to_bits), text.parse::<f64>().ok().map(f64::to_bits), "{}", text);
        }

        /// Long or extreme numbers: the value `serde_json` reads from the same digits and
        /// exponent, as before `crate::json` took its place.
        #[test]
        fn long_numbers_as_serde_json_reads_them(digits in "[1-9][0-9]{14,29}[1-9]", e in -400i32..400) {
            let text = format!("{digits}e{e}");
            let theirs = serde_json::from_str::<f64>(&text).ok();
            prop_assert_eq!(parse_f64(&text).map(f64::to_bits), theirs.map(f64::to_bits), "{}", text);
        }

        /// Anything: the same verdict as the standard library on decimal text, and a value
        /// within a relative 1e-14 of it (long or extreme numbers, read as JSON numbers).
        #[test]
        fn close_everywhere(digits in "[0-9]{1,25}", frac in "[0-9]{0,10}", e in -340i32..320) {
            let text = format!("{digits}.{frac}e{e}");
            let std = text.parse::<f64>().unwrap();
            let Some(ours) = parse_f64(&text) else {
                prop_assert!(std.is_infinite(), "{}", text);
                return Ok(());
            };
            prop_assert!(ours == std || (ours - std).abs() <= 1e-14 * std.abs() || std.abs() < 1e-300, "{} {} {}", text, ours, std);
        }
    }
}
