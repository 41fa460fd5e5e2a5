//! A/B experiments at every surface: which variant of an experiment a user or session gets, the
//! same in the Worker, the npm package and `edgerec serve` (docs/experiments.md).
//!
//! An experiment covers one recommender (its *slot*, e.g. `recommended-for-you`); each variant
//! answers reads of that slot with its own recommender and/or filter (none: the slot as asked,
//! the control) and has a share of the traffic.
//!
//! Assignment: `bucket = fnv1a64(name + ":" + key) mod 10000` (64-bit FNV-1a over the UTF-8
//! bytes; `key` is the `userId`, else the `sessionId`). Variant `i` takes the buckets from
//! `round(10000 × S(i−1))` up to `round(10000 × S(i))`, where `S(i)` is the sum of the shares of
//! variants `0..=i` over the sum of all shares (the last variant ends at 10000). A disabled
//! experiment assigns nothing.
//!
//! The declaration is JSON, one experiment or an array of them:
//! `{"name", "recommender", "enabled"?, "variants": [{"name", "recommender"?, "filter"?,
//! "share"?}]}`. Shares are positive weights, normalised by their sum; when no variant has one
//! they are equal. Unknown fields are refused, so a typo cannot silently change the traffic.

use crate::error::RequestError;
use crate::idindex::fnv1a;
use crate::json::{self, Value};
use crate::records::json_kind;
use crate::request::{GetPersonalizedRankingRequest, GetRecommendationsRequest, check_id};

/// Buckets a key is hashed into (shares resolve to 0.01 %).
pub const BUCKETS: u64 = 10_000;
/// Experiments in one declaration.
pub const MAX_EXPERIMENTS: usize = 20;
/// Variants of one experiment.
pub const MAX_VARIANTS: usize = 10;

/// One arm of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: String,
    /// The recommender that answers the slot's reads in this variant (`None`: the slot's own).
    pub recommender: Option<String>,
    /// The filter (a name, or an expression where allowed) that replaces the request's.
    pub filter: Option<String>,
    /// Traffic weight (> 0), relative to the other variants'.
    pub share: f64,
}

/// An experiment over one recommender slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub name: String,
    /// The slot (recommender name) it applies to; `None` for an experiment that only assigns
    /// (`edgerec serve --experiment`).
    pub recommender: Option<String>,
    pub enabled: bool,
    pub variants: Vec<Variant>,
}

/// The variant an experiment gave a read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment<'a> {
    pub experiment: &'a Experiment,
    pub variant: &'a Variant,
}

/// The bucket (`0..10000`) of `key` in the experiment `name`.
#[must_use]
pub fn bucket(name: &str, key: &str) -> u64 {
    let mut text = String::with_capacity(name.len() + key.len() + 1);
    text.push_str(name);
    text.push(':');
    text.push_str(key);
    fnv1a(text.as_bytes()) % BUCKETS
}

/// The index of the variant whose range of cumulative shares holds `bucket`: the first `i` with
/// `bucket < round(10000 × (shares[0] + … + shares[i]) / Σ shares)`, else the last. The npm
/// package's wasm calls this (with [`bucket`]) and nothing else of this module, so the parser
/// stays out of its size budget.
#[must_use]
pub fn pick(shares: &[f64], bucket: u64) -> usize {
    let total: f64 = shares.iter().sum();
    let mut cum = 0.0;
    for (i, s) in shares.iter().enumerate() {
        cum += s;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let end = (cum / total * BUCKETS as f64).round() as u64;
        if bucket < end {
            return i;
        }
    }
    shares.len().saturating_sub(1)
}

impl Experiment {
    /// An experiment of equally shared variants named `variants` (each answering as named),
    /// checked as [`parse`] checks.
    pub fn equal(
        name: &str,
        recommender: Option<&str>,
        variants: &[&str],
    ) -> Result<Experiment, RequestError> {
        let e = Experiment {
            name: name.to_owned(),
            recommender: recommender.map(str::to_owned),
            enabled: true,
            variants: variants
                .iter()
                .map(|v| Variant {
                    name: (*v).to_owned(),
                    recommender: None,
                    filter: None,
                    share: 1.0,
                })
                .collect(),
        };
        e.check("experiment")?;
        Ok(e)
    }

    /// The variant of `key` (a userId or sessionId); `None` when disabled or `key` is empty.
    #[must_use]
    pub fn assign(&self, key: &str) -> Option<&Variant> {
        if !self.enabled || key.is_empty() {
            return None;
        }
        let shares: Vec<f64> = self.variants.iter().map(|v| v.share).collect();
        self.variants.get(pick(&shares, bucket(&self.name, key)))
    }

    /// Checks names, shares and counts; `at` names the experiment in errors.
    fn check(&self, at: &str) -> Result<(), RequestError> {
        check_id(&format!("{at}.name"), &self.name)?;
        if let Some(r) = &self.recommender {
            check_id(&format!("{at}.recommender"), r)?;
        }
        let n = self.variants.len();
        if !(2..=MAX_VARIANTS).contains(&n) {
            return Err(RequestError::invalid(
                format!("{at}.variants"),
                format!("holds {n} variants; an experiment needs 2 to {MAX_VARIANTS}"),
            ));
        }
        for (k, v) in self.variants.iter().enumerate() {
            let at = format!("{at}.variants[{k}]");
            check_id(&format!("{at}.name"), &v.name)?;
            if self.variants[..k].iter().any(|w| w.name == v.name) {
                return Err(RequestError::invalid(
                    format!("{at}.name"),
                    format!("{:?} names two variants", v.name),
                ));
            }
            if let Some(r) = &v.recommender {
                check_id(&format!("{at}.recommender"), r)?;
            }
            if !(v.share.is_finite() && v.share > 0.0) {
                return Err(RequestError::invalid(
                    format!("{at}.share"),
                    "must be a positive number",
                ));
            }
        }
        Ok(())
    }
}

/// Reads a declaration: one experiment object or an array of them (empty text: none).
pub fn parse(text: &str) -> Result<Vec<Experiment>, RequestError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let value = json::from_str(text)
        .map_err(|e| RequestError::invalid("experiments", format!("not valid JSON: {e}")))?;
    let list = match value {
        Value::Array(a) => a,
        v @ Value::Object(_) => vec![v],
        other => {
            return Err(RequestError::invalid(
                "experiments",
                format!(
                    "expected an experiment object or an array of them, found {}",
                    json_kind(&other)
                ),
            ));
        }
    };
    if list.len() > MAX_EXPERIMENTS {
        return Err(RequestError::invalid(
            "experiments",
            format!(
                "holds {} experiments; the maximum is {MAX_EXPERIMENTS}",
                list.len()
            ),
        ));
    }
    let mut out: Vec<Experiment> = Vec::with_capacity(list.len());
    for (i, v) in list.into_iter().enumerate() {
        let at = format!("experiments[{i}]");
        let mut f = fields(v, &at, &["name", "recommender", "enabled", "variants"])?;
        let name = string(f[0].take(), &at, "name")?.unwrap_or_default();
        let recommender = string(f[1].take(), &at, "recommender")?;
        if recommender.is_none() {
            return Err(RequestError::invalid(
                format!("{at}.recommender"),
                "is required (the recommender the experiment applies to)",
            ));
        }
        let enabled = match f[2].take() {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => b,
            Some(other) => return Err(wrong(&at, "enabled", "a boolean", &other)),
        };
        let variants = match f[3].take() {
            Some(Value::Array(a)) => a,
            None | Some(Value::Null) => Vec::new(),
            Some(other) => return Err(wrong(&at, "variants", "an array", &other)),
        };
        let mut shared = 0;
        let mut vs = Vec::with_capacity(variants.len());
        for (k, v) in variants.into_iter().enumerate() {
            let vat = format!("{at}.variants[{k}]");
            let mut g = fields(v, &vat, &["name", "recommender", "filter", "share"])?;
            let share = match g[3].take() {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => Some(n.as_f64().unwrap_or(f64::NAN)),
                Some(other) => return Err(wrong(&vat, "share", "a number", &other)),
            };
            shared += usize::from(share.is_some());
            vs.push(Variant {
                name: string(g[0].take(), &vat, "name")?.unwrap_or_default(),
                recommender: string(g[1].take(), &vat, "recommender")?,
                filter: string(g[2].take(), &vat, "filter")?,
                share: share.unwrap_or(1.0),
            });
        }
        if shared != 0 && shared != vs.len() {
            return Err(RequestError::invalid(
                format!("{at}.variants"),
                "give every variant a share, or none (equal shares)",
            ));
        }
        let e = Experiment {
            name,
            recommender,
            enabled,
            variants: vs,
        };
        e.check(&at)?;
        for prev in &out {
            if prev.name == e.name {
                return Err(RequestError::invalid(
                    format!("{at}.name"),
                    format!("{:?} names two experiments", e.name),
                ));
            }
            if e.enabled && prev.enabled && prev.recommender == e.recommender {
                return Err(RequestError::invalid(
                    format!("{at}.recommender"),
                    format!(
                        "{:?} is already the slot of the enabled experiment {:?}",
                        e.recommender.as_deref().unwrap_or_default(),
                        prev.name
                    ),
                ));
            }
        }
        out.push(e);
    }
    Ok(out)
}

/// The object's values of `names` (in that order), refusing other keys.
fn fields(v: Value, at: &str, names: &[&str]) -> Result<Vec<Option<Value>>, RequestError> {
    let Value::Object(entries) = v else {
        return Err(RequestError::invalid(
            at,
            format!("expected an object, found {}", json_kind(&v)),
        ));
    };
    let mut out = vec![None; names.len()];
    for (key, value) in entries {
        let Some(k) = names.iter().position(|n| *n == key) else {
            return Err(RequestError::invalid(
                format!("{at}.{key}"),
                format!("is not a field; expected one of {}", names.join(", ")),
            ));
        };
        out[k] = Some(value);
    }
    Ok(out)
}

fn string(v: Option<Value>, at: &str, field: &str) -> Result<Option<String>, RequestError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong(at, field, "a string", &other)),
    }
}

fn wrong(at: &str, field: &str, expected: &str, found: &Value) -> RequestError {
    RequestError::invalid(
        format!("{at}.{field}"),
        format!("expected {expected}, found {}", json_kind(found)),
    )
}

/// The enabled experiment over `slot` and the variant of `key` in it.
#[must_use]
pub fn assign<'a>(list: &'a [Experiment], slot: &str, key: &str) -> Option<Assignment<'a>> {
    let experiment = list
        .iter()
        .find(|e| e.enabled && e.recommender.as_deref() == Some(slot))?;
    let variant = experiment.assign(key)?;
    Some(Assignment {
        experiment,
        variant,
    })
}

/// Applies the experiment over the request's recommender, if any, for `key`: the variant's
/// recommender and filter replace the request's. Returns the assignment. A request that names
/// no valid recommender is left as it is (the engine reports it).
pub fn apply_recommendations<'a>(
    list: &'a [Experiment],
    req: &mut GetRecommendationsRequest,
    key: Option<&str>,
) -> Option<Assignment<'a>> {
    let slot = req.recommender_name().ok()?.to_owned();
    apply(
        list,
        &slot,
        key,
        &mut req.recommender,
        &mut req.filter,
        &mut req.filter_arn,
    )
}

/// [`apply_recommendations`] for `GetPersonalizedRanking`.
pub fn apply_ranking<'a>(
    list: &'a [Experiment],
    req: &mut GetPersonalizedRankingRequest,
    key: Option<&str>,
) -> Option<Assignment<'a>> {
    let slot = req.recommender_name().ok()?.to_owned();
    apply(
        list,
        &slot,
        key,
        &mut req.recommender,
        &mut req.filter,
        &mut req.filter_arn,
    )
}

fn apply<'a>(
    list: &'a [Experiment],
    slot: &str,
    key: Option<&str>,
    recommender: &mut Option<String>,
    filter: &mut Option<String>,
    filter_arn: &mut Option<String>,
) -> Option<Assignment<'a>> {
    let a = assign(list, slot, key?)?;
    *recommender = Some(a.variant.recommender.as_deref().unwrap_or(slot).to_owned());
    if let Some(f) = &a.variant.filter {
        *filter = Some(f.clone());
        *filter_arn = None;
    }
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"[{"name": "home", "recommender": "for-you", "variants": [
        {"name": "control", "share": 0.5},
        {"name": "pop", "recommender": "popular", "filter": "in-stock", "share": 0.5}]}]"#;

    #[test]
    fn parses_and_applies_the_variant() {
        let list = parse(TWO).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].variants[1].filter.as_deref(), Some("in-stock"));
        // Find a key of each variant and check what the request becomes.
        let key_of = |name: &str| {
            (0..1000)
                .map(|i| format!("u{i}"))
                .find(|k| list[0].assign(k).is_some_and(|v| v.name == name))
                .unwrap()
        };
        let mut req = GetRecommendationsRequest {
            recommender_arn: Some("arn:aws:personalize:::recommender/for-you".into()),
            filter: Some("cheap".into()),
            ..Default::default()
        };
        let a = apply_recommendations(&list, &mut req, Some(&key_of("pop"))).unwrap();
        assert_eq!(
            (a.experiment.name.as_str(), a.variant.name.as_str()),
            ("home", "pop")
        );
        assert_eq!(req.recommender.as_deref(), Some("popular"));
        assert_eq!(req.filter.as_deref(), Some("in-stock"));
        let mut req = GetRecommendationsRequest {
            recommender: Some("for-you".into()),
            filter: Some("cheap".into()),
            ..Default::default()
        };
        let a = apply_recommendations(&list, &mut req, Some(&key_of("control")));
        assert_eq!(a.map(|a| a.variant.name.as_str()), Some("control"));
        assert_eq!(req.recommender.as_deref(), Some("for-you"));
        assert_eq!(req.filter.as_deref(), Some("cheap"));
        // Another slot, or no key: untouched.
        let mut other = GetRecommendationsRequest {
            recommender: Some("similar".into()),
            ..Default::default()
        };
        assert!(apply_recommendations(&list, &mut other, Some("u1")).is_none());
        assert!(apply_recommendations(&list, &mut req, None).is_none());
        let mut unnamed = GetRecommendationsRequest::default();
        assert!(apply_recommendations(&list, &mut unnamed, Some("u1")).is_none());
    }

    #[test]
    fn a_disabled_experiment_assigns_nothing() {
        let list = parse(&TWO.replace(
            r#""recommender": "for-you","#,
            r#""recommender": "for-you", "enabled": false,"#,
        ))
        .unwrap();
        assert!(!list[0].enabled);
        assert!((0..1000).all(|i| list[0].assign(&format!("u{i}")).is_none()));
        assert!(assign(&list, "for-you", "u1").is_none());
    }

    #[test]
    fn shares_are_weights_and_default_to_equal() {
        let w = parse(r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 3}]}"#).unwrap();
        let f = parse(r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "share": 0.25}, {"name": "b", "share": 0.75}]}"#).unwrap();
        for i in 0..500 {
            let k = format!("s{i}");
            assert_eq!(
                w[0].assign(&k).map(|v| &v.name),
                f[0].assign(&k).map(|v| &v.name)
            );
        }
        let eq = parse(
            r#"{"name": "e", "recommender": "r", "variants": [{"name": "a"}, {"name": "b"}]}"#,
        )
        .unwrap();
        assert_eq!(eq[0].variants[0].share, eq[0].variants[1].share);
    }

    #[test]
    fn errors_name_the_field() {
        let field = |text: &str| match parse(text) {
            Err(RequestError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field("[1]"), "experiments[0]");
        assert_eq!(field("3"), "experiments");
        assert_eq!(field("{"), "experiments");
        let v = r#"[{"name": "a"}, {"name": "b"}]"#;
        assert_eq!(
            field(&format!(r#"{{"name": "e", "variants": {v}}}"#)),
            "experiments[0].recommender"
        );
        assert_eq!(
            field(r#"{"name": "e", "recommender": "r", "variants": [{"name": "a"}]}"#),
            "experiments[0].variants"
        );
        assert_eq!(
            field(
                r#"{"name": "e", "recommender": "r", "variants": [{"name": "a"}, {"name": "a"}]}"#
            ),
            "experiments[0].variants[1].name"
        );
        assert_eq!(
            field(
                r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "share": 0}, {"name": "b", "share": 1}]}"#
            ),
            "experiments[0].variants[0].share"
        );
        assert_eq!(
            field(
                r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "share": 1}, {"name": "b"}]}"#
            ),
            "experiments[0].variants"
        );
        assert_eq!(
            field(
                r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "shares": 1}, {"name": "b"}]}"#
            ),
            "experiments[0].variants[0].shares"
        );
        assert_eq!(
            field(&format!(
                r#"{{"name": "", "recommender": "r", "variants": {v}}}"#
            )),
            "experiments[0].name"
        );
        assert_eq!(
            field(&format!(
                r#"[{{"name": "e", "recommender": "r", "variants": {v}}}, {{"name": "f", "recommender": "r", "variants": {v}}}]"#
            )),
            "experiments[1].recommender"
        );
        assert_eq!(
            field(&format!(
                r#"[{{"name": "e", "recommender": "r", "variants": {v}}}, {{"name": "e", "recommender": "q", "variants": {v}}}]"#
            )),
            "experiments[1].name"
        );
        assert!(parse("  ").unwrap().is_empty());
        assert!(Experiment::equal("e", None, &["a"]).is_err());
    }

    #[test]
    fn bucket_is_fnv1a_of_name_colon_key() {
        assert_eq!(bucket("", ""), fnv1a(b":") % BUCKETS);
        assert_eq!(bucket("exp", "u1"), fnv1a(b"exp:u1") % BUCKETS);
    }
}
