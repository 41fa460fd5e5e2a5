//! Per-user tokens: a storefront's backend signs in a shopper and mints a token that lets that
//! shopper's browser read that shopper's own answers (and nothing of anyone else) straight from
//! the Worker. The format is shared with `edgerec serve`:
//!
//! ```text
//! v1.<base64url(userId)>.<expiry, Unix seconds>.<base64url(HMAC-SHA256(USER_TOKEN_SECRET,
//!     "edgerec-user-token\nv1\n" + userId + "\n" + expiry))>
//! ```
//!
//! sent as `Authorization: Bearer <token>`. Base64url is unpadded (a trailing `=` is tolerated).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::sigv4::constant_time_eq;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
}

/// The user a valid, unexpired token names.
pub fn verify(token: &str, secret: &[u8], now_seconds: f64) -> Result<String, TokenError> {
    let mut parts = token.split('.');
    let (Some("v1"), Some(user), Some(expiry), Some(mac), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Malformed);
    };
    let user = base64url_decode(user)
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|u| !u.is_empty())
        .ok_or(TokenError::Malformed)?;
    if expiry.is_empty() || !expiry.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TokenError::Malformed);
    }
    let expires_at: u64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
    let mac = base64url_decode(mac).ok_or(TokenError::Malformed)?;
    let Ok(mut expected) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
        return Err(TokenError::BadSignature);
    };
    expected.update(format!("edgerec-user-token\nv1\n{user}\n{expiry}").as_bytes());
    if !constant_time_eq(&expected.finalize().into_bytes(), &mac) {
        return Err(TokenError::BadSignature);
    }
    if (expires_at as f64) <= now_seconds {
        return Err(TokenError::Expired);
    }
    Ok(user)
}

/// Decodes unpadded (or padded) base64url; `None` on any other character.
pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A single leftover character cannot encode a byte, and the bits left over must be zero:
    // otherwise several texts would decode to the same bytes, and one token could be written
    // several ways.
    (bits < 6 && acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::base64url;

    fn mint(secret: &[u8], user: &str, expiry: u64) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| {
            unreachable!("HMAC takes any key length");
        });
        mac.update(format!("edgerec-user-token\nv1\n{user}\n{expiry}").as_bytes());
        format!(
            "v1.{}.{expiry}.{}",
            base64url(user.as_bytes()),
            base64url(&mac.finalize().into_bytes())
        )
    }

    #[test]
    fn round_trip_and_refusals() {
        let secret = b"user token secret";
        let t = mint(secret, "alice@example.com", 2_000);
        assert_eq!(
            verify(&t, secret, 1_000.0).as_deref(),
            Ok("alice@example.com")
        );
        assert_eq!(verify(&t, secret, 2_000.0), Err(TokenError::Expired));
        assert_eq!(verify(&t, b"other", 1_000.0), Err(TokenError::BadSignature));
        // Another user's name with this user's signature.
        let parts: Vec<&str> = t.split('.').collect();
        let swapped = format!("v1.{}.{}.{}", base64url(b"bob"), parts[2], parts[3]);
        assert_eq!(
            verify(&swapped, secret, 1_000.0),
            Err(TokenError::BadSignature)
        );
        let later = format!("v1.{}.9999999999.{}", parts[1], parts[3]);
        assert_eq!(
            verify(&later, secret, 1_000.0),
            Err(TokenError::BadSignature)
        );
        for bad in [
            "",
            "v1",
            "v2.YQ.1.YQ",
            "v1.YQ.1",
            "v1..1.YQ",
            "v1.YQ.x.YQ",
            "v1.YQ.1.Y!",
        ] {
            assert_eq!(
                verify(bad, secret, 0.0),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
    }

    /// Fuzz regression (`crates/core/tests/fuzz-regressions/user_token/changed-padding-bits`):
    /// the last character of a 32-byte MAC carries two unused bits, and a token with them set
    /// verified as well, so one token could be written four ways.
    #[test]
    fn only_the_canonical_text_of_a_token_verifies() {
        let secret = b"user-token-secret";
        let t = mint(secret, "alice", 2_000);
        let (head, mac) = t.rsplit_once('.').unwrap_or_default();
        let last = mac.chars().last().unwrap_or('A');
        const A: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let v = A.find(last).unwrap_or(0);
        for pad in 1..4 {
            let other = A.as_bytes()[(v & !3) | pad ^ (v & 3)] as char;
            let forged = format!("{head}.{}{other}", &mac[..mac.len() - 1]);
            assert_eq!(
                verify(&forged, secret, 1_000.0),
                Err(TokenError::Malformed),
                "{forged}"
            );
        }
        assert_eq!(verify(&t, secret, 1_000.0).as_deref(), Ok("alice"));
        // "Zg" is "f"; "Zh" has a leftover bit set
        assert_eq!(base64url_decode("Zh"), None);
        assert_eq!(base64url_decode("Zm9"), None);
        assert_eq!(base64url_decode("Zm8"), Some(b"fo".to_vec()));
        let input = include_bytes!(
            "../../crates/core/tests/fuzz-regressions/user_token/changed-padding-bits"
        );
        assert!(!input.is_empty());
    }

    #[test]
    fn base64url_decodes() {
        for s in [&b""[..], b"f", b"fo", b"foo", b"foob", &[0xfb, 0xff, 0x00]] {
            assert_eq!(base64url_decode(&base64url(s)).as_deref(), Some(s));
        }
        assert_eq!(base64url_decode("Zm8="), Some(b"fo".to_vec()));
        assert_eq!(base64url_decode("Z"), None);
        assert_eq!(base64url_decode("Zm+v"), None);
    }
}
