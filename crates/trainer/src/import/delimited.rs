//! Reading delimited files row by row with 1-based line numbers: UTF-8 BOM stripped, line
//! endings normalised (CRLF and lone CR become LF, also inside quoted fields), quoted fields
//! handled by the `csv` crate (flexible = false), fields decoded as UTF-8 (or Latin-1) and
//! trimmed, `.gz` files decompressed.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::error::{DropReason, ImportError, Location, RowError};
use crate::progress::{Progress, Unit};

/// Rows between two progress reports (a report is cheap, but not free).
const REPORT_EVERY: u64 = 4096;

/// How a file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub delimiter: u8,
    /// Whether `"` quotes fields (off for MovieLens 100K files, which never quote).
    pub quoting: bool,
    /// Whether `\` escapes the next character inside quotes (Personalize's CSV rule).
    pub backslash_escape: bool,
    /// Decode bytes as Latin-1 instead of UTF-8.
    pub latin1: bool,
}

impl Layout {
    /// Personalize CSV: comma, double quotes (`""` or `\"`), UTF-8.
    pub const PERSONALIZE: Self = Self {
        delimiter: b',',
        quoting: true,
        backslash_escape: true,
        latin1: false,
    };

    /// Plain RFC 4180 CSV with another delimiter.
    pub fn csv(delimiter: u8) -> Self {
        Self {
            delimiter,
            quoting: true,
            backslash_escape: false,
            latin1: false,
        }
    }
}

/// What [`Table::next_row`] found.
#[derive(Debug)]
pub(crate) enum Next {
    /// A row at this line; its fields are in [`Table::fields`].
    Row(u64),
    /// A malformed row (wrong field count, bad encoding).
    Bad(RowError),
    End,
}

/// A delimited file opened for reading; reports the bytes read from disk to a [`Progress`].
pub(crate) struct Table<'p> {
    pub path: PathBuf,
    progress: &'p dyn Progress,
    /// Bytes read from the file so far (before decompression).
    read: Rc<Cell<u64>>,
    reader: csv::Reader<Box<dyn Read>>,
    stream: Rc<Cell<StreamState>>,
    record: csv::ByteRecord,
    latin1: bool,
    /// The fields of the current row, trimmed.
    pub fields: Vec<String>,
    /// Field names used in error locations (set once the header is known).
    pub names: Vec<String>,
    /// Whether the first row was read as a header (for messages).
    header: bool,
    rows: u64,
}

impl std::fmt::Debug for Table<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
impl Table<'static> {
    /// Open `path` (no progress).
    ///
    /// # Errors
    /// [`ImportError::Io`] when the file cannot be opened.
    pub fn open(path: &Path, layout: Layout) -> Result<Self, ImportError> {
        Table::open_reporting(path, layout, crate::progress::SILENT)
    }
}

impl<'p> Table<'p> {
    /// Open `path`; reading it is a phase of `progress` counting the file's bytes.
    ///
    /// # Errors
    /// [`ImportError::Io`] when the file cannot be opened.
    pub fn open_reporting(
        path: &Path,
        layout: Layout,
        progress: &'p dyn Progress,
    ) -> Result<Self, ImportError> {
        let file = File::open(path).map_err(|e| ImportError::io(path, e))?;
        let size = file.metadata().ok().map(|m| m.len());
        progress.start(
            &format!(
                "reading {}",
                path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            ),
            size,
            Unit::Bytes,
        );
        let read = Rc::new(Cell::new(0));
        let counted = Counted {
            inner: file,
            read: Rc::clone(&read),
        };
        let mut input: Box<dyn Read> = Box::new(BufReader::with_capacity(1 << 16, counted));
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
        {
            input = Box::new(flate2::read::MultiGzDecoder::new(input));
        }
        let input = strip_bom(input).map_err(|e| ImportError::io(path, e))?;
        let stream = Rc::new(Cell::new(StreamState::default()));
        let input: Box<dyn Read> = Box::new(LineEndings {
            inner: input,
            after_cr: false,
            state: Rc::clone(&stream),
        });
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(false)
            .delimiter(layout.delimiter)
            .quoting(layout.quoting)
            .escape(layout.backslash_escape.then_some(b'\\'))
            .double_quote(true)
            .from_reader(input);
        Ok(Self {
            path: path.to_path_buf(),
            progress,
            read,
            reader,
            stream,
            record: csv::ByteRecord::new(),
            latin1: layout.latin1,
            fields: Vec::new(),
            names: Vec::new(),
            header: false,
            rows: 0,
        })
    }

    /// Read the next row.
    ///
    /// # Errors
    /// [`ImportError::Io`] on a read error (including a gzip error).
    pub fn next_row(&mut self) -> Result<Next, ImportError> {
        if self.rows.is_multiple_of(REPORT_EVERY) {
            self.progress.set_done(self.read.get());
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.progress.set_done(self.read.get());
                Ok(Next::End)
            }
            Ok(true) => {
                self.rows += 1;
                let line = self.record_line();
                self.decode(line)
            }
            Err(e) => {
                self.rows += 1;
                match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        pos,
                        expected_len,
                        len,
                    } => {
                        let _ = pos;
                        let line = self.record_line();
                        let (expected, len) = (
                            usize::try_from(*expected_len).unwrap_or(usize::MAX),
                            usize::try_from(*len).unwrap_or(0),
                        );
                        let (column, field) = if len < expected {
                            (len + 1, self.names.get(len).map(String::as_str))
                        } else {
                            (expected + 1, None)
                        };
                        let what = if len < expected {
                            "missing field(s)"
                        } else {
                            "extra field(s)"
                        };
                        let first = if self.header {
                            "the header"
                        } else {
                            "the first row"
                        };
                        Ok(Next::Bad(RowError {
                            location: Location::new(&self.path, line, Some(column), field),
                            reason: DropReason::WrongColumnCount,
                            message: format!(
                                "{what}: expected {expected} fields (as in {first}), found {len}"
                            ),
                        }))
                    }
                    csv::ErrorKind::Io(_) => {
                        let message = e.to_string();
                        Err(ImportError::io(&self.path, std::io::Error::other(message)))
                    }
                    _ => {
                        let line = e.position().map_or(self.rows, csv::Position::line);
                        Ok(Next::Bad(RowError {
                            location: Location::new(&self.path, line, Some(1), None),
                            reason: DropReason::WrongColumnCount,
                            message: format!("unreadable row: {e}"),
                        }))
                    }
                }
            }
        }
    }

    /// The line where the record just read starts. The reader's position is just past the
    /// record's terminator (when it has one), and line endings are all `\n` by now; the line
    /// breaks inside quoted fields are counted back.
    fn record_line(&self) -> u64 {
        let after = self.reader.position();
        let inside: u64 = self
            .record
            .iter()
            .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
            .sum();
        let st = self.stream.get();
        let unterminated = st.eof && after.byte() == st.total && st.last != Some(b'\n');
        after
            .line()
            .saturating_sub(inside + u64::from(!unterminated))
            .max(1)
    }

    fn decode(&mut self, line: u64) -> Result<Next, ImportError> {
        self.fields.clear();
        for (i, raw) in self.record.iter().enumerate() {
            let s = if self.latin1 {
                raw.iter().map(|&b| char::from(b)).collect::<String>()
            } else {
                match std::str::from_utf8(raw) {
                    Ok(s) => s.to_owned(),
                    Err(e) => {
                        return Ok(Next::Bad(RowError {
                            location: Location::new(
                                &self.path,
                                line,
                                Some(i + 1),
                                self.names.get(i).map(String::as_str),
                            ),
                            reason: DropReason::InvalidEncoding,
                            message: format!(
                                "invalid UTF-8 at byte {} of the field (save the file as UTF-8)",
                                e.valid_up_to()
                            ),
                        }));
                    }
                }
            };
            let trimmed = s.trim();
            self.fields.push(if trimmed.len() == s.len() {
                s
            } else {
                trimmed.to_owned()
            });
        }
        Ok(Next::Row(line))
    }

    /// Read the header row: names trimmed and upper-cased, stored in [`Self::names`].
    ///
    /// # Errors
    /// [`ImportError::Header`] when the file is empty or has duplicate or empty names.
    pub fn read_header(&mut self) -> Result<Vec<String>, ImportError> {
        match self.next_row()? {
            Next::Row(_) => {}
            Next::Bad(e) => return Err(ImportError::header(e.location, e.message)),
            Next::End => {
                return Err(ImportError::header(
                    Location::new(&self.path, 1, None, None),
                    "the file is empty: expected a header row",
                ));
            }
        }
        let names: Vec<String> = self.fields.iter().map(|f| f.to_ascii_uppercase()).collect();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(ImportError::header(
                    Location::new(&self.path, 1, Some(i + 1), None),
                    "empty column name in the header",
                ));
            }
            if names[..i].contains(n) {
                return Err(ImportError::header(
                    Location::new(&self.path, 1, Some(i + 1), Some(n)),
                    format!("duplicate column {n:?} in the header"),
                ));
            }
        }
        self.names.clone_from(&names);
        self.header = true;
        Ok(names)
    }
}

/// Counts the bytes read from the file.
struct Counted<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// What [`LineEndings`] has passed on so far.
#[derive(Debug, Clone, Copy, Default)]
struct StreamState {
    total: u64,
    last: Option<u8>,
    eof: bool,
}

/// Turns `\r\n` and lone `\r` into `\n`, and records how many bytes it passed on.
struct LineEndings {
    inner: Box<dyn Read>,
    after_cr: bool,
    state: Rc<Cell<StreamState>>,
}

impl Read for LineEndings {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            let mut st = self.state.get();
            if n == 0 {
                st.eof = true;
                self.state.set(st);
                return Ok(0);
            }
            let mut w = 0;
            for r in 0..n {
                let b = buf[r];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                buf[w] = if self.after_cr { b'\n' } else { b };
                w += 1;
            }
            if w > 0 {
                st.total += w as u64;
                st.last = Some(buf[w - 1]);
                self.state.set(st);
                return Ok(w);
            }
        }
    }
}

fn strip_bom(mut input: Box<dyn Read>) -> std::io::Result<Box<dyn Read>> {
    let mut head = [0u8; 3];
    let mut n = 0;
    while n < 3 {
        match input.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let start = if n == 3 && head == [0xEF, 0xBB, 0xBF] {
        3
    } else {
        0
    };
    Ok(Box::new(Cursor::new(head[start..n].to_vec()).chain(input)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("edgerec-delimited-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join(name);
        let _ = std::fs::write(&p, bytes);
        p
    }

    fn rows(path: &Path, layout: Layout) -> Vec<Result<(u64, Vec<String>), String>> {
        let mut t = match Table::open(path, layout) {
            Ok(t) => t,
            Err(e) => return vec![Err(e.to_string())],
        };
        let mut out = Vec::new();
        loop {
            match t.next_row() {
                Ok(Next::Row(l)) => out.push(Ok((l, t.fields.clone()))),
                Ok(Next::Bad(e)) => out.push(Err(e.to_string())),
                Ok(Next::End) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn bom_crlf_quotes_and_line_numbers() {
        let p = temp("a.csv", b"\xEF\xBB\xBFa,b\r\n1,\"x, \"\"y\"\"\"\r\n\r\n2,\"multi\nline\"\r\n3,\"back\\\"slash\"\r\n");
        let r = rows(&p, Layout::PERSONALIZE);
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(r[0], Ok((1, s(&["a", "b"]))));
        assert_eq!(r[1], Ok((2, s(&["1", "x, \"y\""]))));
        assert_eq!(r[2], Ok((4, s(&["2", "multi\nline"]))));
        assert_eq!(r[3], Ok((6, s(&["3", "back\"slash"]))));
        let p = temp("d.csv", b"a\rb\n\nc\n\"d\r\ne\"\nf");
        let lines: Vec<u64> = rows(&p, Layout::PERSONALIZE)
            .into_iter()
            .filter_map(|r| r.ok().map(|x| x.0))
            .collect();
        assert_eq!(lines, [1, 2, 4, 5, 7]);
        assert_eq!(r.len(), 4);
    }

    #[test]
    fn wrong_counts_and_encoding_are_row_errors() {
        let p = temp("b.csv", b"a,b\n1\n1,2,3\n\xff,2\n4,5");
        let mut t = Table::open(&p, Layout::PERSONALIZE).ok();
        let h = t.as_mut().map(Table::read_header);
        assert!(matches!(h, Some(Ok(_))));
        let r = rows(&p, Layout::PERSONALIZE);
        assert_eq!(
            r[1],
            Err(format!(
                "{}:2:2: missing field(s): expected 2 fields (as in the first row), found 1",
                p.display()
            ))
        );
        assert_eq!(
            r[2],
            Err(format!(
                "{}:3:3: extra field(s): expected 2 fields (as in the first row), found 3",
                p.display()
            ))
        );
        assert!(matches!(&r[3], Err(m) if m.contains(":4:1: invalid UTF-8")));
        assert_eq!(r[4], Ok((5, vec!["4".to_owned(), "5".to_owned()])));
    }

    #[test]
    fn latin1_and_no_quoting() {
        let p = temp("c.txt", b"1|Caf\xe9 \"x|2\n");
        let layout = Layout {
            delimiter: b'|',
            quoting: false,
            backslash_escape: false,
            latin1: true,
        };
        let r = rows(&p, layout);
        assert_eq!(
            r[0],
            Ok((1, vec!["1".into(), "Café \"x".into(), "2".into()]))
        );
    }
}
