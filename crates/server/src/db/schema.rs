//! The tables. Created when missing at every start; a table is never altered.

use rusqlite::Connection;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    user_id TEXT,
    event_type TEXT NOT NULL,
    item_id TEXT,
    sent_at REAL NOT NULL,
    event_value REAL,
    properties TEXT,
    impression TEXT,
    recommendation_id TEXT,
    recommender TEXT,
    received_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_attributed ON events(recommendation_id)
    WHERE recommendation_id IS NOT NULL OR recommender IS NOT NULL;
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    properties TEXT,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    properties TEXT,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS recommendations (
    recommendation_id TEXT PRIMARY KEY,
    recommender TEXT NOT NULL,
    variant TEXT,
    experiment TEXT,
    user_id TEXT,
    session_id TEXT,
    items TEXT NOT NULL,
    n_items INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS retrains (
    id INTEGER PRIMARY KEY,
    mode TEXT NOT NULL,
    trigger TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    status TEXT NOT NULL,
    version INTEGER UNIQUE,
    events_upto INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT,
    bytes INTEGER,
    scores TEXT,
    message TEXT,
    event_to_model_ms INTEGER
);
CREATE TABLE IF NOT EXISTS lake_exports (
    first_seq INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    done_ms INTEGER,
    files INTEGER,
    rows INTEGER
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Creates the tables and indexes that do not exist yet.
pub fn create(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(SCHEMA)
}
