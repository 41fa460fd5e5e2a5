//! Reading a lake back for training: the `*.parquet` objects under `s3://bucket/prefix`,
//! listed, filtered by their path (the `dt=` day partitions a training run wants), and fetched
//! one at a time into a local folder that keeps their relative paths, which the trainer then
//! reads as a partitioned folder.
//!
//! A folder used again (a cache kept between runs) only receives the objects it lacks or that
//! changed size, and loses the Parquet files that are no longer in the lake. Every failure is one
//! line: no such bucket, access denied, an endpoint that does not answer, nothing to read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ClientConfigKey, ObjectMeta, ObjectStore, ObjectStoreExt, RetryConfig};

/// Bytes fetched per request.
const CHUNK: u64 = 8 << 20;

/// Why a lake could not be fetched (one line each).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not `s3://bucket[/prefix]`.
    #[error("{url}: not an s3://bucket/prefix URL ({reason})")]
    BadUrl { url: String, reason: &'static str },
    /// The store refused the request or did not answer.
    #[error("{url}: {what}: {detail}")]
    Store {
        url: String,
        what: &'static str,
        detail: String,
    },
    /// Nothing to read under the prefix.
    #[error("{url}: no .parquet objects under this prefix{filtered}")]
    NoParquet { url: String, filtered: String },
    /// A path the filter could not decide on (a `dt=` value that is not a date).
    #[error("{url}: {message}")]
    Filter { url: String, message: String },
    /// The local folder could not be written.
    #[error("{}: {source}", path.display())]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a fetch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// Parquet objects under the prefix.
    pub listed: usize,
    /// Objects the filter left out.
    pub skipped: usize,
    /// Objects downloaded.
    pub fetched: usize,
    /// Objects already in the folder with the same size.
    pub reused: usize,
    /// Bytes downloaded.
    pub bytes: u64,
}

/// One object about to be fetched, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// 1-based position among the objects to read, and their number.
    pub index: usize,
    pub total: usize,
    /// Path relative to the prefix.
    pub relative: &'a str,
    pub size: u64,
    /// Already in the folder: not downloaded.
    pub reused: bool,
}

/// `s3://bucket/prefix` → (bucket, prefix without slashes at its ends).
fn split_url(url: &str) -> Result<(&str, &str), FetchError> {
    let bad = |reason| FetchError::BadUrl {
        url: url.to_string(),
        reason,
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or(bad("it must start with s3://"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(bad("no bucket name after s3://"));
    }
    Ok((bucket, prefix.trim_matches('/')))
}

/// The store of `bucket`, configured from the environment as the AWS tools are
/// (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, ...; `AWS_ALLOW_HTTP=true` for
/// `http://` endpoints), retrying briefly so an endpoint that does not answer fails in seconds.
fn store(url: &str, bucket: &str) -> Result<AmazonS3, FetchError> {
    AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(20),
            ..RetryConfig::default()
        })
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
            "5s",
        )
        .build()
        .map_err(|e| store_error(url, &e))
}

/// One line for a store error: what went wrong in words, then the store's own message.
fn store_error(url: &str, e: &object_store::Error) -> FetchError {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    let detail: String = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = detail.to_ascii_lowercase();
    let what = match e {
        object_store::Error::NotFound { .. } => "not found (no such bucket or prefix)",
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => "access denied (check the credentials)",
        _ if lower.contains("nosuchbucket") => "no such bucket",
        _ if lower.contains("accessdenied")
            || lower.contains("forbidden")
            || lower.contains("invalidaccesskeyid")
            || lower.contains("signaturedoesnotmatch") =>
        {
            "access denied (check the credentials)"
        }
        _ if lower.contains("connect")
            || lower.contains("dns")
            || lower.contains("timed out")
            || lower.contains("timeout") =>
        {
            "the endpoint does not answer (check AWS_ENDPOINT_URL and the network)"
        }
        _ => "the object store refused the request",
    };
    let short: String = detail.chars().take(400).collect();
    FetchError::Store {
        url: url.to_string(),
        what,
        detail: short,
    }
}

/// Whether a relative path has a hidden part (`_SUCCESS`, `_temporary/`, `.crc`), which
/// readers of partitioned folders skip.
fn hidden(relative: &str) -> bool {
    relative
        .split('/')
        .any(|p| p.starts_with('.') || p.starts_with('_'))
}

fn is_parquet(relative: &str) -> bool {
    Path::new(relative)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Every object under `prefix`, level by level.
async fn list_all(store: &AmazonS3, prefix: &ObjectPath) -> object_store::Result<Vec<ObjectMeta>> {
    let mut out = Vec::new();
    let mut pending = vec![prefix.clone()];
    while let Some(p) = pending.pop() {
        let at = (!p.as_ref().is_empty()).then_some(&p);
        let listed = store.list_with_delimiter(at).await?;
        out.extend(listed.objects);
        pending.extend(listed.common_prefixes);
    }
    Ok(out)
}

/// The path of `meta` relative to `prefix`, `/`-separated.
fn relative_of(meta: &ObjectMeta, prefix: &ObjectPath) -> Option<String> {
    let parts: Vec<String> = meta
        .location
        .prefix_match(prefix)?
        .map(|p| p.as_ref().to_string())
        .collect();
    let safe = !parts.is_empty()
        && parts
            .iter()
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.contains('\\'));
    safe.then(|| parts.join("/"))
}

/// Lists the `*.parquet` objects under `url` (`s3://bucket/prefix`), keeps those `keep` accepts
/// (given their path relative to the prefix), and fetches them one at a time into `dest`,
/// keeping their relative paths; `step` hears about each one first. Parquet files in `dest`
/// that are no longer in the lake are removed.
///
/// # Errors
/// [`FetchError`]: a bad URL, the store's refusal or silence, nothing to read, a path `keep`
/// cannot decide on, or a local write error.
pub fn fetch(
    url: &str,
    dest: &Path,
    keep: &dyn Fn(&str) -> Result<bool, String>,
    step: &mut dyn FnMut(Step<'_>),
) -> Result<Fetched, FetchError> {
    let (bucket, prefix) = split_url(url)?;
    let store = store(url, bucket)?;
    let prefix = ObjectPath::from(prefix);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| FetchError::Local {
            path: dest.to_path_buf(),
            source,
        })?;
    runtime.block_on(fetch_async(url, &store, &prefix, dest, keep, step))
}

async fn fetch_async(
    url: &str,
    store: &AmazonS3,
    prefix: &ObjectPath,
    dest: &Path,
    keep: &dyn Fn(&str) -> Result<bool, String>,
    step: &mut dyn FnMut(Step<'_>),
) -> Result<Fetched, FetchError> {
    let objects = list_all(store, prefix)
        .await
        .map_err(|e| store_error(url, &e))?;
    let mut listed: Vec<(String, ObjectMeta)> = objects
        .into_iter()
        .filter_map(|m| relative_of(&m, prefix).map(|r| (r, m)))
        .filter(|(r, _)| is_parquet(r) && !hidden(r))
        .collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut done = Fetched {
        listed: listed.len(),
        ..Fetched::default()
    };
    let mut wanted = Vec::new();
    for (relative, meta) in &listed {
        let kept = keep(relative).map_err(|message| FetchError::Filter {
            url: url.to_string(),
            message,
        })?;
        if kept {
            wanted.push((relative.as_str(), meta));
        } else {
            done.skipped += 1;
        }
    }
    if wanted.is_empty() {
        let filtered = if listed.is_empty() {
            String::new()
        } else {
            format!(
                " in the partitions asked for ({} older object(s) left out)",
                done.skipped
            )
        };
        return Err(FetchError::NoParquet {
            url: url.to_string(),
            filtered,
        });
    }
    let local = |path: &Path, source| FetchError::Local {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dest).map_err(|e| local(dest, e))?;
    remove_stale(dest, &listed).map_err(|e| local(dest, e))?;
    let total = wanted.len();
    for (i, (relative, meta)) in wanted.into_iter().enumerate() {
        let target = dest.join(relative);
        let reused = std::fs::metadata(&target).is_ok_and(|m| m.is_file() && m.len() == meta.size);
        step(Step {
            index: i + 1,
            total,
            relative,
            size: meta.size,
            reused,
        });
        if reused {
            done.reused += 1;
            continue;
        }
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| local(dir, e))?;
        }
        let partial = target.with_extension("parquet.part");
        let written = download(store, meta, &partial).await;
        match written {
            Ok(()) => {}
            Err(Download::Store(e)) => {
                let _ = std::fs::remove_file(&partial);
                return Err(store_error(url, &e));
            }
            Err(Download::Local(e)) => {
                let _ = std::fs::remove_file(&partial);
                return Err(local(&partial, e));
            }
        }
        std::fs::rename(&partial, &target).map_err(|e| local(&target, e))?;
        done.fetched += 1;
        done.bytes += meta.size;
    }
    Ok(done)
}

enum Download {
    Store(object_store::Error),
    Local(std::io::Error),
}

/// Writes the object to `path`, a range at a time.
async fn download(store: &AmazonS3, meta: &ObjectMeta, path: &Path) -> Result<(), Download> {
    use std::io::Write as _;
    let file = std::fs::File::create(path).map_err(Download::Local)?;
    let mut out = std::io::BufWriter::new(file);
    let mut at = 0;
    while at < meta.size {
        let end = (at + CHUNK).min(meta.size);
        let bytes = store
            .get_range(&meta.location, at..end)
            .await
            .map_err(Download::Store)?;
        out.write_all(&bytes).map_err(Download::Local)?;
        at = end;
    }
    out.flush().map_err(Download::Local)?;
    out.into_inner()
        .map_err(|e| Download::Local(e.into_error()))?
        .sync_all()
        .map_err(Download::Local)
}

/// Removes the Parquet files under `dest` that are not among `listed` (objects deleted from
/// the lake since an earlier fetch into the same folder), and partial downloads.
fn remove_stale(dest: &Path, listed: &[(String, ObjectMeta)]) -> std::io::Result<()> {
    let known: std::collections::HashSet<&str> = listed.iter().map(|(r, _)| r.as_str()).collect();
    let mut stack = vec![(dest.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push((path, r));
            } else if name.ends_with(".parquet.part")
                || (is_parquet(&r) && !known.contains(r.as_str()))
            {
                std::fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_or_refused() {
        assert_eq!(split_url("s3://b/lake/x/").ok(), Some(("b", "lake/x")));
        assert_eq!(split_url("s3://b").ok(), Some(("b", "")));
        let err = split_url("s3:///x").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("s3:///x: not an s3://bucket/prefix URL (no bucket name after s3://)")
        );
        assert!(split_url("/tmp/lake").is_err());
    }

    #[test]
    fn store_errors_are_one_line_saying_what_went_wrong() {
        let denied = object_store::Error::PermissionDenied {
            path: "lake/x".into(),
            source: "403 Forbidden\n<Error><Code>AccessDenied</Code></Error>".into(),
        };
        let text = store_error("s3://b/lake", &denied).to_string();
        assert!(
            text.starts_with("s3://b/lake: access denied (check the credentials): "),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
        let gone = object_store::Error::Generic {
            store: "S3",
            source: "error sending request: client error (Connect): tcp connect error".into(),
        };
        let text = store_error("s3://b", &gone).to_string();
        assert!(text.contains("the endpoint does not answer"), "{text}");
    }

    #[test]
    fn hidden_and_parquet_paths() {
        assert!(hidden("dt=2024-05-01/_SUCCESS"));
        assert!(hidden("_temporary/0/part.parquet"));
        assert!(!hidden("dt=2024-05-01/part-0.parquet"));
        assert!(is_parquet("a/b.PARQUET"));
        assert!(!is_parquet("a/b.parquet.crc"));
    }

    #[test]
    fn stale_files_and_partial_downloads_are_removed() -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("edgerec-lake-stale-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("dt=2024-05-01"))?;
        for f in [
            "dt=2024-05-01/a.parquet",
            "dt=2024-05-01/b.parquet",
            "x.parquet.part",
            "notes.txt",
        ] {
            std::fs::write(dir.join(f), b"x")?;
        }
        let meta = ObjectMeta {
            location: ObjectPath::from("dt=2024-05-01/a.parquet"),
            last_modified: Default::default(),
            size: 1,
            e_tag: None,
            version: None,
        };
        remove_stale(&dir, &[("dt=2024-05-01/a.parquet".to_string(), meta)])?;
        assert!(dir.join("dt=2024-05-01/a.parquet").is_file());
        assert!(!dir.join("dt=2024-05-01/b.parquet").exists());
        assert!(!dir.join("x.parquet.part").exists());
        assert!(dir.join("notes.txt").is_file());
        std::fs::remove_dir_all(&dir)
    }
}
