//! What the filter fuzz target does with one input, shared by `fuzz/fuzz_targets/filter_parse.rs`
//! and the regression test that replays its corpus.
//!
//! Input format: the text up to the first newline is the filter expression; the rest, if any, is
//! used as the value of every parameter the filter names.

use std::collections::BTreeMap;

use edgerec_core::filter::{CompiledFilter, FilterInput, InteractionRef, parse, parse_value_list};
use edgerec_core::{Catalog, Column, ColumnKind, ColumnValues, Histories, UserTable};

pub fn catalog() -> (Catalog, UserTable, Histories) {
    let cat = |name: &str, kind, dictionary: &[&str], offsets: Vec<u32>, codes: Vec<u32>| Column {
        name: name.into(),
        kind,
        values: ColumnValues::Categorical {
            dictionary: dictionary.iter().map(|s| (*s).to_string()).collect(),
            offsets,
            codes,
        },
    };
    let catalog = Catalog {
        item_ids: ["i0", "i1", "i2"].into(),
        columns: vec![
            cat(
                "G",
                ColumnKind::Categorical,
                &["a", "b"],
                vec![0, 2, 2, 3],
                vec![0, 1, 1],
            ),
            cat(
                "B",
                ColumnKind::Boolean,
                &["true", "false"],
                vec![0, 1, 2, 3],
                vec![0, 1, 0],
            ),
            Column {
                name: "P".into(),
                kind: ColumnKind::Numeric,
                values: ColumnValues::Numeric(vec![1.0, f64::NAN, 3.0]),
            },
            Column {
                name: "TXT".into(),
                kind: ColumnKind::Textual,
                values: ColumnValues::Textual(vec![String::new(); 3]),
            },
        ],
        creation_time: vec![1, 2, 3].into(),
        event_types: vec!["click".into()],
        context_columns: vec![],
    };
    let users = UserTable {
        user_ids: ["u0", "u1"].into(),
        columns: vec![
            Column {
                name: "AGE".into(),
                kind: ColumnKind::Numeric,
                values: ColumnValues::Numeric(vec![20.0, f64::NAN]),
            },
            cat("T", ColumnKind::Categorical, &["g"], vec![0, 1, 1], vec![0]),
        ],
    };
    let histories = Histories {
        offsets: vec![0, 1, 1],
        items: vec![2],
        event_types: vec![0],
        timestamps: vec![0].into(),
        ..Histories::default()
    };
    (catalog, users, histories)
}

/// Everything the fuzz target does with one input.
pub fn exercise(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expr, value) = text.split_once('\n').unwrap_or((text, "\"a\",\"b\""));
    let _ = parse_value_list(value);
    let Ok(parsed) = parse(expr) else { return };
    assert!(
        parse(&parsed.to_string()).is_ok(),
        "canonical form must parse: {parsed}"
    );
    let (catalog, users, histories) = catalog();
    let Ok(f) = CompiledFilter::compile(expr, &catalog, &users) else {
        return;
    };
    let values: BTreeMap<String, String> = f
        .parameters()
        .iter()
        .map(|p| (p.clone(), value.to_string()))
        .collect();
    let interactions = [
        InteractionRef {
            item: 0,
            event_type: "CLICK",
        },
        InteractionRef {
            item: 2,
            event_type: "view",
        },
    ];
    for (item, user) in [
        (None, None),
        (Some(0), Some(0)),
        (Some(1), Some(1)),
        (Some(9), Some(9)),
    ] {
        let input = FilterInput {
            filter_values: &values,
            current_item: item,
            current_user: user,
            interactions: &interactions,
        };
        let _ = f.evaluate_items(&catalog, &users, &input);
        let _ = f.evaluate_users(&catalog, &users, &histories, &input);
    }
}
