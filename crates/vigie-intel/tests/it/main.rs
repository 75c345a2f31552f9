//! Integration tests of vigie-intel: one module per area.
mod detect;
