//! The synthetic storefront generator: the retail catalogue loader, the shipped `data/demo/` files
//! (which must equal what the generator produces with the default settings), determinism, and the
//! behaviour the recommenders rely on (funnel, personas, device context, trends, cold items,
//! bought-together pairs).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use edgerec_trainer::synth::{
    self, Device, EventType, Interaction, RetailCatalog, SynthConfig, SynthOutput,
};

const DAY: i64 = 86_400;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn catalog() -> &'static RetailCatalog {
    static CATALOG: OnceLock<RetailCatalog> = OnceLock::new();
    CATALOG
        .get_or_init(|| RetailCatalog::load(&repo().join("data/retail")).expect("load data/retail"))
}

fn default_output() -> &'static SynthOutput {
    static OUTPUT: OnceLock<SynthOutput> = OnceLock::new();
    OUTPUT.get_or_init(|| synth::generate(catalog(), &SynthConfig::default()))
}

/// The default output plus two other seeds: the behaviour must not hinge on one seed.
fn outputs() -> Vec<&'static SynthOutput> {
    static OTHERS: OnceLock<Vec<SynthOutput>> = OnceLock::new();
    let others = OTHERS.get_or_init(|| {
        [1, 2]
            .iter()
            .map(|&seed| {
                synth::generate(
                    catalog(),
                    &SynthConfig {
                        seed,
                        ..SynthConfig::default()
                    },
                )
            })
            .collect()
    });
    std::iter::once(default_output()).chain(others).collect()
}

fn events(out: &SynthOutput, kind: EventType) -> impl Iterator<Item = &Interaction> {
    out.interactions
        .iter()
        .filter(move |e| e.event_type == kind)
}

#[test]
fn catalogue_loads() {
    let c = catalog();
    assert_eq!(c.products.len(), 2465);
    assert_eq!(c.categories.len(), 20);
    assert_eq!(c.users.len(), 5250);
    let p = &c.products[0];
    assert_eq!(p.id, "6579c22f-be2b-444c-a52b-0116dd82df6c");
    assert_eq!(p.name, "Adventure-Ready Expedition Backpack");
    assert_eq!(
        (p.category.as_str(), p.style.as_str()),
        ("accessories", "backpack")
    );
    assert!((p.price - 129.99).abs() < 1e-9);
    assert_eq!(p.gender_affinity.as_deref(), Some("F"));
    assert_eq!(p.current_stock, 15);
    assert_eq!(p.image, "6579c22f-be2b-444c-a52b-0116dd82df6c.jpg");
    assert!(
        p.description
            .starts_with("Embark on your next outdoor journey")
    );
    assert!(p.in_web_store());
    assert_eq!(c.products.iter().filter(|p| p.promoted).count(), 609);
    assert_eq!(
        c.products
            .iter()
            .filter(|p| p.gender_affinity.is_some())
            .count(),
        749
    );
    assert_eq!(c.products.iter().filter(|p| !p.in_web_store()).count(), 16);
    let electronics = c.categories.iter().find(|k| k.id == 4).expect("category 4");
    assert_eq!(electronics.name, "electronics");
    assert!(!electronics.has_gender_affinity);
    let u = &c.users[0];
    assert_eq!((u.id.as_str(), u.gender.as_str(), u.age), ("1", "M", 31));
    assert_eq!(
        u.persona_categories().collect::<Vec<_>>(),
        ["furniture", "homedecor", "housewares"]
    );
    assert_eq!(u.discount_persona, "lower_priced_products");
    assert!(c.product("2e852905-c6f4-47db-802c-654013571922").is_some());
}

#[test]
fn missing_catalogue_is_an_error() {
    let err = RetailCatalog::load(&repo().join("data/does-not-exist")).expect_err("missing dir");
    assert!(err.to_string().contains("products.yaml"), "{err}");
}

#[test]
fn shipped_demo_data_matches_the_generator() {
    let demo = repo().join("data/demo");
    for (name, bytes) in synth::render_files(default_output()) {
        let shipped = std::fs::read(demo.join(name)).unwrap_or_default();
        assert!(
            shipped == bytes,
            "data/demo/{name} differs from the generator's default output; regenerate it with \
             `cargo run -p edgerec-trainer --release -- generate --catalog data/retail --out data/demo`"
        );
    }
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let cfg = SynthConfig {
        users: 80,
        days: 10,
        seed: 7,
        ..SynthConfig::default()
    };
    let a = synth::render_files(&synth::generate(catalog(), &cfg));
    let b = synth::render_files(&synth::generate(catalog(), &cfg));
    assert_eq!(a, b);
    let c = synth::render_files(&synth::generate(catalog(), &SynthConfig { seed: 8, ..cfg }));
    let interactions = |files: &[(&str, Vec<u8>)]| files[0].1.clone();
    assert_ne!(interactions(&a), interactions(&c));
}

#[test]
fn default_size_fits_demos_and_ci() {
    let out = default_output();
    let s = out.summary();
    assert_eq!(s.users, 500);
    assert_eq!(s.active_users, 500);
    assert_eq!(s.items, 2449, "web-store items only");
    assert!(
        (20_000..=40_000).contains(&s.interactions),
        "{} interactions",
        s.interactions
    );
    let bytes: usize = synth::render_files(out).iter().map(|(_, b)| b.len()).sum();
    assert!(bytes < 3 << 20, "{bytes} bytes");
    for e in &out.interactions {
        assert!((out.start..out.end).contains(&e.timestamp));
    }
    assert!(
        out.interactions
            .windows(2)
            .all(|w| w[0].timestamp <= w[1].timestamp),
        "sorted by time"
    );
}

#[test]
fn funnel_ratios_and_order() {
    for out in outputs() {
        check_funnel_ratios_and_order(out);
    }
}

fn check_funnel_ratios_and_order(out: &SynthOutput) {
    let [views, carts, purchases] = out.summary().per_event_type;
    let cart_rate = carts as f64 / views as f64;
    let buy_rate = purchases as f64 / carts as f64;
    assert!(
        (0.10..=0.15).contains(&cart_rate),
        "AddToCart/View {cart_rate}"
    );
    assert!(
        (0.30..=0.50).contains(&buy_rate),
        "Purchase/AddToCart {buy_rate}"
    );
    // Within a session, a cart follows a view and a purchase follows a cart of the same item.
    let mut seen: HashMap<(u32, u32), [bool; 3]> = HashMap::new();
    for e in &out.interactions {
        let state = seen.entry((e.session, e.item)).or_default();
        match e.event_type {
            EventType::View => {}
            EventType::AddToCart => assert!(state[0], "cart without view"),
            EventType::Purchase => assert!(state[1], "purchase without cart"),
        }
        state[e.event_type as usize] = true;
        let price = out.items[e.item as usize].price;
        match e.event_type {
            EventType::Purchase => assert_eq!(e.event_value, Some(price)),
            _ => assert_eq!(e.event_value, None),
        }
    }
}

#[test]
fn persona_categories_dominate_views() {
    for out in outputs() {
        check_persona_categories_dominate_views(out);
    }
}

fn check_persona_categories_dominate_views(out: &SynthOutput) {
    let mut per_user = vec![(0usize, 0usize); out.users.len()];
    for e in events(out, EventType::View) {
        let persona = &out.truth.persona_categories[e.user as usize];
        let hit = persona.contains(&out.item_category[e.item as usize]);
        per_user[e.user as usize].0 += usize::from(hit);
        per_user[e.user as usize].1 += 1;
    }
    let (hits, total) = per_user
        .iter()
        .fold((0, 0), |(h, t), (a, b)| (h + a, t + b));
    let share = hits as f64 / total as f64;
    assert!(share > 0.8, "persona share of views {share}");
    let active: Vec<_> = per_user.iter().filter(|(_, n)| *n >= 20).collect();
    let dominated = active.iter().filter(|(h, n)| *h * 2 > *n).count();
    assert!(
        dominated * 100 >= active.len() * 95,
        "{dominated} of {} users",
        active.len()
    );
    // Every user has three persona categories (all of them exist in the catalogue).
    assert!(out.truth.persona_categories.iter().all(|p| p.len() == 3));
}

#[test]
fn device_context_has_signal() {
    for out in outputs() {
        check_device_context_has_signal(out);
    }
}

fn check_device_context_has_signal(out: &SynthOutput) {
    let category = |name: &str| {
        out.categories
            .iter()
            .position(|c| c == name)
            .expect("category") as u32
    };
    let heavy = [
        category("furniture"),
        category("electronics"),
        category("instruments"),
    ];
    let mut price = [0.0f64; 3];
    let mut count = [0usize; 3];
    let mut heavy_views = [0usize; 3];
    for e in events(out, EventType::View) {
        let d = e.device as usize;
        price[d] += out.items[e.item as usize].price;
        count[d] += 1;
        heavy_views[d] += usize::from(heavy.contains(&out.item_category[e.item as usize]));
    }
    let mean = |d: Device| price[d as usize] / count[d as usize] as f64;
    let heavy_share = |d: Device| heavy_views[d as usize] as f64 / count[d as usize] as f64;
    assert!(
        count.iter().all(|&c| c > 1000),
        "every device is used: {count:?}"
    );
    assert!(
        mean(Device::Mobile) < 0.6 * mean(Device::Desktop),
        "mobile {} desktop {}",
        mean(Device::Mobile),
        mean(Device::Desktop)
    );
    assert!(
        heavy_share(Device::Desktop) > 1.6 * heavy_share(Device::Mobile),
        "furniture/electronics/instruments share: desktop {} mobile {}",
        heavy_share(Device::Desktop),
        heavy_share(Device::Mobile)
    );
}

#[test]
fn trending_items_rise() {
    for out in outputs() {
        check_trending_items_rise(out);
    }
}

fn check_trending_items_rise(out: &SynthOutput) {
    let trending: HashSet<u32> = out.truth.trending.iter().copied().collect();
    assert!(trending.len() >= 40, "{} trending items", trending.len());
    let late_start = out.end - 3 * DAY;
    let (mut early, mut late, mut early_all, mut late_all) = (0usize, 0usize, 0usize, 0usize);
    for e in &out.interactions {
        let is_early = e.timestamp < out.truth.trend_start;
        let is_late = e.timestamp >= late_start;
        early_all += usize::from(is_early);
        late_all += usize::from(is_late);
        if trending.contains(&e.item) {
            early += usize::from(is_early);
            late += usize::from(is_late);
        }
    }
    // Share of all interactions that go to the trending items, before vs in the last three days.
    let before = early as f64 / early_all as f64;
    let after = late as f64 / late_all as f64;
    assert!(
        after > 3.0 * before,
        "trending share before {before}, last 3 days {after}"
    );
    // Most trending items individually gain share.
    let mut rising = 0;
    for &i in &trending {
        let n_early = out
            .interactions
            .iter()
            .filter(|e| e.item == i && e.timestamp < out.truth.trend_start)
            .count();
        let n_late = out
            .interactions
            .iter()
            .filter(|e| e.item == i && e.timestamp >= late_start)
            .count();
        if n_late as f64 / late_all as f64 > n_early as f64 / early_all as f64 {
            rising += 1;
        }
    }
    assert!(
        rising * 10 >= trending.len() * 8,
        "{rising} of {} trending items rise",
        trending.len()
    );
}

#[test]
fn new_items_are_cold() {
    for out in outputs() {
        check_new_items_are_cold(out);
    }
}

fn check_new_items_are_cold(out: &SynthOutput) {
    let window = out.end - 7 * DAY;
    assert!(out.truth.new_items.len() >= 50);
    let mut counts = Vec::new();
    for &i in &out.truth.new_items {
        let created = out.items[i as usize].creation_timestamp;
        assert!((window..out.end).contains(&created));
        let mine: Vec<_> = out.interactions.iter().filter(|e| e.item == i).collect();
        assert!(
            mine.iter().all(|e| e.timestamp >= created),
            "interaction before creation"
        );
        counts.push(mine.len());
    }
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    assert!(
        (1..5).contains(&median),
        "median interactions of new items {median}"
    );
    let new: HashSet<u32> = out.truth.new_items.iter().copied().collect();
    for (i, item) in out.items.iter().enumerate() {
        if !new.contains(&(i as u32)) {
            assert!(item.creation_timestamp < out.start);
        }
    }
}

#[test]
fn bought_together_pairs_are_partners() {
    for out in outputs() {
        check_bought_together_pairs_are_partners(out);
    }
}

fn check_bought_together_pairs_are_partners(out: &SynthOutput) {
    let mut baskets: HashMap<u32, Vec<u32>> = HashMap::new();
    for e in events(out, EventType::Purchase) {
        baskets.entry(e.session).or_default().push(e.item);
    }
    let (mut pairs, mut partner_pairs) = (0usize, 0usize);
    for basket in baskets.values() {
        for (k, &a) in basket.iter().enumerate() {
            for &b in &basket[k + 1..] {
                pairs += 1;
                let linked = out.truth.partners[a as usize].contains(&b)
                    || out.truth.partners[b as usize].contains(&a);
                partner_pairs += usize::from(linked);
            }
        }
    }
    assert!(pairs > 300, "{pairs} co-purchased pairs");
    assert!(
        partner_pairs * 100 > pairs * 35,
        "{partner_pairs} of {pairs} co-purchased pairs are partners"
    );
    // Partners come from complementary styles: a camera's partners are cables or bags.
    let camera = out
        .items
        .iter()
        .position(|i| i.category_l2 == "camera")
        .expect("a camera");
    for &p in &out.truth.partners[camera] {
        let p = &out.items[p as usize];
        assert!(
            matches!(p.category_l2.as_str(), "cable" | "bag"),
            "{}",
            p.category_l2
        );
    }
}

#[test]
fn csv_files_follow_their_schemas() {
    let out = default_output();
    let files: HashMap<&str, Vec<u8>> = synth::render_files(out).into_iter().collect();
    for (csv_name, schema_name, rows) in [
        (
            synth::INTERACTIONS_CSV,
            synth::INTERACTIONS_SCHEMA,
            out.interactions.len(),
        ),
        (synth::ITEMS_CSV, synth::ITEMS_SCHEMA, out.items.len()),
        (synth::USERS_CSV, synth::USERS_SCHEMA, out.users.len()),
    ] {
        let schema: serde_json::Value =
            serde_json::from_slice(&files[schema_name]).expect("schema JSON");
        assert_eq!(schema["type"], "record");
        assert_eq!(schema["namespace"], "com.amazonaws.personalize.schema");
        assert_eq!(schema["version"], "1.0");
        let fields: Vec<&str> = schema["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["name"].as_str().expect("name"))
            .collect();
        let mut reader = csv::Reader::from_reader(files[csv_name].as_slice());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(header, fields, "{csv_name} header vs {schema_name}");
        let records: Vec<csv::StringRecord> = reader
            .records()
            .collect::<Result<_, _>>()
            .expect("valid CSV");
        assert_eq!(records.len(), rows, "{csv_name}");
        assert!(records.iter().all(|r| r.len() == fields.len()));
    }
    let mut reader = csv::Reader::from_reader(files[synth::INTERACTIONS_CSV].as_slice());
    for r in reader.records() {
        let r = r.expect("row");
        assert!(["View", "AddToCart", "Purchase"].contains(&&r[3]));
        assert!(["mobile", "desktop", "tablet"].contains(&&r[5]));
        assert_eq!(r[4].is_empty(), &r[3] != "Purchase");
        r[2].parse::<i64>().expect("TIMESTAMP");
    }
    let items = String::from_utf8(files[synth::ITEMS_CSV].clone()).expect("UTF-8");
    let first_row = items.lines().nth(1).expect("a row");
    assert!(first_row.starts_with(
        "6579c22f-be2b-444c-a52b-0116dd82df6c,129.99,accessories,backpack,F,false,15,"
    ));
    // Text fields carry no inner double quotes (they are written as single quotes).
    let mut reader = csv::Reader::from_reader(items.as_bytes());
    assert!(
        reader
            .records()
            .all(|r| r.is_ok_and(|r| !r[8].contains('"') && !r[9].contains('"')))
    );
    let items_schema: serde_json::Value =
        serde_json::from_slice(&files[synth::ITEMS_SCHEMA]).expect("JSON");
    let flag = |name: &str, key: &str| {
        items_schema["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["name"] == name && f[key] == true)
    };
    assert!(
        flag("CATEGORY_L1", "categorical")
            && flag("PRODUCT_DESCRIPTION", "textual")
            && flag("PRODUCT_NAME", "itemName")
    );
}

#[test]
fn more_users_than_profiles_and_no_profiles() {
    let mut small = catalog().clone();
    small.users.truncate(10);
    let cfg = SynthConfig {
        users: 30,
        days: 5,
        ..SynthConfig::default()
    };
    let out = synth::generate(&small, &cfg);
    let ids: HashSet<&str> = out.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), 30);
    assert!(ids.contains("1") && ids.contains("11") && ids.contains("30"));
    small.users.clear();
    let out = synth::generate(&small, &cfg);
    assert_eq!(out.users.len(), 30);
    assert!(out.truth.persona_categories.iter().all(|p| p.len() == 3));
    assert!(!out.interactions.is_empty());
}

#[test]
fn settings_are_validated() {
    assert!(SynthConfig::default().validate().is_ok());
    assert!(
        SynthConfig {
            users: 0,
            ..SynthConfig::default()
        }
        .validate()
        .is_err()
    );
    assert!(
        SynthConfig {
            days: 0,
            ..SynthConfig::default()
        }
        .validate()
        .is_err()
    );
    assert!(
        SynthConfig {
            trending_fraction: 0.9,
            ..SynthConfig::default()
        }
        .validate()
        .is_err()
    );
}

#[test]
fn demo_training_config_parses() {
    let text = std::fs::read_to_string(repo().join("data/demo/edgerec.toml"))
        .expect("data/demo/edgerec.toml");
    let config = edgerec_trainer::config::TrainConfig::parse(&text).expect("valid config");
    let names: HashSet<&str> = config
        .recommenders
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    for name in [
        "recommended-for-you",
        "also-viewed",
        "frequently-bought-together",
        "best-sellers",
    ] {
        assert!(names.contains(name), "{name}");
    }
}
