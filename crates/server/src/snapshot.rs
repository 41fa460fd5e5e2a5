//! Builds the training `Dataset` from the store: the seed dataset (the same CSV import as
//! `edgerec train`, re-read at each retrain) plus every stored event with an `itemId`, plus the
//! items and users posted through PutItems / PutUsers.
//!
//! Anonymous to known: an event that carried only a `sessionId` is attributed to the first
//! `userId` that appears (in any event) with the same `sessionId`; a session that never shows a
//! user stays its own user, keyed by the `sessionId` (Personalize's convention).

use std::collections::HashMap;

use edgerec_core::{Column, ColumnKind, ColumnValues};
use rusqlite::Connection;
use serde_json::Value;

use edgerec_trainer::dataset::{ContextColumn, Dataset};
use edgerec_trainer::import::upper_snake;

use crate::db::{self, records::Table};

/// What a snapshot took from the store.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// Highest event sequence number included.
    pub events_upto: i64,
    /// Stored events newer than the previous published model's snapshot.
    pub new_events: usize,
    /// Stored events appended as interactions (events with an `itemId`).
    pub events_used: usize,
    /// Stored events without an `itemId` (not interactions; kept for attribution).
    pub events_without_item: usize,
    /// Interactions whose user came from a later `userId` of the same session.
    pub anonymous_attributed: usize,
    /// Interactions of sessions that never showed a `userId` (keyed by session).
    pub anonymous_sessions: usize,
    /// Earliest arrival time (ms) of an event newer than `since_seq`, if any.
    pub oldest_new_received_ms: Option<i64>,
    pub items_posted: usize,
    pub users_posted: usize,
}

/// Upper-snake schema name (`NUMBER_OF_RATINGS`) → camelCase property key (`numberOfRatings`).
#[must_use]
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut up = false;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Reads the store into `base` (consumed). `since_seq`: events above it are "new" (for the
/// arrival-to-model latency).
pub fn build(
    conn: &mut Connection,
    base: Option<Dataset>,
    since_seq: i64,
) -> rusqlite::Result<(Dataset, SnapshotInfo)> {
    let tx = conn.transaction()?;
    let mut info = event_counts(&tx, since_seq)?;
    let upto = info.events_upto;
    let mut session_user: HashMap<String, String> = HashMap::new();
    db::events::session_users(&tx, upto, |s, u| {
        session_user.entry(s).or_insert(u);
    })?;
    let mut snap = Builder::new(base.unwrap_or_else(|| Dataset {
        name: "edgerec-serve".into(),
        ..Dataset::default()
    }));
    db::events::interactions(&tx, upto, |mut row| {
        // The query keeps only events with an item.
        let Some(item) = row.item_id.take() else {
            return;
        };
        let user = attribute(
            row.user_id.take(),
            &row.session_id,
            &session_user,
            &mut info,
        );
        snap.push_event(row, item, user);
        info.events_used += 1;
    })?;
    if snap.ds.event_types.is_empty() {
        snap.ds.event_types.push("click".into());
    }
    let item_records = db::records::all(&tx, Table::Items)?;
    let user_records = db::records::all(&tx, Table::Users)?;
    tx.commit()?;
    info.items_posted = item_records.len();
    info.users_posted = user_records.len();
    snap.add_records(item_records, user_records);
    Ok((snap.ds, info))
}

/// The snapshot's event sequence range and counts, before any interaction is read.
fn event_counts(tx: &Connection, since_seq: i64) -> rusqlite::Result<SnapshotInfo> {
    let upto = db::events::max_seq(tx)?;
    let arrivals = db::events::arrivals(tx, since_seq, upto)?;
    Ok(SnapshotInfo {
        events_upto: upto,
        oldest_new_received_ms: arrivals.oldest_received_ms,
        new_events: usize::try_from(arrivals.count).unwrap_or(0),
        events_without_item: usize::try_from(db::events::count_without_item(tx, upto)?)
            .unwrap_or(0),
        ..SnapshotInfo::default()
    })
}

/// The user an event counts for: its own `userId`, else the first `userId` of its session,
/// else the session itself (counted in `info`).
fn attribute(
    user: Option<String>,
    session: &str,
    session_user: &HashMap<String, String>,
    info: &mut SnapshotInfo,
) -> String {
    match user {
        Some(u) => u,
        None => match session_user.get(session) {
            Some(u) => {
                info.anonymous_attributed += 1;
                u.clone()
            }
            None => {
                info.anonymous_sessions += 1;
                session.to_owned()
            }
        },
    }
}

/// The dataset being built, with its raw id → index lookups.
struct Builder {
    ds: Dataset,
    users: HashMap<String, u32>,
    items: HashMap<String, u32>,
    /// Lowercased event type → code.
    types: HashMap<String, u16>,
    /// The property key of each context column.
    context_keys: Vec<String>,
}

impl Builder {
    fn new(ds: Dataset) -> Builder {
        Builder {
            users: index(&ds.user_ids),
            items: index(&ds.item_ids),
            types: ds
                .event_types
                .iter()
                .enumerate()
                .map(|(i, t)| (t.to_ascii_lowercase(), u16::try_from(i).unwrap_or(u16::MAX)))
                .collect(),
            context_keys: ds
                .interactions
                .context
                .iter()
                .map(|c| camel(&c.name))
                .collect(),
            ds,
        }
    }

    /// Appends a stored event as an interaction of `user` with `item`.
    fn push_event(&mut self, row: db::events::Received, item: String, user: String) {
        let db::events::Received {
            event_type,
            sent_at,
            event_value: value,
            properties: props,
            impression,
            recommendation_id: rec_id,
            ..
        } = row;
        let ds = &mut self.ds;
        let u = intern(&mut self.users, &mut ds.user_ids, user);
        let i = intern(&mut self.items, &mut ds.item_ids, item);
        let t = type_code(&mut self.types, &mut ds.event_types, &event_type);
        let it = &mut ds.interactions;
        it.user.push(u);
        it.item.push(i);
        // Like the importer: values ≥ 1e11 are milliseconds.
        let secs = if sent_at >= 1e11 {
            sent_at / 1000.0
        } else {
            sent_at
        };
        #[allow(clippy::cast_possible_truncation)]
        it.timestamp.push(secs.floor() as i64);
        it.event_type.push(t);
        #[allow(clippy::cast_possible_truncation)]
        it.event_value.push(value.map_or(f32::NAN, |v| v as f32));
        if let Some(imp) = &mut it.impression {
            let ids: Vec<String> = impression
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            imp.push(
                ids.iter()
                    .filter_map(|id| self.items.get(id).copied())
                    .collect(),
            );
        }
        if let Some(rids) = &mut it.recommendation_id {
            rids.push(rec_id);
        }
        if !self.context_keys.is_empty() {
            push_context(&mut it.context, &self.context_keys, props.as_deref());
        }
    }

    /// Items and users posted through the API: adds the item ids, sets their creation times and
    /// both metadata columns.
    fn add_records(
        &mut self,
        item_records: Vec<(String, Option<String>)>,
        user_records: Vec<(String, Option<String>)>,
    ) {
        let ds = &mut self.ds;
        let mut item_rows: Vec<(u32, Option<String>)> = Vec::with_capacity(item_records.len());
        for (id, p) in item_records {
            item_rows.push((intern(&mut self.items, &mut ds.item_ids, id), p));
        }
        let mut user_rows: Vec<(u32, Option<String>)> = Vec::new();
        for (id, p) in user_records {
            // A user known only from PutUsers has no interactions; the trainer leaves them out.
            if let Some(&u) = self.users.get(&id) {
                user_rows.push((u, p));
            }
        }
        ds.item_creation.resize(ds.item_ids.len(), None);
        for (row, p) in &item_rows {
            if let Some(t) = p
                .as_deref()
                .and_then(|p| serde_json::from_str::<serde_json::Map<String, Value>>(p).ok())
                .and_then(|m| m.get("creationTimestamp").and_then(Value::as_f64))
            {
                #[allow(clippy::cast_possible_truncation)]
                if let Some(slot) = ds.item_creation.get_mut(*row as usize) {
                    *slot = Some(t as i64);
                }
            }
        }
        ds.item_columns = apply_records(
            std::mem::take(&mut ds.item_columns),
            ds.item_ids.len(),
            &item_rows,
            &["creationTimestamp"],
        );
        ds.user_columns = apply_records(
            std::mem::take(&mut ds.user_columns),
            ds.user_ids.len(),
            &user_rows,
            &[],
        );
    }
}

/// Appends one event's context codes: each column's value from the event's properties (under
/// the column's property key), added to its dictionary when new; `u32::MAX` when absent.
fn push_context(columns: &mut [ContextColumn], keys: &[String], props: Option<&str>) {
    let parsed: Option<serde_json::Map<String, Value>> =
        props.and_then(|p| serde_json::from_str(p).ok());
    for (col, key) in columns.iter_mut().zip(keys) {
        let code = match parsed.as_ref().and_then(|m| m.get(key)) {
            Some(v) => {
                let s = scalar(v);
                let pos = col.dictionary.iter().position(|d| *d == s);
                let code = pos.unwrap_or_else(|| {
                    col.dictionary.push(s);
                    col.dictionary.len() - 1
                });
                u32::try_from(code).unwrap_or(u32::MAX)
            }
            None => u32::MAX,
        };
        col.codes.push(code);
    }
}

fn index(ids: &[String]) -> HashMap<String, u32> {
    ids.iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect()
}

fn intern(map: &mut HashMap<String, u32>, ids: &mut Vec<String>, id: String) -> u32 {
    if let Some(&i) = map.get(&id) {
        return i;
    }
    let i = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    ids.push(id.clone());
    map.insert(id, i);
    i
}

fn type_code(map: &mut HashMap<String, u16>, types: &mut Vec<String>, t: &str) -> u16 {
    let key = t.to_ascii_lowercase();
    if let Some(&c) = map.get(&key) {
        return c;
    }
    let c = u16::try_from(types.len()).unwrap_or(u16::MAX);
    types.push(key.clone());
    map.insert(key, c);
    c
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A column in editable form.
enum Cells {
    Cat(Vec<Vec<String>>),
    Num(Vec<f64>),
    Text(Vec<String>),
}

fn to_cells(c: &Column) -> Cells {
    match &c.values {
        ColumnValues::Categorical { .. } => Cells::Cat(
            (0..c.len())
                .map(|r| c.categorical_values(r).map(str::to_owned).collect())
                .collect(),
        ),
        ColumnValues::Numeric(v) => Cells::Num(v.clone()),
        ColumnValues::Textual(v) => Cells::Text(v.clone()),
    }
}

fn from_cells(name: String, kind: ColumnKind, cells: Cells, original: Option<&Column>) -> Column {
    let values = match cells {
        Cells::Num(v) => ColumnValues::Numeric(v),
        Cells::Text(v) => ColumnValues::Textual(v),
        Cells::Cat(rows) => {
            let mut dictionary: Vec<String> = match original.map(|c| &c.values) {
                Some(ColumnValues::Categorical { dictionary, .. }) => dictionary.clone(),
                _ => Vec::new(),
            };
            let mut lookup: HashMap<String, u32> = index(&dictionary);
            let mut offsets = Vec::with_capacity(rows.len() + 1);
            let mut codes = Vec::new();
            offsets.push(0u32);
            for row in rows {
                for v in row {
                    codes.push(intern(&mut lookup, &mut dictionary, v));
                }
                offsets.push(u32::try_from(codes.len()).unwrap_or(u32::MAX));
            }
            ColumnValues::Categorical {
                dictionary,
                offsets,
                codes,
            }
        }
    };
    Column { name, kind, values }
}

fn resize(cells: &mut Cells, n: usize) {
    match cells {
        Cells::Cat(v) => v.resize(n, Vec::new()),
        Cells::Num(v) => v.resize(n, f64::NAN),
        Cells::Text(v) => v.resize(n, String::new()),
    }
}

fn set(cells: &mut Cells, row: usize, v: &Value) {
    match cells {
        Cells::Cat(rows) => {
            if let Some(slot) = rows.get_mut(row) {
                *slot = scalar(v)
                    .split('|')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
        }
        Cells::Num(rows) => {
            let x = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            if let Some(slot) = rows.get_mut(row) {
                *slot = x.unwrap_or(f64::NAN);
            }
        }
        Cells::Text(rows) => {
            if let Some(slot) = rows.get_mut(row) {
                *slot = scalar(v);
            }
        }
    }
}

/// Extends every column to `n` rows and writes the posted properties into them; properties
/// naming no existing column create one (number → numeric, boolean → boolean, else categorical).
fn apply_records(
    columns: Vec<Column>,
    n: usize,
    rows: &[(u32, Option<String>)],
    skip: &[&str],
) -> Vec<Column> {
    let parsed: Vec<(usize, serde_json::Map<String, Value>)> = rows
        .iter()
        .filter_map(|(r, p)| {
            p.as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .map(|m| (*r as usize, m))
        })
        .collect();
    if parsed.is_empty() && columns.iter().all(|c| c.len() == n) {
        return columns;
    }
    let mut out: Vec<(String, ColumnKind, Cells, Option<Column>)> = columns
        .into_iter()
        .map(|c| {
            let mut cells = to_cells(&c);
            resize(&mut cells, n);
            (c.name.clone(), c.kind, cells, Some(c))
        })
        .collect();
    for (row, m) in &parsed {
        for (key, v) in m {
            if skip.contains(&key.as_str()) || v.is_null() {
                continue;
            }
            let name = upper_snake(key);
            let pos = out.iter().position(|(n, ..)| *n == name);
            let pos = pos.unwrap_or_else(|| {
                let (kind, mut cells) = match v {
                    Value::Number(_) => (ColumnKind::Numeric, Cells::Num(Vec::new())),
                    Value::Bool(_) => (ColumnKind::Boolean, Cells::Cat(Vec::new())),
                    _ => (ColumnKind::Categorical, Cells::Cat(Vec::new())),
                };
                resize(&mut cells, n);
                out.push((name, kind, cells, None));
                out.len() - 1
            });
            if let Some((_, _, cells, _)) = out.get_mut(pos) {
                set(cells, *row, v);
            }
        }
    }
    out.into_iter()
        .map(|(name, kind, cells, original)| from_cells(name, kind, cells, original.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel("NUMBER_OF_RATINGS"), "numberOfRatings");
        assert_eq!(upper_snake("numberOfRatings"), "NUMBER_OF_RATINGS");
        assert_eq!(upper_snake("price"), "PRICE");
    }

    #[test]
    fn records_become_columns() {
        let rows = vec![(
            1u32,
            Some(r#"{"price": 3.5, "genres": "a|b", "creationTimestamp": 5}"#.to_owned()),
        )];
        let cols = apply_records(Vec::new(), 3, &rows, &["creationTimestamp"]);
        assert_eq!(cols.len(), 2);
        for c in &cols {
            assert_eq!(c.len(), 3);
        }
        let g = cols.iter().find(|c| c.name == "GENRES").unwrap();
        assert_eq!(g.categorical_values(1).collect::<Vec<_>>(), ["a", "b"]);
        let p = cols.iter().find(|c| c.name == "PRICE").unwrap();
        assert_eq!(p.numeric_value(1), Some(3.5));
    }
}
