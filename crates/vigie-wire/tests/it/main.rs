//! The integration tests of vigie-wire, one module per topic, built as one binary.

mod respond;
