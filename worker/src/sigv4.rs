//! AWS Signature Version 4 verification, so the AWS SDK clients can call the Worker with plain
//! or temporary credentials. Pure functions over the request's parts; no clock or I/O inside.
//!
//! What a request must carry to be accepted:
//! - `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request,
//!   SignedHeaders=<h1;h2;...>, Signature=<64 hex>`, each part exactly once;
//! - `host` and `x-amz-date` among the signed headers (and `x-amz-security-token` when sent),
//!   the scope's date equal to the `x-amz-date` day, and `x-amz-date` within 15 minutes of the
//!   Worker's clock;
//! - a signature over the canonical request built from the **body's own SHA-256**: the
//!   `x-amz-content-sha256` header, when present, must equal it (`UNSIGNED-PAYLOAD` and the
//!   streaming forms are refused), so a captured request cannot be replayed with another body.
//!
//! Temporary credentials (an `x-amz-security-token`) are accepted when the deployment has a
//! session secret: see [`SessionCredentials`]. Every secret-dependent comparison is constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Requests signed further than this from the Worker's clock are rejected (AWS: 15 minutes).
pub const MAX_SKEW_SECONDS: f64 = 15.0 * 60.0;

/// The parts of a request SigV4 signs.
#[allow(missing_debug_implementations)]
pub struct Signed<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded form).
    pub path: &'a str,
    /// The raw query string without `?`.
    pub query: &'a str,
    /// Header lookup by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

/// The credentials the deployment accepts.
#[derive(Debug, Default)]
pub struct Keys {
    /// Permanent `(access key id, secret access key)` pairs.
    pub permanent: Vec<(String, String)>,
    /// The verifier of temporary credentials, when configured.
    pub sessions: Option<SessionCredentials>,
}

/// Why a signature was not accepted; each maps to the exception AWS answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigError {
    /// Malformed `Authorization` header, or a required header missing or unsigned
    /// (`IncompleteSignatureException`).
    Incomplete(String),
    /// Unknown access key, or an invalid security token (`UnrecognizedClientException`).
    UnknownKey(String),
    /// The signature does not match, the date is outside the skew window, or the body is not the
    /// one signed (`InvalidSignatureException`).
    Mismatch(String),
    /// The temporary credentials have expired (`ExpiredTokenException`).
    Expired(String),
}

impl SigError {
    /// The AWS exception name of this error.
    pub fn exception(&self) -> &'static str {
        match self {
            SigError::Incomplete(_) => "IncompleteSignatureException",
            SigError::UnknownKey(_) => "UnrecognizedClientException",
            SigError::Mismatch(_) => "InvalidSignatureException",
            SigError::Expired(_) => "ExpiredTokenException",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            SigError::Incomplete(m)
            | SigError::UnknownKey(m)
            | SigError::Mismatch(m)
            | SigError::Expired(m) => m,
        }
    }
}

/// The three parts of the `Authorization` header.
struct Authorization<'a> {
    access_key: &'a str,
    /// `yyyymmdd/region/service/aws4_request`.
    scope: &'a str,
    scope_parts: [&'a str; 4],
    signed_headers: Vec<&'a str>,
    signed_headers_raw: &'a str,
    signature: &'a str,
}

fn parse_authorization(auth: &str) -> Result<Authorization<'_>, SigError> {
    let incomplete = |m: &str| SigError::Incomplete(m.to_owned());
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| incomplete("only AWS4-HMAC-SHA256 is supported"))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        let (slot, value) = if let Some(v) = part.strip_prefix("Credential=") {
            (&mut credential, v)
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            (&mut signed_headers, v)
        } else if let Some(v) = part.strip_prefix("Signature=") {
            (&mut signature, v)
        } else {
            return Err(SigError::Incomplete(format!(
                "unexpected Authorization part {:?}",
                part.chars().take(40).collect::<String>()
            )));
        };
        if slot.replace(value).is_some() {
            return Err(incomplete("an Authorization part is repeated"));
        }
    }
    let (Some(credential), Some(signed_headers_raw), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(incomplete(
            "Authorization needs Credential, SignedHeaders and Signature",
        ));
    };
    let (access_key, scope) = credential
        .split_once('/')
        .ok_or_else(|| incomplete("Credential has no scope"))?;
    let parts: Vec<&str> = scope.split('/').collect();
    let scope_parts: [&str; 4] = parts
        .try_into()
        .map_err(|_| SigError::Incomplete(format!("malformed credential scope {scope:?}")))?;
    if access_key.is_empty()
        || scope_parts[3] != "aws4_request"
        || scope_parts[0].len() != 8
        || !scope_parts[0].bytes().all(|b| b.is_ascii_digit())
        || scope_parts[1].is_empty()
        || scope_parts[2].is_empty()
    {
        return Err(SigError::Incomplete(format!(
            "malformed credential scope {scope:?}"
        )));
    }
    let signed_headers: Vec<&str> = signed_headers_raw.split(';').collect();
    let well_formed = signed_headers.iter().all(|h| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }) && signed_headers.windows(2).all(|w| w[0] < w[1]);
    if !well_formed {
        return Err(incomplete(
            "SignedHeaders must be distinct lower-case header names in sorted order",
        ));
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(incomplete("Signature must be 64 lower-case hex digits"));
    }
    Ok(Authorization {
        access_key,
        scope,
        scope_parts,
        signed_headers,
        signed_headers_raw,
        signature,
    })
}

/// Verifies the request's `Authorization: AWS4-HMAC-SHA256 ...` against `keys`; `now_seconds`
/// is the Unix time.
pub fn verify(req: &Signed<'_>, keys: &Keys, now_seconds: f64) -> Result<(), SigError> {
    let auth = (req.header)("authorization")
        .ok_or_else(|| SigError::Incomplete("missing Authorization header".into()))?;
    let a = parse_authorization(&auth)?;
    for required in ["host", "x-amz-date"] {
        if !a.signed_headers.contains(&required) {
            return Err(SigError::Incomplete(format!(
                "'{required}' must be a SignedHeader in the AWS Authorization"
            )));
        }
    }
    let token = (req.header)("x-amz-security-token");
    if token.is_some() && !a.signed_headers.contains(&"x-amz-security-token") {
        return Err(SigError::Incomplete(
            "'x-amz-security-token' must be a SignedHeader when it is sent".into(),
        ));
    }
    let secret = match &token {
        None => keys
            .permanent
            .iter()
            .find(|(k, _)| constant_time_eq(k.as_bytes(), a.access_key.as_bytes()))
            .map(|(_, s)| s.clone())
            .ok_or_else(|| {
                SigError::UnknownKey(
                    "The security token included in the request is invalid: unknown access key"
                        .into(),
                )
            })?,
        Some(token) => keys
            .sessions
            .as_ref()
            .ok_or_else(|| {
                SigError::UnknownKey(
                    "temporary credentials are not accepted: SIGV4_SESSION_SECRET is not set"
                        .into(),
                )
            })?
            .secret_for(a.access_key, token, now_seconds)?,
    };
    let amz_date = (req.header)("x-amz-date")
        .ok_or_else(|| SigError::Incomplete("missing X-Amz-Date header".into()))?;
    let signed_at = parse_amz_date(&amz_date)
        .ok_or_else(|| SigError::Incomplete(format!("malformed X-Amz-Date {amz_date:?}")))?;
    if amz_date.get(..8) != Some(a.scope_parts[0]) {
        return Err(SigError::Mismatch(
            "the credential scope's date differs from X-Amz-Date".into(),
        ));
    }
    if (signed_at - now_seconds).abs() > MAX_SKEW_SECONDS {
        return Err(SigError::Mismatch(format!(
            "Signature expired: X-Amz-Date {amz_date} is more than 15 minutes from the server time"
        )));
    }
    let body_hash = hex(&Sha256::digest(req.body));
    if let Some(claimed) = (req.header)("x-amz-content-sha256")
        && !constant_time_eq(claimed.as_bytes(), body_hash.as_bytes())
    {
        return Err(SigError::Mismatch(
            if claimed == "UNSIGNED-PAYLOAD" || claimed.starts_with("STREAMING-") {
                "the payload must be signed: x-amz-content-sha256 must be the body's SHA-256"
                    .to_owned()
            } else {
                "x-amz-content-sha256 does not match the SHA-256 of the body".to_owned()
            },
        ));
    }
    let mut canonical_headers = String::new();
    for name in &a.signed_headers {
        let value = (req.header)(name)
            .ok_or_else(|| SigError::Incomplete(format!("signed header {name:?} is missing")))?;
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&value.split_whitespace().collect::<Vec<_>>().join(" "));
        canonical_headers.push('\n');
    }
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query),
        canonical_headers,
        a.signed_headers_raw,
        body_hash
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
        a.scope,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = format!("AWS4{secret}").into_bytes();
    for p in &a.scope_parts {
        key = hmac(&key, p.as_bytes());
    }
    let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
    if constant_time_eq(expected.as_bytes(), a.signature.as_bytes()) {
        Ok(())
    } else {
        Err(SigError::Mismatch(
            "The request signature we calculated does not match the signature you provided".into(),
        ))
    }
}

/// Temporary credentials the Worker can verify without storage: a deployment secret
/// (`SIGV4_SESSION_SECRET`) signs each session token and derives its secret access key, as STS
/// does with its own keys. A backend holding the same secret mints them (see
/// `worker/js/credentials.mjs`):
///
/// ```text
/// accessKeyId     = "ASIA" + 16 random characters of [A-Z2-7]
/// expiry          = Unix seconds, decimal
/// sessionToken    = "edgerec-sts1." + accessKeyId + "." + expiry + "."
///                   + base64url(HMAC-SHA256(secret, "edgerec-sigv4-session-token\n" + accessKeyId + "\n" + expiry))
/// secretAccessKey = base64url(HMAC-SHA256(secret, "edgerec-sigv4-session-secret\n" + accessKeyId + "\n" + expiry))
/// ```
///
/// A token is accepted until its expiry, if that is at most `max_lifetime_seconds` ahead (so a
/// mistaken mint cannot make one that lives for years). The secret is never in the token: the
/// token travels in every request, the secret only signs them.
#[derive(Debug, Clone)]
pub struct SessionCredentials {
    secret: Vec<u8>,
    max_lifetime_seconds: f64,
}

/// Token prefix (the version of the scheme).
pub const SESSION_TOKEN_PREFIX: &str = "edgerec-sts1.";
/// Default longest accepted lifetime of temporary credentials: 12 hours (STS's role default).
pub const DEFAULT_SESSION_MAX_SECONDS: f64 = 12.0 * 3600.0;

impl SessionCredentials {
    pub fn new(secret: &[u8], max_lifetime_seconds: f64) -> Self {
        SessionCredentials {
            secret: secret.to_vec(),
            max_lifetime_seconds,
        }
    }

    fn mac(&self, label: &str, access_key: &str, expiry: &str) -> Vec<u8> {
        hmac(
            &self.secret,
            format!("{label}\n{access_key}\n{expiry}").as_bytes(),
        )
    }

    /// The secret access key of `access_key` if `token` is a valid, unexpired token for it.
    pub fn secret_for(
        &self,
        access_key: &str,
        token: &str,
        now_seconds: f64,
    ) -> Result<String, SigError> {
        let invalid =
            || SigError::UnknownKey("The security token included in the request is invalid".into());
        let rest = token
            .strip_prefix(SESSION_TOKEN_PREFIX)
            .ok_or_else(invalid)?;
        let mut parts = rest.split('.');
        let (Some(key), Some(expiry), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let expected = base64url(&self.mac("edgerec-sigv4-session-token", key, expiry));
        if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return Err(invalid());
        }
        if !constant_time_eq(key.as_bytes(), access_key.as_bytes()) {
            return Err(SigError::UnknownKey(
                "the security token belongs to another access key".into(),
            ));
        }
        let expires_at = expiry
            .parse::<u64>()
            .map_err(|_| invalid())
            .map(|e| e as f64)?;
        if expires_at <= now_seconds {
            return Err(SigError::Expired(
                "The security token included in the request is expired".into(),
            ));
        }
        if expires_at - now_seconds > self.max_lifetime_seconds {
            return Err(SigError::UnknownKey(format!(
                "the security token lives longer than the accepted {} seconds",
                self.max_lifetime_seconds
            )));
        }
        Ok(base64url(&self.mac(
            "edgerec-sigv4-session-secret",
            key,
            expiry,
        )))
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for HMAC-SHA256.
    match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unpadded base64url (RFC 4648 §5).
pub fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Equality whose time depends only on the lengths, never on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// RFC 3986 encoding of everything but the unreserved characters.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SDK encodes each path segment of the already-encoded path once more (every service but S3).
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // Exactly two hex digits: `from_str_radix` alone would also take a sign (`%+f`).
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
            && let Some(v) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(v, 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `20260102T030405Z` → Unix seconds.
fn parse_amz_date(s: &str) -> Option<f64> {
    if s.len() != 16 || !s.is_ascii() || s.as_bytes()[8] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| {
        s.get(r)
            .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<i64>().ok())
    };
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hh, mm, ss) = (n(9..11)?, n(11..13)?, n(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Two digits each: they fit.
    let (m, d) = (u32::try_from(m).ok()?, u32::try_from(d).ok()?);
    let days = edgerec_core::calendar::days_from_civil(y, m, d);
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn amz_date_parses_to_unix_seconds() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0.0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160.0));
        assert_eq!(parse_amz_date("2015-08-30"), None);
        assert_eq!(parse_amz_date("2015+830T123600Z"), None);
        assert_eq!(parse_amz_date("2015083éT12360Z"), None);
    }

    /// Fuzz regression (`crates/core/tests/fuzz-regressions/sigv4/plus-after-percent`): `%+2`
    /// was decoded as the byte 0x02 (a sign taken for a hex digit), so a request an SDK signed
    /// with a literal `%+` in its query failed to verify.
    #[test]
    fn percent_needs_two_hex_digits() {
        assert_eq!(percent_decode("%+20b"), "%+20b");
        assert_eq!(percent_decode("%-f"), "%-f");
        assert_eq!(percent_decode("%2B%2b"), "++");
        assert_eq!(canonical_query("a=%+20b&*"), "%2A=&a=%25%2B20b");
        let input =
            include_bytes!("../../crates/core/tests/fuzz-regressions/sigv4/plus-after-percent");
        assert!(std::str::from_utf8(input).is_ok_and(|t| t.contains("a=%+20b")));
    }

    #[test]
    fn base64url_matches_rfc_4648() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    fn permanent(id: &str, secret: &str) -> Keys {
        Keys {
            permanent: vec![(id.to_owned(), secret.to_owned())],
            sessions: None,
        }
    }

    /// The worked example of the SigV4 documentation (GET iam ListUsers), whose body is empty.
    #[test]
    fn documented_example_verifies() {
        let headers = |n: &str| -> Option<String> {
            match n {
                "authorization" => Some("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7".into()),
                "content-type" => Some("application/x-www-form-urlencoded; charset=utf-8".into()),
                "host" => Some("iam.amazonaws.com".into()),
                "x-amz-date" => Some("20150830T123600Z".into()),
                _ => None,
            }
        };
        let req = Signed {
            method: "GET",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            header: &headers,
            body: b"",
        };
        let keys = permanent("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert_eq!(verify(&req, &keys, 1_440_938_160.0), Ok(()));
        let wrong = permanent("AKIDEXAMPLE", "other");
        assert!(matches!(
            verify(&req, &wrong, 1_440_938_160.0),
            Err(SigError::Mismatch(_))
        ));
        assert!(matches!(
            verify(&req, &keys, 1_440_938_160.0 + 3600.0),
            Err(SigError::Mismatch(_))
        ));
        // The same signed request with a body: the body's hash is not the one signed.
        let with_body = Signed {
            body: b"Action=DeleteUser",
            ..req
        };
        assert!(matches!(
            verify(&with_body, &keys, 1_440_938_160.0),
            Err(SigError::Mismatch(_))
        ));
    }

    /// A minimal signer (the verifier's inverse), for requests the tests shape freely.
    struct Signer<'a> {
        key: &'a str,
        secret: &'a str,
        date: &'a str,
        signed: &'a [&'a str],
        body_hash_header: Option<String>,
    }

    impl Signer<'_> {
        fn sign(
            &self,
            method: &str,
            path: &str,
            headers: &BTreeMap<&str, String>,
            body: &[u8],
        ) -> String {
            let mut canonical_headers = String::new();
            for h in self.signed {
                canonical_headers.push_str(&format!("{h}:{}\n", headers[h]));
            }
            let canonical = format!(
                "{method}\n{}\n\n{canonical_headers}\n{}\n{}",
                canonical_uri(path),
                self.signed.join(";"),
                hex(&Sha256::digest(body))
            );
            let scope = format!("{}/eu-west-1/personalize/aws4_request", &self.date[..8]);
            let sts = format!(
                "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
                self.date,
                hex(&Sha256::digest(canonical.as_bytes()))
            );
            let mut k = format!("AWS4{}", self.secret).into_bytes();
            for p in scope.split('/') {
                k = hmac(&k, p.as_bytes());
            }
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={}",
                self.key,
                self.signed.join(";"),
                hex(&hmac(&k, sts.as_bytes()))
            )
        }

        fn headers(&self, body: &[u8], token: Option<&str>) -> BTreeMap<&'static str, String> {
            let mut h = BTreeMap::from([
                ("host", "edge.example.com".to_owned()),
                ("x-amz-date", self.date.to_owned()),
                ("content-type", "application/json".to_owned()),
            ]);
            h.insert(
                "x-amz-content-sha256",
                self.body_hash_header
                    .clone()
                    .unwrap_or_else(|| hex(&Sha256::digest(body))),
            );
            if let Some(t) = token {
                h.insert("x-amz-security-token", t.to_owned());
            }
            let auth = self.sign("POST", "/events", &h, body);
            h.insert("authorization", auth);
            h
        }
    }

    const NOW: f64 = 1_767_225_600.0; // 2026-01-01T00:00:00Z
    const DATE: &str = "20260101T000000Z";

    fn check(h: &BTreeMap<&str, String>, body: &[u8], keys: &Keys) -> Result<(), SigError> {
        let lookup = |n: &str| h.get(n).cloned();
        verify(
            &Signed {
                method: "POST",
                path: "/events",
                query: "",
                header: &lookup,
                body,
            },
            keys,
            NOW,
        )
    }

    const ALL: &[&str] = &["content-type", "host", "x-amz-content-sha256", "x-amz-date"];

    #[test]
    fn body_hash_is_computed_and_compared() {
        let keys = permanent("AKID", "s3cret");
        let s = Signer {
            key: "AKID",
            secret: "s3cret",
            date: DATE,
            signed: ALL,
            body_hash_header: None,
        };
        let body = br#"{"sessionId":"s","eventList":[]}"#;
        let h = s.headers(body, None);
        assert_eq!(check(&h, body, &keys), Ok(()));
        // Replayed with another body: the header no longer matches the body.
        let other = br#"{"sessionId":"t","eventList":[]}"#;
        assert!(
            matches!(check(&h, other, &keys), Err(SigError::Mismatch(m)) if m.contains("x-amz-content-sha256"))
        );
        // Without the header (as the SDK signs Personalize calls) the canonical request uses
        // the received body's hash, which is not the one signed.
        let plain = Signer {
            signed: &["content-type", "host", "x-amz-date"],
            ..s
        };
        let mut no_header = plain.headers(body, None);
        no_header.remove("x-amz-content-sha256");
        assert_eq!(check(&no_header, body, &keys), Ok(()));
        assert!(matches!(
            check(&no_header, other, &keys),
            Err(SigError::Mismatch(_))
        ));
        // A request signed as UNSIGNED-PAYLOAD is refused even when the signature is right.
        let unsigned = Signer {
            body_hash_header: Some("UNSIGNED-PAYLOAD".into()),
            ..plain
        };
        let h = unsigned.headers(body, None);
        assert!(
            matches!(check(&h, body, &keys), Err(SigError::Mismatch(m)) if m.contains("signed"))
        );
    }

    #[test]
    fn host_and_date_must_be_signed() {
        let keys = permanent("AKID", "s3cret");
        let body = b"{}";
        for signed in [
            &["content-type", "x-amz-date"][..],
            &["content-type", "host"][..],
        ] {
            let s = Signer {
                key: "AKID",
                secret: "s3cret",
                date: DATE,
                signed,
                body_hash_header: None,
            };
            let h = s.headers(body, None);
            assert!(
                matches!(check(&h, body, &keys), Err(SigError::Incomplete(m)) if m.contains("SignedHeader")),
                "{signed:?}"
            );
        }
    }

    #[test]
    fn malformed_authorization_is_incomplete() {
        let keys = permanent("AKID", "s3cret");
        let s = Signer {
            key: "AKID",
            secret: "s3cret",
            date: DATE,
            signed: ALL,
            body_hash_header: None,
        };
        let good = s.headers(b"{}", None);
        let auth = good["authorization"].clone();
        let variants = [
            auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
            format!("{auth}, Signature=00"),
            auth.replace("/20260101/", "//"),
            auth.replace("aws4_request", "aws5_request"),
            auth.replace("content-type;host", "host;content-type"),
            auth.replace("Signature=", "Signature=A"),
            auth.replace(", Signature=", ", Extra=1, Signature="),
        ];
        for v in variants {
            let mut h = good.clone();
            h.insert("authorization", v.clone());
            assert!(
                matches!(check(&h, b"{}", &keys), Err(SigError::Incomplete(_))),
                "{v}"
            );
        }
        // A scope date other than the X-Amz-Date day.
        let mut h = good.clone();
        h.insert("authorization", auth.replace("/20260101/", "/20251231/"));
        assert!(matches!(
            check(&h, b"{}", &keys),
            Err(SigError::Mismatch(_))
        ));
    }

    #[test]
    fn clock_skew_of_fifteen_minutes() {
        let keys = permanent("AKID", "s3cret");
        for (date, ok) in [
            ("20260101T001400Z", true),
            ("20251231T234600Z", true),
            ("20260101T001600Z", false),
            ("20251231T234400Z", false),
        ] {
            let s = Signer {
                key: "AKID",
                secret: "s3cret",
                date,
                signed: ALL,
                body_hash_header: None,
            };
            let h = s.headers(b"{}", None);
            assert_eq!(check(&h, b"{}", &keys).is_ok(), ok, "{date}");
        }
    }

    /// What `worker/js/credentials.mjs` does, in Rust.
    fn mint(secret: &[u8], key: &str, expiry: u64) -> (String, String) {
        let v = SessionCredentials::new(secret, DEFAULT_SESSION_MAX_SECONDS);
        let e = expiry.to_string();
        let token = format!(
            "{SESSION_TOKEN_PREFIX}{key}.{e}.{}",
            base64url(&v.mac("edgerec-sigv4-session-token", key, &e))
        );
        let s = base64url(&v.mac("edgerec-sigv4-session-secret", key, &e));
        (token, s)
    }

    #[test]
    fn temporary_credentials() {
        let master = b"deployment session secret";
        let keys = Keys {
            permanent: vec![("AKID".into(), "s3cret".into())],
            sessions: Some(SessionCredentials::new(master, DEFAULT_SESSION_MAX_SECONDS)),
        };
        let key = "ASIAABCDEFGHIJKLMNOP";
        let (token, secret) = mint(master, key, NOW as u64 + 3600);
        let with_token: Vec<&str> = ALL
            .iter()
            .copied()
            .chain(["x-amz-security-token"])
            .collect();
        let sign = |key: &str, secret: &str, token: &str, signed: &[&str]| {
            Signer {
                key,
                secret,
                date: DATE,
                signed,
                body_hash_header: None,
            }
            .headers(b"{}", Some(token))
        };
        assert_eq!(
            check(&sign(key, &secret, &token, &with_token), b"{}", &keys),
            Ok(())
        );
        // The token must be signed.
        assert!(matches!(
            check(&sign(key, &secret, &token, ALL), b"{}", &keys),
            Err(SigError::Incomplete(_))
        ));
        // A forged token, another key's token, a wrong secret.
        let forged = format!("{}x", &token[..token.len() - 1]);
        assert!(matches!(
            check(&sign(key, &secret, &forged, &with_token), b"{}", &keys),
            Err(SigError::UnknownKey(_))
        ));
        let other = "ASIAZZZZZZZZZZZZZZZZ";
        assert!(matches!(
            check(&sign(other, &secret, &token, &with_token), b"{}", &keys),
            Err(SigError::UnknownKey(_))
        ));
        assert!(matches!(
            check(&sign(key, "guess", &token, &with_token), b"{}", &keys),
            Err(SigError::Mismatch(_))
        ));
        // Minted with another deployment's secret.
        let (t2, s2) = mint(b"another secret", key, NOW as u64 + 3600);
        assert!(matches!(
            check(&sign(key, &s2, &t2, &with_token), b"{}", &keys),
            Err(SigError::UnknownKey(_))
        ));
        // Expired, and too long-lived.
        let (t3, s3) = mint(master, key, NOW as u64 - 1);
        assert!(matches!(
            check(&sign(key, &s3, &t3, &with_token), b"{}", &keys),
            Err(SigError::Expired(_))
        ));
        let (t4, s4) = mint(master, key, NOW as u64 + 13 * 3600);
        assert!(matches!(
            check(&sign(key, &s4, &t4, &with_token), b"{}", &keys),
            Err(SigError::UnknownKey(_))
        ));
        // Without a session verifier, tokens are refused.
        let plain = permanent("AKID", "s3cret");
        assert!(matches!(
            check(&sign(key, &secret, &token, &with_token), b"{}", &plain),
            Err(SigError::UnknownKey(m)) if m.contains("SIGV4_SESSION_SECRET")
        ));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
