//! Reading the columns of an artefact table: one Parquet file, or a folder of part files as
//! Spark writes them (`part-*.parquet` next to `_SUCCESS`; names starting with `_` or `.` are
//! skipped, subfolders are read too, in name order). Columns are read whole through the
//! parquet crate's column readers (no Arrow), with their definition and repetition levels, so
//! a null or a list is seen where it is.

use std::path::{Path, PathBuf};

use parquet::column::reader::ColumnReader;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::error::ArtefactError;

/// The Parquet files of a table: the file itself, or the part files under the folder.
///
/// # Errors
/// When the path cannot be read or the folder holds no part file.
pub fn parts(path: &Path) -> Result<Vec<PathBuf>, ArtefactError> {
    let meta = std::fs::metadata(path).map_err(|source| ArtefactError::Io {
        path: path.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    collect(path, &mut out)?;
    if out.is_empty() {
        return Err(ArtefactError::NoParts {
            path: path.to_owned(),
        });
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ArtefactError> {
    let io = |source| ArtefactError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries: Vec<(String, PathBuf, bool)> = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let is_dir = e.file_type().map_err(io)?.is_dir();
        // Spark's checksums (`.part-….crc`) start with a dot; other side files are not Parquet.
        if !is_dir && !name.ends_with(".parquet") && !name.starts_with("part-") {
            continue;
        }
        entries.push((name, e.path(), is_dir));
    }
    entries.sort();
    for (_, p, is_dir) in entries {
        if is_dir {
            collect(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// The non-null values of a leaf column, by physical type.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bytes(Vec<Vec<u8>>),
}

/// One leaf column of a whole file: its levels and its non-null values.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// Definition levels (empty when the column is required: every level is defined).
    pub def: Vec<i16>,
    /// Repetition levels (empty when the column does not repeat).
    pub rep: Vec<i16>,
    pub max_def: i16,
    pub max_rep: i16,
    pub values: Values,
}

/// One Parquet file opened for its columns.
pub struct File {
    pub path: PathBuf,
    reader: SerializedFileReader<std::fs::File>,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File").field("path", &self.path).finish()
    }
}

impl File {
    /// Opens `path` and reads its footer.
    ///
    /// # Errors
    /// When the file cannot be opened or is not Parquet.
    pub fn open(path: &Path) -> Result<Self, ArtefactError> {
        let f = std::fs::File::open(path).map_err(|source| ArtefactError::Io {
            path: path.to_owned(),
            source,
        })?;
        let reader = guarded(path, || SerializedFileReader::new(f))?;
        Ok(File {
            path: path.to_owned(),
            reader,
        })
    }

    /// The file's rows, by its footer.
    #[must_use]
    pub fn rows(&self) -> usize {
        usize::try_from(self.reader.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// The dotted paths of the leaf columns, for error messages.
    #[must_use]
    pub fn column_names(&self) -> String {
        let schema = self.reader.metadata().file_metadata().schema_descr();
        (0..schema.num_columns())
            .map(|c| schema.column(c).path().string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The leaf column whose top-level field is `name` (case-insensitive): `name` itself, or
    /// the element of a list `name`.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<usize> {
        let schema = self.reader.metadata().file_metadata().schema_descr();
        (0..schema.num_columns()).find(|&c| {
            schema
                .column(c)
                .path()
                .parts()
                .first()
                .is_some_and(|p| p.eq_ignore_ascii_case(name))
        })
    }

    /// The leaf column `name`, or a typed error listing the columns there are.
    ///
    /// # Errors
    /// [`ArtefactError::MissingColumn`].
    pub fn require(&self, name: &str) -> Result<usize, ArtefactError> {
        self.find(name).ok_or_else(|| ArtefactError::MissingColumn {
            path: self.path.clone(),
            column: name.to_owned(),
            found: self.column_names(),
        })
    }

    /// Reads leaf column `c` over every row group.
    ///
    /// # Errors
    /// When a page does not decode, the column's type is not a number or a byte array, or a
    /// row group yields fewer rows than its footer says.
    pub fn read(&self, c: usize, column: &str) -> Result<Leaf, ArtefactError> {
        guarded(&self.path, || self.read_unguarded(c, column)).and_then(|r| r)
    }

    fn read_unguarded(
        &self,
        c: usize,
        column: &str,
    ) -> Result<Result<Leaf, ArtefactError>, String> {
        let schema = self.reader.metadata().file_metadata().schema_descr();
        let descr = schema.column(c);
        let (max_def, max_rep) = (descr.max_def_level(), descr.max_rep_level());
        let mut leaf = Leaf {
            def: Vec::new(),
            rep: Vec::new(),
            max_def,
            max_rep,
            values: match descr.physical_type() {
                parquet::basic::Type::INT32 | parquet::basic::Type::INT64 => {
                    Values::Int(Vec::new())
                }
                parquet::basic::Type::FLOAT | parquet::basic::Type::DOUBLE => {
                    Values::Float(Vec::new())
                }
                parquet::basic::Type::BYTE_ARRAY => Values::Bytes(Vec::new()),
                other => {
                    return Ok(Err(ArtefactError::ColumnType {
                        path: self.path.clone(),
                        column: column.to_owned(),
                        found: format!("{other}"),
                        expected: "an integer, a float, a double or a string",
                    }));
                }
            },
        };
        for g in 0..self.reader.num_row_groups() {
            let group = self.reader.get_row_group(g).map_err(|e| e.to_string())?;
            let rows = usize::try_from(group.metadata().num_rows()).map_err(|e| e.to_string())?;
            let reader = group.get_column_reader(c).map_err(|e| e.to_string())?;
            let (mut def, mut rep) = (Vec::new(), Vec::new());
            let read = read_group(reader, rows, &mut def, &mut rep, &mut leaf.values)?;
            if read != rows {
                return Err(format!(
                    "column {column}: row group {g} holds {read} of its {rows} rows"
                ));
            }
            if max_def > 0 {
                leaf.def.extend_from_slice(&def);
            }
            if max_rep > 0 {
                leaf.rep.extend_from_slice(&rep);
            }
        }
        Ok(Ok(leaf))
    }
}

/// Reads `rows` records of one column chunk, appending the values; the records read.
fn read_group(
    reader: ColumnReader,
    rows: usize,
    def: &mut Vec<i16>,
    rep: &mut Vec<i16>,
    values: &mut Values,
) -> Result<usize, String> {
    let e = |e: parquet::errors::ParquetError| e.to_string();
    match (reader, values) {
        (ColumnReader::Int32ColumnReader(mut r), Values::Int(out)) => {
            let mut v: Vec<i32> = Vec::new();
            let (n, _, _) = r
                .read_records(rows, Some(def), Some(rep), &mut v)
                .map_err(e)?;
            out.extend(v.into_iter().map(i64::from));
            Ok(n)
        }
        (ColumnReader::Int64ColumnReader(mut r), Values::Int(out)) => {
            let (n, _, _) = r.read_records(rows, Some(def), Some(rep), out).map_err(e)?;
            Ok(n)
        }
        (ColumnReader::FloatColumnReader(mut r), Values::Float(out)) => {
            let mut v: Vec<f32> = Vec::new();
            let (n, _, _) = r
                .read_records(rows, Some(def), Some(rep), &mut v)
                .map_err(e)?;
            out.extend(v.into_iter().map(f64::from));
            Ok(n)
        }
        (ColumnReader::DoubleColumnReader(mut r), Values::Float(out)) => {
            let (n, _, _) = r.read_records(rows, Some(def), Some(rep), out).map_err(e)?;
            Ok(n)
        }
        (ColumnReader::ByteArrayColumnReader(mut r), Values::Bytes(out)) => {
            let mut v = Vec::new();
            let (n, _, _) = r
                .read_records(rows, Some(def), Some(rep), &mut v)
                .map_err(e)?;
            out.extend(v.into_iter().map(|b| b.data().to_vec()));
            Ok(n)
        }
        _ => Err("a column's reader does not match its type".to_owned()),
    }
}

/// Runs a decoding step of the parquet crate, turning its errors, and any panic inside it on
/// a corrupt file, into [`ArtefactError::Parquet`]: bad input never takes the process down.
fn guarded<T, E: std::fmt::Display>(
    path: &Path,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, ArtefactError> {
    let parquet = |message: String| ArtefactError::Parquet {
        path: path.to_owned(),
        message,
    };
    match crate::decode_guard::guarded(f) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(parquet(e.to_string())),
        Err(panic) => Err(parquet(format!("the decoder gave up: {panic}"))),
    }
}
