//! Per-user tokens (feature `user-token`, for servers: `edgerec serve`, the Worker and the
//! `edgerec user-token` command; never in the npm package). A storefront's backend mints one
//! for its signed-in shopper; `GET /users/{userId}/profile` hands that user's profile only to a
//! request that carries a valid token for that user.
//!
//! ```text
//! v1.<base64url(userId)>.<expiry>.<base64url(HMAC-SHA256(secret, "edgerec-user-token\nv1\n" + userId + "\n" + expiry))>
//! ```
//!
//! `expiry` is Unix seconds in decimal; base64url has no padding; the secret's bytes are the
//! HMAC key. A token is valid while `now < expiry`. The MAC is compared in constant time.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The token version this build mints and reads.
pub const TOKEN_VERSION: &str = "v1";
/// What the MAC covers before the user id and expiry (domain separation).
pub const MAC_PREFIX: &str = "edgerec-user-token\nv1\n";
/// Longest token accepted.
pub const MAX_TOKEN_LEN: usize = 2048;
/// Shortest secret accepted: a shorter key makes forging a matter of guessing it.
pub const MIN_SECRET_LEN: usize = 16;

/// Why a token was not accepted (or could not be minted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed user token: {0}")]
    Malformed(&'static str),
    #[error("the user token's signature does not match (forged, or signed with another secret)")]
    BadSignature,
    #[error("the user token expired at {expiry} (now {now})")]
    Expired { expiry: u64, now: u64 },
    #[error("the user-token secret must be at least {MIN_SECRET_LEN} bytes")]
    WeakSecret,
}

/// A token that verified: whose it is and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserToken {
    pub user_id: String,
    pub expiry: u64,
}

fn mac(secret: &[u8], user_id: &str, expiry: u64) -> Result<Hmac<Sha256>, TokenError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(TokenError::WeakSecret);
    }
    let mut m = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| TokenError::WeakSecret)?;
    m.update(MAC_PREFIX.as_bytes());
    m.update(user_id.as_bytes());
    m.update(b"\n");
    m.update(expiry.to_string().as_bytes());
    Ok(m)
}

/// A token for `user_id` valid until `expiry` (Unix seconds).
pub fn mint(secret: &[u8], user_id: &str, expiry: u64) -> Result<String, TokenError> {
    let tag = mac(secret, user_id, expiry)?.finalize().into_bytes();
    Ok(format!(
        "{TOKEN_VERSION}.{}.{expiry}.{}",
        Base64UrlUnpadded::encode_string(user_id.as_bytes()),
        Base64UrlUnpadded::encode_string(&tag)
    ))
}

/// Checks `token` at time `now` (Unix seconds): its form, then its signature, then its expiry.
pub fn verify(secret: &[u8], token: &str, now: u64) -> Result<UserToken, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed("longer than a token can be"));
    }
    let mut parts = token.split('.');
    let (Some(version), Some(user), Some(expiry), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Malformed(
            "expected v1.<user>.<expiry>.<signature>",
        ));
    };
    if version != TOKEN_VERSION {
        return Err(TokenError::Malformed("unknown token version"));
    }
    let user_id = Base64UrlUnpadded::decode_vec(user)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|u| !u.is_empty() && u.chars().count() <= crate::request::limits::MAX_ID_LEN)
        .ok_or(TokenError::Malformed(
            "the user part is not base64url of a user id",
        ))?;
    let canonical = !expiry.is_empty()
        && expiry.len() <= 20
        && expiry.bytes().all(|b| b.is_ascii_digit())
        && (expiry == "0" || !expiry.starts_with('0'));
    let expiry = expiry
        .parse::<u64>()
        .ok()
        .filter(|_| canonical)
        .ok_or(TokenError::Malformed(
            "the expiry is not Unix seconds in decimal",
        ))?;
    let tag = Base64UrlUnpadded::decode_vec(tag)
        .map_err(|_| TokenError::Malformed("the signature is not base64url"))?;
    mac(secret, &user_id, expiry)?
        .verify_slice(&tag)
        .map_err(|_| TokenError::BadSignature)?;
    if now >= expiry {
        return Err(TokenError::Expired { expiry, now });
    }
    Ok(UserToken { user_id, expiry })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef-test-secret";

    #[test]
    fn round_trip_and_expiry() {
        let t = mint(SECRET, "shopper@example.com", 1_000).unwrap_or_default();
        assert_eq!(
            verify(SECRET, &t, 999),
            Ok(UserToken {
                user_id: "shopper@example.com".into(),
                expiry: 1_000
            })
        );
        assert_eq!(
            verify(SECRET, &t, 1_000),
            Err(TokenError::Expired {
                expiry: 1_000,
                now: 1_000
            })
        );
    }

    /// The layout of the contract, checked against an independent HMAC-SHA256 (RFC 4231 test
    /// case 2's key and message give the published tag).
    #[test]
    fn layout_and_known_answer() {
        let tag = Hmac::<Sha256>::new_from_slice(b"Jefe")
            .map(|mut m| {
                m.update(b"what do ya want for nothing?");
                m.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let t = mint(SECRET, "u1", 42).unwrap_or_default();
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts[..3], ["v1", "dTE", "42"]);
        let mut m = Hmac::<Sha256>::new_from_slice(SECRET).expect("key");
        m.update(b"edgerec-user-token\nv1\nu1\n42");
        assert_eq!(
            parts[3],
            Base64UrlUnpadded::encode_string(&m.finalize().into_bytes())
        );
    }

    /// The last character of a 32-byte MAC carries two unused bits; a token with them set must
    /// not verify, or one token could be written four ways (a fuzzing find in an earlier decoder,
    /// `tests/fuzz-regressions/user_token/changed-padding-bits`).
    #[test]
    fn only_the_canonical_text_of_a_token_verifies() {
        const A: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let t = mint(SECRET, "alice", 2_000).unwrap_or_default();
        let (head, tag) = t.rsplit_once('.').unwrap_or_default();
        let last = A.find(tag.chars().last().unwrap_or('A')).unwrap_or(0);
        for bits in 1..4 {
            let other = char::from(A.as_bytes()[last ^ bits]);
            let forged = format!("{head}.{}{other}", &tag[..tag.len() - 1]);
            assert!(
                matches!(
                    verify(SECRET, &forged, 1_000),
                    Err(TokenError::Malformed(_))
                ),
                "{forged}"
            );
        }
        assert_eq!(verify(SECRET, &format!("{t}="), 1_000).ok(), None);
        assert_eq!(
            verify(SECRET, &t, 1_000).map(|u| u.user_id).as_deref(),
            Ok("alice")
        );
        let input = include_bytes!("../tests/fuzz-regressions/user_token/changed-padding-bits");
        assert!(verify(SECRET, &String::from_utf8_lossy(input), 1_000).is_err());
    }

    #[test]
    fn forgeries_are_refused() {
        let t = mint(SECRET, "u1", 1_000).unwrap_or_default();
        // another user in the same signature
        let other = t.replacen("dTE", &Base64UrlUnpadded::encode_string(b"u2"), 1);
        assert_eq!(verify(SECRET, &other, 0), Err(TokenError::BadSignature));
        // a later expiry
        let later = t.replacen(".1000.", ".9000.", 1);
        assert_eq!(verify(SECRET, &later, 0), Err(TokenError::BadSignature));
        // another secret
        assert_eq!(
            verify(b"another-secret-of-16+", &t, 0),
            Err(TokenError::BadSignature)
        );
        // one character of the signature changed
        let (head, tag) = t.rsplit_once('.').unwrap_or_default();
        let flip = if tag.starts_with('A') { "B" } else { "A" };
        let altered = format!("{head}.{flip}{}", &tag[1..]);
        assert_eq!(verify(SECRET, &altered, 0), Err(TokenError::BadSignature));
        // a shorter one
        let short = format!("{head}.{}", &tag[..20]);
        assert_eq!(verify(SECRET, &short, 0), Err(TokenError::BadSignature));
    }

    #[test]
    fn malformed_tokens_name_the_problem() {
        for bad in [
            "",
            "v1",
            "v1.dTE.42",
            "v1.dTE.42.x.y",
            "v2.dTE.42.AAAA",
            "v1.***.42.AAAA",
            "v1..42.AAAA",
            "v1.dTE.-1.AAAA",
            "v1.dTE.042.AAAA",
            "v1.dTE.99999999999999999999999.AAAA",
            "v1.dTE.42.***",
        ] {
            assert!(
                matches!(verify(SECRET, bad, 0), Err(TokenError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            verify(SECRET, &"x".repeat(MAX_TOKEN_LEN + 1), 0),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(mint(b"short", "u1", 1), Err(TokenError::WeakSecret));
        let t = mint(SECRET, "u1", 10).unwrap_or_default();
        assert_eq!(verify(b"", &t, 0), Err(TokenError::WeakSecret));
    }
}
