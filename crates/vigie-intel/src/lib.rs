//! Threat intelligence in and out.
//!
//! - [`pattern`]: STIX 2.1 patterning: parse (whole grammar, positioned errors) and
//!   evaluate over observed-data on generic JSON.
//! - [`indicator`], [`feed`], [`index`], [`warninglist`]: indicators read from STIX
//!   bundles, MISP feeds, CSV and plain lists; compiled into typed indexes (address
//!   prefix trie, domain suffixes, URLs, hashes, file names); known-benign values.
//! - [`detect`]: the indexes as a detection source of the streaming session
//!   ([`vigie_hunt::ExtraMatcher`]): an indicator hit is a detection like a Sigma hit.
//! - [`export`]: incidents and detections as a STIX 2.1 bundle, deterministic ids,
//!   TLP 2.0 markings, internal details redacted by default.
//! - [`taxii`]: TAXII 2.1 resource types (shared with `vigie-serve`'s server) and a
//!   blocking client.
//!
//! Synchronous and free of I/O policy except the TAXII client, which only speaks HTTP
//! when called.

pub mod detect;
pub mod export;
pub mod feed;
pub mod index;
pub mod indicator;
pub mod pattern;
pub mod taxii;
pub mod warninglist;
