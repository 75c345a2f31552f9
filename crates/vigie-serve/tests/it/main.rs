//! vigie-serve's integration tests (one binary, one module per topic).

mod nats;
mod scale;
