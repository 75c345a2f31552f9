//! The integration tests of vigie-incident, one module per topic, built as one binary.

mod decide;
