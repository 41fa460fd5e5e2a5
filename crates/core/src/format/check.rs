//! Consistency of a decoded model, within and across sections. Everything the engine indexes
//! by position is checked here, so a model that decodes is safe to serve.

use std::collections::HashSet;

use crate::catalog::{Column, ColumnKind, ColumnValues};
use crate::content::ContentModel;
use crate::error::{FormatError, quoted};
use crate::model::{Model, PopularityModel, Profile, RecommenderModel};

fn bad(msg: String) -> Result<(), FormatError> {
    Err(FormatError::Inconsistent(msg))
}

/// A public model holds no per-person record: no user ids or user metadata, no histories, no
/// user factors.
fn public(m: &Model) -> Result<(), FormatError> {
    let personal = |what: String| Err(FormatError::PersonalData(what));
    let users = m.users.user_ids.len();
    if users > 0 {
        return personal(format!("the users section lists {users} user ids"));
    }
    // Columns may stay (their names and kinds let `putUsers` records and `CurrentUser`
    // filters work), but hold no value of anyone.
    if let Some(c) = m.users.columns.iter().find(|c| match &c.values {
        ColumnValues::Categorical {
            dictionary, codes, ..
        } => !dictionary.is_empty() || !codes.is_empty(),
        ColumnValues::Numeric(v) => !v.is_empty(),
        ColumnValues::Textual(v) => !v.is_empty(),
    }) {
        return personal(format!(
            "the users section holds user metadata (column {})",
            c.name
        ));
    }
    if !m.histories.items.is_empty() || m.histories.offsets.len() > 1 {
        return personal(format!(
            "the histories section holds {} entries of {} users",
            m.histories.items.len(),
            m.histories.users()
        ));
    }
    for r in &m.recommenders {
        if let RecommenderModel::Factors(f) = &r.model
            && f.user_factors.rows() > 0
        {
            return personal(format!(
                "recommender {} holds {} users' factors",
                crate::error::quoted(&r.name),
                f.user_factors.rows()
            ));
        }
    }
    Ok(())
}

/// Checks the whole model; the message names the section and what is wrong.
pub(crate) fn model(m: &Model) -> Result<(), FormatError> {
    if m.meta.profile == Profile::Public {
        public(m)?;
    }
    let items = m.catalog.len();
    let users = m.users.user_ids.len();
    let event_types = m.catalog.event_types.len();

    for c in &m.catalog.columns {
        column(c, items, "item")?;
    }
    let ct = m.catalog.creation_time.len();
    if ct != items && ct != 0 {
        return bad(format!("catalog has {ct} creation times for {items} items"));
    }
    for c in &m.users.columns {
        column(c, users, "user")?;
    }

    let h = &m.histories;
    if !h.is_consistent(items) {
        return bad(format!(
            "histories: offsets, items, event types and timestamps disagree, or an item is not in the {items}-item catalog"
        ));
    }
    if h.users() != users && !h.offsets.is_empty() {
        return bad(format!(
            "histories cover {} users but the user table has {users}",
            h.users()
        ));
    }
    if let Some(e) = h
        .event_types
        .iter()
        .find(|&&e| usize::from(e) >= event_types)
    {
        return bad(format!(
            "histories use event type {e} but the catalog lists {event_types}"
        ));
    }

    popularity(&m.popularity, items, "global popularity")?;

    let mut names = HashSet::with_capacity(m.recommenders.len());
    for r in &m.recommenders {
        let what = format!("recommender {}", quoted(&r.name));
        if r.name.is_empty() {
            return bad("a recommender has an empty name".to_owned());
        }
        if !names.insert(r.name.as_str()) {
            return bad(format!("{what} appears twice"));
        }
        if let Some(e) = &r.serving.exploration {
            if !matches!(r.model, RecommenderModel::Factors(_)) {
                return bad(format!(
                    "{what}: exploration settings need a factor (user-personalization) model"
                ));
            }
            if !e.is_valid() {
                return bad(format!(
                    "{what}: exploration weight {} (0–1) or item age cut-off {} days (>= 0) out of range",
                    crate::decimal::format_f64(f64::from(e.weight)),
                    crate::decimal::format_f64(f64::from(e.item_age_cut_off_days))
                ));
            }
        }
        if (r.recipe == crate::model::Recipe::Auto) != matches!(r.model, RecommenderModel::Blend(_))
        {
            return bad(format!(
                "{what}: the auto recipe and a blend model go together"
            ));
        }
        match &r.model {
            RecommenderModel::Popularity(p) => popularity(p, items, &what)?,
            RecommenderModel::Neighbors(n) => {
                if n.transitions
                    .as_deref()
                    .is_some_and(|t| !t.is_consistent(items))
                {
                    return bad(format!(
                        "{what}: transition lists do not fit the {items}-item catalog (offsets, ids or weights)"
                    ));
                }
                if !n.is_consistent(items) {
                    return bad(format!(
                        "{what}: neighbour lists do not fit the {items}-item catalog (offsets, ids, weights or popularity timeline)"
                    ));
                }
                if n.timeline.is_some() && n.session_popularity <= 0.0 {
                    return bad(format!(
                        "{what}: a popularity timeline needs the session popularity prior on"
                    ));
                }
                if n.session_neighbors
                    .as_deref()
                    .is_some_and(|s| !s.is_valid())
                {
                    return bad(format!(
                        "{what}: session neighbours need a finite non-negative weight, window and position decay, and at most {} users",
                        crate::session::neighbors::MAX_SESSION_NEIGHBOR_USERS
                    ));
                }
                if let Some(c) = &n.content {
                    content(c, c.dim(), items, m, &what)?;
                    if c.item_vectors.is_none() {
                        return bad(format!(
                            "{what}: content of neighbour lists needs item vectors"
                        ));
                    }
                }
            }
            RecommenderModel::Factors(f) => {
                if !f.is_consistent(items, users) {
                    return bad(format!(
                        "{what}: factors do not fit {items} items and {users} users (item rows {}, user rows {}, dim {}, gram {}), or hold non-finite values",
                        f.item_factors.rows(),
                        f.user_factors.rows(),
                        f.dim(),
                        f.gram.len()
                    ));
                }
                if !f.event_weights.iter().all(|w| w.is_finite()) {
                    return bad(format!("{what}: event weights are not finite"));
                }
                if let Some(c) = &f.content {
                    content(c, f.dim(), items, m, &what)?;
                }
            }
            RecommenderModel::Blend(b) => {
                let is_blend = |r: usize| {
                    m.recommenders
                        .get(r)
                        .is_some_and(|x| matches!(x.model, RecommenderModel::Blend(_)))
                };
                if !b.is_consistent(m.recommenders.len(), is_blend) {
                    return bad(format!(
                        "{what}: a blend needs a positive depth, parts naming other recommenders (not blends), one known-user weight and as many session weights per part, all finite and non-negative"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn content(
    c: &ContentModel,
    dim: usize,
    items: usize,
    m: &Model,
    what: &str,
) -> Result<(), FormatError> {
    if !c.is_consistent(dim, items) {
        return bad(format!(
            "{what}: content features do not fit (buckets {}, idf {}, projection {} × {}, mean {}, dim {dim}, {items} items), or hold non-finite values",
            c.buckets,
            c.idf.len(),
            c.projection.rows(),
            c.projection.dim(),
            c.mean.len()
        ));
    }
    for col in &c.columns {
        match m.catalog.column(&col.name).map(|x| x.kind) {
            Some(ColumnKind::Categorical | ColumnKind::Boolean | ColumnKind::Textual) => {}
            _ => {
                return bad(format!(
                    "{what}: content column {} is not a categorical or textual item column",
                    quoted(&col.name)
                ));
            }
        }
    }
    Ok(())
}

fn popularity(p: &PopularityModel, items: usize, what: &str) -> Result<(), FormatError> {
    if p.counts.len() != items {
        return bad(format!(
            "{what} has {} counts for {items} items",
            p.counts.len()
        ));
    }
    if p.ranked.len() > items {
        return bad(format!(
            "{what} ranks {} items but the catalog has {items}",
            p.ranked.len()
        ));
    }
    if let Some(i) = p.ranked.iter().find(|&&i| i as usize >= items) {
        return bad(format!(
            "{what} ranks item {i}, outside the {items}-item catalog"
        ));
    }
    Ok(())
}

pub(crate) fn column(c: &Column, rows: usize, table: &str) -> Result<(), FormatError> {
    let what = format!("{table} column {}", quoted(&c.name));
    if c.len() != rows {
        return bad(format!("{what} has {} rows, expected {rows}", c.len()));
    }
    let kind_fits = matches!(
        (c.kind, &c.values),
        (
            ColumnKind::Categorical | ColumnKind::Boolean,
            ColumnValues::Categorical { .. }
        ) | (ColumnKind::Numeric, ColumnValues::Numeric(_))
            | (ColumnKind::Textual, ColumnValues::Textual(_))
    );
    if !kind_fits {
        return bad(format!(
            "{what} holds values of another kind than {:?}",
            c.kind
        ));
    }
    if let ColumnValues::Categorical {
        dictionary,
        offsets,
        codes,
    } = &c.values
    {
        if offsets.first().is_some_and(|&o| o != 0)
            || offsets.last().is_some_and(|&o| o as usize != codes.len())
            || offsets.windows(2).any(|w| w[0] > w[1])
        {
            return bad(format!(
                "{what}: offsets do not cover the {} codes",
                codes.len()
            ));
        }
        if let Some(code) = codes.iter().find(|&&k| k as usize >= dictionary.len()) {
            return bad(format!(
                "{what}: code {code} is outside the {}-entry dictionary",
                dictionary.len()
            ));
        }
    }
    Ok(())
}
