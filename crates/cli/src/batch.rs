//! `edgerec batch`: batch inference over Personalize's JSON-lines formats.
//!
//! Input lines: `{"userId": ...}`, `{"itemId": ...}`, or `{"userId": ..., "itemList": [...]}`
//! (personalized ranking), each optionally with `"filterValues"`. Output lines:
//! `{"input": {...}, "output": {"recommendedItems": [...], "scores": [...]}, "error": null}`.
//! A bad line produces an output line with its error; the job goes on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use edgerec_core::Engine;
use edgerec_core::request::{
    GetPersonalizedRankingRequest, GetRecommendationsRequest, PredictedItem,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::model_file::{load_engine, recommender_or_first};
use super::progress::Bars;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  printf '{\"userId\": \"42\"}\\n{\"itemId\": \"7\"}\\n' > in.jsonl
  edgerec batch --model store.erm --recommender recommended-for-you --input in.jsonl --output out.jsonl")]
pub struct BatchArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    recommender: Option<String>,
    /// JSON-lines input.
    #[arg(long)]
    input: PathBuf,
    /// JSON-lines output.
    #[arg(long)]
    output: PathBuf,
    /// Results per line (default 25, max 500).
    #[arg(long)]
    num_results: Option<u32>,
    /// A filter expression or named filter applied to every line.
    #[arg(long)]
    filter: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InputLine {
    user_id: Option<String>,
    item_id: Option<String>,
    item_list: Option<Vec<String>>,
    #[serde(default)]
    filter_values: BTreeMap<String, String>,
}

pub fn run(args: &BatchArgs, bars: &Bars) -> Result<ExitCode> {
    let engine = load_engine(&args.model)?;
    let recommender = recommender_or_first(&engine, args.recommender.as_deref())?;
    super::jsonl::run("batch", &args.input, &args.output, bars, |line| {
        one_line(&engine, &recommender, args, line)
    })
}

fn output_of(items: &[PredictedItem]) -> Value {
    let ids: Vec<&str> = items.iter().map(|p| p.item_id.as_str()).collect();
    if items.iter().any(|p| p.score.is_some()) {
        let scores: Vec<Option<f64>> = items.iter().map(|p| p.score).collect();
        json!({"recommendedItems": ids, "scores": scores})
    } else {
        json!({"recommendedItems": ids})
    }
}

fn one_line(
    engine: &Engine,
    recommender: &str,
    args: &BatchArgs,
    line: &str,
) -> Result<(Value, Value), (Value, String)> {
    let raw: Value =
        serde_json::from_str(line).map_err(|e| (Value::Null, format!("invalid JSON: {e}")))?;
    let parsed: InputLine = serde_json::from_value(raw.clone())
        .map_err(|e| (raw.clone(), format!("invalid input: {e}")))?;
    let items = if let Some(list) = parsed.item_list {
        engine
            .get_personalized_ranking(&GetPersonalizedRankingRequest {
                recommender: Some(recommender.to_owned()),
                user_id: parsed.user_id,
                input_list: list,
                filter: args.filter.clone(),
                filter_values: parsed.filter_values,
                ..GetPersonalizedRankingRequest::default()
            })
            .map(|r| r.personalized_ranking)
    } else {
        engine
            .get_recommendations(&GetRecommendationsRequest {
                recommender: Some(recommender.to_owned()),
                user_id: parsed.user_id,
                item_id: parsed.item_id,
                num_results: args.num_results,
                filter: args.filter.clone(),
                filter_values: parsed.filter_values,
                ..GetRecommendationsRequest::default()
            })
            .map(|r| r.item_list)
    };
    match items {
        Ok(items) => Ok((raw, output_of(&items))),
        Err(e) => Err((raw, format!("{}: {e}", e.code().as_str()))),
    }
}
