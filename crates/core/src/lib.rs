//! edgerec-core: the recommendation engine that runs at the edge.
//!
//! Pure Rust: no I/O, no randomness, no wasm dependencies. The trainer builds a [`Model`],
//! [`format`] turns it into `.erm` bytes and back, and [`Engine`] answers requests from it.
//!
//! ```text
//! bytes ──format::decode──► Model ──Engine::new──► Engine
//!                                                   ├─ get_recommendations / get_personalized_ranking
//!                                                   └─ put_events / put_items / put_users  (sessions)
//! ```

// Lossy integer casts are refused in the library: it decodes untrusted bytes, and on wasm32
// `usize` is 32 bits wide (a cast that is exact on the trainer's machine can wrap in a browser).
// Conversions go through `try_from`; the few proven-safe casts say why where they stand.
#![cfg_attr(
    not(test),
    warn(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_possible_wrap
    )
)]

pub mod bitset;
pub mod calendar;
pub mod catalog;
pub mod content;
pub mod contract;
mod crc32;
mod decimal;
pub mod dot;
pub mod embedding;
pub mod engine;
pub mod error;
pub mod event_id;
pub mod experiment;
pub mod filter;
pub mod format;
pub mod histories;
pub mod id_order;
pub mod idindex;
pub mod idlist;
mod json;
pub mod linalg;
pub mod model;
pub mod outbox;
pub mod records;
pub mod request;
#[cfg(feature = "segment")]
pub mod segment;
pub mod session;
mod sort;
pub mod timeline;
pub mod timestamps;
pub mod topk;
pub mod user_slice;
#[cfg(feature = "user-token")]
pub mod user_token;

pub use catalog::{Catalog, Column, ColumnKind, ColumnValues, UserTable};
pub use embedding::Embedding;
pub use engine::{Engine, SegmentUser};
pub use error::{ErrorCode, FilterError, FormatError, RequestError, SliceError};
pub use idlist::IdList;
pub use model::{
    ContextModel, Exploration, FactorModel, Histories, LEGACY_HISTORY_DECAY, Model, ModelMeta,
    NamedFilter, NeighborModel, PopularityModel, PopularityTimeline, Profile, Recipe, Recommender,
    RecommenderModel, TransitionLists,
};
pub use request::{
    Event, GetPersonalizedRankingRequest, GetPersonalizedRankingResponse,
    GetRecommendationsRequest, GetRecommendationsResponse, Item, MetricAttribution, PredictedItem,
    PutEventsRequest, PutItemsRequest, PutUsersRequest, User,
};
pub use session::pairs::SessionPairs;
pub use timestamps::Timestamps;
pub use user_slice::UserSlice;
