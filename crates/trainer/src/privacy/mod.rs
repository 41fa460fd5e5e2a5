//! Privacy: what a model may hold about the people whose interactions trained it.
//!
//! * [`support`] counts the distinct users behind a pair of items.
//! * [`floor`] is the k-anonymity floor every stored aggregate meets (`publicMinUsers`,
//!   default 5), applied at training in both profiles.
//! * [`projection`] turns a private model into its public profile, with
//!   [`session_pairs`] standing in for the histories session neighbours read.

pub mod floor;
pub mod projection;
pub mod session_pairs;
pub mod support;

pub use support::Support;

/// The default of `publicMinUsers`: the fewest distinct users behind any stored aggregate.
pub const DEFAULT_MIN_USERS: u32 = 5;
