//! Replays the parser fuzz corpus of past crashers and tricky inputs
//! (`tests/fuzz-regressions/filter_parse/`): no input may panic.
//!
//! Input format (shared with the fuzz target): the text up to the first newline is the filter
//! expression; the rest, if any, is used as the value of every parameter the filter names.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use edgerec_core::filter::{CompiledFilter, FilterInput, InteractionRef, parse, parse_value_list};
use edgerec_core::{Catalog, Column, ColumnKind, ColumnValues, Histories, UserTable};

fn catalog() -> (Catalog, UserTable, Histories) {
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
        item_ids: vec!["i0".into(), "i1".into(), "i2".into()],
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
        creation_time: vec![1, 2, 3],
        event_types: vec!["click".into()],
        context_columns: vec![],
    };
    let users = UserTable {
        user_ids: vec!["u0".into(), "u1".into()],
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
        timestamps: vec![0],
    };
    (catalog, users, histories)
}

/// Everything the fuzz target does with one input.
fn exercise(data: &[u8]) {
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

#[test]
fn replay_filter_parse_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions/filter_parse");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            exercise(&std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn byte_soup_does_not_panic() {
    // A cheap in-tree stand-in for the fuzzer: every prefix of a rich expression, plus mutations.
    let base = "INCLUDE ItemID WHERE Items.G IN (\"a\", $G) AND Items.P <= CurrentItem.P OR Items.B NOT IN (\"TRUE\") IF CurrentUser.AGE > $A AND CurrentUser.T IN ($G) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (*, \"click\", $E)\n\"a\",\"1\"";
    let bytes = base.as_bytes();
    for end in 0..=bytes.len() {
        exercise(&bytes[..end]);
    }
    let noise = [
        b'"', b'$', b'(', b')', b',', b'|', b'\\', b'\n', b'<', b'=', b'!', b'-', b'*', b'.', b' ',
        b'9',
    ];
    for (i, _) in bytes.iter().enumerate() {
        for &x in &noise {
            let mut m = bytes.to_vec();
            m[i] = x;
            exercise(&m);
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    /// Random sentences over the language's own vocabulary reach the compiler and evaluator
    /// far more often than random bytes do.
    #[test]
    fn token_soup_does_not_panic(picks in proptest::collection::vec(0usize..40, 0..40), value in 0usize..6) {
        const WORDS: [&str; 40] = [
            "INCLUDE", "EXCLUDE", "ItemID", "UserID", "WHERE", "Items.G", "Items.P", "Items.B", "Items.TXT",
            "Items.CREATION_TIMESTAMP", "Users.AGE", "Users.T", "CurrentItem.G", "CurrentItem.P", "CurrentUser.AGE",
            "CurrentUser.T", "Interactions.EVENT_TYPE", "IN", "NOT", "(", ")", ",", "\"a\"", "\"TRUE\"", "$G", "$A",
            "*", "\"*\"", "<", "<=", "=", "!=", ">", "5", "-1.5", "AND", "OR", "IF", "|", "Items.X",
        ];
        const VALUES: [&str; 6] = ["\"a\",\"b\"", "3", "\"*\"", "1,2", "\"a", "click"];
        let text: Vec<&str> = picks.iter().map(|&i| WORDS[i]).collect();
        let input = format!("{}\n{}", text.join(" "), VALUES[value]);
        exercise(input.as_bytes());
        // Also the well-formed prefix shapes the grammar expects most.
        exercise(format!("INCLUDE ItemID WHERE {}\n{}", text.join(" "), VALUES[value]).as_bytes());
    }
}
