//! A small LRU of compiled filters keyed by expression text.

use std::collections::HashMap;
use std::sync::Arc;

use super::compile::compile;
use super::index::Indexes;
use super::parse;
use super::plan::CompiledFilter;
use crate::catalog::{Catalog, UserTable};
use crate::error::FilterError;

/// Compiled filters for one model, least recently used evicted first.
///
/// Plans and the column indexes they share belong to the catalogue they were compiled
/// against: use one cache per model, or [`clear`](FilterCache::clear) it when the model changes.
/// (A plan used with a catalogue or user table of another size is rejected at evaluation.)
#[derive(Debug)]
pub struct FilterCache {
    capacity: usize,
    tick: u64,
    map: HashMap<String, (Arc<CompiledFilter>, u64)>,
    indexes: Indexes,
}

impl FilterCache {
    /// A cache holding up to `capacity` compiled filters (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        FilterCache {
            capacity: capacity.max(1),
            tick: 0,
            map: HashMap::new(),
            indexes: Indexes::default(),
        }
    }

    /// The compiled form of `expr`, compiling it on first use. Errors are not cached.
    ///
    /// # Errors
    /// Parse and compile errors of `expr` (see [`FilterError`]).
    pub fn get_or_compile(
        &mut self,
        expr: &str,
        catalog: &Catalog,
        users: &UserTable,
    ) -> Result<Arc<CompiledFilter>, FilterError> {
        self.tick += 1;
        let tick = self.tick;
        if let Some((plan, used)) = self.map.get_mut(expr) {
            if plan.items == catalog.len() && plan.users == users.user_ids.len() {
                *used = tick;
                return Ok(Arc::clone(plan));
            }
            // Another model: everything cached is stale.
            self.clear();
        }
        let plan = Arc::new(compile(&parse(expr)?, catalog, users, &mut self.indexes)?);
        if self.map.len() >= self.capacity
            && let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            self.map.remove(&oldest);
        }
        self.map.insert(expr.to_string(), (Arc::clone(&plan), tick));
        Ok(plan)
    }

    /// Drops every compiled filter and column index (call when the model changes).
    pub fn clear(&mut self) {
        self.map.clear();
        self.indexes.clear();
    }

    /// Number of compiled filters held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// True when `expr` is cached (does not change recency).
    #[must_use]
    pub fn contains(&self, expr: &str) -> bool {
        self.map.contains_key(expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let cat = Catalog {
            item_ids: ["a"].into(),
            creation_time: vec![0].into(),
            ..Catalog::default()
        };
        let users = UserTable::default();
        let mut c = FilterCache::new(2);
        let e = |t: i32| format!("INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP > {t}");
        c.get_or_compile(&e(1), &cat, &users).unwrap();
        c.get_or_compile(&e(2), &cat, &users).unwrap();
        c.get_or_compile(&e(1), &cat, &users).unwrap(); // 1 is now the most recent
        c.get_or_compile(&e(3), &cat, &users).unwrap();
        assert_eq!(c.len(), 2);
        assert!(c.contains(&e(1)) && c.contains(&e(3)) && !c.contains(&e(2)));
        assert!(c.get_or_compile("INCLUDE", &cat, &users).is_err());
        assert_eq!(c.len(), 2);
    }
}
