//! MovieLens adapters: 100K (`u.data` + `u.item` + `u.user`) here, latest (`ratings.csv` +
//! `movies.csv` + `tags.csv`) in `movielens_latest`. Ratings become interactions with event
//! type `rating` and the rating as `EVENT_VALUE`.

use std::path::Path;

use edgerec_core::ColumnKind;

use super::builder::{Builder, Cell, Event, MetaTable};
use super::delimited::Layout;
use super::error::{DropReason, ImportError};
use super::personalize::Conversions;
use super::report::{FieldSource, FileReport, FileRole};
use super::rows::Rows;
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

/// Read the rows of a ratings file: `cols` = 0-based (user, item, rating, timestamp).
pub(crate) fn read_ratings(
    mut rows: Rows<'_>,
    cols: [usize; 4],
    width: usize,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let [ui, ii, vi, ti] = cols;
    let mut conv = Conversions::default();
    rows.each(b, |row, b| {
        row.check_width(width, "fields")?;
        check_id(row.get(ui), "USER_ID").map_err(|e| row.err(ui, e))?;
        check_id(row.get(ii), "ITEM_ID").map_err(|e| row.err(ii, e))?;
        let value = match row.get(vi).parse::<f32>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                let rating = row.required(vi, "rating")?;
                let message = format!("invalid rating {rating:?}: expected a number");
                return Err(row.error(vi, DropReason::BadNumber, message).into());
            }
        };
        let ts = row.required(ti, "TIMESTAMP")?;
        let epoch = parse_epoch(ts).map_err(|m| row.error(ti, DropReason::BadTimestamp, m))?;
        if epoch.from_millis {
            conv.millis_at(|| row.at(ti));
        }
        if !b.passes_threshold(value) {
            return Err(row.below_threshold(vi, b).into());
        }
        b.push(&Event {
            user: row.get(ui),
            item: row.get(ii),
            timestamp: epoch.seconds,
            event_type: RATING_EVENT,
            value,
            ..Event::default()
        })?;
        Ok(())
    })?;
    conv.warn(rows.path(), &mut b.warnings);
    Ok(rows.finish())
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
    let mut rows = Rows::open(
        b,
        ratings,
        Layout {
            delimiter: b'\t',
            quoting: false,
            backslash_escape: false,
            latin1: false,
        },
        FileRole::Interactions,
    )?;
    rows.set_names(&["USER_ID", "ITEM_ID", "EVENT_VALUE", "TIMESTAMP"]);
    rating_fields(&mut rows.report, [0, 1, 2, 3], "1-5");
    files.push(read_ratings(rows, [0, 1, 2, 3], 4, b)?);
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
    let mut rows = Rows::open(b, path, ML100K, FileRole::Items)?;
    let mut cols: Vec<&str> = vec![
        "ITEM_ID",
        "TITLE",
        "CREATION_TIMESTAMP",
        "VIDEO_RELEASE_DATE",
        "IMDB_URL",
    ];
    cols.extend(genres.iter().map(String::as_str));
    rows.set_names(&cols);
    item_fields(&mut rows.report, genres.len(), width);
    let mut table = MetaTable::new(vec![
        ("TITLE".into(), ColumnKind::Textual),
        ("GENRES".into(), ColumnKind::Categorical),
    ]);
    let mut undated = 0usize;
    rows.each(b, |row, b| {
        row.check_width(width, "|-separated fields")?;
        check_id(row.get(0), "ITEM_ID").map_err(|e| row.err(0, e))?;
        let mut labels = Vec::new();
        for (g, name) in genres.iter().enumerate() {
            match row.get(5 + g) {
                "1" => labels.push(name.clone()),
                "0" | "" => {}
                other => {
                    let message = format!("genre flag {other:?} for {name}: expected 0 or 1");
                    return Err(row.error(5 + g, DropReason::BadBoolean, message).into());
                }
            }
        }
        let idx = b.items.intern(row.get(0), "items")?;
        if table.contains(idx) {
            return Err(row.duplicate(0, "ITEM_ID").into());
        }
        let (title, _) = normalise_text(row.get(1));
        table.push(idx, vec![Cell::text(title), Cell::labels(labels)]);
        match parse_pattern(row.get(2), "%d-%b-%Y") {
            Some(ts) => {
                b.item_creation.insert(idx, ts);
            }
            None => undated += 1,
        }
        Ok(())
    })?;
    if undated > 0 {
        b.warnings.push(format!(
            "{}: {undated} movie(s) have no parseable release date (CREATION_TIMESTAMP left empty)",
            path.display()
        ));
    }
    b.item_meta = Some(table);
    Ok(rows.finish())
}

fn item_fields(report: &mut FileReport, genres: usize, width: usize) {
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
            "multi-valued, from the {genres} genre flags in columns 6-{width}"
        )),
    );
}

fn read_100k_users(path: &Path, b: &mut Builder) -> Result<FileReport, ImportError> {
    let mut rows = Rows::open(b, path, ML100K, FileRole::Users)?;
    rows.set_names(&["USER_ID", "AGE", "GENDER", "OCCUPATION", "ZIP_CODE"]);
    user_fields(&mut rows.report);
    let mut table = MetaTable::new(vec![
        ("AGE".into(), ColumnKind::Numeric),
        ("GENDER".into(), ColumnKind::Categorical),
        ("OCCUPATION".into(), ColumnKind::Categorical),
    ]);
    rows.each(b, |row, b| {
        row.check_width(5, "|-separated fields")?;
        check_id(row.get(0), "USER_ID").map_err(|e| row.err(0, e))?;
        let age = match row.get(1) {
            "" => Cell::Null,
            v => Cell::Number(parse_number(v).ok_or_else(|| {
                row.error(1, DropReason::BadNumber, format!("invalid AGE {v:?}"))
            })?),
        };
        let mut cells = vec![age];
        for i in [2, 3] {
            let v = row.get(i);
            check_categorical(v, row.name(i)).map_err(|e| row.err(i, e))?;
            cells.push(if v.is_empty() {
                Cell::Null
            } else {
                Cell::Labels(vec![v.to_owned()])
            });
        }
        let idx = b.users.intern(row.get(0), "users")?;
        if table.contains(idx) {
            return Err(row.duplicate(0, "USER_ID").into());
        }
        table.push(idx, cells);
        Ok(())
    })?;
    b.user_meta = Some(table);
    Ok(rows.finish())
}

fn user_fields(report: &mut FileReport) {
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
}
