//! A/B experiments (`EXPERIMENTS`) and the recommendation log.
//!
//! `EXPERIMENTS` is the core's declaration (`edgerec_core::experiment`: one experiment or a JSON
//! array), read once per isolate. A read of a recommender that an enabled experiment covers is
//! answered by the variant of its `userId` (else the edgerec field `sessionId`), the same
//! variant the npm package and `edgerec serve` assign; the answer says which in
//! `x-edgerec-experiment` and `x-edgerec-variant`.
//!
//! Every answered read is logged to the sync server's `POST /recommendations-log`
//! (recommendationId → recommender actually used, experiment, variant, items), so that events
//! carrying that `recommendationId` are attributed to it. With `SYNC_QUEUE` the entry is queued
//! (durable once queued; the consumer posts a message batch as one log request, retried, then
//! the dead-letter queue); without a queue it is posted once after the answer (`waitUntil`),
//! best effort: an entry the server does not take then is lost. No `SYNC_URL`: nothing is
//! logged.

use edgerec_core::ErrorCode;
use std::cell::RefCell;
use std::rc::Rc;

use edgerec_core::experiment::{self, Experiment};
use worker::{Context, Env, Response};

use crate::api::ApiError;
use crate::config::{self, var};
use crate::sync::{self, Batch};

thread_local! {
    /// `EXPERIMENTS` as last read (its text) and parsed.
    static PARSED: RefCell<Option<(String, Rc<Vec<Experiment>>)>> = const { RefCell::new(None) };
}

/// The declared experiments, parsed once per isolate (again only when the text changes). A
/// declaration that does not parse fails closed, naming the setting.
pub fn declared(env: &Env) -> Result<Rc<Vec<Experiment>>, ApiError> {
    let text = var(env, "EXPERIMENTS").unwrap_or_default();
    if let Some(list) = PARSED.with(|p| {
        p.borrow()
            .as_ref()
            .filter(|(t, _)| *t == text)
            .map(|(_, l)| Rc::clone(l))
    }) {
        return Ok(list);
    }
    let list = Rc::new(experiment::parse(&text).map_err(|e| {
        ApiError::coded(
            ErrorCode::Internal,
            format!("the Worker is misconfigured: EXPERIMENTS: {e}"),
        )
    })?);
    PARSED.with(|p| *p.borrow_mut() = Some((text, Rc::clone(&list))));
    Ok(list)
}

/// The experiment and variant a read was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    pub experiment: String,
    pub variant: String,
}

/// What a read recommended, for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub recommender: String,
    pub given: Option<Given>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
}

/// Marks the answer with the variant, and logs it (after the answer) when there is a sync
/// server.
pub async fn finish(env: &Env, ctx: &Context, r: &mut Response, shown: Shown) {
    if let Some(g) = &shown.given {
        let h = r.headers_mut();
        let _ = h.set("x-edgerec-experiment", &g.experiment);
        let _ = h.set("x-edgerec-variant", &g.variant);
    }
    if r.status_code() != 200 || sync::mode(env) == "disabled" {
        return;
    }
    let Ok(mut copy) = r.cloned() else {
        return;
    };
    let Ok(answer) = copy.bytes().await else {
        return;
    };
    let Some(body) = log_body(&answer, &shown, js_sys::Date::now() / 1000.0) else {
        return;
    };
    let batch = Batch {
        path: crate::rec_log::LOG_PATH.to_owned(),
        body,
    };
    let env = env.clone();
    ctx.wait_until(async move {
        let sent = match env.queue(config::SYNC_QUEUE) {
            Ok(queue) => queue.send(batch).await.map_err(|e| e.to_string()),
            Err(_) => sync::post_or_park(&env, &batch, "worker").await,
        };
        if let Err(e) = sent {
            worker::console_error!("recommendation log: not delivered: {e}");
        }
    });
}

/// The `/recommendations-log` body of one answer (`None` when it has no recommendationId).
pub fn log_body(answer: &[u8], shown: &Shown, now_s: f64) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(answer).ok()?;
    let rid = v["recommendationId"].as_str()?;
    let list = v["itemList"]
        .as_array()
        .or_else(|| v["personalizedRanking"].as_array())?;
    let items: Vec<&str> = list.iter().filter_map(|p| p["itemId"].as_str()).collect();
    let mut entry = serde_json::json!({
        "recommendationId": rid,
        "recommender": shown.recommender,
        "itemList": items,
        "createdAt": now_s.floor(),
    });
    let fields = [
        ("experiment", shown.given.as_ref().map(|g| &g.experiment)),
        ("variant", shown.given.as_ref().map(|g| &g.variant)),
        ("userId", shown.user_id.as_ref()),
        ("sessionId", shown.session_id.as_ref()),
    ];
    for (k, value) in fields {
        if let Some(value) = value {
            entry[k] = serde_json::Value::String(value.clone());
        }
    }
    Some(serde_json::json!({ "recommendations": [entry] }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_entry_of_an_answer() {
        let shown = Shown {
            recommender: "best-sellers".into(),
            given: Some(Given {
                experiment: "home".into(),
                variant: "pop".into(),
            }),
            user_id: None,
            session_id: Some("s1".into()),
        };
        let answer = br#"{"itemList": [{"itemId": "i1", "score": 0.5}, {"itemId": "i2"}], "recommendationId": "RID-1"}"#;
        let body = log_body(answer, &shown, 1_700_000_000.7).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"recommendations": [{"recommendationId": "RID-1", "recommender": "best-sellers",
                "experiment": "home", "variant": "pop", "sessionId": "s1", "itemList": ["i1", "i2"], "createdAt": 1_700_000_000.0}]})
        );
        let ranking = br#"{"personalizedRanking": [{"itemId": "i3"}], "recommendationId": "r"}"#;
        assert!(log_body(ranking, &shown, 0.0).is_some_and(|b| b.contains("i3")));
        assert_eq!(log_body(b"{}", &shown, 0.0), None);
        let merged = crate::rec_log::merge(&[body.as_str(), body.as_str()]).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&merged).unwrap_or_default();
        assert_eq!(v["recommendations"].as_array().map(Vec::len), Some(2));
        assert_eq!(crate::rec_log::merge(&["nope"]), None);
    }
}
