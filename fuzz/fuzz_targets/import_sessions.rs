//! Exported sessions → `sessions::decode` and `Engine::import_sessions` (what the package's
//! `importSessions` calls): any input may be refused with a typed error, none may panic, and:
//! - what decodes imports into an engine, counting the same sessions;
//! - the engine's export of what it imported decodes and names only imported sessions, and
//!   after one more import (which may renumber events in key order) export ∘ import gives the
//!   same bytes again.
//!
//! Every input is tried as is and with its magic, version, flags, length and checksum made
//! right, so that mutations reach the payload decoder and the bounds checks.
//! Crashers go to `crates/core/tests/fuzz-regressions/import_sessions/`.

#![no_main]

#[path = "../../crates/core/tests/runtime_model/mod.rs"]
mod runtime_model;

use std::sync::OnceLock;

use edgerec_core::Engine;
use edgerec_core::format::sessions::{self, SESSIONS_FORMAT_VERSION, SESSIONS_MAGIC};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(runtime_model::model()))
}

/// The input with a right header over its payload (from byte 20 on).
fn fixed(data: &[u8]) -> Option<Vec<u8>> {
    let mut b = data.to_vec();
    let payload = b.get(20..)?;
    let len = u32::try_from(payload.len()).ok()?;
    let crc = crc32fast::hash(payload);
    b[..8].copy_from_slice(&SESSIONS_MAGIC);
    b[8..10].copy_from_slice(&SESSIONS_FORMAT_VERSION.to_le_bytes());
    b[10..12].copy_from_slice(&[0, 0]);
    b[12..16].copy_from_slice(&len.to_le_bytes());
    b[16..20].copy_from_slice(&crc.to_le_bytes());
    Some(b)
}

fn check(bytes: &[u8]) {
    let decoded = match sessions::decode(bytes) {
        Ok(d) => d,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let mut e = engine().fork();
    assert_eq!(e.import_sessions(bytes), Ok(decoded.len()));
    let exported = e.export_sessions();
    let again = sessions::decode(&exported).expect("an engine's export decodes");
    for s in &again {
        assert!(
            decoded.iter().any(|d| d.key == s.key),
            "{:?} was not imported",
            s.key
        );
    }
    // Import numbers events in the order it reads them, and export sorts sessions by key, so
    // the first round trip may renumber; from then on, export ∘ import is the identity.
    let mut fresh = engine().fork();
    assert_eq!(fresh.import_sessions(&exported), Ok(again.len()));
    let normalised = fresh.export_sessions();
    let mut third = engine().fork();
    assert_eq!(third.import_sessions(&normalised), Ok(again.len()));
    assert_eq!(
        third.export_sessions(),
        normalised,
        "export ∘ import is stable"
    );
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(f) = fixed(data) {
        check(&f);
    }
});
