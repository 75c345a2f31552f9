//! `vigie serve`: vigie as a live service. The only crate with an async runtime, HTTP,
//! NATS and TLS; engines stay synchronous and pure, the store is the only SQL.
//!
//! Flow (Vector's sources → transforms → sinks, with end-to-end acknowledgement):
//!
//! ```text
//! HTTP POST /api/v1/events ─┐                        ┌─ detect (one DetectionSession)
//! syslog UDP/TCP ───────────┼─▶ Ingest (bounded) ──▶ │  live incidents (respond's code)
//! followed files ───────────┤   queue, 429 when full │  one store transaction per group
//! NATS JetStream ───────────┘                        └─ of batches, then ack every batch
//!                                                        │
//!                        decider thread ◀── compromised set changed ──┘
//!                        API (/api/v1, OpenAPI), dashboard (/), /metrics, webhooks
//! ```
//!
//! Modules, one job each (and their owner during the build of issue 9):
//! - [`config`]: the TOML config, flags and environment resolved into one [`config::Config`].
//! - [`ingest`]: the ingest handle ([`ingest::Ingest`]) every source submits through, and
//!   the sources: `http` body decoding, `syslog` listeners, `file` followers, `nats`.
//! - [`pipeline`]: the processor thread (event keys, dedupe, detection, correlation with
//!   a watermark, live incidents) and group commit into the store; failpoints.
//! - [`live`]: live incident grouping over the stored detections and the decider.
//! - [`api`]: the axum router under `/api/v1`, OpenAPI, auth (tokens, roles), TLS,
//!   webhooks; [`metrics`]: the Prometheus registry.
//! - [`dashboard`]: the embedded single-page dashboard served at `/`.
//! - [`taxii`]: TAXII 2.1 under `/taxii2/` (collections `incidents` and `shared`).
//! - [`worker`]: `--worker` scale-out over one JetStream stream.
//! - [`server`]: wires the above and runs until SIGTERM.

pub mod api;
pub mod config;
pub mod dashboard;
pub mod ingest;
pub mod intel_live;
pub mod live;
pub mod metrics;
pub mod pipeline;
pub mod server;
pub mod state;
pub mod taxii;
pub mod worker;

mod error;
pub use error::ServeError;
