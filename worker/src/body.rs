//! Request bodies to typed requests: JSON bodies and the query of `GET /recommendations`. No
//! Workers runtime types here, so the fuzz targets (`fuzz/fuzz_targets/worker_body.rs`) and
//! native tests run exactly the code the routes run.

use std::borrow::Cow;

use edgerec_core::request::{Item, User};
use serde::Deserialize;
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

/// A `PutItems` body.
#[derive(Debug, Deserialize)]
pub struct PutItems {
    pub items: Vec<Item>,
}

/// A `PutUsers` body.
#[derive(Debug, Deserialize)]
pub struct PutUsers {
    pub users: Vec<User>,
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
            "recommender" | "campaignArn" | "recommenderArn" | "itemId" | "userId" | "filter"
            | "filterArn" => serde_json::Value::String(v.into_owned()),
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

    #[test]
    fn query_becomes_the_json_body() {
        let pairs = [("itemId", "i1"), ("numResults", "7")]
            .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)));
        let body = query_body(pairs).map(serde_json::Value::Object);
        assert_eq!(
            body,
            Ok(serde_json::json!({"itemId": "i1", "numResults": 7}))
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
