//! MovieLens latest (`ratings.csv`, `movies.csv`, `tags.csv`; CRLF, quoted titles, UTF-8).

use std::collections::HashMap;
use std::path::Path;

use edgerec_core::ColumnKind;

use super::builder::{Builder, Cell, MetaTable};
use super::delimited::Layout;
use super::error::{DropReason, ImportError, Location};
use super::movielens::{rating_fields, read_ratings};
use super::report::{FieldSource, FileReport, FileRole};
use super::rows::Rows;
use super::schema::AvroType;
use super::schema::FieldRole;
use super::text::{check_categorical, check_id, normalise_text, split_categorical};

/// Open a MovieLens latest CSV feeding `role` and find the (case-insensitive) columns `want`
/// in its header.
fn open_latest<'p>(
    b: &Builder<'p>,
    path: &Path,
    role: FileRole,
    want: &[&str],
) -> Result<(Rows<'p>, Vec<usize>), ImportError> {
    let mut t = Rows::open(b, path, Layout::csv(b','), role)?;
    let header = t.header()?;
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
    let (mut rows, idx) = open_latest(
        b,
        ratings,
        FileRole::Interactions,
        &["userId", "movieId", "rating", "timestamp"],
    )?;
    let cols = [idx[0], idx[1], idx[2], idx[3]];
    rating_fields(&mut rows.report, cols, "0.5-5");
    let width = rows.names().len();
    files.push(read_ratings(rows, cols, width, b)?);
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
    let (mut rows, idx) = open_latest(b, path, FileRole::Items, &["movieId", "title", "genres"])?;
    let (mi, ti, gi) = (idx[0], idx[1], idx[2]);
    movie_fields(&mut rows.report, mi, ti, gi);
    rows.each(b, |row, b| {
        check_id(row.get(mi), "movieId").map_err(|e| row.err(mi, e))?;
        let mut labels = Vec::new();
        for g in split_categorical(row.get(gi)).filter(|g| *g != "(no genres listed)") {
            check_categorical(g, "genres").map_err(|e| row.err(gi, e))?;
            labels.push(g.to_owned());
        }
        let (title, _) = normalise_text(row.get(ti));
        let idx = b.items.intern(row.get(mi), "items")?;
        if table.contains(idx) {
            return Err(row.duplicate(mi, "movieId").into());
        }
        table.push(idx, vec![Cell::text(title), Cell::labels(labels)]);
        Ok(())
    })?;
    Ok(rows.finish())
}

fn movie_fields(report: &mut FileReport, mi: usize, ti: usize, gi: usize) {
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
}

fn read_tags(
    path: &Path,
    table: &mut MetaTable,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let (mut rows, idx) = open_latest(b, path, FileRole::Tags, &["movieId", "tag"])?;
    let (mi, gi) = (idx[0], idx[1]);
    rows.report.field(
        "ITEM_ID",
        mi + 1,
        AvroType::String,
        FieldRole::ItemId,
        FieldSource::Adapter,
        Some("movieId".into()),
    );
    rows.report.field(
        "TAGS",
        gi + 1,
        AvroType::String,
        FieldRole::Textual,
        FieldSource::Adapter,
        Some("distinct tags per movie, joined with \", \"".into()),
    );
    let mut per_item: Vec<(u32, Vec<String>)> = Vec::new();
    let mut pos: HashMap<u32, usize> = HashMap::new();
    rows.each(b, |row, b| {
        check_id(row.get(mi), "movieId").map_err(|e| row.err(mi, e))?;
        let (tag, _) = normalise_text(row.get(gi));
        if tag.is_empty() {
            return Err(row
                .error(gi, DropReason::MissingField, "tag is empty".into())
                .into());
        }
        let idx = b.items.intern(row.get(mi), "items")?;
        let p = *pos.entry(idx).or_insert_with(|| {
            per_item.push((idx, Vec::new()));
            per_item.len() - 1
        });
        let tags = &mut per_item[p].1;
        if !tags.iter().any(|x| x.to_lowercase() == tag.to_lowercase()) {
            tags.push(tag);
        }
        Ok(())
    })?;
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
    Ok(rows.finish())
}
