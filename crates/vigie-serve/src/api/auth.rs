//! API tokens and roles: `viewer` (read), `analyst` (+ incident changes), `ingest`
//! (POST events only), `admin` (everything). Bearer tokens, or HTTP Basic with the
//! token as password. No token configured: open, on loopback only. (API engineer.)

/// The token table, loaded from the store at start (and after `token add`).
#[derive(Debug, Default)]
pub struct Auth {}
