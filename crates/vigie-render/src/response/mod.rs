//! What a person reads of the response commands.

pub mod dot;
pub mod text;
