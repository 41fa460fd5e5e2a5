//! Signed model files (Ed25519): keys, signing and verification. The byte layout (a signature
//! section holding the last 64 bytes of the file, over every byte before them) is the core's
//! (`edgerec_core::format::signature`, `docs/format.md`); this module does the cryptography.
//! The Worker and the npm package verify the same files in JS with WebCrypto.
//!
//! Key forms, as `edgerec keygen` writes them:
//! - private key: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, what `openssl genpkey -algorithm
//!   ed25519` writes); the base64 of the raw 32-byte seed is accepted too (`EDGEREC_SIGNING_KEY`,
//!   serve's tokens file);
//! - public key: the base64 of the raw 32 bytes (what `MODEL_PUBLIC_KEY` and the package's
//!   `publicKey` take); SPKI PEM (`-----BEGIN PUBLIC KEY-----`) is accepted too;
//! - key id: the first 8 bytes of the SHA-256 of the raw public key, in hex. A signed file names
//!   the key id that signed it, so a verifier that trusts several keys (during a rotation) knows
//!   which one to use, and its errors can say which key was expected.

use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use edgerec_core::FormatError;
use edgerec_core::format::signature::{self, KEY_ID_LEN, SIGNATURE_ED25519, SIGNATURE_LEN};
use sha2::{Digest, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

/// Why a key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "not an Ed25519 private key: expected PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) or the base64 of a 32-byte seed ({0})"
    )]
    Private(String),
    #[error(
        "not an Ed25519 public key: expected the base64 of its 32 raw bytes or SPKI PEM (-----BEGIN PUBLIC KEY-----) ({0})"
    )]
    Public(String),
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// Why a model's signature was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("the model is not signed")]
    Unsigned,
    #[error("the model's signature section is malformed: {0}")]
    Malformed(FormatError),
    #[error("the model is signed with algorithm {0}; only 1 (Ed25519) is known")]
    Algorithm(u16),
    #[error("the model's signature section has unknown flags {0:#06x}")]
    Flags(u16),
    #[error("the model is signed by key id {key_id}, which is not trusted (trusted: {})", trusted.join(", "))]
    UnknownKey {
        key_id: String,
        trusted: Vec<String>,
    },
    #[error(
        "the signature by key id {key_id} does not match the model's bytes: the file was changed after it was signed"
    )]
    Invalid { key_id: String },
}

/// An Ed25519 public key that verifies models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads the base64 (standard or URL-safe, padded or not) of the raw 32 bytes, or SPKI PEM.
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            return VerifyingKey::from_public_key_pem(text)
                .map(PublicKey)
                .map_err(|e| KeyError::Public(e.to_string()));
        }
        let raw = decode_base64(text).ok_or_else(|| KeyError::Public("not base64".into()))?;
        let raw: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Public(format!("{} bytes instead of 32", raw.len())))?;
        VerifyingKey::from_bytes(&raw)
            .map(PublicKey)
            .map_err(|e| KeyError::Public(e.to_string()))
    }

    /// The raw 32 bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The base64 of the raw 32 bytes: the form `MODEL_PUBLIC_KEY` and `publicKey` take.
    #[must_use]
    pub fn to_base64(&self) -> String {
        Base64::encode_string(self.0.as_bytes())
    }

    /// The first 8 bytes of the SHA-256 of the raw key.
    #[must_use]
    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        let d = Sha256::digest(self.0.as_bytes());
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&d[..KEY_ID_LEN]);
        id
    }

    /// [`PublicKey::key_id`] in lower-case hex.
    #[must_use]
    pub fn key_id_hex(&self) -> String {
        hex(&self.key_id())
    }
}

/// An Ed25519 private key that signs models.
pub struct ModelSigner(SigningKey);

impl std::fmt::Debug for ModelSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSigner")
            .field("key_id", &self.public_key().key_id_hex())
            .finish_non_exhaustive()
    }
}

impl ModelSigner {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<ModelSigner, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..]).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(ModelSigner(SigningKey::from_bytes(&seed)))
    }

    /// Reads PKCS#8 PEM, or the base64 of the raw 32-byte seed.
    pub fn parse(text: &str) -> Result<ModelSigner, KeyError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            return SigningKey::from_pkcs8_pem(text)
                .map(ModelSigner)
                .map_err(|e| KeyError::Private(e.to_string()));
        }
        let raw = Zeroizing::new(
            decode_base64(text).ok_or_else(|| KeyError::Private("not PEM or base64".into()))?,
        );
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            raw.as_slice()
                .try_into()
                .map_err(|_| KeyError::Private(format!("{} bytes instead of 32", raw.len())))?,
        );
        Ok(ModelSigner(SigningKey::from_bytes(&seed)))
    }

    /// PKCS#8 PEM (what `edgerec keygen` writes).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Private(e.to_string()))
    }

    /// The base64 of the 32-byte seed (the compact form kept in serve's tokens file).
    #[must_use]
    pub fn to_base64_seed(&self) -> Zeroizing<String> {
        Zeroizing::new(Base64::encode_string(self.0.as_bytes()))
    }

    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The model file signed: a signature section naming this key, the signature over every
    /// byte before it. An existing signature is replaced. The bytes are not decoded; the
    /// header and section table must be valid.
    pub fn sign(&self, model: &[u8]) -> Result<Vec<u8>, FormatError> {
        let mut out = signature::with_slot(model, SIGNATURE_ED25519, self.public_key().key_id())?;
        let signed = out.len() - SIGNATURE_LEN;
        let sig = self.0.sign(&out[..signed]).to_bytes();
        signature::put(&mut out, &sig);
        Ok(out)
    }
}

/// What a successful verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key that signed the file (one of the trusted keys).
    pub key: PublicKey,
}

/// What a file says about its signature, without verifying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureInfo {
    Unsigned,
    Signed { algorithm: u16, key_id: String },
}

/// Reads a file's signature section without verifying it.
pub fn describe(model: &[u8]) -> Result<SignatureInfo, FormatError> {
    Ok(match signature::read(model)? {
        None => SignatureInfo::Unsigned,
        Some(s) => SignatureInfo::Signed {
            algorithm: s.algorithm,
            key_id: hex(&s.key_id),
        },
    })
}

/// Checks that `model` is signed by one of `trusted` (the key named by the file's key id) and
/// that the signature covers its bytes as they are. Strict verification (RFC 8032 with
/// canonical encodings, as WebCrypto's).
pub fn verify(model: &[u8], trusted: &[PublicKey]) -> Result<Verified, SignatureError> {
    let s = signature::read(model)
        .map_err(SignatureError::Malformed)?
        .ok_or(SignatureError::Unsigned)?;
    if s.algorithm != SIGNATURE_ED25519 {
        return Err(SignatureError::Algorithm(s.algorithm));
    }
    if s.flags != 0 {
        return Err(SignatureError::Flags(s.flags));
    }
    let key_id = hex(&s.key_id);
    let key = trusted
        .iter()
        .find(|k| k.key_id() == s.key_id)
        .ok_or_else(|| SignatureError::UnknownKey {
            key_id: key_id.clone(),
            trusted: trusted.iter().map(PublicKey::key_id_hex).collect(),
        })?;
    let sig = ed25519_dalek::Signature::from_bytes(&s.signature);
    let message = model.get(..s.signed_len).ok_or(SignatureError::Invalid {
        key_id: key_id.clone(),
    })?;
    key.0
        .verify_strict(message, &sig)
        .map_err(|_| SignatureError::Invalid { key_id })?;
    Ok(Verified { key: key.clone() })
}

/// Writes a file readable by its owner only (mode 0600 on Unix), replacing it: private keys
/// (`edgerec keygen`), the sync server's tokens file.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, bytes)
    }
}

/// The Subresource Integrity string of the bytes (`sha256-<base64>`; also `sha384`, `sha512`),
/// what `Recommender.fromUrl(url, { integrity })` checks.
#[must_use]
pub fn integrity(bytes: &[u8], algorithm: Integrity) -> String {
    match algorithm {
        Integrity::Sha256 => format!("sha256-{}", Base64::encode_string(&Sha256::digest(bytes))),
        Integrity::Sha384 => format!("sha384-{}", Base64::encode_string(&Sha384::digest(bytes))),
        Integrity::Sha512 => format!("sha512-{}", Base64::encode_string(&Sha512::digest(bytes))),
    }
}

/// The hash of an integrity string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    Sha256,
    Sha384,
    Sha512,
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    Base64::decode_vec(text)
        .or_else(|_| Base64Unpadded::decode_vec(text))
        .or_else(|_| Base64Url::decode_vec(text))
        .or_else(|_| Base64UrlUnpadded::decode_vec(text))
        .ok()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// RFC 8032 section 7.1, test 1: the seed, its public key, and the signature of the empty message.
    const RFC_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const RFC_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn rfc_signer() -> ModelSigner {
        ModelSigner::parse(&Base64::encode_string(&unhex(RFC_SEED))).unwrap()
    }

    fn golden() -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/golden/model-v1.erm"),
        )
        .unwrap()
    }

    #[test]
    fn keys_read_and_write_in_every_form() {
        let signer = rfc_signer();
        let public = signer.public_key();
        assert_eq!(public.to_bytes().to_vec(), unhex(RFC_PUBLIC));
        // PKCS#8 PEM round trip; SPKI PEM and base64 forms of the public key.
        let pem = signer.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(ModelSigner::parse(&pem).unwrap().public_key(), public);
        assert_eq!(
            ModelSigner::parse(&signer.to_base64_seed())
                .unwrap()
                .public_key(),
            public
        );
        let b64 = public.to_base64();
        assert_eq!(b64.len(), 44);
        assert_eq!(PublicKey::parse(&b64).unwrap(), public);
        assert_eq!(
            PublicKey::parse(b64.trim_end_matches('=')).unwrap(),
            public,
            "unpadded"
        );
        let url = Base64UrlUnpadded::encode_string(&public.to_bytes());
        assert_eq!(PublicKey::parse(&url).unwrap(), public, "base64url");
        use ed25519_dalek::pkcs8::EncodePublicKey;
        let spki = public.0.to_public_key_pem(LineEnding::LF).unwrap();
        assert_eq!(PublicKey::parse(&spki).unwrap(), public);
        // The key id is the SHA-256 prefix of the raw key.
        assert_eq!(
            public.key_id().to_vec(),
            Sha256::digest(unhex(RFC_PUBLIC))[..8].to_vec()
        );
        // Refusals name what was expected.
        for bad in ["", "not a key", &Base64::encode_string(&[1u8; 31])] {
            assert!(matches!(PublicKey::parse(bad), Err(KeyError::Public(_))));
            assert!(matches!(ModelSigner::parse(bad), Err(KeyError::Private(_))));
        }
    }

    #[test]
    fn generated_keys_differ() {
        let a = ModelSigner::generate().unwrap().public_key();
        let b = ModelSigner::generate().unwrap().public_key();
        assert_ne!(a, b);
    }

    #[test]
    fn a_signed_model_verifies_and_decodes_as_before() {
        let model = golden();
        let signer = rfc_signer();
        let signed = signer.sign(&model).unwrap();
        let ok = verify(&signed, &[signer.public_key()]).unwrap();
        assert_eq!(ok.key, signer.public_key());
        assert_eq!(
            edgerec_core::format::decode(&signed).unwrap(),
            edgerec_core::format::decode(&model).unwrap()
        );
        // Ed25519 is deterministic: signing is reproducible, and signing again replaces.
        assert_eq!(signer.sign(&model).unwrap(), signed);
        assert_eq!(signer.sign(&signed).unwrap(), signed);
        assert_eq!(
            describe(&signed).unwrap(),
            SignatureInfo::Signed {
                algorithm: SIGNATURE_ED25519,
                key_id: signer.public_key().key_id_hex()
            }
        );
        assert_eq!(describe(&model).unwrap(), SignatureInfo::Unsigned);
    }

    #[test]
    fn every_changed_byte_is_refused() {
        let signer = rfc_signer();
        let signed = signer.sign(&golden()).unwrap();
        let keys = [signer.public_key()];
        // Every byte of the file, flipped one at a time (a stride keeps the test fast).
        for i in (0..signed.len()).step_by(7).chain([signed.len() - 1]) {
            let mut b = signed.clone();
            b[i] ^= 0x01;
            let r = verify(&b, &keys);
            assert!(r.is_err(), "byte {i} flipped still verifies");
        }
        // Unsigned, another key, a truncated or extended file.
        assert!(matches!(
            verify(&golden(), &keys),
            Err(SignatureError::Unsigned)
        ));
        let other = ModelSigner::generate().unwrap();
        assert!(matches!(
            verify(&other.sign(&golden()).unwrap(), &keys),
            Err(SignatureError::UnknownKey { .. })
        ));
        // A forged signature under the trusted key id: refused as invalid.
        let mut forged = other.sign(&golden()).unwrap();
        let n = forged.len();
        forged[n - 72..n - 64].copy_from_slice(&signer.public_key().key_id());
        assert!(matches!(
            verify(&forged, &keys),
            Err(SignatureError::Invalid { .. })
        ));
        assert!(matches!(
            verify(&signed[..signed.len() - 1], &keys),
            Err(SignatureError::Malformed(_))
        ));
        let mut longer = signed.clone();
        longer.push(0);
        assert!(matches!(
            verify(&longer, &keys),
            Err(SignatureError::Malformed(_))
        ));
        // Several trusted keys (a rotation): the one the file names is used.
        assert!(verify(&signed, &[other.public_key(), signer.public_key()]).is_ok());
    }

    #[test]
    fn integrity_strings_are_sri() {
        // echo -n abc | openssl dgst -sha256 -binary | base64
        assert_eq!(
            integrity(b"abc", Integrity::Sha256),
            "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert!(integrity(b"abc", Integrity::Sha384).starts_with(
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        ));
        assert!(integrity(b"abc", Integrity::Sha512).starts_with("sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="));
    }
}
