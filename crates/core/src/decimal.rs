//! Decimal text to `f64`, for filter literals and filter parameter values.
//!
//! The standard library's parser is exact for every input, but carries a 10 KiB table of
//! 128-bit powers of five that compresses poorly, a large share of the wasm package for a few
//! filter numbers. Here the numbers people write (at most 15 significant digits and a decimal
//! exponent within ±22 of them) take the exact fast path: the digits as an integer, which `f64`
//! holds exactly, times or divided by a power of ten that `f64` also holds exactly, which is a
//! single correctly rounded operation and so the same value the standard library gives. Longer
//! or more extreme numbers go through `serde_json`'s parser (already in the package for item
//! properties), which is within a relative 1e-14 of the exact value.

/// Powers of ten that `f64` represents exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

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
        // `serde_json` reads JSON numbers: digits, then an exponent
        let mut json = String::with_capacity(digits.len() + 24);
        json.extend(digits.iter().map(|&c| char::from(c)));
        json.push('e');
        json.push_str(&exp.to_string());
        serde_json::from_str::<f64>(&json).ok()?
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::parse_f64;
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

    proptest! {
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

        /// Anything: the same verdict as the standard library on decimal text, and a value
        /// within a relative 1e-14 of it (long or extreme numbers, through `serde_json`).
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
