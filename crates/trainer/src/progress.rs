//! Progress of long operations (import, training, evaluation, hyperparameter search,
//! generation), reported through [`Progress`] so the library stays free of terminal concerns:
//! the `edgerec` command line draws it (on a terminal only); the sync server, the tests and
//! other library callers pass [`SILENT`].
//!
//! An operation is a sequence of phases. Each phase has a name, an optional total (without one
//! it is drawn as a spinner) and a unit; work done is reported with [`Progress::advance`] (from
//! any thread: implementations are `Sync`) and a short status with [`Progress::note`].

use std::sync::Mutex;

/// What a phase counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes of a file (drawn as sizes and a byte rate).
    Bytes,
    /// Things with this plural name (`"users"`, `"trials"`, `"recommenders"`).
    Count(&'static str),
}

/// Receives the progress of a long operation.
pub trait Progress: Sync {
    /// A new phase starts (the previous one, if any, is over): `total` units of work, or an
    /// unknown amount when `None`.
    fn start(&self, phase: &str, total: Option<u64>, unit: Unit);
    /// `n` more units of the current phase are done.
    fn advance(&self, n: u64);
    /// `done` units of the current phase are done in all (for counts read from elsewhere, such
    /// as a file position).
    fn set_done(&self, done: u64);
    /// A short status of the current phase (what is being worked on, the best score so far).
    fn note(&self, text: &str);
    /// The operation is over; whatever was drawn is cleared.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>, _: Unit) {}
    fn advance(&self, _: u64) {}
    fn set_done(&self, _: u64) {}
    fn note(&self, _: &str) {}
    fn finish(&self) {}
}

/// The progress receiver that reports nothing.
pub const SILENT: &Silent = &Silent;

/// Turns an inner operation's phases into notes of the outer one, for a step that runs a whole
/// operation (a hyperparameter search runs evaluations): the outer phase keeps its own count,
/// and its note says where the inner operation is (`prefix · phase · note`), after a prefix the
/// outer operation sets (the best trial so far). The inner counts are dropped.
pub struct AsNotes<'a> {
    outer: &'a dyn Progress,
    /// `[prefix, inner phase, inner note]`.
    parts: Mutex<[String; 3]>,
}

impl std::fmt::Debug for AsNotes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsNotes").finish_non_exhaustive()
    }
}

impl<'a> AsNotes<'a> {
    #[must_use]
    pub fn new(outer: &'a dyn Progress) -> Self {
        Self {
            outer,
            parts: Mutex::new(Default::default()),
        }
    }

    /// Sets what goes before every note, and shows it at once.
    pub fn set_prefix(&self, prefix: &str) {
        self.update(|p| prefix.clone_into(&mut p[0]));
    }

    fn update(&self, f: impl FnOnce(&mut [String; 3])) {
        let text = {
            let mut parts = self
                .parts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut parts);
            parts
                .iter()
                .filter(|p| !p.is_empty())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" · ")
        };
        self.outer.note(&text);
    }
}

impl Progress for AsNotes<'_> {
    fn start(&self, phase: &str, _: Option<u64>, _: Unit) {
        self.update(|p| {
            phase.clone_into(&mut p[1]);
            p[2].clear();
        });
    }
    fn advance(&self, _: u64) {}
    fn set_done(&self, _: u64) {}
    fn note(&self, text: &str) {
        self.update(|p| text.clone_into(&mut p[2]));
    }
    fn finish(&self) {}
}

/// Puts `prefix: ` before the phase names of an operation (`split A: training`).
#[derive(Clone, Copy)]
pub struct Prefixed<'a> {
    inner: &'a dyn Progress,
    prefix: &'a str,
}

impl std::fmt::Debug for Prefixed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefixed")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl<'a> Prefixed<'a> {
    #[must_use]
    pub fn new(inner: &'a dyn Progress, prefix: &'a str) -> Self {
        Self { inner, prefix }
    }
}

impl Progress for Prefixed<'_> {
    fn start(&self, phase: &str, total: Option<u64>, unit: Unit) {
        self.inner
            .start(&format!("{}: {phase}", self.prefix), total, unit);
    }
    fn advance(&self, n: u64) {
        self.inner.advance(n);
    }
    fn set_done(&self, done: u64) {
        self.inner.set_done(done);
    }
    fn note(&self, text: &str) {
        self.inner.note(text);
    }
    fn finish(&self) {
        self.inner.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every call as a line.
    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Progress for Log {
        fn start(&self, phase: &str, total: Option<u64>, unit: Unit) {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(format!("start {phase} {total:?} {unit:?}"));
        }
        fn advance(&self, n: u64) {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(format!("advance {n}"));
        }
        fn set_done(&self, done: u64) {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(format!("done {done}"));
        }
        fn note(&self, text: &str) {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(format!("note {text}"));
        }
        fn finish(&self) {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push("finish".to_owned());
        }
    }

    #[test]
    fn as_notes_turns_inner_phases_into_prefixed_notes_and_drops_counts() {
        let log = Log::default();
        let inner = AsNotes::new(&log);
        inner.start("scoring", None, Unit::Count("users"));
        inner.set_prefix("best 0.1200 (trial 1)");
        inner.start("split A: training", Some(5), Unit::Count("recommenders"));
        inner.advance(3);
        inner.set_done(4);
        inner.note("trial-2: iteration 3/15");
        inner.finish();
        assert_eq!(
            *log.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            [
                "note scoring",
                "note best 0.1200 (trial 1) · scoring",
                "note best 0.1200 (trial 1) · split A: training",
                "note best 0.1200 (trial 1) · split A: training · trial-2: iteration 3/15",
            ]
        );
    }

    #[test]
    fn prefixed_renames_phases_and_passes_the_rest_through() {
        let log = Log::default();
        let p = Prefixed::new(&log, "split B (fold 2/3)");
        p.start("training", Some(4), Unit::Count("recommenders"));
        p.advance(1);
        p.set_done(3);
        p.note("als: iteration 2/10");
        p.finish();
        assert_eq!(
            *log.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            [
                "start split B (fold 2/3): training Some(4) Count(\"recommenders\")",
                "advance 1",
                "done 3",
                "note als: iteration 2/10",
                "finish",
            ]
        );
    }
}
