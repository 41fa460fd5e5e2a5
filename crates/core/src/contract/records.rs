//! `PutItems` / `PutUsers` without a schema: the list, the ids and the properties' JSON.

use super::{Policy, properties};
use crate::error::RequestError;
use crate::request::{PutItemsRequest, PutUsersRequest, check_id, check_opt_id, limits};

/// Checks a `PutItems` request with `policy`'s batch size.
pub fn put_items(req: &PutItemsRequest, policy: &Policy) -> Result<(), RequestError> {
    check_opt_id("datasetArn", req.dataset_arn.as_deref())?;
    count("items", req.items.len(), policy)?;
    for (k, it) in req.items.iter().enumerate() {
        record(
            &format!("items[{k}]"),
            "itemId",
            &it.item_id,
            it.properties.as_deref(),
            limits::MAX_ITEM_PROPERTIES_LEN,
        )?;
    }
    Ok(())
}

/// Checks a `PutUsers` request with `policy`'s batch size.
pub fn put_users(req: &PutUsersRequest, policy: &Policy) -> Result<(), RequestError> {
    check_opt_id("datasetArn", req.dataset_arn.as_deref())?;
    count("users", req.users.len(), policy)?;
    for (k, u) in req.users.iter().enumerate() {
        record(
            &format!("users[{k}]"),
            "userId",
            &u.user_id,
            u.properties.as_deref(),
            limits::MAX_USER_PROPERTIES_LEN,
        )?;
    }
    Ok(())
}

/// 1 to `policy.max_records` records in the list `field`.
pub(crate) fn count(field: &str, n: usize, policy: &Policy) -> Result<(), RequestError> {
    if n == 0 || n > policy.max_records {
        return Err(RequestError::invalid(
            field,
            format!("must hold 1 to {} records, got {n}", policy.max_records),
        ));
    }
    Ok(())
}

fn record(
    at: &str,
    id_key: &str,
    id: &str,
    props: Option<&str>,
    max: usize,
) -> Result<(), RequestError> {
    check_id(&format!("{at}.{id_key}"), id)?;
    if let Some(p) = props {
        properties::object(&format!("{at}.properties"), p, max, &[])?;
    }
    Ok(())
}
