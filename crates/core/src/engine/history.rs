//! An actor's interactions: the live session's events followed by the model's history of
//! a known user, newest first. Feeds fold-in, item-based scoring, exclusion and filters.

use crate::model::Model;
use crate::session::Session;

/// One interaction of the actor (the filter module's type, so filters take these lists as is).
pub use crate::filter::InteractionRef as Interaction;

/// Up to `limit` interactions of the actor, newest first: session events (with items the
/// model knows), then the known user's history from the model.
#[must_use]
pub fn collect<'a>(
    model: &'a Model,
    user: Option<u32>,
    session: Option<&'a Session>,
    limit: usize,
) -> Vec<Interaction<'a>> {
    let mut out = Vec::new();
    if let Some(s) = session {
        for e in s.recent() {
            if out.len() >= limit {
                return out;
            }
            if let Some(item) = e.item {
                out.push(Interaction {
                    item,
                    event_type: &e.event_type,
                });
            }
        }
    }
    if let Some(u) = user {
        let h = &model.histories;
        let r = h.range(u as usize);
        for k in r.rev() {
            if out.len() >= limit {
                break;
            }
            let (Some(&item), Some(&code)) = (h.items.get(k), h.event_types.get(k)) else {
                continue;
            };
            let event_type = model
                .catalog
                .event_types
                .get(code as usize)
                .map_or("", String::as_str);
            out.push(Interaction { item, event_type });
        }
    }
    out
}
