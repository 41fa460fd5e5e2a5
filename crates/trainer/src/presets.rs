//! Domain recommender presets: Personalize's e-commerce and video-on-demand use cases as named
//! recommenders over the recipes, with the filters those use cases apply by default.
//!
//! ```toml
//! preset = "ecommerce"        # or "video-on-demand"
//! ```
//!
//! A recommender the config defines itself replaces the preset's one of the same name.

/// The preset names `preset = "..."` accepts.
pub const NAMES: [&str; 2] = ["ecommerce", "video-on-demand"];

/// E-commerce (`aws-ecomm-*`): interactions with `View` and `Purchase` events.
const ECOMMERCE: &str = r#"
[most-viewed]                         # aws-ecomm-popular-items-by-views
recipe = "popularity-count"
event_type = "View"

[best-sellers]                        # aws-ecomm-popular-items-by-purchases
recipe = "popularity-count"
event_type = "Purchase"

[frequently-bought-together]          # aws-ecomm-frequently-bought-together
recipe = "sims"
event_type = "Purchase"
min_cointeraction_count = 1

[customers-who-viewed-x-also-viewed]  # aws-ecomm-customers-who-viewed-x-also-viewed
recipe = "sims"
event_type = "View"
exclude_event_types = ["Purchase"]    # leaves out what the user bought

[recommended-for-you]                 # aws-ecomm-recommended-for-you
recipe = "user-personalization"
exclude_event_types = ["Purchase"]
"#;

/// Video on demand (`aws-vod-*`): interactions with `Watch` (and `Click`) events.
const VIDEO_ON_DEMAND: &str = r#"
[because-you-watched-x]               # aws-vod-because-you-watched-x
recipe = "sims"
event_type = "Watch"
exclude_event_types = ["Watch"]       # leaves out what the user watched

[more-like-x]                         # aws-vod-more-like-x (every event type, plus metadata and text)
recipe = "similar-items"
exclude_event_types = ["Watch"]

[most-popular]                        # aws-vod-most-popular
recipe = "popularity-count"
event_type = "Watch"

[trending-now]                        # aws-vod-trending-now
recipe = "trending-now"
window_hours = 48.0

[top-picks]                           # aws-vod-top-picks
recipe = "user-personalization"
exclude_event_types = ["Watch"]
"#;

/// The `[recommenders]` table of a preset, as TOML, or `None` for an unknown name.
#[must_use]
pub fn recommenders(name: &str) -> Option<&'static str> {
    match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "ecommerce" | "e-commerce" => Some(ECOMMERCE),
        "video-on-demand" | "vod" => Some(VIDEO_ON_DEMAND),
        _ => None,
    }
}
