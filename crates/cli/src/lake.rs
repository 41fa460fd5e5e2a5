//! `--interactions s3://bucket/prefix`: the lake's Parquet objects (only the day partitions
//! from `--since` on) fetched into a local folder, which the trainer then reads as a Parquet
//! folder. Local paths pass through unchanged.

use std::path::PathBuf;

use anyhow::Context as _;
use edgerec_trainer::import::{DatasetSpec, Format, parquet};

use super::import::DatasetArgs;

/// What the trainer reads, and the temporary folder that holds fetched objects (removed when
/// dropped).
#[derive(Debug)]
pub struct Input {
    pub spec: DatasetSpec,
    _fetched: Option<TempDir>,
}

impl Input {
    /// `args`' import specification; an `s3://` lake is fetched first (one line per object on
    /// stderr).
    ///
    /// # Errors
    /// Inconsistent options, or a lake that cannot be listed or fetched (one line).
    pub fn resolve(args: &DatasetArgs) -> anyhow::Result<Self> {
        let mut spec = args.to_spec()?;
        let Some(url) = args
            .interactions
            .to_str()
            .filter(|u| edgerec_lake::Location::is_url(u))
        else {
            if args.cache.is_some() {
                anyhow::bail!("--cache applies to --interactions s3://bucket/prefix");
            }
            return Ok(Self {
                spec,
                _fetched: None,
            });
        };
        if !matches!(spec.format, Format::Auto | Format::Parquet) {
            anyhow::bail!("--interactions {url}: an s3:// lake holds Parquet files only");
        }
        let (dest, temp) = match &args.cache {
            Some(dir) => (dir.clone(), None),
            None => {
                let t = TempDir::new()?;
                (t.0.clone(), Some(t))
            }
        };
        let since = spec.since;
        let keep = |relative: &str| parquet::keeps(since, relative);
        let mut line = |s: edgerec_lake::fetch::Step<'_>| {
            let verb = if s.reused { "cached  " } else { "fetching" };
            eprintln!(
                "{verb} {}/{} {} ({})",
                s.index,
                s.total,
                s.relative,
                size(s.size)
            );
        };
        let done = edgerec_lake::fetch::fetch(url, &dest, &keep, &mut line)?;
        let mut left_out = String::new();
        if let Some(d) = since {
            left_out = format!(", {} in partitions before dt={d} left out", done.skipped);
        }
        eprintln!(
            "{url}: {} Parquet object(s) listed{left_out}; {} fetched ({}), {} already in {}",
            done.listed,
            done.fetched,
            size(done.bytes),
            done.reused,
            dest.display()
        );
        if spec.name.is_empty() {
            spec.name = lake_name(url);
        }
        spec.format = Format::Parquet;
        spec.interactions = dest;
        Ok(Self {
            spec,
            _fetched: temp,
        })
    }
}

/// The dataset name of a lake: the last part of its prefix, else the bucket.
fn lake_name(url: &str) -> String {
    url.trim_start_matches("s3://")
        .split('/')
        .rfind(|p| !p.is_empty())
        .unwrap_or("lake")
        .to_string()
}

/// `1.5 MB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A fresh folder under the system's temporary folder, removed when dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("edgerec-lake-{}-{nanos:09}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn names_and_sizes() {
        assert_eq!(lake_name("s3://shop/lake/events/"), "events");
        assert_eq!(lake_name("s3://shop"), "shop");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_500_000), "1.5 MB");
    }

    #[test]
    fn the_temporary_folder_goes_away() {
        let t = TempDir::new().ok();
        let path = t.as_ref().map(|t| t.0.clone());
        assert!(path.as_deref().is_some_and(Path::is_dir));
        drop(t);
        assert!(!path.as_deref().is_some_and(Path::exists));
    }
}
