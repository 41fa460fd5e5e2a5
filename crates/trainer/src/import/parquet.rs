//! Parquet interactions: one file, or a folder of them (an event lake partitioned by day,
//! `dt=YYYY-MM-DD/`), read row group by row group into the same builder the CSV importers feed.
//!
//! Columns are matched by case-insensitive name: the Personalize fields (`USER_ID`, `ITEM_ID`,
//! `TIMESTAMP`, `EVENT_TYPE`, `EVENT_VALUE`, `IMPRESSION`, `RECOMMENDATION_ID`), plus the lake's
//! `EVENT_ID` (rows repeating an id already read are dropped: a batch written twice counts once),
//! `SESSION_ID` (an event without a user counts for the first user its session showed, else for
//! the session itself, as Personalize does) and `PROPERTIES` (a JSON object whose top-level
//! values are contextual fields, the camelCase keys as UPPER_SNAKE names). Any other plain
//! column is a contextual field, as an extra CSV column is. Ids may be integer columns (read as
//! decimal text); timestamps are epoch seconds (integers or doubles, milliseconds detected as in
//! CSV) or Parquet TIMESTAMP / DATE / INT96 values. Rows of a file are numbered from 1 across
//! its row groups in error locations (`file:row:column (FIELD)`).

mod batch;
mod columns;
mod files;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use ::parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value as Json;

use super::builder::{Builder, Event};
use super::error::{DropReason, ImportError, Location, RowError};
use super::personalize::{Conversions, DEFAULT_EVENT_TYPE, MAX_CONTEXT_COLUMNS};
use super::report::{FileReport, FileRole, ParquetReport};
use super::rows::Skip;
use super::schema::{AvroType, FieldRole};
use super::text::{MAX_CATEGORICAL_CHARS, check_categorical, check_id, split_categorical};
use super::time::{MILLIS_THRESHOLD, epoch_from_float, epoch_from_int};
use crate::progress::Unit;
use batch::{Cursor, Value};
use columns::{Col, FileColumns, Kind, declare};
pub(crate) use files::holds_parquet;
pub use files::{PartitionDate, hidden, keeps, partition_of};

/// Rows decoded at a time per column.
const BATCH: usize = 4096;

fn open(path: &Path) -> Result<SerializedFileReader<File>, ImportError> {
    let file = File::open(path).map_err(|e| ImportError::io(path, e))?;
    SerializedFileReader::new(file).map_err(|e| ImportError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Reads the interactions of `root` (a `.parquet` file or a folder of them) into `b`; with
/// `since`, files in `dt=` partitions before that day are not read.
///
/// # Errors
/// No Parquet file, an unreadable file, a schema without the required columns or with a
/// column of the wrong type, too many contextual fields, too many ids. Malformed rows are
/// collected in `b`.
pub(crate) fn read_interactions(
    root: &Path,
    since: Option<PartitionDate>,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let listing = files::list(root, since)?;
    if listing.files.is_empty() {
        let after = since.map_or_else(String::new, |d| {
            format!(
                " in partitions from dt={d} on ({} older file(s) left out)",
                listing.skipped
            )
        });
        return Err(ImportError::Spec(format!(
            "{}: no .parquet files{after}",
            root.display()
        )));
    }
    let mut report = FileReport::new(root, FileRole::Interactions);
    let mut schemas = Vec::with_capacity(listing.files.len());
    let mut rows = 0u64;
    let mut first_rows = Vec::with_capacity(listing.files.len());
    for path in &listing.files {
        let reader = open(path)?;
        let meta = reader.metadata();
        first_rows.push(rows);
        rows += meta
            .row_groups()
            .iter()
            .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
            .sum::<u64>();
        schemas.push(FileColumns::of(
            path,
            meta.file_metadata().schema_descr(),
            &mut report,
        )?);
    }
    if b.min_event_value.is_some() && schemas.iter().any(|c| c.value.is_none()) {
        return Err(ImportError::Spec(format!(
            "{}: a minimum event value was given but a file has no EVENT_VALUE column",
            root.display()
        )));
    }
    let progress = b.progress();
    let first = first_pass(&listing.files, &schemas, &first_rows, progress)?;
    progress.start(
        "reading Parquet interactions",
        Some(rows),
        Unit::Count("rows"),
    );
    let mut state = State {
        sessions: first.sessions,
        duplicates: first.duplicates,
        context: b
            .context_names()
            .enumerate()
            .map(|(i, n)| (n.to_owned(), i))
            .collect(),
        conv: Conversions::default(),
        parquet: ParquetReport {
            files_read: listing.files.len(),
            files_skipped: listing.skipped,
            since: since.map(|d| d.to_string()),
            ..ParquetReport::default()
        },
        fields: Vec::new(),
        last_properties: None,
    };
    for ((path, cols), &first_row) in listing.files.iter().zip(&schemas).zip(&first_rows) {
        read_file(path, cols, first_row, &mut state, &mut report, b)?;
    }
    state.conv.warn(root, &mut b.warnings);
    for (name, column, kept, note) in &state.fields {
        let role = if *kept {
            FieldRole::Context
        } else {
            FieldRole::Ignored
        };
        declare(
            &mut report,
            name,
            *column,
            AvroType::String,
            role,
            Some(note),
        );
    }
    report.parquet = Some(state.parquet);
    Ok(report)
}

/// What reading the files shares.
struct State {
    /// Session → the first user it showed.
    sessions: HashMap<String, String>,
    /// The rows (numbered from 0 over all the files) repeating an `EVENT_ID` read before.
    duplicates: HashSet<u64>,
    /// Contextual field name → the builder's context column.
    context: HashMap<String, usize>,
    conv: Conversions,
    parquet: ParquetReport,
    /// Fields read from the properties: name, column, whether kept, note.
    fields: Vec<(String, usize, bool, String)>,
    /// The last `PROPERTIES` text parsed, and its values by context column.
    last_properties: Option<(String, Vec<(usize, String)>)>,
}

/// What the first pass over the files finds.
struct FirstPass {
    /// Session → the first user it showed (the first row that has both).
    sessions: HashMap<String, String>,
    /// The rows (numbered from 0 over all the files) repeating an `EVENT_ID` of an earlier row.
    duplicates: HashSet<u64>,
}

/// Reads the `SESSION_ID`, `USER_ID` and `EVENT_ID` columns of every file: the first user of
/// each session, and the rows whose event id an earlier row had. Duplicates are found by
/// sorting one 128-bit key per event (96 bits of the id's hash, then the row), which costs 16
/// bytes per event and no hash table.
fn first_pass(
    files: &[std::path::PathBuf],
    schemas: &[FileColumns],
    first_rows: &[u64],
    progress: &dyn crate::progress::Progress,
) -> Result<FirstPass, ImportError> {
    let mut sessions: HashMap<String, String> = HashMap::new();
    let mut keys: Vec<u128> = Vec::new();
    if schemas
        .iter()
        .all(|c| c.session.is_none() && c.event_id.is_none())
    {
        return Ok(FirstPass {
            sessions,
            duplicates: HashSet::new(),
        });
    }
    progress.start("reading sessions and event ids", None, Unit::Count("rows"));
    let (mut user_buf, mut session_buf, mut id_buf) = (String::new(), String::new(), String::new());
    for ((path, cols), &first_row) in files.iter().zip(schemas).zip(first_rows) {
        let pair = cols.session.as_ref().zip(cols.user.as_ref());
        if pair.is_none() && cols.event_id.is_none() {
            continue;
        }
        let reader = open(path)?;
        let bad = |at: String, e: ::parquet::errors::ParquetError| ImportError::Parquet {
            path: path.clone(),
            message: format!("{at}: {e}"),
        };
        let mut row = first_row;
        for g in 0..reader.num_row_groups() {
            let group = reader
                .get_row_group(g)
                .map_err(|e| bad(format!("row group {g}"), e))?;
            let n = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
            let open_col = |c: &Col| {
                Cursor::open(&*group, c.index)
                    .map_err(|e| bad(format!("row group {g}, column {}", c.name), e))
            };
            let mut pair_cur = match pair {
                Some((s, u)) => Some((open_col(s)?, open_col(u)?)),
                None => None,
            };
            let mut id_cur = cols.event_id.as_ref().map(open_col).transpose()?;
            let mut done = 0;
            while done < n {
                let want = BATCH.min(n - done);
                let fill = |c: &mut Cursor, col: &Col| {
                    c.fill(want)
                        .map_err(|e| bad(format!("row group {g}, column {}", col.name), e))
                };
                if let (Some((sc, uc)), Some((s, u))) = (&mut pair_cur, pair) {
                    fill(sc, s)?;
                    fill(uc, u)?;
                    for r in 0..want {
                        let (Ok(Some(session)), Ok(Some(user))) = (
                            text(sc.get(r), s.kind, &mut session_buf),
                            text(uc.get(r), u.kind, &mut user_buf),
                        ) else {
                            continue;
                        };
                        if !sessions.contains_key(session) {
                            sessions.insert(session.to_owned(), user.to_owned());
                        }
                    }
                }
                if let (Some(ic), Some(c)) = (&mut id_cur, &cols.event_id) {
                    fill(ic, c)?;
                    for r in 0..want {
                        if let Ok(Some(id)) = text(ic.get(r), c.kind, &mut id_buf) {
                            let at = u32::try_from(row + r as u64).map_err(|_| {
                                ImportError::TooMany {
                                    what: "events",
                                    limit: u64::from(u32::MAX),
                                }
                            })?;
                            keys.push((event_id_hash(id) >> 32 << 32) | u128::from(at));
                        }
                    }
                }
                done += want;
                row += want as u64;
                progress.advance(want as u64);
            }
        }
    }
    keys.sort_unstable();
    let mut duplicates = HashSet::new();
    for pair in keys.windows(2) {
        if pair[0] >> 32 == pair[1] >> 32 {
            duplicates.insert(u64::from(pair[1] as u32));
        }
    }
    Ok(FirstPass {
        sessions,
        duplicates,
    })
}

/// The open columns of a row group, by role.
struct Cursors {
    user: Cursor,
    item: Cursor,
    time: Cursor,
    event_type: Option<Cursor>,
    value: Option<Cursor>,
    impression: Option<Cursor>,
    recommendation_id: Option<Cursor>,
    session: Option<Cursor>,
    event_id: Option<Cursor>,
    properties: Option<Cursor>,
    extra: Vec<Cursor>,
}

impl Cursors {
    fn all(&mut self) -> impl Iterator<Item = &mut Cursor> {
        [&mut self.user, &mut self.item, &mut self.time]
            .into_iter()
            .chain(self.event_type.as_mut())
            .chain(self.value.as_mut())
            .chain(self.impression.as_mut())
            .chain(self.recommendation_id.as_mut())
            .chain(self.session.as_mut())
            .chain(self.event_id.as_mut())
            .chain(self.properties.as_mut())
            .chain(self.extra.iter_mut())
    }
}

impl FileColumns {
    /// The names of the columns [`Cursors::all`] gives, in its order.
    fn names(&self) -> impl Iterator<Item = &str> {
        [&self.user, &self.item, &self.time]
            .into_iter()
            .flatten()
            .chain(self.event_type.as_ref())
            .chain(self.value.as_ref())
            .chain(self.impression.as_ref())
            .chain(self.recommendation_id.as_ref())
            .chain(self.session.as_ref())
            .chain(self.event_id.as_ref())
            .chain(self.properties.as_ref())
            .chain(self.extra.iter())
            .map(|c| c.name.as_str())
    }
}

/// Per-row text of the columns that may need converting (integer ids) or copying.
#[derive(Default)]
struct Scratch {
    user: String,
    item: String,
    session: String,
    event_id: String,
    event_type: String,
    recommendation_id: String,
    impression: String,
    /// One per context column.
    context: Vec<String>,
}

fn read_file(
    path: &Path,
    cols: &FileColumns,
    first_row: u64,
    state: &mut State,
    report: &mut FileReport,
    b: &mut Builder,
) -> Result<(), ImportError> {
    let (Some(user), Some(item), Some(time)) = (&cols.user, &cols.item, &cols.time) else {
        return Ok(());
    };
    b.enable_optional(cols.impression.is_some(), cols.recommendation_id.is_some());
    let mut extra_at = Vec::with_capacity(cols.extra.len());
    for c in &cols.extra {
        extra_at.push(context_index(state, b, &c.name, || {
            format!(
                "{}: column {} (column {})",
                path.display(),
                c.name,
                c.index + 1
            )
        })?);
    }
    let reader = open(path)?;
    let bad = |at: String, e: ::parquet::errors::ParquetError| ImportError::Parquet {
        path: path.to_path_buf(),
        message: format!("{at}: {e}"),
    };
    let mut row_no = 0u64;
    let mut s = Scratch::default();
    for g in 0..reader.num_row_groups() {
        let group = reader
            .get_row_group(g)
            .map_err(|e| bad(format!("row group {g}"), e))?;
        let n = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
        let open_col = |c: &Col| {
            Cursor::open(&*group, c.index)
                .map_err(|e| bad(format!("row group {g}, column {}", c.name), e))
        };
        let open_opt = |c: &Option<Col>| c.as_ref().map(open_col).transpose();
        let mut cur = Cursors {
            user: open_col(user)?,
            item: open_col(item)?,
            time: open_col(time)?,
            event_type: open_opt(&cols.event_type)?,
            value: open_opt(&cols.value)?,
            impression: open_opt(&cols.impression)?,
            recommendation_id: open_opt(&cols.recommendation_id)?,
            session: open_opt(&cols.session)?,
            event_id: open_opt(&cols.event_id)?,
            properties: open_opt(&cols.properties)?,
            extra: cols.extra.iter().map(open_col).collect::<Result<_, _>>()?,
        };
        let mut done = 0;
        while done < n {
            let want = BATCH.min(n - done);
            for (c, name) in cur.all().zip(cols.names()) {
                c.fill(want).map_err(|e| {
                    bad(
                        format!(
                            "row group {g}, column {name}, rows {}-{}",
                            row_no + 1,
                            row_no + want as u64
                        ),
                        e,
                    )
                })?;
            }
            for r in 0..want {
                row_no += 1;
                report.rows_read += 1;
                let at = At { path, row: row_no };
                let row = RowCtx {
                    cols,
                    cur: &cur,
                    r,
                    at,
                    extra_at: &extra_at,
                    repeated: state.duplicates.contains(&(first_row + row_no - 1)),
                };
                match row.event(state, b, &mut s) {
                    Ok(()) => report.rows_kept += 1,
                    Err(Skip::Drop(e)) => b.reject(report, e),
                    Err(Skip::Fail(e)) => return Err(e),
                }
            }
            done += want;
            b.progress().advance(want as u64);
        }
    }
    Ok(())
}

/// The builder's context column named `name`, added when new.
fn context_index(
    state: &mut State,
    b: &mut Builder,
    name: &str,
    what: impl FnOnce() -> String,
) -> Result<usize, ImportError> {
    if let Some(&i) = state.context.get(name) {
        return Ok(i);
    }
    if state.context.len() == MAX_CONTEXT_COLUMNS {
        let mut known: Vec<(&String, &usize)> = state.context.iter().collect();
        known.sort_by_key(|(_, i)| **i);
        let known: Vec<&str> = known.into_iter().map(|(n, _)| n.as_str()).collect();
        return Err(ImportError::Spec(format!(
            "{}: too many contextual fields: at most {MAX_CONTEXT_COLUMNS} besides the reserved \
             fields (already {}; {name} would be one more)",
            what(),
            known.join(", ")
        )));
    }
    let i = b.add_context_column(name);
    state.context.insert(name.to_owned(), i);
    Ok(i)
}

#[derive(Clone, Copy)]
struct At<'a> {
    path: &'a Path,
    row: u64,
}

impl At<'_> {
    fn of(&self, c: &Col) -> Location {
        Location::new(self.path, self.row, Some(c.index + 1), Some(&c.name))
    }

    fn error(&self, c: &Col, reason: DropReason, message: String) -> RowError {
        RowError {
            location: self.of(c),
            reason,
            message,
        }
    }
}

/// One row of a batch.
struct RowCtx<'a> {
    cols: &'a FileColumns,
    cur: &'a Cursors,
    r: usize,
    at: At<'a>,
    extra_at: &'a [usize],
    /// The row repeats an `EVENT_ID` of an earlier row.
    repeated: bool,
}

/// `v` as text: strings trimmed, integers in decimal; `None` for null or empty.
fn text<'a>(v: Value<'a>, kind: Kind, buf: &'a mut String) -> Result<Option<&'a str>, String> {
    use std::fmt::Write as _;
    buf.clear();
    match v {
        Value::Null => return Ok(None),
        Value::Bytes(bytes) => {
            let s = std::str::from_utf8(bytes).map_err(|e| {
                format!(
                    "invalid UTF-8 at byte {} of the value (strings must be UTF-8)",
                    e.valid_up_to()
                )
            })?;
            let s = s.trim();
            return Ok((!s.is_empty()).then_some(s));
        }
        Value::Int(i) => {
            if let Some(u) = unsigned(i, kind) {
                let _ = write!(buf, "{u}");
            } else {
                let _ = write!(buf, "{i}");
            }
        }
        Value::Float(f) => buf.push_str(&json_number(f)),
        Value::Bool(x) => buf.push_str(if x { "true" } else { "false" }),
        Value::Int96(t) => {
            let _ = write!(buf, "{}", t.to_seconds());
        }
    }
    Ok(Some(buf.as_str()))
}

/// The value of an unsigned column (its bits reinterpreted), `None` for other kinds.
fn unsigned(i: i64, kind: Kind) -> Option<u64> {
    match kind {
        Kind::UInt { wide: true } => Some(i.cast_unsigned()),
        Kind::UInt { wide: false } => {
            Some(u64::from(i32::try_from(i).map_or(0, i32::cast_unsigned)))
        }
        _ => None,
    }
}

/// A number as JSON writes it (`2.0`, `0.5`), as properties' numbers are read.
fn json_number(f: f64) -> String {
    serde_json::Number::from_f64(f).map_or_else(|| f.to_string(), |n| n.to_string())
}

/// camelCase property key → UPPER_SNAKE field name (`deviceType` → `DEVICE_TYPE`), the rule
/// the sync server also names properties' fields by.
#[must_use]
pub fn upper_snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The names of the reserved fields, which properties cannot be.
const RESERVED: [&str; 11] = [
    "USER_ID",
    "ITEM_ID",
    "TIMESTAMP",
    "EVENT_TYPE",
    "EVENT_VALUE",
    "IMPRESSION",
    "RECOMMENDATION_ID",
    "SESSION_ID",
    "EVENT_ID",
    "PROPERTIES",
    "EVENT_ATTRIBUTION_SOURCE",
];

fn event_id_hash(id: &str) -> u128 {
    let mut a = DefaultHasher::new();
    (0u8, id).hash(&mut a);
    let mut z = DefaultHasher::new();
    (1u8, id).hash(&mut z);
    (u128::from(a.finish()) << 64) | u128::from(z.finish())
}

/// How a row's user was found.
#[derive(Clone, Copy)]
enum UserFrom {
    Column,
    /// The first user its session showed.
    Session,
    /// Its session, which never showed a user.
    Anonymous,
}

impl<'a> RowCtx<'a> {
    fn text<'s>(
        &self,
        c: &Col,
        cur: &'s Cursor,
        buf: &'s mut String,
    ) -> Result<Option<&'s str>, RowError> {
        text(cur.get(self.r), c.kind, buf)
            .map_err(|m| self.at.error(c, DropReason::InvalidEncoding, m))
    }

    /// Reads the row into `b`, or says why it is not an interaction.
    fn event(&self, state: &mut State, b: &mut Builder, s: &mut Scratch) -> Result<(), Skip> {
        let cols = self.cols;
        let cur = self.cur;
        if self.repeated
            && let (Some(c), Some(k)) = (&cols.event_id, &cur.event_id)
        {
            let id = self.text(c, k, &mut s.event_id)?.unwrap_or("");
            let message = format!("EVENT_ID {id:?} was read before; this row is ignored");
            return Err(self.at.error(c, DropReason::DuplicateEvent, message).into());
        }
        let (Some(item_col), Some(user_col), Some(time_col)) = (&cols.item, &cols.user, &cols.time)
        else {
            return Ok(());
        };
        if self.text(item_col, &cur.item, &mut s.item)?.is_none() {
            let message = "no ITEM_ID: the event is not an interaction".to_owned();
            return Err(self.at.error(item_col, DropReason::NoItem, message).into());
        }
        self.context(state, b, &mut s.context)?;
        let item = self.text(item_col, &cur.item, &mut s.item)?.unwrap_or("");
        check_id(item, "ITEM_ID").map_err(|(r, m)| self.at.error(item_col, r, m))?;
        let (user, from) = self.user(&state.sessions, user_col, &mut s.user, &mut s.session)?;
        let timestamp = self.timestamp(time_col, &mut state.conv)?;
        let event_type = match (&cols.event_type, &cur.event_type) {
            (Some(c), Some(k)) => match self.text(c, k, &mut s.event_type)? {
                Some(t) => t,
                None => {
                    let message = "EVENT_TYPE is empty".to_owned();
                    return Err(self.at.error(c, DropReason::MissingField, message).into());
                }
            },
            _ => DEFAULT_EVENT_TYPE,
        };
        let value = self.value()?;
        if !b.passes_threshold(value)
            && let Some(c) = &cols.value
        {
            let shown = if value.is_nan() {
                String::new()
            } else {
                value.to_string()
            };
            let message = b.threshold_message(&shown);
            return Err(self
                .at
                .error(c, DropReason::BelowEventValueThreshold, message)
                .into());
        }
        let impression = match (&cols.impression, &cur.impression) {
            (Some(c), Some(k)) => {
                let v = self.text(c, k, &mut s.impression)?.unwrap_or("");
                Some(self.impression(c, v)?)
            }
            _ => None,
        };
        let recommendation_id = match (&cols.recommendation_id, &cur.recommendation_id) {
            (Some(c), Some(k)) => self.text(c, k, &mut s.recommendation_id)?,
            _ => None,
        };
        let e = Event {
            user,
            item,
            timestamp,
            event_type,
            value,
            impression,
            recommendation_id,
            context: s.context.iter().map(String::as_str).collect(),
        };
        b.push(&e)?;
        match from {
            UserFrom::Column => {}
            UserFrom::Session => state.parquet.anonymous_attributed += 1,
            UserFrom::Anonymous => state.parquet.anonymous_sessions += 1,
        }
        Ok(())
    }

    /// The `IMPRESSION` item ids.
    fn impression<'v>(&self, c: &Col, v: &'v str) -> Result<Vec<&'v str>, RowError> {
        let n = v.chars().count();
        if n > MAX_CATEGORICAL_CHARS {
            return Err(self.at.error(
                c,
                DropReason::ValueTooLong,
                format!("IMPRESSION is {n} characters long; the limit is {MAX_CATEGORICAL_CHARS}"),
            ));
        }
        let ids: Vec<&str> = split_categorical(v).collect();
        for id in &ids {
            check_id(id, "IMPRESSION item id").map_err(|(r, m)| self.at.error(c, r, m))?;
        }
        Ok(ids)
    }

    /// The user: `USER_ID`, else the first user of the row's session, else the session.
    fn user<'s>(
        &self,
        sessions: &'s HashMap<String, String>,
        user_col: &Col,
        user_buf: &'s mut String,
        session_buf: &'s mut String,
    ) -> Result<(&'s str, UserFrom), RowError>
    where
        'a: 's,
    {
        let cur = self.cur;
        if let Some(u) = self.text(user_col, &cur.user, user_buf)? {
            check_id(u, "USER_ID").map_err(|(r, m)| self.at.error(user_col, r, m))?;
            return Ok((u, UserFrom::Column));
        }
        let session = match (&self.cols.session, &cur.session) {
            (Some(c), Some(k)) => self.text(c, k, session_buf)?.map(|v| (c, v)),
            _ => None,
        };
        let Some((c, session)) = session else {
            let message = "USER_ID is empty and the row has no SESSION_ID".to_owned();
            return Err(self.at.error(user_col, DropReason::MissingField, message));
        };
        if let Some(u) = sessions.get(session) {
            return Ok((u.as_str(), UserFrom::Session));
        }
        check_id(session, "SESSION_ID").map_err(|(r, m)| self.at.error(c, r, m))?;
        Ok((session, UserFrom::Anonymous))
    }

    fn timestamp(&self, c: &Col, conv: &mut Conversions) -> Result<i64, RowError> {
        let bad = |m: String| self.at.error(c, DropReason::BadTimestamp, m);
        let epoch = match (self.cur.time.get(self.r), c.kind) {
            (Value::Null, _) => {
                let message = "TIMESTAMP is empty".to_owned();
                return Err(self.at.error(c, DropReason::MissingField, message));
            }
            (Value::Int(v), Kind::Timestamp(per)) => v.div_euclid(per),
            (Value::Int(v), Kind::Date) => v.saturating_mul(86_400),
            (Value::Int96(t), _) => t.to_seconds(),
            (Value::Int(v), kind) => {
                let v = match unsigned(v, kind) {
                    Some(u) => i64::try_from(u)
                        .map_err(|_| bad(format!("timestamp {u} is out of range")))?,
                    None => v,
                };
                let e = epoch_from_int(v).map_err(bad)?;
                if e.from_millis {
                    conv.millis_at(|| self.at.of(c));
                }
                return Ok(e.seconds);
            }
            (Value::Float(v), _) => {
                let e = epoch_from_float(v).map_err(bad)?;
                if e.from_millis {
                    conv.millis_at(|| self.at.of(c));
                }
                return Ok(e.seconds);
            }
            (other, _) => return Err(bad(format!("unexpected timestamp value {other:?}"))),
        };
        if (epoch as f64).abs() >= MILLIS_THRESHOLD {
            return Err(bad(format!(
                "timestamp {epoch} (epoch seconds) is out of range"
            )));
        }
        Ok(epoch)
    }

    /// `EVENT_VALUE`, NaN when absent.
    fn value(&self) -> Result<f32, RowError> {
        let (Some(c), Some(k)) = (&self.cols.value, &self.cur.value) else {
            return Ok(f32::NAN);
        };
        let v = match k.get(self.r) {
            Value::Null => return Ok(f32::NAN),
            Value::Int(v) => unsigned(v, c.kind).map_or(v as f64, |u| u as f64),
            Value::Float(v) => v,
            other => {
                return Err(self.at.error(
                    c,
                    DropReason::BadNumber,
                    format!("invalid EVENT_VALUE {other:?}: expected a number"),
                ));
            }
        };
        let f = v as f32;
        if !f.is_finite() {
            return Err(self.at.error(
                c,
                DropReason::BadNumber,
                format!("invalid EVENT_VALUE {v}: expected a finite number"),
            ));
        }
        Ok(f)
    }

    /// Fills `out` with this row's contextual values (empty = null): the extra columns, then
    /// the properties (which add fields when new).
    fn context(
        &self,
        state: &mut State,
        b: &mut Builder,
        out: &mut Vec<String>,
    ) -> Result<(), Skip> {
        for v in out.iter_mut() {
            v.clear();
        }
        let mut scratch = String::new();
        for ((c, k), &i) in self
            .cols
            .extra
            .iter()
            .zip(&self.cur.extra)
            .zip(self.extra_at)
        {
            let v = self.text(c, k, &mut scratch)?.unwrap_or("");
            check_categorical(v, &c.name).map_err(|(r, m)| self.at.error(c, r, m))?;
            set(out, i, v);
        }
        let (Some(c), Some(k)) = (&self.cols.properties, &self.cur.properties) else {
            return Ok(());
        };
        let Some(raw) = self.text(c, k, &mut scratch)? else {
            return Ok(());
        };
        // The events of a session often carry the same properties: the last ones are reused.
        if let Some((last, values)) = &state.last_properties
            && last == raw
        {
            for (i, value) in values {
                if out.get(*i).is_none_or(String::is_empty) {
                    set(out, *i, value);
                }
            }
            return Ok(());
        }
        state.last_properties = None;
        let mut values = Vec::new();
        let parsed: serde_json::Map<String, Json> = serde_json::from_str(raw).map_err(|e| {
            self.at.error(
                c,
                DropReason::InvalidProperties,
                format!("PROPERTIES is not a JSON object: {e}"),
            )
        })?;
        for (key, v) in parsed {
            let name = upper_snake(&key);
            if RESERVED.contains(&name.as_str()) {
                continue;
            }
            let value = match v {
                Json::Null => continue,
                Json::String(t) => t.trim().to_owned(),
                Json::Bool(x) => x.to_string(),
                Json::Number(n) => n.to_string(),
                Json::Array(_) | Json::Object(_) => {
                    state.property_field(&name, c.index, &key, false);
                    continue;
                }
            };
            let i = context_index(state, b, &name, || {
                format!("{} (PROPERTIES key {key:?})", self.at.of(c))
            })?;
            state.property_field(&name, c.index, &key, true);
            check_categorical(&value, &name).map_err(|(r, m)| self.at.error(c, r, m))?;
            if out.get(i).is_none_or(String::is_empty) {
                set(out, i, &value);
            }
            values.push((i, value));
        }
        state.last_properties = Some((raw.to_owned(), values));
        Ok(())
    }
}

impl State {
    /// Notes a field read from the properties, for the report.
    fn property_field(&mut self, name: &str, column: usize, key: &str, kept: bool) {
        if self.fields.iter().any(|f| f.0 == name) {
            return;
        }
        let note = if kept {
            format!("PROPERTIES key {key:?}")
        } else {
            format!("PROPERTIES key {key:?}: a list or object, not read")
        };
        self.fields.push((name.to_owned(), column, kept, note));
    }
}

fn set(context: &mut Vec<String>, i: usize, v: &str) {
    if context.len() <= i {
        context.resize(i + 1, String::new());
    }
    context[i].clear();
    context[i].push_str(v);
}
