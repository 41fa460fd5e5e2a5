//! The `items` and `users` tables: PutItems / PutUsers records, last write wins.

use rusqlite::{Connection, OptionalExtension, params};

/// The tables of PutItems / PutUsers records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Items,
    Users,
}

impl Table {
    /// The table and its key column.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Table::Items => ("items", "item_id"),
            Table::Users => ("users", "user_id"),
        }
    }
}

/// Whether a record with this id is stored.
pub fn exists(c: &Connection, table: Table, id: &str) -> rusqlite::Result<bool> {
    let (name, key) = table.names();
    let mut st = c.prepare_cached(&format!(
        "SELECT EXISTS(SELECT 1 FROM {name} WHERE {key} = ?1)"
    ))?;
    st.query_row([id], |row| row.get(0))
}

/// Inserts a record or replaces its properties.
pub fn upsert(
    c: &Connection,
    table: Table,
    id: &str,
    properties: Option<&str>,
    updated_ms: i64,
) -> rusqlite::Result<()> {
    let (name, key) = table.names();
    let mut st = c.prepare_cached(&format!(
        "INSERT INTO {name} ({key}, properties, updated_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT({key}) DO UPDATE SET properties = excluded.properties, updated_ms = excluded.updated_ms"
    ))?;
    st.execute(params![id, properties, updated_ms])?;
    Ok(())
}

/// The number of records.
pub fn count(c: &Connection, table: Table) -> rusqlite::Result<i64> {
    let (name, _) = table.names();
    c.query_row(&format!("SELECT count(*) FROM {name}"), [], |r| r.get(0))
}

/// Every record's `(id, properties)`, by id.
pub fn all(c: &Connection, table: Table) -> rusqlite::Result<Vec<(String, Option<String>)>> {
    let (name, key) = table.names();
    let mut st = c.prepare(&format!(
        "SELECT {key}, properties FROM {name} ORDER BY {key}"
    ))?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// One record's properties: `None` when no record has this id.
pub fn properties(
    c: &Connection,
    table: Table,
    id: &str,
) -> rusqlite::Result<Option<Option<String>>> {
    let (name, key) = table.names();
    c.query_row(
        &format!("SELECT properties FROM {name} WHERE {key} = ?1"),
        [id],
        |r| r.get(0),
    )
    .optional()
}
