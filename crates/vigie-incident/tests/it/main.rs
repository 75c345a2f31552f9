//! vigie-incident integration tests, one module per phase.

mod group;
