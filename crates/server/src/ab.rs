//! A/B assignment and the statistics `edgerec report` compares variants with.
//!
//! Assignment is the core's (`edgerec_core::experiment`), the same in the Worker and the npm
//! package: `bucket = fnv1a64(experiment + ":" + key) mod 10000` over the variants' cumulative
//! shares, where `key` is the `userId` when known, else the `sessionId`. `GET
//! /experiment?userId=...` answers it, and the server fills in `variant` for logged
//! recommendations that come without one.

use super::Experiment;

/// The variant name of `key` (a userId or sessionId) in `exp`.
#[must_use]
pub fn assign<'a>(exp: &'a Experiment, key: &str) -> Option<&'a str> {
    exp.assign(key).map(|v| v.name.as_str())
}

/// 95 % Wilson score interval of `k` successes out of `n`.
#[must_use]
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    #[allow(clippy::cast_precision_loss)]
    let (k, n) = (k as f64, n as f64);
    let z = 1.959_964;
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Difference of two proportions (b − a) with its 95 % confidence interval (Wald, unpooled) and
/// the two-sided p-value of the pooled z-test.
#[must_use]
pub fn diff(ka: u64, na: u64, kb: u64, nb: u64) -> Option<(f64, f64, f64, f64)> {
    if na == 0 || nb == 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let (ka, na, kb, nb) = (ka as f64, na as f64, kb as f64, nb as f64);
    let (pa, pb) = (ka / na, kb / nb);
    let d = pb - pa;
    let se = (pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb).sqrt();
    let pooled = (ka + kb) / (na + nb);
    let se0 = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    let p = if se0 > 0.0 {
        2.0 * (1.0 - normal_cdf((d / se0).abs()))
    } else {
        1.0
    };
    Some((d, d - 1.959_964 * se, d + 1.959_964 * se, p))
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7).
#[must_use]
pub fn normal_cdf(x: f64) -> f64 {
    let t = x / std::f64::consts::SQRT_2;
    let sign = if t < 0.0 { -1.0 } else { 1.0 };
    let t_abs = t.abs();
    let k = 1.0 / (1.0 + 0.327_591_1 * t_abs);
    let poly = k
        * (0.254_829_592
            + k * (-0.284_496_736
                + k * (1.421_413_741 + k * (-1.453_152_027 + k * 1.061_405_429))));
    let erf = 1.0 - poly * (-t_abs * t_abs).exp();
    0.5 * (1.0 + sign * erf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        use edgerec_core::idindex::fnv1a;
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn assignment_is_stable_and_spread() {
        let e = Experiment::equal("exp", None, &["a", "b"]).unwrap();
        assert_eq!(assign(&e, "u1"), assign(&e, "u1"));
        let a = (0..1000)
            .filter(|i| assign(&e, &format!("u{i}")) == Some("a"))
            .count();
        assert!((400..600).contains(&a), "{a}");
    }

    #[test]
    fn intervals() {
        let (lo, hi) = wilson(50, 100);
        assert!(lo < 0.5 && hi > 0.5 && lo > 0.39 && hi < 0.61);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-4);
        let (d, lo, hi, p) = diff(100, 1000, 150, 1000).unwrap();
        assert!((d - 0.05).abs() < 1e-9 && lo > 0.0 && hi < 0.1 && p < 0.01);
    }
}
