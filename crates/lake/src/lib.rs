//! The event lake: where accepted events land as Parquet files, partitioned by day
//! (`dt=YYYY-MM-DD/`), on S3-compatible object storage (`s3://bucket/prefix`, with the endpoint
//! and credentials taken from the environment as the AWS tools take them) or in a local folder,
//! and how training lists and fetches them back.
//!
//! Writing: [`LakeEvent`] rows → [`files`] (split by UTC day, each day encoded by [`encode`] and
//! keyed `dt=YYYY-MM-DD/<stem>.parquet` with the writer's deterministic stem) → [`put_files`].
//! The first two are pure and build for wasm32 (the Worker uses them with
//! `default-features = false`); the store (feature `store`, on by default) adds [`Location`] and
//! the puts.

pub mod encode;
pub mod event;
#[cfg(feature = "store")]
pub mod fetch;
#[cfg(feature = "store")]
pub mod location;
pub mod partition;
#[cfg(feature = "store")]
pub mod write;

pub use encode::{EncodeError, SCHEMA, encode};
pub use event::LakeEvent;
#[cfg(feature = "store")]
pub use location::{Location, LocationError};
pub use partition::{Day, FilesError, LakeFile, StemError, by_day, check_stem, files};
#[cfg(feature = "store")]
pub use write::{PutError, put_files};
