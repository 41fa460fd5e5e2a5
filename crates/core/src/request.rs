//! Request and response types, named and shaped after Personalize's runtime and events APIs
//! (camelCase on the wire), plus the limits of docs/design.md ("Limits and bad input").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::RequestError;

/// Personalize's limits, enforced by [`crate::contract`] wherever a request enters.
pub mod limits {
    pub const MAX_ID_LEN: usize = 256;
    pub const DEFAULT_NUM_RESULTS: u32 = 25;
    pub const MAX_NUM_RESULTS: u32 = 500;
    pub const MAX_NUM_RESULTS_WITH_METADATA: u32 = 50;
    pub const MAX_INPUT_LIST: usize = 500;
    pub const MAX_INPUT_LIST_WITH_METADATA: usize = 50;
    pub const MAX_FILTER_VALUES: usize = 25;
    pub const MAX_FILTER_VALUE_LEN: usize = 1000;
    pub const MAX_FILTER_KEY_LEN: usize = 50;
    pub const MAX_CONTEXT_ENTRIES: usize = 150;
    pub const MAX_CONTEXT_KEY_LEN: usize = 150;
    pub const MAX_CONTEXT_VALUE_LEN: usize = 1000;
    pub const MAX_EVENTS_PER_CALL: usize = 10;
    pub const MAX_PROPERTIES_LEN: usize = 1024;
    pub const MAX_IMPRESSIONS: usize = 25;
    pub const MAX_RECORDS_PER_CALL: usize = 10;
    pub const MAX_RECOMMENDATION_ID_LEN: usize = 40;
    /// `metricAttribution.eventAttributionSource` (printable ASCII).
    pub const MAX_ATTRIBUTION_SOURCE_LEN: usize = 1024;
    pub const MAX_ITEM_PROPERTIES_LEN: usize = 32_000;
    pub const MAX_USER_PROPERTIES_LEN: usize = 24_000;
    pub const MAX_PROMOTIONS: usize = 1;
    pub const MAX_METADATA_COLUMNS: usize = 10;
    /// Events kept per event type in a session (newest first).
    pub const SESSION_EVENTS_PER_TYPE: usize = 100;
    /// Keys Personalize forbids in an event's `properties`.
    pub const FORBIDDEN_PROPERTIES: [&str; 6] = [
        "userId",
        "sessionId",
        "eventType",
        "timestamp",
        "recommendationId",
        "impression",
    ];
}

/// A promotion: a share of the slots filled from the promotion's own filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    pub name: Option<String>,
    pub percent_promoted_items: Option<u32>,
    pub filter_arn: Option<String>,
    pub filter: Option<String>,
    #[serde(default)]
    pub filter_values: BTreeMap<String, String>,
}

/// `GetRecommendations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRecommendationsRequest {
    /// The recommender by name (edgerec), or via `campaignArn` / `recommenderArn`.
    pub recommender: Option<String>,
    pub campaign_arn: Option<String>,
    pub recommender_arn: Option<String>,
    pub user_id: Option<String>,
    pub item_id: Option<String>,
    pub num_results: Option<u32>,
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// A filter expression, or the name of a filter defined in the model.
    pub filter: Option<String>,
    pub filter_arn: Option<String>,
    #[serde(default)]
    pub filter_values: BTreeMap<String, String>,
    #[serde(default)]
    pub promotions: Vec<Promotion>,
    #[serde(default)]
    pub metadata_columns: BTreeMap<String, Vec<String>>,
    /// Set by the adapter (random); when absent the engine derives one from the request.
    pub recommendation_id: Option<String>,
}

/// One recommended item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictedItem {
    pub item_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRecommendationsResponse {
    pub item_list: Vec<PredictedItem>,
    pub recommendation_id: String,
}

impl GetRecommendationsRequest {
    /// The recommender the request names: `recommender`, else the last segment of
    /// `campaignArn` / `recommenderArn`.
    pub fn recommender_name(&self) -> Result<&str, RequestError> {
        recommender_name(
            self.recommender.as_deref(),
            &[
                ("campaignArn", self.campaign_arn.as_deref()),
                ("recommenderArn", self.recommender_arn.as_deref()),
            ],
        )
    }
}

/// `GetPersonalizedRanking`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPersonalizedRankingRequest {
    pub recommender: Option<String>,
    pub campaign_arn: Option<String>,
    pub user_id: Option<String>,
    #[serde(default)]
    pub input_list: Vec<String>,
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    pub filter: Option<String>,
    pub filter_arn: Option<String>,
    #[serde(default)]
    pub filter_values: BTreeMap<String, String>,
    #[serde(default)]
    pub metadata_columns: BTreeMap<String, Vec<String>>,
    pub recommendation_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPersonalizedRankingResponse {
    pub personalized_ranking: Vec<PredictedItem>,
    pub recommendation_id: String,
}

impl GetPersonalizedRankingRequest {
    /// The recommender the request names: `recommender`, else the last segment of
    /// `campaignArn`.
    pub fn recommender_name(&self) -> Result<&str, RequestError> {
        recommender_name(
            self.recommender.as_deref(),
            &[("campaignArn", self.campaign_arn.as_deref())],
        )
    }
}

/// One event of `PutEvents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub event_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// Unix time in seconds (Personalize's SDKs send a timestamp; fractional seconds allowed).
    pub sent_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_value: Option<f64>,
    /// A JSON object as a string (≤ 1024 chars), as in Personalize.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<String>,
    /// Item ids shown with the event. Empty means none: it is left out when serialised, and
    /// a JSON `impression` that is present must hold at least one id (PutEvents' 1–25).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "present_list"
    )]
    pub impression: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation_id: Option<String>,
    /// Where the event is attributed (PutEvents' `metricAttribution`): the sync server's
    /// metric attribution counts it for this source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_attribution: Option<MetricAttribution>,
    /// edgerec: the recommender that produced `recommendationId`, for the sync server's
    /// attribution (`metricAttribution` wins when both are given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommender: Option<String>,
}

/// PutEvents' `metricAttribution` of an event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricAttribution {
    /// 1–1,024 printable ASCII characters.
    pub event_attribution_source: String,
}

/// A list that may be absent (or `null`), but not present and empty.
fn present_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Option::<Vec<String>>::deserialize(d)? {
        Some(list) if list.is_empty() => Err(serde::de::Error::custom(
            "must hold at least 1 item id when present",
        )),
        list => Ok(list.unwrap_or_default()),
    }
}

/// `PutEvents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutEventsRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub event_list: Vec<Event>,
}

/// One record of `PutItems`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub item_id: String,
    /// A JSON object as a string, keys camelCase of the schema fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<String>,
}

/// One record of `PutUsers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<String>,
}

/// `PutItems`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutItemsRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset_arn: Option<String>,
    pub items: Vec<Item>,
}

/// `PutUsers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutUsersRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset_arn: Option<String>,
    pub users: Vec<User>,
}

/// Checks an id field: 1..=256 chars.
pub fn check_id(field: &str, value: &str) -> Result<(), RequestError> {
    check_len(field, value, limits::MAX_ID_LEN)
}

/// Checks a text field of 1 to `max` characters.
pub fn check_len(field: &str, value: &str, max: usize) -> Result<(), RequestError> {
    if value.is_empty() {
        return Err(RequestError::invalid(field, "must not be empty"));
    }
    let n = value.chars().count();
    if n > max {
        return Err(RequestError::invalid(
            field,
            format!("length {n} exceeds the maximum of {max} characters"),
        ));
    }
    Ok(())
}

/// Checks an optional id field.
pub fn check_opt_id(field: &str, value: Option<&str>) -> Result<(), RequestError> {
    value.map_or(Ok(()), |v| check_id(field, v))
}

/// The recommender name selected by `recommender`, or the last path segment of an ARN.
pub fn recommender_name<'a>(
    recommender: Option<&'a str>,
    arns: &[(&str, Option<&'a str>)],
) -> Result<&'a str, RequestError> {
    if let Some(r) = recommender {
        check_id("recommender", r)?;
        return Ok(r);
    }
    for (field, arn) in arns {
        if let Some(arn) = arn {
            if arn.len() > limits::MAX_ID_LEN {
                return Err(RequestError::invalid(
                    *field,
                    "ARN exceeds the maximum of 256 characters",
                ));
            }
            let name = arn.rsplit('/').next().unwrap_or(arn);
            if name.is_empty() {
                return Err(RequestError::invalid(
                    *field,
                    "ARN has no recommender name after its last '/'",
                ));
            }
            return Ok(name);
        }
    }
    Err(RequestError::invalid(
        "recommender",
        "one of recommender, campaignArn or recommenderArn is required",
    ))
}

/// A version-4 UUID (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`) from 16 random bytes, as the
/// bindings make for `eventId` and `recommendationId` (the core itself has no random source).
#[must_use]
pub fn uuid_v4(mut random: [u8; 16]) -> String {
    random[6] = (random[6] & 0x0f) | 0x40;
    random[8] = (random[8] & 0x3f) | 0x80;
    // 8-4-4-4-12 lower-case hex digits
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (k, &b) in random.iter().enumerate() {
        if matches!(k, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod uuid_tests {
    #[test]
    fn uuid_v4_sets_version_and_variant() {
        let u = super::uuid_v4([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(
            super::uuid_v4([0; 16]),
            "00000000-0000-4000-8000-000000000000"
        );
        let counting: [u8; 16] = std::array::from_fn(|k| (k as u8) * 17);
        assert_eq!(
            super::uuid_v4(counting),
            "00112233-4455-4677-8899-aabbccddeeff"
        );
    }
}

#[cfg(test)]
mod serialisation_tests {
    use super::{Event, PutEventsRequest};

    #[test]
    fn put_events_leaves_out_absent_fields_and_empty_impressions() {
        let req = PutEventsRequest {
            session_id: "s".into(),
            event_list: vec![Event {
                event_type: "view".into(),
                sent_at: 2.5,
                ..Event::default()
            }],
            ..PutEventsRequest::default()
        };
        let text = serde_json::to_string(&req).expect("serialises");
        assert_eq!(
            text,
            r#"{"sessionId":"s","eventList":[{"eventType":"view","sentAt":2.5}]}"#
        );
        let back: PutEventsRequest = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, req);
    }
}
