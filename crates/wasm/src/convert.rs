//! JS ⇄ Rust conversions: option objects read field by field (errors name the field path,
//! `eventList[0].sentAt`), responses built as plain JS objects (maps as objects), and the random
//! ids the core does not make.
//!
//! Both directions are written by hand rather than through serde: a generic deserializer with
//! path tracking is instantiated once per field type and was a tenth of the `.wasm`, and the
//! generic serializer was much of what stood between the package and its size budget. The reader
//! follows the serde shapes of the core's request types: absent (`undefined`) and `null`
//! optional fields are `None` or empty, unknown fields are ignored.

use std::collections::BTreeMap;

use edgerec_core::PutEventsRequest;
use edgerec_core::engine::EngineInfo;
use edgerec_core::format::FileInfo;
use edgerec_core::request::{
    Event, GetPersonalizedRankingRequest, GetPersonalizedRankingResponse,
    GetRecommendationsRequest, GetRecommendationsResponse, Item, MetricAttribution, PredictedItem,
    Promotion, User,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::error;

/// One JS object being read, and where it sits in the argument (`eventList[0]`).
struct Obj<'p> {
    value: JsValue,
    path: &'p str,
}

impl<'p> Obj<'p> {
    /// `value` as an object, or an error naming `path`.
    fn new(value: JsValue, path: &'p str) -> Result<Self, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Err(error::invalid(path, "is required"));
        }
        if !value.is_object() || Array::is_array(&value) {
            return Err(error::invalid(path, "must be an object"));
        }
        Ok(Obj { value, path })
    }

    fn field_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The field's value; `None` when it is `undefined` or `null`.
    fn get(&self, name: &str) -> Result<Option<JsValue>, JsValue> {
        let v = Reflect::get(&self.value, &JsValue::from_str(name))
            .map_err(|_| error::invalid(&self.field_path(name), "cannot be read"))?;
        Ok((!v.is_undefined() && !v.is_null()).then_some(v))
    }

    fn opt_string(&self, name: &str) -> Result<Option<String>, JsValue> {
        self.get(name)?
            .map(|v| string(&self.field_path(name), v))
            .transpose()
    }

    fn string(&self, name: &str) -> Result<String, JsValue> {
        self.opt_string(name)?
            .ok_or_else(|| error::invalid(&self.field_path(name), "is required"))
    }

    fn opt_f64(&self, name: &str) -> Result<Option<f64>, JsValue> {
        self.get(name)?
            .map(|v| {
                v.as_f64()
                    .ok_or_else(|| error::invalid(&self.field_path(name), "must be a number"))
            })
            .transpose()
    }

    fn f64(&self, name: &str) -> Result<f64, JsValue> {
        self.opt_f64(name)?
            .ok_or_else(|| error::invalid(&self.field_path(name), "is required"))
    }

    fn opt_u32(&self, name: &str) -> Result<Option<u32>, JsValue> {
        self.opt_f64(name)?
            .map(|x| {
                if x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&x) {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Ok(x as u32)
                } else {
                    Err(error::invalid(
                        &self.field_path(name),
                        "must be a whole number from 0 to 4294967295",
                    ))
                }
            })
            .transpose()
    }

    /// A list field (absent = empty), each element read by `each` with its path.
    fn list<T>(
        &self,
        name: &str,
        each: impl FnMut(&str, JsValue) -> Result<T, JsValue>,
    ) -> Result<Vec<T>, JsValue> {
        match self.get(name)? {
            None => Ok(Vec::new()),
            Some(v) => list(&self.field_path(name), v, each),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, JsValue> {
        self.list(name, string)
    }

    /// An object field used as a map (absent = empty), each value read by `each`.
    fn map<T>(
        &self,
        name: &str,
        mut each: impl FnMut(&str, JsValue) -> Result<T, JsValue>,
    ) -> Result<BTreeMap<String, T>, JsValue> {
        let mut out = BTreeMap::new();
        let Some(v) = self.get(name)? else {
            return Ok(out);
        };
        let path = self.field_path(name);
        // a plain object, or a JS `Map` (whose entries are not own properties)
        let entries = match v.dyn_ref::<js_sys::Map>() {
            Some(m) => Array::from(&m.entries()),
            None => Object::entries(Obj::new(v, &path)?.value.unchecked_ref()),
        };
        for entry in entries.iter() {
            let pair: Array = entry.unchecked_into();
            let key = pair
                .get(0)
                .as_string()
                .ok_or_else(|| error::invalid(&path, "keys must be strings"))?;
            let value = each(&format!("{path}.{key}"), pair.get(1))?;
            out.insert(key, value);
        }
        Ok(out)
    }

    fn string_map(&self, name: &str) -> Result<BTreeMap<String, String>, JsValue> {
        self.map(name, string)
    }
}

fn string(path: &str, v: JsValue) -> Result<String, JsValue> {
    v.as_string()
        .ok_or_else(|| error::invalid(path, "must be a string"))
}

fn list<T>(
    path: &str,
    v: JsValue,
    mut each: impl FnMut(&str, JsValue) -> Result<T, JsValue>,
) -> Result<Vec<T>, JsValue> {
    if !Array::is_array(&v) {
        return Err(error::invalid(path, "must be an array"));
    }
    let a: Array = v.unchecked_into();
    let mut out = Vec::with_capacity(a.length().min(1024) as usize);
    for (k, x) in a.iter().enumerate() {
        out.push(each(&format!("{path}[{k}]"), x)?);
    }
    Ok(out)
}

fn promotion(path: &str, v: JsValue) -> Result<Promotion, JsValue> {
    let o = Obj::new(v, path)?;
    Ok(Promotion {
        name: o.opt_string("name")?,
        percent_promoted_items: o.opt_u32("percentPromotedItems")?,
        filter_arn: o.opt_string("filterArn")?,
        filter: o.opt_string("filter")?,
        filter_values: o.string_map("filterValues")?,
    })
}

fn metadata_columns(o: &Obj<'_>) -> Result<BTreeMap<String, Vec<String>>, JsValue> {
    o.map("metadataColumns", |path, v| list(path, v, string))
}

/// The `getRecommendations` request.
pub fn recommendations_request(v: JsValue) -> Result<GetRecommendationsRequest, JsValue> {
    let o = Obj::new(v, "request")?;
    let o = Obj { path: "", ..o };
    Ok(GetRecommendationsRequest {
        recommender: o.opt_string("recommender")?,
        campaign_arn: o.opt_string("campaignArn")?,
        recommender_arn: o.opt_string("recommenderArn")?,
        user_id: o.opt_string("userId")?,
        item_id: o.opt_string("itemId")?,
        num_results: o.opt_u32("numResults")?,
        context: o.string_map("context")?,
        filter: o.opt_string("filter")?,
        filter_arn: o.opt_string("filterArn")?,
        filter_values: o.string_map("filterValues")?,
        promotions: o.list("promotions", promotion)?,
        metadata_columns: metadata_columns(&o)?,
        recommendation_id: o.opt_string("recommendationId")?,
    })
}

/// The `getPersonalizedRanking` request.
pub fn ranking_request(v: JsValue) -> Result<GetPersonalizedRankingRequest, JsValue> {
    let o = Obj::new(v, "request")?;
    let o = Obj { path: "", ..o };
    Ok(GetPersonalizedRankingRequest {
        recommender: o.opt_string("recommender")?,
        campaign_arn: o.opt_string("campaignArn")?,
        user_id: o.opt_string("userId")?,
        input_list: o.strings("inputList")?,
        context: o.string_map("context")?,
        filter: o.opt_string("filter")?,
        filter_arn: o.opt_string("filterArn")?,
        filter_values: o.string_map("filterValues")?,
        metadata_columns: metadata_columns(&o)?,
        recommendation_id: o.opt_string("recommendationId")?,
    })
}

fn event(path: &str, v: JsValue) -> Result<Event, JsValue> {
    let o = Obj::new(v, path)?;
    let attribution = o
        .get("metricAttribution")?
        .map(|m| {
            let path = o.field_path("metricAttribution");
            let m = Obj::new(m, &path)?;
            Ok::<_, JsValue>(MetricAttribution {
                event_attribution_source: m.string("eventAttributionSource")?,
            })
        })
        .transpose()?;
    Ok(Event {
        event_id: o.opt_string("eventId")?,
        event_type: o.string("eventType")?,
        item_id: o.opt_string("itemId")?,
        sent_at: o.f64("sentAt")?,
        event_value: o.opt_f64("eventValue")?,
        properties: o.opt_string("properties")?,
        impression: o.strings("impression")?,
        recommendation_id: o.opt_string("recommendationId")?,
        metric_attribution: attribution,
        recommender: o.opt_string("recommender")?,
    })
}

/// The `putEvents` request (a missing `eventList` is an empty one, which the core refuses).
pub fn put_events_request(v: JsValue) -> Result<PutEventsRequest, JsValue> {
    let o = Obj::new(v, "request")?;
    let o = Obj { path: "", ..o };
    Ok(PutEventsRequest {
        tracking_id: o.opt_string("trackingId")?,
        session_id: o.string("sessionId")?,
        user_id: o.opt_string("userId")?,
        event_list: o.list("eventList", event)?,
    })
}

/// The `putItems` records.
pub fn items(v: JsValue) -> Result<Vec<Item>, JsValue> {
    list("items", v, |path, x| {
        let o = Obj::new(x, path)?;
        Ok(Item {
            item_id: o.string("itemId")?,
            properties: o.opt_string("properties")?,
        })
    })
}

/// The `putUsers` records.
pub fn users(v: JsValue) -> Result<Vec<User>, JsValue> {
    list("users", v, |path, x| {
        let o = Obj::new(x, path)?;
        Ok(User {
            user_id: o.string("userId")?,
            properties: o.opt_string("properties")?,
        })
    })
}

// ---------------------------------------------------------------------------------------------
// responses: plain JS objects and arrays in the shape of the core types' serde (camelCase keys in
// field order, `None` as null unless the field is skipped when absent, maps as objects)

/// A fresh JS object being filled.
struct Out(Object);

impl Out {
    fn new() -> Self {
        Out(Object::new())
    }

    fn set(self, key: &str, value: impl Into<JsValue>) -> Self {
        // Defining a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
        self
    }

    /// `None` as null.
    fn opt(self, key: &str, value: Option<impl Into<JsValue>>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self.set(key, JsValue::NULL),
        }
    }

    /// `None` leaves the key out.
    fn skip_none(self, key: &str, value: Option<impl Into<JsValue>>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }
}

impl From<Out> for JsValue {
    fn from(o: Out) -> JsValue {
        o.0.into()
    }
}

fn str_opt(s: Option<&String>) -> Option<JsValue> {
    s.map(|s| JsValue::from_str(s))
}

fn array<T>(items: &[T], each: impl Fn(&T) -> JsValue) -> JsValue {
    items.iter().map(each).collect::<Array>().into()
}

fn strings(items: &[String]) -> JsValue {
    array(items, |s| JsValue::from_str(s))
}

#[allow(clippy::cast_precision_loss)]
fn number(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn string_map(m: &BTreeMap<String, String>) -> JsValue {
    m.iter()
        .fold(Out::new(), |o, (k, v)| o.set(k, JsValue::from_str(v)))
        .into()
}

fn predicted(items: &[PredictedItem]) -> JsValue {
    array(items, |p| {
        Out::new()
            .set("itemId", JsValue::from_str(&p.item_id))
            .skip_none("score", p.score)
            .skip_none("promotionName", str_opt(p.promotion_name.as_ref()))
            .skip_none("metadata", p.metadata.as_ref().map(string_map))
            .skip_none("reason", p.reason.as_deref().map(strings))
            .into()
    })
}

/// The `getRecommendations` response.
pub fn recommendations_response(r: &GetRecommendationsResponse) -> JsValue {
    Out::new()
        .set("itemList", predicted(&r.item_list))
        .set("recommendationId", JsValue::from_str(&r.recommendation_id))
        .into()
}

/// The `getPersonalizedRanking` response.
pub fn ranking_response(r: &GetPersonalizedRankingResponse) -> JsValue {
    Out::new()
        .set("personalizedRanking", predicted(&r.personalized_ranking))
        .set("recommendationId", JsValue::from_str(&r.recommendation_id))
        .into()
}

/// Outbox batches, each a `PutEvents` request as the sync server takes it: absent fields and
/// an empty `impression` are left out, as the core's serialisation does.
pub fn outbox(batches: &[PutEventsRequest]) -> JsValue {
    array(batches, |b| {
        Out::new()
            .skip_none("trackingId", str_opt(b.tracking_id.as_ref()))
            .set("sessionId", JsValue::from_str(&b.session_id))
            .skip_none("userId", str_opt(b.user_id.as_ref()))
            .set(
                "eventList",
                array(&b.event_list, |e| {
                    Out::new()
                        .skip_none("eventId", str_opt(e.event_id.as_ref()))
                        .set("eventType", JsValue::from_str(&e.event_type))
                        .skip_none("itemId", str_opt(e.item_id.as_ref()))
                        .set("sentAt", e.sent_at)
                        .skip_none("eventValue", e.event_value)
                        .skip_none("properties", str_opt(e.properties.as_ref()))
                        .skip_none(
                            "impression",
                            (!e.impression.is_empty()).then(|| strings(&e.impression)),
                        )
                        .skip_none("recommendationId", str_opt(e.recommendation_id.as_ref()))
                        .skip_none(
                            "metricAttribution",
                            e.metric_attribution.as_ref().map(|m| {
                                Out::new().set(
                                    "eventAttributionSource",
                                    JsValue::from_str(&m.event_attribution_source),
                                )
                            }),
                        )
                        .skip_none("recommender", str_opt(e.recommender.as_ref()))
                        .into()
                }),
            )
            .into()
    })
}

/// The engine's summary, as the start of `info()`.
pub fn engine_info(i: &EngineInfo) -> JsValue {
    Out::new()
        .set("modelVersion", number(i.model_version))
        .set("dataset", JsValue::from_str(&i.dataset))
        .set("items", number(i.items as u64))
        .set("users", number(i.users as u64))
        .set("eventTypes", strings(&i.event_types))
        .set(
            "recommenders",
            array(&i.recommenders, |r| {
                Out::new()
                    .set("name", JsValue::from_str(&r.name))
                    .set("recipe", JsValue::from_str(&r.recipe))
                    .opt("eventType", str_opt(r.event_type.as_ref()))
                    .into()
            }),
        )
        .set("sessions", number(i.sessions as u64))
        .into()
}

/// The file's sections for `info()`: `{ name, bytes }` each.
pub fn sections(file: &FileInfo) -> JsValue {
    array(&file.sections, |s| {
        Out::new()
            .set("name", JsValue::from_str(&s.name))
            .set("bytes", number(s.length))
            .into()
    })
}

/// `N` random bytes from the platform (`crypto.getRandomValues` in JS hosts).
fn random_bytes<const N: usize>() -> Result<[u8; N], JsValue> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| error::js_error(error::INTERNAL, &format!("no random source: {e}")))?;
    Ok(b)
}

/// A random UUID (version 4), as Personalize's SDKs make for `eventId`.
pub fn uuid() -> Result<String, JsValue> {
    Ok(edgerec_core::request::uuid_v4(random_bytes()?))
}

/// Fills a missing `recommendationId` with `RID-` and a random UUID (40 characters at most).
pub fn fill_recommendation_id(id: &mut Option<String>) -> Result<(), JsValue> {
    if id.is_none() {
        *id = Some(format!("RID-{}", uuid()?));
    }
    Ok(())
}

/// Fills missing `eventId`s with random UUIDs.
pub fn fill_event_ids(req: &mut edgerec_core::PutEventsRequest) -> Result<(), JsValue> {
    for e in &mut req.event_list {
        if e.event_id.is_none() {
            e.event_id = Some(uuid()?);
        }
    }
    Ok(())
}
