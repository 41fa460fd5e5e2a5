//! `GET /metrics`: Prometheus text exposition. Process counters (since start) are atomics;
//! store totals and per-recommender attribution come from the store's in-memory counters
//! (`counters`: read from the database once at start, then moved by every committed write), so
//! they survive restarts and a scrape never scans the events table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::counters::Totals;
use super::outcome::Outcome;

/// Upper bounds (seconds) of the retrain-duration histogram.
const BUCKETS: [f64; 9] = [1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Process-lifetime counters.
#[derive(Debug, Default)]
pub struct Metrics {
    pub events_received: AtomicU64,
    pub events_stored: AtomicU64,
    pub events_deduplicated: AtomicU64,
    pub events_rejected: AtomicU64,
    pub event_requests: AtomicU64,
    pub items_stored: AtomicU64,
    pub users_stored: AtomicU64,
    pub recommendations_logged: AtomicU64,
    pub bad_requests: AtomicU64,
    /// Segment calls rejected alone (the other calls of their batch kept).
    pub segment_calls_rejected: AtomicU64,
    pub unauthorized: AtomicU64,
    pub forbidden: AtomicU64,
    pub model_version: AtomicU64,
    pub model_downloads: AtomicU64,
    pub model_not_modified: AtomicU64,
    /// Sum of ingest ack latencies (µs) and the largest seen.
    pub ack_micros_sum: AtomicU64,
    pub ack_micros_max: AtomicU64,
    retrains: Mutex<BTreeMap<(String, String), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    last_event_to_model_ms: AtomicU64,
    /// The lake export's progress (`--lake`; rendered only when it is on).
    pub lake: super::lake::Progress,
}

impl Metrics {
    /// Counts a finished retrain.
    pub fn record_retrain(&self, o: &Outcome) {
        if let Ok(mut m) = self.retrains.lock() {
            *m.entry((o.mode.as_str().to_owned(), o.status.as_str().to_owned()))
                .or_default() += 1;
        }
        if let Ok(mut d) = self.durations.lock() {
            let h = d.entry(o.mode.as_str().to_owned()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if o.seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += o.seconds;
        }
        if let Some(ms) = o.event_to_model_ms {
            self.last_event_to_model_ms
                .store(u64::try_from(ms).unwrap_or(0), Ordering::Relaxed);
        }
    }

    /// Records one acknowledged ingest request's latency.
    pub fn record_ack(&self, micros: u64) {
        self.ack_micros_sum.fetch_add(micros, Ordering::Relaxed);
        self.ack_micros_max.fetch_max(micros, Ordering::Relaxed);
    }

    /// The exposition text, with the store's totals and per-recommender attribution.
    pub fn render(&self, store: &Totals, click_type: &str, retrain_busy: bool) -> String {
        let mut s = String::with_capacity(4096);
        self.render_requests(&mut s);
        self.render_latency_and_model(&mut s, retrain_busy);
        self.render_retrains(&mut s);
        self.render_lake(&mut s);
        render_store(&mut s, store);
        render_attribution(&mut s, store, click_type);
        s
    }

    /// The request and write counters since start.
    fn render_requests(&self, s: &mut String) {
        let counters = [
            (
                "edgerec_events_received_total",
                "Events in accepted (valid) PutEvents requests.",
                &self.events_received,
            ),
            (
                "edgerec_events_stored_total",
                "Events committed to the store (new event ids).",
                &self.events_stored,
            ),
            (
                "edgerec_events_deduplicated_total",
                "Events skipped because their eventId was already stored.",
                &self.events_deduplicated,
            ),
            (
                "edgerec_event_requests_rejected_total",
                "PutEvents requests rejected as invalid (nothing stored).",
                &self.events_rejected,
            ),
            (
                "edgerec_event_requests_total",
                "Acknowledged PutEvents requests.",
                &self.event_requests,
            ),
            (
                "edgerec_items_stored_total",
                "Items written through PutItems.",
                &self.items_stored,
            ),
            (
                "edgerec_users_stored_total",
                "Users written through PutUsers.",
                &self.users_stored,
            ),
            (
                "edgerec_recommendations_logged_total",
                "Recommendation-log entries stored.",
                &self.recommendations_logged,
            ),
            (
                "edgerec_segment_calls_rejected_total",
                "Segment calls rejected as invalid (the valid calls of their batch are stored).",
                &self.segment_calls_rejected,
            ),
            (
                "edgerec_bad_requests_total",
                "Requests answered 4xx for invalid input.",
                &self.bad_requests,
            ),
            (
                "edgerec_unauthorized_total",
                "Requests answered 401.",
                &self.unauthorized,
            ),
            (
                "edgerec_forbidden_total",
                "Requests answered 403.",
                &self.forbidden,
            ),
            (
                "edgerec_model_downloads_total",
                "GET /model answered with the model bytes.",
                &self.model_downloads,
            ),
            (
                "edgerec_model_not_modified_total",
                "GET /model answered 304.",
                &self.model_not_modified,
            ),
        ];
        for (name, help, v) in counters {
            counter(s, name, help, load(v));
        }
    }

    /// Ingest acknowledgement latency, the model served, and the retrain state.
    #[allow(clippy::cast_precision_loss)]
    fn render_latency_and_model(&self, s: &mut String, retrain_busy: bool) {
        let gauges = [
            (
                "edgerec_ingest_ack_seconds_sum",
                "Sum of PutEvents acknowledgement latencies.",
                load(&self.ack_micros_sum) as f64 / 1e6,
            ),
            (
                "edgerec_ingest_ack_seconds_max",
                "Largest PutEvents acknowledgement latency.",
                load(&self.ack_micros_max) as f64 / 1e6,
            ),
            (
                "edgerec_model_version",
                "Version of the published model being served (0: none).",
                load(&self.model_version) as f64,
            ),
            (
                "edgerec_event_to_model_seconds",
                "Last retrain: oldest newly included event's arrival to publish.",
                load(&self.last_event_to_model_ms) as f64 / 1e3,
            ),
            (
                "edgerec_retrain_running",
                "1 while a retrain runs.",
                if retrain_busy { 1.0 } else { 0.0 },
            ),
        ];
        for (name, help, v) in gauges {
            gauge(s, name, help, v);
        }
    }

    /// Finished retrains by mode and status, and the retrain-duration histogram per mode.
    fn render_retrains(&self, s: &mut String) {
        header(
            s,
            "edgerec_retrains_total",
            "Finished retrains by mode and status.",
            "counter",
        );
        if let Ok(m) = self.retrains.lock() {
            for ((mode, status), v) in m.iter() {
                let _ = writeln!(
                    s,
                    "edgerec_retrains_total{{mode=\"{mode}\",status=\"{status}\"}} {v}"
                );
            }
        }
        header(
            s,
            "edgerec_retrain_duration_seconds",
            "Retrain wall time.",
            "histogram",
        );
        if let Ok(d) = self.durations.lock() {
            for (mode, h) in d.iter() {
                for (b, c) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(
                        s,
                        "edgerec_retrain_duration_seconds_bucket{{mode=\"{mode}\",le=\"{b}\"}} {c}"
                    );
                }
                let _ = writeln!(
                    s,
                    "edgerec_retrain_duration_seconds_bucket{{mode=\"{mode}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    s,
                    "edgerec_retrain_duration_seconds_sum{{mode=\"{mode}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    s,
                    "edgerec_retrain_duration_seconds_count{{mode=\"{mode}\"}} {}",
                    h.count
                );
            }
        }
    }
}

impl Metrics {
    /// The lake export's progress, when `--lake` is set.
    #[allow(clippy::cast_precision_loss)]
    fn render_lake(&self, s: &mut String) {
        let l = &self.lake;
        if !l.enabled.load(Ordering::Relaxed) {
            return;
        }
        gauge(
            s,
            "edgerec_lake_exported_seq",
            "Highest event seq written to the lake.",
            load(&l.exported_seq) as f64,
        );
        let counters = [
            (
                "edgerec_lake_files_total",
                "Parquet files written to the lake.",
                &l.files,
            ),
            (
                "edgerec_lake_rows_total",
                "Events written to the lake.",
                &l.rows,
            ),
            (
                "edgerec_lake_export_failures_total",
                "Failed lake export attempts since start (each retried).",
                &l.failures,
            ),
        ];
        for (name, help, v) in counters {
            counter(s, name, help, load(v));
        }
        gauge(
            s,
            "edgerec_lake_last_export_timestamp_seconds",
            "When the last range was written to the lake (0: none since start).",
            load(&l.last_export_ms) as f64 / 1e3,
        );
    }
}

/// What the store holds.
#[allow(clippy::cast_precision_loss)]
fn render_store(s: &mut String, store: &Totals) {
    let c = &store.counts;
    gauge(
        s,
        "edgerec_store_events",
        "Events in the store.",
        c.events as f64,
    );
    gauge(
        s,
        "edgerec_store_items",
        "Items posted through PutItems.",
        c.items as f64,
    );
    gauge(
        s,
        "edgerec_store_users",
        "Users posted through PutUsers.",
        c.users as f64,
    );
}

/// Per recommender: logged recommendations, impressions, clicks and attributed events per type.
fn render_attribution(s: &mut String, store: &Totals, click_type: &str) {
    let rows = &store.attribution;
    header(
        s,
        "edgerec_recommendations_total",
        "Logged recommendations per recommender.",
        "counter",
    );
    for (name, r) in rows {
        let _ = writeln!(
            s,
            "edgerec_recommendations_total{{recommender=\"{}\"}} {}",
            esc(name),
            r.recommendations
        );
    }
    header(
        s,
        "edgerec_impressions_total",
        "Items shown per recommender (logged recommendations plus explicit impressions).",
        "counter",
    );
    for (name, r) in rows {
        let _ = writeln!(
            s,
            "edgerec_impressions_total{{recommender=\"{}\"}} {}",
            esc(name),
            r.impressions
        );
    }
    header(
        s,
        "edgerec_clicks_total",
        &format!("Attributed events of the click event type ({click_type}) per recommender."),
        "counter",
    );
    for (name, r) in rows {
        let clicks = r
            .events
            .iter()
            .filter(|(t, _)| t.eq_ignore_ascii_case(click_type))
            .map(|(_, n)| n)
            .sum::<u64>();
        let _ = writeln!(
            s,
            "edgerec_clicks_total{{recommender=\"{}\"}} {clicks}",
            esc(name)
        );
    }
    header(
        s,
        "edgerec_attributed_events_total",
        "Events attributed to a recommender, per event type.",
        "counter",
    );
    for (name, r) in rows {
        for (t, n) in &r.events {
            let _ = writeln!(
                s,
                "edgerec_attributed_events_total{{recommender=\"{}\",event_type=\"{}\"}} {n}",
                esc(name),
                esc(t)
            );
        }
    }
}

fn load(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// A metric family's `# HELP` and `# TYPE` lines.
fn header(s: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A counter without labels, with its header.
fn counter(s: &mut String, name: &str, help: &str, v: u64) {
    header(s, name, help, "counter");
    let _ = writeln!(s, "{name} {v}");
}

/// A gauge without labels, with its header.
fn gauge(s: &mut String, name: &str, help: &str, v: f64) {
    header(s, name, help, "gauge");
    let _ = writeln!(s, "{name} {v}");
}

/// Escapes a Prometheus label value.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::Ordering;

    use super::Metrics;
    use crate::Mode;
    use crate::counters::{Attributed, StoreCounts, Totals};
    use crate::outcome::{Outcome, Status};

    fn outcome(
        mode: Mode,
        status: Status,
        seconds: f64,
        event_to_model_ms: Option<i64>,
    ) -> Outcome {
        Outcome {
            id: 1,
            mode,
            training: mode.as_str(),
            trigger: "test".into(),
            status,
            version: None,
            message: String::new(),
            seconds,
            train_seconds: 0.0,
            eval_seconds: 0.0,
            scores: BTreeMap::new(),
            previous_scores: BTreeMap::new(),
            event_to_model_ms,
            model_bytes: 0,
            snapshot: crate::snapshot::SnapshotInfo::default(),
        }
    }

    /// Every line of the exposition text, pinned: a scraper's dashboards depend on the names,
    /// the order and the formatting.
    #[test]
    fn render_is_pinned() {
        let m = Metrics::default();
        let counters = [
            &m.events_received,
            &m.events_stored,
            &m.events_deduplicated,
            &m.events_rejected,
            &m.event_requests,
            &m.items_stored,
            &m.users_stored,
            &m.recommendations_logged,
            &m.bad_requests,
            &m.segment_calls_rejected,
            &m.unauthorized,
            &m.forbidden,
            &m.model_version,
            &m.model_downloads,
            &m.model_not_modified,
        ];
        for (v, c) in (1..).zip(counters) {
            c.store(v, Ordering::Relaxed);
        }
        m.record_ack(1_500);
        m.record_ack(250_000);
        m.record_retrain(&outcome(Mode::Full, Status::Published, 42.5, Some(61_250)));
        m.record_retrain(&outcome(Mode::Update, Status::Rejected, 3.0, None));
        m.record_retrain(&outcome(Mode::Full, Status::Published, 7200.5, None));
        let mut attribution = BTreeMap::new();
        attribution.insert(
            "top-picks".to_owned(),
            Attributed {
                recommendations: 7,
                impressions: 70,
                events: BTreeMap::from([("Click".to_owned(), 5), ("purchase".to_owned(), 2)]),
            },
        );
        attribution.insert(
            "odd \"name\"\\\n".to_owned(),
            Attributed {
                recommendations: 0,
                impressions: 3,
                events: BTreeMap::from([("view".to_owned(), 1)]),
            },
        );
        let store = Totals {
            counts: StoreCounts {
                events: 120,
                items: 30,
                users: 9,
                recommendations: 7,
                max_seq: 120,
            },
            attribution,
        };
        let text = m.render(&store, "click", true);
        assert_eq!(text, EXPECTED);
    }

    const EXPECTED: &str = r##"# HELP edgerec_events_received_total Events in accepted (valid) PutEvents requests.
# TYPE edgerec_events_received_total counter
edgerec_events_received_total 1
# HELP edgerec_events_stored_total Events committed to the store (new event ids).
# TYPE edgerec_events_stored_total counter
edgerec_events_stored_total 2
# HELP edgerec_events_deduplicated_total Events skipped because their eventId was already stored.
# TYPE edgerec_events_deduplicated_total counter
edgerec_events_deduplicated_total 3
# HELP edgerec_event_requests_rejected_total PutEvents requests rejected as invalid (nothing stored).
# TYPE edgerec_event_requests_rejected_total counter
edgerec_event_requests_rejected_total 4
# HELP edgerec_event_requests_total Acknowledged PutEvents requests.
# TYPE edgerec_event_requests_total counter
edgerec_event_requests_total 5
# HELP edgerec_items_stored_total Items written through PutItems.
# TYPE edgerec_items_stored_total counter
edgerec_items_stored_total 6
# HELP edgerec_users_stored_total Users written through PutUsers.
# TYPE edgerec_users_stored_total counter
edgerec_users_stored_total 7
# HELP edgerec_recommendations_logged_total Recommendation-log entries stored.
# TYPE edgerec_recommendations_logged_total counter
edgerec_recommendations_logged_total 8
# HELP edgerec_segment_calls_rejected_total Segment calls rejected as invalid (the valid calls of their batch are stored).
# TYPE edgerec_segment_calls_rejected_total counter
edgerec_segment_calls_rejected_total 10
# HELP edgerec_bad_requests_total Requests answered 4xx for invalid input.
# TYPE edgerec_bad_requests_total counter
edgerec_bad_requests_total 9
# HELP edgerec_unauthorized_total Requests answered 401.
# TYPE edgerec_unauthorized_total counter
edgerec_unauthorized_total 11
# HELP edgerec_forbidden_total Requests answered 403.
# TYPE edgerec_forbidden_total counter
edgerec_forbidden_total 12
# HELP edgerec_model_downloads_total GET /model answered with the model bytes.
# TYPE edgerec_model_downloads_total counter
edgerec_model_downloads_total 14
# HELP edgerec_model_not_modified_total GET /model answered 304.
# TYPE edgerec_model_not_modified_total counter
edgerec_model_not_modified_total 15
# HELP edgerec_ingest_ack_seconds_sum Sum of PutEvents acknowledgement latencies.
# TYPE edgerec_ingest_ack_seconds_sum gauge
edgerec_ingest_ack_seconds_sum 0.2515
# HELP edgerec_ingest_ack_seconds_max Largest PutEvents acknowledgement latency.
# TYPE edgerec_ingest_ack_seconds_max gauge
edgerec_ingest_ack_seconds_max 0.25
# HELP edgerec_model_version Version of the published model being served (0: none).
# TYPE edgerec_model_version gauge
edgerec_model_version 13
# HELP edgerec_event_to_model_seconds Last retrain: oldest newly included event's arrival to publish.
# TYPE edgerec_event_to_model_seconds gauge
edgerec_event_to_model_seconds 61.25
# HELP edgerec_retrain_running 1 while a retrain runs.
# TYPE edgerec_retrain_running gauge
edgerec_retrain_running 1
# HELP edgerec_retrains_total Finished retrains by mode and status.
# TYPE edgerec_retrains_total counter
edgerec_retrains_total{mode="full",status="published"} 2
edgerec_retrains_total{mode="update",status="rejected"} 1
# HELP edgerec_retrain_duration_seconds Retrain wall time.
# TYPE edgerec_retrain_duration_seconds histogram
edgerec_retrain_duration_seconds_bucket{mode="full",le="1"} 0
edgerec_retrain_duration_seconds_bucket{mode="full",le="5"} 0
edgerec_retrain_duration_seconds_bucket{mode="full",le="15"} 0
edgerec_retrain_duration_seconds_bucket{mode="full",le="60"} 1
edgerec_retrain_duration_seconds_bucket{mode="full",le="300"} 1
edgerec_retrain_duration_seconds_bucket{mode="full",le="900"} 1
edgerec_retrain_duration_seconds_bucket{mode="full",le="1800"} 1
edgerec_retrain_duration_seconds_bucket{mode="full",le="3600"} 1
edgerec_retrain_duration_seconds_bucket{mode="full",le="7200"} 1
edgerec_retrain_duration_seconds_bucket{mode="full",le="+Inf"} 2
edgerec_retrain_duration_seconds_sum{mode="full"} 7243
edgerec_retrain_duration_seconds_count{mode="full"} 2
edgerec_retrain_duration_seconds_bucket{mode="update",le="1"} 0
edgerec_retrain_duration_seconds_bucket{mode="update",le="5"} 1
edgerec_retrain_duration_seconds_bucket{mode="update",le="15"} 1
edgerec_retrain_duration_seconds_bucket{mode="update",le="60"} 1
edgerec_retrain_duration_seconds_bucket{mode="update",le="300"} 1
edgerec_retrain_duration_seconds_bucket{mode="update",le="900"} 1
edgerec_retrain_duration_seconds_bucket{mode="update",le="1800"} 1
edgerec_retrain_duration_seconds_bucket{mode="update",le="3600"} 1
edgerec_retrain_duration_seconds_bucket{mode="update",le="7200"} 1
edgerec_retrain_duration_seconds_bucket{mode="update",le="+Inf"} 1
edgerec_retrain_duration_seconds_sum{mode="update"} 3
edgerec_retrain_duration_seconds_count{mode="update"} 1
# HELP edgerec_store_events Events in the store.
# TYPE edgerec_store_events gauge
edgerec_store_events 120
# HELP edgerec_store_items Items posted through PutItems.
# TYPE edgerec_store_items gauge
edgerec_store_items 30
# HELP edgerec_store_users Users posted through PutUsers.
# TYPE edgerec_store_users gauge
edgerec_store_users 9
# HELP edgerec_recommendations_total Logged recommendations per recommender.
# TYPE edgerec_recommendations_total counter
edgerec_recommendations_total{recommender="odd \"name\"\\\n"} 0
edgerec_recommendations_total{recommender="top-picks"} 7
# HELP edgerec_impressions_total Items shown per recommender (logged recommendations plus explicit impressions).
# TYPE edgerec_impressions_total counter
edgerec_impressions_total{recommender="odd \"name\"\\\n"} 3
edgerec_impressions_total{recommender="top-picks"} 70
# HELP edgerec_clicks_total Attributed events of the click event type (click) per recommender.
# TYPE edgerec_clicks_total counter
edgerec_clicks_total{recommender="odd \"name\"\\\n"} 0
edgerec_clicks_total{recommender="top-picks"} 5
# HELP edgerec_attributed_events_total Events attributed to a recommender, per event type.
# TYPE edgerec_attributed_events_total counter
edgerec_attributed_events_total{recommender="odd \"name\"\\\n",event_type="view"} 1
edgerec_attributed_events_total{recommender="top-picks",event_type="Click"} 5
edgerec_attributed_events_total{recommender="top-picks",event_type="purchase"} 2
"##;
}
