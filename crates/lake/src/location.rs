//! A lake's location: an `s3://bucket/prefix` URL or a local folder, opened as an object store.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;

/// Why a lake location could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    /// The URL is not `s3://bucket[/prefix]`.
    #[error("lake location {url:?}: {reason}")]
    BadUrl { url: String, reason: &'static str },
    /// The object store refused its configuration (endpoint, credentials, folder).
    #[error("lake location {url:?}: {source}")]
    Store {
        url: String,
        #[source]
        source: object_store::Error,
    },
}

/// An opened lake: the store and the prefix under which its partitions live.
#[derive(Debug, Clone)]
pub struct Location {
    /// The store (S3-compatible, or the local file system).
    pub store: Arc<dyn ObjectStore>,
    /// The prefix inside the store (empty for a bucket's root or a folder).
    pub prefix: ObjectPath,
    /// The location as the user wrote it, for messages.
    pub display: String,
}

impl Location {
    /// Whether `text` names object storage rather than a local path.
    pub fn is_url(text: &str) -> bool {
        text.starts_with("s3://")
    }

    /// Opens `text`: `s3://bucket/prefix` (endpoint, region and credentials from
    /// `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, ...; plain
    /// `http://` endpoints need `AWS_ALLOW_HTTP=true`), or a local folder, created if missing.
    pub fn open(text: &str) -> Result<Self, LocationError> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(LocationError::BadUrl {
                    url: text.to_string(),
                    reason: "no bucket name after s3://",
                });
            }
            let store = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|source| LocationError::Store {
                    url: text.to_string(),
                    source,
                })?;
            return Ok(Location {
                store: Arc::new(store),
                prefix: ObjectPath::from(prefix.trim_matches('/')),
                display: text.to_string(),
            });
        }
        let folder = PathBuf::from(text);
        if let Err(e) = std::fs::create_dir_all(&folder) {
            return Err(LocationError::Store {
                url: text.to_string(),
                source: object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: Box::new(e),
                },
            });
        }
        let store =
            LocalFileSystem::new_with_prefix(&folder).map_err(|source| LocationError::Store {
                url: text.to_string(),
                source,
            })?;
        Ok(Location {
            store: Arc::new(store),
            prefix: ObjectPath::default(),
            display: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_a_bucket_is_refused() {
        let err = Location::open("s3://")
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("lake location \"s3://\": no bucket name after s3://".to_string())
        );
    }

    #[test]
    fn a_bucket_and_prefix_are_split() -> Result<(), LocationError> {
        let lake = Location::open("s3://shop-events/lake/interactions/")?;
        assert_eq!(lake.prefix.as_ref(), "lake/interactions");
        assert!(Location::is_url("s3://a"));
        assert!(!Location::is_url("/tmp/lake"));
        Ok(())
    }
}
