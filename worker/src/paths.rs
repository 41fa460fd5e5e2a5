//! Ids carried in request paths.

/// The user id of a `/users/{userId}/profile` path, still percent-encoded (`None` for any
/// other path).
pub fn user_segment(path: &str) -> Option<&str> {
    path.strip_prefix("/users/")?
        .strip_suffix("/profile")
        .filter(|s| !s.is_empty() && !s.contains('/'))
}

/// Percent-decodes a path segment to UTF-8 (`%2F` stays inside the id).
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_ids() {
        assert_eq!(user_segment("/users/u1/profile"), Some("u1"));
        assert_eq!(user_segment("/users/a%2Fb/profile"), Some("a%2Fb"));
        assert_eq!(user_segment("/users//profile"), None);
        assert_eq!(user_segment("/users/a/b/profile"), None);
        assert_eq!(user_segment("/users"), None);
        assert_eq!(percent_decode("a%2Fb%20c").as_deref(), Some("a/b c"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("%FF"), None);
    }
}
