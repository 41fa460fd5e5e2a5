//! Per-user tokens (`edgerec_core::user_token`, which `edgerec serve` and the Worker both use):
//! any text may be refused, none may panic, and:
//! - a token that verifies is exactly the canonical text minted for its user and expiry (one
//!   token has one spelling: no padding, no stray bits, no leading zeros);
//! - a token minted here from the documented format (`v1.<base64url(userId)>.<expiry>.<mac>`,
//!   HMAC-SHA256 written out independently) for the input's user id verifies to that user until
//!   it expires, and not with another secret, after expiry, or with any one character of its
//!   signature changed.
//!
//! Input: the token text to verify; its bytes (lossily) are also the user id minted for.
//! Crashers go to `crates/core/tests/fuzz-regressions/user_token/`.

#![no_main]

use base64ct::{Base64UrlUnpadded, Encoding};
use edgerec_core::user_token::{self, TokenError};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const SECRET: &[u8] = b"user-token-secret";
const NOW: u64 = 1_767_225_600;

fn mint(secret: &[u8], user: &str, expiry: u64) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    m.update(format!("edgerec-user-token\nv1\n{user}\n{expiry}").as_bytes());
    format!(
        "v1.{}.{expiry}.{}",
        Base64UrlUnpadded::encode_string(user.as_bytes()),
        Base64UrlUnpadded::encode_string(&m.finalize().into_bytes())
    )
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // verification: anything may be refused; only the canonical text minted with the secret
    // names a user
    if let Ok(t) = user_token::verify(SECRET, &text, NOW) {
        assert_eq!(mint(SECRET, &t.user_id, t.expiry), text);
    }
    // mint → verify (user ids are 1..=256 characters)
    if text.is_empty() || text.chars().count() > 256 {
        return;
    }
    let expiry = NOW + 60 + u64::from(data[0]);
    let token = mint(SECRET, &text, expiry);
    assert_eq!(
        user_token::mint(SECRET, &text, expiry).as_deref(),
        Ok(&*token)
    );
    assert_eq!(
        user_token::verify(SECRET, &token, NOW).map(|t| t.user_id),
        Ok(text.clone().into_owned())
    );
    assert_eq!(
        user_token::verify(b"another-secret-of-16+", &token, NOW),
        Err(TokenError::BadSignature)
    );
    assert!(matches!(
        user_token::verify(SECRET, &token, expiry),
        Err(TokenError::Expired { .. })
    ));
    let (head, mac) = token
        .rsplit_once('.')
        .expect("a minted token has four parts");
    let at = usize::from(data[data.len() - 1]) % mac.len();
    let changed: String = mac
        .char_indices()
        .map(|(i, c)| {
            if i == at {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    assert!(user_token::verify(SECRET, &format!("{head}.{changed}"), NOW).is_err());
});
