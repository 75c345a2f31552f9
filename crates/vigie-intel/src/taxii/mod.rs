//! TAXII 2.1: the resource types of the specification (section 4 onwards), shared by
//! `vigie-serve`'s server and this crate's client ([`client`]).

pub mod client;
pub mod types;

pub use types::*;
