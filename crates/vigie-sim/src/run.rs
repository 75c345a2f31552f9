//! (being built: see lib.rs)
