//! The command line's progress bars: the library's [`Progress`] drawn with indicatif on stderr
//! (counts, rate and ETA when the amount of work is known, a spinner otherwise), only when
//! stderr is a terminal and `--quiet` is off. Otherwise nothing is drawn, so piped output and
//! logs hold no control characters.

use std::io::IsTerminal;
use std::sync::RwLock;
use std::time::Duration;

use edgerec_trainer::progress::{Progress, Unit};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where the bars go.
type Target = Box<dyn Fn() -> ProgressDrawTarget + Send + Sync>;

/// One bar at a time, replaced at each phase; nothing at all when disabled.
pub struct Bars {
    target: Option<Target>,
    bar: RwLock<Option<ProgressBar>>,
}

impl std::fmt::Debug for Bars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bars")
            .field("enabled", &self.target.is_some())
            .finish_non_exhaustive()
    }
}

impl Bars {
    /// Bars on stderr when it is a terminal and `quiet` is off; otherwise none.
    #[must_use]
    pub fn for_stderr(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            Self::disabled()
        } else {
            Self::to(Box::new(ProgressDrawTarget::stderr))
        }
    }

    /// Draws nothing.
    #[must_use]
    pub fn disabled() -> Self {
        Bars {
            target: None,
            bar: RwLock::new(None),
        }
    }

    /// Draws to the targets `target` makes (one per phase).
    #[must_use]
    pub fn to(target: Target) -> Self {
        Bars {
            target: Some(target),
            bar: RwLock::new(None),
        }
    }

    fn current(&self) -> Option<ProgressBar> {
        self.bar
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The bar's look for a phase.
fn style(total: Option<u64>, unit: Unit) -> ProgressStyle {
    let template = match (total, unit) {
        (Some(_), Unit::Bytes) => {
            "{spinner} {prefix} [{bar:20}] {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta}) {msg}"
                .to_owned()
        }
        (Some(_), Unit::Count(what)) => format!(
            "{{spinner}} {{prefix}} [{{bar:20}}] {{human_pos}}/{{human_len}} {what} ({{per_sec}}, ETA {{eta}}) {{msg}}"
        ),
        (None, Unit::Bytes) => "{spinner} {prefix} {bytes} [{elapsed}] {msg}".to_owned(),
        (None, Unit::Count(_)) => "{spinner} {prefix} [{elapsed}] {msg}".to_owned(),
    };
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ")
}

impl Progress for Bars {
    fn start(&self, phase: &str, total: Option<u64>, unit: Unit) {
        let Some(target) = &self.target else {
            return;
        };
        let bar = ProgressBar::with_draw_target(total, target());
        bar.set_style(style(total, unit));
        bar.set_prefix(phase.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        let old = self
            .bar
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .replace(bar);
        if let Some(old) = old {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.current() {
            bar.inc(n);
        }
    }

    fn set_done(&self, done: u64) {
        if let Some(bar) = self.current() {
            bar.set_position(done);
        }
    }

    fn note(&self, text: &str) {
        if let Some(bar) = self.current() {
            bar.set_message(text.to_owned());
        }
    }

    fn finish(&self) {
        let old = self
            .bar
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(old) = old {
            old.finish_and_clear();
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::sync::{Arc, Mutex};

    /// A terminal that keeps everything written to it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl Screen {
        fn text(&self) -> String {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        }
        fn push(&self, s: &str) {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push_str(s);
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            160
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.push(s);
            self.push("\n");
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.push(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.push("<clear>");
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn bars_on(screen: &Screen) -> Bars {
        let s = screen.clone();
        Bars::to(Box::new(move || {
            ProgressDrawTarget::term_like_with_hz(Box::new(s.clone()), 200)
        }))
    }

    /// Waits until the screen shows `want` (the bar draws at most 200 times a second).
    fn shows(screen: &Screen, want: &str) -> bool {
        for _ in 0..200 {
            if screen.text().contains(want) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn a_counted_phase_draws_its_name_count_unit_and_note() {
        let screen = Screen::default();
        let bars = bars_on(&screen);
        bars.start(
            "hyperparameter search for als",
            Some(12),
            Unit::Count("trials"),
        );
        bars.advance(3);
        bars.note("best 0.1234 (trial 1)");
        bars.advance(0);
        assert!(shows(&screen, "3/12 trials"), "screen: {:?}", screen.text());
        assert!(shows(&screen, "hyperparameter search for als"));
        assert!(shows(&screen, "best 0.1234 (trial 1)"));
        assert!(shows(&screen, "ETA"));
    }

    #[test]
    fn a_byte_phase_draws_sizes_and_a_new_phase_replaces_the_old() {
        let screen = Screen::default();
        let bars = bars_on(&screen);
        bars.start("reading ratings.csv", Some(4 << 20), Unit::Bytes);
        bars.set_done(1 << 20);
        assert!(
            shows(&screen, "1.00 MiB/4.00 MiB"),
            "screen: {:?}",
            screen.text()
        );
        bars.start("indexing the dataset", None, Unit::Count("rows"));
        bars.note("users");
        assert!(shows(&screen, "indexing the dataset"));
        bars.finish();
        let text = screen.text();
        let last = text.rfind("indexing the dataset").unwrap_or(0);
        assert!(text[last..].contains("<clear>"), "not cleared: {text:?}");
    }

    #[test]
    fn disabled_bars_draw_nothing_and_accept_every_call() {
        let bars = Bars::disabled();
        bars.start("training", Some(3), Unit::Count("recommenders"));
        bars.advance(1);
        bars.set_done(2);
        bars.note("als");
        bars.finish();
        assert!(bars.current().is_none());
    }
}
