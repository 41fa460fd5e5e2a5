//! The training config (TOML): which recommenders go into one model file, with which recipe
//! and hyperparameters.
//!
//! ```toml
//! [model]
//! embedding = "int8"          # or "f32"
//! user_embedding = "f32"      # known users' factors (default: as `embedding`)
//!
//! [recommenders]
//! recommended-for-you = "auto"   # a blend of sims, user-personalization and popularity-count
//! top-picks-als = "user-personalization"
//! also-viewed = "sims (eventType=view)"
//! best-sellers = "popularity-count (eventType=purchase)"
//! trending-now = "popularity-count (eventType=view, lookbackDays=3)"   # last 3 days of data only
//! more-like-this = "similar-items (contentWeight=1.0)"   # co-interaction + item metadata and text
//!
//! [recommenders.top-picks]    # the table form takes hyperparameters
//! recipe = "user-personalization"
//! factors = 32
//! event_weights = { view = 1.0, purchase = 4.0 }
//! content = true              # place cold and putItems items from their metadata (default)
//! ```
//!
//! Content keys (`user-personalization`, `personalized-ranking`, `similar-items`): `content`
//! (on/off, factor recipes), `contentColumns` (default every categorical and textual item
//! column), `contentBuckets` (4096), `contentRegularization`, `contentSteps`,
//! `contentMinInteractions` (items with fewer users are placed from content; 5) and
//! `contentWeight` and `contentNeighbors` (`similar-items`: weight of content against
//! co-interaction, 1.0; nearest items by content added to each item's candidates, 20).

use std::collections::BTreeMap;

use edgerec_core::{Exploration, Recipe};
use serde::{Deserialize, Serialize};

use crate::recipes::CatalogScope;

/// Why a config was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("recommender {name:?}: {message}")]
    Recommender { name: String, message: String },
    #[error("unknown preset {name:?}; expected one of: ecommerce, video-on-demand")]
    Preset { name: String },
    #[error("the config defines no recommenders (add a [recommenders] table or a preset)")]
    NoRecommenders,
}

/// How embeddings are stored in the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingKind {
    #[default]
    Int8,
    F32,
}

/// Model-wide options (`[model]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelOptions {
    pub embedding: EmbeddingKind,
    /// How known users' factors are stored (default: as `embedding`). `f32` next to int8 item
    /// factors takes the user side out of the quantisation error (about a quarter of the int8
    /// top-10 changes on MovieLens) for 3 more bytes per user and dimension.
    pub user_embedding: Option<EmbeddingKind>,
    pub catalog: CatalogScope,
    /// Most recent interactions kept per known user (for exclusion, filters and fold-in); 0 = all.
    pub history_limit: usize,
    /// Item columns to leave out of the model file (e.g. long descriptions).
    pub drop_item_columns: Vec<String>,
    /// Seed for every randomised recipe.
    pub seed: u64,
    /// The k-anonymity floor: every aggregate stored in the model (popularity counts and
    /// timeline bins, neighbour and transition list entries, context values) is backed by at
    /// least this many distinct users (`publicMinUsers`; 1 = no floor). Applied in both
    /// profiles, so a public projection keeps the private model's item-side data.
    #[serde(alias = "publicMinUsers")]
    pub public_min_users: u32,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            embedding: EmbeddingKind::Int8,
            user_embedding: None,
            catalog: CatalogScope::All,
            history_limit: 1000,
            drop_item_columns: Vec::new(),
            seed: 42,
            public_min_users: crate::privacy::DEFAULT_MIN_USERS,
        }
    }
}

/// One recommender: short form `"recipe (key=value, ...)"` or a table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum RawSpec {
    Short(String),
    Table(toml::Table),
}

/// A recommender to build.
#[derive(Debug, Clone, PartialEq)]
pub struct RecommenderSpec {
    pub name: String,
    pub recipe: Recipe,
    /// Train on this event type only (lower-cased).
    pub event_type: Option<String>,
    /// Serving: exclude items the user interacted with (default true, except popularity).
    pub exclude_interacted: bool,
    /// Serving: only interactions of these event types are excluded (empty = all).
    pub exclude_event_types: Vec<String>,
    /// Per-event-type weights (lower-cased type → weight), for factor recipes.
    pub event_weights: BTreeMap<String, f32>,
    /// Recipe hyperparameters (snake_case keys), checked by the recipe.
    pub params: toml::Table,
    /// Serving: exploration of new and little-seen items (`user-personalization` only; set by
    /// `explorationWeight` and/or `explorationItemAgeCutOff`, the other taking Personalize's
    /// default). `None` = no exploration.
    pub exploration: Option<Exploration>,
}

/// A parsed config.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub model: ModelOptions,
    pub recommenders: Vec<RecommenderSpec>,
    /// Named filters (`[filters] name = "EXCLUDE ItemID WHERE ..."`), checked at training time.
    pub filters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// A domain preset (`ecommerce`, `video-on-demand`): its recommenders, unless redefined.
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    model: ModelOptions,
    #[serde(default)]
    recommenders: BTreeMap<String, RawSpec>,
    #[serde(default)]
    filters: BTreeMap<String, String>,
}

impl TrainConfig {
    /// Parses a TOML config.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut raw: RawConfig = toml::from_str(text)?;
        if let Some(name) = &raw.preset {
            let preset = crate::presets::recommenders(name)
                .ok_or_else(|| ConfigError::Preset { name: name.clone() })?;
            let specs: BTreeMap<String, RawSpec> = toml::from_str(preset)?;
            for (k, v) in specs {
                raw.recommenders.entry(k).or_insert(v);
            }
        }
        if raw.recommenders.is_empty() {
            return Err(ConfigError::NoRecommenders);
        }
        let recommenders = raw
            .recommenders
            .into_iter()
            .map(|(name, spec)| resolve(name, spec))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrainConfig {
            model: raw.model,
            recommenders,
            filters: raw.filters,
        })
    }

    /// The default when no config is given: one recommender per recipe the data supports, and
    /// `recommended-for-you`, the blend of them that validation data favours (`auto`).
    #[must_use]
    pub fn default_for(event_types: &[String]) -> Self {
        let _ = event_types;
        let mk = |name: &str, recipe: Recipe| RecommenderSpec {
            name: name.to_owned(),
            recipe,
            event_type: None,
            exclude_interacted: recipe != Recipe::PopularityCount,
            exclude_event_types: Vec::new(),
            event_weights: BTreeMap::new(),
            params: toml::Table::new(),
            exploration: None,
        };
        TrainConfig {
            model: ModelOptions::default(),
            recommenders: vec![
                mk("recommended-for-you", Recipe::Auto),
                mk("user-personalization", Recipe::UserPersonalization),
                mk("personalized-ranking", Recipe::PersonalizedRanking),
                mk("sims", Recipe::Sims),
                mk("popularity-count", Recipe::PopularityCount),
            ],
            filters: BTreeMap::new(),
        }
    }
}

fn snake(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_short(s: &str) -> Result<(String, toml::Table), String> {
    let s = s.trim();
    let (recipe, rest) = match s.find('(') {
        Some(p) => (s[..p].trim(), Some(s[p + 1..].trim())),
        None => (s, None),
    };
    let mut table = toml::Table::new();
    if let Some(rest) = rest {
        let inner = rest
            .strip_suffix(')')
            .ok_or_else(|| format!("missing ')' in {s:?}"))?;
        for kv in inner.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, found {kv:?}"))?;
            let v = v.trim().trim_matches('"');
            let value = if let Ok(i) = v.parse::<i64>() {
                toml::Value::Integer(i)
            } else if let Ok(f) = v.parse::<f64>() {
                toml::Value::Float(f)
            } else if let Ok(b) = v.parse::<bool>() {
                toml::Value::Boolean(b)
            } else {
                toml::Value::String(v.to_owned())
            };
            table.insert(k.trim().to_owned(), value);
        }
    }
    Ok((recipe.to_owned(), table))
}

fn resolve(name: String, spec: RawSpec) -> Result<RecommenderSpec, ConfigError> {
    let err = |message: String| ConfigError::Recommender {
        name: name.clone(),
        message,
    };
    let (recipe_name, table) = match spec {
        RawSpec::Short(s) => parse_short(&s).map_err(&err)?,
        RawSpec::Table(mut t) => {
            let r = match t.remove("recipe") {
                Some(toml::Value::String(r)) => r,
                _ => return Err(err("the table form needs recipe = \"...\"".into())),
            };
            (r, t)
        }
    };
    let recipe = Recipe::parse(&recipe_name).ok_or_else(|| {
        err(format!(
            "unknown recipe {recipe_name:?}; expected auto, user-personalization, personalized-ranking, sims, similar-items, popularity-count or trending-now"
        ))
    })?;
    let mut params = toml::Table::new();
    for (k, v) in table {
        params.insert(snake(&k), v);
    }
    let event_type = match params.remove("event_type") {
        Some(toml::Value::String(s)) => Some(s.to_lowercase()),
        Some(other) => return Err(err(format!("event_type must be a string, found {other}"))),
        None => None,
    };
    let exclude_interacted = match params.remove("exclude_interacted") {
        Some(toml::Value::Boolean(b)) => b,
        Some(other) => {
            return Err(err(format!(
                "exclude_interacted must be a boolean, found {other}"
            )));
        }
        // Item lists that are the same for everyone keep the user's own items by default.
        None => !matches!(recipe, Recipe::PopularityCount | Recipe::TrendingNow),
    };
    let exclude_event_types = match params.remove("exclude_event_types") {
        Some(toml::Value::Array(a)) => a
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s.to_lowercase()),
                other => Err(err(format!(
                    "exclude_event_types must hold strings, found {other}"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(err(format!(
                "exclude_event_types must be an array, found {other}"
            )));
        }
        None => Vec::new(),
    };
    let event_weights = match params.remove("event_weights") {
        Some(toml::Value::Table(t)) => t
            .into_iter()
            .map(|(k, v)| match v {
                #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
                toml::Value::Float(f) => Ok((k.to_lowercase(), f as f32)),
                #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
                toml::Value::Integer(i) => Ok((k.to_lowercase(), i as f32)),
                other => Err(err(format!(
                    "event_weights.{k} must be a number, found {other}"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(err(format!("event_weights must be a table, found {other}"))),
        None => BTreeMap::new(),
    };
    let exploration = exploration(recipe, &mut params).map_err(err)?;
    Ok(RecommenderSpec {
        name,
        recipe,
        event_type,
        exclude_interacted,
        exclude_event_types,
        event_weights,
        params,
        exploration,
    })
}

/// `explorationWeight` (0–1) and `explorationItemAgeCutOff` (days, > 0), taken out of the
/// recipe parameters; either one turns exploration on with Personalize's default for the other.
fn exploration(recipe: Recipe, params: &mut toml::Table) -> Result<Option<Exploration>, String> {
    let number = |key: &str, v: toml::Value| match v {
        toml::Value::Float(f) => Ok(f),
        #[allow(clippy::cast_precision_loss)]
        toml::Value::Integer(i) => Ok(i as f64),
        other => Err(format!("{key} must be a number, found {other}")),
    };
    let weight = params
        .remove("exploration_weight")
        .map(|v| number("explorationWeight", v))
        .transpose()?;
    let cut_off = params
        .remove("exploration_item_age_cut_off")
        .map(|v| number("explorationItemAgeCutOff", v))
        .transpose()?;
    if weight.is_none() && cut_off.is_none() {
        return Ok(None);
    }
    if recipe != Recipe::UserPersonalization {
        return Err(format!(
            "explorationWeight and explorationItemAgeCutOff apply to user-personalization only, not {}",
            recipe.name()
        ));
    }
    let d = Exploration::DEFAULT;
    let weight = weight.unwrap_or(f64::from(d.weight));
    let cut_off = cut_off.unwrap_or(f64::from(d.item_age_cut_off_days));
    if !(0.0..=1.0).contains(&weight) {
        return Err(format!(
            "explorationWeight must be between 0 and 1, found {weight}"
        ));
    }
    if !(cut_off.is_finite() && cut_off > 0.0) {
        return Err(format!(
            "explorationItemAgeCutOff must be a positive number of days, found {cut_off}"
        ));
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(Some(Exploration {
        weight: weight as f32,
        item_age_cut_off_days: cut_off as f32,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_table_forms() {
        let c = TrainConfig::parse(
            r#"
[recommenders]
recommended-for-you = "user-personalization"
best-sellers = "popularity-count (eventType=Purchase)"
[recommenders.top-picks]
recipe = "aws-user-personalization"
factors = 32
event_weights = { view = 1, Purchase = 4.5 }
"#,
        )
        .unwrap();
        assert_eq!(c.recommenders.len(), 3);
        let bs = c
            .recommenders
            .iter()
            .find(|r| r.name == "best-sellers")
            .unwrap();
        assert_eq!(bs.recipe, Recipe::PopularityCount);
        assert_eq!(bs.event_type.as_deref(), Some("purchase"));
        assert!(!bs.exclude_interacted);
        let tp = c
            .recommenders
            .iter()
            .find(|r| r.name == "top-picks")
            .unwrap();
        assert_eq!(tp.params.get("factors"), Some(&toml::Value::Integer(32)));
        assert_eq!(tp.event_weights.get("purchase"), Some(&4.5));
    }

    #[test]
    fn exploration_params() {
        let c = TrainConfig::parse(
            r#"
[recommenders]
a = "user-personalization (explorationWeight=0.5, explorationItemAgeCutOff=7)"
b = "user-personalization (explorationWeight=0)"
c = "user-personalization"
[recommenders.d]
recipe = "user-personalization"
explorationItemAgeCutOff = 10
"#,
        )
        .unwrap();
        let by = |n: &str| c.recommenders.iter().find(|r| r.name == n).unwrap();
        assert_eq!(
            by("a").exploration,
            Some(Exploration {
                weight: 0.5,
                item_age_cut_off_days: 7.0
            })
        );
        assert!(by("a").params.is_empty(), "taken out of the ALS parameters");
        assert_eq!(by("b").exploration.map(|e| e.weight), Some(0.0));
        assert_eq!(by("c").exploration, None);
        assert_eq!(
            by("d").exploration,
            Some(Exploration {
                weight: 0.3,
                item_age_cut_off_days: 10.0
            })
        );
        for bad in [
            "user-personalization (explorationWeight=1.5)",
            "user-personalization (explorationItemAgeCutOff=0)",
            "sims (explorationWeight=0.3)",
            "user-personalization (explorationWeight=high)",
        ] {
            let e = TrainConfig::parse(&format!("[recommenders]\nx = \"{bad}\"\n")).unwrap_err();
            assert!(e.to_string().contains("exploration"), "{bad}: {e}");
        }
    }

    #[test]
    fn errors_name_the_recommender() {
        let e = TrainConfig::parse("[recommenders]\nx = \"nope\"\n").unwrap_err();
        assert!(e.to_string().contains("\"x\"") && e.to_string().contains("unknown recipe"));
        let e = TrainConfig::parse("[recommenders]\nx = \"sims (a)\"\n").unwrap_err();
        assert!(e.to_string().contains("key=value"));
    }

    #[test]
    fn presets_expand_and_the_config_overrides_them() {
        for name in crate::presets::NAMES {
            let c = TrainConfig::parse(&format!("preset = \"{name}\"\n")).unwrap();
            assert_eq!(c.recommenders.len(), 5, "{name}");
        }
        let c = TrainConfig::parse(
            "preset = \"ecommerce\"\n[recommenders]\nbest-sellers = \"popularity-count\"\nextra = \"sims\"\n",
        )
        .unwrap();
        let by = |n: &str| c.recommenders.iter().find(|r| r.name == n).unwrap();
        assert_eq!(c.recommenders.len(), 6);
        assert_eq!(
            by("best-sellers").event_type,
            None,
            "the config's own definition wins"
        );
        let rfy = by("recommended-for-you");
        assert_eq!(rfy.recipe, Recipe::UserPersonalization);
        assert!(rfy.exclude_interacted);
        assert_eq!(rfy.exclude_event_types, ["purchase"]);
        assert_eq!(by("most-viewed").event_type.as_deref(), Some("view"));
        assert!(!by("most-viewed").exclude_interacted);
        let vod = TrainConfig::parse("preset = \"video-on-demand\"\n").unwrap();
        assert!(
            vod.recommenders
                .iter()
                .any(|r| r.recipe == Recipe::TrendingNow)
        );
        let e = TrainConfig::parse("preset = \"groceries\"\n").unwrap_err();
        assert!(e.to_string().contains("groceries") && e.to_string().contains("ecommerce"));
        let e = TrainConfig::parse("[model]\nseed = 1\n").unwrap_err();
        assert!(e.to_string().contains("no recommenders"), "{e}");
    }
}
