//! Synthetic storefront data over the retail catalogue (`data/retail`).
//!
//! [`generate`] simulates shoppers browsing the web store in sessions and writes what a storefront
//! would log, in Amazon Personalize's ECOMMERCE shape: `items.csv`, `users.csv`, `interactions.csv`
//! and one Avro schema JSON file per dataset (see [`write_dir`]). The output is a pure function of
//! the catalogue and the [`SynthConfig`]: the same seed gives byte-identical files on every platform
//! (the generator has its own integer-based random number code and uses no transcendental float
//! functions). The default run is shipped as `data/demo/`, and a test keeps the two in sync.
//!
//! # Behaviour the recommenders can learn from
//! - **Personas.** Each user profile names three preferred categories (`apparel_footwear_accessories`);
//!   sessions pick their categories from those (weights about 0.5 / 0.3 / 0.2, jittered per user), with
//!   12% of the picks spread over the whole store.
//! - **Sessions.** A user has 2–27 sessions (8 on average, skewed: a few heavy shoppers) spread over the period with a daily rhythm
//!   (evening peak); a session holds 1–14 product views, mostly in one category and often within one
//!   style, a few seconds to a minute and a half apart.
//! - **Popularity.** Within a category, items follow a Zipf law (weight `1/rank`) over a random ranking;
//!   promoted items get a boost, strongly so for `all_discounts` shoppers; `lower_priced_products` shoppers
//!   favour cheap items; items with the other gender affinity are rarely viewed.
//! - **Funnel.** View → AddToCart about 12% of views; a session with a cart checks out about half of the
//!   time, buying most of the cart, so Purchase is 40–45% of AddToCart. `EVENT_VALUE` is the price
//!   on purchases.
//! - **Bought together.** Every item has up to three fixed partner items from complementary styles
//!   (camera → cable, sneakers → socks, table → chairs, …); after an add-to-cart, shoppers often view
//!   and add one of its partners, so partner pairs dominate co-purchases.
//! - **Trending.** About 2% of items gain popularity over the last `trend_days`: their weight grows to
//!   13× by the end, and a growing share of sessions (up to 30%) opens on one of them ("trending now").
//! - **Device context.** Sessions are on `mobile`, `desktop` or `tablet` (younger users are more mobile);
//!   mobile sessions favour fashion, beauty and cheap items, desktop sessions furniture, electronics,
//!   instruments and expensive items, tablet sessions books and home.
//! - **Cold items.** About 3% of items are new: `CREATION_TIMESTAMP` in the last week, no interactions
//!   before it, and little exposure after it.
//!
//! # Files
//! - `items.csv`: `ITEM_ID, PRICE, CATEGORY_L1, CATEGORY_L2` (the catalogue's style), `GENDER_AFFINITY`
//!   (`M`/`F`/empty), `PROMOTED` (`true`/`false`, categorical so filters can use it), `CURRENT_STOCK`,
//!   `CREATION_TIMESTAMP`, `PRODUCT_NAME` (declared `itemName`; not a training feature, but the title
//!   that Semantic-Similarity needs and the storefront shows) and `PRODUCT_DESCRIPTION` (textual). Only
//!   products shown in the web store are written (the voice-only convenience-store items are left out).
//!   Text fields are always double-quoted, and their `"` are written as `'` so that both RFC 4180
//!   parsers and Personalize's backslash-escaping parser read them the same way.
//! - `users.csv`: `USER_ID, AGE, GENDER, PERSONA, DISCOUNT_PERSONA` (profiles `1..=N` of `users.json.gz`;
//!   when more users are asked for than the file holds, the extra ones copy random profiles).
//! - `interactions.csv`: `USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, EVENT_VALUE, DEVICE`, sorted by time.

pub mod bulk;
mod catalog;
pub(crate) mod rng;
mod sim;
mod store;
mod write;

use std::path::PathBuf;

pub use bulk::{BulkConfig, BulkSummary, write_bulk};
pub use catalog::{
    CATEGORIES_FILE, CatalogUser, Category, PRODUCTS_FILE, Product, RetailCatalog, USERS_FILE,
    load_categories, load_products, load_users,
};
pub use sim::{generate, generate_with};
pub use write::{
    INTERACTIONS_CSV, INTERACTIONS_SCHEMA, ITEMS_CSV, ITEMS_SCHEMA, USERS_CSV, USERS_SCHEMA,
    interactions_schema, items_schema, render_files, users_schema, write_dir,
    write_interactions_csv, write_items_csv, write_users_csv,
};

/// Why loading the catalogue or writing the output failed. The I/O and parse variants name the file;
/// the underlying error is their [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}")]
    Yaml {
        path: PathBuf,
        source: serde_norway::Error,
    },
    #[error("{path}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("invalid generator settings: {0}")]
    Config(String),
}

/// Default first timestamp: 2025-06-01T00:00:00Z.
pub const DEFAULT_START: i64 = 1_748_736_000;
/// Latest accepted first timestamp: 3000-01-01T00:00:00Z.
pub const MAX_START: i64 = 32_503_680_000;

/// Generator settings. `Default` is the configuration of the shipped `data/demo/` dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Number of users (profiles taken in file order from the catalogue's user pool).
    pub users: usize,
    /// Length of the simulated period in days.
    pub days: u32,
    /// Seed of every random choice.
    pub seed: u64,
    /// First second of the period (epoch seconds, UTC).
    pub start: i64,
    /// Mean number of sessions per user over the period (at least 2).
    pub sessions_per_user: f64,
    /// Fraction of the web-store items that are new (created during the last `new_item_days`).
    pub new_item_fraction: f64,
    /// Days before the end of the period in which new items appear.
    pub new_item_days: u32,
    /// Fraction of the established items whose popularity rises over the last `trend_days`.
    pub trending_fraction: f64,
    /// Length of the trend window at the end of the period.
    pub trend_days: u32,
    /// Strength of the device-dependent preferences: each device's category and price
    /// multipliers are raised to this power (1 = the shipped data, 0 = devices do not matter).
    pub device_effect: u32,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            users: 500,
            days: 30,
            seed: 42,
            start: DEFAULT_START,
            sessions_per_user: 8.0,
            new_item_fraction: 0.03,
            new_item_days: 7,
            trending_fraction: 0.02,
            trend_days: 7,
            device_effect: 1,
        }
    }
}

impl SynthConfig {
    /// Check the settings.
    ///
    /// # Errors
    /// [`SynthError::Config`] when a count or fraction is out of range.
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |m: &str| Err(SynthError::Config(m.to_string()));
        if self.users == 0 || self.users > 10_000_000 {
            return bad("users must be in 1..=10000000");
        }
        if self.days == 0 || self.days > 3650 {
            return bad("days must be in 1..=3650");
        }
        if !(2.0..=1000.0).contains(&self.sessions_per_user) {
            return bad("sessions per user must be in 2..=1000");
        }
        if !(0.0..=0.5).contains(&self.new_item_fraction)
            || !(0.0..=0.5).contains(&self.trending_fraction)
        {
            return bad("new-item and trending fractions must be in 0..=0.5");
        }
        if self.device_effect > 8 {
            return bad("device effect must be in 0..=8");
        }
        if !(0..=MAX_START).contains(&self.start) {
            return bad("start must be an epoch second between 1970 and 3000");
        }
        Ok(())
    }
}

/// Interaction event types, in funnel order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    View,
    AddToCart,
    Purchase,
}

impl EventType {
    pub const ALL: [EventType; 3] = [EventType::View, EventType::AddToCart, EventType::Purchase];

    /// The `EVENT_TYPE` value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::View => "View",
            EventType::AddToCart => "AddToCart",
            EventType::Purchase => "Purchase",
        }
    }
}

/// The `DEVICE` context of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Device {
    Mobile,
    Desktop,
    Tablet,
}

impl Device {
    pub const ALL: [Device; 3] = [Device::Mobile, Device::Desktop, Device::Tablet];

    /// The `DEVICE` value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Mobile => "mobile",
            Device::Desktop => "desktop",
            Device::Tablet => "tablet",
        }
    }
}

/// One row of `items.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub id: String,
    pub price: f64,
    /// Category name.
    pub category_l1: String,
    /// Style within the category.
    pub category_l2: String,
    pub gender_affinity: Option<String>,
    pub promoted: bool,
    pub current_stock: i64,
    pub creation_timestamp: i64,
    pub name: String,
    pub description: String,
}

/// One row of `users.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub age: u32,
    pub gender: String,
    pub persona: String,
    pub discount_persona: String,
}

/// One row of `interactions.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    /// Index into [`SynthOutput::users`].
    pub user: u32,
    /// Index into [`SynthOutput::items`].
    pub item: u32,
    /// Epoch seconds.
    pub timestamp: i64,
    pub event_type: EventType,
    /// The price, on purchases.
    pub event_value: Option<f64>,
    pub device: Device,
    /// Session number (not written; for analysis and tests).
    pub session: u32,
}

/// What the generator planted, for tests and evaluation (not written to the CSVs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroundTruth {
    /// Items whose popularity rises over the trend window (indices into `items`).
    pub trending: Vec<u32>,
    /// Items created during the last `new_item_days` (indices into `items`).
    pub new_items: Vec<u32>,
    /// First second of the trend window.
    pub trend_start: i64,
    /// Per item, its bought-together partners (indices into `items`).
    pub partners: Vec<Vec<u32>>,
    /// Per user, the indices into [`SynthOutput::categories`] of the persona's categories.
    pub persona_categories: Vec<Vec<u32>>,
}

/// Everything [`generate`] produces.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOutput {
    /// First second of the period.
    pub start: i64,
    /// One past the last second of the period.
    pub end: i64,
    /// Category names (the order of `categories.yaml`, then any others in product order).
    pub categories: Vec<String>,
    pub items: Vec<ItemRow>,
    /// Per item, the index of its `category_l1` in `categories`.
    pub item_category: Vec<u32>,
    pub users: Vec<UserRow>,
    /// Sorted by timestamp, then user.
    pub interactions: Vec<Interaction>,
    pub truth: GroundTruth,
}

/// Counts for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSummary {
    pub users: usize,
    pub active_users: usize,
    pub items: usize,
    pub items_with_interactions: usize,
    pub new_items: usize,
    pub trending_items: usize,
    pub interactions: usize,
    /// Per [`EventType::ALL`].
    pub per_event_type: [usize; 3],
    /// Per [`Device::ALL`].
    pub per_device: [usize; 3],
    pub sessions: usize,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
}

impl SynthOutput {
    /// Counts per event type and device, active users and items, time span.
    #[must_use]
    pub fn summary(&self) -> SynthSummary {
        let mut users = vec![false; self.users.len()];
        let mut items = vec![false; self.items.len()];
        let mut per_event_type = [0; 3];
        let mut per_device = [0; 3];
        let mut sessions = std::collections::HashSet::new();
        for e in &self.interactions {
            users[e.user as usize] = true;
            items[e.item as usize] = true;
            per_event_type[e.event_type as usize] += 1;
            per_device[e.device as usize] += 1;
            sessions.insert(e.session);
        }
        SynthSummary {
            users: self.users.len(),
            active_users: users.iter().filter(|&&b| b).count(),
            items: self.items.len(),
            items_with_interactions: items.iter().filter(|&&b| b).count(),
            new_items: self.truth.new_items.len(),
            trending_items: self.truth.trending.len(),
            interactions: self.interactions.len(),
            per_event_type,
            per_device,
            sessions: sessions.len(),
            first_timestamp: self.interactions.first().map(|e| e.timestamp),
            last_timestamp: self.interactions.last().map(|e| e.timestamp),
        }
    }
}
