//! The integration tests of `vigie-serve`, one module per topic, built as one test
//! binary (each binary links the whole dependency tree). Add a topic as a module here.

mod follow;
mod syslog;
