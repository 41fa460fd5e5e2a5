//! The batch sizes one call may carry, and which answers of the sync server refuse a batch for
//! good.

use crate::request::limits;

/// How many events and records one call may carry. Every other rule of the contract is the
/// same whoever checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Most events of one `PutEvents`.
    pub max_events: usize,
    /// Most records of one `PutItems` / `PutUsers`.
    pub max_records: usize,
}

impl Policy {
    /// Personalize's per-call limits (10 events, 10 records): what the engine accepts.
    pub const PERSONALIZE: Policy = Policy {
        max_events: limits::MAX_EVENTS_PER_CALL,
        max_records: limits::MAX_RECORDS_PER_CALL,
    };

    /// What the sync server accepts: edge outboxes drain many of the engine's batches in one
    /// request, so up to 1,000 events per `POST /events` and 100 records per `POST /items` or
    /// `POST /users`.
    pub const SYNC_SERVER: Policy = Policy {
        max_events: 1000,
        max_records: 100,
    };
}

/// Whether the sync server's answer `status` refuses a batch for good, so that sending it
/// again cannot help: a 4xx about the batch itself (400 invalid input, 413 too large, …).
/// Edge outboxes park such a batch (keep it, with the answer, for the operator) and go on with
/// the next. Every other failure is retried with backoff: 5xx, network errors, and the 4xx
/// answers that are about the deployment or the moment rather than the batch — 401 and 403 (a
/// token), 404 (a wrong server URL), 408 (a timeout) and 429 (too many requests).
#[must_use]
pub fn is_refusal(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 404 | 408 | 429)
}
