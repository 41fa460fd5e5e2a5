//! The fixed-layout header and section table, and the checks that run before any section is
//! decoded. Layout (little-endian; `docs/format.md` has the byte table):
//!
//! ```text
//! 0   8   magic
//! 8   2   format major        ─┐ stable across every major version
//! 10  2   format minor        ─┘
//! 12  4   section count n (≤ MAX_SECTIONS)
//! 16  8   required capabilities
//! 24  8   file length
//! 32  24n section entries: kind u16, flags u16, crc32 u32, offset u64, length u64
//! 32+24n 4  CRC32 of bytes 0 .. 32+24n
//! ```

use serde::Serialize;

use super::{
    FORMAT_VERSION, MAGIC, MAX_FILE_LEN, MAX_SECTIONS, OLDEST_SUPPORTED_FORMAT_VERSION,
    SUPPORTED_CAPABILITIES,
};
use crate::error::{FormatError, quoted};
use crate::model::Profile;

/// Flag of the `meta` section's table entry (format 1.2): the file is the public profile.
/// Without it a file is private.
pub const FLAG_PUBLIC: u16 = 1;

/// Bytes before the section table.
pub(crate) const FIXED_LEN: usize = 32;
/// Bytes per section-table entry.
pub(crate) const ENTRY_LEN: usize = 24;
/// Bytes of the header checksum that follows the table.
pub(crate) const CRC_LEN: usize = 4;

/// Header length for `n` sections.
#[must_use]
pub(crate) fn header_len(n: usize) -> usize {
    FIXED_LEN + ENTRY_LEN * n + CRC_LEN
}

/// What a section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// Descriptive facts ([`crate::ModelMeta`]). Required, once.
    Meta,
    /// The item catalogue ([`crate::Catalog`]). Required, once.
    Catalog,
    /// Known users and their metadata ([`crate::UserTable`]). Required, once.
    Users,
    /// Interaction histories of known users ([`crate::Histories`]). Required, once.
    Histories,
    /// Global popularity, the fallback ranking. Required, once.
    Popularity,
    /// Privacy facts: the k-anonymity floor of the stored aggregates (format 1.2). At most
    /// once.
    Privacy,
    /// One named recommender; any number, in the model's order.
    Recommender,
    /// A kind this build does not know; skipped when decoding.
    Unknown(u16),
}

impl SectionKind {
    /// The kind code stored in the section table.
    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            SectionKind::Meta => 1,
            SectionKind::Catalog => 2,
            SectionKind::Users => 3,
            SectionKind::Histories => 4,
            SectionKind::Popularity => 5,
            SectionKind::Privacy => 6,
            SectionKind::Recommender => 16,
            SectionKind::Unknown(c) => c,
        }
    }

    #[must_use]
    pub fn from_code(code: u16) -> Self {
        match code {
            1 => SectionKind::Meta,
            2 => SectionKind::Catalog,
            3 => SectionKind::Users,
            4 => SectionKind::Histories,
            5 => SectionKind::Popularity,
            6 => SectionKind::Privacy,
            16 => SectionKind::Recommender,
            c => SectionKind::Unknown(c),
        }
    }

    /// Lower-case name (`catalog`, `recommender`, `unknown`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Meta => "meta",
            SectionKind::Catalog => "catalog",
            SectionKind::Users => "users",
            SectionKind::Histories => "histories",
            SectionKind::Popularity => "popularity",
            SectionKind::Privacy => "privacy",
            SectionKind::Recommender => "recommender",
            SectionKind::Unknown(_) => "unknown",
        }
    }
}

impl Serialize for SectionKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One entry of the section table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectionInfo {
    /// Position in the section table.
    pub index: usize,
    pub kind: SectionKind,
    /// The kind code as stored (differs from known kinds only for `Unknown`).
    pub code: u16,
    /// The section's name: the recommender's name for recommender sections (empty when it
    /// cannot be read), else the kind's name.
    pub name: String,
    /// Per-section flags (none are defined in format 1; readers ignore unknown flags).
    pub flags: u16,
    pub offset: u64,
    pub length: u64,
    pub crc32: u32,
}

impl SectionInfo {
    /// How errors name this section: `catalog`, `recommender "also-viewed" (section 6)`.
    #[must_use]
    pub fn label(&self) -> String {
        match self.kind {
            SectionKind::Recommender if self.name.is_empty() => {
                format!("recommender (section {})", self.index)
            }
            SectionKind::Recommender => {
                format!(
                    "recommender {} (section {})",
                    quoted(&self.name),
                    self.index
                )
            }
            SectionKind::Unknown(c) => format!("unknown section kind {c}"),
            k => k.name().to_owned(),
        }
    }
}

/// What a model file's header says, without decoding its sections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// Format version (major, minor) the file was written with.
    pub version: (u16, u16),
    /// Required-capability bits.
    pub capabilities: u64,
    /// Who may receive the file: the `meta` section's [`FLAG_PUBLIC`] (format 1.2), else
    /// private.
    pub profile: Profile,
    /// Length of the whole file in bytes.
    pub file_length: u64,
    /// Length of the header including the section table and its checksum.
    pub header_length: u64,
    pub sections: Vec<SectionInfo>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn truncated(what: &'static str, needed: usize, available: usize) -> FormatError {
    FormatError::Truncated {
        what,
        needed: needed as u64,
        available: available as u64,
    }
}

/// Reads and checks the header and section table: magic, version, limits, header checksum,
/// capabilities, file length, and that every section lies inside the file after the header
/// without overlapping another. Section contents are not read (recommender names aside).
pub(crate) fn parse(bytes: &[u8]) -> Result<FileInfo, FormatError> {
    parse_with(bytes, bytes.len() as u64)
}

/// [`parse`] when `bytes` may be only a prefix of a file of `available` bytes (at least the
/// header, or the whole file when shorter). Recommender names are read from the sections that
/// the prefix holds; the others stay empty until their section is decoded.
pub(crate) fn parse_with(bytes: &[u8], available: u64) -> Result<FileInfo, FormatError> {
    let head = bytes.get(..MAGIC.len()).unwrap_or(bytes);
    if head != &MAGIC[..head.len()] {
        return Err(FormatError::BadMagic {
            found: head.to_vec(),
        });
    }
    if bytes.len() < MAGIC.len() {
        return Err(truncated("magic", MAGIC.len(), bytes.len()));
    }
    let (Some(major), Some(minor)) = (u16_at(bytes, 8), u16_at(bytes, 10)) else {
        return Err(truncated("format version", 12, bytes.len()));
    };
    if major < OLDEST_SUPPORTED_FORMAT_VERSION.0 || major > FORMAT_VERSION.0 {
        return Err(FormatError::UnsupportedVersion {
            found_major: major,
            found_minor: minor,
            oldest: OLDEST_SUPPORTED_FORMAT_VERSION.0,
            newest: FORMAT_VERSION.0,
        });
    }
    if available > MAX_FILE_LEN {
        return Err(FormatError::TooLarge {
            what: "file length",
            value: available,
            limit: MAX_FILE_LEN,
        });
    }
    let (Some(count), Some(caps), Some(file_len)) =
        (u32_at(bytes, 12), u64_at(bytes, 16), u64_at(bytes, 24))
    else {
        return Err(truncated("header", FIXED_LEN, bytes.len()));
    };
    if u64::from(count) > MAX_SECTIONS as u64 {
        return Err(FormatError::TooLarge {
            what: "section count",
            value: u64::from(count),
            limit: MAX_SECTIONS as u64,
        });
    }
    let n = count as usize;
    let table_end = FIXED_LEN + ENTRY_LEN * n;
    let (Some(table), Some(stored)) = (bytes.get(..table_end), u32_at(bytes, table_end)) else {
        return Err(truncated("section table", header_len(n), bytes.len()));
    };
    let computed = crate::crc32::hash(table);
    if computed != stored {
        return Err(FormatError::Checksum {
            section: "header".to_owned(),
            stored,
            computed,
        });
    }
    let missing = caps & !SUPPORTED_CAPABILITIES;
    if missing != 0 {
        return Err(FormatError::MissingCapabilities {
            missing,
            supported: SUPPORTED_CAPABILITIES,
        });
    }
    if file_len > MAX_FILE_LEN {
        return Err(FormatError::TooLarge {
            what: "declared file length",
            value: file_len,
            limit: MAX_FILE_LEN,
        });
    }
    if available < file_len {
        return Err(FormatError::Truncated {
            what: "file",
            needed: file_len,
            available,
        });
    }
    if available > file_len {
        return Err(FormatError::SectionTable(format!(
            "the header declares {file_len} bytes but {available} are present"
        )));
    }
    let header_end = header_len(n) as u64;
    let mut sections = Vec::with_capacity(n);
    for i in 0..n {
        let at = FIXED_LEN + ENTRY_LEN * i;
        let (Some(code), Some(flags), Some(crc32), Some(offset), Some(length)) = (
            u16_at(table, at),
            u16_at(table, at + 2),
            u32_at(table, at + 4),
            u64_at(table, at + 8),
            u64_at(table, at + 16),
        ) else {
            return Err(truncated("section table", table_end, table.len()));
        };
        let kind = SectionKind::from_code(code);
        if length > MAX_FILE_LEN {
            return Err(FormatError::TooLarge {
                what: "section length",
                value: length,
                limit: MAX_FILE_LEN,
            });
        }
        let end = offset.checked_add(length).filter(|&e| e <= file_len);
        if offset < header_end || end.is_none() {
            return Err(FormatError::SectionTable(format!(
                "section {i} ({}) spans bytes {offset}..{} outside the {} section bytes after the {header_end}-byte header",
                kind.name(),
                offset.saturating_add(length),
                file_len - header_end.min(file_len),
            )));
        }
        sections.push(SectionInfo {
            index: i,
            kind,
            code,
            name: if kind == SectionKind::Recommender {
                String::new()
            } else {
                kind.name().to_owned()
            },
            flags,
            offset,
            length,
            crc32,
        });
    }
    let mut spans: Vec<(u64, u64, usize)> = sections
        .iter()
        .enumerate()
        .map(|(i, s)| (s.offset, s.offset + s.length, i))
        .collect();
    crate::sort::sort(&mut spans);
    for w in spans.windows(2) {
        if let [(_, end_a, a), (start_b, _, b)] = w
            && start_b < end_a
        {
            return Err(FormatError::SectionTable(format!(
                "sections {a} and {b} overlap"
            )));
        }
    }
    let public = sections
        .iter()
        .find(|s| s.kind == SectionKind::Meta)
        .is_some_and(|s| s.flags & FLAG_PUBLIC != 0);
    for s in &mut sections {
        if s.kind == SectionKind::Recommender
            && let Some(name) = section_bytes(bytes, s).and_then(super::peek_name)
        {
            s.name = name;
        }
    }
    Ok(FileInfo {
        version: (major, minor),
        capabilities: caps,
        profile: if public {
            Profile::Public
        } else {
            Profile::Private
        },
        file_length: file_len,
        header_length: header_end,
        sections,
    })
}

/// The bytes of a section the table has already placed inside the file.
pub(crate) fn section_bytes<'b>(bytes: &'b [u8], s: &SectionInfo) -> Option<&'b [u8]> {
    let start = usize::try_from(s.offset).ok()?;
    let end = start.checked_add(usize::try_from(s.length).ok()?)?;
    bytes.get(start..end)
}

/// Writes a header of format `version` for `sections` (offsets, checksums and flags already
/// known). The encoder stamps the oldest version that holds the model; a signer keeps the
/// version of the file it signs.
#[cfg(feature = "write")]
pub(crate) fn write_with_version(
    version: (u16, u16),
    caps: u64,
    file_len: u64,
    sections: &[SectionInfo],
) -> Vec<u8> {
    let mut h = Vec::with_capacity(header_len(sections.len()));
    h.extend_from_slice(&MAGIC);
    h.extend_from_slice(&version.0.to_le_bytes());
    h.extend_from_slice(&version.1.to_le_bytes());
    h.extend_from_slice(
        &u32::try_from(sections.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    h.extend_from_slice(&caps.to_le_bytes());
    h.extend_from_slice(&file_len.to_le_bytes());
    for s in sections {
        h.extend_from_slice(&s.code.to_le_bytes());
        h.extend_from_slice(&s.flags.to_le_bytes());
        h.extend_from_slice(&s.crc32.to_le_bytes());
        h.extend_from_slice(&s.offset.to_le_bytes());
        h.extend_from_slice(&s.length.to_le_bytes());
    }
    let crc = crate::crc32::hash(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}
