//! vigie-response: the three decisions of an incident commander on the operator model.
//!
//! - [`assess::assess`]: what the attacker can reach from the compromised assets, the
//!   fastest path to every crown jewel, the services and customers at risk;
//! - [`contain::contain`]: the cheapest complete containment plan in customer-hours
//!   (proven optimal by an exact search), alternatives, and the naive plans beside it;
//! - [`restore::restore`]: restoration order, timeline, critical path, outage cost; with
//!   fewer crews than parallel work, the order minimising customer-hours
//!   ([`restore_order`]).
//!
//! Everything runs on [`graph::Graph`], a compact indexed form of the model built by
//! [`from_model`] (or by hand with [`graph::GraphBuilder`]).

pub mod assess;
pub mod contain;
pub mod drawing;
pub mod error;
mod from_model;
pub mod graph;
pub mod impact;
pub mod report;
pub mod restore;
pub mod restore_order;
mod suggest;

pub use error::Error;
pub use from_model::from_model;
pub use graph::{Graph, GraphBuilder};
