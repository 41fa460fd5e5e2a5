//! Why an artefact table or a pack was refused: each error names the file, and the row and
//! column where there is one (rows count from 1 within their file).

use std::path::PathBuf;

/// A refused artefact table.
#[derive(Debug, thiserror::Error)]
pub enum ArtefactError {
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a readable Parquet file: {message}", path = path.display())]
    Parquet { path: PathBuf, message: String },
    #[error("{path}: no Parquet part files in the folder", path = path.display())]
    NoParts { path: PathBuf },
    #[error("{path}: no column {column:?} (found: {found})", path = path.display())]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error("{path}: column {column:?} is {found}, expected {expected}", path = path.display())]
    ColumnType {
        path: PathBuf,
        column: String,
        found: String,
        expected: &'static str,
    },
    #[error("{path}: row {row}: {column} is null", path = path.display())]
    Null {
        path: PathBuf,
        row: usize,
        column: String,
    },
    #[error("{path}: row {row}: {column} is not valid UTF-8", path = path.display())]
    Utf8 {
        path: PathBuf,
        row: usize,
        column: String,
    },
    #[error("{path}: row {row}: {column} is {value}, expected a finite number{rule}", path = path.display())]
    Number {
        path: PathBuf,
        row: usize,
        column: String,
        value: f64,
        rule: &'static str,
    },
    #[error(
        "{path}: row {row}: features has {found} values, expected {expected} (the rank of the table's first row)",
        path = path.display()
    )]
    Rank {
        path: PathBuf,
        row: usize,
        found: usize,
        expected: usize,
    },
    #[error("{path}: row {row}: {what} {id:?} appears twice", path = path.display())]
    Duplicate {
        path: PathBuf,
        row: usize,
        what: &'static str,
        id: String,
    },
    #[error("{path}: the table has no rows", path = path.display())]
    Empty { path: PathBuf },
}

/// Why `edgerec pack` could not build a model.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error(transparent)]
    Artefact(#[from] ArtefactError),
    #[error("nothing to pack: give item factors, neighbours or popularity counts")]
    Nothing,
    #[error("user factors need item factors (the model scores items by their factors)")]
    UserFactorsAlone,
    #[error(
        "the user factors have rank {users}, the item factors {items}: both come from one ALS model"
    )]
    RankMismatch { items: usize, users: usize },
    #[error("{what} must be a finite number >= 0, found {value}")]
    Param { what: &'static str, value: f32 },
    #[error(transparent)]
    Train(#[from] crate::train::TrainError),
}
