//! The lake export (`edgerec serve --lake`): a background thread that writes the accepted
//! events to the event lake (`edgerec_lake`: Parquet files partitioned by day, on S3-compatible
//! storage or in a folder), each event exactly once.
//!
//! Exactly once, by construction: the exporter takes the next range of `events.seq` (from the
//! last exported one to the newest committed one), **records it as pending** in the database
//! (`lake_exports`), writes the range's files — one per UTC day, named
//! `dt=YYYY-MM-DD/serve-<first seq>-<last seq>.parquet`, so writing the range again replaces the
//! same objects — and then **marks it done**. Committed events are never changed or deleted and
//! new ones get higher `seq`s, so a range always holds the same rows. After a crash (or a
//! failed put) the pending range is written again, exactly, before anything else; the store
//! keeps each `eventId` once (duplicates are skipped at insert), so each `eventId` is in the
//! lake once.
//!
//! The exporter only reads the store and writes two small rows per range through the writer
//! thread: ingest never waits for the lake. A failing store (endpoint down, credentials
//! refused) is retried with exponential backoff (1 s doubling to 5 min) while events keep
//! arriving; nothing is skipped. Progress is in `/metrics` (`edgerec_lake_*`) and `/health`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edgerec_lake::{LakeEvent, Location};

use super::Shared;
use super::db::{self, events::Received, lake::SeqRange};
use super::store::now_ms;

/// `--lake`: where and how often accepted events are exported.
#[derive(Debug, Clone)]
pub struct LakeConfig {
    /// The lake (opened from `--lake`).
    pub location: Location,
    /// How long the exporter waits when it has caught up (`--lake-interval`).
    pub interval: Duration,
    /// Most events per range (and so per file).
    pub max_rows: i64,
}

/// The default most events per range.
pub const MAX_ROWS: i64 = 100_000;
/// The longest wait between retries of a failing store.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The export's progress, for `/metrics` and `/health`.
#[derive(Debug, Default)]
pub struct Progress {
    /// True when `--lake` is set.
    pub enabled: AtomicBool,
    /// The highest `seq` exported.
    pub exported_seq: AtomicU64,
    /// Files and rows written (done ranges; counted from the database at start).
    pub files: AtomicU64,
    pub rows: AtomicU64,
    /// Ranges exported since start.
    pub ranges: AtomicU64,
    /// Failed export attempts since start (each retried).
    pub failures: AtomicU64,
    /// When the last range was marked done (ms since 1970; 0: none since start).
    pub last_export_ms: AtomicU64,
    /// The last failure's message, cleared by the next success.
    pub last_error: Mutex<Option<String>>,
}

impl Progress {
    /// The `/health` view.
    #[must_use]
    pub fn status(&self, location: &str) -> serde_json::Value {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "location": location,
            "exportedSeq": load(&self.exported_seq),
            "files": load(&self.files),
            "rows": load(&self.rows),
            "failures": load(&self.failures),
            "lastExportMs": load(&self.last_export_ms),
            "lastError": self.last_error.lock().ok().and_then(|e| e.clone()),
        })
    }

    fn failed(&self, message: String) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(message);
        }
    }
}

/// The stem of a range's files: `serve-<first>-<last>`, zero-padded so names sort by range.
#[must_use]
pub fn stem(range: SeqRange) -> String {
    format!("serve-{:012}-{:012}", range.first, range.last)
}

/// A stored event as a lake row (the impression's JSON array joined by the encoder).
#[must_use]
pub fn lake_event(r: Received) -> LakeEvent {
    let impression = r.impression.map_or_else(Vec::new, |text| {
        // Stored as a JSON array by the ingest; anything else is kept whole.
        serde_json::from_str::<Vec<String>>(&text).unwrap_or_else(|_| vec![text])
    });
    LakeEvent {
        event_id: r.event_id,
        user_id: r.user_id,
        session_id: r.session_id,
        item_id: r.item_id,
        timestamp: LakeEvent::timestamp_of(r.sent_at),
        event_type: r.event_type,
        event_value: r.event_value,
        impression,
        recommendation_id: r.recommendation_id,
        properties: r.properties,
    }
}

/// Starts the exporter thread.
pub fn start(shared: Arc<Shared>, config: LakeConfig) -> anyhow::Result<()> {
    let progress = &shared.metrics.lake;
    progress.enabled.store(true, Ordering::Relaxed);
    let reader = shared.store.reader()?;
    let upto = db::lake::exported_upto(&reader)?;
    let (files, rows) = db::lake::totals(&reader)?;
    drop(reader);
    let as_u64 = |v: i64| u64::try_from(v).unwrap_or(0);
    progress.exported_seq.store(as_u64(upto), Ordering::Relaxed);
    progress.files.store(as_u64(files), Ordering::Relaxed);
    progress.rows.store(as_u64(rows), Ordering::Relaxed);
    // Object storage clients are async; the exporter runs its own small runtime so that a slow
    // store never occupies the server's.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("edgerec-lake".into())
        .spawn(move || thread_main(&shared, &config, &rt))?;
    Ok(())
}

/// What one step did.
enum Step {
    Exported,
    CaughtUp,
}

fn thread_main(shared: &Shared, config: &LakeConfig, rt: &tokio::runtime::Runtime) {
    let progress = &shared.metrics.lake;
    let mut backoff = Duration::from_secs(1);
    loop {
        match step(shared, config, rt) {
            Ok(Step::Exported) => backoff = Duration::from_secs(1),
            Ok(Step::CaughtUp) => {
                backoff = Duration::from_secs(1);
                std::thread::sleep(config.interval);
            }
            Err(e) => {
                let message = format!("{e:#}");
                tracing::warn!(
                    lake = %config.location.display,
                    retry_in_s = backoff.as_secs_f64(),
                    "lake export failed, retrying: {message}"
                );
                progress.failed(message);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Exports the pending range, else the next one; `CaughtUp` when there is nothing new.
fn step(
    shared: &Shared,
    config: &LakeConfig,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<Step> {
    let reader = shared.store.reader()?;
    let range = match db::lake::pending(&reader)? {
        Some(range) => range,
        None => {
            let upto = db::lake::exported_upto(&reader)?;
            let newest = db::events::max_seq(&reader)?;
            if newest <= upto {
                return Ok(Step::CaughtUp);
            }
            let range = SeqRange {
                first: upto + 1,
                last: newest.min(upto.saturating_add(config.max_rows.max(1))),
            };
            let started = now_ms();
            shared
                .store
                .write_blocking(move |c| db::lake::begin(c, range, started))?;
            range
        }
    };
    let events: Vec<LakeEvent> = db::events::in_range(&reader, range.first, range.last)?
        .into_iter()
        .map(lake_event)
        .collect();
    drop(reader);
    let files = edgerec_lake::files(&events, &stem(range))?;
    rt.block_on(edgerec_lake::put_files(&config.location, &files))?;
    let (n_files, n_rows) = (files.len() as i64, events.len() as i64);
    let finished = now_ms();
    shared
        .store
        .write_blocking(move |c| db::lake::done(c, range, n_files, n_rows, finished))?;
    let progress = &shared.metrics.lake;
    let as_u64 = |v: i64| u64::try_from(v).unwrap_or(0);
    progress
        .exported_seq
        .store(as_u64(range.last), Ordering::Relaxed);
    progress.files.fetch_add(as_u64(n_files), Ordering::Relaxed);
    progress.rows.fetch_add(as_u64(n_rows), Ordering::Relaxed);
    progress.ranges.fetch_add(1, Ordering::Relaxed);
    progress
        .last_export_ms
        .store(as_u64(finished), Ordering::Relaxed);
    if let Ok(mut e) = progress.last_error.lock() {
        *e = None;
    }
    tracing::debug!(
        first = range.first,
        last = range.last,
        files = n_files,
        rows = n_rows,
        "lake export"
    );
    Ok(Step::Exported)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stored_events_become_lake_rows() {
        let r = Received {
            seq: 7,
            event_id: "e1".into(),
            session_id: "s".into(),
            user_id: Some("u".into()),
            event_type: "click".into(),
            item_id: Some("i".into()),
            sent_at: 1_700_000_000_123.0,
            event_value: Some(2.5),
            properties: Some(r#"{"device":"m"}"#.into()),
            impression: Some(r#"["a","b"]"#.into()),
            recommendation_id: Some("rid-1".into()),
        };
        let e = lake_event(r);
        assert_eq!(e.timestamp, 1_700_000_000);
        assert_eq!(e.impression, ["a", "b"]);
        assert_eq!(e.impression_text().as_deref(), Some("a|b"));
        assert_eq!(e.properties.as_deref(), Some(r#"{"device":"m"}"#));
    }

    #[test]
    fn stems_sort_by_range() {
        let a = stem(SeqRange { first: 1, last: 20 });
        let b = stem(SeqRange {
            first: 21,
            last: 300,
        });
        assert_eq!(a, "serve-000000000001-000000000020");
        assert!(a < b);
        assert!(edgerec_lake::check_stem(&b).is_ok());
    }
}
