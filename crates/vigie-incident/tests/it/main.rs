//! vigie-incident integration tests, one module per topic, built as one test binary (one
//! link of the dependency tree). Add a topic as a module here.

mod common;
mod decide;
mod extract_shapes;
mod group;
mod mapping_file;
mod noise;
mod observe;
mod resolution;
