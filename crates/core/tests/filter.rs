//! Filter expressions on a small hand-made catalogue: every documented example, with the
//! expected item (or user) sets worked out by hand, and the documented error cases.

#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use std::collections::BTreeMap;

use edgerec_core::filter::{
    CompiledFilter, FilterCache, FilterInput, FilterTarget, InteractionRef, parse,
    validate_filter_values,
};
use edgerec_core::{Catalog, Column, ColumnKind, ColumnValues, FilterError, Histories, UserTable};

fn cat(name: &str, rows: &[&str]) -> Column {
    let mut dictionary: Vec<String> = Vec::new();
    let mut offsets = vec![0u32];
    let mut codes = Vec::new();
    for row in rows {
        for v in row.split('|').filter(|v| !v.is_empty()) {
            let code = dictionary.iter().position(|d| d == v).unwrap_or_else(|| {
                dictionary.push(v.to_string());
                dictionary.len() - 1
            });
            codes.push(u32::try_from(code).unwrap());
        }
        offsets.push(u32::try_from(codes.len()).unwrap());
    }
    Column {
        name: name.into(),
        kind: ColumnKind::Categorical,
        values: ColumnValues::Categorical {
            dictionary,
            offsets,
            codes,
        },
    }
}

fn num(name: &str, rows: &[f64]) -> Column {
    Column {
        name: name.into(),
        kind: ColumnKind::Numeric,
        values: ColumnValues::Numeric(rows.to_vec()),
    }
}

/// Items 0..8:
/// ```text
/// i  CATEGORY  DESCRIPTION L1       L2       GENRE          PRICE OWNER    AVAILABLE created
/// 0  shoe      boot        shoe     boot     horror         10    in-house True      100
/// 1  shoe      sneaker     shoe     sneaker  comedy         20    partner  False     200
/// 2  watch     luxury      watch    luxury   horror|comedy  500   in-house True      300
/// 3  watch     basic       watch    basic    drama          50    partner  True      400
/// 4  clothing  luxury      clothing shirt    comedy|drama   80    in-house True      500
/// 5  clothing  basic       clothing pants    -              null  partner  False     600
/// 6  shoe      -           shoe     -        horror         30    in-house True      700
/// 7  clothing  basic       clothing shirt    drama          15    in-house False     800
/// ```
fn catalog() -> Catalog {
    let category = [
        "shoe", "shoe", "watch", "watch", "clothing", "clothing", "shoe", "clothing",
    ];
    Catalog {
        item_ids: (0..8).map(|i| format!("i{i}")).collect(),
        columns: vec![
            cat("CATEGORY", &category),
            cat(
                "DESCRIPTION",
                &[
                    "boot", "sneaker", "luxury", "basic", "luxury", "basic", "", "basic",
                ],
            ),
            cat("CATEGORY_L1", &category),
            cat(
                "CATEGORY_L2",
                &[
                    "boot", "sneaker", "luxury", "basic", "shirt", "pants", "", "shirt",
                ],
            ),
            cat(
                "GENRE",
                &[
                    "horror",
                    "comedy",
                    "horror|comedy",
                    "drama",
                    "comedy|drama",
                    "",
                    "horror",
                    "drama",
                ],
            ),
            num(
                "PRICE",
                &[10.0, 20.0, 500.0, 50.0, 80.0, f64::NAN, 30.0, 15.0],
            ),
            cat(
                "OWNER",
                &[
                    "in-house", "partner", "in-house", "partner", "in-house", "partner",
                    "in-house", "in-house",
                ],
            ),
            cat(
                "AVAILABLE",
                &[
                    "True", "False", "True", "True", "True", "False", "True", "False",
                ],
            ),
            Column {
                name: "SUMMARY".into(),
                kind: ColumnKind::Textual,
                values: ColumnValues::Textual(vec![String::new(); 8]),
            },
        ],
        creation_time: vec![100, 200, 300, 400, 500, 600, 700, 800].into(),
        event_types: vec![
            "click".into(),
            "stream".into(),
            "favorite".into(),
            "rating".into(),
        ],
        context_columns: vec![],
    }
}

/// Users: u0 AGE 30 gold, u1 AGE 16 silver, u2 AGE null gold|platinum, u3 AGE 45 (no status).
fn users() -> UserTable {
    UserTable {
        user_ids: (0..4).map(|u| format!("u{u}")).collect(),
        columns: vec![
            num("AGE", &[30.0, 16.0, f64::NAN, 45.0]),
            cat(
                "MEMBERSHIP_STATUS",
                &["gold", "silver", "gold|platinum", ""],
            ),
        ],
    }
}

/// Model histories: u0 click i0, stream i2; u1 rating i1; u2 nothing; u3 click i3, favorite i4.
fn histories() -> Histories {
    Histories {
        offsets: vec![0, 2, 3, 3, 5],
        items: vec![0, 2, 1, 3, 4],
        event_types: vec![0, 1, 3, 0, 2],
        timestamps: vec![1, 2, 3, 4, 5].into(),
        ..Histories::default()
    }
}

/// The actor's interactions (newest first): stream i2, click i0, favorite i4, CLICK i7.
const SESSION: [InteractionRef<'static>; 4] = [
    InteractionRef {
        item: 2,
        event_type: "stream",
    },
    InteractionRef {
        item: 0,
        event_type: "click",
    },
    InteractionRef {
        item: 4,
        event_type: "favorite",
    },
    InteractionRef {
        item: 7,
        event_type: "CLICK",
    },
];

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

struct Req {
    values: BTreeMap<String, String>,
    item: Option<u32>,
    user: Option<u32>,
}

fn req(pairs: &[(&str, &str)]) -> Req {
    Req {
        values: values(pairs),
        item: None,
        user: Some(0),
    }
}

fn items(expr: &str, r: &Req) -> Result<Vec<usize>, FilterError> {
    let (c, u) = (catalog(), users());
    let f = CompiledFilter::compile(expr, &c, &u)?;
    assert_eq!(f.target(), FilterTarget::Items);
    let input = FilterInput {
        filter_values: &r.values,
        current_item: r.item,
        current_user: r.user,
        interactions: &SESSION,
    };
    Ok(f.evaluate_items(&c, &u, &input)?.iter().collect())
}

fn user_set(expr: &str, r: &Req) -> Result<Vec<usize>, FilterError> {
    let (c, u) = (catalog(), users());
    let f = CompiledFilter::compile(expr, &c, &u)?;
    assert_eq!(f.target(), FilterTarget::Users);
    Ok(
        f.evaluate_users(&c, &u, &histories(), &FilterInput::new(&r.values))?
            .iter()
            .collect(),
    )
}

const ALL: [usize; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

#[test]
fn documented_interaction_examples() {
    let e = r"EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)";
    assert_eq!(
        items(e, &req(&[("EVENT_TYPE", "\"click\"")])).unwrap(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        items(e, &req(&[])).unwrap(),
        ALL,
        "EXCLUDE without its parameter is skipped"
    );
    assert_eq!(
        items(e, &req(&[("EVENT_TYPE", "\"*\"")])).unwrap(),
        [1, 3, 5, 6]
    );

    let e = r#"EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [1, 3, 4, 5, 6]);

    let e = r#"INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [0, 7]);

    let e = r#"INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [0, 2, 4, 7]);
}

#[test]
fn documented_item_examples() {
    let e = r"EXCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY)";
    assert_eq!(
        items(e, &req(&[("CATEGORY", "\"shoe\"")])).unwrap(),
        [2, 3, 4, 5, 7]
    );
    assert_eq!(items(e, &req(&[])).unwrap(), ALL);

    let e =
        r#"EXCLUDE ItemID WHERE Items.CATEGORY IN ("shoe") AND Items.DESCRIPTION NOT IN ("boot")"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [0, 2, 3, 4, 5, 7]);

    let e = r#"EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("shoe") AND Items.CATEGORY_L2 NOT IN ("boot")"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [0, 2, 3, 4, 5, 7]);

    let e = r"INCLUDE ItemID WHERE Items.PRICE <= $PRICE";
    assert_eq!(
        items(e, &req(&[("PRICE", "\"50\"")])).unwrap(),
        [0, 1, 3, 6, 7]
    );
    assert_eq!(items(e, &req(&[("PRICE", "50")])).unwrap(), [0, 1, 3, 6, 7]);
    assert_eq!(
        items(e, &req(&[])).unwrap_err(),
        FilterError::MissingParameter("PRICE".into())
    );
    let err = items(e, &req(&[("PRICE", "\"cheap\"")])).unwrap_err();
    assert!(err.to_string().contains("filterValues.PRICE"), "{err}");

    let e = r"INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP < $DATE";
    assert_eq!(items(e, &req(&[("DATE", "400")])).unwrap(), [0, 1, 2]);

    let e = r"INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)";
    assert_eq!(
        items(e, &req(&[("GENRE", "\"horror\",\"comedy\"")])).unwrap(),
        [0, 1, 2, 4, 6]
    );
    assert_eq!(
        items(e, &req(&[("GENRE", "\"Horror\"")])).unwrap(),
        Vec::<usize>::new(),
        "exact match"
    );

    let e = r#"INCLUDE ItemID WHERE Items.OWNER IN ("in-house")"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [0, 2, 4, 6, 7]);

    let e =
        r#"INCLUDE ItemID WHERE Items.CATEGORY IN ("clothing") AND Items.AVAILABLE IN ("True")"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [4]);
}

#[test]
fn documented_current_item_examples() {
    let e = r"INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE";
    let mut r = req(&[]);
    r.item = Some(4); // price 80, comedy|drama
    assert_eq!(items(e, &r).unwrap(), [1, 3, 7]);
    r.item = Some(5); // null price, no genre
    assert_eq!(items(e, &r).unwrap(), Vec::<usize>::new());
    r.item = None;
    assert_eq!(items(e, &r).unwrap_err(), FilterError::MissingCurrentItem);
    let ex = r"EXCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE";
    assert_eq!(
        items(ex, &r).unwrap(),
        ALL,
        "EXCLUDE without a current item is skipped"
    );

    let e = r"INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.CREATION_TIMESTAMP > $DATE";
    let mut r = req(&[("DATE", "150")]);
    r.item = Some(4);
    assert_eq!(items(e, &r).unwrap(), [1, 3, 6, 7]);
}

#[test]
fn documented_current_user_examples() {
    let e = r"EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE) IF CurrentUser.AGE = $AGE";
    let mut r = req(&[("GENRE", "\"horror\""), ("AGE", "\"30\"")]);
    assert_eq!(items(e, &r).unwrap(), [1, 3, 4, 5, 7]);
    r.user = Some(1); // 16: the IF is false, the expression does not apply
    assert_eq!(items(e, &r).unwrap(), ALL);
    r.user = None;
    assert_eq!(items(e, &r).unwrap(), ALL);

    let e = r#"INCLUDE ItemID WHERE Items.CATEGORY IN ("watch") AND Items.DESCRIPTION IN ("luxury") IF CurrentUser.AGE > 18"#;
    let mut r = req(&[]);
    assert_eq!(items(e, &r).unwrap(), [2]);
    r.user = Some(1);
    assert_eq!(items(e, &r).unwrap(), ALL);
    r.user = Some(2); // null age
    assert_eq!(items(e, &r).unwrap(), ALL);
}

#[test]
fn documented_user_segment_examples() {
    let e = r"INCLUDE UserID WHERE Users.MEMBERSHIP_STATUS IN ($MEMBERSHIP)";
    assert_eq!(
        user_set(e, &req(&[("MEMBERSHIP", "\"gold\"")])).unwrap(),
        [0, 2]
    );

    let e = r"EXCLUDE UserID WHERE Users.AGE < $AGE";
    assert_eq!(user_set(e, &req(&[("AGE", "18")])).unwrap(), [0, 2, 3]);

    // The guide writes ("click, rating"): one quoted value, i.e. one (unknown) event type.
    let e = r#"INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("click, rating")"#;
    assert_eq!(user_set(e, &req(&[])).unwrap(), Vec::<usize>::new());
    let e = r#"INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("click", "rating")"#;
    assert_eq!(user_set(e, &req(&[])).unwrap(), [0, 1, 3]);

    let e = r"EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)";
    assert_eq!(
        user_set(e, &req(&[("EVENT_TYPE", "\"CLICK\"")])).unwrap(),
        [1, 2]
    );
    assert_eq!(user_set(e, &req(&[])).unwrap(), [0, 1, 2, 3]);
}

#[test]
fn documented_chained_examples() {
    let e = r#"INCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY) | INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("favorite")"#;
    assert_eq!(
        items(e, &req(&[("CATEGORY", "\"watch\"")])).unwrap(),
        [2, 3, 4]
    );
    assert_eq!(
        items(e, &req(&[])).unwrap_err(),
        FilterError::MissingParameter("CATEGORY".into())
    );

    let e = r#"INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")"#;
    assert_eq!(items(e, &req(&[("GENRE", "\"horror\"")])).unwrap(), [6]);
}

#[test]
fn every_documented_example_parses() {
    let examples = [
        r"EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)",
        r#"EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")"#,
        r#"INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")"#,
        r"EXCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY)",
        r#"EXCLUDE ItemID WHERE Items.CATEGORY IN ("shoe") AND Items.DESCRIPTION NOT IN ("boot")"#,
        r#"EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("shoe") AND Items.CATEGORY_L2 NOT IN ("boot")"#,
        r"INCLUDE ItemID WHERE Items.PRICE <= $PRICE",
        r"INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP < $DATE",
        r"INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)",
        r"INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE",
        r"INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.CREATION_TIMESTAMP > $DATE",
        r"EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE) IF CurrentUser.AGE = $AGE",
        r#"INCLUDE ItemID WHERE Items.CATEGORY IN ("watch") AND Items.DESCRIPTION IN ("luxury") IF CurrentUser.AGE > 18"#,
        r"INCLUDE UserID WHERE Users.MEMBERSHIP_STATUS IN ($MEMBERSHIP)",
        r"EXCLUDE UserID WHERE Users.AGE < $AGE",
        r#"INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("click, rating")"#,
        r"EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)",
        r#"INCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY) | INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("favorite")"#,
        r#"INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")"#,
        r#"INCLUDE ItemID WHERE Items.OWNER IN ("in-house")"#,
        r#"INCLUDE ItemID WHERE Items.CATEGORY IN ("clothing") AND Items.AVAILABLE IN ("True")"#,
    ];
    let (c, u) = (catalog(), users());
    for e in examples {
        let parsed = parse(e).unwrap_or_else(|err| panic!("{e}: {err}"));
        assert_eq!(parsed.to_string(), e, "canonical form");
        CompiledFilter::compile(e, &c, &u).unwrap_or_else(|err| panic!("{e}: {err}"));
    }
}

#[test]
fn keywords_are_case_insensitive_and_whitespace_free() {
    let e = r#"include itemid where items.genre in("horror")AND items.price>=30"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [2, 6]);
}

#[test]
fn and_binds_tighter_than_or() {
    // (watch AND price > 100) OR owner = partner
    let e = r#"INCLUDE ItemID WHERE Items.CATEGORY IN ("watch") AND Items.PRICE > 100 OR Items.OWNER IN ("partner")"#;
    assert_eq!(items(e, &req(&[])).unwrap(), [1, 2, 3, 5]);
}

#[test]
fn interactions_count_at_most_100_per_event_type() {
    let (mut c, u) = (catalog(), users());
    c.item_ids = (0..300).map(|i| format!("i{i}")).collect();
    c.columns.clear();
    c.creation_time = vec![0; 300].into();
    let mut inter: Vec<InteractionRef<'_>> = (0..150)
        .map(|i| InteractionRef {
            item: i,
            event_type: "click",
        })
        .collect();
    inter.extend((150..300).map(|i| InteractionRef {
        item: i,
        event_type: "view",
    }));
    let f = CompiledFilter::compile(
        r"INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (*)",
        &c,
        &u,
    )
    .unwrap();
    let empty = BTreeMap::new();
    let input = FilterInput {
        interactions: &inter,
        ..FilterInput::new(&empty)
    };
    let m = f.evaluate_items(&c, &u, &input).unwrap();
    assert_eq!(m.count(), 200);
    assert!(m.contains(99) && !m.contains(100) && m.contains(249) && !m.contains(250));
}

#[test]
fn cache_reuses_plans() {
    let (c, u) = (catalog(), users());
    let mut cache = FilterCache::new(8);
    let e = r"INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)";
    let a = cache.get_or_compile(e, &c, &u).unwrap();
    let b = cache.get_or_compile(e, &c, &u).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    assert_eq!(a.parameters(), ["GENRE"]);
    assert_eq!(a.fields(), ["Items.GENRE"]);
    assert!(!a.uses_interactions() && !a.uses_current_item() && !a.uses_current_user());
    let v = values(&[("GENRE", "\"drama\"")]);
    let m = a.evaluate_items(&c, &u, &FilterInput::new(&v)).unwrap();
    assert_eq!(m.iter().collect::<Vec<_>>(), [3, 4, 7]);
    // Another model shape invalidates the cache instead of misusing a plan.
    let mut c2 = c.clone();
    c2.item_ids.push("i8");
    c2.creation_time.push(0);
    for col in &mut c2.columns {
        col.values = match std::mem::replace(&mut col.values, ColumnValues::Numeric(vec![])) {
            ColumnValues::Categorical {
                dictionary,
                mut offsets,
                codes,
            } => {
                offsets.push(offsets.last().copied().unwrap_or(0));
                ColumnValues::Categorical {
                    dictionary,
                    offsets,
                    codes,
                }
            }
            ColumnValues::Numeric(mut v) => {
                v.push(f64::NAN);
                ColumnValues::Numeric(v)
            }
            ColumnValues::Textual(mut v) => {
                v.push(String::new());
                ColumnValues::Textual(v)
            }
        };
    }
    let a2 = cache.get_or_compile(e, &c2, &u).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&a, &a2));
    assert!(a.evaluate_items(&c2, &u, &FilterInput::new(&v)).is_err());
    assert_eq!(
        a2.evaluate_items(&c2, &u, &FilterInput::new(&v))
            .unwrap()
            .count(),
        3
    );
}

#[test]
fn no_applicable_expression_allows_everything_cheaply() {
    let (c, u) = (catalog(), users());
    let f = CompiledFilter::compile(r"EXCLUDE ItemID WHERE Items.GENRE IN ($G)", &c, &u).unwrap();
    let m = f.evaluate_items(&c, &u, &FilterInput::default()).unwrap();
    assert!(m.is_all());
    assert_eq!(m.count(), 8);
}

fn compile_error(expr: &str) -> String {
    let (c, u) = (catalog(), users());
    match CompiledFilter::compile(expr, &c, &u) {
        Ok(_) => panic!("{expr} should not compile"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn parse_errors_give_column_found_and_expected() {
    assert_eq!(
        compile_error(r#"EXCLUDE ItemID WHERE Items.GENRE ("a")"#),
        "expected IN, NOT IN or a comparison after Items.GENRE at column 34, found '('"
    );
    assert_eq!(
        compile_error("INCLUDE ItemID WHERE"),
        "expected a field such as Items.GENRE at column 21, found end of expression"
    );
    assert_eq!(
        compile_error(r#"INCLUDE ItemID WHERE Items.GENRE IN ("a") |"#),
        "expected INCLUDE or EXCLUDE after '|' at column 44, found end of expression"
    );
    assert_eq!(
        compile_error(r#"INCLUDE ItemID WHERE Item.GENRE IN ("a")"#),
        "expected a dataset (Items, Interactions, Users, CurrentItem or CurrentUser) at column 22, found 'Item'"
    );
    assert!(compile_error(r#"INCLUDE ItemID WHERE Items.GENRE IN ("a") IF CurrentUser.AGE > 1 OR CurrentUser.AGE < 0"#)
        .contains("OR is not allowed in an IF clause"));
    assert!(
        compile_error(r#"INCLUDE ItemID WHERE Items.GENRE IN ("a"#).contains("unterminated string")
    );
    assert!(
        compile_error(r#"INCLUDE ItemID WHERE Items.GENRE NOT ("a")"#)
            .contains("expected IN after NOT")
    );
}

#[test]
fn compile_errors_are_clear() {
    let cases: &[(&str, &str)] = &[
        (
            r#"INCLUDE ItemID WHERE Items.COLOR IN ("red")"#,
            "unknown field Items.COLOR",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.SUMMARY IN ("x")"#,
            "textual field",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.GENRE = "horror""#,
            "Items.GENRE is categorical",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.PRICE < "10""#,
            "Items.PRICE is numeric",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.GENRE IN ("a") OR Interactions.EVENT_TYPE IN ("click")"#,
            "cannot mix Items and Interactions",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.GENRE IN ("a") AND Items.PRICE > 1 AND Items.OWNER IN ("b") AND Items.CATEGORY IN ("c") | EXCLUDE ItemID WHERE Items.AVAILABLE IN ("d") AND Items.DESCRIPTION IN ("e")"#,
            "6 distinct dataset fields",
        ),
        (
            r"EXCLUDE ItemID WHERE Items.GENRE NOT IN ($G)",
            "NOT IN cannot take $PARAMETERS",
        ),
        (
            r#"INCLUDE ActionID WHERE Items.GENRE IN ("a")"#,
            "ActionID filters are not supported",
        ),
        (
            r#"INCLUDE ItemID WHERE CurrentUser.AGE > 3"#,
            "only allowed in the IF clause",
        ),
        (
            r#"INCLUDE ItemID WHERE CurrentItem.PRICE > 3"#,
            "can only be on the right",
        ),
        (
            r#"INCLUDE ItemID WHERE Users.AGE > 3"#,
            "Users conditions select users",
        ),
        (
            r#"INCLUDE UserID WHERE Items.PRICE > 3"#,
            "Items conditions select items",
        ),
        (
            r#"INCLUDE UserID WHERE Users.AGE > 3 IF CurrentUser.AGE > 3"#,
            "only to ItemID filters",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.PRICE > 3 IF Items.PRICE > 3"#,
            "IF conditions must test the current user",
        ),
        (
            r#"INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("click")"#,
            "supports only IN",
        ),
        (
            r#"INCLUDE ItemID WHERE Interactions.ITEM_ID IN ("click")"#,
            "only use Interactions.EVENT_TYPE",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.GENRE IN (*)"#,
            "'*' is only allowed with Interactions.EVENT_TYPE",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.PRICE"#,
            "categorical but CurrentItem.PRICE is numeric",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.PRICE < CurrentUser.AGE"#,
            "not CurrentUser.AGE",
        ),
        (
            r#"INCLUDE ItemID WHERE Items.GENRE IN ("a") | INCLUDE UserID WHERE Users.AGE > 3"#,
            "same target",
        ),
    ];
    for (expr, want) in cases {
        let got = compile_error(expr);
        assert!(got.contains(want), "{expr}\n  got: {got}\n want: {want}");
    }
    assert!(
        compile_error(r#"INCLUDE ItemID WHERE Items.COLOR IN ("red")"#).contains("at column 22")
    );
}

#[test]
fn filter_values_limits_and_format() {
    assert!(validate_filter_values(&values(&[("GENRE", "\"horror\",\"comedy\"")])).is_ok());
    let too_many: BTreeMap<String, String> = (0..26)
        .map(|i| (format!("K{i}"), "\"x\"".to_string()))
        .collect();
    let e = validate_filter_values(&too_many).unwrap_err();
    assert!(
        e.to_string().contains("26 keys exceed the maximum of 25"),
        "{e}"
    );
    let long = "x".repeat(1001);
    let e = validate_filter_values(&values(&[("G", long.as_str())])).unwrap_err();
    assert!(e.to_string().contains("filterValues.G"), "{e}");
    assert!(validate_filter_values(&values(&[("G", "\"a\" \"b\"")])).is_err());
    assert!(validate_filter_values(&values(&[("bad key", "\"a\"")])).is_err());
    // A malformed value is an error at evaluation too.
    let e = items(
        r"INCLUDE ItemID WHERE Items.GENRE IN ($G)",
        &req(&[("G", "\"a")]),
    )
    .unwrap_err();
    assert!(matches!(e, FilterError::InvalidFilterValues { .. }), "{e}");
}

#[test]
fn boolean_columns_match_case_insensitively() {
    let (mut c, u) = (catalog(), users());
    let mut col = cat(
        "IS_NEW",
        &[
            "true", "false", "true", "false", "true", "false", "true", "false",
        ],
    );
    col.kind = ColumnKind::Boolean;
    c.columns.push(col);
    let f = CompiledFilter::compile(r#"INCLUDE ItemID WHERE Items.IS_NEW IN ("True")"#, &c, &u)
        .unwrap();
    let m = f.evaluate_items(&c, &u, &FilterInput::default()).unwrap();
    assert_eq!(m.iter().collect::<Vec<_>>(), [0, 2, 4, 6]);
}
