//! The built-in demo operator (Armorique Telecom), the default model of every command.

use crate::diag::Diagnostic;
use crate::load::{load_str, Format};
use crate::types::Model;

/// The demo operator's YAML text (`models/demo-operator.yaml`).
pub const DEMO_YAML: &str = include_str!("../../../models/demo-operator.yaml");

/// How the demo is named in diagnostics and output.
pub const DEMO_ORIGIN: &str = "<built-in demo: models/demo-operator.yaml>";

/// Load the demo operator, reporting problems (there are none in a tested build).
pub fn try_demo() -> Result<Model, Vec<Diagnostic>> {
    load_str(DEMO_YAML, DEMO_ORIGIN, Format::Yaml).map(|l| l.model)
}

/// The demo operator.
///
/// # Panics
/// Never in a tested build: the text is compiled in and `tests/it/demo.rs` checks that it
/// loads without any diagnostic, so a failure here is a build defect, not bad input.
pub fn demo() -> Model {
    match try_demo() {
        Ok(m) => m,
        Err(d) => panic!("the embedded demo model is invalid: {:?}", d.first()),
    }
}
