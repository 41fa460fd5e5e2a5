//! `edgerec segment`: Personalize's batch segment jobs (`item-affinity` and
//! `item-attribute-affinity`) over JSON lines.
//!
//! Input lines: `{"itemId": "105"}` (users most likely to interact with the item) or
//! `{"itemAttributes": "ITEMS.GENRES = \"Comedy\" AND ITEMS.YEAR = \"1995\""}` (users with the
//! highest affinity to the items matching the query: `ITEMS.<column> = "<value>"` terms joined
//! by `AND` / `OR`, `AND` binding tighter). Output lines:
//! `{"input": {...}, "output": {"recommendedUsers": [...]}, "error": null}`. A bad line gets an
//! output line with its error; the job goes on.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use edgerec_core::{Catalog, Engine};
use serde::Deserialize;
use serde_json::{Value, json};

use super::model_file::load_engine;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  printf '{\"itemId\": \"50\"}\\n{\"itemAttributes\": \"ITEMS.GENRES = \\\\\"Comedy\\\\\"\"}\\n' > in.jsonl
  edgerec segment --model ml100k.erm --recommender user-personalization --input in.jsonl --output users.jsonl")]
pub struct SegmentArgs {
    #[arg(long)]
    model: PathBuf,
    /// A user-personalization recommender of the model.
    #[arg(long)]
    recommender: String,
    /// JSON-lines input.
    #[arg(long)]
    input: PathBuf,
    /// JSON-lines output.
    #[arg(long)]
    output: PathBuf,
    /// Users per line (Personalize's default 25; at most 5,000,000).
    #[arg(long, default_value_t = 25)]
    num_results: usize,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InputLine {
    item_id: Option<String>,
    item_attributes: Option<String>,
}

pub fn run(args: &SegmentArgs, bars: &super::progress::Bars) -> Result<ExitCode> {
    let engine = load_engine(&args.model)?;
    super::jsonl::run("segment", &args.input, &args.output, bars, |line| {
        one_line(&engine, args, line)
            .map(|(input, users)| (input, json!({ "recommendedUsers": users })))
    })
}

fn one_line(
    engine: &Engine,
    args: &SegmentArgs,
    line: &str,
) -> Result<(Value, Vec<String>), (Value, String)> {
    let raw: Value =
        serde_json::from_str(line).map_err(|e| (Value::Null, format!("invalid JSON: {e}")))?;
    let parsed: InputLine = serde_json::from_value(raw.clone())
        .map_err(|e| (raw.clone(), format!("invalid input: {e}")))?;
    let items = match (&parsed.item_id, &parsed.item_attributes) {
        (Some(id), None) => vec![
            engine
                .item_index(id)
                .ok_or_else(|| (raw.clone(), format!("itemId {id:?} is not in the model")))?,
        ],
        (None, Some(query)) => {
            let items = matching_items(&engine.model().catalog, query)
                .map_err(|e| (raw.clone(), format!("itemAttributes: {e}")))?;
            if items.is_empty() {
                return Err((raw, format!("itemAttributes: no item matches {query:?}")));
            }
            items
        }
        _ => {
            return Err((
                raw,
                "expected exactly one of itemId and itemAttributes".to_owned(),
            ));
        }
    };
    let users = engine
        .users_for_items(&args.recommender, &items, args.num_results.min(5_000_000))
        .map_err(|e| (raw.clone(), e.to_string()))?;
    Ok((raw, users.into_iter().map(|u| u.user_id).collect()))
}

/// Catalogue rows matching an attribute query: `ITEMS.<column> = "<value>"` terms joined by
/// `AND` / `OR` (`AND` binds tighter). A multi-valued column matches when any value is equal.
pub fn matching_items(catalog: &Catalog, query: &str) -> Result<Vec<u32>, String> {
    let groups: Vec<Vec<(String, String)>> = split_keyword(query, "OR")
        .iter()
        .map(|g| split_keyword(g, "AND").iter().map(|t| term(t)).collect())
        .collect::<Result<_, _>>()?;
    let mut columns = Vec::new();
    for (name, _) in groups.iter().flatten() {
        if catalog.column(name).is_none() {
            let known: Vec<&str> = catalog.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "unknown item column {name:?} (the model has: {})",
                known.join(", ")
            ));
        }
        columns.push(name.clone());
    }
    let holds = |row: usize, (name, value): &(String, String)| {
        catalog.column(name).is_some_and(|c| {
            c.categorical_values(row).any(|v| v == value)
                || c.display_value(row).is_some_and(|v| &v == value)
        })
    };
    Ok((0..catalog.len())
        .filter(|&row| groups.iter().any(|g| g.iter().all(|t| holds(row, t))))
        .filter_map(|row| u32::try_from(row).ok())
        .collect())
}

/// Splits on a keyword surrounded by whitespace, case-insensitive, outside double quotes.
fn split_keyword(s: &str, keyword: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let words: Vec<&str> = s.split_inclusive(char::is_whitespace).collect();
    for w in words {
        if !quoted && w.trim().eq_ignore_ascii_case(keyword) {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        quoted ^= w.matches('"').count() % 2 == 1;
        current.push_str(w);
    }
    parts.push(current);
    parts
}

/// `ITEMS.<column> = "<value>"` → (column, value).
fn term(t: &str) -> Result<(String, String), String> {
    let (lhs, rhs) = t.split_once('=').ok_or_else(|| {
        format!(
            "expected ITEMS.<column> = \"<value>\", found {:?}",
            t.trim()
        )
    })?;
    let lhs = lhs.trim();
    let column = lhs
        .split_once('.')
        .filter(|(d, _)| d.eq_ignore_ascii_case("items"))
        .map(|(_, c)| c.trim())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| format!("expected ITEMS.<column> before '=', found {lhs:?}"))?;
    let value = rhs
        .trim()
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(|| {
            format!(
                "expected a double-quoted value after '=', found {:?}",
                rhs.trim()
            )
        })?;
    Ok((column.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgerec_core::{Column, ColumnKind, ColumnValues};

    fn catalog() -> Catalog {
        Catalog {
            item_ids: ["a", "b", "c"].into(),
            columns: vec![
                Column {
                    name: "GENRES".into(),
                    kind: ColumnKind::Categorical,
                    values: ColumnValues::Categorical {
                        dictionary: vec!["Comedy".into(), "Drama".into(), "Sci Fi".into()],
                        offsets: vec![0, 2, 3, 4],
                        codes: vec![0, 1, 1, 2],
                    },
                },
                Column {
                    name: "YEAR".into(),
                    kind: ColumnKind::Numeric,
                    values: ColumnValues::Numeric(vec![1995.0, 1995.0, 2001.0]),
                },
            ],
            ..Catalog::default()
        }
    }

    #[test]
    fn attribute_queries_match_with_and_binding_tighter() {
        let c = catalog();
        assert_eq!(
            matching_items(&c, r#"ITEMS.GENRES = "Drama""#),
            Ok(vec![0, 1])
        );
        assert_eq!(
            matching_items(&c, r#"ITEMS.GENRES = "Drama" AND items.year = "1995""#),
            Ok(vec![0, 1])
        );
        assert_eq!(
            matching_items(
                &c,
                r#"ITEMS.GENRES = "Comedy" and ITEMS.YEAR = "1995" OR ITEMS.GENRES = "Sci Fi""#
            ),
            Ok(vec![0, 2])
        );
        assert_eq!(
            matching_items(&c, r#"ITEMS.GENRES = "Sci Fi AND Drama""#),
            Ok(vec![]),
            "AND inside quotes is part of the value"
        );
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        let c = catalog();
        let e = matching_items(&c, r#"ITEMS.COLOUR = "red""#).unwrap_err();
        assert!(e.contains("COLOUR") && e.contains("GENRES"), "{e}");
        let e = matching_items(&c, "ITEMS.GENRES = Comedy").unwrap_err();
        assert!(e.contains("double-quoted"), "{e}");
        let e = matching_items(&c, r#"USERS.AGE = "3""#).unwrap_err();
        assert!(e.contains("ITEMS.<column>"), "{e}");
    }
}
