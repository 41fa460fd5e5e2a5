//! What became of the calls of one Segment request, and the answer that follows from it, for
//! `edgerec serve` and the Worker alike: every call is either applied or rejected with the field
//! at fault; a batch answers the rejected calls by index when at least one call was applied, and
//! fails naming the first rejected call when none was; a single call fails when it was rejected.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::error::RequestError;

/// A call that was not applied: its index in the batch (0 for a single call), the field at
/// fault as a path of the request (`batch[3].timestamp`, or `timestamp` for a single call) and
/// why. Serialised as `{"index", "field", "message": "<field>: <reason>"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub index: usize,
    pub field: String,
    pub reason: String,
}

impl Rejected {
    /// `<field>: <reason>`, as every error of the API reads.
    #[must_use]
    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.reason)
    }
}

impl Serialize for Rejected {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Rejected", 3)?;
        st.serialize_field("index", &self.index)?;
        st.serialize_field("field", &self.field)?;
        st.serialize_field("message", &self.message())?;
        st.end()
    }
}

/// The applied and rejected calls of one request (a single call or a batch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    batch: bool,
    accepted: usize,
    rejected: Vec<Rejected>,
}

impl Outcome {
    /// The outcome of a single call (`/v1/track`, ...): field paths are the call's own.
    #[must_use]
    pub fn single() -> Self {
        Outcome::default()
    }

    /// The outcome of a batch, starting with the calls its mapping rejected (whose fields
    /// already name the call: `batch[3].timestamp`).
    #[must_use]
    pub fn batch(mapping_rejected: &[(usize, RequestError)]) -> Self {
        let mut out = Outcome {
            batch: true,
            ..Outcome::default()
        };
        for (index, e) in mapping_rejected {
            let (field, reason) = match e {
                RequestError::InvalidInput { field, message } => (field.clone(), message.clone()),
                other => (format!("batch[{index}]"), other.to_string()),
            };
            out.rejected.push(Rejected {
                index: *index,
                field,
                reason,
            });
        }
        out
    }

    /// The path of `field` of call `index`: `field` for a single call, `batch[index].field` in a
    /// batch.
    #[must_use]
    pub fn field(&self, index: usize, field: &str) -> String {
        if self.batch {
            format!("batch[{index}].{field}")
        } else {
            field.to_owned()
        }
    }

    /// Counts `n` calls as applied.
    pub fn accept(&mut self, n: usize) {
        self.accepted += n;
    }

    /// Rejects call `index` for `reason`, naming its `field` (relative to the call).
    pub fn reject(&mut self, index: usize, field: &str, reason: impl Into<String>) {
        let field = self.field(index, field);
        self.rejected.push(Rejected {
            index,
            field,
            reason: reason.into(),
        });
    }

    /// Rejects call `index` with the ingest's error: its field (relative to the call) when it
    /// names one, else `body`.
    pub fn reject_error(&mut self, index: usize, e: &RequestError) {
        match e {
            RequestError::InvalidInput { field, message } => self.reject(index, field, message),
            other => self.reject(index, "body", other.to_string()),
        }
    }

    /// Calls applied so far.
    #[must_use]
    pub fn accepted(&self) -> usize {
        self.accepted
    }

    /// Calls rejected so far, in the order they were rejected.
    #[must_use]
    pub fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }

    /// The answer. `Ok` with the rejected calls in batch order when the request succeeded: a
    /// batch of which at least one call was applied, or a single call that was applied. `Err`
    /// otherwise, with an `InvalidInputException` naming the first rejected call's field and the
    /// same list.
    pub fn finish(mut self) -> Result<Vec<Rejected>, (RequestError, Vec<Rejected>)> {
        self.rejected.sort_by_key(|r| r.index);
        let failed = self.accepted == 0 || (!self.batch && !self.rejected.is_empty());
        if !failed {
            return Ok(self.rejected);
        }
        let error = match (self.rejected.first(), self.batch) {
            (Some(first), false) => RequestError::invalid(&first.field, &first.reason),
            (Some(first), true) => RequestError::invalid(
                &first.field,
                format!(
                    "no call of the batch was accepted; the first: {}",
                    first.reason
                ),
            ),
            (None, _) => RequestError::invalid("body", "no call was accepted"),
        };
        Err((error, self.rejected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_with_one_applied_call_lists_the_rest_by_index() {
        let mut o = Outcome::batch(&[(2, RequestError::invalid("batch[2].timestamp", "bad"))]);
        o.accept(1);
        o.reject(0, "userId", "refused");
        let list = o.finish().expect("one call was applied");
        assert_eq!(
            list.iter()
                .map(|r| (r.index, r.field.as_str()))
                .collect::<Vec<_>>(),
            [(0, "batch[0].userId"), (2, "batch[2].timestamp")]
        );
        let json = serde_json::to_value(&list[0]).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"index": 0, "field": "batch[0].userId", "message": "batch[0].userId: refused"})
        );
    }

    #[test]
    fn a_batch_with_nothing_applied_fails_on_its_first_rejected_call() {
        let mut o = Outcome::batch(&[(3, RequestError::invalid("batch[3].event", "missing"))]);
        o.reject_error(1, &RequestError::invalid("traits", "too long"));
        let (e, list) = o.finish().expect_err("nothing was applied");
        assert_eq!(
            e,
            RequestError::invalid(
                "batch[1].traits",
                "no call of the batch was accepted; the first: too long"
            )
        );
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn a_single_call_fails_when_rejected_even_if_counted() {
        let mut o = Outcome::single();
        o.reject(0, "userId", "needs a sync server");
        let (e, _) = o.finish().expect_err("rejected");
        assert_eq!(e, RequestError::invalid("userId", "needs a sync server"));
        let mut ok = Outcome::single();
        ok.accept(1);
        assert_eq!(ok.finish(), Ok(vec![]));
        assert!(Outcome::single().finish().is_err());
    }
}
