//! The shopper simulation behind [`generate`]: users, their sessions and what they do in them,
//! over the store that `store` draws.

use super::rng::Rng;
use super::store::{DAY, Store, build_store};
use super::{
    CatalogUser, Device, EventType, GroundTruth, Interaction, RetailCatalog, SynthConfig,
    SynthOutput, UserRow,
};

/// Random streams (each user also gets its own stream).
const STREAM_SETUP: u64 = 1;
const STREAM_USERS: u64 = 2;
const STREAM_SESSIONS: u64 = 3;

/// Share of session category picks spread over the whole store instead of the persona.
const NOISE: f64 = 0.12;
/// Persona category weights, in persona order.
const PERSONA_WEIGHTS: [f64; 3] = [0.5, 0.3, 0.2];
/// Relative frequency of 1, 2, … 14 views in a session.
const VIEW_COUNTS: [f64; 14] = [
    10.0, 12.0, 14.0, 14.0, 12.0, 10.0, 8.0, 6.0, 5.0, 3.0, 2.0, 2.0, 1.0, 1.0,
];
/// Session starts per hour of the day (UTC stands in for local time).
const HOURS: [f64; 24] = [
    1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.4, 2.0, 2.4, 2.6, 2.8, 3.2, 3.0, 2.8, 2.8, 3.0, 3.4, 4.0,
    4.6, 5.0, 4.6, 3.4, 2.0,
];
/// Probability that the next view switches to another category.
const SWITCH_CATEGORY: f64 = 0.25;
/// Probability that the next view stays in the previous item's style.
const SAME_STYLE: f64 = 0.45;
/// Base add-to-cart probability per view.
const CART_BASE: f64 = 0.085;
/// After an add-to-cart: probability to view a bought-together partner, then to add it too.
const PARTNER_VIEW: f64 = 0.6;
const PARTNER_CART: f64 = 0.5;
/// How often each of an item's (up to three) partners is the one viewed.
const PARTNER_CHOICE: [f64; 3] = [0.7, 0.2, 0.1];
/// Probability that a session with a cart checks out, and that each cart item is bought then.
const CHECKOUT: f64 = 0.55;
const BUY_CART_ITEM: f64 = 0.8;
/// Popularity multiplier of trending items at the very end of the period (`1 + TREND_BOOST`).
const TREND_BOOST: f64 = 12.0;
/// During the trend window, probability (times the window's progress, 0 → 1) that a session opens
/// on a trending item (a "trending now" shelf, outside buzz).
const TREND_SHELF: f64 = 0.3;
/// Popularity weight of new items after their creation (about that of the 8th item of a category,
/// whatever their rank), so they collect a few interactions but stay cold.
const NEW_ITEM_WEIGHT: f64 = 0.12;

/// Category multipliers per device (categories not listed: 1.0).
fn device_category_factor(device: Device, category: &str) -> f64 {
    match (device, category) {
        (Device::Mobile, "beauty") => 1.7,
        (Device::Mobile, "apparel") => 1.6,
        (Device::Mobile, "footwear" | "jewelry") => 1.5,
        (Device::Mobile, "accessories") => 1.3,
        (Device::Mobile, "floral" | "seasonal") => 1.2,
        (Device::Mobile, "furniture") => 0.4,
        (Device::Mobile, "instruments") => 0.55,
        (Device::Mobile, "electronics" | "tools") => 0.65,
        (Device::Mobile, "homedecor") => 0.8,
        (Device::Desktop, "furniture" | "electronics") => 1.7,
        (Device::Desktop, "instruments") => 1.5,
        (Device::Desktop, "tools") => 1.4,
        (Device::Desktop, "outdoors") => 1.2,
        (Device::Desktop, "beauty") => 0.6,
        (Device::Desktop, "jewelry" | "apparel") => 0.75,
        (Device::Tablet, "books") => 1.8,
        (Device::Tablet, "homedecor" | "housewares") => 1.4,
        (Device::Tablet, "groceries") => 1.3,
        (Device::Tablet, "tools") => 0.8,
        _ => 1.0,
    }
}

/// Price multipliers per device.
fn device_price_factor(device: Device, price: f64) -> f64 {
    match device {
        Device::Mobile if price <= 50.0 => 1.3,
        Device::Mobile if price <= 200.0 => 1.0,
        Device::Mobile if price <= 1000.0 => 0.5,
        Device::Mobile => 0.25,
        Device::Desktop if price <= 50.0 => 0.85,
        Device::Desktop if price <= 200.0 => 1.0,
        Device::Desktop if price <= 1000.0 => 1.3,
        Device::Desktop => 1.6,
        Device::Tablet => 1.0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discount {
    LowerPriced,
    AllDiscounts,
    Indifferent,
}

impl Discount {
    fn parse(s: &str) -> Self {
        match s {
            "lower_priced_products" => Discount::LowerPriced,
            "all_discounts" => Discount::AllDiscounts,
            _ => Discount::Indifferent,
        }
    }

    fn price_factor(self, price: f64) -> f64 {
        match self {
            Discount::LowerPriced if price <= 50.0 => 1.4,
            Discount::LowerPriced if price <= 200.0 => 1.0,
            Discount::LowerPriced => 0.5,
            _ => 1.0,
        }
    }

    fn promoted_factor(self) -> f64 {
        if self == Discount::AllDiscounts {
            2.2
        } else {
            1.3
        }
    }
}

struct SimUser {
    gender: String,
    discount: Discount,
    /// Category weights before the device factor.
    preference: Vec<f64>,
    /// Mobile, desktop, tablet.
    device: [f64; 3],
    sessions: u32,
}

/// Simulate `cfg.users` shoppers over `catalog` (see the module documentation for the behaviour).
///
/// Out-of-range settings are clamped (use [`SynthConfig::validate`] to reject them instead).
#[must_use]
pub fn generate(catalog: &RetailCatalog, cfg: &SynthConfig) -> SynthOutput {
    generate_with(catalog, cfg, crate::progress::SILENT)
}

/// [`generate`] reporting to `progress`: one unit per simulated user.
#[must_use]
pub fn generate_with(
    catalog: &RetailCatalog,
    cfg: &SynthConfig,
    progress: &dyn crate::progress::Progress,
) -> SynthOutput {
    let days = cfg.days.clamp(1, 3650);
    let start = cfg.start.clamp(0, super::MAX_START);
    let end = start + i64::from(days) * DAY;
    let mut rng = Rng::stream(cfg.seed, STREAM_SETUP, 0);
    let store = build_store(catalog, cfg, start, end, &mut rng);

    let pool: Vec<&CatalogUser> = catalog.users.iter().collect();
    let n_users = cfg.users.max(1);
    let mut users = Vec::with_capacity(n_users);
    let mut sim_users = Vec::with_capacity(n_users);
    let mut persona_categories = Vec::with_capacity(n_users);
    let mut next_id = pool
        .iter()
        .filter_map(|u| u.id.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    for u in 0..n_users {
        let mut urng = Rng::stream(cfg.seed, STREAM_USERS, u as u64);
        let row = match pool.get(u) {
            Some(p) => UserRow {
                id: p.id.clone(),
                age: p.age,
                gender: p.gender.clone(),
                persona: p.persona.clone(),
                discount_persona: p.discount_persona.clone(),
            },
            None => {
                let id = next_id.to_string();
                next_id += 1;
                synthetic_user(id, &pool, &store, &mut urng)
            }
        };
        let (sim, persona) = sim_user(&row, &store, cfg, &mut urng);
        users.push(row);
        sim_users.push(sim);
        persona_categories.push(persona);
    }

    let mut events: Vec<(Interaction, u32)> = Vec::new();
    let mut session_id = 0u32;
    let mut weights = Vec::new();
    progress.start(
        "simulating shoppers",
        Some(sim_users.len() as u64),
        crate::progress::Unit::Count("users"),
    );
    for (u, sim) in sim_users.iter().enumerate() {
        let mut srng = Rng::stream(cfg.seed, STREAM_SESSIONS, u as u64);
        let mut starts: Vec<i64> = (0..sim.sessions)
            .map(|_| {
                let day = srng.below(u64::from(days)) as i64;
                let hour = srng.weighted(&HOURS).unwrap_or(12) as i64;
                start + day * DAY + hour * 3600 + srng.below(3600) as i64
            })
            .collect();
        starts.sort_unstable();
        for t0 in starts {
            simulate_session(
                &store,
                sim,
                u as u32,
                session_id,
                t0,
                &mut srng,
                &mut weights,
                &mut events,
            );
            session_id += 1;
        }
        progress.advance(1);
    }
    progress.start(
        "ordering the events",
        None,
        crate::progress::Unit::Count("events"),
    );
    events.sort_by(|(a, sa), (b, sb)| {
        a.timestamp
            .cmp(&b.timestamp)
            .then(a.user.cmp(&b.user))
            .then(sa.cmp(sb))
    });
    let interactions = events.into_iter().map(|(e, _)| e).collect();

    let truth = GroundTruth {
        trending: flags_to_indices(&store.trending),
        new_items: flags_to_indices(&store.new_item),
        trend_start: store.trend_start,
        partners: store.partners,
        persona_categories,
    };
    SynthOutput {
        start,
        end,
        categories: store.categories,
        items: store.items,
        item_category: store.item_category,
        users,
        interactions,
        truth,
    }
}

fn flags_to_indices(flags: &[bool]) -> Vec<u32> {
    flags
        .iter()
        .enumerate()
        .filter(|(_, f)| **f)
        .map(|(i, _)| i as u32)
        .collect()
}

/// `factor` to the integer power `k` (multiplications only, so the output stays the same on
/// every platform); `k` = 1 is `factor` itself, 0 is 1.
fn amplify(factor: f64, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, _| acc * factor)
}

fn synthetic_user(id: String, pool: &[&CatalogUser], store: &Store, rng: &mut Rng) -> UserRow {
    let age = 18 + rng.below(62) as u32;
    if !pool.is_empty() {
        let t = pool[rng.index(pool.len())];
        return UserRow {
            id,
            age,
            gender: t.gender.clone(),
            persona: t.persona.clone(),
            discount_persona: t.discount_persona.clone(),
        };
    }
    let mut cats: Vec<usize> = (0..store.categories.len()).collect();
    rng.shuffle(&mut cats);
    let persona: Vec<&str> = cats
        .iter()
        .take(3)
        .map(|&c| store.categories[c].as_str())
        .collect();
    let discounts = [
        "lower_priced_products",
        "all_discounts",
        "discount_indifferent",
    ];
    UserRow {
        id,
        age,
        gender: if rng.chance(0.5) { "F" } else { "M" }.to_string(),
        persona: persona.join("_"),
        discount_persona: discounts[rng.index(3)].to_string(),
    }
}

fn sim_user(row: &UserRow, store: &Store, cfg: &SynthConfig, rng: &mut Rng) -> (SimUser, Vec<u32>) {
    let sizes: Vec<f64> = store
        .category_items
        .iter()
        .map(|v| v.len() as f64)
        .collect();
    let total: f64 = sizes.iter().sum::<f64>().max(1.0);
    let mut persona = Vec::new();
    for name in row.persona.split('_') {
        if let Some(c) = store.categories.iter().position(|c| c == name)
            && !persona.contains(&(c as u32))
        {
            persona.push(c as u32);
        }
    }
    let mut preference: Vec<f64> = sizes.iter().map(|s| s / total).collect();
    if !persona.is_empty() {
        for p in &mut preference {
            *p *= NOISE;
        }
        let jitter: Vec<f64> = persona
            .iter()
            .enumerate()
            .map(|(r, _)| {
                PERSONA_WEIGHTS.get(r).copied().unwrap_or(0.1) * (0.75 + 0.5 * rng.unit())
            })
            .collect();
        let jsum: f64 = jitter.iter().sum();
        for (&c, j) in persona.iter().zip(&jitter) {
            preference[c as usize] += (1.0 - NOISE) * j / jsum;
        }
    }

    let mut device = match row.age {
        0..30 => [0.65, 0.25, 0.10],
        30..45 => [0.5, 0.35, 0.15],
        45..60 => [0.35, 0.45, 0.2],
        _ => [0.25, 0.5, 0.25],
    };
    for d in &mut device {
        *d *= 0.6 + 0.8 * rng.unit();
    }
    let spread = 4.0 * (cfg.sessions_per_user.clamp(2.0, 1000.0) - 1.5);
    let sessions = 2 + (spread * rng.unit() * rng.unit()) as u32;
    let sim = SimUser {
        gender: row.gender.clone(),
        discount: Discount::parse(&row.discount_persona),
        preference,
        device,
        sessions,
    };
    (sim, persona)
}

impl Store {
    /// Progress through the trend window: 0 before and at its start, 1 at the end of the period.
    fn trend_progress(&self, t: i64) -> f64 {
        if t < self.trend_start {
            return 0.0;
        }
        (t - self.trend_start) as f64 / (self.end - self.trend_start) as f64
    }

    fn trend_factor(&self, t: i64) -> f64 {
        let x = self.trend_progress(t);
        1.0 + TREND_BOOST * x * x
    }

    /// Weight of item `i` for this shopper, device and time.
    fn weight(&self, i: usize, user: &SimUser, device: Device, t: i64, trend: f64) -> f64 {
        let item = &self.items[i];
        let mut w = self.base[i];
        if self.new_item[i] {
            if t < item.creation_timestamp {
                return 0.0;
            }
            w = NEW_ITEM_WEIGHT;
        }
        if self.trending[i] {
            w *= trend;
        }
        if item.promoted {
            w *= user.discount.promoted_factor();
        }
        if let Some(g) = &item.gender_affinity
            && !user.gender.is_empty()
            && *g != user.gender
        {
            w *= 0.2;
        }
        w * amplify(device_price_factor(device, item.price), self.device_effect)
            * user.discount.price_factor(item.price)
    }

    #[allow(clippy::too_many_arguments)]
    fn pick(
        &self,
        pool: &[usize],
        user: &SimUser,
        device: Device,
        t: i64,
        exclude: Option<usize>,
        rng: &mut Rng,
        weights: &mut Vec<f64>,
    ) -> Option<usize> {
        let trend = self.trend_factor(t);
        weights.clear();
        weights.extend(pool.iter().map(|&i| {
            if Some(i) == exclude {
                0.0
            } else {
                self.weight(i, user, device, t, trend)
            }
        }));
        rng.weighted(weights).map(|k| pool[k])
    }

    fn cart_probability(&self, i: usize, user: &SimUser) -> f64 {
        let item = &self.items[i];
        let price = match item.price {
            p if p < 25.0 => 1.35,
            p if p < 100.0 => 1.1,
            p if p < 500.0 => 0.9,
            _ => 0.6,
        };
        let promo = match (item.promoted, user.discount) {
            (true, Discount::AllDiscounts) => 1.5,
            (true, _) => 1.1,
            _ => 1.0,
        };
        CART_BASE * price * promo
    }
}

#[allow(clippy::too_many_arguments)]
fn simulate_session(
    store: &Store,
    user: &SimUser,
    u: u32,
    session: u32,
    t0: i64,
    rng: &mut Rng,
    weights: &mut Vec<f64>,
    out: &mut Vec<(Interaction, u32)>,
) {
    let device = Device::ALL[rng.weighted(&user.device).unwrap_or(0)];
    let category_weights: Vec<f64> = user
        .preference
        .iter()
        .zip(&store.categories)
        .map(|(p, c)| p * amplify(device_category_factor(device, c), store.device_effect))
        .collect();
    let Some(mut category) = rng.weighted(&category_weights) else {
        return;
    };
    let views = 1 + rng.weighted(&VIEW_COUNTS).unwrap_or(0);
    let end = store.end;
    let mut t = t0;
    let mut seq = out.len() as u32;
    let mut emit =
        |out: &mut Vec<(Interaction, u32)>, item: usize, t: i64, event_type: EventType| {
            let event_value = (event_type == EventType::Purchase).then(|| store.items[item].price);
            out.push((
                Interaction {
                    user: u,
                    item: item as u32,
                    timestamp: t,
                    event_type,
                    event_value,
                    device,
                    session,
                },
                seq,
            ));
            seq += 1;
        };
    let mut cart: Vec<usize> = Vec::new();
    let mut last: Option<usize> = None;
    for v in 0..views {
        if v > 0 {
            t += 8 + rng.below(90) as i64;
            if rng.chance(SWITCH_CATEGORY)
                && let Some(c) = rng.weighted(&category_weights)
            {
                category = c;
            }
        }
        if t >= end {
            break;
        }
        let pool = match last {
            None if !store.trending_items.is_empty()
                && rng.chance(TREND_SHELF * store.trend_progress(t0)) =>
            {
                &store.trending_items
            }
            Some(l) if store.item_category[l] as usize == category && rng.chance(SAME_STYLE) => {
                &store.groups[store.item_group[l]]
            }
            _ => &store.category_items[category],
        };
        let Some(item) = store.pick(pool, user, device, t0, last, rng, weights) else {
            continue;
        };
        emit(out, item, t, EventType::View);
        last = Some(item);
        if !cart.contains(&item) && rng.chance(store.cart_probability(item, user)) {
            t += 5 + rng.below(30) as i64;
            if t >= end {
                break;
            }
            emit(out, item, t, EventType::AddToCart);
            cart.push(item);
            let partners = &store.partners[item];
            if !partners.is_empty() && rng.chance(PARTNER_VIEW) {
                let k = rng.weighted(&PARTNER_CHOICE[..partners.len()]).unwrap_or(0);
                let partner = partners[k] as usize;
                t += 8 + rng.below(60) as i64;
                if t >= end {
                    break;
                }
                emit(out, partner, t, EventType::View);
                if !cart.contains(&partner) && rng.chance(PARTNER_CART) {
                    t += 5 + rng.below(30) as i64;
                    if t >= end {
                        break;
                    }
                    emit(out, partner, t, EventType::AddToCart);
                    cart.push(partner);
                }
            }
        }
    }
    if !cart.is_empty() && rng.chance(CHECKOUT) {
        t += 60 + rng.below(240) as i64;
        for &item in &cart {
            if rng.chance(BUY_CART_ITEM) && t < end {
                emit(out, item, t, EventType::Purchase);
                t += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::amplify;

    #[test]
    fn amplify_is_an_exact_integer_power() {
        for f in [0.4, 0.55, 1.0, 1.7] {
            assert_eq!(
                amplify(f, 1).to_bits(),
                f64::to_bits(f),
                "k = 1 keeps the shipped data"
            );
            assert_eq!(amplify(f, 0), 1.0);
        }
        assert_eq!(amplify(0.5, 3), 0.125);
    }
}
