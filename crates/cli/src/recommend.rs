//! `edgerec recommend`: one request against a model file, printed as Personalize's JSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use edgerec_core::request::{
    Event, GetPersonalizedRankingRequest, GetRecommendationsRequest, PutEventsRequest,
};

use super::model_file::{load_engine, recommender_or_first};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  edgerec recommend --model store.erm --recommender recommended-for-you --user-id 42
  edgerec recommend --model store.erm --recommender also-viewed --item-id 6c1f0a --num-results 5
  edgerec recommend --model store.erm --user-id visitor-1 --event View:6c1f0a --event Purchase:8d2e11
  edgerec recommend --model store.erm --recommender personalized-ranking --user-id 42 --input-list a,b,c")]
pub struct RecommendArgs {
    /// The .erm model file.
    #[arg(long)]
    model: PathBuf,
    /// Recommender name (default: the model's first).
    #[arg(long)]
    recommender: Option<String>,
    /// User (or anonymous session) id.
    #[arg(long)]
    user_id: Option<String>,
    /// Item id, for related-items recommenders.
    #[arg(long)]
    item_id: Option<String>,
    /// Number of results (default 25, max 500).
    #[arg(long)]
    num_results: Option<u32>,
    /// Re-rank these comma-separated item ids (GetPersonalizedRanking) instead.
    #[arg(long, value_delimiter = ',')]
    input_list: Vec<String>,
    /// Session events sent with PutEvents before the request, as EVENT_TYPE:ITEM_ID.
    #[arg(long = "event")]
    events: Vec<String>,
    /// Context entries as KEY=VALUE (e.g. DEVICE=mobile).
    #[arg(long = "context")]
    context: Vec<String>,
    /// Item metadata columns to include in the response.
    #[arg(long = "metadata")]
    metadata: Vec<String>,
    /// A filter expression or the name of a filter defined in the model.
    #[arg(long)]
    filter: Option<String>,
    /// Filter values as a JSON object, e.g. '{"CATS": "\"shoes\""}'.
    #[arg(long)]
    filter_values: Option<String>,
}

fn pairs(items: &[String], what: &str) -> Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("{what} {kv:?} is not KEY=VALUE"))
        })
        .collect()
}

pub fn run(args: &RecommendArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let mut engine = load_engine(&args.model)?;
    let recommender = recommender_or_first(&engine, args.recommender.as_deref())?;
    if !args.events.is_empty() {
        let user = args
            .user_id
            .clone()
            .context("--event needs --user-id (the session's user or anonymous session id)")?;
        // The events happen now, in the order given.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let mut event_list = Vec::new();
        for (k, ev) in args.events.iter().enumerate() {
            let Some((t, item)) = ev.split_once(':') else {
                bail!("--event {ev:?} is not EVENT_TYPE:ITEM_ID");
            };
            #[allow(clippy::cast_precision_loss)]
            event_list.push(Event {
                event_type: t.to_owned(),
                item_id: Some(item.to_owned()),
                sent_at: now + k as f64 * 1e-3,
                ..Event::default()
            });
        }
        for chunk in event_list.chunks(10) {
            engine.put_events(&PutEventsRequest {
                session_id: user.clone(),
                user_id: Some(user.clone()),
                event_list: chunk.to_vec(),
                ..PutEventsRequest::default()
            })?;
        }
    }
    let context = pairs(&args.context, "--context")?;
    let filter_values: BTreeMap<String, String> = match &args.filter_values {
        Some(j) => {
            serde_json::from_str(j).context("--filter-values must be a JSON object of strings")?
        }
        None => BTreeMap::new(),
    };
    let metadata_columns: BTreeMap<String, Vec<String>> = if args.metadata.is_empty() {
        BTreeMap::new()
    } else {
        BTreeMap::from([("ITEMS".to_owned(), args.metadata.clone())])
    };
    let json = if args.input_list.is_empty() {
        let resp = engine.get_recommendations(&GetRecommendationsRequest {
            recommender: Some(recommender),
            user_id: args.user_id.clone(),
            item_id: args.item_id.clone(),
            num_results: args.num_results,
            context,
            filter: args.filter.clone(),
            filter_values,
            metadata_columns,
            ..GetRecommendationsRequest::default()
        })?;
        serde_json::to_string_pretty(&resp)?
    } else {
        let resp = engine.get_personalized_ranking(&GetPersonalizedRankingRequest {
            recommender: Some(recommender),
            user_id: args.user_id.clone(),
            input_list: args.input_list.clone(),
            context,
            filter: args.filter.clone(),
            filter_values,
            metadata_columns,
            ..GetPersonalizedRankingRequest::default()
        })?;
        serde_json::to_string_pretty(&resp)?
    };
    writeln!(out, "{json}")?;
    Ok(ExitCode::SUCCESS)
}
