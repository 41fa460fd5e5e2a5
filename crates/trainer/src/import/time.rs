//! Timestamps: epoch seconds (Personalize), epoch milliseconds, ISO-8601 and `strftime`-like
//! date patterns, all converted to epoch seconds (UTC).

use std::fmt;
use std::str::FromStr;

use edgerec_core::calendar::{days_from_civil, days_in_month};
use serde::Serialize;

/// Epoch values at or above this magnitude are taken as milliseconds (1e11 s is year 5138).
pub const MILLIS_THRESHOLD: f64 = 1e11;
/// Epoch values at or above this magnitude are rejected (microseconds or garbage).
const MAX_EPOCH_MILLIS: f64 = 1e14;

/// How timestamps are written in a mapped file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormat {
    /// Epoch seconds when the value is a number (milliseconds detected), else ISO-8601.
    #[default]
    Auto,
    /// Epoch seconds (integer or fractional); values ≥ 1e11 are taken as milliseconds.
    Epoch,
    /// Epoch milliseconds.
    EpochMs,
    /// ISO-8601 date (`2016-05-09`) or date-time (`2016-05-09T13:45:00Z`, `+02:00` offsets).
    Iso8601,
    /// A pattern with `%Y %y %m %b %d %H %M %S %%` and literal characters (`%d-%m-%Y`).
    Pattern(String),
}

impl fmt::Display for TimeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Epoch => f.write_str("epoch"),
            Self::EpochMs => f.write_str("epoch-ms"),
            Self::Iso8601 => f.write_str("iso8601"),
            Self::Pattern(p) => f.write_str(p),
        }
    }
}

impl FromStr for TimeFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "auto" => Self::Auto,
            "epoch" | "epoch-s" | "seconds" | "unix" => Self::Epoch,
            "epoch-ms" | "ms" | "millis" => Self::EpochMs,
            "iso" | "iso8601" | "iso-8601" | "yyyy-mm-dd" => Self::Iso8601,
            "dd-mm-yyyy" => Self::Pattern("%d-%m-%Y".into()),
            "dd/mm/yyyy" => Self::Pattern("%d/%m/%Y".into()),
            "mm/dd/yyyy" => Self::Pattern("%m/%d/%Y".into()),
            "dd.mm.yyyy" => Self::Pattern("%d.%m.%Y".into()),
            _ if s.contains('%') => {
                validate_pattern(s.trim())?;
                Self::Pattern(s.trim().to_owned())
            }
            _ => {
                return Err(format!(
                    "unknown time format {s:?}: use auto, epoch, epoch-ms, iso8601, DD-MM-YYYY, \
                     or a pattern such as %d-%m-%Y %H:%M"
                ));
            }
        })
    }
}

/// A parsed epoch value, and whether it was converted from milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Epoch {
    pub seconds: i64,
    pub from_millis: bool,
}

/// Parse epoch seconds (integer or fractional, floored); values ≥ 1e11 are milliseconds.
pub(crate) fn parse_epoch(s: &str) -> Result<Epoch, String> {
    let s = s.trim();
    let (value, int) = match s.parse::<i64>() {
        Ok(v) => (v as f64, Some(v)),
        Err(_) => match s.parse::<f64>() {
            Ok(v) if v.is_finite() => (v, None),
            _ => {
                let hint = if parse_iso(s).is_some() {
                    " (it looks like a date: convert to epoch seconds, or use a mapped import with \
                     --time-format iso8601)"
                } else {
                    ""
                };
                return Err(format!(
                    "invalid timestamp {s:?}: expected epoch seconds (e.g. 1700000000){hint}"
                ));
            }
        },
    };
    epoch_of(value, int, s)
}

/// Epoch seconds from an integer (a typed column's value); values ≥ 1e11 are milliseconds.
pub(crate) fn epoch_from_int(v: i64) -> Result<Epoch, String> {
    epoch_of(v as f64, Some(v), &v.to_string())
}

/// Epoch seconds from a number (a typed column's value, floored); values ≥ 1e11 are
/// milliseconds.
pub(crate) fn epoch_from_float(v: f64) -> Result<Epoch, String> {
    if !v.is_finite() {
        return Err(format!(
            "invalid timestamp {v}: expected epoch seconds (e.g. 1700000000)"
        ));
    }
    epoch_of(v, None, &v.to_string())
}

/// The epoch of `value` (`int` when it was an integer), `shown` as written in messages.
fn epoch_of(value: f64, int: Option<i64>, shown: &str) -> Result<Epoch, String> {
    if value.abs() >= MAX_EPOCH_MILLIS {
        return Err(format!(
            "timestamp {shown} is out of range: expected epoch seconds (e.g. 1700000000)"
        ));
    }
    if value.abs() >= MILLIS_THRESHOLD {
        let seconds = match int {
            Some(v) => v.div_euclid(1000),
            None => (value / 1000.0).floor() as i64,
        };
        return Ok(Epoch {
            seconds,
            from_millis: true,
        });
    }
    Ok(Epoch {
        seconds: int.unwrap_or(value.floor() as i64),
        from_millis: false,
    })
}

/// Parse epoch milliseconds (integer or fractional) to seconds.
pub(crate) fn parse_epoch_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v.div_euclid(1000));
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() < 1e17 => Ok((v / 1000.0).floor() as i64),
        _ => Err(format!(
            "invalid timestamp {s:?}: expected epoch milliseconds"
        )),
    }
}

/// Parse a value in `format` to epoch seconds. `Ok((seconds, from_millis))`.
pub(crate) fn parse_time(s: &str, format: &TimeFormat) -> Result<(i64, bool), String> {
    match format {
        TimeFormat::Epoch => parse_epoch(s).map(|e| (e.seconds, e.from_millis)),
        TimeFormat::EpochMs => parse_epoch_ms(s).map(|t| (t, false)),
        TimeFormat::Iso8601 => parse_iso(s).map(|t| (t, false)).ok_or_else(|| {
            format!(
                "invalid timestamp {:?}: expected an ISO-8601 date or date-time",
                s.trim()
            )
        }),
        TimeFormat::Pattern(p) => parse_pattern(s.trim(), p)
            .map(|t| (t, false))
            .ok_or_else(|| format!("invalid timestamp {:?}: expected the format {p}", s.trim())),
        TimeFormat::Auto => {
            let t = s.trim();
            if t.parse::<f64>().is_ok() {
                parse_epoch(t).map(|e| (e.seconds, e.from_millis))
            } else {
                parse_iso(t).map(|v| (v, false)).ok_or_else(|| {
                    format!(
                        "invalid timestamp {t:?}: expected epoch seconds or an ISO-8601 date \
                         (pass --time-format for other layouts, e.g. %d-%m-%Y)"
                    )
                })
            }
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Parts {
    year: Option<i64>,
    month: Option<u32>,
    day: Option<u32>,
    hour: u32,
    minute: u32,
    second: u32,
    offset_seconds: i64,
}

impl Parts {
    fn epoch(self) -> Option<i64> {
        let (y, m, d) = (self.year?, self.month?, self.day?);
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        if self.hour > 23 || self.minute > 59 || self.second > 60 {
            return None;
        }
        let secs = days_from_civil(y, m, d) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        Some(secs - self.offset_seconds)
    }
}

/// A cursor over ASCII input.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.s.len() && self.i - start < max && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        self.s[start..self.i].iter().try_fold(0u32, |acc, &b| {
            acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        })
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn done(&self) -> bool {
        self.i == self.s.len()
    }
}

/// `YYYY-MM-DD`, optionally followed by `T` or a space, `HH:MM[:SS[.fff]]`, and `Z` or `±HH[:]MM`.
pub(crate) fn parse_iso(s: &str) -> Option<i64> {
    let mut c = Cursor {
        s: s.trim().as_bytes(),
        i: 0,
    };
    let mut p = Parts {
        year: Some(i64::from(c.digits(4, 4)?)),
        ..Parts::default()
    };
    if !c.eat(b'-') {
        return None;
    }
    p.month = Some(c.digits(2, 2)?);
    if !c.eat(b'-') {
        return None;
    }
    p.day = Some(c.digits(2, 2)?);
    if c.done() {
        return p.epoch();
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    p.hour = c.digits(2, 2)?;
    if !c.eat(b':') {
        return None;
    }
    p.minute = c.digits(2, 2)?;
    if c.eat(b':') {
        p.second = c.digits(2, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            c.digits(1, 9)?;
        }
    }
    match c.peek() {
        None => {}
        Some(b'Z' | b'z') => {
            c.i += 1;
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let h = c.digits(2, 2)?;
            c.eat(b':');
            let m = c.digits(2, 2)?;
            let off = i64::from(h) * 3600 + i64::from(m) * 60;
            p.offset_seconds = if sign == b'-' { -off } else { off };
        }
        Some(_) => return None,
    }
    if !c.done() {
        return None;
    }
    p.epoch()
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn validate_pattern(p: &str) -> Result<(), String> {
    let mut chars = p.chars();
    let (mut y, mut m, mut d) = (false, false, false);
    while let Some(ch) = chars.next() {
        if ch != '%' {
            continue;
        }
        match chars.next() {
            Some('Y' | 'y') => y = true,
            Some('m' | 'b') => m = true,
            Some('d') => d = true,
            Some('H' | 'M' | 'S' | '%') => {}
            other => {
                return Err(format!(
                    "time format {p:?}: unsupported directive %{} (supported: %Y %y %m %b %d %H %M %S %%)",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    if y && m && d {
        Ok(())
    } else {
        Err(format!(
            "time format {p:?} needs a year (%Y), a month (%m or %b) and a day (%d)"
        ))
    }
}

/// Parse `s` with a `strftime`-like pattern (validated by `TimeFormat::from_str`).
pub(crate) fn parse_pattern(s: &str, pattern: &str) -> Option<i64> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let mut p = Parts::default();
    let mut pat = pattern.bytes();
    while let Some(b) = pat.next() {
        if b != b'%' {
            if !c.eat(b) {
                return None;
            }
            continue;
        }
        match pat.next()? {
            b'Y' => p.year = Some(i64::from(c.digits(4, 4)?)),
            b'y' => {
                let v = i64::from(c.digits(2, 2)?);
                p.year = Some(if v < 69 { 2000 + v } else { 1900 + v });
            }
            b'm' => p.month = Some(c.digits(1, 2)?),
            b'd' => p.day = Some(c.digits(1, 2)?),
            b'H' => p.hour = c.digits(1, 2)?,
            b'M' => p.minute = c.digits(1, 2)?,
            b'S' => p.second = c.digits(1, 2)?,
            b'b' => {
                let name = c.s.get(c.i..c.i + 3)?.to_ascii_lowercase();
                let idx = MONTHS
                    .iter()
                    .position(|m| m.as_bytes() == name.as_slice())?;
                p.month = Some(u32::try_from(idx).ok()? + 1);
                c.i += 3;
            }
            b'%' => {
                if !c.eat(b'%') {
                    return None;
                }
            }
            _ => return None,
        }
    }
    if !c.done() {
        return None;
    }
    p.epoch()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_fractions_and_millis() {
        assert_eq!(parse_epoch("881250949").map(|e| e.seconds), Ok(881_250_949));
        assert_eq!(parse_epoch(" 12.9 ").map(|e| e.seconds), Ok(12));
        let ms = parse_epoch("1700000000123").unwrap_or(Epoch {
            seconds: 0,
            from_millis: false,
        });
        assert_eq!(ms.seconds, 1_700_000_000);
        assert!(ms.from_millis);
        assert!(parse_epoch("abc").is_err());
        assert!(parse_epoch("1e20").is_err());
        assert!(parse_epoch("NaN").is_err());
        let err = parse_epoch("2016-05-09").err().unwrap_or_default();
        assert!(err.contains("looks like a date"), "{err}");
        assert_eq!(parse_epoch_ms("1700000000999"), Ok(1_700_000_000));
    }

    #[test]
    fn iso_dates_and_datetimes() {
        assert_eq!(parse_iso("2016-05-09"), Some(1_462_752_000));
        assert_eq!(
            parse_iso("2016-05-09T01:02:03Z"),
            Some(1_462_752_000 + 3723)
        );
        assert_eq!(
            parse_iso("2016-05-09 01:02:03.25"),
            Some(1_462_752_000 + 3723)
        );
        assert_eq!(
            parse_iso("2016-05-09T02:02:03+01:00"),
            Some(1_462_752_000 + 3723)
        );
        assert_eq!(parse_iso("2016-02-30"), None);
        assert_eq!(parse_iso("2016-5-9"), None);
        assert_eq!(parse_iso("2016-05-09T01:02:03Zjunk"), None);
    }

    #[test]
    fn patterns() {
        let f: TimeFormat = "DD-MM-YYYY".parse().unwrap_or_default();
        assert_eq!(f, TimeFormat::Pattern("%d-%m-%Y".into()));
        assert_eq!(parse_time("21-07-2015", &f), Ok((1_437_436_800, false)));
        assert_eq!(parse_pattern("01-Jan-1995", "%d-%b-%Y"), Some(788_918_400));
        assert_eq!(
            parse_pattern("31/12/99 23:59", "%d/%m/%y %H:%M"),
            Some(946_684_740)
        );
        assert!(parse_time("2015-07-21", &f).is_err());
        assert!("%d-%Q-%Y".parse::<TimeFormat>().is_err());
        assert!("%d-%m".parse::<TimeFormat>().is_err());
        assert!("nonsense".parse::<TimeFormat>().is_err());
        assert_eq!("epoch-ms".parse::<TimeFormat>(), Ok(TimeFormat::EpochMs));
    }

    #[test]
    fn auto_format() {
        assert_eq!(
            parse_time("2016-05-09", &TimeFormat::Auto),
            Ok((1_462_752_000, false))
        );
        assert_eq!(parse_time("100", &TimeFormat::Auto), Ok((100, false)));
        assert!(parse_time("09/05/2016", &TimeFormat::Auto).is_err());
    }
}
