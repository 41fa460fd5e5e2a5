//! Validation of the read requests against Personalize's limits (docs/design.md, "Limits and
//! bad input"); the writes (`PutEvents`, `PutItems`, `PutUsers`) are `crate::contract`'s.
//! Every error names its field.

use std::collections::BTreeMap;

use crate::error::{RequestError, quoted};
use crate::request::{
    GetPersonalizedRankingRequest, GetRecommendationsRequest, check_id, check_opt_id, limits,
};

fn len(s: &str) -> usize {
    s.chars().count()
}

fn key_ok(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `context`: ≤ 150 entries, keys `[A-Za-z0-9_]+` ≤ 150 chars, values ≤ 1000 chars.
pub fn context(ctx: &BTreeMap<String, String>) -> Result<(), RequestError> {
    if ctx.len() > limits::MAX_CONTEXT_ENTRIES {
        return Err(RequestError::invalid(
            "context",
            format!(
                "{} entries exceed the maximum of {}",
                ctx.len(),
                limits::MAX_CONTEXT_ENTRIES
            ),
        ));
    }
    for (k, v) in ctx {
        if !key_ok(k) || len(k) > limits::MAX_CONTEXT_KEY_LEN {
            return Err(RequestError::invalid(
                format!("context.{k}"),
                "keys must match [A-Za-z0-9_]+ and be at most 150 characters",
            ));
        }
        if len(v) > limits::MAX_CONTEXT_VALUE_LEN {
            return Err(RequestError::invalid(
                format!("context.{k}"),
                "value exceeds the maximum of 1000 characters",
            ));
        }
    }
    Ok(())
}

/// `filterValues`: ≤ 25 keys `[A-Za-z0-9_]+` ≤ 50 chars, values ≤ 1000 chars.
pub fn filter_values(field: &str, fv: &BTreeMap<String, String>) -> Result<(), RequestError> {
    if fv.len() > limits::MAX_FILTER_VALUES {
        return Err(RequestError::invalid(
            field,
            format!(
                "{} keys exceed the maximum of {}",
                fv.len(),
                limits::MAX_FILTER_VALUES
            ),
        ));
    }
    for (k, v) in fv {
        if !key_ok(k) || len(k) > limits::MAX_FILTER_KEY_LEN {
            return Err(RequestError::invalid(
                format!("{field}.{k}"),
                "keys must match [A-Za-z0-9_]+ and be at most 50 characters",
            ));
        }
        if len(v) > limits::MAX_FILTER_VALUE_LEN {
            return Err(RequestError::invalid(
                format!("{field}.{k}"),
                "value exceeds the maximum of 1000 characters",
            ));
        }
    }
    Ok(())
}

/// `metadataColumns`: at most the `ITEMS` key with ≤ 10 columns. Returns whether metadata is asked for.
pub fn metadata_columns(mc: &BTreeMap<String, Vec<String>>) -> Result<bool, RequestError> {
    for (k, cols) in mc {
        if k != "ITEMS" {
            return Err(RequestError::invalid(
                "metadataColumns",
                format!("unknown dataset {}; only \"ITEMS\" is supported", quoted(k)),
            ));
        }
        if cols.len() > limits::MAX_METADATA_COLUMNS {
            return Err(RequestError::invalid(
                "metadataColumns.ITEMS",
                format!(
                    "{} columns exceed the maximum of {}",
                    cols.len(),
                    limits::MAX_METADATA_COLUMNS
                ),
            ));
        }
    }
    Ok(mc.values().any(|c| !c.is_empty()))
}

fn filter_text(field: &str, f: Option<&str>) -> Result<(), RequestError> {
    if let Some(f) = f
        && (f.trim().is_empty() || len(f) > 2500)
    {
        return Err(RequestError::invalid(
            field,
            "must be a non-empty filter expression of at most 2500 characters",
        ));
    }
    Ok(())
}

/// Validates `GetRecommendations`; returns the number of results to produce.
pub fn get_recommendations(req: &GetRecommendationsRequest) -> Result<usize, RequestError> {
    check_opt_id("userId", req.user_id.as_deref())?;
    check_opt_id("itemId", req.item_id.as_deref())?;
    check_opt_id("recommendationId", req.recommendation_id.as_deref())?;
    context(&req.context)?;
    filter_values("filterValues", &req.filter_values)?;
    filter_text("filter", req.filter.as_deref())?;
    let with_meta = metadata_columns(&req.metadata_columns)?;
    let n = req.num_results.unwrap_or(limits::DEFAULT_NUM_RESULTS);
    let max = if with_meta {
        limits::MAX_NUM_RESULTS_WITH_METADATA
    } else {
        limits::MAX_NUM_RESULTS
    };
    if n > max {
        return Err(RequestError::invalid(
            "numResults",
            format!(
                "{n} exceeds the maximum of {max}{}",
                if with_meta {
                    " when metadataColumns are requested"
                } else {
                    ""
                }
            ),
        ));
    }
    if req.promotions.len() > limits::MAX_PROMOTIONS {
        return Err(RequestError::invalid(
            "promotions",
            format!("at most {} promotion is allowed", limits::MAX_PROMOTIONS),
        ));
    }
    for (k, p) in req.promotions.iter().enumerate() {
        let field = format!("promotions[{k}]");
        match &p.name {
            Some(name) => check_id(&format!("{field}.name"), name)?,
            None => {
                return Err(RequestError::invalid(
                    format!("{field}.name"),
                    "is required",
                ));
            }
        }
        match p.percent_promoted_items {
            Some(1..=100) => {}
            _ => {
                return Err(RequestError::invalid(
                    format!("{field}.percentPromotedItems"),
                    "must be an integer from 1 to 100",
                ));
            }
        }
        if p.filter.is_none() && p.filter_arn.is_none() {
            return Err(RequestError::invalid(
                format!("{field}.filter"),
                "a promotion needs a filter or filterArn",
            ));
        }
        filter_text(&format!("{field}.filter"), p.filter.as_deref())?;
        filter_values(&format!("{field}.filterValues"), &p.filter_values)?;
    }
    Ok(n as usize)
}

/// Validates `GetPersonalizedRanking`.
pub fn get_personalized_ranking(req: &GetPersonalizedRankingRequest) -> Result<(), RequestError> {
    match req.user_id.as_deref() {
        Some(u) => check_id("userId", u)?,
        None => return Err(RequestError::invalid("userId", "is required")),
    }
    check_opt_id("recommendationId", req.recommendation_id.as_deref())?;
    context(&req.context)?;
    filter_values("filterValues", &req.filter_values)?;
    filter_text("filter", req.filter.as_deref())?;
    let with_meta = metadata_columns(&req.metadata_columns)?;
    let max = if with_meta {
        limits::MAX_INPUT_LIST_WITH_METADATA
    } else {
        limits::MAX_INPUT_LIST
    };
    if req.input_list.is_empty() {
        return Err(RequestError::invalid(
            "inputList",
            "must contain at least one item",
        ));
    }
    if req.input_list.len() > max {
        return Err(RequestError::invalid(
            "inputList",
            format!("{} items exceed the maximum of {max}", req.input_list.len()),
        ));
    }
    for (k, id) in req.input_list.iter().enumerate() {
        check_id(&format!("inputList[{k}]"), id)?;
    }
    Ok(())
}
