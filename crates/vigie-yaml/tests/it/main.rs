//! Integration tests of vigie-yaml.

mod block;
