//! Signed models. With `MODEL_PUBLIC_KEY` set (the base64 of one or more raw Ed25519 public
//! keys, separated by commas or spaces, as `edgerec keygen` prints them), a model is accepted by
//! `PUT /model` and loaded from R2 only when it carries a signature by one of those keys over
//! its bytes as they are. The signature section's layout is the core's
//! (`edgerec_core::format::signature`, `docs/format.md`); the signature itself is checked by
//! WebCrypto (`crypto.subtle.importKey('raw', …, 'Ed25519')` and `verify`), so the Worker's wasm
//! holds no Ed25519 code. Without `MODEL_PUBLIC_KEY` models are not checked.

use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use edgerec_core::format::signature::{self, KEY_ID_LEN, SIGNATURE_ED25519};
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use worker::Env;

use crate::config;

/// One trusted public key and its key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    raw: [u8; 32],
    id: [u8; KEY_ID_LEN],
}

/// Why a model was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `MODEL_PUBLIC_KEY` is set but holds something that is not a key: every model is refused.
    Config(String),
    Unsigned,
    Malformed(String),
    UnknownKey {
        key_id: String,
        trusted: Vec<String>,
    },
    Invalid {
        key_id: String,
    },
    /// WebCrypto failed (not a verdict on the model).
    Crypto(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Config(m) => write!(
                f,
                "MODEL_PUBLIC_KEY is not usable ({m}), so no model is accepted"
            ),
            Refusal::Unsigned => write!(
                f,
                "the model is not signed, and MODEL_PUBLIC_KEY requires a signature"
            ),
            Refusal::Malformed(m) => write!(f, "the model's signature section is malformed: {m}"),
            Refusal::UnknownKey { key_id, trusted } => write!(
                f,
                "the model is signed by key id {key_id}, which is not in MODEL_PUBLIC_KEY (key ids {})",
                trusted.join(", ")
            ),
            Refusal::Invalid { key_id } => write!(
                f,
                "the signature by key id {key_id} does not match the model's bytes: the file was changed after it was signed"
            ),
            Refusal::Crypto(m) => write!(f, "the signature could not be checked: {m}"),
        }
    }
}

/// The keys `MODEL_PUBLIC_KEY` lists; `Ok(None)` when it is not set (models are not checked).
pub fn trusted_keys(env: &Env) -> Result<Option<Vec<TrustedKey>>, Refusal> {
    let Some(text) = config::var(env, "MODEL_PUBLIC_KEY") else {
        return Ok(None);
    };
    parse_keys(&text).map(Some)
}

/// Parses base64 keys separated by commas or whitespace.
pub fn parse_keys(text: &str) -> Result<Vec<TrustedKey>, Refusal> {
    let keys = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|k| !k.is_empty())
        .map(|k| {
            let raw = Base64::decode_vec(k)
                .or_else(|_| Base64Unpadded::decode_vec(k))
                .or_else(|_| Base64Url::decode_vec(k))
                .or_else(|_| Base64UrlUnpadded::decode_vec(k))
                .map_err(|_| Refusal::Config(format!("{k:?} is not base64")))?;
            let raw: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
                Refusal::Config(format!(
                    "{k:?} is {} bytes, not a 32-byte Ed25519 key",
                    raw.len()
                ))
            })?;
            Ok(TrustedKey {
                raw,
                id: key_id(&raw),
            })
        })
        .collect::<Result<Vec<_>, Refusal>>()?;
    if keys.is_empty() {
        return Err(Refusal::Config("no key in it".into()));
    }
    Ok(keys)
}

/// The first 8 bytes of the SHA-256 of a raw public key.
pub fn key_id(raw: &[u8; 32]) -> [u8; KEY_ID_LEN] {
    let d = Sha256::digest(raw);
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&d[..KEY_ID_LEN]);
    id
}

fn hex(bytes: &[u8]) -> String {
    crate::sigv4::hex(bytes)
}

/// Which trusted key the file says signed it, and what its signature covers: everything a
/// verdict needs besides the cryptography (no JS involved, so the native tests cover it).
pub fn signed_by<'k>(
    bytes: &[u8],
    keys: &'k [TrustedKey],
) -> Result<(&'k TrustedKey, signature::SignatureSection), Refusal> {
    let s = signature::read(bytes)
        .map_err(|e| Refusal::Malformed(e.to_string()))?
        .ok_or(Refusal::Unsigned)?;
    if s.algorithm != SIGNATURE_ED25519 {
        return Err(Refusal::Malformed(format!(
            "algorithm {}, only 1 (Ed25519) is known",
            s.algorithm
        )));
    }
    if s.flags != 0 {
        return Err(Refusal::Malformed(format!(
            "unknown flags {:#06x}",
            s.flags
        )));
    }
    let key = keys
        .iter()
        .find(|k| k.id == s.key_id)
        .ok_or_else(|| Refusal::UnknownKey {
            key_id: hex(&s.key_id),
            trusted: keys.iter().map(|k| hex(&k.id)).collect(),
        })?;
    Ok((key, s))
}

/// Checks the signature with WebCrypto; returns the signer's key id (hex).
pub async fn check(bytes: &[u8], keys: &[TrustedKey]) -> Result<String, Refusal> {
    let (key, s) = signed_by(bytes, keys)?;
    let key_id = hex(&key.id);
    let message = bytes
        .get(..s.signed_len)
        .ok_or_else(|| Refusal::Malformed("the file is shorter than its signature".into()))?;
    let ok = webcrypto_verify(&key.raw, &s.signature, message)
        .await
        .map_err(|e| Refusal::Crypto(e.as_string().unwrap_or_else(|| format!("{e:?}"))))?;
    if ok {
        Ok(key_id)
    } else {
        Err(Refusal::Invalid { key_id })
    }
}

/// `crypto.subtle.verify('Ed25519', importKey('raw', key), signature, message)`. WebCrypto copies
/// its byte arguments when called, so views of wasm memory are safe to pass.
async fn webcrypto_verify(key: &[u8; 32], sig: &[u8], message: &[u8]) -> Result<bool, JsValue> {
    use worker::wasm_bindgen_futures::JsFuture;
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())?;
    if crypto.is_undefined() {
        return Err("this runtime has no WebCrypto (globalThis.crypto)".into());
    }
    let subtle = crypto.unchecked_into::<web_sys::Crypto>().subtle();
    let usages = js_sys::Array::of1(&"verify".into());
    let key_bytes = js_sys::Uint8Array::from(&key[..]);
    let imported =
        JsFuture::from(subtle.import_key_with_str("raw", &key_bytes, "Ed25519", false, &usages)?)
            .await?
            .unchecked_into::<web_sys::CryptoKey>();
    let verdict = JsFuture::from(
        subtle.verify_with_str_and_u8_array_and_u8_array("Ed25519", &imported, sig, message)?,
    )
    .await?;
    Ok(verdict.as_bool().unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden() -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures/golden/model-v1.erm"),
        )
        .unwrap_or_default()
    }

    #[test]
    fn keys_parse_in_base64_forms_and_lists() {
        let a = Base64::encode_string(&[7u8; 32]);
        let b = Base64UrlUnpadded::encode_string(&[9u8; 32]);
        let keys = parse_keys(&format!(" {a}, {b}\n")).unwrap_or_default();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].raw, [7u8; 32]);
        assert_eq!(keys[1].raw, [9u8; 32]);
        assert_eq!(keys[0].id, key_id(&[7u8; 32]));
        for bad in ["", " , ", "not-a-key!", &Base64::encode_string(&[1u8; 31])] {
            assert!(
                matches!(parse_keys(bad), Err(Refusal::Config(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_file_names_its_key_or_is_refused_before_any_cryptography() {
        let model = golden();
        assert!(!model.is_empty(), "the golden fixture is missing");
        let keys = parse_keys(&Base64::encode_string(&[7u8; 32])).unwrap_or_default();
        assert_eq!(signed_by(&model, &keys).err(), Some(Refusal::Unsigned));
        let slot = |id| signature::with_slot(&model, SIGNATURE_ED25519, id).unwrap_or_default();
        let (key, s) = signed_by(&slot(keys[0].id), &keys).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key, &keys[0]);
        assert_eq!(s.signed_len, slot(keys[0].id).len() - 64);
        assert!(matches!(
            signed_by(&slot([0; 8]), &keys),
            Err(Refusal::UnknownKey { .. })
        ));
        let other = signature::with_slot(&model, 2, keys[0].id).unwrap_or_default();
        assert!(matches!(
            signed_by(&other, &keys),
            Err(Refusal::Malformed(_))
        ));
        assert!(matches!(
            signed_by(b"not a model", &keys),
            Err(Refusal::Malformed(_))
        ));
    }
}
