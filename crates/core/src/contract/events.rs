//! `PutEvents`: the request and each of its events.

use super::{Policy, properties};
use crate::error::RequestError;
use crate::request::{Event, PutEventsRequest, check_id, check_len, check_opt_id, limits};

/// A `PutEvents` request that passed [`put_events`]. Only that check makes one, and the
/// engine's outbox records only these.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'a>(&'a PutEventsRequest);

impl<'a> Checked<'a> {
    /// The request that was checked.
    #[must_use]
    pub fn request(self) -> &'a PutEventsRequest {
        self.0
    }
}

/// Checks a `PutEvents` request against the contract (see [`super`]) with `policy`'s batch
/// size; the first error found names its field.
pub fn put_events<'a>(
    req: &'a PutEventsRequest,
    policy: &Policy,
) -> Result<Checked<'a>, RequestError> {
    check_id("sessionId", &req.session_id)?;
    check_opt_id("userId", req.user_id.as_deref())?;
    check_opt_id("trackingId", req.tracking_id.as_deref())?;
    let n = req.event_list.len();
    if n == 0 || n > policy.max_events {
        return Err(RequestError::invalid(
            "eventList",
            format!("must hold 1 to {} events, got {n}", policy.max_events),
        ));
    }
    for (k, e) in req.event_list.iter().enumerate() {
        event(&format!("eventList[{k}]"), e)?;
    }
    Ok(Checked(req))
}

fn event(at: &str, e: &Event) -> Result<(), RequestError> {
    let f = |name: &str| format!("{at}.{name}");
    check_id(&f("eventType"), &e.event_type)?;
    check_opt_id(&f("eventId"), e.event_id.as_deref())?;
    check_opt_id(&f("itemId"), e.item_id.as_deref())?;
    if !e.sent_at.is_finite() || e.sent_at < 0.0 {
        return Err(RequestError::invalid(
            f("sentAt"),
            "must be a non-negative Unix time in seconds",
        ));
    }
    if e.event_value.is_some_and(|v| !v.is_finite()) {
        return Err(RequestError::invalid(
            f("eventValue"),
            "must be a finite number",
        ));
    }
    if let Some(p) = &e.properties {
        properties::object(
            &f("properties"),
            p,
            limits::MAX_PROPERTIES_LEN,
            &limits::FORBIDDEN_PROPERTIES,
        )?;
    }
    if e.impression.len() > limits::MAX_IMPRESSIONS {
        return Err(RequestError::invalid(
            f("impression"),
            format!(
                "{} items exceed the maximum of {}",
                e.impression.len(),
                limits::MAX_IMPRESSIONS
            ),
        ));
    }
    for (j, id) in e.impression.iter().enumerate() {
        check_id(&format!("{at}.impression[{j}]"), id)?;
    }
    if let Some(r) = &e.recommendation_id {
        check_len(&f("recommendationId"), r, limits::MAX_RECOMMENDATION_ID_LEN)?;
    }
    if let Some(m) = &e.metric_attribution {
        let field = f("metricAttribution.eventAttributionSource");
        let s = &m.event_attribution_source;
        check_len(&field, s, limits::MAX_ATTRIBUTION_SOURCE_LEN)?;
        if !s.chars().all(|c| (' '..='~').contains(&c)) {
            return Err(RequestError::invalid(field, "must be printable ASCII"));
        }
    }
    check_opt_id(&f("recommender"), e.recommender.as_deref())
}
