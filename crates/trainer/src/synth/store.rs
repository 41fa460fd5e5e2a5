//! The simulated store, drawn once per run: the items' categories and (category, style) groups,
//! their popularity, which are new and which trend, and their bought-together partners.

use std::collections::BTreeMap;

use super::rng::Rng;
use super::{ItemRow, Product, RetailCatalog, SynthConfig};

/// Seconds in a day.
pub(super) const DAY: i64 = 86_400;

/// A (category, style) pair.
type Style = (&'static str, &'static str);

/// Complementary (category, style) pairs: shoppers who add the first often add one of the others.
const COMPLEMENTS: &[(&str, &str, &[Style])] = &[
    (
        "footwear",
        "sneaker",
        &[("apparel", "socks"), ("accessories", "backpack")],
    ),
    (
        "footwear",
        "formal",
        &[("accessories", "belt"), ("apparel", "socks")],
    ),
    (
        "footwear",
        "boot",
        &[("apparel", "socks"), ("outdoors", "camping")],
    ),
    (
        "footwear",
        "sandals",
        &[("accessories", "glasses"), ("accessories", "bag")],
    ),
    ("apparel", "jacket", &[("apparel", "scarf")]),
    (
        "apparel",
        "shirt",
        &[("accessories", "belt"), ("accessories", "watch")],
    ),
    ("apparel", "scarf", &[("apparel", "jacket")]),
    ("apparel", "socks", &[("footwear", "sneaker")]),
    (
        "accessories",
        "handbag",
        &[("jewelry", "necklace"), ("beauty", "grooming")],
    ),
    ("accessories", "watch", &[("jewelry", "bracelet")]),
    ("accessories", "glasses", &[("footwear", "sandals")]),
    (
        "accessories",
        "backpack",
        &[("outdoors", "camping"), ("books", "travel")],
    ),
    ("accessories", "belt", &[("apparel", "shirt")]),
    ("accessories", "bag", &[("electronics", "camera")]),
    ("jewelry", "necklace", &[("jewelry", "earrings")]),
    ("jewelry", "earrings", &[("jewelry", "necklace")]),
    ("jewelry", "bracelet", &[("accessories", "watch")]),
    (
        "electronics",
        "camera",
        &[("electronics", "cable"), ("accessories", "bag")],
    ),
    (
        "electronics",
        "computer",
        &[("electronics", "keyboard"), ("electronics", "headphones")],
    ),
    (
        "electronics",
        "television",
        &[("electronics", "speaker"), ("electronics", "cable")],
    ),
    ("electronics", "speaker", &[("electronics", "cable")]),
    ("electronics", "headphones", &[("electronics", "cable")]),
    ("electronics", "keyboard", &[("electronics", "computer")]),
    ("electronics", "cable", &[("electronics", "headphones")]),
    (
        "instruments",
        "strings",
        &[("instruments", "microphone"), ("electronics", "speaker")],
    ),
    (
        "instruments",
        "keys",
        &[("instruments", "microphone"), ("electronics", "headphones")],
    ),
    ("instruments", "microphone", &[("electronics", "cable")]),
    (
        "instruments",
        "percussion",
        &[("instruments", "microphone")],
    ),
    ("instruments", "wind", &[("instruments", "microphone")]),
    (
        "furniture",
        "tables",
        &[("furniture", "chairs"), ("homedecor", "lighting")],
    ),
    (
        "furniture",
        "chairs",
        &[("furniture", "tables"), ("homedecor", "cushion")],
    ),
    (
        "furniture",
        "sofas",
        &[("homedecor", "cushion"), ("homedecor", "lighting")],
    ),
    (
        "furniture",
        "dressers",
        &[("homedecor", "decorative"), ("homedecor", "clock")],
    ),
    ("homedecor", "lighting", &[("homedecor", "decorative")]),
    ("homedecor", "cushion", &[("furniture", "sofas")]),
    ("homedecor", "clock", &[("homedecor", "decorative")]),
    ("homedecor", "decorative", &[("floral", "plant")]),
    ("homedecor", "bedroom", &[("homedecor", "cushion")]),
    (
        "housewares",
        "kitchen",
        &[("housewares", "bowls"), ("books", "cooking")],
    ),
    ("housewares", "bowls", &[("housewares", "kitchen")]),
    ("books", "cooking", &[("housewares", "kitchen")]),
    (
        "books",
        "travel",
        &[("accessories", "backpack"), ("outdoors", "camping")],
    ),
    ("groceries", "bakery", &[("groceries", "dairy")]),
    ("groceries", "dairy", &[("groceries", "bakery")]),
    ("groceries", "fruits", &[("groceries", "vegetables")]),
    ("groceries", "vegetables", &[("groceries", "fruits")]),
    ("groceries", "meat", &[("groceries", "vegetables")]),
    ("groceries", "seafood", &[("groceries", "vegetables")]),
    ("floral", "bouquet", &[("seasonal", "valentine")]),
    ("floral", "arrangement", &[("floral", "centerpiece")]),
    ("floral", "centerpiece", &[("homedecor", "decorative")]),
    ("floral", "plant", &[("homedecor", "decorative")]),
    ("floral", "wreath", &[("seasonal", "christmas")]),
    ("seasonal", "christmas", &[("floral", "wreath")]),
    (
        "seasonal",
        "valentine",
        &[("floral", "bouquet"), ("jewelry", "necklace")],
    ),
    ("seasonal", "easter", &[("groceries", "bakery")]),
    ("outdoors", "camping", &[("accessories", "backpack")]),
    ("outdoors", "fishing", &[("outdoors", "kayaking")]),
    ("outdoors", "kayaking", &[("outdoors", "fishing")]),
    ("tools", "drill", &[("tools", "set")]),
    ("tools", "saw", &[("tools", "hammer")]),
    ("tools", "hammer", &[("tools", "set")]),
    ("tools", "wrench", &[("tools", "plier")]),
    ("tools", "plier", &[("tools", "screwdriver")]),
    ("tools", "screwdriver", &[("tools", "set")]),
    ("tools", "set", &[("tools", "drill")]),
    ("tools", "axe", &[("outdoors", "camping")]),
    ("tools", "knife", &[("outdoors", "camping")]),
    ("beauty", "grooming", &[("beauty", "bathing")]),
    ("beauty", "bathing", &[("beauty", "grooming")]),
];

/// The store: items with their simulation attributes.
pub(super) struct Store {
    pub(super) items: Vec<ItemRow>,
    pub(super) item_category: Vec<u32>,
    pub(super) item_group: Vec<usize>,
    pub(super) categories: Vec<String>,
    pub(super) category_items: Vec<Vec<usize>>,
    pub(super) groups: Vec<Vec<usize>>,
    pub(super) base: Vec<f64>,
    pub(super) trending: Vec<bool>,
    pub(super) trending_items: Vec<usize>,
    pub(super) new_item: Vec<bool>,
    pub(super) partners: Vec<Vec<u32>>,
    pub(super) trend_start: i64,
    pub(super) end: i64,
    /// `SynthConfig::device_effect`.
    pub(super) device_effect: u32,
}

pub(super) fn build_store(
    catalog: &RetailCatalog,
    cfg: &SynthConfig,
    start: i64,
    end: i64,
    rng: &mut Rng,
) -> Store {
    let products: Vec<&Product> = catalog
        .products
        .iter()
        .filter(|p| p.in_web_store())
        .collect();
    let layout = Layout::of(catalog, &products);
    let (base, rank) = popularity(&layout, rng);
    let new_item = pick_new_items(cfg, products.len(), rng);
    let creation = creation_times(cfg, &new_item, start, end, rng);
    let trend_days = i64::from(cfg.trend_days.clamp(1, cfg.days.max(1)));
    let trend_start = end - trend_days * DAY;
    let trending = pick_trending(cfg, &layout, &new_item, &rank, rng);
    let partners = bought_together(&products, &layout, &new_item, &base, rng);
    let items = products
        .iter()
        .zip(&creation)
        .map(|(p, &created)| ItemRow {
            id: p.id.clone(),
            price: p.price,
            category_l1: p.category.clone(),
            category_l2: p.style.clone(),
            gender_affinity: p.gender_affinity.clone().filter(|g| !g.is_empty()),
            promoted: p.promoted,
            current_stock: p.current_stock,
            creation_timestamp: created,
            name: p.name.clone(),
            description: p.description.clone(),
        })
        .collect();
    Store {
        items,
        item_category: layout.item_category,
        item_group: layout.item_group,
        categories: layout.categories,
        category_items: layout.category_items,
        groups: layout.groups,
        base,
        trending_items: (0..products.len()).filter(|&i| trending[i]).collect(),
        trending,
        new_item,
        partners,
        trend_start,
        end,
        device_effect: cfg.device_effect,
    }
}

/// Where each item of the store sits: its category and its (category, style) group.
struct Layout<'a> {
    categories: Vec<String>,
    category_items: Vec<Vec<usize>>,
    item_category: Vec<u32>,
    group_index: BTreeMap<(&'a str, &'a str), usize>,
    groups: Vec<Vec<usize>>,
    item_group: Vec<usize>,
}

impl<'a> Layout<'a> {
    /// Categories: catalogue order first, then any others in product order; only those with
    /// items.
    fn of(catalog: &'a RetailCatalog, products: &[&'a Product]) -> Layout<'a> {
        let n = products.len();
        let mut names: Vec<&str> = catalog.categories.iter().map(|c| c.name.as_str()).collect();
        for p in products {
            if !names.contains(&p.category.as_str()) {
                names.push(&p.category);
            }
        }
        names.retain(|c| products.iter().any(|p| p.category == *c));
        let categories: Vec<String> = names.iter().map(|s| (*s).to_string()).collect();
        let mut category_items = vec![Vec::new(); categories.len()];
        let mut item_category = Vec::with_capacity(n);
        let mut group_index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut item_group = Vec::with_capacity(n);
        for (i, p) in products.iter().enumerate() {
            let c = names.iter().position(|c| *c == p.category).unwrap_or(0);
            category_items[c].push(i);
            item_category.push(c as u32);
            let next = groups.len();
            let g = *group_index
                .entry((p.category.as_str(), p.style.as_str()))
                .or_insert(next);
            if g == groups.len() {
                groups.push(Vec::new());
            }
            groups[g].push(i);
            item_group.push(g);
        }
        Layout {
            categories,
            category_items,
            item_category,
            group_index,
            groups,
            item_group,
        }
    }
}

/// Popularity: Zipf over a random ranking within each category. Returns each item's base weight
/// and its rank in its category.
fn popularity(layout: &Layout<'_>, rng: &mut Rng) -> (Vec<f64>, Vec<usize>) {
    let n = layout.item_category.len();
    let mut base = vec![0.0; n];
    let mut rank = vec![0usize; n];
    for members in &layout.category_items {
        let mut order = members.clone();
        rng.shuffle(&mut order);
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r;
            base[i] = 1.0 / (r as f64 + 1.0);
        }
    }
    (base, rank)
}

/// New items: `SynthConfig::new_item_fraction` of the `n` items, at random.
fn pick_new_items(cfg: &SynthConfig, n: usize, rng: &mut Rng) -> Vec<bool> {
    let n_new = fraction_count(cfg.new_item_fraction, n);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut new_item = vec![false; n];
    for &i in order.iter().take(n_new) {
        new_item[i] = true;
    }
    new_item
}

/// Creation times: new items within the last `new_item_days` of the period, the others 30 days
/// to about two years before it.
fn creation_times(
    cfg: &SynthConfig,
    new_item: &[bool],
    start: i64,
    end: i64,
    rng: &mut Rng,
) -> Vec<i64> {
    let new_window = (i64::from(cfg.new_item_days.max(1)) * DAY).min(end - start);
    new_item
        .iter()
        .map(|&new| {
            if new {
                end - new_window + rng.below((new_window - 3600).max(1) as u64) as i64
            } else {
                start - DAY * (30 + rng.below(700) as i64) - rng.below(DAY as u64) as i64
            }
        })
        .collect()
}

/// Trending items: established, not already top of their category.
fn pick_trending(
    cfg: &SynthConfig,
    layout: &Layout<'_>,
    new_item: &[bool],
    rank: &[usize],
    rng: &mut Rng,
) -> Vec<bool> {
    let n = new_item.len();
    let n_trend = fraction_count(cfg.trending_fraction, n);
    let mut candidates: Vec<usize> = (0..n)
        .filter(|&i| {
            !new_item[i]
                && rank[i] >= 3
                && layout.category_items[layout.item_category[i] as usize].len() >= 8
        })
        .collect();
    rng.shuffle(&mut candidates);
    let mut trending = vec![false; n];
    for &i in candidates.iter().take(n_trend) {
        trending[i] = true;
    }
    trending
}

/// Bought-together partners (up to three per established item, weighted by popularity) from
/// complementary styles (same style when none is listed).
fn bought_together(
    products: &[&Product],
    layout: &Layout<'_>,
    new_item: &[bool],
    base: &[f64],
    rng: &mut Rng,
) -> Vec<Vec<u32>> {
    let n = products.len();
    let mut partners = vec![Vec::new(); n];
    let mut w = Vec::new();
    for i in 0..n {
        if new_item[i] {
            continue;
        }
        let p = products[i];
        let targets: Vec<usize> = COMPLEMENTS
            .iter()
            .find(|(c, s, _)| *c == p.category && *s == p.style)
            .map(|(_, _, t)| {
                t.iter()
                    .filter_map(|&(c, s)| layout.group_index.get(&(c, s)).copied())
                    .collect()
            })
            .unwrap_or_default();
        let targets = if targets.is_empty() {
            vec![layout.item_group[i]]
        } else {
            targets
        };
        let pool: Vec<usize> = targets
            .iter()
            .flat_map(|&g| layout.groups[g].iter().copied())
            .filter(|&j| j != i && !new_item[j])
            .collect();
        for _ in 0..3 {
            w.clear();
            w.extend(pool.iter().map(|&j| {
                if partners[i].contains(&(j as u32)) {
                    0.0
                } else {
                    base[j]
                }
            }));
            match rng.weighted(&w) {
                Some(k) => partners[i].push(pool[k] as u32),
                None => break,
            }
        }
    }
    partners
}

fn fraction_count(fraction: f64, n: usize) -> usize {
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((f * n as f64).round() as usize).min(n)
}
