//! User profiles: a public model (no one's personal data) plus one user's slice answers that
//! user exactly as the private model does — for every user of the golden fixture, every factor
//! and neighbour recommender, with scores; plus the slice's round trip and its refusals.

mod public_model;

use std::path::PathBuf;

use edgerec_core::catalog::{Column, ColumnKind, ColumnValues};
use edgerec_core::format::slice::{self, SLICE_MAGIC};
use edgerec_core::request::{GetPersonalizedRankingRequest, GetRecommendationsRequest};
use edgerec_core::user_slice::model_id;
use edgerec_core::{
    Embedding, Engine, ErrorCode, Histories, IdList, Model, RecommenderModel, SliceError,
    UserSlice, UserTable, format,
};
use proptest::prelude::*;
use public_model::without_people;
use serde_json::{Value, json};

fn golden(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/golden")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn private_model() -> Model {
    format::decode(&golden("model-v1.erm")).expect("the golden model decodes")
}

/// The golden model with user metadata: a categorical, a numeric and a textual column.
fn private_model_with_metadata() -> Model {
    let mut m = private_model();
    let n = m.users.user_ids.len();
    let segments = ["gold", "silver", "bronze"];
    m.users.columns = vec![
        Column {
            name: "SEGMENT".into(),
            kind: ColumnKind::Categorical,
            values: ColumnValues::Categorical {
                dictionary: segments.iter().map(|s| (*s).to_owned()).collect(),
                offsets: (0..=n as u32).collect(),
                codes: (0..n as u32).map(|u| u % 3).collect(),
            },
        },
        Column {
            name: "AGE".into(),
            kind: ColumnKind::Numeric,
            values: ColumnValues::Numeric(
                (0..n)
                    .map(|u| {
                        if u % 7 == 0 {
                            f64::NAN
                        } else {
                            18.0 + u as f64
                        }
                    })
                    .collect(),
            ),
        },
        Column {
            name: "NOTE".into(),
            kind: ColumnKind::Textual,
            values: ColumnValues::Textual((0..n).map(|u| format!("note {u}")).collect()),
        },
    ];
    m
}

fn public_engine(private: &Model, keep_user_columns: bool) -> Engine {
    let public = without_people(private, keep_user_columns);
    // Through bytes, as a browser gets it.
    let bytes = format::encode(&public).expect("the public model encodes");
    Engine::from_bytes(&bytes).expect("the public model decodes")
}

fn users(m: &Model) -> Vec<String> {
    m.users.user_ids.iter().map(str::to_owned).collect()
}

/// The names of the recommenders a known user's answers come from.
fn personal_recommenders(m: &Model) -> Vec<String> {
    m.recommenders
        .iter()
        .filter(|r| !matches!(r.model, RecommenderModel::Popularity(_)))
        .map(|r| r.name.clone())
        .collect()
}

fn recommend(e: &Engine, req: Value) -> Value {
    let req: GetRecommendationsRequest = serde_json::from_value(req).expect("request");
    serde_json::to_value(e.get_recommendations(&req).expect("recommendations")).expect("json")
}

fn rank(e: &Engine, req: Value) -> Value {
    let req: GetPersonalizedRankingRequest = serde_json::from_value(req).expect("request");
    serde_json::to_value(e.get_personalized_ranking(&req).expect("ranking")).expect("json")
}

/// The requests compared for `user` on recommender `rec`.
fn requests(rec: &str, user: &str) -> Vec<Value> {
    let base =
        json!({"recommender": rec, "userId": user, "numResults": 25, "recommendationId": "rid-1"});
    let with = |k: &str, v: Value| {
        let mut r = base.clone();
        r[k] = v;
        r
    };
    vec![
        base.clone(),
        with(
            "filter",
            json!("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"purchase\")"),
        ),
        with(
            "filter",
            json!("INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"*\")"),
        ),
        with(
            "filter",
            json!("INCLUDE ItemID WHERE Items.CATEGORY IN (\"books\", \"toys\")"),
        ),
    ]
}

/// Every request of every personal recommender, answered for `user`.
fn answers(e: &Engine, m: &Model, user: &str) -> Vec<Value> {
    let items: Vec<String> = m.catalog.item_ids.iter().map(str::to_owned).collect();
    let mut out = Vec::new();
    for rec in personal_recommenders(m) {
        for req in requests(&rec, user) {
            out.push(recommend(e, req));
        }
        if matches!(
            m.recommender(&rec).map(|r| &r.model),
            Some(RecommenderModel::Factors(_))
        ) {
            out.push(rank(
                e,
                json!({"recommender": rec, "userId": user, "inputList": items, "recommendationId": "rid-2"}),
            ));
        }
    }
    out
}

#[test]
fn every_golden_user_gets_the_private_answers_from_the_public_model() {
    let private = private_model();
    let p = Engine::new(private.clone());
    let mut q = public_engine(&private, true);
    assert_eq!(
        p.model_id(),
        q.model_id(),
        "the projection keeps the model id"
    );
    assert!(personal_recommenders(&private).len() >= 3);
    let all = users(&private);
    assert_eq!(all.len(), 60);
    let mut differed = 0;
    for u in &all {
        let want = answers(&p, &private, u);
        if answers(&q, &private, u) != want {
            differed += 1;
        }
        let bytes = p.user_profile(u).expect("a known user has a profile");
        assert_eq!(q.load_user_profile(&bytes).as_deref(), Ok(u.as_str()));
        let got = answers(&q, &private, u);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "user {u}");
        }
        // the factor recommenders report scores, so scores are compared too
        assert!(
            want.iter().any(|w| w["itemList"][0]["score"].is_number()),
            "{want:?}"
        );
    }
    // Without their profile, users get other answers (so the comparison above can fail).
    assert!(
        differed >= 55,
        "only {differed} users differed before loading"
    );
    assert_eq!(q.info().users, 60);
}

#[test]
fn user_metadata_reaches_current_user_filters() {
    let private = private_model_with_metadata();
    let p = Engine::new(private.clone());
    let filters = [
        r#"INCLUDE ItemID WHERE Items.CATEGORY IN ("books") IF CurrentUser.SEGMENT IN ("gold")"#,
        r#"EXCLUDE ItemID WHERE Items.PRICE > 20 IF CurrentUser.AGE > 40"#,
        r#"EXCLUDE ItemID WHERE Items.CATEGORY IN ("toys") IF CurrentUser.SEGMENT IN ("silver", "bronze")"#,
    ];
    for keep in [true, false] {
        let mut q = public_engine(&private, keep);
        for u in users(&private) {
            q.load_user_profile(&p.user_profile(&u).expect("profile"))
                .expect("loads");
            for f in filters {
                let req = json!({"recommender": "recommended-for-you", "userId": u, "numResults": 25,
                                 "filter": f, "recommendationId": "r"});
                assert_eq!(
                    recommend(&q, req.clone()),
                    recommend(&p, req),
                    "{u}: {f} (columns kept: {keep})"
                );
            }
        }
    }
    // The filters do tell users apart.
    let req = |u: &str| json!({"recommender": "recommended-for-you", "userId": u, "numResults": 25, "filter": filters[0], "recommendationId": "r"});
    assert_ne!(recommend(&p, req("u0")), recommend(&p, req("u1")));
}

#[test]
fn a_session_started_before_sign_in_joins_the_user() {
    let private = private_model();
    let mut p = Engine::new(private.clone());
    let mut q = public_engine(&private, true);
    let events = serde_json::from_value(json!({"sessionId": "s9", "userId": "u9", "eventList": [
        {"eventType": "view", "itemId": "i21", "sentAt": 1}, {"eventType": "purchase", "itemId": "i05", "sentAt": 2}]}))
    .expect("events");
    p.put_events(&events).expect("events");
    q.put_events(&events).expect("events");
    let bytes = p.user_profile("u9").expect("profile");
    q.load_user_profile(&bytes).expect("loads");
    assert_eq!(answers(&q, &private, "u9"), answers(&p, &private, "u9"));
}

#[test]
fn loading_again_replaces_and_users_added_without_factors_get_popular_items() {
    let private = private_model();
    let p = Engine::new(private.clone());
    let mut q = public_engine(&private, true);
    // A user known only from putUsers, then two profiles, then the first again.
    q.put_users(&[serde_json::from_value(json!({"userId": "bob"})).expect("user")])
        .expect("putUsers");
    for u in ["u3", "u4", "u3"] {
        q.load_user_profile(&p.user_profile(u).expect("profile"))
            .expect("loads");
    }
    for u in ["u3", "u4"] {
        assert_eq!(answers(&q, &private, u), answers(&p, &private, u), "{u}");
    }
    let popular = |e: &Engine, u: &str| {
        recommend(
            e,
            json!({"recommender": "recommended-for-you", "userId": u, "numResults": 10, "recommendationId": "r"}),
        )
    };
    assert_eq!(popular(&q, "bob"), popular(&p, "stranger"));
    assert_eq!(q.info().users, 3);
    // A changed profile of the same user replaces the old one: here, no history and no factors.
    let mut s = p.user_slice("u3").expect("slice");
    s.history = Histories {
        offsets: vec![0, 0],
        ..Histories::default()
    };
    s.factors.clear();
    q.load_user_slice(&s).expect("loads");
    assert_eq!(popular(&q, "u3"), popular(&p, "stranger"));
    assert_eq!(answers(&q, &private, "u4"), answers(&p, &private, "u4"));
}

#[test]
fn slices_round_trip_and_match_the_models() {
    let private = private_model_with_metadata();
    let e = Engine::new(private.clone());
    let id = model_id(&private);
    assert_eq!(e.model_id(), id);
    for u in users(&private) {
        let s = private.user_slice(&u).expect("slice");
        // (compared through their bytes: a null number is NaN, which equals nothing)
        let bytes = slice::encode(&s);
        assert_eq!(e.user_profile(&u).as_ref(), Some(&bytes));
        assert_eq!(s.model_id, id);
        assert_eq!(s.user_id(), u);
        assert_eq!(s.user.columns.len(), 3);
        assert_eq!(s.factors.len(), 2, "two factor recommenders");
        assert!(!s.history.items.is_empty());
        assert_eq!(&bytes[..8], &SLICE_MAGIC);
        let back = slice::decode(&bytes).expect("decodes");
        assert_eq!(slice::encode(&back), bytes);
        assert_eq!(back.history, s.history);
        assert_eq!(back.factors, s.factors);
    }
    assert_eq!(private.user_slice("stranger"), None);
    assert_eq!(e.user_profile("stranger"), None);
}

#[test]
fn the_model_id_tells_models_apart() {
    let m = private_model();
    let id = model_id(&m);
    let mut later = m.clone();
    later.meta.created_at += 1;
    assert_ne!(model_id(&later), id);
    let mut retrained = m.clone();
    let f = retrained
        .recommenders
        .iter_mut()
        .find_map(|r| match &mut r.model {
            RecommenderModel::Factors(f) => Some(f),
            _ => None,
        })
        .expect("a factor recommender");
    f.gram[0] += 1e-3;
    assert_ne!(model_id(&retrained), id);
    let content = format::decode(&golden("content-v1.erm")).expect("decodes");
    assert_ne!(model_id(&content), id);
    // Anything per-person does not count.
    assert_eq!(model_id(&without_people(&m, false)), id);
}

fn slice_bytes() -> (Engine, Vec<u8>) {
    let private = private_model_with_metadata();
    let e = Engine::new(private);
    let bytes = e.user_profile("u1").expect("profile");
    (e, bytes)
}

#[test]
fn damaged_profiles_are_refused_with_a_message() {
    let (p, bytes) = slice_bytes();
    let mut q = public_engine(&private_model_with_metadata(), true);
    let before = q.info();
    // every truncation
    for n in 0..bytes.len() {
        let err = q.load_user_profile(&bytes[..n]).expect_err("truncated");
        assert_eq!(err.code(), ErrorCode::ProfileFormat, "{n}: {err}");
    }
    // every single flipped byte: the magic, the header or the checksum catches it
    for at in 0..bytes.len() {
        let mut b = bytes.clone();
        b[at] ^= 0x5a;
        let err = q.load_user_profile(&b).expect_err("flipped");
        assert_eq!(err.code(), ErrorCode::ProfileFormat, "{at}: {err}");
    }
    let mut padded = bytes.clone();
    padded.push(0);
    assert!(q.load_user_profile(&padded).is_err());
    let err = q
        .load_user_profile(b"\x89ERM\r\n\x1a\n")
        .expect_err("a model");
    assert!(
        err.to_string().contains("not an edgerec user profile"),
        "{err}"
    );
    let mut v2 = bytes.clone();
    v2[8] = 2;
    let err = q.load_user_profile(&v2).expect_err("version 2");
    assert!(matches!(err, SliceError::Corrupt(_)));
    assert!(
        err.to_string().contains("unsupported format version 2.0"),
        "{err}"
    );
    let mut flipped = bytes.clone();
    flipped[30] ^= 1;
    let err = q.load_user_profile(&flipped).expect_err("flipped");
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    let err = q
        .load_user_profile(&bytes[..bytes.len() - 1])
        .expect_err("cut");
    assert!(err.to_string().contains("truncated"), "{err}");
    // nothing changed
    assert_eq!(q.info(), before);
    assert_eq!(q.user_index("u1"), None);
    assert!(p.user_index("u1").is_some());
}

#[test]
fn a_profile_for_another_model_is_refused() {
    let (_, bytes) = slice_bytes();
    let mut other = private_model_with_metadata();
    other.meta.created_at += 3600;
    let mut q = public_engine(&other, true);
    let err = q.load_user_profile(&bytes).expect_err("another model");
    assert_eq!(err.code(), ErrorCode::ProfileMismatch);
    assert_eq!(err.code().as_str(), "UserProfileMismatchError");
    assert!(err.to_string().contains("fetch the profile again"), "{err}");
    assert_eq!(q.user_index("u1"), None);
}

#[test]
fn profiles_that_do_not_fit_the_model_are_refused() {
    let private = private_model_with_metadata();
    let p = Engine::new(private.clone());
    let mut q = public_engine(&private, true);
    let good = p.user_slice("u2").expect("slice");
    let cases: Vec<(UserSlice, &str)> = vec![
        {
            let mut s = good.clone();
            s.history.items[0] = 30;
            (s, "outside the 30-item catalogue")
        },
        {
            let mut s = good.clone();
            s.history.event_types[0] = 2;
            (s, "outside the 2 event types")
        },
        {
            let mut s = good.clone();
            s.factors[0].1 = Embedding::from_f32(1, 3, vec![0.5; 3]);
            (s, "of 3 dimensions")
        },
        {
            let mut s = good.clone();
            s.factors[0].0 = "also-viewed".into();
            (s, "no factor recommender \"also-viewed\"")
        },
        {
            let mut s = good.clone();
            s.user.columns[1].kind = ColumnKind::Textual;
            (s, "user column \"AGE\" has another kind")
        },
    ];
    for (s, says) in cases {
        let err = q.load_user_slice(&s).expect_err(says);
        assert!(err.to_string().contains(says), "{err}");
        assert_eq!(q.user_index("u2"), None);
        // and through bytes, unless the decoder already refuses it
        let _ = q.load_user_profile(&slice::encode(&s));
        assert_eq!(q.user_index("u2"), None);
    }
}

fn with_id(s: &UserSlice, id: &str) -> UserSlice {
    let mut s = s.clone();
    let mut ids = IdList::new();
    ids.push(id);
    s.user.user_ids = ids;
    s
}

#[test]
fn malformed_bodies_are_refused_by_the_decoder() {
    let (p, _) = slice_bytes();
    let good = p.user_slice("u1").expect("slice");
    let cases: Vec<(UserSlice, &str)> = vec![
        (with_id(&good, ""), "one user id"),
        (with_id(&good, &"x".repeat(257)), "one user id"),
        {
            let mut s = good.clone();
            s.history.timestamps.pop();
            (s, "not one user's")
        },
        {
            let mut s = good.clone();
            let again = s.factors[0].clone();
            s.factors.push(again);
            (s, "once per recommender")
        },
        {
            let mut s = good.clone();
            s.factors[0].1 = Embedding::from_f32(1, 8, vec![f32::NAN; 8]);
            (s, "finite")
        },
        {
            let mut s = good.clone();
            let mut again = s.user.columns[0].clone();
            again.name = "segment".into();
            s.user.columns.push(again);
            (s, "appears twice")
        },
        {
            let mut s = good.clone();
            s.user.columns[1].kind = ColumnKind::Textual;
            (s, "another kind")
        },
    ];
    for (s, says) in cases {
        let err = slice::decode(&slice::encode(&s)).expect_err(says);
        assert!(err.to_string().contains(says), "{says}: {err}");
    }
}

fn arb_slice() -> impl Strategy<Value = UserSlice> {
    let column = prop_oneof![
        proptest::collection::btree_set(".{1,6}", 0..3).prop_map(|v| {
            let values: Vec<String> = v.into_iter().collect();
            (
                ColumnKind::Categorical,
                ColumnValues::Categorical {
                    offsets: vec![0, values.len() as u32],
                    codes: (0..values.len() as u32).collect(),
                    dictionary: values,
                },
            )
        }),
        ".{0,8}".prop_map(|t| (ColumnKind::Textual, ColumnValues::Textual(vec![t]))),
        (-1e9f64..1e9).prop_map(|x| (ColumnKind::Numeric, ColumnValues::Numeric(vec![x]))),
    ];
    let history = proptest::collection::vec((any::<u32>(), any::<u16>(), any::<i64>()), 0..20)
        .prop_map(|v| Histories {
            offsets: vec![0, v.len() as u32],
            items: v.iter().map(|x| x.0).collect(),
            event_types: v.iter().map(|x| x.1).collect(),
            timestamps: v.iter().map(|x| x.2).collect(),
            ..Histories::default()
        });
    let row = prop_oneof![
        proptest::collection::vec(-1e3f32..1e3, 1..9).prop_map(|v| Embedding::from_f32(
            1,
            v.len(),
            v
        )),
        (proptest::collection::vec(any::<i8>(), 1..9), 0f32..1.0).prop_map(|(data, scale)| {
            Embedding::Int8 {
                rows: 1,
                dim: data.len() as u32,
                data,
                scales: vec![scale],
            }
        }),
    ];
    (
        any::<u64>(),
        "[a-z0-9@.]{1,20}",
        proptest::collection::vec(column, 0..4),
        history,
        proptest::collection::vec(row, 0..3),
    )
        .prop_map(|(model_id, user_id, columns, history, rows)| {
            let mut user_ids = IdList::new();
            user_ids.push(&user_id);
            UserSlice {
                model_id,
                user: UserTable {
                    user_ids,
                    columns: columns
                        .into_iter()
                        .enumerate()
                        .map(|(k, (kind, values))| Column {
                            name: format!("C{k}"),
                            kind,
                            values,
                        })
                        .collect(),
                },
                history,
                factors: rows
                    .into_iter()
                    .enumerate()
                    .map(|(k, row)| (format!("r{k}"), row))
                    .collect(),
            }
        })
}

proptest! {
    #[test]
    fn any_slice_round_trips(s in arb_slice()) {
        prop_assert_eq!(slice::decode(&slice::encode(&s)), Ok(s));
    }

    /// The decoder never panics and never accepts damage the checksum would catch: every
    /// edit of a valid slice either decodes to a valid slice or is refused.
    #[test]
    fn edited_slices_never_panic(s in arb_slice(), edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4), cut in 0usize..8) {
        let mut b = slice::encode(&s);
        for (at, x) in edits {
            let n = b.len();
            b[at % n] = x;
        }
        b.truncate(b.len().saturating_sub(cut));
        if let Ok(back) = slice::decode(&b) {
            prop_assert_eq!(slice::encode(&back), b);
        }
    }

    /// Arbitrary bytes, and arbitrary bodies in a valid frame (so the body reader is reached
    /// past the checksum): refused or decoded, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = slice::decode(&b);
        if let Ok(s) = slice::decode(&framed(&b)) {
            prop_assert!(!s.user_id().is_empty());
        }
    }

    /// Valid bodies with a few bytes edited, re-framed with a correct checksum.
    #[test]
    fn edited_bodies_never_panic(s in arb_slice(), edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let b = slice::encode(&s);
        let mut body = b[24..b.len() - 4].to_vec();
        for (at, x) in edits {
            let n = body.len();
            body[at % n] = x;
        }
        let _ = slice::decode(&framed(&body));
    }
}

/// `body` in a slice frame with a correct length and checksum.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut b = SLICE_MAGIC.to_vec();
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend_from_slice(&7u64.to_le_bytes());
    b.extend_from_slice(body);
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// The fixtures the npm package's and the Worker's tests read (`tests/fixtures/golden/profiles`):
/// the golden model's projection without people and every user's profile, as hex. Regenerate
/// with `EDGEREC_UPDATE_GOLDEN=1 cargo test -p edgerec-core --features write --test user_profile`.
#[test]
fn committed_profile_fixtures_are_current() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden/profiles");
    let private = private_model();
    let public = format::encode(&without_people(&private, false)).expect("encodes");
    let e = Engine::new(private.clone());
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let profiles: serde_json::Map<String, Value> = users(&private)
        .into_iter()
        .map(|u| {
            let b = e.user_profile(&u).expect("profile");
            (u, Value::String(hex(&b)))
        })
        .collect();
    let doc = json!({
        "about": "tests/fixtures/golden/model-v1.erm without per-person data (public.erm) and every user's profile (hex); written by crates/core/tests/user_profile.rs",
        "modelId": format!("{:016x}", e.model_id()),
        "profiles": profiles,
    });
    let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    if std::env::var_os("EDGEREC_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("public.erm"), &public).expect("write");
        std::fs::write(dir.join("profiles.json"), &text).expect("write");
    }
    assert_eq!(
        std::fs::read(dir.join("public.erm")).ok().as_deref(),
        Some(public.as_slice()),
        "tests/fixtures/golden/profiles/public.erm is stale: EDGEREC_UPDATE_GOLDEN=1 rewrites it"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("profiles.json")).ok(),
        Some(text),
        "tests/fixtures/golden/profiles/profiles.json is stale: EDGEREC_UPDATE_GOLDEN=1 rewrites it"
    );
}
