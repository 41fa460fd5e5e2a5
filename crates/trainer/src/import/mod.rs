//! Dataset import: Personalize-schema CSVs (with or without Avro schema files), MovieLens
//! (100K and latest), any delimited file through a column mapping, and Parquet interactions (a
//! file, or a folder such as an event lake partitioned by day), into a [`Dataset`] plus an
//! [`ImportReport`].
//!
//! Rules (docs/personalize.md, "Datasets and import"; docs/design.md, "Limits and bad input"):
//! - Header names are case-insensitive and stored upper-case. Ids and values are trimmed.
//! - Ids longer than 256 characters, bad timestamps, missing required values and rows with the
//!   wrong number of fields are malformed rows, reported as `file:line:column (FIELD): message`.
//!   By default any malformed row fails the import (listing the first
//!   [`error::MAX_LISTED_ERRORS`]); with `skip_bad_rows` they are dropped and counted. Rows are
//!   never dropped silently: every drop is counted per reason in the report.
//! - Timestamps are epoch seconds; fractional seconds are floored and values ≥ 1e11 are taken
//!   as milliseconds and converted (with a warning).
//! - Event types keep their spelling in the file but are compared case-insensitively and
//!   stored lower-cased in [`Dataset::event_types`]; a file without `EVENT_TYPE` gets
//!   [`DEFAULT_EVENT_TYPE`] (MovieLens ratings get `rating`).
//! - Textual values lose HTML tags and entities, whitespace is collapsed, and they are
//!   truncated at 20,000 characters (counted in a warning).
//! - Quoted CSV fields may escape `"` as `""` or `\"`, and `\` as `\\` (Personalize's rule).
//! - Users and items are interned in first-seen order: interactions first (user, item, then
//!   impression items), then the items/users files.
//! - Fewer than 1,000 interactions or fewer than 25 users with two or more interactions are
//!   warnings, not errors (Personalize's training minimums).

mod builder;
mod delimited;
pub mod error;
pub mod export;
mod mapped;
mod metadata;
mod movielens;
mod movielens_latest;
pub mod parquet;
mod personalize;
pub mod report;
pub(crate) mod rows;
pub mod schema;
mod text;
pub mod time;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use error::{DropReason, ImportError, Location, RowError};
pub use export::write_personalize;
pub use mapped::{ColumnRef, MapSpec};
pub use movielens::{GENRES_100K, RATING_EVENT};
pub use parquet::{PartitionDate, upper_snake};
pub use personalize::DEFAULT_EVENT_TYPE;
pub use report::{
    DropCount, EventTypeCount, FieldReport, FieldSource, FileReport, FileRole, ImportReport,
    ParquetReport,
};
pub use schema::FieldRole;
pub use text::{MAX_ID_CHARS, MAX_TEXT_CHARS, normalise_text};
pub use time::TimeFormat;

use crate::dataset::Dataset;
use builder::Builder;
use metadata::Entity;

/// Personalize's minimum number of interactions for training.
pub const MIN_INTERACTIONS: usize = 1000;
/// Personalize's minimum number of users with at least two interactions.
pub const MIN_USERS_WITH_TWO: usize = 25;

/// How the input files are laid out.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Decide from the path: a MovieLens folder (`u.data` or `ratings.csv`), a folder with
    /// `interactions.csv`, a `.parquet` file or a folder holding `.parquet` files (at any
    /// depth), or a Personalize CSV file.
    #[default]
    Auto,
    /// Personalize CSVs (optionally with Avro schema files).
    Personalize,
    /// MovieLens 100K (`u.data`, `u.item`, `u.user`) or latest (`ratings.csv`, `movies.csv`,
    /// `tags.csv`): a folder, or a ratings file whose folder holds the others.
    MovieLens,
    /// Any delimited interactions file with a column mapping.
    Mapped(MapSpec),
    /// Parquet interactions: a file, or every `.parquet` file under a folder (see
    /// [`parquet`]).
    Parquet,
}

/// What to import.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DatasetSpec {
    /// Name for reports and models; derived from the path when empty.
    pub name: String,
    pub format: Format,
    /// The interactions file, or a folder (see [`Format::Auto`]).
    pub interactions: PathBuf,
    pub items: Option<PathBuf>,
    pub users: Option<PathBuf>,
    pub interactions_schema: Option<PathBuf>,
    pub items_schema: Option<PathBuf>,
    pub users_schema: Option<PathBuf>,
    /// Personalize's `eventValueThreshold`: interactions with a smaller (or no) event value are
    /// dropped and counted as "below eventValueThreshold".
    pub min_event_value: Option<f32>,
    /// Drop malformed rows (counted in the report) instead of failing.
    pub skip_bad_rows: bool,
    /// Parquet folders: read only the `dt=YYYY-MM-DD` partitions from this day on (files
    /// outside any `dt=` partition are always read).
    pub since: Option<PartitionDate>,
}

impl DatasetSpec {
    /// A spec for `path` with automatic format detection.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            interactions: path.into(),
            ..Self::default()
        }
    }
}

/// The concrete files to read, after format detection.
#[derive(Debug)]
enum Plan {
    Personalize {
        interactions: PathBuf,
        items: Option<PathBuf>,
        users: Option<PathBuf>,
        schemas: [Option<PathBuf>; 3],
    },
    MovieLens100k {
        ratings: PathBuf,
        items: Option<PathBuf>,
        users: Option<PathBuf>,
        genre: Option<PathBuf>,
    },
    MovieLensLatest {
        ratings: PathBuf,
        movies: Option<PathBuf>,
        tags: Option<PathBuf>,
    },
    Mapped {
        interactions: PathBuf,
        items: Option<PathBuf>,
        users: Option<PathBuf>,
        schemas: [Option<PathBuf>; 3],
        map: MapSpec,
    },
    Parquet {
        interactions: PathBuf,
        items: Option<PathBuf>,
        users: Option<PathBuf>,
        schemas: [Option<PathBuf>; 3],
    },
}

fn is_parquet_file(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn existing(p: PathBuf) -> Option<PathBuf> {
    p.is_file().then_some(p)
}

fn in_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    existing(dir.join(name))
}

fn parent(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn plan(spec: &DatasetSpec) -> Result<Plan, ImportError> {
    let path = &spec.interactions;
    if !path.exists() {
        return Err(ImportError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        ));
    }
    let is_dir = path.is_dir();
    let schemas = |dir: Option<&Path>| {
        let pick = |given: &Option<PathBuf>, name: &str| {
            given.clone().or_else(|| dir.and_then(|d| in_dir(d, name)))
        };
        [
            pick(&spec.interactions_schema, export::INTERACTIONS_SCHEMA),
            pick(&spec.items_schema, export::ITEMS_SCHEMA),
            pick(&spec.users_schema, export::USERS_SCHEMA),
        ]
    };
    let movielens = |dir: &Path, ratings: Option<PathBuf>| -> Result<Plan, ImportError> {
        let latest = ratings.as_ref().map_or_else(
            || dir.join("ratings.csv").is_file() && !dir.join("u.data").is_file(),
            |r| r.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")),
        );
        if latest {
            let ratings = ratings.unwrap_or_else(|| dir.join("ratings.csv"));
            Ok(Plan::MovieLensLatest {
                ratings,
                movies: spec.items.clone().or_else(|| in_dir(dir, "movies.csv")),
                tags: in_dir(dir, "tags.csv"),
            })
        } else {
            let ratings = match ratings {
                Some(r) => r,
                None if dir.join("u.data").is_file() => dir.join("u.data"),
                None => {
                    return Err(ImportError::Spec(format!(
                        "{}: not a MovieLens folder (no u.data or ratings.csv)",
                        dir.display()
                    )));
                }
            };
            Ok(Plan::MovieLens100k {
                ratings,
                items: spec.items.clone().or_else(|| in_dir(dir, "u.item")),
                users: spec.users.clone().or_else(|| in_dir(dir, "u.user")),
                genre: in_dir(dir, "u.genre"),
            })
        }
    };
    let personalize_dir = |dir: &Path| -> Result<Plan, ImportError> {
        let interactions = in_dir(dir, export::INTERACTIONS_CSV).ok_or_else(|| {
            ImportError::Spec(format!(
                "{}: no interactions.csv, u.data or ratings.csv in this folder",
                dir.display()
            ))
        })?;
        Ok(Plan::Personalize {
            interactions,
            items: spec
                .items
                .clone()
                .or_else(|| in_dir(dir, export::ITEMS_CSV)),
            users: spec
                .users
                .clone()
                .or_else(|| in_dir(dir, export::USERS_CSV)),
            schemas: schemas(Some(dir)),
        })
    };
    let parquet = || Plan::Parquet {
        interactions: path.clone(),
        items: spec.items.clone(),
        users: spec.users.clone(),
        schemas: schemas(None),
    };
    let plan = match &spec.format {
        Format::Parquet => Ok(parquet()),
        Format::Mapped(map) => {
            if is_dir {
                return Err(ImportError::Spec(format!(
                    "{}: a mapped import needs a file, not a folder",
                    path.display()
                )));
            }
            Ok(Plan::Mapped {
                interactions: path.clone(),
                items: spec.items.clone(),
                users: spec.users.clone(),
                schemas: schemas(None),
                map: map.clone(),
            })
        }
        Format::MovieLens if is_dir => movielens(path, None),
        Format::MovieLens => movielens(&parent(path), Some(path.clone())),
        Format::Personalize if is_dir => personalize_dir(path),
        Format::Personalize => Ok(Plan::Personalize {
            interactions: path.clone(),
            items: spec.items.clone(),
            users: spec.users.clone(),
            schemas: schemas(None),
        }),
        Format::Auto if is_dir => {
            if path.join("u.data").is_file() || path.join("ratings.csv").is_file() {
                movielens(path, None)
            } else if !path.join(export::INTERACTIONS_CSV).is_file() && parquet::holds_parquet(path)
            {
                Ok(parquet())
            } else {
                personalize_dir(path)
            }
        }
        Format::Auto if is_parquet_file(path) => Ok(parquet()),
        Format::Auto => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            let dir = parent(path);
            let ml = (name == "u.data" && dir.join("u.item").is_file())
                || (name == "ratings.csv" && dir.join("movies.csv").is_file());
            if ml {
                movielens(&dir, Some(path.clone()))
            } else {
                Ok(Plan::Personalize {
                    interactions: path.clone(),
                    items: spec.items.clone(),
                    users: spec.users.clone(),
                    schemas: schemas(None),
                })
            }
        }
    }?;
    if let Some(since) = spec.since
        && !matches!(plan, Plan::Parquet { .. })
    {
        return Err(ImportError::Spec(format!(
            "--since {since} reads the dt=YYYY-MM-DD partitions of a Parquet folder; {} is not one",
            path.display()
        )));
    }
    Ok(plan)
}

fn default_name(spec: &DatasetSpec, plan: &Plan) -> String {
    if !spec.name.is_empty() {
        return spec.name.clone();
    }
    let p = &spec.interactions;
    let from_dir = p.is_dir()
        || matches!(
            plan,
            Plan::MovieLens100k { .. } | Plan::MovieLensLatest { .. }
        );
    let base = if from_dir && !p.is_dir() {
        parent(p)
    } else {
        p.clone()
    };
    let name = if from_dir {
        base.canonicalize()
            .unwrap_or(base)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    } else {
        p.file_stem().map(|n| n.to_string_lossy().into_owned())
    };
    name.filter(|n| !n.is_empty())
        .unwrap_or_else(|| "dataset".to_owned())
}

/// Import a dataset.
///
/// # Errors
/// [`ImportError`] when a file is unreadable, a schema or header is unusable, or (unless
/// `skip_bad_rows`) when any row is malformed; the error names file, line and column.
pub fn load(spec: &DatasetSpec) -> Result<(Dataset, ImportReport), ImportError> {
    load_with(spec, crate::progress::SILENT)
}

/// [`load`] reporting to `progress`: reading each file is a phase counting its bytes, then
/// the dataset is assembled.
///
/// # Errors
/// As [`load`].
pub fn load_with(
    spec: &DatasetSpec,
    progress: &dyn crate::progress::Progress,
) -> Result<(Dataset, ImportReport), ImportError> {
    let plan = plan(spec)?;
    let name = default_name(spec, &plan);
    let mut b = Builder::reporting(spec.min_event_value, progress);
    let (format, files, interactions_path) = match &plan {
        Plan::Personalize {
            interactions,
            items,
            users,
            schemas,
        } => {
            let files = read_personalize(
                interactions,
                items.as_deref(),
                users.as_deref(),
                schemas,
                &mut b,
            )?;
            ("personalize", files, interactions)
        }
        Plan::Mapped {
            interactions,
            items,
            users,
            schemas,
            map,
        } => {
            let mut files = vec![mapped::read_mapped(interactions, map, &mut b)?];
            files.extend(read_metadata_files(
                items.as_deref(),
                users.as_deref(),
                schemas,
                &mut b,
            )?);
            ("mapped", files, interactions)
        }
        Plan::MovieLens100k {
            ratings,
            items,
            users,
            genre,
        } => {
            let files = movielens::read_100k(
                ratings,
                items.as_deref(),
                users.as_deref(),
                genre.as_deref(),
                &mut b,
            )?;
            ("movielens-100k", files, ratings)
        }
        Plan::MovieLensLatest {
            ratings,
            movies,
            tags,
        } => {
            let files =
                movielens_latest::read_latest(ratings, movies.as_deref(), tags.as_deref(), &mut b)?;
            ("movielens-latest", files, ratings)
        }
        Plan::Parquet {
            interactions,
            items,
            users,
            schemas,
        } => {
            // A corrupt file can make the parquet crate panic: an error naming the folder.
            let read = crate::decode_guard::guarded(|| {
                parquet::read_interactions(interactions, spec.since, &mut b)
            })
            .map_err(|panic| ImportError::Parquet {
                path: interactions.clone(),
                message: format!("the decoder gave up: {panic}"),
            })?;
            let mut files = vec![read?];
            files.extend(read_metadata_files(
                items.as_deref(),
                users.as_deref(),
                schemas,
                &mut b,
            )?);
            ("parquet", files, interactions)
        }
    };
    if b.error_total > 0 && !spec.skip_bad_rows {
        return Err(ImportError::MalformedRows {
            total: b.error_total,
            errors: std::mem::take(&mut b.errors),
        });
    }
    if b.interactions.is_empty() {
        return Err(ImportError::NoInteractions {
            path: interactions_path.clone(),
        });
    }
    let malformed = b.error_total;
    progress.start(
        "indexing the dataset",
        None,
        crate::progress::Unit::Count("rows"),
    );
    let (ds, warnings) = b.finish(&name);
    let report = summarise(&ds, format, files, malformed, warnings);
    Ok((ds, report))
}

fn read_metadata_files(
    items: Option<&Path>,
    users: Option<&Path>,
    schemas: &[Option<PathBuf>; 3],
    b: &mut Builder,
) -> Result<Vec<report::FileReport>, ImportError> {
    let mut files = Vec::new();
    if let Some(p) = items {
        files.push(metadata::read_metadata(
            p,
            schemas[1].as_deref(),
            Entity::Items,
            b,
        )?);
    }
    if let Some(p) = users {
        files.push(metadata::read_metadata(
            p,
            schemas[2].as_deref(),
            Entity::Users,
            b,
        )?);
    }
    Ok(files)
}

fn read_personalize(
    interactions: &Path,
    items: Option<&Path>,
    users: Option<&Path>,
    schemas: &[Option<PathBuf>; 3],
    b: &mut Builder,
) -> Result<Vec<report::FileReport>, ImportError> {
    let mut files = vec![personalize::read_interactions(
        interactions,
        schemas[0].as_deref(),
        b,
    )?];
    files.extend(read_metadata_files(items, users, schemas, b)?);
    Ok(files)
}

/// Counts, event types and Personalize minimum warnings.
fn summarise(
    ds: &Dataset,
    format: &str,
    files: Vec<FileReport>,
    malformed: usize,
    mut warnings: Vec<String>,
) -> ImportReport {
    let x = &ds.interactions;
    let mut per_user = vec![0u32; ds.user_ids.len()];
    let mut item_seen = vec![false; ds.item_ids.len()];
    let mut per_type = vec![0usize; ds.event_types.len()];
    for r in 0..x.len() {
        if let Some(c) = per_user.get_mut(x.user[r] as usize) {
            *c = c.saturating_add(1);
        }
        if let Some(s) = item_seen.get_mut(x.item[r] as usize) {
            *s = true;
        }
        if let Some(c) = x
            .event_type
            .get(r)
            .and_then(|&t| per_type.get_mut(usize::from(t)))
        {
            *c += 1;
        }
    }
    let two = per_user.iter().filter(|&&c| c >= 2).count();
    if x.len() < MIN_INTERACTIONS {
        warnings.push(format!(
            "only {} interactions: Personalize needs at least {} to train",
            x.len(),
            report::thousands(MIN_INTERACTIONS)
        ));
    }
    if two < MIN_USERS_WITH_TWO {
        warnings.push(format!(
            "only {two} users have 2 or more interactions: Personalize needs at least {MIN_USERS_WITH_TWO}"
        ));
    }
    if malformed > 0 {
        warnings.push(format!(
            "{malformed} malformed row(s) were dropped (examples under each file above)"
        ));
    }
    ImportReport {
        dataset: ds.name.clone(),
        format: format.to_owned(),
        files,
        interactions: x.len(),
        users: ds.user_ids.len(),
        items: ds.item_ids.len(),
        items_with_interactions: item_seen.iter().filter(|&&s| s).count(),
        users_with_two_interactions: two,
        event_types: ds
            .event_types
            .iter()
            .zip(per_type)
            .map(|(n, count)| EventTypeCount {
                name: n.clone(),
                count,
            })
            .collect(),
        malformed_rows: malformed,
        warnings,
    }
}

/// Import a MovieLens folder (100K or latest, detected from its files).
///
/// # Errors
/// As [`load`].
pub fn load_movielens(dir: &Path) -> Result<(Dataset, ImportReport), ImportError> {
    load(&DatasetSpec {
        format: Format::MovieLens,
        ..DatasetSpec::new(dir)
    })
}
