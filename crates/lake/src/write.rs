//! Putting a batch's files into the lake's store. Each put replaces its whole object at once
//! (a single PUT on S3-compatible stores, a rename on a folder), so a reader never sees half a
//! file, and writing the same batch again rewrites the same objects.

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::location::Location;
use crate::partition::LakeFile;

/// Why a file could not be put.
#[derive(Debug, thiserror::Error)]
#[error("writing {key} to the lake {lake}: {source}")]
pub struct PutError {
    pub lake: String,
    pub key: String,
    #[source]
    pub source: object_store::Error,
}

/// The object path of a lake key (`dt=…/name.parquet`) under the location's prefix.
#[must_use]
pub fn object_path(location: &Location, key: &str) -> ObjectPath {
    let prefix = location.prefix.as_ref();
    if prefix.is_empty() {
        ObjectPath::from(key)
    } else {
        ObjectPath::from(format!("{prefix}/{key}"))
    }
}

/// Puts the files, in order; stops at the first failure (putting them all again is harmless).
pub async fn put_files(location: &Location, files: &[LakeFile]) -> Result<(), PutError> {
    for f in files {
        let path = object_path(location, &f.key);
        location
            .store
            .put(&path, PutPayload::from(f.bytes.clone()))
            .await
            .map_err(|source| PutError {
                lake: location.display.clone(),
                key: f.key.clone(),
                source,
            })?;
    }
    Ok(())
}
