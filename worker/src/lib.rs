//! edgerec on Cloudflare Workers: Personalize's runtime and events APIs at the edge.
//!
//! A thin adapter over `edgerec_core::Engine`: it parses requests, checks auth and limits,
//! adds automatic context, routes the requests of each user or session with live state to its
//! Durable Object ([`session`], [`session_index`]), answers the others from the model, maps the
//! core's errors to Personalize's error shapes ([`api`]) and counts what it did ([`metrics`]).
//! No recommendation logic lives here.
//!
//! | route | auth | what |
//! |---|---|---|
//! | `POST /recommendations` | read ([`auth::read`]) | GetRecommendations |
//! | `GET /recommendations?…` | read | the same as a URL (anonymous answers cacheable) |
//! | `POST /personalize-ranking` | read | GetPersonalizedRanking |
//! | `POST /events` | write ([`auth::write`]) | PutEvents (session updated at once, forwarded to `SYNC_URL`) |
//! | `POST /items`, `POST /users` | write | PutItems / PutUsers (501 without a sync server) |
//! | `GET /model` | — | the **public** profile of the model (R2 `PUBLIC_MODEL_KEY`; never the private model the Worker answers from), `ETag` / `If-None-Match` → 304, 404 when none is published |
//! | `PUT /model` | admin bearer | publish a new (private) model into R2 (hot-swapped everywhere; signed by a `MODEL_PUBLIC_KEY` key when that is set) |
//! | `PUT /model/public` | admin bearer | publish the model's public profile (refused unless its header says public; signed as above) |
//! | `GET /health` | — (admin bearer: also the isolate's counters) | model version, item count, sync mode |
//! | `GET /sync/parked` | admin bearer | the batches the sync server refused for good, parked with its answer ([`sync`]) |
//! | `GET /users/{userId}/profile` | that user's token (`USER_TOKEN_SECRET`) | the user's slice of the model, for `rec.loadUserProfile` |
//! | `OPTIONS` any route | — | CORS preflight ([`cors`], `ALLOWED_ORIGINS`) |

mod api;
mod auth;
mod body;
mod config;
mod context;
mod cors;
mod experiments;
mod lake;
mod metrics;
mod model;
mod paths;
mod profile;
mod rec_log;
mod routes;
mod runtime;
mod session;
mod session_index;
mod sigv4;
mod sync;
mod verify;

use worker::{Context, Env, MessageBatch, Request, Response, Result, event};

pub use session::SessionState;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(routes::handle(req, &env, &ctx).await)
}

#[event(queue)]
async fn queue(batch: MessageBatch<sync::Batch>, env: Env, _ctx: Context) -> Result<()> {
    sync::consume(&batch, &env).await;
    Ok(())
}
