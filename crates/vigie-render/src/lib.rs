//! What a person reads: the presentation half of vigie, kept out of the engine crates.
//!
//! - [`hunt`]: printers of detections (table, JSON lines, one JSON array, CSV), the
//!   closing summary in words, all written from the wire types of `vigie-wire`.
//! - [`progress`]: the terminal progress bar a hunt reports to.
//! - [`response`]: the reports of `assess`, `contain` and `restore` as text, and the
//!   attack graph as Graphviz DOT / SVG (the only place vigie runs another program).
//! - [`respond`]: what `vigie respond` prints; [`respond::notification`] the regulator
//!   notification draft as Markdown and as a compact text block.
//! - [`exercise`]: what `vigie exercise` prints (the Monte Carlo race of an attacker
//!   against detection).
//! - [`intel_match`]: what `vigie intel match` prints as text.
//! - [`html`]: the self-contained HTML report of `vigie respond` (its drawings are SVG
//!   written here, without Graphviz).
//!
//! Engines compute and return data; this crate turns it into text, and is the only
//! crate (with the binary) that knows about terminals.

pub mod exercise;
pub mod exercise_rank;
pub mod html;
pub mod hunt;
pub mod intel_check;
pub mod intel_match;
pub mod progress;
pub mod respond;
pub mod response;
pub mod spof;
pub mod taxii_client;
