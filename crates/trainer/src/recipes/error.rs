//! Why a recipe could not train a recommender; [`crate::train::TrainError::Recipe`] adds the
//! recommender's name.

/// A recipe's refusal: bad hyperparameters, or a config that names what the data lacks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecipeError {
    /// The hyperparameters do not parse (unknown key, wrong type).
    #[error("invalid hyperparameters: {0}")]
    Params(String),
    /// `content_buckets` outside `1..=max`.
    #[error("content_buckets must be 1 to {max}")]
    ContentBuckets { max: u32 },
    /// `lookback_days` negative or not finite.
    #[error("lookback_days must be a number of days >= 0, found {0}")]
    LookbackDays(f64),
    /// A `content_columns` entry names a numeric item column.
    #[error("content column {0:?} is numeric")]
    NumericContentColumn(String),
    /// A `content_columns` entry names no item column.
    #[error("content column {0:?} is not an item column")]
    UnknownContentColumn(String),
    /// The recommender's `event_type` is not in the interactions.
    #[error("event type {event_type:?} does not occur in the interactions (found: {found})")]
    UnknownEventType { event_type: String, found: String },
    /// An `auto` part names no recommender of the config.
    #[error("part {0:?} is not a recommender of the config")]
    UnknownPart(String),
    /// More blend parts than a model can index.
    #[error("{0} parts: a blend indexes its parts with 32 bits")]
    TooManyParts(usize),
}

/// Parses a recipe's hyperparameters from a config table.
///
/// # Errors
/// [`RecipeError::Params`] with the parser's message.
pub fn params_of<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, RecipeError> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| RecipeError::Params(e.message().to_owned()))
}
