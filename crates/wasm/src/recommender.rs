//! The exported `Recommender` class: one engine over one model file.

use edgerec_core::Engine;
use edgerec_core::format::{self, FileInfo};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{convert, error};

/// A model loaded into an engine, with its live sessions and outbox.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Recommender {
    engine: Engine,
    file: FileInfo,
}

/// What `info()` returns: the engine's summary plus the file's format and sizes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info<'a> {
    #[serde(flatten)]
    engine: edgerec_core::engine::EngineInfo,
    format_version: String,
    file_bytes: u64,
    sections: Vec<Section<'a>>,
    outbox_pending: usize,
    outbox_dropped: u64,
    memory_bytes: u64,
}

#[derive(Serialize)]
struct Section<'a> {
    name: &'a str,
    bytes: u64,
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
        convert::to_js(&resp)
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
        convert::to_js(&resp)
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
        convert::to_js(&self.engine.take_outbox(max_events as usize))
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

    /// The model and engine summary: recommenders, item and user counts, format version,
    /// sizes, sessions and outbox.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        let info = Info {
            engine: self.engine.info(),
            format_version: format!("{}.{}", self.file.version.0, self.file.version.1),
            file_bytes: self.file.file_length,
            sections: self
                .file
                .sections
                .iter()
                .map(|s| Section {
                    name: &s.name,
                    bytes: s.length,
                })
                .collect(),
            outbox_pending: self.engine.outbox_len(),
            outbox_dropped: self.engine.outbox_dropped(),
            memory_bytes: memory_bytes(),
        };
        convert::to_js(&info)
    }

    /// Traps on purpose; only the JS wrapper's recovery test calls it.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __trapForTesting)]
    pub fn trap_for_testing(&self) {
        #[cfg(target_arch = "wasm32")]
        core::arch::wasm32::unreachable();
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
