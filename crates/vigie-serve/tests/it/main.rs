//! vigie-serve's integration tests (one binary; one module per topic).

mod api;
mod api_harness;
mod auth;
mod openapi;
mod schemathesis;
mod tls;
mod webhook;
