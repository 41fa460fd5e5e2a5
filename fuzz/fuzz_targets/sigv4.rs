//! SigV4 verification (`worker/src/sigv4.rs`, the module the Worker compiles): the
//! `Authorization` header, `x-amz-date`, `x-amz-security-token`, the canonical request from the
//! method, path, query and signed headers, and the body hash. Any request may be refused, none
//! may panic, and a signer written here from AWS's description of Signature Version 4 (not from
//! the verifier's code) agrees with the verifier:
//! - the request as given, signed here with a known key (or temporary credentials minted for
//!   it), verifies;
//! - the same request with another body, another secret, or 16 minutes later does not.
//!
//! Input: `method\npath\nquery\nname: value\n…\n\nbody`. The signed copy keeps the method,
//! path, query, body and every header whose name is a token, with `host` and `x-amz-date` added
//! when missing and header values made printable ASCII (what HTTP carries).
//! Crashers go to `crates/core/tests/fuzz-regressions/sigv4/`.

#![no_main]

#[path = "../../worker/src/sigv4.rs"]
#[allow(dead_code)]
mod sigv4;

use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use sigv4::{Keys, SessionCredentials, SigError, Signed};

const NOW: f64 = 1_440_938_160.0; // 20150830T123600Z
const DATE: &str = "20150830T123600Z";
const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION_SECRET: &[u8] = b"session-signing-secret";

fn keys() -> Keys {
    Keys {
        permanent: vec![(KEY.to_owned(), SECRET.to_owned())],
        sessions: Some(SessionCredentials::new(SESSION_SECRET, 3600.0)),
    }
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3986: everything but `A-Za-z0-9-_.~` as `%XX` (upper-case hex).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The canonical query: each `key=value` pair decoded then encoded, sorted; `None` when a
/// pair does not decode to UTF-8 (no SDK sends that).
fn canonical_query(query: &str) -> Option<String> {
    let mut pairs = Vec::new();
    for p in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        let k = percent_encoding::percent_decode_str(k).decode_utf8().ok()?;
        let v = percent_encoding::percent_decode_str(v).decode_utf8().ok()?;
        pairs.push((encode(&k), encode(&v)));
    }
    pairs.sort();
    Some(
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&"),
    )
}

/// Trimmed, inner runs of spaces as one space.
fn trim_all(v: &str) -> String {
    v.split(' ')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

struct Request<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: BTreeMap<String, String>,
    body: &'a [u8],
}

fn parse(data: &[u8]) -> Request<'_> {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).unwrap_or("");
    let mut lines = head.split('\n');
    let method = lines.next().unwrap_or("");
    let path = lines.next().unwrap_or("");
    let query = lines.next().unwrap_or("");
    let headers = lines
        .take(16)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.to_owned()))
        .collect();
    Request {
        method,
        path,
        query,
        headers,
        body,
    }
}

fn verify(r: &Request<'_>, keys: &Keys, now: f64) -> Result<(), SigError> {
    let lookup = |n: &str| r.headers.get(n).cloned();
    let result = sigv4::verify(
        &Signed {
            method: r.method,
            path: r.path,
            query: r.query,
            header: &lookup,
            body: r.body,
        },
        keys,
        now,
    );
    if let Err(e) = &result {
        assert!(!e.exception().is_empty() && !e.message().is_empty());
    }
    result
}

/// Signs `r` as an SDK would, with the headers it carries; `None` when it cannot be signed.
fn sign(r: &mut Request<'_>, secret: &str, temporary: bool) -> Option<()> {
    if r.method.is_empty() || !r.method.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    r.headers.retain(|n, _| {
        !n.is_empty()
            && n != "authorization"
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    });
    for v in r.headers.values_mut() {
        *v = v
            .chars()
            .map(|c| if (' '..='~').contains(&c) { c } else { 'x' })
            .collect();
    }
    r.headers.insert("x-amz-date".into(), DATE.into());
    r.headers
        .entry("host".into())
        .or_insert_with(|| "edge.example.com".into());
    let body_hash = hex(&Sha256::digest(r.body));
    if r.headers.contains_key("x-amz-content-sha256") {
        r.headers
            .insert("x-amz-content-sha256".into(), body_hash.clone());
    }
    let (key, secret) = if temporary {
        let key = "ASIAEXAMPLEKEY234567";
        let expiry = (NOW as u64 + 600).to_string();
        let m = |label: &str| {
            Base64UrlUnpadded::encode_string(&mac(
                SESSION_SECRET,
                format!("{label}\n{key}\n{expiry}").as_bytes(),
            ))
        };
        let token = format!(
            "edgerec-sts1.{key}.{expiry}.{}",
            m("edgerec-sigv4-session-token")
        );
        r.headers.insert("x-amz-security-token".into(), token);
        (key.to_owned(), m("edgerec-sigv4-session-secret"))
    } else {
        r.headers.remove("x-amz-security-token");
        (KEY.to_owned(), secret.to_owned())
    };
    let canonical_uri = if r.path.is_empty() {
        "/".to_owned()
    } else {
        r.path.split('/').map(encode).collect::<Vec<_>>().join("/")
    };
    let signed: Vec<&String> = r.headers.keys().collect();
    let canonical_headers: String = r
        .headers
        .iter()
        .map(|(n, v)| format!("{n}:{}\n", trim_all(v)))
        .collect();
    let signed_list = signed
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{canonical_uri}\n{}\n{canonical_headers}\n{signed_list}\n{body_hash}",
        r.method,
        canonical_query(r.query)?
    );
    let scope = format!("{}/us-east-1/personalize/aws4_request", &DATE[..8]);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{DATE}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut k = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        k = mac(&k, part.as_bytes());
    }
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed_list}, Signature={}",
        hex(&mac(&k, string_to_sign.as_bytes()))
    );
    r.headers.insert("authorization".into(), auth);
    Some(())
}

fuzz_target!(|data: &[u8]| {
    let mut r = parse(data);
    let keys = keys();
    let _ = verify(&r, &keys, NOW);
    let temporary = r.headers.contains_key("x-amz-security-token");
    if sign(&mut r, SECRET, temporary).is_none() {
        return;
    }
    assert_eq!(verify(&r, &keys, NOW), Ok(()), "a correctly signed request");
    assert!(
        verify(&r, &keys, NOW + 16.0 * 60.0).is_err(),
        "16 minutes late"
    );
    let mut other = r.body.to_vec();
    other.push(b'!');
    let replay = Request {
        body: &other,
        headers: r.headers.clone(),
        ..r
    };
    assert!(
        matches!(verify(&replay, &keys, NOW), Err(SigError::Mismatch(_))),
        "a replay with another body"
    );
    if !temporary {
        let mut forged = parse(data);
        if sign(&mut forged, "not-the-secret", false).is_some() {
            assert!(verify(&forged, &keys, NOW).is_err(), "a wrong secret");
        }
    }
});
