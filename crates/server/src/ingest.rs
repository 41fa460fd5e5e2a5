//! Request bodies → validated records. Every check names the field (with its JSON path, e.g.
//! `eventList[3].sentAt`), and a request is rejected whole: nothing of a bad batch is stored.
//!
//! Shapes are Personalize's PutEvents / PutItems / PutUsers (camelCase), with the limits of
//! docs/personalize.md except the batch sizes: edge outboxes drain up to [`MAX_EVENTS`] events per
//! request (Personalize: 10) and up to [`MAX_RECORDS`] items or users (Personalize: 10).
//!
//! edgerec extensions, all optional: an event may carry `recommender` (the recommender that
//! produced its `recommendationId`), and `POST /recommendations-log` records what the edge
//! recommended (see [`parse_recommendations`]).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use edgerec_core::request::limits;

/// Most events per `POST /events`.
pub const MAX_EVENTS: usize = 1000;
/// Most records per `POST /items` or `POST /users`.
pub const MAX_RECORDS: usize = 100;
/// Most entries per `POST /recommendations-log`.
pub const MAX_RECOMMENDATIONS: usize = 1000;
/// Most items of one logged recommendation.
pub const MAX_LOGGED_ITEMS: usize = 500;

/// A field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    pub field: String,
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> InputError {
    InputError {
        field: field.into(),
        message: message.into(),
    }
}

/// What a JSON value is, for messages: "a string", "an array", ….
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One event, validated, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: String,
    /// True when the client sent no `eventId` and the server derived one.
    pub assigned_id: bool,
    pub session_id: String,
    pub user_id: Option<String>,
    pub event_type: String,
    pub item_id: Option<String>,
    pub sent_at: f64,
    pub event_value: Option<f64>,
    pub properties: Option<String>,
    /// JSON array of item ids.
    pub impression: Option<String>,
    pub recommendation_id: Option<String>,
    /// `recommender` (extension) or `metricAttribution.eventAttributionSource`.
    pub recommender: Option<String>,
}

/// One PutItems / PutUsers record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub id: String,
    pub properties: Option<String>,
}

/// One recommendation-log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecommendation {
    pub recommendation_id: String,
    pub recommender: String,
    pub variant: Option<String>,
    pub experiment: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    /// JSON array of item ids.
    pub items: String,
    pub n_items: usize,
    pub created_ms: i64,
}

/// Parses a body as a JSON object.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, InputError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        bad(
            "body",
            format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    match v {
        Value::Object(m) => Ok(m),
        other => Err(bad(
            "body",
            format!("expected a JSON object, found {}", kind(&other)),
        )),
    }
}

/// An optional string field with a length range (characters); `null` counts as absent.
fn opt_str(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<Option<String>, InputError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if n == 0 {
                Err(bad(path, "must not be empty"))
            } else if n > max {
                Err(bad(
                    path,
                    format!("length {n} exceeds the maximum of {max} characters"),
                ))
            } else {
                Ok(Some(s.clone()))
            }
        }
        Some(other) => Err(bad(
            path,
            format!("expected a string, found {}", kind(other)),
        )),
    }
}

fn req_str(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<String, InputError> {
    opt_str(obj, key, path, max)?.ok_or_else(|| bad(path, "is required"))
}

fn opt_num(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<f64>, InputError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.is_finite() => Ok(Some(f)),
            _ => Err(bad(path, "must be a finite number")),
        },
        Some(other) => Err(bad(
            path,
            format!("expected a number, found {}", kind(other)),
        )),
    }
}

fn list<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    max: usize,
) -> Result<&'a Vec<Value>, InputError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(bad(key, "is required")),
        Some(Value::Array(a)) if a.is_empty() => Err(bad(key, "must hold at least 1 entry")),
        Some(Value::Array(a)) if a.len() > max => Err(bad(
            key,
            format!("holds {} entries; the maximum is {max}", a.len()),
        )),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(bad(
            key,
            format!("expected an array, found {}", kind(other)),
        )),
    }
}

fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, InputError> {
    v.as_object()
        .ok_or_else(|| bad(path, format!("expected an object, found {}", kind(v))))
}

/// A `properties` string: a JSON object of at most `max` characters.
fn properties(
    obj: &Map<String, Value>,
    path: &str,
    max: usize,
    forbidden: &[&str],
) -> Result<Option<String>, InputError> {
    let Some(p) = opt_str(obj, "properties", path, max)? else {
        return Ok(None);
    };
    let parsed: Value = serde_json::from_str(&p)
        .map_err(|e| bad(path, format!("must be a JSON object as a string: {e}")))?;
    let m = parsed.as_object().ok_or_else(|| {
        bad(
            path,
            format!("must be a JSON object as a string, found {}", kind(&parsed)),
        )
    })?;
    if let Some(k) = m.keys().find(|k| forbidden.contains(&k.as_str())) {
        return Err(bad(
            path,
            format!("must not contain the reserved key {k:?}"),
        ));
    }
    Ok(Some(p))
}

/// A validated `PutEvents` request.
#[derive(Debug, Clone, PartialEq)]
pub struct PutEvents {
    pub session_id: String,
    pub user_id: Option<String>,
    pub events: Vec<NewEvent>,
}

/// Validates a `PutEvents` body.
pub fn parse_events(body: &[u8]) -> Result<PutEvents, InputError> {
    let obj = parse_object(body)?;
    let _tracking = opt_str(&obj, "trackingId", "trackingId", limits::MAX_ID_LEN)?;
    let session_id = req_str(&obj, "sessionId", "sessionId", limits::MAX_ID_LEN)?;
    let user_id = opt_str(&obj, "userId", "userId", limits::MAX_ID_LEN)?;
    let list = list(&obj, "eventList", MAX_EVENTS)?;
    let mut events = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let p = |f: &str| format!("eventList[{i}].{f}");
        let e = as_object(v, &format!("eventList[{i}]"))?;
        let event_type = req_str(e, "eventType", &p("eventType"), limits::MAX_ID_LEN)?;
        let sent_at =
            opt_num(e, "sentAt", &p("sentAt"))?.ok_or_else(|| bad(p("sentAt"), "is required"))?;
        if sent_at < 0.0 {
            return Err(bad(p("sentAt"), "must be a Unix time in seconds (≥ 0)"));
        }
        let event_id = opt_str(e, "eventId", &p("eventId"), limits::MAX_ID_LEN)?;
        let item_id = opt_str(e, "itemId", &p("itemId"), limits::MAX_ID_LEN)?;
        let event_value = opt_num(e, "eventValue", &p("eventValue"))?;
        let props = properties(
            e,
            &p("properties"),
            limits::MAX_PROPERTIES_LEN,
            &edgerec_core::request::limits::FORBIDDEN_PROPERTIES,
        )?;
        let recommendation_id = opt_str(
            e,
            "recommendationId",
            &p("recommendationId"),
            limits::MAX_RECOMMENDATION_ID_LEN,
        )?;
        let impression = match e.get("impression") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => {
                if a.is_empty() {
                    return Err(bad(p("impression"), "must hold at least 1 item id"));
                }
                if a.len() > limits::MAX_IMPRESSIONS {
                    return Err(bad(
                        p("impression"),
                        format!(
                            "holds {} item ids; the maximum is {}",
                            a.len(),
                            limits::MAX_IMPRESSIONS
                        ),
                    ));
                }
                let mut ids = Vec::with_capacity(a.len());
                for (j, x) in a.iter().enumerate() {
                    let path = format!("eventList[{i}].impression[{j}]");
                    match x {
                        Value::String(s)
                            if !s.is_empty() && s.chars().count() <= limits::MAX_ID_LEN =>
                        {
                            ids.push(s.as_str())
                        }
                        Value::String(_) => {
                            return Err(bad(path, "must be an item id of 1 to 256 characters"));
                        }
                        other => {
                            return Err(bad(
                                path,
                                format!("expected a string, found {}", kind(other)),
                            ));
                        }
                    }
                }
                Some(serde_json::to_string(&ids).unwrap_or_default())
            }
            Some(other) => {
                return Err(bad(
                    p("impression"),
                    format!("expected an array, found {}", kind(other)),
                ));
            }
        };
        let source = match e.get("metricAttribution") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let m = as_object(v, &p("metricAttribution"))?;
                let path = p("metricAttribution.eventAttributionSource");
                let s = req_str(m, "eventAttributionSource", &path, 1024)?;
                if !s.chars().all(|c| (' '..='~').contains(&c)) {
                    return Err(bad(path, "must be printable ASCII"));
                }
                Some(s)
            }
        };
        let recommender = opt_str(e, "recommender", &p("recommender"), limits::MAX_ID_LEN)?;
        let mut ev = NewEvent {
            event_id: String::new(),
            assigned_id: event_id.is_none(),
            session_id: session_id.clone(),
            user_id: user_id.clone(),
            event_type,
            item_id,
            sent_at,
            event_value,
            properties: props,
            impression,
            recommendation_id,
            // Personalize: the explicit attribution source wins over the recommendation id.
            recommender: source.or(recommender),
        };
        ev.event_id = event_id.unwrap_or_else(|| derived_id(&ev));
        events.push(ev);
    }
    Ok(PutEvents {
        session_id,
        user_id,
        events,
    })
}

/// A server-assigned event id: a hash of everything the event says, so that a replayed batch
/// of id-less events is deduplicated too (Personalize keeps exact duplicates once).
#[must_use]
pub fn derived_id(e: &NewEvent) -> String {
    let mut h = Sha256::new();
    let mut field = |s: Option<&str>| {
        match s {
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
            None => h.update([0u8]),
        };
    };
    field(Some(&e.session_id));
    field(e.user_id.as_deref());
    field(Some(&e.event_type));
    field(e.item_id.as_deref());
    field(Some(&e.sent_at.to_bits().to_string()));
    field(e.event_value.map(|v| v.to_bits().to_string()).as_deref());
    field(e.properties.as_deref());
    field(e.impression.as_deref());
    field(e.recommendation_id.as_deref());
    field(e.recommender.as_deref());
    let digest = h.finalize();
    let mut s = String::with_capacity(36);
    s.push_str("srv-");
    for b in digest.iter().take(16) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Validates a `PutItems` body (`items`) or a `PutUsers` body (`users`).
pub fn parse_records(body: &[u8], users: bool) -> Result<Vec<NewRecord>, InputError> {
    let obj = parse_object(body)?;
    let _arn = opt_str(&obj, "datasetArn", "datasetArn", limits::MAX_ID_LEN)?;
    let (key, id_key, max_props) = if users {
        ("users", "userId", limits::MAX_USER_PROPERTIES_LEN)
    } else {
        ("items", "itemId", limits::MAX_ITEM_PROPERTIES_LEN)
    };
    let list = list(&obj, key, MAX_RECORDS)?;
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let r = as_object(v, &format!("{key}[{i}]"))?;
        let id = req_str(
            r,
            id_key,
            &format!("{key}[{i}].{id_key}"),
            limits::MAX_ID_LEN,
        )?;
        let properties = properties(r, &format!("{key}[{i}].properties"), max_props, &[])?;
        out.push(NewRecord { id, properties });
    }
    Ok(out)
}

/// Validates a `POST /recommendations-log` body:
/// `{"recommendations": [{"recommendationId", "recommender", "variant"?, "experiment"?,
/// "userId"?, "sessionId"?, "itemList": ["id", ...] | [{"itemId": ...}], "createdAt"?}]}`.
pub fn parse_recommendations(
    body: &[u8],
    now_ms: i64,
) -> Result<Vec<NewRecommendation>, InputError> {
    let obj = parse_object(body)?;
    let list = list(&obj, "recommendations", MAX_RECOMMENDATIONS)?;
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let p = |f: &str| format!("recommendations[{i}].{f}");
        let r = as_object(v, &format!("recommendations[{i}]"))?;
        let recommendation_id = req_str(
            r,
            "recommendationId",
            &p("recommendationId"),
            limits::MAX_RECOMMENDATION_ID_LEN,
        )?;
        let recommender = req_str(r, "recommender", &p("recommender"), limits::MAX_ID_LEN)?;
        let variant = opt_str(r, "variant", &p("variant"), limits::MAX_ID_LEN)?;
        let experiment = opt_str(r, "experiment", &p("experiment"), limits::MAX_ID_LEN)?;
        let user_id = opt_str(r, "userId", &p("userId"), limits::MAX_ID_LEN)?;
        let session_id = opt_str(r, "sessionId", &p("sessionId"), limits::MAX_ID_LEN)?;
        let items: Vec<String> = match r.get("itemList") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                if a.len() > MAX_LOGGED_ITEMS {
                    return Err(bad(
                        p("itemList"),
                        format!("holds {} items; the maximum is {MAX_LOGGED_ITEMS}", a.len()),
                    ));
                }
                let mut ids = Vec::with_capacity(a.len());
                for (j, x) in a.iter().enumerate() {
                    let path = format!("recommendations[{i}].itemList[{j}]");
                    let id = match x {
                        Value::String(s) => s.clone(),
                        Value::Object(m) => {
                            req_str(m, "itemId", &format!("{path}.itemId"), limits::MAX_ID_LEN)?
                        }
                        other => {
                            return Err(bad(
                                path,
                                format!(
                                    "expected an item id or {{\"itemId\"}}, found {}",
                                    kind(other)
                                ),
                            ));
                        }
                    };
                    if id.is_empty() || id.chars().count() > limits::MAX_ID_LEN {
                        return Err(bad(path, "must be an item id of 1 to 256 characters"));
                    }
                    ids.push(id);
                }
                ids
            }
            Some(other) => {
                return Err(bad(
                    p("itemList"),
                    format!("expected an array, found {}", kind(other)),
                ));
            }
        };
        let created_ms = match opt_num(r, "createdAt", &p("createdAt"))? {
            #[allow(clippy::cast_possible_truncation)]
            Some(t) if t >= 0.0 => (t * 1000.0) as i64,
            Some(_) => return Err(bad(p("createdAt"), "must be a Unix time in seconds (≥ 0)")),
            None => now_ms,
        };
        out.push(NewRecommendation {
            recommendation_id,
            recommender,
            variant,
            experiment,
            user_id,
            session_id,
            n_items: items.len(),
            items: serde_json::to_string(&items).unwrap_or_default(),
            created_ms,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_validated_with_field_paths() {
        let ok = br#"{"sessionId":"s1","userId":"u1","eventList":[
            {"eventType":"click","sentAt":1700000000,"itemId":"i1","eventId":"e1"},
            {"eventType":"view","sentAt":1700000001.5,"itemId":"i2","properties":"{\"device\":\"m\"}"}]}"#;
        let r = parse_events(ok).unwrap();
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.events[0].event_id, "e1");
        assert!(r.events[1].assigned_id && r.events[1].event_id.starts_with("srv-"));
        // The derived id is stable: a replay dedupes.
        assert_eq!(
            parse_events(ok).unwrap().events[1].event_id,
            r.events[1].event_id
        );

        let e = parse_events(
            br#"{"sessionId":"s","eventList":[{"eventType":"x","sentAt":1},{"eventType":"x"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "eventList[1].sentAt");
        let e = parse_events(br#"{"eventList":[]}"#).unwrap_err();
        assert_eq!(e.field, "sessionId");
        let e = parse_events(br#"{"sessionId":"s","eventList":[]}"#).unwrap_err();
        assert_eq!(e.field, "eventList");
        let e = parse_events(br#"{"sessionId":"s","eventList":[{"eventType":"x","sentAt":1,"properties":"{\"userId\":1}"}]}"#).unwrap_err();
        assert_eq!(e.field, "eventList[0].properties");
        let e = parse_events(b"{not json").unwrap_err();
        assert_eq!(e.field, "body");
        let e = parse_events(
            br#"{"sessionId":"s","eventList":[{"eventType":"x","sentAt":1,"impression":[]}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "eventList[0].impression");
    }

    #[test]
    fn records_and_recommendations() {
        let r = parse_records(
            br#"{"items":[{"itemId":"a","properties":"{\"price\":3}"}]}"#,
            false,
        )
        .unwrap();
        assert_eq!(r[0].id, "a");
        let e = parse_records(br#"{"users":[{"properties":"{}"}]}"#, true).unwrap_err();
        assert_eq!(e.field, "users[0].userId");
        let r = parse_recommendations(
            br#"{"recommendations":[{"recommendationId":"rid-1","recommender":"top","itemList":["a",{"itemId":"b"}]}]}"#,
            5,
        )
        .unwrap();
        assert_eq!(r[0].n_items, 2);
        assert_eq!(r[0].created_ms, 5);
    }
}
