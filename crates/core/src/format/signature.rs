//! The signature section: where a signed model file keeps its signature, and how a signer makes
//! room for one. The core only lays the bytes out; the signing and the verification (Ed25519)
//! happen in the trainer and, in JS with WebCrypto, in the Worker and the npm package, so
//! neither the core nor the wasm carries any cryptography.
//!
//! ```text
//! ┌──────────── header (lists the signature section last) ────────────┐┌ sections ┐┌──── signature section (76 bytes) ────┐
//! │ … n+1 entries, the last: kind 32, flags 0, CRC 0, offset, 76 │ CRC ││   …      ││ algorithm │ flags │ key id │ signature │
//! └────────────────────────────────────────────────────────────────────┘└──────────┘└──── 2 ──────── 2 ──── 8 ────── 64 ──────┘
//!  ◄──────────────────────── signed: bytes 0 .. file length − 64 ────────────────────────────────────────►
//! ```
//!
//! The signature is the last 64 bytes of the file and covers every byte before it, header and
//! section table included. Its table entry's CRC is 0, so the header does not depend on the
//! signature. Decoders skip the section as a kind they do not decode (1.0 and 1.1 readers
//! included), so a signed file reads wherever the unsigned one does.

use crate::error::FormatError;

use super::header;

/// Section kind code of the signature section. Decoders skip it like any unknown kind.
pub const SIGNATURE_SECTION_KIND: u16 = 32;
/// Length of the signature section: algorithm u16, flags u16, key id, signature.
pub const SIGNATURE_SECTION_LEN: usize = 4 + KEY_ID_LEN + SIGNATURE_LEN;
/// Length of a key id: the first 8 bytes of the SHA-256 of the raw 32-byte public key.
pub const KEY_ID_LEN: usize = 8;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Algorithm code: Ed25519 (RFC 8032, pure, no pre-hash) over bytes `0 .. file length − 64`.
pub const SIGNATURE_ED25519: u16 = 1;

/// The signature section of a file, as stored (not verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureSection {
    /// Algorithm code ([`SIGNATURE_ED25519`]).
    pub algorithm: u16,
    /// Flags; none are defined, writers write 0.
    pub flags: u16,
    /// Which key signed the file (first 8 bytes of the SHA-256 of its raw public key).
    pub key_id: [u8; KEY_ID_LEN],
    pub signature: [u8; SIGNATURE_LEN],
    /// The signature covers bytes `0 .. signed_len` (the whole file but the signature).
    pub signed_len: usize,
}

fn malformed(message: impl Into<String>) -> FormatError {
    FormatError::Section {
        section: "signature".to_owned(),
        message: message.into(),
    }
}

/// The signature section of a model file, if it has one. The header is checked as by
/// [`super::read_header`]; a signature section must be the only one of its kind, the last in
/// the table and in the file (ending at the file's end) and [`SIGNATURE_SECTION_LEN`] bytes
/// long, else the file is refused as malformed.
pub fn read(bytes: &[u8]) -> Result<Option<SignatureSection>, FormatError> {
    let info = header::parse(bytes)?;
    let mut found = info
        .sections
        .iter()
        .filter(|s| s.code == SIGNATURE_SECTION_KIND);
    let Some(s) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(malformed("the file has more than one signature section"));
    }
    if s.index + 1 != info.sections.len() {
        return Err(malformed(format!(
            "the signature section is entry {} of {}; it must be the last",
            s.index,
            info.sections.len()
        )));
    }
    if s.length != SIGNATURE_SECTION_LEN as u64 || s.offset + s.length != info.file_length {
        return Err(malformed(format!(
            "the signature section spans bytes {}..{} of {}; it must be the last {SIGNATURE_SECTION_LEN} bytes",
            s.offset,
            s.offset.saturating_add(s.length),
            info.file_length
        )));
    }
    let body = header::section_bytes(bytes, s)
        .ok_or_else(|| malformed("the signature section lies outside the file"))?;
    let mut key_id = [0u8; KEY_ID_LEN];
    let mut signature = [0u8; SIGNATURE_LEN];
    key_id.copy_from_slice(&body[4..4 + KEY_ID_LEN]);
    signature.copy_from_slice(&body[4 + KEY_ID_LEN..]);
    Ok(Some(SignatureSection {
        algorithm: u16::from_le_bytes([body[0], body[1]]),
        flags: u16::from_le_bytes([body[2], body[3]]),
        key_id,
        signature,
        signed_len: bytes.len() - SIGNATURE_LEN,
    }))
}

/// A copy of a model file with an empty signature section for `key_id` (replacing any signature
/// the file had): the section table lists one more section, every other section keeps its
/// bytes, and the file's last [`SIGNATURE_LEN`] bytes are zero. The signer signs
/// `out[..out.len() - SIGNATURE_LEN]` and writes the signature with [`put`]. The
/// format version, capabilities and section order are kept.
#[cfg(feature = "write")]
pub fn with_slot(
    bytes: &[u8],
    algorithm: u16,
    key_id: [u8; KEY_ID_LEN],
) -> Result<Vec<u8>, FormatError> {
    let info = header::parse(bytes)?;
    let previous = read(bytes)?;
    let kept = if previous.is_some() {
        &info.sections[..info.sections.len() - 1]
    } else {
        &info.sections[..]
    };
    if kept.len() + 1 > super::MAX_SECTIONS {
        return Err(FormatError::TooLarge {
            what: "section count",
            value: kept.len() as u64 + 1,
            limit: super::MAX_SECTIONS as u64,
        });
    }
    let old_header = info.header_length;
    let body_end = if previous.is_some() {
        info.file_length - SIGNATURE_SECTION_LEN as u64
    } else {
        info.file_length
    };
    let body = usize::try_from(old_header)
        .ok()
        .zip(usize::try_from(body_end).ok())
        .and_then(|(a, b)| bytes.get(a..b))
        .ok_or_else(|| malformed("the sections do not fit the file"))?;
    let new_header = header::header_len(kept.len() + 1) as u64;
    let mut sections: Vec<header::SectionInfo> = kept
        .iter()
        .map(|s| header::SectionInfo {
            offset: s.offset - old_header + new_header,
            ..s.clone()
        })
        .collect();
    let offset = new_header + body.len() as u64;
    sections.push(header::SectionInfo {
        index: kept.len(),
        kind: header::SectionKind::Unknown(SIGNATURE_SECTION_KIND),
        code: SIGNATURE_SECTION_KIND,
        name: "signature".to_owned(),
        flags: 0,
        offset,
        length: SIGNATURE_SECTION_LEN as u64,
        crc32: 0,
    });
    let file_len = offset + SIGNATURE_SECTION_LEN as u64;
    if file_len > super::MAX_FILE_LEN {
        return Err(FormatError::TooLarge {
            what: "file length",
            value: file_len,
            limit: super::MAX_FILE_LEN,
        });
    }
    let mut out = header::write_with_version(info.version, info.capabilities, file_len, &sections);
    out.reserve(body.len() + SIGNATURE_SECTION_LEN);
    out.extend_from_slice(body);
    out.extend_from_slice(&algorithm.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&key_id);
    out.extend_from_slice(&[0u8; SIGNATURE_LEN]);
    Ok(out)
}

/// Writes `signature` into the last [`SIGNATURE_LEN`] bytes of a file made by
/// [`with_slot`].
#[cfg(feature = "write")]
pub fn put(file: &mut [u8], signature: &[u8; SIGNATURE_LEN]) {
    let n = file.len();
    if let Some(tail) = file.get_mut(n.saturating_sub(SIGNATURE_LEN)..) {
        tail.copy_from_slice(&signature[..tail.len()]);
    }
}
