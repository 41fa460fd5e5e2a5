//! Automatic context: when the model was trained with context columns (device, country,
//! time of day, weekday) and the request does not set them, they are derived from the request's
//! headers and `request.cf`, as Personalize's edge samples do with CloudFront headers.

use std::collections::BTreeMap;

use worker::Request;

/// What the request tells about the caller.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Caller {
    pub device: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
}

impl Caller {
    pub fn of(req: &Request) -> Self {
        let h = |n: &str| req.headers().get(n).ok().flatten();
        let cf = req.cf();
        let country = cf
            .and_then(worker::Cf::country)
            .or_else(|| h("cf-ipcountry"))
            .or_else(|| h("cloudfront-viewer-country"))
            .filter(|c| c != "XX" && !c.is_empty());
        let timezone = cf
            .map(worker::Cf::timezone_name)
            .filter(|t| !t.is_empty())
            .or_else(|| h("cloudfront-viewer-time-zone"));
        Caller {
            device: device(
                h("sec-ch-ua-mobile").as_deref(),
                h("user-agent").as_deref(),
                h("cloudfront-is-mobile-viewer").as_deref(),
                h("cloudfront-is-tablet-viewer").as_deref(),
            ),
            country,
            timezone,
        }
    }
}

/// `mobile`, `tablet` or `desktop` (the DEVICE values of the bundled storefront data).
fn device(
    ch_mobile: Option<&str>,
    ua: Option<&str>,
    cf_mobile: Option<&str>,
    cf_tablet: Option<&str>,
) -> Option<String> {
    if cf_tablet == Some("true") {
        return Some("tablet".into());
    }
    if cf_mobile == Some("true") || ch_mobile == Some("?1") {
        return Some("mobile".into());
    }
    let ua = ua?.to_ascii_lowercase();
    let d = if ua.contains("ipad") || ua.contains("tablet") {
        "tablet"
    } else if ua.contains("mobi") || ua.contains("iphone") || ua.contains("android") {
        "mobile"
    } else {
        "desktop"
    };
    Some(d.into())
}

/// Local hour (0–23) and weekday name in `timezone` (UTC when absent or unknown).
fn local_time(timezone: Option<&str>) -> (u32, String) {
    let now = js_sys::Date::new_0();
    let hour = format_part(&now, "hour", timezone)
        .and_then(|h| h.trim().parse::<u32>().ok())
        .filter(|h| *h < 24)
        .unwrap_or_else(|| now.get_utc_hours());
    let weekday = format_part(&now, "weekday", timezone).unwrap_or_else(|| {
        [
            "Sunday",
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ][now.get_utc_day() as usize % 7]
            .to_owned()
    });
    (hour, weekday)
}

/// `new Intl.DateTimeFormat("en-US", {timeZone, [part]: ...}).format(now)`, through `Reflect`
/// so that an unknown time zone (a `RangeError`) is an `Err`, never a trap.
fn format_part(now: &js_sys::Date, part: &str, timezone: Option<&str>) -> Option<String> {
    use js_sys::{Array, Function, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let timezone = timezone?;
    let opts = Object::new();
    let set = |k: &str, v: &str| Reflect::set(&opts, &k.into(), &v.into()).is_ok();
    let ok = set("timeZone", timezone)
        && if part == "hour" {
            set("hour", "numeric") && set("hourCycle", "h23")
        } else {
            set("weekday", "long")
        };
    if !ok {
        return None;
    }
    let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let ctor: Function = Reflect::get(&intl, &"DateTimeFormat".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let args = Array::of2(&JsValue::from_str("en-US"), &opts);
    let fmt = Reflect::construct(&ctor, &args).ok()?;
    let format: Function = Reflect::get(&fmt, &"format".into()).ok()?.dyn_into().ok()?;
    format.call1(&fmt, now).ok()?.as_string()
}

fn time_of_day(hour: u32) -> &'static str {
    match hour {
        5..=11 => "Morning",
        12..=16 => "Afternoon",
        17..=21 => "Evening",
        _ => "Night",
    }
}

/// Adds derived values for the model's context columns the request leaves unset; returns what
/// it added as `KEY=value` pairs (the Worker reports them in `x-edgerec-context`).
pub fn fill(
    context: &mut BTreeMap<String, String>,
    columns: &[String],
    caller: &Caller,
) -> Vec<String> {
    let mut added = Vec::new();
    let mut time: Option<(u32, String)> = None;
    for col in columns {
        if context.keys().any(|k| k.eq_ignore_ascii_case(col)) {
            continue;
        }
        let upper = col.to_ascii_uppercase();
        let value = match upper.as_str() {
            "DEVICE" | "DEVICE_TYPE" => caller.device.clone(),
            "COUNTRY" | "LOCATION" | "GEO" | "COUNTRY_CODE" => caller.country.clone(),
            "TIME_OF_DAY" | "HOUR" | "HOUR_OF_DAY" | "DAY_OF_WEEK" | "WEEKDAY" => {
                let (hour, weekday) = time
                    .get_or_insert_with(|| local_time(caller.timezone.as_deref()))
                    .clone();
                Some(match upper.as_str() {
                    "TIME_OF_DAY" => time_of_day(hour).to_owned(),
                    "HOUR" | "HOUR_OF_DAY" => hour.to_string(),
                    _ => weekday,
                })
            }
            _ => None,
        };
        if let Some(v) = value {
            added.push(format!("{col}={v}"));
            context.insert(col.clone(), v);
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_from_headers() {
        assert_eq!(
            device(
                None,
                Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"),
                None,
                None
            )
            .as_deref(),
            Some("mobile")
        );
        assert_eq!(
            device(None, Some("Mozilla/5.0 (iPad; CPU OS 17_0)"), None, None).as_deref(),
            Some("tablet")
        );
        assert_eq!(
            device(None, Some("Mozilla/5.0 (X11; Linux x86_64)"), None, None).as_deref(),
            Some("desktop")
        );
        assert_eq!(
            device(Some("?1"), None, None, None).as_deref(),
            Some("mobile")
        );
        assert_eq!(
            device(None, None, None, Some("true")).as_deref(),
            Some("tablet")
        );
        assert_eq!(device(None, None, None, None), None);
    }

    #[test]
    fn fills_only_unset_known_columns() {
        let caller = Caller {
            device: Some("mobile".into()),
            country: Some("DE".into()),
            timezone: None,
        };
        let cols = vec![
            "DEVICE".to_owned(),
            "COUNTRY".to_owned(),
            "LOYALTY".to_owned(),
        ];
        let mut ctx = BTreeMap::from([("country".to_owned(), "FR".to_owned())]);
        assert_eq!(
            fill(&mut ctx, &cols, &caller),
            vec!["DEVICE=mobile".to_owned()]
        );
        assert_eq!(ctx.get("DEVICE").map(String::as_str), Some("mobile"));
        assert_eq!(ctx.get("country").map(String::as_str), Some("FR"));
        assert!(!ctx.contains_key("LOYALTY"));
    }

    #[test]
    fn buckets() {
        assert_eq!(time_of_day(6), "Morning");
        assert_eq!(time_of_day(13), "Afternoon");
        assert_eq!(time_of_day(19), "Evening");
        assert_eq!(time_of_day(2), "Night");
    }
}
