//! vigie-incident integration tests, one module per phase, built as one binary.

mod decide;
mod group;
