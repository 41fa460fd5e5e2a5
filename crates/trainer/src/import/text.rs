//! Value clean-up shared by the readers: textual normalisation (as Personalize does it), id and
//! categorical checks, numbers and booleans.

/// Longest id Personalize accepts (characters).
pub const MAX_ID_CHARS: usize = 256;
/// Longest categorical value or impression list (characters).
pub const MAX_CATEGORICAL_CHARS: usize = 1000;
/// Textual values are truncated to this many characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// Strip HTML/XML tags and entities, collapse whitespace (newlines, tabs, repeated spaces) to
/// one space and trim; then truncate to [`MAX_TEXT_CHARS`] characters. Returns the text and
/// whether it was truncated.
///
/// Tags are `<` followed by a letter, `/`, `!` or `?`, up to the next `>`; they become a space.
/// Known named entities and numeric entities are decoded (the decoded character is not parsed
/// again); other named entities are removed.
#[must_use]
pub fn normalise_text(s: &str) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let push = |out: &mut String, c: char, pending: &mut bool| {
        if c.is_whitespace() {
            *pending = !out.is_empty();
        } else {
            if *pending {
                out.push(' ');
                *pending = false;
            }
            out.push(c);
        }
    };
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        if c == '<'
            && after
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
            && let Some(end) = after.find('>')
        {
            push(&mut out, ' ', &mut pending_space);
            rest = &after[end + 1..];
            continue;
        }
        if c == '&'
            && let Some((decoded, len)) = entity(after)
        {
            if let Some(d) = decoded {
                push(&mut out, d, &mut pending_space);
            }
            rest = &after[len..];
            continue;
        }
        push(&mut out, c, &mut pending_space);
        rest = after;
    }
    truncate_chars(out, MAX_TEXT_CHARS)
}

fn truncate_chars(mut s: String, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((at, _)) => {
            s.truncate(at);
            let trimmed = s.trim_end().len();
            s.truncate(trimmed);
            (s, true)
        }
        None => (s, false),
    }
}

/// Parse an entity body after `&` (`amp;`, `#39;`, `#x27;`): the decoded character (`None` for
/// an unknown named entity, which is removed) and the length consumed, or `None` if `s` does
/// not start with an entity.
fn entity(s: &str) -> Option<(Option<char>, usize)> {
    let end = s.get(..s.len().min(12))?.find(';')?;
    let body = &s[..end];
    let decoded = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        Some(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER))
    } else {
        if body.len() < 2 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        match body {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => None,
        }
    };
    Some((decoded, end + 1))
}

/// Escape `&`, `<` and `>` so that [`normalise_text`] gives `s` back (used when writing).
#[must_use]
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Check an id: non-empty (after trimming, done by the reader) and at most 256 characters.
pub(crate) fn check_id(value: &str, field: &str) -> Result<(), (super::DropReason, String)> {
    if value.is_empty() {
        return Err((super::DropReason::MissingField, format!("{field} is empty")));
    }
    let n = value.chars().count();
    if n > MAX_ID_CHARS {
        return Err((
            super::DropReason::IdTooLong,
            format!("{field} is {n} characters long; ids may have at most {MAX_ID_CHARS}"),
        ));
    }
    Ok(())
}

/// Split a multi-valued categorical value (`a|b|c`): trimmed, empty parts removed.
pub(crate) fn split_categorical(value: &str) -> impl Iterator<Item = &str> {
    value.split('|').map(str::trim).filter(|v| !v.is_empty())
}

/// Check a categorical value's length.
pub(crate) fn check_categorical(
    value: &str,
    field: &str,
) -> Result<(), (super::DropReason, String)> {
    let n = value.chars().count();
    if n > MAX_CATEGORICAL_CHARS {
        return Err((
            super::DropReason::ValueTooLong,
            format!("{field} value is {n} characters long; the limit is {MAX_CATEGORICAL_CHARS}"),
        ));
    }
    Ok(())
}

/// Parse a finite number.
pub(crate) fn parse_number(value: &str) -> Option<f64> {
    value.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parse `true`/`false` (case-insensitive; Personalize writes them lower-case).
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_entities_and_whitespace() {
        let (t, cut) =
            normalise_text("  <p>Hello&nbsp;<b>world</b></p>\n\t&amp; more&hellip; &#39;x&#x27; ");
        assert_eq!(t, "Hello world & more 'x'");
        assert!(!cut);
        assert_eq!(normalise_text("a < b && c > d").0, "a < b && c > d");
        assert_eq!(normalise_text("&lt;b&gt;bold&lt;/b&gt;").0, "<b>bold</b>");
        assert_eq!(normalise_text("unclosed <tag").0, "unclosed <tag");
    }

    #[test]
    fn escaping_round_trips() {
        for s in ["<b>bold</b>", "a & b", "&amp;", "x <y> z", "plain"] {
            let (norm, _) = normalise_text(s);
            assert_eq!(normalise_text(&escape_text(&norm)).0, norm);
        }
    }

    #[test]
    fn truncates_long_text() {
        let long = "é".repeat(MAX_TEXT_CHARS + 5);
        let (t, cut) = normalise_text(&long);
        assert!(cut);
        assert_eq!(t.chars().count(), MAX_TEXT_CHARS);
    }

    #[test]
    fn ids_and_values() {
        assert!(check_id("a", "ITEM_ID").is_ok());
        assert!(check_id("", "ITEM_ID").is_err());
        assert!(check_id(&"x".repeat(257), "ITEM_ID").is_err());
        assert!(check_id(&"x".repeat(256), "ITEM_ID").is_ok());
        assert_eq!(
            split_categorical(" a | b||c ").collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_number("inf"), None);
    }
}
