//! What a person reads of `vigie respond`: each incident with its decision, then the
//! run's summary ([`text`]), the regulator notification draft as Markdown and as a
//! compact text block ([`notification`]), and `vigie demo`'s story ([`story`]). Written
//! from the wire document (`vigie_wire::v1::respond`), so the text says exactly what the
//! JSON says.

pub mod notification;
pub mod story;
pub mod text;
