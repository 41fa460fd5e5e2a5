//! The durable store: one embedded SQLite database (WAL, `synchronous=FULL`) written by a single
//! writer thread that group-commits: every job waiting when a transaction starts runs inside it,
//! so one fsync covers a whole request — and every request that arrived meanwhile. A job's
//! caller hears back only after the commit returned, so an acknowledged write survives a
//! process kill.
//!
//! Tables: `events` (the event log; interactions from the edge, deduplicated by `event_id`),
//! `items` and `users` (PutItems/PutUsers, last write wins), `recommendations` (the
//! recommendation log used for metric attribution and A/B variants), `retrains` (every
//! retrain and its outcome) and `meta`. Their statements are in [`crate::db`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::counters::{Counters, Delta, Totals};
use super::db::{self, Access, records::Table};
use super::ingest::{NewEvent, NewRecommendation, NewRecord};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the store's writer has stopped")]
    Closed,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Opens a read-only connection to the database under `data_dir` (for reports).
pub fn open_read_only(data_dir: &Path) -> Result<Connection, StoreError> {
    Ok(db::open(&db_path(data_dir), Access::ReadOnly)?)
}

/// The database file under a data directory.
#[must_use]
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("edgerec.db")
}

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

trait Job: Send {
    fn run(&mut self, c: &Connection) -> rusqlite::Result<()>;
    /// What the job changed in the counters (applied once its transaction committed).
    fn take_delta(&mut self) -> Delta;
    fn finish(self: Box<Self>, result: Result<(), StoreError>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    out: Option<T>,
    delta: Delta,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> rusqlite::Result<(T, Delta)> + Send,
{
    fn run(&mut self, c: &Connection) -> rusqlite::Result<()> {
        if let Some(work) = self.work.take() {
            let (out, delta) = work(c)?;
            self.out = Some(out);
            self.delta = delta;
        }
        Ok(())
    }

    fn take_delta(&mut self) -> Delta {
        std::mem::take(&mut self.delta)
    }

    fn finish(self: Box<Self>, result: Result<(), StoreError>) {
        let reply = match (result, self.out) {
            (Ok(()), Some(out)) => Ok(out),
            (Ok(()), None) => Err(StoreError::Closed),
            (Err(e), _) => Err(e),
        };
        // The caller may have gone away (client disconnected); nothing to do then.
        let _ = self.reply.send(reply);
    }
}

/// Outcome of storing one batch of events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventsStored {
    pub stored: usize,
    pub duplicates: usize,
}

/// The handle to the store: submit writes to the writer thread, open readers.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    tx: mpsc::Sender<Box<dyn Job>>,
    counters: Arc<Counters>,
}

/// Most jobs folded into one transaction.
const MAX_GROUP: usize = 512;

impl Store {
    /// Opens (creating if needed) the database under `data_dir`, reads the counters from it
    /// (the only scan of the events table) and starts the writer thread.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let path = db_path(data_dir);
        let conn = db::open(&path, Access::Writer)?;
        let mode = db::enable_wal(&conn)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sql(rusqlite::Error::InvalidParameterName(
                format!("journal_mode WAL not available (got {mode})"),
            )));
        }
        db::schema::create(&conn)?;
        // Retrains that were running when the process died never finished.
        db::retrains::interrupt_running(&conn, now_ms())?;
        let counters = Arc::new(Counters::new(Totals::load(&conn)?));
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let c = Arc::clone(&counters);
        thread::Builder::new()
            .name("edgerec-store-writer".into())
            .spawn(move || writer_loop(&conn, &rx, &c))?;
        Ok(Store { path, tx, counters })
    }

    /// The in-memory counters (`/health`, `/metrics`), kept equal to the store's contents.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// A new reader connection (WAL: readers never block the writer).
    pub fn reader(&self) -> Result<Connection, StoreError> {
        Ok(db::open(&self.path, Access::Reader)?)
    }

    /// Runs `work` inside the next group transaction; the receiver resolves after the commit.
    pub fn submit<T, F>(&self, work: F) -> oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit_counted(move |c| work(c).map(|v| (v, Delta::default())))
    }

    /// [`Store::submit`] for a job that changes what the counters count: it returns the
    /// [`Delta`], applied after the commit.
    fn submit_counted<T, F>(&self, work: F) -> oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<(T, Delta)> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = Box::new(TypedJob {
            work: Some(work),
            out: None,
            delta: Delta::default(),
            reply,
        });
        if let Err(mpsc::SendError(job)) = self.tx.send(job) {
            job.finish(Err(StoreError::Closed));
        }
        rx
    }

    /// `submit` and wait, from async code.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit(work).await.unwrap_or(Err(StoreError::Closed))
    }

    /// `submit` and wait, from a plain thread (not inside the async runtime).
    pub fn write_blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit(work)
            .blocking_recv()
            .unwrap_or(Err(StoreError::Closed))
    }

    /// [`Store::write`] of a counted job.
    async fn write_counted<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<(T, Delta)> + Send + 'static,
    {
        self.submit_counted(work)
            .await
            .unwrap_or(Err(StoreError::Closed))
    }

    /// Stores events, skipping those whose `event_id` is already stored.
    pub async fn put_events(&self, events: Vec<NewEvent>) -> Result<EventsStored, StoreError> {
        self.write_counted(move |c| insert_events(c, &events)).await
    }

    /// Stores items (PutItems): insert or replace properties.
    pub async fn put_items(&self, items: Vec<NewRecord>) -> Result<usize, StoreError> {
        self.write_counted(move |c| upsert_records(c, Table::Items, &items))
            .await
    }

    /// Stores users (PutUsers).
    pub async fn put_users(&self, users: Vec<NewRecord>) -> Result<usize, StoreError> {
        self.write_counted(move |c| upsert_records(c, Table::Users, &users))
            .await
    }

    /// Stores recommendation-log entries (first write wins per `recommendation_id`).
    pub async fn put_recommendations(
        &self,
        recs: Vec<NewRecommendation>,
    ) -> Result<usize, StoreError> {
        self.write_counted(move |c| insert_recommendations(c, &recs))
            .await
    }
}

fn writer_loop(conn: &Connection, rx: &mpsc::Receiver<Box<dyn Job>>, counters: &Counters) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        run_group(conn, group, counters);
    }
}

fn run_group(conn: &Connection, group: Vec<Box<dyn Job>>, counters: &Counters) {
    if let Err(e) = db::tx::begin(conn) {
        let msg = e.to_string();
        for j in group {
            j.finish(Err(StoreError::Sql(rusqlite::Error::InvalidParameterName(
                msg.clone(),
            ))));
        }
        return;
    }
    let mut done: Vec<(Box<dyn Job>, Option<rusqlite::Error>)> = Vec::with_capacity(group.len());
    for mut job in group {
        let r = db::tx::savepoint(conn)
            .and_then(|()| job.run(conn))
            .and_then(|()| db::tx::release(conn));
        match r {
            Ok(()) => done.push((job, None)),
            Err(e) => {
                let _ = db::tx::undo(conn);
                done.push((job, Some(e)));
            }
        }
    }
    let commit = db::tx::commit(conn);
    if let Err(e) = &commit {
        let _ = db::tx::rollback(conn);
        let msg = e.to_string();
        for (j, _) in done {
            j.finish(Err(StoreError::Sql(rusqlite::Error::InvalidParameterName(
                format!("commit failed: {msg}"),
            ))));
        }
        return;
    }
    // Counters move in commit order, before any caller hears back.
    for (mut j, err) in done {
        if err.is_none() {
            counters.apply(&j.take_delta());
        }
        j.finish(err.map_or(Ok(()), |e| Err(StoreError::Sql(e))));
    }
}

fn insert_events(c: &Connection, events: &[NewEvent]) -> rusqlite::Result<(EventsStored, Delta)> {
    let now = now_ms();
    let mut out = EventsStored::default();
    let mut delta = Delta::default();
    for e in events {
        match db::events::insert(c, e, now)? {
            None => out.duplicates += 1,
            Some(seq) => {
                out.stored += 1;
                let attributed = e.recommendation_id.is_some() || e.recommender.is_some();
                delta.event_stored(c, seq, attributed)?;
            }
        }
    }
    Ok((out, delta))
}

fn upsert_records(
    c: &Connection,
    table: Table,
    records: &[NewRecord],
) -> rusqlite::Result<(usize, Delta)> {
    let now = now_ms();
    let mut new = 0u64;
    for r in records {
        if !db::records::exists(c, table, &r.id)? {
            new += 1;
        }
        db::records::upsert(c, table, &r.id, r.properties.as_deref(), now)?;
    }
    let mut delta = Delta::default();
    match table {
        Table::Items => delta.items = new,
        Table::Users => delta.users = new,
    }
    Ok((records.len(), delta))
}

fn insert_recommendations(
    c: &Connection,
    recs: &[NewRecommendation],
) -> rusqlite::Result<(usize, Delta)> {
    let mut n = 0;
    let mut delta = Delta::default();
    for r in recs {
        if db::recommendations::insert(c, r)? {
            delta.recommendation_logged(c, &r.recommendation_id, &r.recommender, r.n_items)?;
            n += 1;
        }
    }
    Ok((n, delta))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// One write to the store, from a small alphabet so that ids, attributions and late log
    /// entries collide often.
    #[derive(Debug, Clone)]
    enum Op {
        Event {
            id: u8,
            rid: Option<u8>,
            own: Option<u8>,
            click: bool,
            impressions: u8,
        },
        Log {
            rid: u8,
            recommender: u8,
            items: u8,
        },
        Item(u8),
        User(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..12, proptest::option::of(0u8..4), proptest::option::of(0u8..2), any::<bool>(), 0u8..4)
                .prop_map(|(id, rid, own, click, impressions)| Op::Event { id, rid, own, click, impressions }),
            2 => (0u8..4, 0u8..3, 0u8..4).prop_map(|(rid, recommender, items)| Op::Log { rid, recommender, items }),
            1 => (0u8..4).prop_map(Op::Item),
            1 => (0u8..4).prop_map(Op::User),
        ]
    }

    fn run(c: &Connection, op: &Op) -> Delta {
        let list = |n: u8| {
            serde_json::to_string(&(0..n).map(|i| format!("i{i}")).collect::<Vec<_>>()).unwrap()
        };
        match op {
            Op::Event {
                id,
                rid,
                own,
                click,
                impressions,
            } => {
                let e = NewEvent {
                    event_id: format!("e{id}"),
                    assigned_id: false,
                    session_id: "s".into(),
                    user_id: None,
                    event_type: if *click { "click" } else { "view" }.into(),
                    item_id: Some("i".into()),
                    sent_at: 1.0,
                    event_value: None,
                    properties: None,
                    impression: (*impressions > 0).then(|| list(*impressions)),
                    recommendation_id: rid.map(|r| format!("rid-{r}")),
                    recommender: own.map(|o| format!("own-{o}")),
                };
                insert_events(c, &[e]).unwrap().1
            }
            Op::Log {
                rid,
                recommender,
                items,
            } => {
                let r = NewRecommendation {
                    recommendation_id: format!("rid-{rid}"),
                    recommender: format!("rec-{recommender}"),
                    variant: None,
                    experiment: None,
                    user_id: None,
                    session_id: None,
                    items: list(*items),
                    n_items: usize::from(*items),
                    created_ms: 0,
                };
                insert_recommendations(c, &[r]).unwrap().1
            }
            Op::Item(i) | Op::User(i) => {
                let table = if matches!(op, Op::Item(_)) {
                    Table::Items
                } else {
                    Table::Users
                };
                let r = NewRecord {
                    id: format!("r{i}"),
                    properties: None,
                };
                upsert_records(c, table, &[r]).unwrap().1
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// After any sequence of writes, the totals moved by the writes' deltas equal the totals
        /// read from the store (what a restart would load).
        #[test]
        fn deltas_keep_the_counters_equal_to_the_store(ops in proptest::collection::vec(op(), 1..40)) {
            let c = Connection::open_in_memory().unwrap();
            db::schema::create(&c).unwrap();
            let mut totals = Totals::load(&c).unwrap();
            for op in &ops {
                totals.apply(&run(&c, op));
                prop_assert_eq!(&totals, &Totals::load(&c).unwrap(), "after {:?}", op);
            }
        }
    }
}
