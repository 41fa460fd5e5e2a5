//! AWS Signature Version 4 verification, so the AWS SDK clients can call the write routes with
//! plain credentials. Pure functions over the request's parts; no clock or I/O inside.

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

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigError {
    /// Malformed `Authorization` header or missing signed header (`IncompleteSignatureException`).
    Incomplete(String),
    /// Unknown access key (`UnrecognizedClientException`).
    UnknownKey(String),
    /// The signature does not match, or the date is outside the skew window.
    Mismatch(String),
}

/// Verifies the request's `Authorization: AWS4-HMAC-SHA256 ...` against `(access key, secret)`
/// pairs; `now_seconds` is the Unix time.
pub fn verify(
    req: &Signed<'_>,
    keys: &[(String, String)],
    now_seconds: f64,
) -> Result<(), SigError> {
    let auth = (req.header)("authorization")
        .ok_or_else(|| SigError::Incomplete("missing Authorization header".into()))?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| SigError::Incomplete("only AWS4-HMAC-SHA256 is supported".into()))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(SigError::Incomplete(
            "Authorization needs Credential, SignedHeaders and Signature".into(),
        ));
    };
    let mut scope = credential.splitn(2, '/');
    let access_key = scope.next().unwrap_or_default();
    let scope = scope
        .next()
        .ok_or_else(|| SigError::Incomplete("Credential has no scope".into()))?;
    let parts: Vec<&str> = scope.split('/').collect();
    if parts.len() != 4 || parts[3] != "aws4_request" {
        return Err(SigError::Incomplete(format!(
            "malformed credential scope {scope:?}"
        )));
    }
    let secret = keys
        .iter()
        .find(|(k, _)| k == access_key)
        .map(|(_, s)| s)
        .ok_or_else(|| SigError::UnknownKey(format!("unknown access key {access_key:?}")))?;
    let amz_date = (req.header)("x-amz-date")
        .ok_or_else(|| SigError::Incomplete("missing X-Amz-Date header".into()))?;
    if !amz_date.starts_with(parts[0]) {
        return Err(SigError::Mismatch(
            "credential date differs from X-Amz-Date".into(),
        ));
    }
    let signed_at = parse_amz_date(&amz_date)
        .ok_or_else(|| SigError::Incomplete(format!("malformed X-Amz-Date {amz_date:?}")))?;
    if (signed_at - now_seconds).abs() > MAX_SKEW_SECONDS {
        return Err(SigError::Mismatch(
            "signature expired: X-Amz-Date is more than 15 minutes from the server time".into(),
        ));
    }
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = (req.header)(name)
            .ok_or_else(|| SigError::Incomplete(format!("signed header {name:?} is missing")))?;
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&value.split_whitespace().collect::<Vec<_>>().join(" "));
        canonical_headers.push('\n');
    }
    let payload_hash = (req.header)("x-amz-content-sha256")
        .filter(|h| h != "UNSIGNED-PAYLOAD")
        .unwrap_or_else(|| hex(&Sha256::digest(req.body)));
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query),
        canonical_headers,
        signed_headers,
        payload_hash
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = format!("AWS4{secret}").into_bytes();
    for p in &parts {
        key = hmac(&key, p.as_bytes())?;
    }
    let expected = hex(&hmac(&key, string_to_sign.as_bytes())?);
    if constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        Ok(())
    } else {
        Err(SigError::Mismatch(
            "the request signature does not match the signature computed with the configured secret key".into(),
        ))
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, SigError> {
    // HMAC accepts keys of any length; the error arm is never taken.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .map_err(|e| SigError::Mismatch(format!("HMAC key: {e}")))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
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
    if s.len() != 16 || s.as_bytes()[8] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|v| v.parse::<i64>().ok());
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hh, mm, ss) = (n(9..11)?, n(11..13)?, n(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_parses_to_unix_seconds() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0.0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160.0));
        assert_eq!(parse_amz_date("2015-08-30"), None);
    }

    /// The worked example of the SigV4 documentation (GET iam ListUsers).
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
        let keys = vec![(
            "AKIDEXAMPLE".to_owned(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
        )];
        assert_eq!(verify(&req, &keys, 1_440_938_160.0), Ok(()));
        let wrong = vec![("AKIDEXAMPLE".to_owned(), "other".to_owned())];
        assert!(matches!(
            verify(&req, &wrong, 1_440_938_160.0),
            Err(SigError::Mismatch(_))
        ));
        assert!(matches!(
            verify(&req, &keys, 1_440_938_160.0 + 3600.0),
            Err(SigError::Mismatch(_))
        ));
    }
}
