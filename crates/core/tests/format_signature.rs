//! The signature section's layout: a signer's slot keeps every other byte meaning the same,
//! decoders skip it, and `signature::read` finds it only where the format puts it. (The
//! cryptography is the trainer's and the JS verifiers'; this is the byte layout they share.)

#![cfg(feature = "write")]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use edgerec_core::FormatError;
use edgerec_core::format::signature::{
    self, KEY_ID_LEN, SIGNATURE_ED25519, SIGNATURE_LEN, SIGNATURE_SECTION_KIND,
    SIGNATURE_SECTION_LEN,
};
use edgerec_core::format::{self, SectionKind};
use proptest::prelude::*;

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    [
        "golden/model-v1.erm",
        "golden/content-v1.erm",
        "format-1.0/model.erm",
    ]
    .into_iter()
    .map(|p| (p, fixture(p)))
    .collect()
}

/// Writes a header CRC that matches the (edited) table, so only the edit itself is wrong.
fn fix_header_crc(bytes: &mut [u8]) {
    let n = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let end = 32 + 24 * n;
    let crc = crc32fast::hash(&bytes[..end]);
    bytes[end..end + 4].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn a_slot_keeps_the_model_its_version_and_its_sections() {
    for (name, bytes) in fixtures() {
        let key_id = *b"\x01\x02\x03\x04\x05\x06\x07\x08";
        let mut signed = signature::with_slot(&bytes, SIGNATURE_ED25519, key_id).unwrap();
        let sig = [0xA5u8; SIGNATURE_LEN];
        signature::put(&mut signed, &sig);
        assert_eq!(
            signed.len(),
            bytes.len() + 24 + SIGNATURE_SECTION_LEN,
            "{name}"
        );
        // The decoder skips the section: the same model.
        assert_eq!(
            format::decode(&signed).unwrap(),
            format::decode(&bytes).unwrap(),
            "{name}"
        );
        let before = format::read_header(&bytes).unwrap();
        let after = format::read_header(&signed).unwrap();
        assert_eq!(after.version, before.version, "{name}");
        assert_eq!(after.capabilities, before.capabilities, "{name}");
        assert_eq!(after.sections.len(), before.sections.len() + 1);
        for (a, b) in after.sections.iter().zip(&before.sections) {
            assert_eq!((a.kind, a.length, a.crc32), (b.kind, b.length, b.crc32));
            assert_eq!(
                a.offset,
                b.offset + 24,
                "{name}: every section moves by one entry"
            );
        }
        let last = after.sections.last().unwrap();
        assert_eq!(last.kind, SectionKind::Unknown(SIGNATURE_SECTION_KIND));
        assert_eq!((last.crc32, last.flags), (0, 0));
        assert_eq!(last.offset + last.length, signed.len() as u64);
        let s = signature::read(&signed).unwrap().unwrap();
        assert_eq!(s.algorithm, SIGNATURE_ED25519);
        assert_eq!(s.flags, 0);
        assert_eq!(s.key_id, key_id);
        assert_eq!(s.signature, sig);
        assert_eq!(s.signed_len, signed.len() - SIGNATURE_LEN);
        assert_eq!(&signed[signed.len() - SIGNATURE_LEN..], &sig);
        assert_eq!(
            &signed[signed.len() - SIGNATURE_LEN - KEY_ID_LEN..signed.len() - SIGNATURE_LEN],
            &key_id
        );
        assert_eq!(signature::read(&bytes).unwrap(), None, "{name} is unsigned");
    }
}

#[test]
fn signing_again_replaces_the_signature() {
    let bytes = fixture("golden/model-v1.erm");
    let mut once = signature::with_slot(&bytes, SIGNATURE_ED25519, [1; KEY_ID_LEN]).unwrap();
    signature::put(&mut once, &[7; SIGNATURE_LEN]);
    let twice = signature::with_slot(&once, SIGNATURE_ED25519, [2; KEY_ID_LEN]).unwrap();
    assert_eq!(twice.len(), once.len());
    let s = signature::read(&twice).unwrap().unwrap();
    assert_eq!(s.key_id, [2; KEY_ID_LEN]);
    assert_eq!(s.signature, [0; SIGNATURE_LEN]);
    // Only the key id and the signature differ.
    let differing: Vec<usize> = (0..once.len()).filter(|&i| once[i] != twice[i]).collect();
    assert!(
        differing
            .iter()
            .all(|&i| i >= once.len() - SIGNATURE_LEN - KEY_ID_LEN),
        "{differing:?}"
    );
    // The slot of a signed file equals the slot of the unsigned one.
    assert_eq!(
        twice,
        signature::with_slot(&bytes, SIGNATURE_ED25519, [2; KEY_ID_LEN]).unwrap()
    );
}

#[test]
fn a_misplaced_or_doubled_signature_section_is_malformed() {
    let bytes = fixture("golden/model-v1.erm");
    let signed = signature::with_slot(&bytes, SIGNATURE_ED25519, [3; KEY_ID_LEN]).unwrap();
    let n = u32::from_le_bytes(signed[12..16].try_into().unwrap()) as usize;
    let entry = |i: usize| 32 + 24 * i;
    let is_malformed = |b: &[u8]| {
        matches!(
            signature::read(b),
            Err(FormatError::Section { ref section, .. }) if section == "signature"
        )
    };
    // The first section's kind turned into a second signature section.
    let mut two = signed.clone();
    two[entry(0)..entry(0) + 2].copy_from_slice(&SIGNATURE_SECTION_KIND.to_le_bytes());
    fix_header_crc(&mut two);
    assert!(is_malformed(&two));
    // The signature entry swapped with the one before it (not last in the table).
    let mut swapped = signed.clone();
    let (a, b) = (entry(n - 2), entry(n - 1));
    let prev: Vec<u8> = swapped[a..a + 24].to_vec();
    let last: Vec<u8> = swapped[b..b + 24].to_vec();
    swapped[a..a + 24].copy_from_slice(&last);
    swapped[b..b + 24].copy_from_slice(&prev);
    fix_header_crc(&mut swapped);
    assert!(is_malformed(&swapped));
    // A shorter signature section (it no longer ends the file).
    let mut short = signed.clone();
    let len_at = entry(n - 1) + 16;
    short[len_at..len_at + 8].copy_from_slice(&((SIGNATURE_SECTION_LEN - 1) as u64).to_le_bytes());
    fix_header_crc(&mut short);
    assert!(is_malformed(&short));
    // Each edit still decodes as a model (the decoder skips kind 32): only a verifier cares.
    for b in [&swapped, &short] {
        assert!(format::decode(b).is_ok());
    }
    // Damage to the header is the header's error, as for any file.
    let mut bad = signed.clone();
    bad[20] ^= 1;
    assert!(matches!(
        signature::read(&bad),
        Err(FormatError::Checksum { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `read` never panics, whatever the bytes.
    #[test]
    fn read_never_panics(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in any::<usize>(),
        fix in any::<bool>(),
    ) {
        let bytes = fixture("golden/model-v1.erm");
        let mut signed = signature::with_slot(&bytes, SIGNATURE_ED25519, [9; KEY_ID_LEN]).unwrap();
        for (at, v) in edits {
            let i = at % signed.len();
            signed[i] = v;
        }
        if fix && signed.len() > 16 && u32::from_le_bytes(signed[12..16].try_into().unwrap()) < 64 {
            let n = u32::from_le_bytes(signed[12..16].try_into().unwrap()) as usize;
            if signed.len() >= 36 + 24 * n {
                fix_header_crc(&mut signed);
            }
        }
        let cut = cut % (signed.len() + 1);
        let _ = signature::read(&signed[..cut]);
        let _ = signature::read(&signed);
    }

    /// Any key id round-trips, and the signed part is the file but its last 64 bytes.
    #[test]
    fn any_key_id_round_trips(key_id in any::<[u8; KEY_ID_LEN]>(), sig in prop::collection::vec(any::<u8>(), SIGNATURE_LEN)) {
        let bytes = fixture("golden/model-v1.erm");
        let mut signed = signature::with_slot(&bytes, SIGNATURE_ED25519, key_id).unwrap();
        let sig: [u8; SIGNATURE_LEN] = sig.try_into().unwrap();
        signature::put(&mut signed, &sig);
        let s = signature::read(&signed).unwrap().unwrap();
        prop_assert_eq!(s.key_id, key_id);
        prop_assert_eq!(s.signature, sig);
        prop_assert_eq!(s.signed_len, signed.len() - SIGNATURE_LEN);
    }
}
