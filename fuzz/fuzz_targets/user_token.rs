//! Per-user tokens (`worker/src/user_token.rs`, the module the Worker compiles): any text may be
//! refused, none may panic, and:
//! - its base64url decoder agrees with the `base64ct` crate on every canonical unpadded input,
//!   and what it decodes encodes back to text that decodes the same;
//! - a token minted here from the documented format (`v1.<base64url(userId)>.<expiry>.<mac>`)
//!   for the input's user id verifies to that user until it expires, and not with another
//!   secret, after expiry, or with any one character of its signature changed.
//!
//! Input: the token text to verify; its bytes (lossily) are also the user id minted for.
//! Crashers go to `crates/core/tests/fuzz-regressions/user_token/`.

#![no_main]

#[path = "../../worker/src/sigv4.rs"]
#[allow(dead_code)]
mod sigv4;
#[path = "../../worker/src/user_token.rs"]
mod user_token;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use user_token::TokenError;

const SECRET: &[u8] = b"user-token-secret";
const NOW: f64 = 1_767_225_600.0;

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
    // verification: anything may be refused; only a token minted with the secret names a
    // user (the text may carry base64 padding, which the format tolerates)
    if let Ok(user) = user_token::verify(&text, SECRET, NOW) {
        let expiry = text
            .split('.')
            .nth(2)
            .and_then(|e| e.parse().ok())
            .unwrap_or(0);
        assert_eq!(mint(SECRET, &user, expiry), text.replace('=', ""));
    }
    // base64url against base64ct
    let ours = user_token::base64url_decode(&text);
    if let Ok(theirs) = Base64UrlUnpadded::decode_vec(&text) {
        assert_eq!(ours.as_deref(), Some(&theirs[..]), "decoding {text:?}");
    }
    if let Some(bytes) = &ours {
        let again = Base64UrlUnpadded::encode_string(bytes);
        assert_eq!(user_token::base64url_decode(&again).as_ref(), Some(bytes));
    }
    // mint → verify
    if text.is_empty() {
        return;
    }
    let expiry = NOW as u64 + 60 + u64::from(data[0]);
    let token = mint(SECRET, &text, expiry);
    assert_eq!(
        user_token::verify(&token, SECRET, NOW).as_deref(),
        Ok(&*text)
    );
    assert_eq!(
        user_token::verify(&token, b"another-secret", NOW),
        Err(TokenError::BadSignature)
    );
    assert_eq!(
        user_token::verify(&token, SECRET, expiry as f64),
        Err(TokenError::Expired)
    );
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
    assert!(user_token::verify(&format!("{head}.{changed}"), SECRET, NOW).is_err());
});
