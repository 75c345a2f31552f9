//! Integration tests of vigie-intel: one module per area.

mod conformance;
mod detect;
mod ioc_feeds;
mod ioc_misp;
mod ioc_warninglist;
mod taxii_client;
