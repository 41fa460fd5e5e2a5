//! The catalogue order: item and user indices of a model follow their raw ids in this order,
//! so that the same data always gives the same indices, whichever tool trained it.

use std::cmp::Ordering;

/// Integer value of a raw id, when the whole string is an integer (optional sign, digits).
#[must_use]
pub fn raw_integer(id: &str) -> Option<i128> {
    id.parse::<i128>().ok()
}

/// The order of raw ids: a catalogue's items (and a model's users) are indexed in it, and
/// time-order ties between events are broken by it.
///
/// Ids that parse as integers compare numerically (`"9" < "10"`, as the MovieLens check values
/// require); equal values (`"7"` and `"07"`) then compare as strings. Non-integer ids compare
/// as strings (bytewise). Mixed pairs put the integer first: comparing a number with a string
/// textually would not be a total order (`"10" < "1a" < "9" < "10"`).
#[must_use]
pub fn compare_raw_ids(a: &str, b: &str) -> Ordering {
    match (raw_integer(a), raw_integer(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Indices of `ids` sorted by [`compare_raw_ids`].
#[must_use]
pub fn sorted_by_raw_id(ids: &[String]) -> Vec<u32> {
    let keys: Vec<Option<i128>> = ids.iter().map(|s| raw_integer(s)).collect();
    let mut order: Vec<u32> = (0..u32::try_from(ids.len()).unwrap_or(u32::MAX)).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        match (keys[a], keys[b]) {
            (Some(x), Some(y)) => x.cmp(&y).then_with(|| ids[a].cmp(&ids[b])),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => ids[a].cmp(&ids[b]),
        }
    });
    order
}
