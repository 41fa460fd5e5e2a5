//! Replays the parser fuzz corpus of past crashers and tricky inputs
//! (`tests/fuzz-regressions/filter_parse/`): no input may panic.
//!
//! Input format (shared with the fuzz target): the text up to the first newline is the filter
//! expression; the rest, if any, is used as the value of every parameter the filter names.

#![allow(clippy::unwrap_used)]

mod filter_exercise;

use filter_exercise::exercise;

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
