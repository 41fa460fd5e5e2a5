//! The event lake: where accepted events land as Parquet files, partitioned by day
//! (`dt=YYYY-MM-DD/`), on S3-compatible object storage (`s3://bucket/prefix`, with the endpoint
//! and credentials taken from the environment as the AWS tools take them) or in a local folder,
//! and how training lists and fetches them back.

pub mod fetch;
pub mod location;

pub use location::{Location, LocationError};
