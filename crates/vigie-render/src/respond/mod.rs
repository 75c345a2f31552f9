//! What a person reads of `vigie respond`: each incident with its decision, then the
//! run's summary. Written from the wire document (`vigie_wire::v1::respond`), so the
//! text says exactly what the JSON says.

pub mod text;
