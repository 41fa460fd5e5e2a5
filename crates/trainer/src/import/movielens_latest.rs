//! MovieLens latest (`ratings.csv`, `movies.csv`, `tags.csv`; CRLF, quoted titles, UTF-8).

use std::collections::HashMap;
use std::path::Path;

use edgerec_core::ColumnKind;

use super::builder::{Builder, Cell, MetaTable};
use super::delimited::{Layout, Next, Table};
use super::error::{DropReason, ImportError, Location, RowError};
use super::movielens::{rating_fields, read_ratings};
use super::report::{FieldSource, FileReport, FileRole};
use super::schema::AvroType;
use super::schema::FieldRole;
use super::text::{check_categorical, check_id, normalise_text, split_categorical};

/// Open a MovieLens latest CSV and find the (case-insensitive) columns `want` in its header.
fn open_latest<'p>(
    b: &Builder<'p>,
    path: &Path,
    want: &[&str],
) -> Result<(Table<'p>, Vec<usize>), ImportError> {
    let mut t = b.open(path, Layout::csv(b','))?;
    let header = t.read_header()?;
    let mut idx = Vec::with_capacity(want.len());
    for w in want {
        let up = w.to_ascii_uppercase();
        match header.iter().position(|h| *h == up) {
            Some(i) => idx.push(i),
            None => {
                return Err(ImportError::header(
                    Location::new(path, 1, None, None),
                    format!(
                        "missing column {w} (expected a MovieLens header with {}; found {})",
                        want.join(","),
                        header.join(",")
                    ),
                ));
            }
        }
    }
    Ok((t, idx))
}

/// Read MovieLens latest: `ratings.csv`, optional `movies.csv` and `tags.csv`.
pub(crate) fn read_latest(
    ratings: &Path,
    movies: Option<&Path>,
    tags: Option<&Path>,
    b: &mut Builder,
) -> Result<Vec<FileReport>, ImportError> {
    let mut files = Vec::new();
    let (mut t, idx) = open_latest(b, ratings, &["userId", "movieId", "rating", "timestamp"])?;
    let cols = [idx[0], idx[1], idx[2], idx[3]];
    let mut report = FileReport::new(ratings, FileRole::Interactions);
    rating_fields(&mut report, cols, "0.5-5");
    let width = t.names.len();
    read_ratings(&mut t, cols, width, b, &mut report)?;
    files.push(report);
    let mut table = MetaTable::new(vec![
        ("TITLE".into(), ColumnKind::Textual),
        ("GENRES".into(), ColumnKind::Categorical),
    ]);
    if let Some(p) = movies {
        files.push(read_movies(p, &mut table, b)?);
    }
    if let Some(p) = tags {
        files.push(read_tags(p, &mut table, b)?);
    }
    if movies.is_some() || tags.is_some() {
        b.item_meta = Some(table);
    }
    Ok(files)
}

fn read_movies(
    path: &Path,
    table: &mut MetaTable,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let (mut t, idx) = open_latest(b, path, &["movieId", "title", "genres"])?;
    let (mi, ti, gi) = (idx[0], idx[1], idx[2]);
    let mut report = FileReport::new(path, FileRole::Items);
    report.field(
        "ITEM_ID",
        mi + 1,
        AvroType::String,
        FieldRole::ItemId,
        FieldSource::Adapter,
        Some("movieId".into()),
    );
    report.field(
        "TITLE",
        ti + 1,
        AvroType::String,
        FieldRole::Textual,
        FieldSource::Adapter,
        None,
    );
    report.field(
        "GENRES",
        gi + 1,
        AvroType::String,
        FieldRole::Categorical,
        FieldSource::Adapter,
        Some("multi-valued; \"(no genres listed)\" = none".into()),
    );
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
            check_id(get(mi), "movieId").map_err(|e| err(mi, e))?;
            let mut labels = Vec::new();
            for g in split_categorical(get(gi)).filter(|g| *g != "(no genres listed)") {
                check_categorical(g, "genres").map_err(|e| err(gi, e))?;
                labels.push(g.to_owned());
            }
            let (title, _) = normalise_text(get(ti));
            Ok(vec![
                if title.is_empty() {
                    Cell::Null
                } else {
                    Cell::Text(title)
                },
                if labels.is_empty() {
                    Cell::Null
                } else {
                    Cell::Labels(labels)
                },
            ])
        })();
        match parsed {
            Ok(cells) => {
                let idx = b.items.intern(get(mi), "items")?;
                if table.contains(idx) {
                    let e = err(
                        mi,
                        (
                            DropReason::DuplicateId,
                            format!(
                                "movieId {:?} already has a row; this one is ignored",
                                get(mi)
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
    Ok(report)
}

fn read_tags(
    path: &Path,
    table: &mut MetaTable,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let (mut t, idx) = open_latest(b, path, &["movieId", "tag"])?;
    let (mi, gi) = (idx[0], idx[1]);
    let mut report = FileReport::new(path, FileRole::Tags);
    report.field(
        "ITEM_ID",
        mi + 1,
        AvroType::String,
        FieldRole::ItemId,
        FieldSource::Adapter,
        Some("movieId".into()),
    );
    report.field(
        "TAGS",
        gi + 1,
        AvroType::String,
        FieldRole::Textual,
        FieldSource::Adapter,
        Some("distinct tags per movie, joined with \", \"".into()),
    );
    let mut per_item: Vec<(u32, Vec<String>)> = Vec::new();
    let mut pos: HashMap<u32, usize> = HashMap::new();
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
        if let Err(e) = check_id(get(mi), "movieId") {
            let e = t.error(line, mi, e.0, e.1);
            b.reject(&mut report, e);
            continue;
        }
        let (tag, _) = normalise_text(get(gi));
        if tag.is_empty() {
            let e = t.error(line, gi, DropReason::MissingField, "tag is empty".into());
            b.reject(&mut report, e);
            continue;
        }
        let idx = b.items.intern(get(mi), "items")?;
        let p = *pos.entry(idx).or_insert_with(|| {
            per_item.push((idx, Vec::new()));
            per_item.len() - 1
        });
        let tags = &mut per_item[p].1;
        if !tags.iter().any(|x| x.to_lowercase() == tag.to_lowercase()) {
            tags.push(tag);
        }
        report.rows_kept += 1;
    }
    let col = table.add_column("TAGS", ColumnKind::Textual);
    let mut truncated = 0usize;
    for (idx, tags) in per_item {
        let (text, cut) = normalise_text(&tags.join(", "));
        truncated += usize::from(cut);
        table.set(idx, col, Cell::Text(text));
    }
    if truncated > 0 {
        b.warnings.push(format!(
            "{}: the tags of {truncated} movie(s) exceed 20,000 characters and were truncated",
            path.display()
        ));
    }
    Ok(report)
}
