//! Request bodies to typed requests: JSON bodies and the query of `GET /recommendations`. No
//! Workers runtime types here, so the fuzz targets (`fuzz/fuzz_targets/worker_body.rs`) and
//! native tests run exactly the code the routes run.

use std::borrow::Cow;

use edgerec_core::RequestError;
use edgerec_core::segment::{self, CallType, MappedBatch, SegmentConfig};
use serde::de::DeserializeOwned;

/// Why a body was refused: the field path (`eventList[0].sentAt`, or `body`) and the reason.
/// The routes answer it as `InvalidInputException` naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    pub field: String,
    pub message: String,
}

impl BodyError {
    fn new(field: &str, message: impl std::fmt::Display) -> Self {
        BodyError {
            field: field.to_owned(),
            message: message.to_string(),
        }
    }
}

/// Parses a JSON body; errors name the field path (`eventList[0].sentAt`).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if bytes.is_empty() {
        return Err(BodyError::new("body", "a JSON object is required"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        // `.` is the body itself; an empty path is a key `""` of the body.
        let field = if path == "." || path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        BodyError::new(&field, e.inner())
    })
}

/// The call type of a Segment route: `Some(Some(type))` for `/v1/track`, `/v1/page`,
/// `/v1/screen` and `/v1/identify`, `Some(None)` for `/v1/batch`, `None` for another path.
#[must_use]
pub fn segment_route(path: &str) -> Option<Option<CallType>> {
    match path.strip_prefix("/v1/")? {
        "batch" => Some(None),
        other => CallType::parse(other).map(Some),
    }
}

/// A Segment body mapped by the core: one call (as a batch of one, index 0) or a batch. An
/// error is the whole request's (a single call, or a body that is not `{"batch": [...]}`); a
/// bad call of a batch is in `rejected`.
pub fn segment(
    route: Option<CallType>,
    bytes: &[u8],
    config: &SegmentConfig,
) -> Result<MappedBatch, BodyError> {
    let request = |e: RequestError| match e {
        RequestError::InvalidInput { field, message } => BodyError { field, message },
        other => BodyError::new("body", other),
    };
    match route {
        Some(call) => {
            let mapped = segment::parse_call(bytes, Some(call), config).map_err(request)?;
            Ok(MappedBatch {
                calls: vec![(0, mapped)],
                rejected: Vec::new(),
            })
        }
        None => segment::parse_batch(bytes, config).map_err(request),
    }
}

/// The decoded query pairs of `GET /recommendations?recommender=…&itemId=…&numResults=…` as
/// the equivalent JSON body. Takes `recommender`, `campaignArn`, `recommenderArn`, `itemId`,
/// `userId`, `filter`, `filterArn` and `numResults`, each at most once.
pub fn query_body<'a>(
    pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
) -> Result<serde_json::Map<String, serde_json::Value>, BodyError> {
    let mut body = serde_json::Map::new();
    for (k, v) in pairs {
        let value = match k.as_ref() {
            "recommender" | "campaignArn" | "recommenderArn" | "itemId" | "userId"
            | "sessionId" | "filter" | "filterArn" => serde_json::Value::String(v.into_owned()),
            "numResults" => serde_json::Value::Number(
                v.parse::<u32>()
                    .map_err(|_| BodyError::new("numResults", "must be a whole number"))?
                    .into(),
            ),
            other => {
                return Err(BodyError::new(
                    other,
                    "is not a query parameter of GET /recommendations (POST a JSON body for the other fields)",
                ));
            }
        };
        if body.insert(k.into_owned(), value).is_some() {
            return Err(BodyError::new("query", "a parameter is repeated"));
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgerec_core::GetRecommendationsRequest;

    #[test]
    fn errors_name_the_field() {
        let e = parse::<edgerec_core::PutEventsRequest>(
            br#"{"sessionId":"s","eventList":[{"eventType":"click","sentAt":"x"}]}"#,
        )
        .err();
        assert_eq!(e.map(|e| e.field), Some("eventList[0].sentAt".to_owned()));
        assert_eq!(
            parse::<GetRecommendationsRequest>(b"")
                .err()
                .map(|e| e.field),
            Some("body".to_owned())
        );
    }

    /// Fuzz regression (`crates/core/tests/fuzz-regressions/worker_body/empty-key`): an error
    /// under the key `""` named the field `""` (the answer read `: invalid number…`).
    #[test]
    fn an_error_under_an_empty_key_names_the_body() {
        let input =
            include_bytes!("../../crates/core/tests/fuzz-regressions/worker_body/empty-key");
        let e = parse::<edgerec_core::PutEventsRequest>(&input[1..]).err();
        assert_eq!(e.as_ref().map(|e| e.field.as_str()), Some("body"));
        assert!(e.is_some_and(|e| !e.message.is_empty()));
    }

    /// Fuzz regression (`crates/core/tests/fuzz-regressions/worker_body/float-forwarded`): a
    /// `sentAt` of 112 digits parsed one ulp away from the nearest f64, so the request the
    /// front route forwarded to the Durable Object (serialised again) said another time.
    #[test]
    fn a_forwarded_request_keeps_its_numbers() {
        let input =
            include_bytes!("../../crates/core/tests/fuzz-regressions/worker_body/float-forwarded");
        let req: edgerec_core::PutEventsRequest = parse(&input[1..]).expect("the body parses");
        let forwarded = serde_json::to_vec(&req).expect("serialises");
        let again: edgerec_core::PutEventsRequest = parse(&forwarded).expect("parses again");
        assert_eq!(again, req);
        let t = req.event_list[0].sent_at;
        assert_eq!(t, 2.222_222_222_222_222_3e111);
    }

    /// Fuzz regression (`crates/core/tests/fuzz-regressions/worker_body/float-forwarded-two-ulps`):
    /// serde_json's default build read this 64-digit `sentAt`, and the 17 digits it was
    /// forwarded as, two ulps apart; the Worker's exact parse keeps it.
    #[test]
    fn a_forwarded_request_keeps_a_long_number() {
        let input = include_bytes!(
            "../../crates/core/tests/fuzz-regressions/worker_body/float-forwarded-two-ulps"
        );
        let req: edgerec_core::PutEventsRequest = parse(&input[1..]).expect("the body parses");
        let forwarded = serde_json::to_vec(&req).expect("serialises");
        let again: edgerec_core::PutEventsRequest = parse(&forwarded).expect("parses again");
        assert_eq!(again, req);
        assert_eq!(req.event_list[0].sent_at, 1.222_222_222_222_222_3e61);
    }

    #[test]
    fn segment_routes_and_bodies() {
        assert_eq!(segment_route("/v1/track"), Some(Some(CallType::Track)));
        assert_eq!(
            segment_route("/v1/identify"),
            Some(Some(CallType::Identify))
        );
        assert_eq!(segment_route("/v1/batch"), Some(None));
        assert_eq!(segment_route("/v1/alias"), None);
        assert_eq!(segment_route("/events"), None);
        let config =
            SegmentConfig::from_json(r#"{"Order Completed":"purchase"}"#).expect("the map parses");
        let track = br#"{"anonymousId":"a","userId":"u","event":"Order Completed","messageId":"m1",
            "timestamp":"2024-05-01T12:30:00Z","properties":{"product_id":"p1","revenue":30}}"#;
        let b = segment(Some(CallType::Track), track, &config).expect("maps");
        let reqs = b.put_events();
        assert_eq!(reqs.len(), 1);
        let (idx, req) = &reqs[0];
        assert_eq!(idx, &[0]);
        assert_eq!(req.session_id, "a");
        let e = &req.event_list[0];
        assert_eq!(
            (
                e.event_type.as_str(),
                e.item_id.as_deref(),
                e.event_id.as_deref()
            ),
            ("purchase", Some("p1"), Some("m1"))
        );
        assert_eq!(e.event_value, Some(30.0));
        // What the front route forwards to the Durable Object parses as PutEvents again.
        let forwarded = serde_json::to_vec(req).expect("serialises");
        let again: edgerec_core::PutEventsRequest = parse(&forwarded).expect("parses");
        assert_eq!(&again, req);
        // A single bad call is the request's error, naming the field.
        let e = segment(
            Some(CallType::Track),
            br#"{"anonymousId":"a","event":"e","timestamp":"soon"}"#,
            &config,
        )
        .err();
        assert_eq!(e.map(|e| e.field), Some("timestamp".to_owned()));
        // A batch keeps the good calls and lists the bad ones.
        let batch = br#"{"batch":[{"type":"identify","traits":{}},
            {"type":"page","anonymousId":"a","timestamp":"2024-05-01T12:30:00Z"},
            {"type":"track","anonymousId":"a","timestamp":"2024-05-01T12:30:00Z"}]}"#;
        let b = segment(None, batch, &config).expect("maps");
        assert_eq!(b.calls.len(), 1);
        let bad: Vec<(usize, String)> = b
            .rejected
            .iter()
            .map(|(k, e)| match e {
                RequestError::InvalidInput { field, .. } => (*k, field.clone()),
                other => (*k, other.to_string()),
            })
            .collect();
        assert_eq!(
            bad,
            [
                (0, "batch[0].userId".to_owned()),
                (2, "batch[2].event".to_owned())
            ]
        );
        assert_eq!(
            segment(None, b"{\"batch\":7}", &config)
                .err()
                .map(|e| e.field),
            Some("batch".to_owned())
        );
    }

    #[test]
    fn query_becomes_the_json_body() {
        let pairs = [("itemId", "i1"), ("numResults", "7"), ("sessionId", "s1")]
            .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)));
        let body = query_body(pairs).map(serde_json::Value::Object);
        assert_eq!(
            body,
            Ok(serde_json::json!({"itemId": "i1", "numResults": 7, "sessionId": "s1"}))
        );
        let repeated =
            [("itemId", "a"), ("itemId", "b")].map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)));
        assert_eq!(
            query_body(repeated).err().map(|e| e.field),
            Some("query".to_owned())
        );
        let unknown = [("eventList", "x")].map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)));
        assert_eq!(
            query_body(unknown).err().map(|e| e.field),
            Some("eventList".to_owned())
        );
    }
}
