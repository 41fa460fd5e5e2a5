//! Request bodies → validated records. Every check names the field (with its JSON path, e.g.
//! `eventList[3].sentAt`), and a request is rejected whole: nothing of a bad batch is stored.
//!
//! PutEvents / PutItems / PutUsers bodies are read into the core's request types and checked by
//! the core's event contract (`edgerec_core::contract`) under the sync server's acceptance
//! policy ([`Policy::SYNC_SERVER`]): Personalize's rules for every field, and larger batches,
//! since edge outboxes drain up to [`MAX_EVENTS`] events per request (Personalize: 10) and up to
//! [`MAX_RECORDS`] items or users (Personalize: 10). The engine at the edge checks its calls by
//! the same contract, so whatever its outbox sends is accepted here.
//!
//! edgerec extensions, all optional: an event may carry `recommender` (the recommender that
//! produced its `recommendationId`), and `POST /recommendations-log` records what the edge
//! recommended (see [`parse_recommendations`]).

use edgerec_core::RequestError;
use edgerec_core::contract::{self, Policy};
use edgerec_core::request::{PutEventsRequest, PutItemsRequest, PutUsersRequest, limits};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Most events per `POST /events`.
pub const MAX_EVENTS: usize = Policy::SYNC_SERVER.max_events;
/// Most records per `POST /items` or `POST /users`.
pub const MAX_RECORDS: usize = Policy::SYNC_SERVER.max_records;
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

/// A validated `PutEvents` request.
#[derive(Debug, Clone, PartialEq)]
pub struct PutEvents {
    pub session_id: String,
    pub user_id: Option<String>,
    pub events: Vec<NewEvent>,
}

/// Reads a JSON body into a request type; an error names the field path (`eventList[1].sentAt`),
/// or `body` when the text is not a JSON object.
///
/// The body is parsed as a JSON value first (so numbers are read exactly as they always were:
/// the server-assigned event ids hash them), and the places that hold objects are checked to
/// be objects, since serde would also take an array there in field order.
fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, InputError> {
    let obj = parse_object(body)?;
    for list in ["eventList", "items", "users"] {
        let Some(Value::Array(entries)) = obj.get(list) else {
            continue;
        };
        for (i, v) in entries.iter().enumerate() {
            let entry = as_object(v, &format!("{list}[{i}]"))?;
            if let Some(m) = entry.get("metricAttribution").filter(|m| !m.is_null()) {
                as_object(m, &format!("{list}[{i}].metricAttribution"))?;
            }
        }
    }
    serde_path_to_error::deserialize(Value::Object(obj)).map_err(|e| {
        let path = e.path().to_string();
        let at_root = path == "." || path.is_empty();
        let message = e.into_inner().to_string();
        // serde names a missing field in its message, at the path of the object lacking it.
        match message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            Some(name) if at_root => bad(name, "is required"),
            Some(name) => bad(format!("{path}.{name}"), "is required"),
            None if at_root => bad("body", message),
            None => bad(path, message),
        }
    })
}

/// The contract's refusal as this module's error.
fn refused(e: RequestError) -> InputError {
    match e {
        RequestError::InvalidInput { field, message } => InputError { field, message },
        other => bad("body", other.to_string()),
    }
}

/// Validates a `PutEvents` body.
pub fn parse_events(body: &[u8]) -> Result<PutEvents, InputError> {
    let req: PutEventsRequest = read(body)?;
    contract::put_events(&req, &Policy::SYNC_SERVER).map_err(refused)?;
    let PutEventsRequest {
        session_id,
        user_id,
        event_list,
        ..
    } = req;
    let events = event_list
        .into_iter()
        .map(|e| {
            let impression = (!e.impression.is_empty())
                .then(|| serde_json::to_string(&e.impression).unwrap_or_default());
            let source = e.metric_attribution.map(|m| m.event_attribution_source);
            let mut ev = NewEvent {
                event_id: String::new(),
                assigned_id: e.event_id.is_none(),
                session_id: session_id.clone(),
                user_id: user_id.clone(),
                event_type: e.event_type,
                item_id: e.item_id,
                sent_at: e.sent_at,
                event_value: e.event_value,
                properties: e.properties,
                impression,
                recommendation_id: e.recommendation_id,
                // Personalize: the explicit attribution source wins over the recommendation id.
                recommender: source.or(e.recommender),
            };
            ev.event_id = e.event_id.unwrap_or_else(|| derived_id(&ev));
            ev
        })
        .collect();
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
    let records: Vec<(String, Option<String>)> = if users {
        let req: PutUsersRequest = read(body)?;
        contract::put_users(&req, &Policy::SYNC_SERVER).map_err(refused)?;
        req.users
            .into_iter()
            .map(|u| (u.user_id, u.properties))
            .collect()
    } else {
        let req: PutItemsRequest = read(body)?;
        contract::put_items(&req, &Policy::SYNC_SERVER).map_err(refused)?;
        req.items
            .into_iter()
            .map(|i| (i.item_id, i.properties))
            .collect()
    };
    Ok(records
        .into_iter()
        .map(|(id, properties)| NewRecord { id, properties })
        .collect())
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
    fn metric_attribution_wins_over_the_recommender_extension() {
        let body = br#"{"sessionId":"s","eventList":[
            {"eventType":"click","sentAt":1,"recommender":"top","metricAttribution":{"eventAttributionSource":"email"}},
            {"eventType":"click","sentAt":1,"recommender":"top","impression":["a","b"]}]}"#;
        let r = parse_events(body).unwrap();
        assert_eq!(r.events[0].recommender.as_deref(), Some("email"));
        assert_eq!(r.events[1].recommender.as_deref(), Some("top"));
        assert_eq!(r.events[1].impression.as_deref(), Some(r#"["a","b"]"#));
        assert_ne!(r.events[0].event_id, r.events[1].event_id);
        // Arrays where objects belong are refused (serde alone would read them in field order).
        let e = parse_events(
            br#"{"sessionId":"s","eventList":[{"eventType":"c","sentAt":1,"metricAttribution":["x"]}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "eventList[0].metricAttribution");
        let e = parse_events(br#"{"sessionId":"s","eventList":[["c",1]]}"#).unwrap_err();
        assert_eq!(e.field, "eventList[0]");
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

/// Whatever the core's contract accepts under the sync server's policy, the ingest accepts as the
/// request's JSON (and refuses the rest naming the same field).
#[cfg(test)]
mod contract_props {
    use edgerec_core::RequestError;
    use edgerec_core::contract::{self, Policy};
    use edgerec_core::request::{Event, MetricAttribution, PutEventsRequest};
    use proptest::prelude::*;

    fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop::sample::select(options).prop_map(str::to_owned)
    }

    fn event() -> impl Strategy<Value = Event> {
        let ids: &'static [&'static str] = &["i1", "i2", "", "0123456789abcdef"];
        (
            (
                prop::option::of(pick(&["e-1", ""])),
                pick(&["view", "click", ""]),
                prop::option::of(pick(ids)),
                prop_oneof![9 => 0.0..2e9f64, 1 => Just(-1.0)],
                prop::option::of(-1e9..1e9f64),
            ),
            (
                prop::option::of(pick(&[
                    "{}",
                    r#"{"device":"m"}"#,
                    r#"{"userId":"x"}"#,
                    r#"{"eventType":1}"#,
                    "{bad",
                    "[]",
                    "",
                ])),
                prop::collection::vec(pick(ids), 0..3),
                prop::option::of(pick(&[
                    "RID-1",
                    "rid-01234567890123456789012345678901234567",
                ])),
                prop::option::of(pick(&["email", "", "caf\u{e9}"])),
                prop::option::of(pick(&["top", ""])),
            ),
        )
            .prop_map(
                |(
                    (event_id, event_type, item_id, sent_at, event_value),
                    (properties, impression, recommendation_id, source, recommender),
                )| Event {
                    event_id,
                    event_type,
                    item_id,
                    sent_at,
                    event_value,
                    properties,
                    impression,
                    recommendation_id,
                    metric_attribution: source.map(|s| MetricAttribution {
                        event_attribution_source: s,
                    }),
                    recommender,
                },
            )
    }

    fn field(e: RequestError) -> String {
        match e {
            RequestError::InvalidInput { field, .. } => field,
            other => other.to_string(),
        }
    }

    proptest! {
        #[test]
        fn the_ingest_accepts_what_the_contract_accepts(
            session in pick(&["s1", ""]),
            user in prop::option::of(pick(&["u1", ""])),
            events in prop::collection::vec(event(), 0..4),
        ) {
            let req = PutEventsRequest { tracking_id: None, session_id: session, user_id: user, event_list: events };
            let checked = contract::put_events(&req, &Policy::SYNC_SERVER).map(|_| ()).map_err(field);
            let body = serde_json::to_vec(&req).unwrap();
            let ingested = super::parse_events(&body);
            prop_assert_eq!(&checked, &ingested.as_ref().map(|_| ()).map_err(|e| e.field.clone()), "{}", String::from_utf8_lossy(&body));
            if let Ok(put) = ingested {
                prop_assert_eq!(put.events.len(), req.event_list.len());
                for (n, e) in put.events.iter().zip(&req.event_list) {
                    prop_assert_eq!(&n.event_type, &e.event_type);
                    prop_assert_eq!(&n.properties, &e.properties);
                    prop_assert_eq!(n.assigned_id, e.event_id.is_none());
                    if let Some(id) = &e.event_id {
                        prop_assert_eq!(&n.event_id, id);
                    }
                }
            }
        }
    }
}
