//! The engine: answers Personalize-shaped requests from a decoded model, with live sessions.
//!
//! One engine per process (browser tab, Worker isolate, CLI run). The model is shared
//! (`Arc`), so [`Engine::fork`] gives another engine with its own sessions at no copy.

pub mod blend;
mod exploration;
mod filtering;
mod foldin;
mod history;
mod profile;
mod ranking;
mod recommend;
mod scoring;
mod segments;
mod validate;

use std::sync::{Arc, Mutex};

use crate::contract::{self, Policy};
use crate::error::{FormatError, RequestError};
use crate::filter::FilterCache;
use crate::format;
use crate::idindex::IdIndex;
use crate::model::{Model, RecommenderModel};
use crate::outbox::Outbox;
use crate::records;
use crate::request::{Item, PutEventsRequest, User, check_opt_id};
use crate::session::{SessionEvent, SessionStore};

pub use history::Interaction;
pub use segments::SegmentUser;

/// Distinct filter expressions kept compiled.
const FILTER_CACHE_CAPACITY: usize = 64;

/// Answers recommendation requests from one model.
#[derive(Debug, Clone)]
pub struct Engine {
    model: Arc<Model>,
    /// Item and user id indexes, shared by forks.
    ids: Arc<(IdIndex, IdIndex)>,
    /// [`crate::user_slice::model_id`] of the model as decoded (before any `putItems`): user
    /// profiles must come from a model with this id.
    model_id: u64,
    /// Compiled filter plans of this model, shared by forks.
    filters: Arc<Mutex<FilterCache>>,
    sessions: SessionStore,
    seq: u64,
    /// Accepted events waiting for sync.
    outbox: Outbox,
    /// Recent lists of exploring recommenders by recommendation id (implicit impressions).
    issued: Arc<Mutex<exploration::IssuedLog>>,
}

/// A summary of the loaded model, for `info()`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineInfo {
    pub model_version: u64,
    pub dataset: String,
    pub items: usize,
    pub users: usize,
    pub event_types: Vec<String>,
    pub recommenders: Vec<RecommenderInfo>,
    pub sessions: usize,
}

/// One recommender as `info()` reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommenderInfo {
    pub name: String,
    pub recipe: String,
    pub event_type: Option<String>,
}

impl Engine {
    /// An engine over a decoded model.
    #[must_use]
    pub fn new(model: Model) -> Self {
        Engine::from_shared(Arc::new(model))
    }

    /// An engine over a shared model.
    #[must_use]
    pub fn from_shared(model: Arc<Model>) -> Self {
        let ids = Arc::new((
            IdIndex::build(&model.catalog.item_ids),
            IdIndex::build(&model.users.user_ids),
        ));
        Engine {
            model_id: crate::user_slice::model_id(&model),
            model,
            ids,
            filters: Arc::new(Mutex::new(FilterCache::new(FILTER_CACHE_CAPACITY))),
            sessions: SessionStore::default(),
            seq: 0,
            outbox: Outbox::default(),
            issued: Arc::default(),
        }
    }

    /// Decodes `.erm` bytes and builds an engine.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        Ok(Engine::new(format::decode(bytes)?))
    }

    /// Another engine over the same model, with no sessions.
    #[must_use]
    pub fn fork(&self) -> Self {
        Engine {
            model: Arc::clone(&self.model),
            ids: Arc::clone(&self.ids),
            model_id: self.model_id,
            filters: Arc::clone(&self.filters),
            sessions: SessionStore::default(),
            seq: 0,
            outbox: Outbox::default(),
            issued: Arc::default(),
        }
    }

    #[must_use]
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Catalogue index of an item id.
    #[must_use]
    pub fn item_index(&self, item_id: &str) -> Option<u32> {
        self.ids.0.get(&self.model.catalog.item_ids, item_id)
    }

    /// Row of a known user id.
    #[must_use]
    pub fn user_index(&self, user_id: &str) -> Option<u32> {
        self.ids.1.get(&self.model.users.user_ids, user_id)
    }

    /// Number of live sessions.
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// A summary of the model and engine state.
    #[must_use]
    pub fn info(&self) -> EngineInfo {
        let m = &self.model;
        EngineInfo {
            model_version: m.meta.version,
            dataset: m.meta.dataset.clone(),
            items: m.catalog.len(),
            users: m.users.user_ids.len(),
            event_types: m.catalog.event_types.clone(),
            recommenders: m
                .recommenders
                .iter()
                .map(|r| RecommenderInfo {
                    name: r.name.clone(),
                    recipe: r.recipe.name().to_owned(),
                    event_type: r.event_type.clone(),
                })
                .collect(),
            sessions: self.sessions.len(),
        }
    }

    /// `PutEvents`, checked by the contract ([`contract::put_events`], Personalize's batch size):
    /// records the events in the session (keyed by `userId`, else `sessionId`)
    /// and refreshes the session's fold-in at once. An anonymous session that later arrives
    /// with a `userId` is merged into that user's session.
    pub fn put_events(&mut self, req: &PutEventsRequest) -> Result<(), RequestError> {
        let checked = contract::put_events(req, &Policy::PERSONALIZE)?;
        let first_seq = self.seq + 1;
        let key = req.user_id.as_deref().unwrap_or(&req.session_id).to_owned();
        if req.user_id.is_some()
            && let Some(anon) = self.sessions.take(&req.session_id)
        {
            self.sessions.entry(&key).absorb(anon);
        }
        let known_user = self.user_index(&key);
        let mut events = Vec::with_capacity(req.event_list.len());
        let mut impressions = Vec::new();
        for e in &req.event_list {
            self.seq += 1;
            let item = e.item_id.as_deref().and_then(|id| self.item_index(id));
            impressions.extend(e.impression.iter().filter_map(|id| self.item_index(id)));
            // Implicit impressions: what the response this event acts on showed, but the
            // event's own item.
            if let Some(shown) = e
                .recommendation_id
                .as_deref()
                .and_then(|r| self.take_issued(r))
            {
                impressions.extend(shown.into_iter().filter(|&i| Some(i) != item));
            }
            events.push(SessionEvent {
                item,
                item_id: e.item_id.clone(),
                event_type: e.event_type.to_ascii_lowercase(),
                sent_at: e.sent_at,
                value: e.event_value,
                seq: self.seq,
            });
        }
        let session = self.sessions.entry(&key);
        session.user = known_user;
        for e in events {
            session.push(e);
        }
        for i in impressions {
            *session.impressions.entry(i).or_default() += 1;
        }
        self.refresh_vectors(&key);
        self.outbox.record(checked, first_seq);
        Ok(())
    }

    /// Removes and returns up to `max_events` accepted events, oldest first, as `PutEvents`
    /// batches of at most 10 events with their `eventId`s (see [`Outbox::take`]).
    pub fn take_outbox(&mut self, max_events: usize) -> Vec<PutEventsRequest> {
        self.outbox.take(max_events)
    }

    /// Accepted events not yet taken from the outbox.
    #[must_use]
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Events dropped from a full outbox (oldest first) since this engine started.
    #[must_use]
    pub fn outbox_dropped(&self) -> u64 {
        self.outbox.dropped()
    }

    /// Every live session as versioned, checksummed bytes (see [`format::sessions`](crate::format::sessions)).
    #[must_use]
    pub fn export_sessions(&self) -> Vec<u8> {
        crate::format::sessions::encode(&self.sessions, &self.model.catalog.item_ids)
    }

    /// Imports exported sessions (merged into live sessions of the same key) and refreshes
    /// their fold-in; returns how many sessions were imported. Nothing changes on error.
    pub fn import_sessions(&mut self, bytes: &[u8]) -> Result<usize, RequestError> {
        let imported = crate::format::sessions::decode(bytes)?;
        let n = imported.len();
        let (model, ids) = (Arc::clone(&self.model), Arc::clone(&self.ids));
        for s in imported {
            let key = s.key.clone();
            let session =
                s.into_session(&mut self.seq, |id| ids.0.get(&model.catalog.item_ids, id));
            let user = self.user_index(&key);
            let live = self.sessions.entry(&key);
            live.absorb(session);
            live.user = user;
            self.refresh_vectors(&key);
        }
        Ok(n)
    }

    /// `PutItems`: adds items to the catalogue or replaces their metadata (see [`records`]).
    /// New items are usable at once (filters, popular back-fill). The model is copied first
    /// if forks share it.
    pub fn put_items(&mut self, items: &[Item]) -> Result<(), RequestError> {
        let parsed = records::parse_items(&self.model.catalog.columns, items)?;
        let ids = Arc::make_mut(&mut self.ids);
        records::apply_items(Arc::make_mut(&mut self.model), &mut ids.0, parsed);
        self.filters = Arc::new(Mutex::new(FilterCache::new(FILTER_CACHE_CAPACITY)));
        Ok(())
    }

    /// `PutUsers`: adds users or replaces their metadata (see [`records`]).
    pub fn put_users(&mut self, users: &[User]) -> Result<(), RequestError> {
        let parsed = records::parse_users(&self.model.users.columns, users)?;
        let ids = Arc::make_mut(&mut self.ids);
        records::apply_users(Arc::make_mut(&mut self.model), &mut ids.1, parsed);
        self.filters = Arc::new(Mutex::new(FilterCache::new(FILTER_CACHE_CAPACITY)));
        Ok(())
    }

    /// Recomputes the fold-in vectors of every factor recommender for one session.
    fn refresh_vectors(&mut self, key: &str) {
        let model = Arc::clone(&self.model);
        let Some(session) = self.sessions.get(key) else {
            return;
        };
        let user = session.user;
        let mut vectors = Vec::new();
        for (r, rec) in model.recommenders.iter().enumerate() {
            if let RecommenderModel::Factors(fm) = &rec.model {
                let inter = history::collect(
                    &model,
                    user,
                    Some(session),
                    rec.serving.max_history as usize,
                );
                let weighted = foldin::weights(fm, &model.catalog.event_types, &inter);
                if let Some(v) = foldin::fold_in(fm, &weighted) {
                    vectors.push((r, v));
                }
            }
        }
        let session = self.sessions.entry(key);
        session.vectors.clear();
        session.vectors.extend(vectors);
    }

    fn next_recommendation_id(&self, parts: &[&str]) -> String {
        let mut h = crate::idindex::fnv1a(b"edgerec");
        for p in parts {
            h ^= crate::idindex::fnv1a(p.as_bytes());
            h = h.rotate_left(17).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        h ^= self.seq;
        format!("rid-{h:016x}")
    }
}

/// Checks ids of the user/item pair of a request.
fn check_actor(user_id: Option<&str>, item_id: Option<&str>) -> Result<(), RequestError> {
    check_opt_id("userId", user_id)?;
    check_opt_id("itemId", item_id)
}
