//! Segment-spec calls (`track`, `page`, `screen`, `identify`, and `batch` of them) mapped onto
//! PutEvents and PutUsers, once, for `edgerec serve` and the Worker (feature `segment`; the npm
//! package's wasm never enables it). The adapters authenticate, call [`parse_call`] or
//! [`parse_batch`], and feed the results to their existing PutEvents / PutUsers ingest, so the
//! limits, validation, dedupe and storage are those of PutEvents / PutUsers.
//!
//! | Segment | edgerec |
//! |---|---|
//! | `anonymousId` | `sessionId` (`userId` when there is no `anonymousId`) |
//! | `userId` | `userId` |
//! | `event` (track) | `eventType`, through [`SegmentConfig::event_types`]; unmapped names as sent |
//! | page / screen call | `eventType` `page` / `screen` (keys `$page` / `$screen` of the map) |
//! | `properties.product_id`, else `properties.sku` (string or number) | `itemId` |
//! | `properties.price`, else `revenue`, else `value` (a number) | `eventValue` |
//! | the other scalar `properties` | `properties` (a JSON object string, ≤ 1,024 characters) |
//! | `timestamp`, else `originalTimestamp` (RFC 3339) | `sentAt` (Unix seconds) |
//! | `messageId` | `eventId` (retries are stored once); absent: derived from the event |
//! | identify: `userId`, scalar `traits` | PutUsers `userId`, `properties` |
//!
//! Every error names its field: `timestamp: not an RFC 3339 time`, or in a batch
//! `batch[3].timestamp: ...`. A bad call of a batch rejects that call only.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::calendar;
use crate::error::RequestError;
use crate::event_id::derive_event_id;
use crate::json::{self, Value};
use crate::records::json_kind as kind;
use crate::request::{Event, PutEventsRequest, User, check_id, limits};

mod outcome;
pub use outcome::{Outcome, Rejected};

/// Largest body of one call (Segment's HTTP API: 32 KB).
pub const MAX_CALL_BYTES: usize = 32 * 1024;
/// Largest body of a `batch` (Segment's HTTP API: 500 KB).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;

/// The call types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallType {
    Track,
    Page,
    Screen,
    Identify,
}

impl CallType {
    /// `track`, `page`, `screen` or `identify`.
    #[must_use]
    pub fn parse(s: &str) -> Option<CallType> {
        match s {
            "track" => Some(CallType::Track),
            "page" => Some(CallType::Page),
            "screen" => Some(CallType::Screen),
            "identify" => Some(CallType::Identify),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Track => "track",
            CallType::Page => "page",
            CallType::Screen => "screen",
            CallType::Identify => "identify",
        }
    }
}

/// How calls become events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SegmentConfig {
    /// Track event name → event type (`"Product Viewed" → "view"`). A name that is not a key is
    /// the event type as sent (case kept). The keys `$page` and `$screen` give the event type of
    /// page and screen calls (default `page` and `screen`).
    pub event_types: BTreeMap<String, String>,
}

impl SegmentConfig {
    /// The map from a JSON object of strings: `{"Product Viewed": "view", "$page": "view"}`.
    /// Empty text is the empty map.
    pub fn from_json(text: &str) -> Result<SegmentConfig, RequestError> {
        let field = "segment event map";
        if text.trim().is_empty() {
            return Ok(SegmentConfig::default());
        }
        let value = json::from_str(text)
            .map_err(|e| RequestError::invalid(field, format!("not valid JSON: {e}")))?;
        let Value::Object(entries) = value else {
            return Err(RequestError::invalid(
                field,
                format!("expected a JSON object, found {}", kind(&value)),
            ));
        };
        let mut event_types = BTreeMap::new();
        for (name, v) in entries {
            let Value::String(t) = v else {
                return Err(RequestError::invalid(
                    format!("{field}.{name}"),
                    format!("expected an event type string, found {}", kind(&v)),
                ));
            };
            check_id(&format!("{field}.{name}"), &t)?;
            event_types.insert(name, t);
        }
        Ok(SegmentConfig { event_types })
    }

    /// The event type of a call (`name`: the track call's `event`).
    #[must_use]
    pub fn event_type(&self, call: CallType, name: &str) -> String {
        let key = match call {
            CallType::Page => "$page",
            CallType::Screen => "$screen",
            CallType::Track | CallType::Identify => name,
        };
        match self.event_types.get(key) {
            Some(t) => t.clone(),
            None if call == CallType::Track => name.to_owned(),
            None => call.as_str().to_owned(),
        }
    }
}

/// A mapped call: a PutEvents request of one event (its `eventId` always set), or a PutUsers
/// record.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    Event(PutEventsRequest),
    User(User),
}

/// A batch, mapped: the good calls and the rejected ones, each with its index in `batch`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MappedBatch {
    pub calls: Vec<(usize, Mapped)>,
    pub rejected: Vec<(usize, RequestError)>,
}

impl MappedBatch {
    /// The events, grouped as PutEvents requests of one session and user and at most
    /// [`limits::MAX_EVENTS_PER_CALL`] events (in batch order within a request), each with the
    /// batch indexes of its events.
    #[must_use]
    pub fn put_events(&self) -> Vec<(Vec<usize>, PutEventsRequest)> {
        let mut out: Vec<(Vec<usize>, PutEventsRequest)> = Vec::new();
        for (index, call) in &self.calls {
            let Mapped::Event(req) = call else { continue };
            let open = out.iter_mut().find(|(_, r)| {
                r.session_id == req.session_id
                    && r.user_id == req.user_id
                    && r.event_list.len() < limits::MAX_EVENTS_PER_CALL
            });
            match open {
                Some((indexes, r)) => {
                    indexes.push(*index);
                    r.event_list.extend(req.event_list.iter().cloned());
                }
                None => out.push((vec![*index], req.clone())),
            }
        }
        out
    }

    /// The users (identify calls), with their batch indexes.
    #[must_use]
    pub fn users(&self) -> Vec<(usize, User)> {
        self.calls
            .iter()
            .filter_map(|(k, c)| match c {
                Mapped::User(u) => Some((*k, u.clone())),
                Mapped::Event(_) => None,
            })
            .collect()
    }
}

/// Maps the body of one call. `route` is the call type of the route (`/v1/track` → `Track`):
/// the body's `type`, when present, must agree with it. `None` (a generic route): `type` is
/// required.
pub fn parse_call(
    body: &[u8],
    route: Option<CallType>,
    config: &SegmentConfig,
) -> Result<Mapped, RequestError> {
    let Value::Object(obj) = parse_body(body)? else {
        return Err(RequestError::invalid(
            "body",
            "expected a JSON object (a Segment call)",
        ));
    };
    map_call(&obj, "", route, config)
}

/// Maps a `{"batch": [call, ...]}` body. A body that is not such an object (or an empty batch)
/// is an error; a bad call is rejected alone, with its index.
pub fn parse_batch(body: &[u8], config: &SegmentConfig) -> Result<MappedBatch, RequestError> {
    let Value::Object(obj) = parse_body(body)? else {
        return Err(RequestError::invalid(
            "body",
            "expected a JSON object {\"batch\": [...]}",
        ));
    };
    let list = match get(&obj, "batch") {
        None | Some(Value::Null) => return Err(RequestError::invalid("batch", "is required")),
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(RequestError::invalid("batch", "must hold at least 1 call"));
        }
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(RequestError::invalid(
                "batch",
                format!("expected an array, found {}", kind(other)),
            ));
        }
    };
    let mut out = MappedBatch::default();
    for (k, v) in list.iter().enumerate() {
        let prefix = format!("batch[{k}].");
        let r = match v {
            Value::Object(call) => map_call(call, &prefix, None, config),
            other => Err(RequestError::invalid(
                format!("batch[{k}]"),
                format!("expected an object (a Segment call), found {}", kind(other)),
            )),
        };
        match r {
            Ok(m) => out.calls.push((k, m)),
            Err(e) => out.rejected.push((k, e)),
        }
    }
    Ok(out)
}

/// The write key of `Authorization: Basic base64(writeKey:)` (Segment's HTTP API form): the
/// user name, the password ignored. `None` for another scheme or a malformed value.
#[must_use]
pub fn basic_write_key(authorization: &str) -> Option<String> {
    use base64ct::{Base64, Encoding};
    let encoded = authorization
        .strip_prefix("Basic ")
        .or_else(|| authorization.strip_prefix("basic "))?
        .trim();
    let decoded = Base64::decode_vec(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split_once(':').map_or(text.as_str(), |(u, _)| u);
    (!key.is_empty()).then(|| key.to_owned())
}

/// The user with only the traits that are fields of the user schema `columns` (matched as
/// PutUsers matches them: case-insensitive, `_` ignored). The Worker folds users into its model,
/// whose PutUsers refuses other keys; Segment traits often carry more (names, e-mail addresses)
/// that have no place there.
#[must_use]
pub fn schema_traits(user: &User, columns: &[crate::Column]) -> User {
    let properties = user.properties.as_deref().and_then(|text| {
        let Ok(Value::Object(entries)) = json::from_str(text) else {
            return None;
        };
        let kept: Vec<(String, Value)> = entries
            .into_iter()
            .filter(|(k, _)| {
                let n = crate::records::norm(k);
                columns.iter().any(|c| crate::records::norm(&c.name) == n)
            })
            .collect();
        scalar_object(&kept, &[], &[], limits::MAX_USER_PROPERTIES_LEN)
    });
    User {
        user_id: user.user_id.clone(),
        properties,
    }
}

fn parse_body(body: &[u8]) -> Result<Value, RequestError> {
    if body.is_empty() {
        return Err(RequestError::invalid("body", "a JSON object is required"));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| RequestError::invalid("body", format!("not UTF-8: {e}")))?;
    json::from_str(text).map_err(|e| RequestError::invalid("body", format!("not valid JSON: {e}")))
}

fn get<'a>(obj: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    obj.binary_search_by(|(k, _)| k.as_str().cmp(key))
        .ok()
        .and_then(|i| obj.get(i))
        .map(|(_, v)| v)
}

/// An id (1..=256 characters): a string, or a number as written in JSON; `null` is absent.
fn id_field(
    obj: &[(String, Value)],
    key: &str,
    field: &str,
) -> Result<Option<String>, RequestError> {
    let id = match get(obj, key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => number_text(*n),
        Some(other) => {
            return Err(RequestError::invalid(
                field,
                format!("expected a string or a number, found {}", kind(other)),
            ));
        }
    };
    check_id(field, &id)?;
    Ok(Some(id))
}

fn number_text(n: json::Number) -> String {
    match n {
        json::Number::PosInt(u) => u.to_string(),
        json::Number::NegInt(i) => i.to_string(),
        json::Number::Float(f) => format!("{f:?}"),
    }
}

fn map_call(
    obj: &[(String, Value)],
    prefix: &str,
    route: Option<CallType>,
    config: &SegmentConfig,
) -> Result<Mapped, RequestError> {
    let f = |name: &str| format!("{prefix}{name}");
    let call = match (get(obj, "type"), route) {
        (None | Some(Value::Null), Some(r)) => r,
        (None | Some(Value::Null), None) => {
            return Err(RequestError::invalid(
                f("type"),
                "is required (track, page, screen or identify)",
            ));
        }
        (Some(Value::String(t)), route) => match (CallType::parse(t), route) {
            (Some(c), None) => c,
            (Some(c), Some(r)) if c == r => c,
            (Some(_), Some(r)) => {
                return Err(RequestError::invalid(
                    f("type"),
                    format!("is {t:?}, but this route takes {} calls", r.as_str()),
                ));
            }
            (None, _) => {
                return Err(RequestError::invalid(
                    f("type"),
                    format!("{t:?} is not a supported call type (track, page, screen or identify)"),
                ));
            }
        },
        (Some(other), _) => {
            return Err(RequestError::invalid(
                f("type"),
                format!("expected a string, found {}", kind(other)),
            ));
        }
    };
    let user_id = id_field(obj, "userId", &f("userId"))?;
    let anonymous_id = id_field(obj, "anonymousId", &f("anonymousId"))?;
    if call == CallType::Identify {
        let user_id = user_id
            .ok_or_else(|| RequestError::invalid(f("userId"), "is required for identify calls"))?;
        let traits = object_field(obj, "traits", &f("traits"))?;
        let properties =
            traits.and_then(|t| scalar_object(t, &[], &[], limits::MAX_USER_PROPERTIES_LEN));
        return Ok(Mapped::User(User {
            user_id,
            properties,
        }));
    }
    let session_id = anonymous_id.or_else(|| user_id.clone()).ok_or_else(|| {
        RequestError::invalid(
            f("anonymousId"),
            "is required when the call has no userId (it becomes the sessionId)",
        )
    })?;
    let name = match call {
        CallType::Track => match get(obj, "event") {
            None | Some(Value::Null) => {
                return Err(RequestError::invalid(
                    f("event"),
                    "is required for track calls",
                ));
            }
            Some(Value::String(s)) if s.is_empty() => {
                return Err(RequestError::invalid(f("event"), "must not be empty"));
            }
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(RequestError::invalid(
                    f("event"),
                    format!("expected a string, found {}", kind(other)),
                ));
            }
        },
        _ => String::new(),
    };
    let event_type = config.event_type(call, &name);
    check_id(&f("event"), &event_type)?;
    let sent_at = sent_at(obj, prefix)?;
    let event_id = id_field(obj, "messageId", &f("messageId"))?;
    let props = object_field(obj, "properties", &f("properties"))?.unwrap_or(&[]);
    let (item_id, item_key) = match id_field(props, "product_id", &f("properties.product_id"))? {
        Some(id) => (Some(id), Some("product_id")),
        None => match id_field(props, "sku", &f("properties.sku"))? {
            Some(id) => (Some(id), Some("sku")),
            None => (None, None),
        },
    };
    let (event_value, value_key) = ["price", "revenue", "value"]
        .iter()
        .find_map(|k| match get(props, k) {
            Some(Value::Number(n)) => n.as_f64().filter(|x| x.is_finite()).map(|x| (x, *k)),
            _ => None,
        })
        .map_or((None, None), |(x, k)| (Some(x), Some(k)));
    let used: Vec<&str> = [item_key, value_key].into_iter().flatten().collect();
    let properties = scalar_object(
        props,
        &used,
        &limits::FORBIDDEN_PROPERTIES,
        limits::MAX_PROPERTIES_LEN,
    );
    let mut req = PutEventsRequest {
        tracking_id: None,
        session_id,
        user_id,
        event_list: vec![Event {
            event_id,
            event_type,
            item_id,
            sent_at,
            event_value,
            properties,
            ..Event::default()
        }],
    };
    if let Some(e) = req.event_list.first()
        && e.event_id.is_none()
    {
        let id = derive_event_id(&req, 0);
        if let Some(e) = req.event_list.first_mut() {
            e.event_id = Some(id);
        }
    }
    crate::contract::put_events(&req, &crate::contract::Policy::PERSONALIZE).map_err(
        |e| match e {
            RequestError::InvalidInput { field, message } => RequestError::invalid(
                format!("{prefix}{}", field.trim_start_matches("eventList[0].")),
                message,
            ),
            other => other,
        },
    )?;
    Ok(Mapped::Event(req))
}

fn object_field<'a>(
    obj: &'a [(String, Value)],
    key: &str,
    field: &str,
) -> Result<Option<&'a [(String, Value)]>, RequestError> {
    match get(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(RequestError::invalid(
            field,
            format!("expected an object, found {}", kind(other)),
        )),
    }
}

/// `sentAt` from `timestamp`, else `originalTimestamp`.
fn sent_at(obj: &[(String, Value)], prefix: &str) -> Result<f64, RequestError> {
    for key in ["timestamp", "originalTimestamp"] {
        let field = format!("{prefix}{key}");
        match get(obj, key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                let t = rfc3339(s).ok_or_else(|| {
                    RequestError::invalid(
                        &field,
                        format!(
                            "not an RFC 3339 time (e.g. 2024-05-01T12:30:00.000Z): {:?}",
                            s.chars().take(40).collect::<String>()
                        ),
                    )
                })?;
                if t < 0.0 {
                    return Err(RequestError::invalid(field, "must not be before 1970"));
                }
                return Ok(t);
            }
            Some(other) => {
                return Err(RequestError::invalid(
                    field,
                    format!("expected an RFC 3339 time string, found {}", kind(other)),
                ));
            }
        }
    }
    Err(RequestError::invalid(
        format!("{prefix}timestamp"),
        "is required (an RFC 3339 time; originalTimestamp is taken when timestamp is absent)",
    ))
}

/// Seconds since 1970 of an RFC 3339 time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` (`t`, `z`,
/// a space for `T`, and `±HHMM` accepted too).
#[must_use]
pub fn rfc3339(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    // Two digits each: they fit.
    let (month, day) = (u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > calendar::days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut fraction = 0.0;
    if b.get(at) == Some(&b'.') {
        let start = at + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start {
            return None;
        }
        fraction = format!("0.{}", s.get(start..end)?).parse::<f64>().ok()?;
        at = end;
    }
    let offset = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        &sign @ (b'+' | b'-') => {
            let oh = num(at + 1, 2)?;
            let (om, end) = if sep(at + 3, b":") {
                (num(at + 4, 2)?, at + 6)
            } else {
                (num(at + 3, 2)?, at + 5)
            };
            if end != b.len() || oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = calendar::days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    #[allow(clippy::cast_precision_loss)]
    Some(secs as f64 + fraction)
}

/// The scalar entries (strings, numbers, booleans) of an object as a JSON object string, in key
/// order, without the keys `skip` and `reserved`; an entry that would take the text past `max`
/// characters is left out. `None` when nothing is kept.
fn scalar_object(
    obj: &[(String, Value)],
    skip: &[&str],
    reserved: &[&str],
    max: usize,
) -> Option<String> {
    let mut out = String::from("{");
    let mut len = 1;
    for (k, v) in obj {
        if skip.contains(&k.as_str()) || reserved.contains(&k.as_str()) {
            continue;
        }
        let mut entry = String::new();
        if out.len() > 1 {
            entry.push(',');
        }
        write_string(&mut entry, k);
        entry.push(':');
        match v {
            Value::String(s) => write_string(&mut entry, s),
            Value::Number(n) => entry.push_str(&number_text(*n)),
            Value::Bool(b) => entry.push_str(if *b { "true" } else { "false" }),
            Value::Null | Value::Array(_) | Value::Object(_) => continue,
        }
        let n = entry.chars().count();
        if len + n + 1 > max {
            continue;
        }
        len += n;
        out.push_str(&entry);
    }
    if out.len() == 1 {
        return None;
    }
    out.push('}');
    Some(out)
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests;
