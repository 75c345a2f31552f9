//! The integration tests of `vigie-incident`, one module per topic, built as one test
//! binary (one link of the dependency tree). Add a topic as a module here.

mod common;
mod extract_shapes;
mod mapping_file;
mod noise;
mod observe;
mod resolution;
