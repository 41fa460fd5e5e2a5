//! JSON text to a value tree: the `properties` strings of `PutItems` / `PutUsers` records
//! (`crate::records`) and the rare filter numbers too long for the exact fast path
//! (`crate::decimal`).
//!
//! It accepts exactly what `serde_json::from_str::<serde_json::Value>` accepts, reads it to the
//! same values, and refuses the rest with serde_json's message and position (`expected value at
//! line 1 column 1`), which is what these callers used before; the differential tests below hold
//! it to that. Written out because serde_json's generic deserializer, its error type and its
//! table of 309 powers of ten came to a fifteenth of the wasm package for this one small parse.
//!
//! Numbers are converted as serde_json's default build does (not its `float_roundtrip`
//! feature): an integer that fits stays a `u64` / `i64`; anything else keeps its first 19 or 20
//! significant digits as a `u64`, which is then multiplied or divided by the power of ten of
//! its exponent ([`pow10`], the `f64` nearest that power). The result is within an ulp or so
//! of the exact value and the same `f64` serde_json gives.

use std::fmt;

/// A JSON value, shaped as `serde_json::Value`: an object's entries are sorted by key, and a
/// key given twice keeps its last value (as in serde_json's `BTreeMap`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// A JSON number, kept as `serde_json::Number` keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    /// An integer from 0 to `u64::MAX`.
    PosInt(u64),
    /// A negative integer from `i64::MIN`.
    NegInt(i64),
    /// Any other number (always finite).
    Float(f64),
}

impl Number {
    /// The integer, when it fits an `i64`.
    pub(crate) fn as_i64(self) -> Option<i64> {
        match self {
            Number::PosInt(n) => i64::try_from(n).ok(),
            Number::NegInt(n) => Some(n),
            Number::Float(_) => None,
        }
    }

    /// The integer, when it is a non-negative one.
    pub(crate) fn as_u64(self) -> Option<u64> {
        match self {
            Number::PosInt(n) => Some(n),
            _ => None,
        }
    }

    /// The value as an `f64` (integers rounded to the nearest); `Some` always, as in
    /// serde_json.
    #[allow(clippy::cast_precision_loss, clippy::unnecessary_wraps)]
    pub(crate) fn as_f64(self) -> Option<f64> {
        Some(match self {
            Number::PosInt(n) => n as f64,
            Number::NegInt(n) => n as f64,
            Number::Float(f) => f,
        })
    }
}

/// Why a text is not JSON, and where (serde_json's wording; line and column from 1 and 0, the
/// column counted in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    message: &'static str,
    line: usize,
    column: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

const EOF_LIST: &str = "EOF while parsing a list";
const EOF_OBJECT: &str = "EOF while parsing an object";
const EOF_STRING: &str = "EOF while parsing a string";
const EOF_VALUE: &str = "EOF while parsing a value";
const EXPECTED_COLON: &str = "expected `:`";
const EXPECTED_LIST_COMMA_OR_END: &str = "expected `,` or `]`";
const EXPECTED_OBJECT_COMMA_OR_END: &str = "expected `,` or `}`";
const EXPECTED_IDENT: &str = "expected ident";
const EXPECTED_VALUE: &str = "expected value";
const INVALID_ESCAPE: &str = "invalid escape";
const INVALID_NUMBER: &str = "invalid number";
const NUMBER_OUT_OF_RANGE: &str = "number out of range";
const CONTROL_CHARACTER: &str = "control character (\\u0000-\\u001F) found while parsing a string";
const KEY_MUST_BE_A_STRING: &str = "key must be a string";
const LONE_LEADING_SURROGATE: &str = "lone leading surrogate in hex escape";
const TRAILING_COMMA: &str = "trailing comma";
const TRAILING_CHARACTERS: &str = "trailing characters";
const UNEXPECTED_END_OF_HEX_ESCAPE: &str = "unexpected end of hex escape";
const RECURSION_LIMIT: &str = "recursion limit exceeded";

/// Arrays and objects nest at most this many levels minus one (serde_json's limit).
const MAX_DEPTH: u8 = 128;

/// Parses one JSON value, with nothing but whitespace around it.
pub(crate) fn from_str(text: &str) -> Result<Value, Error> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: MAX_DEPTH,
    };
    let value = p.value()?;
    match p.whitespace() {
        Some(_) => Err(p.peek_error(TRAILING_CHARACTERS)),
        None => Ok(value),
    }
}

/// A recursive-descent reader. Errors are placed where serde_json places them: `error` at the
/// read position (after the byte that failed), `peek_error` one byte further (at the byte that
/// was looked at but not taken).
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    /// Levels of nesting still allowed.
    depth: u8,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn peek_or_null(&self) -> u8 {
        self.peek().unwrap_or(0)
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    /// The value of the digit at the read position, if there is one (not taken).
    fn digit(&self) -> Option<u8> {
        self.peek().filter(u8::is_ascii_digit).map(|c| c - b'0')
    }

    fn skip_digits(&mut self) {
        while self.digit().is_some() {
            self.at += 1;
        }
    }

    fn error_at(&self, at: usize, message: &'static str) -> Error {
        let before = self.bytes.get(..at).unwrap_or(self.bytes);
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let lines = before
            .get(..line_start)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        Error {
            message,
            line: 1 + lines,
            column: at - line_start,
        }
    }

    fn error(&self, message: &'static str) -> Error {
        self.error_at(self.at, message)
    }

    fn peek_error(&self, message: &'static str) -> Error {
        self.error_at((self.at + 1).min(self.bytes.len()), message)
    }

    /// Skips whitespace; the next byte (not taken).
    fn whitespace(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
        self.peek()
    }

    fn value(&mut self) -> Result<Value, Error> {
        let Some(c) = self.whitespace() else {
            return Err(self.peek_error(EOF_VALUE));
        };
        Ok(match c {
            b'n' => {
                self.at += 1;
                self.ident(b"ull")?;
                Value::Null
            }
            b't' => {
                self.at += 1;
                self.ident(b"rue")?;
                Value::Bool(true)
            }
            b'f' => {
                self.at += 1;
                self.ident(b"alse")?;
                Value::Bool(false)
            }
            b'-' => {
                self.at += 1;
                Value::Number(self.integer(false)?)
            }
            b'0'..=b'9' => Value::Number(self.integer(true)?),
            b'"' => {
                self.at += 1;
                Value::String(self.string()?)
            }
            b'[' => {
                self.descend()?;
                let items = self.list();
                self.depth += 1;
                Value::Array(items?)
            }
            b'{' => {
                self.descend()?;
                let entries = self.object();
                self.depth += 1;
                Value::Object(entries?)
            }
            _ => return Err(self.peek_error(EXPECTED_VALUE)),
        })
    }

    /// One level deeper, at the opening bracket (taken here).
    fn descend(&mut self) -> Result<(), Error> {
        self.depth -= 1;
        if self.depth == 0 {
            return Err(self.peek_error(RECURSION_LIMIT));
        }
        self.at += 1;
        Ok(())
    }

    /// The rest of a keyword whose first letter was taken.
    fn ident(&mut self, rest: &[u8]) -> Result<(), Error> {
        for &want in rest {
            match self.next() {
                None => return Err(self.error(EOF_VALUE)),
                Some(c) if c != want => return Err(self.error(EXPECTED_IDENT)),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The elements of an array after its `[`, through its `]`.
    fn list(&mut self) -> Result<Vec<Value>, Error> {
        let mut items = Vec::new();
        loop {
            let Some(c) = self.whitespace() else {
                return Err(self.peek_error(EOF_LIST));
            };
            if c == b']' {
                self.at += 1;
                return Ok(items);
            }
            if !items.is_empty() {
                if c != b',' {
                    return Err(self.peek_error(EXPECTED_LIST_COMMA_OR_END));
                }
                self.at += 1;
                match self.whitespace() {
                    Some(b']') => return Err(self.peek_error(TRAILING_COMMA)),
                    Some(_) => {}
                    None => return Err(self.peek_error(EOF_VALUE)),
                }
            }
            items.push(self.value()?);
        }
    }

    /// The entries of an object after its `{`, through its `}`: sorted by key, the last of
    /// a repeated key kept.
    fn object(&mut self) -> Result<Vec<(String, Value)>, Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        loop {
            let Some(c) = self.whitespace() else {
                return Err(self.peek_error(EOF_OBJECT));
            };
            if c == b'}' {
                self.at += 1;
                // stable, so a repeated key's entries stay in text order; each run then
                // keeps its last entry (swapped into the place of the first)
                crate::sort::sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
                entries.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        std::mem::swap(later, kept);
                    }
                    same
                });
                return Ok(entries);
            }
            if entries.is_empty() {
                if c != b'"' {
                    return Err(self.peek_error(KEY_MUST_BE_A_STRING));
                }
            } else if c == b',' {
                self.at += 1;
                match self.whitespace() {
                    Some(b'"') => {}
                    Some(b'}') => return Err(self.peek_error(TRAILING_COMMA)),
                    Some(_) => return Err(self.peek_error(KEY_MUST_BE_A_STRING)),
                    None => return Err(self.peek_error(EOF_VALUE)),
                }
            } else {
                return Err(self.peek_error(EXPECTED_OBJECT_COMMA_OR_END));
            }
            self.at += 1;
            let key = self.string()?;
            match self.whitespace() {
                Some(b':') => self.at += 1,
                Some(_) => return Err(self.peek_error(EXPECTED_COLON)),
                None => return Err(self.peek_error(EOF_OBJECT)),
            }
            let value = self.value()?;
            entries.push((key, value));
        }
    }

    /// A string after its opening quote, through its closing one.
    fn string(&mut self) -> Result<String, Error> {
        let mut out = String::new();
        loop {
            let start = self.at;
            while self
                .peek()
                .is_some_and(|c| c != b'"' && c != b'\\' && c >= 0x20)
            {
                self.at += 1;
            }
            let Some(c) = self.peek() else {
                return Err(self.error(EOF_STRING));
            };
            // `start` and `at` sit at ASCII bytes or the end, so on character boundaries
            out.push_str(self.text.get(start..self.at).unwrap_or_default());
            self.at += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => self.escape(&mut out)?,
                _ => return Err(self.error(CONTROL_CHARACTER)),
            }
        }
    }

    /// An escape after its backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), Error> {
        let Some(c) = self.next() else {
            return Err(self.error(EOF_STRING));
        };
        out.push(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(out),
            _ => return Err(self.error(INVALID_ESCAPE)),
        });
        Ok(())
    }

    /// `\uXXXX` after its `u`: a character of the basic plane, or a surrogate pair written as
    /// two escapes.
    fn unicode_escape(&mut self, out: &mut String) -> Result<(), Error> {
        let n = self.hex4()?;
        if (0xDC00..=0xDFFF).contains(&n) {
            return Err(self.error(LONE_LEADING_SURROGATE));
        }
        let code = if (0xD800..=0xDBFF).contains(&n) {
            for want in [b'\\', b'u'] {
                let Some(c) = self.next() else {
                    return Err(self.error(EOF_STRING));
                };
                if c != want {
                    return Err(self.error(UNEXPECTED_END_OF_HEX_ESCAPE));
                }
            }
            let low = self.hex4()?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(self.error(LONE_LEADING_SURROGATE));
            }
            (((u32::from(n) - 0xD800) << 10) | (u32::from(low) - 0xDC00)) + 0x1_0000
        } else {
            u32::from(n)
        };
        // every code outside the surrogates is a character
        out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, Error> {
        let Some(digits) = self.bytes.get(self.at..self.at + 4) else {
            self.at = self.bytes.len();
            return Err(self.error(EOF_STRING));
        };
        self.at += 4;
        let mut n = 0u16;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.error(INVALID_ESCAPE)),
            };
            n = (n << 4) | u16::from(v);
        }
        Ok(n)
    }

    /// A number after its sign (`positive` is false after a `-`).
    fn integer(&mut self, positive: bool) -> Result<Number, Error> {
        let Some(c) = self.next() else {
            return Err(self.error(EOF_VALUE));
        };
        let mut significand = match c {
            // one leading zero only
            b'0' if self.digit().is_some() => return Err(self.peek_error(INVALID_NUMBER)),
            b'0'..=b'9' => u64::from(c - b'0'),
            _ => return Err(self.error(INVALID_NUMBER)),
        };
        while let Some(d) = self.digit() {
            if overflows(significand, d) {
                return self.long_integer(positive, significand).map(Number::Float);
            }
            self.at += 1;
            significand = significand * 10 + u64::from(d);
        }
        Ok(match self.peek_or_null() {
            b'.' => Number::Float(self.decimal(positive, significand, 0)?),
            b'e' | b'E' => Number::Float(self.exponent(positive, significand, 0)?),
            _ if positive => Number::PosInt(significand),
            _ => {
                #[allow(clippy::cast_possible_wrap)]
                let negated = (significand as i64).wrapping_neg();
                if negated >= 0 {
                    // beyond i64::MIN, and -0
                    #[allow(clippy::cast_precision_loss)]
                    Number::Float(-(significand as f64))
                } else {
                    Number::NegInt(negated)
                }
            }
        })
    }

    /// An integer part too long for a `u64`: the digits beyond its first ones count as
    /// powers of ten.
    fn long_integer(&mut self, positive: bool, significand: u64) -> Result<f64, Error> {
        let mut exponent = 0i32;
        while self.digit().is_some() {
            self.at += 1;
            exponent += 1;
        }
        match self.peek_or_null() {
            b'.' => self.decimal(positive, significand, exponent),
            b'e' | b'E' => self.exponent(positive, significand, exponent),
            _ => self.scaled(positive, significand, exponent),
        }
    }

    /// The fraction at a `.` (taken here) and any exponent after it.
    fn decimal(&mut self, positive: bool, significand: u64, before: i32) -> Result<f64, Error> {
        self.at += 1;
        let mut significand = significand;
        let mut after = 0i32;
        while let Some(d) = self.digit() {
            if overflows(significand, d) {
                // further digits cannot change the value
                self.skip_digits();
                let exponent = before + after;
                return match self.peek_or_null() {
                    b'e' | b'E' => self.exponent(positive, significand, exponent),
                    _ => self.scaled(positive, significand, exponent),
                };
            }
            self.at += 1;
            significand = significand * 10 + u64::from(d);
            after -= 1;
        }
        if after == 0 {
            return Err(self.peek_error(if self.peek().is_some() {
                INVALID_NUMBER
            } else {
                EOF_VALUE
            }));
        }
        let exponent = before + after;
        match self.peek_or_null() {
            b'e' | b'E' => self.exponent(positive, significand, exponent),
            _ => self.scaled(positive, significand, exponent),
        }
    }

    /// The exponent at an `e` or `E` (taken here), added to `starting`.
    fn exponent(&mut self, positive: bool, significand: u64, starting: i32) -> Result<f64, Error> {
        self.at += 1;
        let positive_exp = match self.peek_or_null() {
            b'+' => {
                self.at += 1;
                true
            }
            b'-' => {
                self.at += 1;
                false
            }
            _ => true,
        };
        let Some(c) = self.next() else {
            return Err(self.error(EOF_VALUE));
        };
        if !c.is_ascii_digit() {
            return Err(self.error(INVALID_NUMBER));
        }
        let mut exp = i32::from(c - b'0');
        while let Some(d) = self.digit() {
            self.at += 1;
            let d = i32::from(d);
            if exp >= i32::MAX / 10 && (exp > i32::MAX / 10 || d > i32::MAX % 10) {
                // an exponent beyond i32: zero, or out of range
                if significand != 0 && positive_exp {
                    return Err(self.error(NUMBER_OUT_OF_RANGE));
                }
                self.skip_digits();
                return Ok(if positive { 0.0 } else { -0.0 });
            }
            exp = exp * 10 + d;
        }
        let exponent = if positive_exp {
            starting.saturating_add(exp)
        } else {
            starting.saturating_sub(exp)
        };
        self.scaled(positive, significand, exponent)
    }

    /// `significand × 10^exponent`, signed.
    fn scaled(&self, positive: bool, significand: u64, exponent: i32) -> Result<f64, Error> {
        #[allow(clippy::cast_precision_loss)]
        let mut f = significand as f64;
        let mut exponent = exponent;
        loop {
            match pow10(exponent.unsigned_abs()) {
                Some(pow) => {
                    if exponent >= 0 {
                        f *= pow;
                        if f.is_infinite() {
                            return Err(self.error(NUMBER_OUT_OF_RANGE));
                        }
                    } else {
                        f /= pow;
                    }
                    break;
                }
                None => {
                    if f == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return Err(self.error(NUMBER_OUT_OF_RANGE));
                    }
                    f /= 1e308;
                    exponent += 308;
                }
            }
        }
        Ok(if positive { f } else { -f })
    }
}

/// Whether `n * 10 + d` exceeds `u64::MAX`.
fn overflows(n: u64, d: u8) -> bool {
    n >= u64::MAX / 10 && (n > u64::MAX / 10 || u64::from(d) > u64::MAX % 10)
}

/// Powers of ten that `f64` represents exactly.
pub(crate) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `10^k` as the nearest `f64` (the value of the literal `1e{k}`), for `k` up to 308.
///
/// Up to 10^22 the power is exact. Beyond, `10^k = 5^k · 2^k`: `5^k` is computed exactly in
/// 32-bit limbs, its top 64 bits (with a sticky bit for any set bit below them) are rounded
/// once to 53 by the `u64` conversion, and scaling by a power of two is exact.
fn pow10(k: u32) -> Option<f64> {
    let k = usize::try_from(k).ok()?;
    if let Some(&p) = POW10.get(k) {
        return Some(p);
    }
    if k > 308 {
        return None;
    }
    let mut limbs: Vec<u32> = vec![1];
    for _ in 0..k {
        let mut carry = 0u64;
        for l in &mut limbs {
            let v = u64::from(*l) * 5 + carry;
            #[allow(clippy::cast_possible_truncation)]
            {
                *l = v as u32;
            }
            carry = v >> 32;
        }
        if carry > 0 {
            #[allow(clippy::cast_possible_truncation)]
            limbs.push(carry as u32);
        }
    }
    // 5^23 > 2^53, so there are at least two limbs; take the top three (or two) as one number
    let n = limbs.len();
    let (top, rest) = if n >= 3 {
        (
            (u128::from(limbs[n - 1]) << 64)
                | (u128::from(limbs[n - 2]) << 32)
                | u128::from(limbs[n - 3]),
            &limbs[..n - 3],
        )
    } else {
        (
            (u128::from(limbs[n - 1]) << 32) | u128::from(limbs[n - 2]),
            &limbs[..0],
        )
    };
    let bits = 128 - top.leading_zeros();
    let drop = bits.saturating_sub(64);
    let sticky = top & ((1u128 << drop) - 1) != 0 || rest.iter().any(|&l| l != 0);
    #[allow(clippy::cast_possible_truncation)]
    let mantissa = (top >> drop) as u64 | u64::from(sticky);
    #[allow(clippy::cast_precision_loss)]
    let rounded = mantissa as f64;
    // 2^(k + dropped bits): below 2^1000 for k ≤ 308, so a normal f64
    let scale = u64::try_from(k + (n.saturating_sub(3)) * 32).ok()? + u64::from(drop);
    Some(rounded * f64::from_bits((1023 + scale) << 52))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Number, Value, from_str, pow10};

    /// Ours as a `serde_json::Value`, floats compared by their bits (serde_json's `==` takes
    /// -0.0 for 0.0).
    fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (ours, theirs) {
            (Value::Null, J::Null) => true,
            (Value::Bool(a), J::Bool(b)) => a == b,
            (Value::String(a), J::String(b)) => a == b,
            (Value::Number(a), J::Number(b)) => match a {
                Number::PosInt(n) => b.is_u64() && b.as_u64() == Some(*n),
                Number::NegInt(n) => b.is_i64() && !b.is_u64() && b.as_i64() == Some(*n),
                Number::Float(f) => b.is_f64() && b.as_f64().map(f64::to_bits) == Some(f.to_bits()),
            },
            (Value::Array(a), J::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
            }
            (Value::Object(a), J::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
            }
            _ => false,
        }
    }

    /// Both readers give the same value, or both refuse with the same message.
    fn check(text: &str) -> Result<(), TestCaseError> {
        let ours = from_str(text);
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => prop_assert!(same(a, b), "{text:?}: ours {a:?}, serde_json {b:?}"),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string(), "{:?}", text),
            _ => prop_assert!(false, "{text:?}: ours {ours:?}, serde_json {theirs:?}"),
        }
        Ok(())
    }

    #[test]
    fn powers_of_ten_are_the_literals() {
        for k in 0..=308u32 {
            let literal: f64 = format!("1e{k}").parse().unwrap();
            assert_eq!(pow10(k), Some(literal), "10^{k}");
        }
        assert_eq!(pow10(309), None);
        assert_eq!(pow10(u32::MAX), None);
    }

    #[test]
    fn reads_values() {
        let v = from_str(
            r#" {"b": [1, -2, 2.5e3, true, null], "a": "x\u00e9\ud83d\ude00", "a": "y"} "#,
        )
        .unwrap();
        let Value::Object(m) = v else {
            panic!("not an object: {v:?}")
        };
        assert_eq!(m.iter().map(|e| &e.0).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m[0].1, Value::String("y".into()));
        assert_eq!(
            m[1].1,
            Value::Array(vec![
                Value::Number(Number::PosInt(1)),
                Value::Number(Number::NegInt(-2)),
                Value::Number(Number::Float(2500.0)),
                Value::Bool(true),
                Value::Null,
            ])
        );
        assert_eq!(from_str("-0").unwrap(), Value::Number(Number::Float(-0.0)));
        assert_eq!(
            from_str("18446744073709551616").unwrap(),
            Value::Number(Number::Float(18_446_744_073_709_551_616.0))
        );
    }

    #[test]
    fn messages_name_the_place() {
        for (text, message) in [
            ("", "EOF while parsing a value at line 1 column 0"),
            ("{\"a\" 1}", "expected `:` at line 1 column 6"),
            ("{\"a\": 1,}", "trailing comma at line 1 column 9"),
            ("[1 2]", "expected `,` or `]` at line 1 column 4"),
            ("{\n  \"a\": tru }", "expected ident at line 2 column 11"),
            ("\"\\x\"", "invalid escape at line 1 column 3"),
            ("1e400", "number out of range at line 1 column 5"),
            ("{} x", "trailing characters at line 1 column 4"),
            (
                "\"a\u{1}\"",
                "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 3",
            ),
        ] {
            assert_eq!(from_str(text).unwrap_err().to_string(), message, "{text:?}");
        }
        let deep = "[".repeat(200);
        assert_eq!(
            from_str(&deep).unwrap_err().to_string(),
            "recursion limit exceeded at line 1 column 128"
        );
    }

    #[test]
    fn extreme_numbers_as_serde_json() {
        for text in [
            "0e9999999999",
            "-0.0e+99999999999",
            "0.000e2147483648",
            "1e-99999999999",
            "-1e-2147483649",
            "1e99999999999",
            "1e2147483647",
            "1e-2147483648",
            "123456789012345678901234567890e-2147483600",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "4.9e-324",
            "2.4e-324",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "184467440737095516199.5",
        ] {
            check(text).unwrap();
        }
    }

    /// JSON-like text: valid values with random whitespace, numbers of every form, strings
    /// with escapes, and bytes that break them.
    fn json_text() -> impl Strategy<Value = String> {
        let ws = prop::sample::select(vec!["", "", " ", "\n", "\t", "\r\n", "  "]);
        let number = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| format!("{f:e}")),
            any::<f64>().prop_map(|f| format!("{f}")),
            (
                "-?",
                "[0-9]{1,30}",
                "(\\.[0-9]{0,30})?",
                "([eE][+-]?[0-9]{0,12})?"
            )
                .prop_map(|(s, i, f, e)| format!("{s}{i}{f}{e}")),
        ];
        let string = "([a-zA-Z0-9 é€😀]|\\\\[\"\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4}|\\\\u[dD][89abAB][0-9a-f]{2}\\\\u[dD][c-fC-F][0-9a-f]{2}|\\\\u[dD][89abAB][0-9a-f]{2})*"
            .prop_map(|s| format!("\"{s}\""));
        // keys that repeat, also as different text of the same string ("ab", "a\u0062")
        let key = prop_oneof![
            string.clone(),
            prop::sample::select(vec!["\"a\"", "\"ab\"", "\"a\\u0062\"", "\"\""])
                .prop_map(str::to_owned),
        ];
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            number,
            string.clone(),
        ];
        let value = leaf.prop_recursive(4, 48, 6, move |inner| {
            let ws = ws.clone();
            prop_oneof![
                (
                    prop::collection::vec((inner.clone(), ws.clone()), 0..6),
                    ws.clone()
                )
                    .prop_map(|(items, w)| {
                        let parts: Vec<String> = items
                            .into_iter()
                            .map(|(v, w2)| format!("{w2}{v}{w2}"))
                            .collect();
                        format!("[{w}{}]", parts.join(","))
                    }),
                (
                    prop::collection::vec((key.clone(), inner, ws.clone()), 0..6),
                    ws.clone()
                )
                    .prop_map(|(entries, w)| {
                        let parts: Vec<String> = entries
                            .into_iter()
                            .map(|(k, v, w2)| format!("{w2}{k}{w2}:{w}{v}{w2}"))
                            .collect();
                        format!("{{{w}{}}}", parts.join(","))
                    }),
            ]
        });
        (ws_strategy(), value, ws_strategy()).prop_map(|(a, v, b)| format!("{a}{v}{b}"))
    }

    fn ws_strategy() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", " ", "\n", " \n\t"])
    }

    /// Breaks JSON text: cuts it, deletes, duplicates or inserts bytes that matter to JSON
    /// (at character boundaries, so it stays a `str`).
    fn damaged() -> impl Strategy<Value = String> {
        let edit = (
            any::<prop::sample::Index>(),
            0..4u8,
            prop::sample::select(vec![
                "{",
                "}",
                "[",
                "]",
                "\"",
                ",",
                ":",
                "\\",
                "\\u",
                "\\ud800",
                "\\udc00",
                "-",
                "+",
                ".",
                "e",
                "E",
                "0",
                "9",
                "n",
                "t",
                "f",
                " ",
                "\n",
                "\u{1}",
                "\u{1f}",
                "x",
                "é",
                "1e400",
                "1e-400",
                "99999999999999999999",
            ]),
        );
        (json_text(), prop::collection::vec(edit, 1..4)).prop_map(|(mut text, edits)| {
            for (at, op, s) in edits {
                let bounds: Vec<usize> = (0..=text.len())
                    .filter(|&i| text.is_char_boundary(i))
                    .collect();
                let i = bounds[at.index(bounds.len())];
                match op {
                    0 => text.truncate(i),
                    1 => {
                        let end = bounds.iter().copied().find(|&j| j > i).unwrap_or(i);
                        text.replace_range(i..end, "");
                    }
                    _ => text.insert_str(i, s),
                }
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn valid_text_reads_as_serde_json_reads_it(text in json_text()) {
            check(&text)?;
        }

        #[test]
        fn damaged_text_fails_as_serde_json_fails(text in damaged()) {
            check(&text)?;
        }

        #[test]
        fn any_text_of_json_bytes(text in "[{}\\[\\]\",:\\\\u0-9a-fA-F.eE+\\- \n\tnrulsx\u{1}é]{0,40}") {
            check(&text)?;
        }

        #[test]
        fn numbers_read_as_serde_json_reads_them(
            sign in "-?",
            int in "(0|[1-9][0-9]{0,40}|0\\.0{1,5})",
            frac in "(\\.[0-9]{1,40})?",
            exp in "([eE][+-]?[0-9]{1,4}|[eE][+-]?[0-9]{9,12})?",
        ) {
            check(&format!("{sign}{int}{frac}{exp}"))?;
        }
    }
}
