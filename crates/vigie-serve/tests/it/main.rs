//! vigie-serve's integration tests (one binary; one module per topic).

mod api;
mod api_harness;
