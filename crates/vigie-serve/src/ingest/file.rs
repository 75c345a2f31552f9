//! Followed files with `tail -F` semantics (rotation, truncation), positions committed
//! with their batches and resumed at start. (Syslog engineer.)
