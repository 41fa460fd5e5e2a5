//! Export and import of live sessions as versioned, checksummed bytes, so a browser can keep
//! them in IndexedDB and a Worker in KV across restarts and model updates.
//!
//! ```text
//! offset  size  field
//!      0     8  magic  89 45 52 53 0d 0a 1a 0a   ("\x89ERS\r\n\x1a\n")
//!      8     2  format version (little-endian u16), currently 1
//!     10     2  flags (none defined; readers reject unknown flags)
//!     12     4  payload length in bytes (u32)
//!     16     4  CRC32 of the payload (u32)
//!     20     …  payload: the session list in bincode 2's standard encoding (see `payload`)
//! ```
//!
//! Sessions are stored by external ids (item ids, not catalogue indexes), so a session
//! exported under one model imports into the next one. Every count and length is bounded
//! before anything is kept; any damage gives an `InvalidInputException` on `sessions`.

use std::collections::BTreeMap;

use crate::error::{RequestError, quoted};
use crate::idlist::IdList;
use crate::request::limits;
use crate::session::{Session, SessionEvent, SessionStore};

/// The first eight bytes of exported sessions.
pub const SESSIONS_MAGIC: [u8; 8] = *b"\x89ERS\r\n\x1a\n";
/// The version this build writes and the only one it reads.
pub const SESSIONS_FORMAT_VERSION: u16 = 1;
/// Most sessions one blob may hold (the engine's session store holds 10 000).
pub const MAX_SESSIONS: usize = 10_000;
/// Most event types per session.
pub const MAX_EVENT_TYPES: usize = 64;
/// Most impression entries per session.
pub const MAX_IMPRESSIONS: usize = 10_000;
/// Largest payload accepted (64 MiB).
pub const MAX_PAYLOAD: usize = 64 << 20;

const HEADER_LEN: usize = 20;

#[derive(Debug, PartialEq)]
#[cfg_attr(test, derive(serde::Serialize, serde::Deserialize, Clone))]
struct EventWire {
    item_id: Option<String>,
    event_type: String,
    sent_at: f64,
    value: Option<f64>,
    seq: u64,
}

#[derive(Debug, PartialEq)]
#[cfg_attr(test, derive(serde::Serialize, serde::Deserialize, Clone))]
struct SessionWire {
    key: String,
    /// Oldest first.
    events: Vec<EventWire>,
    impressions: Vec<(String, u32)>,
}

/// A session read from bytes, with ids not yet resolved against a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedSession {
    /// The session key (user id, or session id of an anonymous visitor).
    pub key: String,
    /// Events oldest first, `item` unresolved (`None`), `seq` as exported.
    pub events: Vec<SessionEvent>,
    /// Item ids shown in impressions and how often.
    pub impressions: Vec<(String, u32)>,
}

impl ImportedSession {
    /// The session with item ids resolved by `item_index` and sequence numbers renumbered
    /// from `*next_seq` on (in their exported order); advances `*next_seq`.
    pub fn into_session(
        self,
        next_seq: &mut u64,
        item_index: impl Fn(&str) -> Option<u32>,
    ) -> Session {
        let mut s = Session::default();
        for mut e in self.events {
            *next_seq += 1;
            e.seq = *next_seq;
            e.item = e.item_id.as_deref().and_then(&item_index);
            s.push(e);
        }
        for (id, n) in self.impressions {
            if let Some(i) = item_index(&id) {
                *s.impressions.entry(i).or_default() += n;
            }
        }
        s
    }
}

fn invalid(message: impl Into<String>) -> RequestError {
    RequestError::invalid("sessions", message)
}

/// Encodes every session of `store`; `item_ids` names the catalogue indexes of impressions.
#[must_use]
pub fn encode(store: &SessionStore, item_ids: &IdList) -> Vec<u8> {
    let mut keys: Vec<&String> = store.iter().map(|(k, _)| k).collect();
    crate::sort::sort(&mut keys);
    let sessions: Vec<SessionWire> = keys
        .into_iter()
        .filter_map(|k| store.get(k).map(|s| (k, s)))
        .map(|(key, s)| {
            let mut events: Vec<EventWire> = s
                .recent()
                .into_iter()
                .map(|e| EventWire {
                    item_id: e.item_id.clone(),
                    event_type: e.event_type.clone(),
                    sent_at: e.sent_at,
                    value: e.value,
                    seq: e.seq,
                })
                .collect();
            crate::sort::sort_by_key(&mut events, |e| e.seq);
            let mut impressions: Vec<(String, u32)> = s
                .impressions
                .iter()
                .filter_map(|(&i, &n)| item_ids.get(i as usize).map(|id| (id.to_owned(), n)))
                .collect();
            crate::sort::sort(&mut impressions);
            impressions.truncate(MAX_IMPRESSIONS);
            SessionWire {
                key: key.clone(),
                events,
                impressions,
            }
        })
        .collect();
    let payload = payload::encode(&sessions);
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&SESSIONS_MAGIC);
    out.extend_from_slice(&SESSIONS_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(&crate::crc32::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Decodes exported sessions, checking the header, the checksum and every bound.
pub fn decode(bytes: &[u8]) -> Result<Vec<ImportedSession>, RequestError> {
    if bytes.len() < HEADER_LEN {
        return Err(invalid(format!(
            "{} bytes are too short for exported sessions (the header alone is {HEADER_LEN})",
            bytes.len()
        )));
    }
    if bytes[..8] != SESSIONS_MAGIC {
        return Err(invalid("not exported edgerec sessions (bad magic bytes)"));
    }
    let version = le_u16(bytes, 8);
    if version != SESSIONS_FORMAT_VERSION {
        return Err(invalid(format!(
            "unsupported sessions format version {version}: this build reads version {SESSIONS_FORMAT_VERSION}"
        )));
    }
    let flags = le_u16(bytes, 10);
    if flags != 0 {
        return Err(invalid(format!("unknown flags {flags:#06x}")));
    }
    let len = le_u32(bytes, 12) as usize;
    if len > MAX_PAYLOAD {
        return Err(invalid(format!(
            "payload of {len} bytes exceeds the limit of {MAX_PAYLOAD}"
        )));
    }
    let payload = &bytes[HEADER_LEN..];
    if payload.len() != len {
        return Err(invalid(format!(
            "payload is {} bytes but the header says {len} (truncated or padded)",
            payload.len()
        )));
    }
    let stored = le_u32(bytes, 16);
    let computed = crate::crc32::hash(payload);
    if stored != computed {
        return Err(invalid(format!(
            "checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (the data is corrupted)"
        )));
    }
    let wire = payload::decode(payload)
        .map_err(|e| invalid(format!("payload could not be decoded: {e}")))?;
    check(&wire)?;
    Ok(wire
        .into_iter()
        .map(|s| ImportedSession {
            key: s.key,
            events: s
                .events
                .into_iter()
                .map(|e| SessionEvent {
                    item: None,
                    item_id: e.item_id,
                    event_type: e.event_type,
                    sent_at: e.sent_at,
                    value: e.value,
                    seq: e.seq,
                })
                .collect(),
            impressions: s.impressions,
        })
        .collect())
}

fn id_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= limits::MAX_ID_LEN
}

fn check(wire: &[SessionWire]) -> Result<(), RequestError> {
    if wire.len() > MAX_SESSIONS {
        return Err(invalid(format!(
            "{} sessions exceed the limit of {MAX_SESSIONS}",
            wire.len()
        )));
    }
    for (k, s) in wire.iter().enumerate() {
        if !id_ok(&s.key) {
            return Err(invalid(format!(
                "session {k} has an empty or over-long key"
            )));
        }
        let mut per_type: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &s.events {
            if !id_ok(&e.event_type) || e.item_id.as_deref().is_some_and(|i| !id_ok(i)) {
                return Err(invalid(format!(
                    "session {} has an invalid id",
                    quoted(&s.key)
                )));
            }
            if !e.sent_at.is_finite() || e.value.is_some_and(|v| !v.is_finite()) {
                return Err(invalid(format!(
                    "session {} has a non-finite number",
                    quoted(&s.key)
                )));
            }
            *per_type.entry(&e.event_type).or_default() += 1;
        }
        if per_type.len() > MAX_EVENT_TYPES
            || per_type
                .values()
                .any(|&n| n > limits::SESSION_EVENTS_PER_TYPE)
        {
            return Err(invalid(format!(
                "session {} holds more events than a session keeps",
                quoted(&s.key)
            )));
        }
        if s.impressions.len() > MAX_IMPRESSIONS || s.impressions.iter().any(|(id, _)| !id_ok(id)) {
            return Err(invalid(format!(
                "session {} has invalid impressions",
                quoted(&s.key)
            )));
        }
    }
    Ok(())
}

/// The payload: `Vec<SessionWire>` in bincode 2's standard encoding (as `bincode::serde` wrote
/// and read it): varint counts, lengths and integers (a byte < 251, or 251/252/253 followed by
/// a little-endian u16/u32/u64), `f64` as 8 bytes little-endian, `Option` as a byte 0/1 before
/// the value, strings as a length and UTF-8 bytes. Written by hand so that the wasm package
/// carries no serde codec for it; a test checks both directions against bincode.
mod payload {
    use super::{EventWire, SessionWire};
    use crate::format::read::Reader;
    use crate::format::writer::Writer;

    pub(super) fn encode(sessions: &[SessionWire]) -> Vec<u8> {
        let mut w = Writer::default();
        w.u64(sessions.len() as u64);
        for s in sessions {
            w.str(&s.key);
            w.u64(s.events.len() as u64);
            for e in &s.events {
                w.option(e.item_id.as_deref(), Writer::str);
                w.str(&e.event_type);
                w.f64(e.sent_at);
                w.option(e.value, Writer::f64);
                w.u64(e.seq);
            }
            w.u64(s.impressions.len() as u64);
            for (id, n) in &s.impressions {
                w.str(id);
                w.u64(u64::from(*n));
            }
        }
        w.0
    }

    /// Reads `count` values, reserving no more than the bytes left could hold.
    fn list<T>(
        r: &mut Reader<'_>,
        mut each: impl FnMut(&mut Reader<'_>) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let n = r.u64()?;
        let mut v = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(r.remaining()));
        for _ in 0..n {
            v.push(each(r)?);
        }
        Ok(v)
    }

    pub(super) fn decode(payload: &[u8]) -> Result<Vec<SessionWire>, String> {
        let mut r = Reader::new(payload);
        let sessions = list(&mut r, |r| {
            Ok(SessionWire {
                key: r.str()?.to_owned(),
                events: list(r, |r| {
                    Ok(EventWire {
                        item_id: if r.option_tag()? {
                            Some(r.str()?.to_owned())
                        } else {
                            None
                        },
                        event_type: r.str()?.to_owned(),
                        sent_at: r.f64()?,
                        value: if r.option_tag()? {
                            Some(r.f64()?)
                        } else {
                            None
                        },
                        seq: r.u64()?,
                    })
                })?,
                impressions: list(r, |r| Ok((r.str()?.to_owned(), r.u32()?)))?,
            })
        })?;
        r.finish()?;
        Ok(sessions)
    }

    #[cfg(test)]
    mod tests {
        use bincode::config;
        use proptest::prelude::*;

        use super::super::{EventWire, SessionWire};

        fn arb_sessions() -> impl Strategy<Value = Vec<SessionWire>> {
            let event = (
                proptest::option::of(".{0,8}"),
                ".{0,8}",
                any::<f64>(),
                proptest::option::of(any::<f64>()),
                prop_oneof![
                    0u64..300,
                    any::<u64>(),
                    60_000u64..70_000,
                    4_000_000_000u64..5_000_000_000
                ],
            )
                .prop_map(|(item_id, event_type, sent_at, value, seq)| EventWire {
                    item_id,
                    event_type,
                    sent_at,
                    value,
                    seq,
                });
            let session = (
                ".{0,300}",
                proptest::collection::vec(event, 0..5),
                proptest::collection::vec((".{0,6}", any::<u32>()), 0..4),
            )
                .prop_map(|(key, events, impressions)| SessionWire {
                    key,
                    events,
                    impressions,
                });
            proptest::collection::vec(session, 0..4)
        }

        fn bincode_decode(b: &[u8]) -> Option<Vec<SessionWire>> {
            let cfg = config::standard().with_limit::<{ super::super::MAX_PAYLOAD }>();
            match bincode::serde::decode_from_slice::<Vec<SessionWire>, _>(b, cfg) {
                Ok((v, used)) if used == b.len() => Some(v),
                _ => None,
            }
        }

        fn same(a: &[SessionWire], b: &[SessionWire]) -> bool {
            // compares floats by bits (NaN included) through the encoding
            super::encode(a) == super::encode(b)
        }

        proptest! {
            #[test]
            fn encodes_and_decodes_as_bincode_does(v in arb_sessions()) {
                let ours = super::encode(&v);
                let theirs = bincode::serde::encode_to_vec(&v, config::standard()).unwrap_or_default();
                prop_assert_eq!(&ours, &theirs);
                let back = super::decode(&ours);
                prop_assert!(back.as_ref().is_ok_and(|b| same(b, &v)));
            }

            #[test]
            fn accepts_what_bincode_accepts(v in arb_sessions(), edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4), cut in any::<usize>()) {
                let mut b = super::encode(&v);
                for (at, x) in edits {
                    let n = b.len();
                    if n > 0 {
                        b[at % n] = x;
                    }
                }
                b.truncate(b.len() - cut % 3.min(b.len() + 1));
                match (super::decode(&b), bincode_decode(&b)) {
                    (Ok(ours), Some(theirs)) => prop_assert!(same(&ours, &theirs)),
                    (Err(_), None) => {}
                    (ours, theirs) => prop_assert!(false, "ours {ours:?}, bincode {theirs:?}"),
                }
            }
        }
    }
}
