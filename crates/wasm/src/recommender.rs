//! The exported `Recommender` class: one engine over one model file.

use edgerec_core::Engine;
use edgerec_core::format::{self, FileInfo};
use wasm_bindgen::prelude::*;

use crate::{convert, error};

/// A model loaded into an engine, with its live sessions and outbox.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Recommender {
    engine: Engine,
    file: FileInfo,
}

impl Recommender {
    pub(crate) fn from_parts(engine: Engine, file: FileInfo) -> Self {
        Recommender { engine, file }
    }
}

#[wasm_bindgen]
impl Recommender {
    /// Decodes `.erm` bytes (copied into wasm memory) and builds an engine.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<Recommender, JsValue> {
        let file = format::read_header(bytes).map_err(|e| error::format(&e))?;
        let engine = Engine::from_bytes(bytes).map_err(|e| error::format(&e))?;
        Ok(Recommender { engine, file })
    }

    /// `GetRecommendations` (fills a random `recommendationId` when the request has none).
    #[wasm_bindgen(js_name = getRecommendations)]
    pub fn get_recommendations(&self, request: JsValue) -> Result<JsValue, JsValue> {
        let mut req = convert::recommendations_request(request)?;
        convert::fill_recommendation_id(&mut req.recommendation_id)?;
        let resp = self
            .engine
            .get_recommendations(&req)
            .map_err(|e| error::request(&e))?;
        Ok(convert::recommendations_response(&resp))
    }

    /// `GetPersonalizedRanking`.
    #[wasm_bindgen(js_name = getPersonalizedRanking)]
    pub fn get_personalized_ranking(&self, request: JsValue) -> Result<JsValue, JsValue> {
        let mut req = convert::ranking_request(request)?;
        convert::fill_recommendation_id(&mut req.recommendation_id)?;
        let resp = self
            .engine
            .get_personalized_ranking(&req)
            .map_err(|e| error::request(&e))?;
        Ok(convert::ranking_response(&resp))
    }

    /// `PutEvents`: adapts the session at once and queues the events (random `eventId`s
    /// filled in) for sync.
    #[wasm_bindgen(js_name = putEvents)]
    pub fn put_events(&mut self, request: JsValue) -> Result<(), JsValue> {
        let mut req = convert::put_events_request(request)?;
        convert::fill_event_ids(&mut req)?;
        self.engine.put_events(&req).map_err(|e| error::request(&e))
    }

    /// `PutItems`: 1–10 records `{ itemId, properties? }`.
    #[wasm_bindgen(js_name = putItems)]
    pub fn put_items(&mut self, items: JsValue) -> Result<(), JsValue> {
        let items = convert::items(items)?;
        self.engine
            .put_items(&items)
            .map_err(|e| error::request(&e))
    }

    /// `PutUsers`: 1–10 records `{ userId, properties? }`.
    #[wasm_bindgen(js_name = putUsers)]
    pub fn put_users(&mut self, users: JsValue) -> Result<(), JsValue> {
        let users = convert::users(users)?;
        self.engine
            .put_users(&users)
            .map_err(|e| error::request(&e))
    }

    /// Removes and returns up to `max_events` queued events as `PutEvents` batches.
    #[wasm_bindgen(js_name = takeOutbox)]
    pub fn take_outbox(&mut self, max_events: u32) -> Result<JsValue, JsValue> {
        Ok(convert::outbox(
            &self.engine.take_outbox(max_events as usize),
        ))
    }

    /// Every live session as versioned, checksummed bytes (a copy).
    #[wasm_bindgen(js_name = exportSessions)]
    #[must_use]
    pub fn export_sessions(&self) -> Vec<u8> {
        self.engine.export_sessions()
    }

    /// Imports exported sessions; returns how many were imported.
    #[wasm_bindgen(js_name = importSessions)]
    pub fn import_sessions(&mut self, bytes: &[u8]) -> Result<u32, JsValue> {
        let n = self
            .engine
            .import_sessions(bytes)
            .map_err(|e| error::request(&e))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Loads one user's profile (their slice of the private model, fetched with their token):
    /// the user is a known user from then on. Returns the user id.
    #[wasm_bindgen(js_name = loadUserProfile)]
    pub fn load_user_profile(&mut self, bytes: &[u8]) -> Result<String, JsValue> {
        self.engine
            .load_user_profile(bytes)
            .map_err(|e| error::js_error(e.code().as_str(), &e.to_string()))
    }

    /// The model and engine summary: recommenders, item and user counts, format version,
    /// sizes, sessions and outbox.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        // The engine's summary, then the file's format and sizes on the same object.
        let info = convert::engine_info(&self.engine.info());
        #[allow(clippy::cast_precision_loss)]
        let fields = [
            (
                "formatVersion",
                JsValue::from_str(&format!("{}.{}", self.file.version.0, self.file.version.1)),
            ),
            ("fileBytes", JsValue::from_f64(self.file.file_length as f64)),
            ("sections", convert::sections(&self.file)),
            (
                "outboxPending",
                JsValue::from_f64(self.engine.outbox_len() as f64),
            ),
            (
                "outboxDropped",
                JsValue::from_f64(self.engine.outbox_dropped() as f64),
            ),
            ("memoryBytes", JsValue::from_f64(memory_bytes() as f64)),
        ];
        for (key, value) in fields {
            js_sys::Reflect::set(&info, &JsValue::from_str(key), &value)
                .map_err(|_| error::js_error(error::INTERNAL, "info() could not be built"))?;
        }
        Ok(info)
    }
}

/// Size of the wasm linear memory in bytes (0 off wasm).
fn memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        (core::arch::wasm32::memory_size(0) as u64) * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
