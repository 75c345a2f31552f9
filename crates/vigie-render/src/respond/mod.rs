//! What a person reads of `vigie respond`.

pub mod notification;
