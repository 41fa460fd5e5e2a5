#![allow(clippy::unwrap_used)]
//! The public profile holds no one's data: trained on users whose ids and metadata are
//! distinctive strings, the public file's bytes contain none of them and it has no per-user
//! record, while the private file of the same data does contain them (so the test can fail).
//! The public file keeps the private model's item-side data, and every aggregate it keeps is
//! backed by at least `publicMinUsers` users.

use edgerec_core::request::{Event, GetRecommendationsRequest, PutEventsRequest};
use edgerec_core::{
    Column, ColumnKind, ColumnValues, Engine, FormatError, Model, Profile, RecommenderModel, format,
};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::privacy::{self, Support};
use edgerec_trainer::train::build_model;

/// A user id no model byte could hold by chance.
fn user_id(u: u32) -> String {
    format!("shopper-{u:03}.qz7secret@example.org")
}

/// A membership value of user `u`, as distinctive.
fn tier(u: u32) -> String {
    format!("tier-xv{u:03}-privatevalue")
}

/// 120 users in three taste groups over 45 items, plus a few users with a rare item each
/// (pairs fewer than five users share).
fn dataset() -> Dataset {
    let mut d = Dataset {
        name: "privacy".into(),
        item_ids: (0..48).map(|i| format!("item-{i:02}")).collect(),
        event_types: vec!["click".into()],
        ..Dataset::default()
    };
    let mut state = 11u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        u32::try_from(state >> 33).unwrap()
    };
    for u in 0..120u32 {
        d.user_ids.push(user_id(u));
        let group = u % 3;
        let mut push = |item: u32, t: i64| {
            d.interactions.user.push(u);
            d.interactions.item.push(item);
            d.interactions.timestamp.push(t);
            d.interactions.event_type.push(0);
            d.interactions.event_value.push(f32::NAN);
        };
        for k in 0..12i64 {
            push(
                group * 15 + next() % 15,
                1_600_000_000 + i64::from(u) * 600 + k * 60,
            );
        }
        // Items 45..48: one or two users each, always next to their group's items.
        if u < 5 {
            push(45 + u % 3, 1_600_000_000 + i64::from(u) * 600 + 900);
        }
    }
    d.user_columns.push(Column {
        name: "MEMBERSHIP".into(),
        kind: ColumnKind::Categorical,
        values: ColumnValues::Categorical {
            dictionary: (0..120).map(tier).collect(),
            offsets: (0..=120).collect(),
            codes: (0..120).collect(),
        },
    });
    d
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    count(haystack, needle) > 0
}

fn count(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

fn private_and_public() -> (Model, Vec<u8>, Model, Vec<u8>) {
    let ds = dataset();
    let cfg = TrainConfig::default_for(&ds.event_types);
    let (private, _) = build_model(&ds, &cfg, &|_, _, _| {}).unwrap();
    let public = privacy::projection::public(&private, cfg.model.public_min_users).unwrap();
    let private_bytes = format::encode(&private).unwrap();
    let public_bytes = format::encode(&public).unwrap();
    (private, private_bytes, public, public_bytes)
}

#[test]
fn the_public_file_holds_no_user_id_metadata_history_or_user_factor() {
    let (private, private_bytes, _, public_bytes) = private_and_public();
    // The private file holds them, so the search below can find them. Sorted ids are stored
    // front-coded (each without the prefix it shares with the one before), so every id's
    // distinctive tail is there verbatim, and the first id whole.
    assert_eq!(count(&private_bytes, "qz7secret@example.org"), 120);
    assert_eq!(count(&private_bytes, "-privatevalue"), 120);
    assert!(contains(&private_bytes, &user_id(0)));
    assert!(contains(&private_bytes, &tier(0)));
    assert!(!private.histories.items.is_empty());
    assert!(
        private
            .recommenders
            .iter()
            .any(|r| matches!(&r.model, RecommenderModel::Factors(f) if f.user_factors.rows() > 0))
    );
    for u in 0..120 {
        assert!(!contains(&public_bytes, &user_id(u)), "user id {u}");
        assert!(!contains(&public_bytes, &tier(u)), "membership of user {u}");
    }
    for part in [
        "qz7secret",
        "example.org",
        "shopper-",
        "privatevalue",
        "tier-xv",
    ] {
        assert!(!contains(&public_bytes, part), "{part}");
    }

    // The header says public, and the decoded model has no per-user record.
    let info = format::read_header(&public_bytes).unwrap();
    assert_eq!(info.profile, Profile::Public);
    assert_eq!(
        format::read_header(&private_bytes).unwrap().profile,
        Profile::Private
    );
    let m = format::decode(&public_bytes).unwrap();
    assert_eq!(m.meta.profile, Profile::Public);
    assert_eq!(m.meta.min_users, privacy::DEFAULT_MIN_USERS);
    assert_eq!(m.users.user_ids.len(), 0);
    assert_eq!(m.users.columns.len(), 1, "the column's name and kind stay");
    for c in &m.users.columns {
        assert_eq!(c.len(), 0, "{}", c.name);
        if let ColumnValues::Categorical { dictionary, .. } = &c.values {
            assert!(dictionary.is_empty(), "{}", c.name);
        }
    }
    assert_eq!(m.histories.items.len(), 0);
    assert_eq!(m.histories.users(), 0);
    for r in &m.recommenders {
        if let RecommenderModel::Factors(f) = &r.model {
            assert_eq!(f.user_factors.rows(), 0, "{}", r.name);
        }
    }
    // The users and histories sections are there (every model has them) and hold nothing:
    // a few bytes each, against kilobytes in the private file.
    let size = |bytes: &[u8], name: &str| {
        format::read_header(bytes)
            .unwrap()
            .sections
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.length)
            .sum::<u64>()
    };
    for name in ["users", "histories"] {
        assert!(size(&public_bytes, name) < 64, "{name} section");
        assert!(size(&private_bytes, name) > 1_000, "{name} section");
    }
}

#[test]
fn a_file_marked_public_that_holds_users_is_refused() {
    let (private, _, _, _) = private_and_public();
    // The encoder refuses to write one.
    let mut forged = private.clone();
    forged.meta.profile = Profile::Public;
    assert!(matches!(
        format::encode(&forged),
        Err(FormatError::PersonalData(_))
    ));
    // A private file whose public flag was set by hand (header checksum recomputed) is
    // refused by the decoder.
    let mut bytes = format::encode(&private).unwrap();
    let n = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let meta = (0..n)
        .map(|i| 32 + 24 * i)
        .find(|&at| u16::from_le_bytes([bytes[at], bytes[at + 1]]) == 1)
        .unwrap();
    bytes[meta + 2] |= 1;
    let end = 32 + 24 * n;
    let crc = crc32(&bytes[..end]);
    bytes[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        format::read_header(&bytes).unwrap().profile,
        Profile::Public
    );
    assert!(matches!(
        format::decode(&bytes),
        Err(FormatError::PersonalData(_))
    ));
    assert!(Engine::from_bytes(&bytes).is_err());
}

#[test]
fn the_public_file_keeps_the_private_models_item_side_data() {
    let (private, _, public, public_bytes) = private_and_public();
    let decoded = format::decode(&public_bytes).unwrap();
    assert_eq!(decoded.catalog, private.catalog);
    assert_eq!(decoded.popularity, private.popularity);
    for (a, b) in private.recommenders.iter().zip(&decoded.recommenders) {
        assert_eq!(a.name, b.name);
        match (&a.model, &b.model) {
            (RecommenderModel::Factors(x), RecommenderModel::Factors(y)) => {
                assert_eq!(x.item_factors, y.item_factors, "{}", a.name);
            }
            (RecommenderModel::Neighbors(x), RecommenderModel::Neighbors(y)) => {
                assert_eq!(x.offsets, y.offsets, "{}", a.name);
                assert_eq!(x.neighbors, y.neighbors, "{}", a.name);
                assert_eq!(x.weights, y.weights, "{}", a.name);
                assert_eq!(x.timeline, y.timeline, "{}", a.name);
                assert_eq!(x.transitions, y.transitions, "{}", a.name);
                // Session neighbours read session pairs instead of the histories, over a
                // wider window (a cell's day is a mean over its users).
                if let Some(sn) = x.session_neighbors.as_deref() {
                    assert!(y.session_pairs.is_some(), "{}", a.name);
                    let public = y.session_neighbors.as_deref().unwrap();
                    assert_eq!(
                        public.window_days,
                        sn.window_days * privacy::projection::PAIRS_WINDOW_FACTOR,
                        "{}",
                        a.name
                    );
                    assert_eq!(public.weight, sn.weight, "{}", a.name);
                }
            }
            (RecommenderModel::Popularity(x), RecommenderModel::Popularity(y)) => {
                assert_eq!(x, y, "{}", a.name);
            }
            (RecommenderModel::Blend(x), RecommenderModel::Blend(y)) => {
                assert_eq!(x, y, "{}", a.name);
            }
            _ => panic!("{} changed kind", a.name),
        }
    }
    // An anonymous session is answered by the public model as by the private one where
    // the answer never read histories (factor recommenders fold the session in).
    let (pe, qe) = (Engine::new(private.clone()), Engine::new(public));
    for r in private
        .recommenders
        .iter()
        .filter(|r| matches!(r.model, RecommenderModel::Factors(_)))
    {
        let answer = |e: &Engine| {
            let mut e = e.fork();
            e.put_events(&PutEventsRequest {
                session_id: "s1".into(),
                user_id: Some("s1".into()),
                event_list: ["item-01", "item-04", "item-09"]
                    .iter()
                    .enumerate()
                    .map(|(k, id)| Event {
                        event_type: "click".into(),
                        item_id: Some((*id).to_owned()),
                        sent_at: 1_700_000_000.0 + f64::from(u32::try_from(k).unwrap()),
                        ..Event::default()
                    })
                    .collect(),
                ..PutEventsRequest::default()
            })
            .unwrap();
            e.get_recommendations(&GetRecommendationsRequest {
                recommender: Some(r.name.clone()),
                user_id: Some("s1".into()),
                num_results: Some(25),
                ..GetRecommendationsRequest::default()
            })
            .unwrap()
            .item_list
            .into_iter()
            .map(|i| i.item_id)
            .collect::<Vec<_>>()
        };
        assert_eq!(answer(&pe), answer(&qe), "{}", r.name);
    }
}

#[test]
fn every_kept_pair_and_count_is_backed_by_five_users() {
    let (private, _, public, _) = private_and_public();
    let k = privacy::DEFAULT_MIN_USERS;
    let support = Support::new(&private.histories, private.catalog.len(), |_| true);
    for &c in &public.popularity.counts {
        assert!(c == 0 || c >= k);
    }
    let mut checked = 0;
    for r in &public.recommenders {
        let RecommenderModel::Neighbors(n) = &r.model else {
            continue;
        };
        let lists = std::iter::once((&n.offsets, &n.neighbors))
            .chain(n.transitions.as_deref().map(|t| (&t.offsets, &t.neighbors)));
        for (offsets, neighbors) in lists {
            for i in 0..offsets.len().saturating_sub(1) {
                for &j in &neighbors[offsets[i] as usize..offsets[i + 1] as usize] {
                    let i = u32::try_from(i).unwrap();
                    assert!(support.at_least(i, j, k), "{}: {i} → {j}", r.name);
                    checked += 1;
                }
            }
        }
        if let Some(t) = n.timeline.as_deref() {
            assert!(t.counts.iter().all(|&c| c >= k), "{} timeline", r.name);
        }
    }
    assert!(checked > 0, "some list entry was checked");
    // The rare items 45..48 (one or two users each) are in no list and have no count.
    for rare in 45..48u32 {
        assert_eq!(public.popularity.counts[rare as usize], 0);
    }
}

/// CRC-32 (IEEE), as the header's checksum.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}
