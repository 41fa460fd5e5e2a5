//! `GetRecommendations`.

use std::collections::BTreeMap;

use super::filtering::{FilterActor, backfill, block_outside, promotion_slots};
use super::history::Interaction;
use super::scoring::{self, Actor, Scoring, Source};
use super::{Engine, blend, history, validate};
use crate::bitset::BitSet;
use crate::error::{RequestError, quoted};
use crate::model::{Model, Recommender, RecommenderModel};
use crate::request::{GetRecommendationsRequest, GetRecommendationsResponse, PredictedItem};
use crate::session::Session;
use crate::topk::Scored;

impl Engine {
    /// `GetRecommendations`: personalised top-K for `userId` (known, or a session's live
    /// events), related items for `itemId`, or popular items — by the recommender's recipe.
    pub fn get_recommendations(
        &self,
        req: &GetRecommendationsRequest,
    ) -> Result<GetRecommendationsResponse, RequestError> {
        let k = validate::get_recommendations(req)?;
        super::check_actor(req.user_id.as_deref(), req.item_id.as_deref())?;
        let name = req.recommender_name()?;
        let (ri, rec) = self.find_recommender(name)?;
        let metadata = metadata_columns(&self.model, &req.metadata_columns)?;
        let (user, session) = self.actor(req.user_id.as_deref());
        let item = req.item_id.as_deref().and_then(|id| self.item_index(id));
        let fa = FilterActor {
            user,
            session,
            item,
        };
        let expr =
            self.filter_expression("filter", req.filter.as_deref(), req.filter_arn.as_deref())?;
        let base_blocked = self.blocked(rec, user, session, item);
        let mut blocked = base_blocked.clone();
        if let Some(e) = &expr {
            block_outside(&mut blocked, &self.filter_mask(e, &req.filter_values, fa)?);
        }
        let recent = history::collect(&self.model, user, session, rec.serving.max_history as usize);
        let actor = Actor {
            user,
            session,
            recommender: ri,
            item,
            context: Some(&req.context),
        };
        let rid = req.recommendation_id.clone().unwrap_or_else(|| {
            self.next_recommendation_id(&[
                name,
                req.user_id.as_deref().unwrap_or(""),
                req.item_id.as_deref().unwrap_or(""),
            ])
        });
        let (items, has_scores) = if req.item_id.is_some() && item.is_none() {
            // Unknown item: popular items (Personalize's behaviour).
            (
                scoring::top_popular(&self.model.popularity, &blocked, k),
                false,
            )
        } else {
            let s = score(&self.model, rec, &actor, &recent, &blocked, k);
            let has = s.has_scores && s.source == Source::Model;
            (s.items, has)
        };
        let mut entries: Vec<Entry> =
            match self.explore(rec, &actor, &recent, &blocked, items, k, &rid) {
                Ok(slots) => slots
                    .into_iter()
                    .map(|s| {
                        if s.explored {
                            Entry::reason(s.scored, EXPLORATION)
                        } else {
                            Entry::plain(s.scored)
                        }
                    })
                    .collect(),
                Err(items) => items.into_iter().map(Entry::plain).collect(),
            };
        if expr.is_some() && entries.len() < k {
            let mut fill: Vec<Scored> = entries.iter().map(|e| e.scored).collect();
            let added = backfill(&self.model.popularity.ranked, &blocked, &mut fill, k);
            let from = fill.len() - added;
            entries.extend(fill.drain(from..).map(|s| Entry::reason(s, "Popular item")));
        }
        if let Some(p) = req.promotions.first() {
            let pexpr = self
                .filter_expression(
                    "promotions[0].filter",
                    p.filter.as_deref(),
                    p.filter_arn.as_deref(),
                )?
                .ok_or_else(|| {
                    RequestError::invalid("promotions[0].filter", "a promotion needs a filter")
                })?;
            let mut pblocked = base_blocked;
            block_outside(
                &mut pblocked,
                &self.filter_mask(&pexpr, &p.filter_values, fa)?,
            );
            let pct = p.percent_promoted_items.unwrap_or(0) as usize;
            let want = (k * pct).div_ceil(100);
            let mut promoted = score(&self.model, rec, &actor, &recent, &pblocked, want).items;
            if promoted.len() < want {
                backfill(
                    &self.model.popularity.ranked,
                    &pblocked,
                    &mut promoted,
                    want,
                );
            }
            let promo_name = p.name.clone().unwrap_or_default();
            entries.retain(|e| !promoted.iter().any(|s| s.item == e.scored.item));
            entries.truncate(k.saturating_sub(promoted.len()));
            let total = entries.len() + promoted.len();
            for (slot, s) in promotion_slots(promoted.len(), total)
                .into_iter()
                .zip(promoted)
            {
                let mut e = Entry::reason(s, "Promoted item");
                e.promotion = Some(promo_name.clone());
                entries.insert(slot.min(entries.len()), e);
            }
        }
        if rec.serving.exploration.is_some() {
            self.record_issued(&rid, entries.iter().map(|e| e.scored.item).collect());
        }
        Ok(self.response(rid, &entries, has_scores, &metadata))
    }

    pub(super) fn find_recommender(
        &self,
        name: &str,
    ) -> Result<(usize, &Recommender), RequestError> {
        self.model
            .recommenders
            .iter()
            .enumerate()
            .find(|(_, r)| r.name == name)
            .ok_or_else(|| RequestError::NotFound {
                what: "recommender",
                name: name.to_owned(),
            })
    }

    /// The known user row and live session for a request's `userId` (a session id for
    /// anonymous visitors, as in Personalize).
    pub(super) fn actor(&self, user_id: Option<&str>) -> (Option<u32>, Option<&Session>) {
        match user_id {
            Some(u) => (self.user_index(u), self.sessions.get(u)),
            None => (None, None),
        }
    }

    /// Items a request must not return: the user's interactions (per the recommender's
    /// serving options) and the request's own item.
    pub(super) fn blocked(
        &self,
        rec: &Recommender,
        user: Option<u32>,
        session: Option<&Session>,
        item: Option<u32>,
    ) -> BitSet {
        let mut blocked = BitSet::empty(self.model.catalog.len());
        if rec.serving.exclude_interacted {
            let types = &rec.serving.exclude_event_types;
            for it in history::collect(&self.model, user, session, usize::MAX) {
                if types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case(it.event_type)) {
                    blocked.insert(it.item as usize);
                }
            }
        }
        if let Some(i) = item {
            blocked.insert(i as usize);
        }
        blocked
    }

    fn response(
        &self,
        recommendation_id: String,
        entries: &[Entry],
        has_scores: bool,
        metadata: &[usize],
    ) -> GetRecommendationsResponse {
        GetRecommendationsResponse {
            item_list: entries
                .iter()
                .map(|e| {
                    let mut p = predicted(
                        &self.model,
                        &e.scored,
                        has_scores && e.reason.is_none_or(|r| r == EXPLORATION),
                        metadata,
                    );
                    p.promotion_name.clone_from(&e.promotion);
                    p.reason = e.reason.map(|r| vec![r.to_owned()]);
                    p
                })
                .collect(),
            recommendation_id,
        }
    }
}

/// The reason of items placed by exploration.
pub(super) const EXPLORATION: &str = "Exploration";

/// Resolves `metadataColumns.ITEMS` to column positions; unknown columns are an error.
pub(super) fn metadata_columns(
    model: &Model,
    mc: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<usize>, RequestError> {
    let mut out = Vec::new();
    for name in mc.get("ITEMS").into_iter().flatten() {
        let pos = model
            .catalog
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                RequestError::invalid(
                    "metadataColumns.ITEMS",
                    format!("unknown item column {}", quoted(name)),
                )
            })?;
        out.push(pos);
    }
    Ok(out)
}

pub(super) fn predicted(
    model: &Model,
    s: &Scored,
    has_scores: bool,
    metadata: &[usize],
) -> PredictedItem {
    let i = s.item as usize;
    let meta = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .filter_map(|&c| model.catalog.columns.get(c))
            .filter_map(|c| c.display_value(i).map(|v| (c.name.clone(), v)))
            // inserted one by one: `collect` would sort first, one more sort in the wasm
            .fold(BTreeMap::new(), |mut m, (k, v)| {
                m.insert(k, v);
                m
            })
    });
    PredictedItem {
        item_id: model.catalog.item_ids.get(i).unwrap_or_default().to_owned(),
        score: has_scores.then(|| round6(s.score)),
        promotion_name: None,
        metadata: meta,
        reason: None,
    }
}

fn round6(x: f32) -> f64 {
    (f64::from(x) * 1e6).round() / 1e6
}

/// One slot of a response: the scored item and why it is there.
#[derive(Debug, Clone)]
struct Entry {
    scored: Scored,
    promotion: Option<String>,
    reason: Option<&'static str>,
}

impl Entry {
    fn plain(scored: Scored) -> Self {
        Entry {
            scored,
            promotion: None,
            reason: None,
        }
    }

    fn reason(scored: Scored, reason: &'static str) -> Self {
        Entry {
            scored,
            promotion: None,
            reason: Some(reason),
        }
    }
}

/// Scores the candidates for one request: a blend from its parts, any other recipe by itself;
/// global popularity when the recommender has nothing of its own for the actor.
fn score(
    model: &Model,
    rec: &Recommender,
    actor: &Actor<'_>,
    recent: &[Interaction<'_>],
    blocked: &BitSet,
    k: usize,
) -> Scoring {
    let own = match &rec.model {
        RecommenderModel::Blend(b) => {
            blend::score(model, b, actor, recent, blocked, k).map(|v| (v, true))
        }
        _ => scoring::own(model, rec, actor, recent, blocked, k),
    };
    scoring::or_popular(model, blocked, k, own)
}
