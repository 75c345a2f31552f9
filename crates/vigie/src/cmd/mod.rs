//! One module per subcommand: its arguments (clap) and its `run`.

pub mod assess;
pub mod contain;
pub mod demo;
pub mod hunt;
pub mod model;
pub mod respond;
pub mod restore;
pub mod rules;
// `vigie serve token`: wired as a subcommand of `serve` by the serve command (then
// this allow goes).
#[allow(dead_code)]
pub mod serve_token;
