//! MovieLens adapters: 100K (`u.data` + `u.item` + `u.user`) here, latest (`ratings.csv` +
//! `movies.csv` + `tags.csv`) in `movielens_latest`. Ratings become interactions with event
//! type `rating` and the rating as `EVENT_VALUE`.

use std::path::Path;

use edgerec_core::ColumnKind;

use super::builder::{Builder, Cell, Event, MetaTable};
use super::delimited::{Layout, Next, Table};
use super::error::{DropReason, ImportError, Location, RowError};
use super::personalize::Conversions;
use super::report::{FieldSource, FileReport, FileRole};
use super::schema::AvroType;
use super::schema::FieldRole;
use super::text::{check_categorical, check_id, normalise_text, parse_number};
use super::time::{parse_epoch, parse_pattern};

/// The event type of MovieLens ratings.
pub const RATING_EVENT: &str = "rating";

/// The 19 genres of MovieLens 100K, in flag order (used when `u.genre` is absent).
pub const GENRES_100K: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

const ML100K: Layout = Layout {
    delimiter: b'|',
    quoting: false,
    backslash_escape: false,
    latin1: true,
};

fn names(t: &mut Table, names: &[&str]) {
    t.names = names.iter().map(|s| (*s).to_owned()).collect();
}

/// Read the rows of a ratings file: `cols` = 0-based (user, item, rating, timestamp).
pub(crate) fn read_ratings(
    t: &mut Table,
    cols: [usize; 4],
    width: usize,
    b: &mut Builder,
    report: &mut FileReport,
) -> Result<(), ImportError> {
    let [ui, ii, vi, ti] = cols;
    let mut conv = Conversions::default();
    loop {
        let line = match t.next_row()? {
            Next::End => break,
            Next::Bad(e) => {
                report.rows_read += 1;
                b.reject(report, e);
                continue;
            }
            Next::Row(line) => line,
        };
        report.rows_read += 1;
        let f = &t.fields;
        let get = |i: usize| f.get(i).map_or("", String::as_str);
        let parsed = (|| -> Result<Event<'_>, RowError> {
            let err = |i: usize, (reason, message): (DropReason, String)| {
                t.error(line, i, reason, message)
            };
            if f.len() != width {
                let column = f.len().min(width) + 1;
                return Err(RowError {
                    location: Location::new(
                        &t.path,
                        line,
                        Some(column),
                        t.names.get(column - 1).map(String::as_str),
                    ),
                    reason: DropReason::WrongColumnCount,
                    message: format!("expected {width} fields, found {}", f.len()),
                });
            }
            check_id(get(ui), "USER_ID").map_err(|e| err(ui, e))?;
            check_id(get(ii), "ITEM_ID").map_err(|e| err(ii, e))?;
            let value = match get(vi).parse::<f32>() {
                Ok(v) if v.is_finite() => v,
                _ if get(vi).is_empty() => {
                    return Err(err(
                        vi,
                        (DropReason::MissingField, "rating is empty".into()),
                    ));
                }
                _ => {
                    return Err(err(
                        vi,
                        (
                            DropReason::BadNumber,
                            format!("invalid rating {:?}: expected a number", get(vi)),
                        ),
                    ));
                }
            };
            if get(ti).is_empty() {
                return Err(err(
                    ti,
                    (DropReason::MissingField, "TIMESTAMP is empty".into()),
                ));
            }
            let epoch = parse_epoch(get(ti)).map_err(|m| err(ti, (DropReason::BadTimestamp, m)))?;
            if epoch.from_millis {
                conv.millis_at(|| t.at(line, ti));
            }
            Ok(Event {
                user: get(ui),
                item: get(ii),
                timestamp: epoch.seconds,
                event_type: RATING_EVENT,
                value,
                ..Event::default()
            })
        })();
        match parsed {
            Ok(e) if b.passes_threshold(e.value) => {
                b.push(&e)?;
                report.rows_kept += 1;
            }
            Ok(_) => {
                let e = t.error(
                    line,
                    vi,
                    DropReason::BelowEventValueThreshold,
                    b.threshold_message(get(vi)),
                );
                b.reject(report, e);
            }
            Err(e) => b.reject(report, e),
        }
    }
    conv.warn(&t.path, &mut b.warnings);
    Ok(())
}

pub(crate) fn rating_fields(report: &mut FileReport, cols: [usize; 4], source: &str) {
    let [u, i, v, ts] = cols;
    report.field(
        "USER_ID",
        u + 1,
        AvroType::String,
        FieldRole::UserId,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "ITEM_ID",
        i + 1,
        AvroType::String,
        FieldRole::ItemId,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "TIMESTAMP",
        ts + 1,
        AvroType::Long,
        FieldRole::Timestamp,
        FieldSource::Adapter,
        Some("epoch seconds".into()),
    );
    report.field(
        "EVENT_TYPE",
        0,
        AvroType::String,
        FieldRole::EventType,
        FieldSource::Adapter,
        Some(format!("{RATING_EVENT:?} for every row")),
    );
    report.field(
        "EVENT_VALUE",
        v + 1,
        AvroType::Float,
        FieldRole::EventValue,
        FieldSource::Adapter,
        Some(format!("the rating ({source})")),
    );
    report
        .fields
        .sort_by_key(|f| if f.column == 0 { usize::MAX } else { f.column });
}

/// Read MovieLens 100K: `ratings` (`u.data` or a split such as `u1.base`), optional `u.item`
/// (titles, genres, release dates) and `u.user` (age, gender, occupation).
pub(crate) fn read_100k(
    ratings: &Path,
    items: Option<&Path>,
    users: Option<&Path>,
    genre: Option<&Path>,
    b: &mut Builder,
) -> Result<Vec<FileReport>, ImportError> {
    let mut files = Vec::new();
    let mut report = FileReport::new(ratings, FileRole::Interactions);
    let mut t = b.open(
        ratings,
        Layout {
            delimiter: b'\t',
            quoting: false,
            backslash_escape: false,
            latin1: false,
        },
    )?;
    names(&mut t, &["USER_ID", "ITEM_ID", "EVENT_VALUE", "TIMESTAMP"]);
    rating_fields(&mut report, [0, 1, 2, 3], "1-5");
    read_ratings(&mut t, [0, 1, 2, 3], 4, b, &mut report)?;
    files.push(report);
    if let Some(p) = items {
        files.push(read_100k_items(p, genre, b)?);
    }
    if let Some(p) = users {
        files.push(read_100k_users(p, b)?);
    }
    Ok(files)
}

fn genre_names(path: Option<&Path>, warnings: &mut Vec<String>) -> Vec<String> {
    let standard = || GENRES_100K.iter().map(|g| (*g).to_owned()).collect();
    let Some(path) = path else { return standard() };
    let Ok(bytes) = std::fs::read(path) else {
        return standard();
    };
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut names: Vec<(usize, String)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match line
            .rsplit_once('|')
            .map(|(n, i)| (n.trim(), i.trim().parse::<usize>()))
        {
            Some((n, Ok(i))) if !n.is_empty() => names.push((i, n.to_owned())),
            _ => {
                warnings.push(format!(
                    "{}: unreadable line {line:?}; using the standard genre names",
                    path.display()
                ));
                return standard();
            }
        }
    }
    names.sort_by_key(|(i, _)| *i);
    if names.iter().enumerate().any(|(k, (i, _))| k != *i) || names.len() != GENRES_100K.len() {
        warnings.push(format!(
            "{}: expected genres numbered 0..{}; using the standard genre names",
            path.display(),
            GENRES_100K.len() - 1
        ));
        return standard();
    }
    names.into_iter().map(|(_, n)| n).collect()
}

fn read_100k_items(
    path: &Path,
    genre: Option<&Path>,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let genres = genre_names(genre, &mut b.warnings);
    let width = 5 + genres.len();
    let mut report = FileReport::new(path, FileRole::Items);
    let mut t = b.open(path, ML100K)?;
    let mut cols: Vec<&str> = vec![
        "ITEM_ID",
        "TITLE",
        "CREATION_TIMESTAMP",
        "VIDEO_RELEASE_DATE",
        "IMDB_URL",
    ];
    cols.extend(genres.iter().map(String::as_str));
    names(&mut t, &cols);
    report.field(
        "ITEM_ID",
        1,
        AvroType::String,
        FieldRole::ItemId,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "TITLE",
        2,
        AvroType::String,
        FieldRole::Textual,
        FieldSource::Adapter,
        Some("decoded as Latin-1".into()),
    );
    report.field(
        "CREATION_TIMESTAMP",
        3,
        AvroType::Long,
        FieldRole::CreationTimestamp,
        FieldSource::Adapter,
        Some("release date (01-Jan-1995)".into()),
    );
    report.field(
        "VIDEO_RELEASE_DATE",
        4,
        AvroType::String,
        FieldRole::Ignored,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "IMDB_URL",
        5,
        AvroType::String,
        FieldRole::Ignored,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "GENRES",
        6,
        AvroType::String,
        FieldRole::Categorical,
        FieldSource::Adapter,
        Some(format!(
            "multi-valued, from the {} genre flags in columns 6-{width}",
            genres.len()
        )),
    );
    let mut table = MetaTable::new(vec![
        ("TITLE".into(), ColumnKind::Textual),
        ("GENRES".into(), ColumnKind::Categorical),
    ]);
    let mut undated = 0usize;
    loop {
        let line = match t.next_row()? {
            Next::End => break,
            Next::Bad(e) => {
                report.rows_read += 1;
                b.reject(&mut report, e);
                continue;
            }
            Next::Row(line) => line,
        };
        report.rows_read += 1;
        let f = &t.fields;
        let get = |i: usize| f.get(i).map_or("", String::as_str);
        let err =
            |i: usize, (reason, message): (DropReason, String)| t.error(line, i, reason, message);
        if f.len() != width {
            let column = f.len().min(width) + 1;
            let e = RowError {
                location: Location::new(
                    path,
                    line,
                    Some(column),
                    t.names.get(column - 1).map(String::as_str),
                ),
                reason: DropReason::WrongColumnCount,
                message: format!("expected {width} |-separated fields, found {}", f.len()),
            };
            b.reject(&mut report, e);
            continue;
        }
        if let Err(e) = check_id(get(0), "ITEM_ID") {
            b.reject(&mut report, err(0, e));
            continue;
        }
        let mut labels = Vec::new();
        let mut bad = None;
        for (g, name) in genres.iter().enumerate() {
            match get(5 + g) {
                "1" => labels.push(name.clone()),
                "0" | "" => {}
                other => {
                    bad = Some(err(
                        5 + g,
                        (
                            DropReason::BadBoolean,
                            format!("genre flag {other:?} for {name}: expected 0 or 1"),
                        ),
                    ));
                    break;
                }
            }
        }
        if let Some(e) = bad {
            b.reject(&mut report, e);
            continue;
        }
        let idx = b.items.intern(get(0), "items")?;
        if table.contains(idx) {
            let e = err(
                0,
                (
                    DropReason::DuplicateId,
                    format!(
                        "ITEM_ID {:?} already has a row; this one is ignored",
                        get(0)
                    ),
                ),
            );
            b.reject(&mut report, e);
            continue;
        }
        let (title, _) = normalise_text(get(1));
        let title = if title.is_empty() {
            Cell::Null
        } else {
            Cell::Text(title)
        };
        let genres_cell = if labels.is_empty() {
            Cell::Null
        } else {
            Cell::Labels(labels)
        };
        table.push(idx, vec![title, genres_cell]);
        match parse_pattern(get(2), "%d-%b-%Y") {
            Some(ts) => {
                b.item_creation.insert(idx, ts);
            }
            None => undated += 1,
        }
        report.rows_kept += 1;
    }
    if undated > 0 {
        b.warnings.push(format!(
            "{}: {undated} movie(s) have no parseable release date (CREATION_TIMESTAMP left empty)",
            path.display()
        ));
    }
    b.item_meta = Some(table);
    Ok(report)
}

fn read_100k_users(path: &Path, b: &mut Builder) -> Result<FileReport, ImportError> {
    let mut report = FileReport::new(path, FileRole::Users);
    let mut t = b.open(path, ML100K)?;
    names(
        &mut t,
        &["USER_ID", "AGE", "GENDER", "OCCUPATION", "ZIP_CODE"],
    );
    report.field(
        "USER_ID",
        1,
        AvroType::String,
        FieldRole::UserId,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "AGE",
        2,
        AvroType::Int,
        FieldRole::Numeric,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "GENDER",
        3,
        AvroType::String,
        FieldRole::Categorical,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "OCCUPATION",
        4,
        AvroType::String,
        FieldRole::Categorical,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "ZIP_CODE",
        5,
        AvroType::String,
        FieldRole::Ignored,
        FieldSource::Adapter,
        None,
    );
    let mut table = MetaTable::new(vec![
        ("AGE".into(), ColumnKind::Numeric),
        ("GENDER".into(), ColumnKind::Categorical),
        ("OCCUPATION".into(), ColumnKind::Categorical),
    ]);
    loop {
        let line = match t.next_row()? {
            Next::End => break,
            Next::Bad(e) => {
                report.rows_read += 1;
                b.reject(&mut report, e);
                continue;
            }
            Next::Row(line) => line,
        };
        report.rows_read += 1;
        let f = &t.fields;
        let get = |i: usize| f.get(i).map_or("", String::as_str);
        let err =
            |i: usize, (reason, message): (DropReason, String)| t.error(line, i, reason, message);
        let parsed = (|| -> Result<Vec<Cell>, RowError> {
            if f.len() != 5 {
                let column = f.len().min(5) + 1;
                return Err(RowError {
                    location: Location::new(
                        path,
                        line,
                        Some(column),
                        t.names.get(column - 1).map(String::as_str),
                    ),
                    reason: DropReason::WrongColumnCount,
                    message: format!("expected 5 |-separated fields, found {}", f.len()),
                });
            }
            check_id(get(0), "USER_ID").map_err(|e| err(0, e))?;
            let age = match get(1) {
                "" => Cell::Null,
                v => Cell::Number(parse_number(v).ok_or_else(|| {
                    err(1, (DropReason::BadNumber, format!("invalid AGE {v:?}")))
                })?),
            };
            let mut cells = vec![age];
            for i in [2, 3] {
                let v = get(i);
                check_categorical(v, t.names.get(i).map_or("", String::as_str))
                    .map_err(|e| err(i, e))?;
                cells.push(if v.is_empty() {
                    Cell::Null
                } else {
                    Cell::Labels(vec![v.to_owned()])
                });
            }
            Ok(cells)
        })();
        match parsed {
            Ok(cells) => {
                let idx = b.users.intern(get(0), "users")?;
                if table.contains(idx) {
                    let e = err(
                        0,
                        (
                            DropReason::DuplicateId,
                            format!(
                                "USER_ID {:?} already has a row; this one is ignored",
                                get(0)
                            ),
                        ),
                    );
                    b.reject(&mut report, e);
                    continue;
                }
                table.push(idx, cells);
                report.rows_kept += 1;
            }
            Err(e) => b.reject(&mut report, e),
        }
    }
    b.user_meta = Some(table);
    Ok(report)
}
