//! Model files from artefacts another engine computed (`edgerec pack`): where no single
//! machine holds the interactions, a Spark job (`examples/spark/`) computes ALS factors,
//! item-item neighbours and popularity counts, writes them as Parquet tables with the original
//! ids, and these modules read them and put them into one `.erm` file through the same
//! assembly as a training ([`crate::pack`]).
//!
//! * [`parquet`] reads a table's columns: one file, or a folder of part files.
//! * [`tables`] checks each kind of table row by row into plain vectors.
//! * [`build`] makes the recommenders and assembles the model.
//! * [`error`]: every refusal names the file, the row and the column.

pub mod build;
pub mod error;
pub mod parquet;
pub mod tables;

pub use build::{Artefacts, PackOptions, PackReport, pack};
pub use error::{ArtefactError, PackError};
pub use tables::{Count, FactorTable, Neighbor, read_counts, read_factors, read_neighbors};
