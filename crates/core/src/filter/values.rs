//! `filterValues`: the request's parameter values, `NAME → "\"v1\",\"v2\""`.

use std::collections::BTreeMap;

use crate::error::FilterError;

/// At most this many `filterValues` keys per request.
pub const MAX_FILTER_VALUES: usize = 25;
/// A `filterValues` key is at most this long.
pub const MAX_FILTER_KEY_LEN: usize = 50;
/// A `filterValues` value is at most this long (characters).
pub const MAX_FILTER_VALUE_LEN: usize = 1000;

/// Checks Personalize's request-side limits on `filterValues` and that every value is a
/// well-formed list (see [`parse_value_list`]).
///
/// # Errors
/// [`FilterError::InvalidFilterValues`] naming the offending key (reported by the engine as an
/// `InvalidInputException`).
pub fn validate_filter_values(values: &BTreeMap<String, String>) -> Result<(), FilterError> {
    if values.len() > MAX_FILTER_VALUES {
        return Err(FilterError::InvalidFilterValues {
            key: String::new(),
            message: format!(
                "{} keys exceed the maximum of {MAX_FILTER_VALUES}",
                values.len()
            ),
        });
    }
    for (k, v) in values {
        let key_ok = !k.is_empty()
            && k.len() <= MAX_FILTER_KEY_LEN
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok {
            return Err(FilterError::InvalidFilterValues {
                key: k.clone(),
                message: format!(
                    "keys must match [A-Za-z0-9_]+ and be at most {MAX_FILTER_KEY_LEN} characters"
                ),
            });
        }
        if v.chars().count() > MAX_FILTER_VALUE_LEN {
            return Err(FilterError::InvalidFilterValues {
                key: k.clone(),
                message: format!("value exceeds the maximum of {MAX_FILTER_VALUE_LEN} characters"),
            });
        }
        parse_value_list(v).map_err(|message| FilterError::InvalidFilterValues {
            key: k.clone(),
            message,
        })?;
    }
    Ok(())
}

/// Splits a parameter value into its values.
///
/// The documented form is a comma-separated list of double-quoted values:
/// `"\"horror\",\"comedy\""` → `["horror", "comedy"]`. Inside quotes, `\"` and `\\` escape a quote
/// and a backslash. Unquoted entries (`10`, `click`) are accepted too and trimmed, which is handy for
/// numbers. An empty value or an empty entry is an error.
///
/// # Errors
/// A message saying what is malformed.
pub fn parse_value_list(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut v = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("unterminated quoted value (missing closing '\"')".into()),
                    Some('"') => break,
                    Some('\\') if matches!(chars.peek(), Some('"' | '\\')) => {
                        v.extend(chars.next());
                    }
                    Some(c) => v.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            match chars.next() {
                None => {
                    out.push(v);
                    return Ok(out);
                }
                Some(',') => out.push(v),
                Some(c) => {
                    return Err(format!(
                        "expected ',' or the end after a quoted value, found '{c}'"
                    ));
                }
            }
        } else {
            let mut ended = true;
            for c in chars.by_ref() {
                if c == ',' {
                    ended = false;
                    break;
                }
                if c == '"' {
                    return Err(
                        "a value must be fully quoted (\"value\") or not quoted at all".into(),
                    );
                }
                v.push(c);
            }
            let t = v.trim();
            if t.is_empty() {
                return Err(if out.is_empty() && ended {
                    "must hold at least one value, e.g. \"\\\"value\\\"\"".into()
                } else {
                    "empty entry in the comma-separated list".into()
                });
            }
            out.push(t.to_string());
            if ended {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_form_and_bare_values() {
        assert_eq!(
            parse_value_list(r#""horror","comedy""#).unwrap(),
            vec!["horror", "comedy"]
        );
        assert_eq!(
            parse_value_list(r#" "a, b" , "c\"d" "#).unwrap(),
            vec!["a, b", "c\"d"]
        );
        assert_eq!(parse_value_list("10").unwrap(), vec!["10"]);
        assert_eq!(
            parse_value_list(r#"click, "view""#).unwrap(),
            vec!["click", "view"]
        );
        assert_eq!(parse_value_list(r#""""#).unwrap(), vec![""]);
        for bad in ["", "  ", r#""a"#, r#""a" b"#, "a,,b", "a,", r#"a"b"#] {
            assert!(parse_value_list(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits() {
        let mut m = BTreeMap::new();
        m.insert("GENRE".to_string(), "\"a\"".to_string());
        assert!(validate_filter_values(&m).is_ok());
        m.insert("BAD-KEY".to_string(), "\"a\"".to_string());
        assert!(validate_filter_values(&m).is_err());
        m.remove("BAD-KEY");
        m.insert("LONG".to_string(), "x".repeat(1001));
        let e = validate_filter_values(&m).unwrap_err();
        assert!(e.to_string().contains("filterValues.LONG"), "{e}");
        m.remove("LONG");
        for i in 0..25 {
            m.insert(format!("K{i}"), "1".into());
        }
        assert!(validate_filter_values(&m).is_err());
    }
}
