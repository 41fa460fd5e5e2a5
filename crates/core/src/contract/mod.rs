//! The event contract: the one set of rules for `PutEvents`, `PutItems` and `PutUsers`,
//! wherever such a request enters — the engine (so the npm package and the Worker), the
//! engine's outbox and the sync server's ingest. Every error names its field path
//! (`eventList[3].properties`).
//!
//! The rules are Personalize's (docs/personalize.md, "Events, items and users at run time"):
//!
//! | field | rule |
//! |---|---|
//! | `sessionId` | 1–256 characters |
//! | `userId`, `trackingId` | absent, or 1–256 characters |
//! | `eventList` | 1 to the policy's `max_events` events |
//! | `eventType` | 1–256 characters |
//! | `sentAt` | a finite Unix time in seconds, not negative |
//! | `eventId`, `itemId` | absent, or 1–256 characters |
//! | `eventValue` | absent, or a finite number |
//! | `properties` | absent, or the text of a JSON object, 1–1,024 characters, none of whose keys is `userId`, `sessionId`, `eventType`, `timestamp`, `recommendationId` or `impression` |
//! | `impression` | none, or 1–25 item ids of 1–256 characters (a list present on the wire must not be empty) |
//! | `recommendationId` | absent, or 1–40 characters |
//! | `metricAttribution.eventAttributionSource` | 1–1,024 printable ASCII characters |
//! | `recommender` (edgerec) | absent, or 1–256 characters |
//! | `items[k].itemId`, `users[k].userId` | 1–256 characters |
//! | `items[k].properties` / `users[k].properties` | absent, or the text of a JSON object of at most 32,000 / 24,000 characters |
//! | `items`, `users` | 1 to the policy's `max_records` records |
//! | `datasetArn` | absent, or 1–256 characters |
//!
//! **The sync server's acceptance policy** ([`Policy::SYNC_SERVER`]) differs from
//! Personalize's in the batch sizes only: edge outboxes drain up to 1,000 events per `POST
//! /events` and up to 100 records per `POST /items` / `POST /users` (Personalize: 10 each).
//! Every field rule above is the same for both, including edgerec's one extension, the
//! event's `recommender`, which the engine takes too and keeps in its outbox. The engine
//! checks calls under [`Policy::PERSONALIZE`]; since its outbox records only requests that
//! passed [`put_events`] ([`Checked`]) and hands them out in batches of at most 10 events, and
//! the serialisation of the request types leaves out absent fields and empty lists, every
//! batch the outbox emits is one the sync server accepts.
//!
//! PutItems / PutUsers records are checked here without a schema; the engine then matches
//! their properties to the model's columns (`crate::records`).

mod events;
mod policy;
mod properties;
mod records;

pub use events::{Checked, put_events};
pub use policy::{Policy, is_refusal};
pub use records::{put_items, put_users};

pub(crate) use properties::object as properties_object;
pub(crate) use records::count as record_count;

#[cfg(test)]
mod tests;
