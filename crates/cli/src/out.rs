//! Standard output for the subcommands. `println!` panics when stdout is gone
//! (`edgerec inspect store.erm | head -2`: `head` closes the pipe after two lines), so the
//! subcommands write their text to the [`Stdout`] that `main` hands them instead, and a failed
//! write is an error like any other. `main` ends quietly with status 0 when that error is the
//! reader going away ([`is_closed`]), as if the rest had been read; any other failure to write
//! (a full disk) is reported.

use std::io::{self, Write};

/// The process's stdout (line-buffered, as `println!` writes it) whose write errors say that
/// they come from stdout.
#[derive(Debug)]
pub struct Stdout(io::Stdout);

impl Default for Stdout {
    fn default() -> Self {
        Stdout(io::stdout())
    }
}

/// A failed write to stdout, carried inside the `io::Error` (whose kind it keeps).
#[derive(Debug)]
struct WriteFailed(io::Error);

impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "writing to standard output: {}", self.0)
    }
}

impl std::error::Error for WriteFailed {}

fn tagged<T>(result: io::Result<T>) -> io::Result<T> {
    result.map_err(|e| io::Error::new(e.kind(), WriteFailed(e)))
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        tagged(self.0.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        tagged(self.0.write_all(buf))
    }

    fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> io::Result<()> {
        tagged(self.0.write_fmt(args))
    }

    fn flush(&mut self) -> io::Result<()> {
        tagged(self.0.flush())
    }
}

/// Whether `e` is stdout's reader having gone away (a closed pipe) rather than another error.
#[must_use]
pub fn is_closed(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|cause| cause.downcast_ref::<io::Error>().is_some_and(closed))
}

/// Whether a write error is stdout's reader having gone away.
#[must_use]
pub fn closed(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
        && e.get_ref().is_some_and(|inner| inner.is::<WriteFailed>())
}

/// For a command whose work goes on after it has printed (files to write, an exit status that
/// is a verdict): writes to `out` that find stdout's reader gone are dropped, so a closed pipe
/// neither skips the rest of the work nor turns a failing verdict into success. Other write
/// errors still fail.
pub struct UnlessClosed<'a>(pub &'a mut dyn Write);

impl std::fmt::Debug for UnlessClosed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnlessClosed")
    }
}

impl Write for UnlessClosed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if closed(&e) => Ok(buf.len()),
            r => r,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.flush() {
            Err(e) if closed(&e) => Ok(()),
            r => r,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A writer whose reader has gone, or whose disk is full.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            tagged(Err(io::Error::from(self.0)))
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn only_a_closed_stdout_counts_as_closed() {
        let e = writeln!(Failing(io::ErrorKind::BrokenPipe), "x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        assert!(is_closed(&anyhow::Error::from(e).context("printing")));
        let full = writeln!(Failing(io::ErrorKind::StorageFull), "x").unwrap_err();
        assert_eq!(
            full.to_string(),
            "writing to standard output: no storage space"
        );
        assert!(!is_closed(&full.into()));
        // A closed pipe that is not stdout (a FIFO given as --output) stays an error.
        let elsewhere = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(!is_closed(&elsewhere.into()));
    }

    #[test]
    fn unless_closed_drops_writes_to_a_closed_stdout_only() {
        let mut closed = Failing(io::ErrorKind::BrokenPipe);
        let mut out = UnlessClosed(&mut closed);
        writeln!(out, "nobody reads this").unwrap();
        out.flush().unwrap();
        let mut full = Failing(io::ErrorKind::StorageFull);
        let mut out = UnlessClosed(&mut full);
        assert_eq!(
            writeln!(out, "x").unwrap_err().kind(),
            io::ErrorKind::StorageFull
        );
    }
}
