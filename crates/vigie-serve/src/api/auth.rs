//! API tokens and roles: `viewer` (read), `analyst` (+ incident changes), `ingest`
//! (POST events only), `admin` (everything). Bearer tokens, or HTTP Basic with the
//! token as password (any user name: TAXII clients send Basic). No token configured:
//! every route is open, which the server allows on loopback only ([`Auth::is_open`]).
//!
//! Tokens are 256-bit random secrets, stored as the hex SHA-256 of their text (a slow
//! password hash buys nothing against a 256-bit secret). The table is loaded from the
//! store at start and read again (at most once a second) when an unknown token is
//! presented, or every second while open, so `vigie serve token add` takes effect on a
//! running server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use base64::Engine;
use sha2::{Digest, Sha256};
use vigie_store::{Store, StoreError, TokenRow};

use super::error::ApiError;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads everything but the audit log.
    Viewer,
    /// A viewer who may also change incidents (state, assignee, verdict, comment).
    Analyst,
    /// May only post events.
    Ingest,
    /// Everything.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Ingest, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Ingest => "ingest",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do what `need` asks.
    pub fn allows(self, need: Need) -> bool {
        match need {
            Need::Read => matches!(self, Role::Viewer | Role::Analyst | Role::Admin),
            Need::Change => matches!(self, Role::Analyst | Role::Admin),
            Need::Ingest => matches!(self, Role::Ingest | Role::Admin),
            Need::Admin => self == Role::Admin,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// viewer, analyst, admin.
    Read,
    /// analyst, admin.
    Change,
    /// ingest, admin.
    Ingest,
    /// admin.
    Admin,
}

impl Need {
    fn roles(self) -> &'static str {
        match self {
            Need::Read => "viewer, analyst or admin",
            Need::Change => "analyst or admin",
            Need::Ingest => "ingest or admin",
            Need::Admin => "admin",
        }
    }
}

/// Who is calling: the token's name (`local` when no token is configured) and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// The actor name recorded for changes made while no token is configured.
pub const OPEN_ACTOR: &str = "local";

#[derive(Debug, Default)]
struct Table {
    /// Hex SHA-256 → (name, role).
    by_hash: HashMap<String, (String, Role)>,
}

/// The token table (see the module docs).
#[derive(Debug, Default)]
pub struct Auth {
    table: RwLock<Table>,
    /// When the table was last read from the store (None: never).
    refreshed: Mutex<Option<Instant>>,
}

/// How often the table may be re-read from the store.
const REFRESH: Duration = Duration::from_secs(1);

impl Auth {
    /// A table of these tokens (rows with an unknown role are skipped with a warning).
    pub fn new(rows: &[TokenRow]) -> Auth {
        let auth = Auth::default();
        auth.replace(rows);
        auth
    }

    /// The tokens stored in `store`.
    pub fn load(store: &Store) -> Result<Auth, StoreError> {
        let auth = Auth::new(&store.tokens()?);
        if let Ok(mut r) = auth.refreshed.lock() {
            *r = Some(Instant::now());
        }
        Ok(auth)
    }

    /// Replaces the table.
    pub fn replace(&self, rows: &[TokenRow]) {
        let mut by_hash = HashMap::with_capacity(rows.len());
        for t in rows {
            match Role::parse(&t.role) {
                Some(role) => {
                    by_hash.insert(t.hash.to_ascii_lowercase(), (t.name.clone(), role));
                }
                None => {
                    tracing::warn!(token = %t.name, role = %t.role, "token with an unknown role ignored")
                }
            }
        }
        let mut g = match self.table.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.by_hash = by_hash;
    }

    /// No token configured: every route is open (allowed on loopback only).
    pub fn is_open(&self) -> bool {
        match self.table.read() {
            Ok(g) => g.by_hash.is_empty(),
            Err(p) => p.into_inner().by_hash.is_empty(),
        }
    }

    /// Refuses to listen beyond loopback while open (the server calls this at start).
    pub fn check_listen(&self, addr: SocketAddr) -> Result<(), String> {
        if self.is_open() && !addr.ip().is_loopback() {
            return Err(format!(
                "refusing to listen on {addr} with no API token configured: every endpoint \
                 would be open to the network. Add one with `vigie serve token add NAME \
                 --role admin`, or listen on loopback (127.0.0.1, ::1)"
            ));
        }
        Ok(())
    }

    fn lookup(&self, hash: &str) -> Option<(String, Role)> {
        let g = match self.table.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.by_hash.get(hash).cloned()
    }

    /// Re-reads the table from the store when the last read is older than [`REFRESH`].
    async fn refresh(&self, store: &Store) {
        {
            let Ok(mut last) = self.refreshed.lock() else {
                return;
            };
            if last.is_some_and(|t| t.elapsed() < REFRESH) {
                return;
            }
            *last = Some(Instant::now());
        }
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.tokens()).await {
            Ok(Ok(rows)) => self.replace(&rows),
            Ok(Err(e)) => tracing::warn!(error = %e, "reading API tokens"),
            Err(e) => tracing::warn!(error = %e, "reading API tokens"),
        }
    }

    /// Who is calling, if allowed to do what `need` asks: 401 without a token or with
    /// an unknown one, 403 with a token whose role does not allow it.
    pub async fn authorize(
        &self,
        store: &Store,
        headers: &HeaderMap,
        need: Need,
    ) -> Result<Caller, ApiError> {
        if self.is_open() {
            self.refresh(store).await;
            if self.is_open() {
                return Ok(Caller {
                    name: OPEN_ACTOR.to_string(),
                    role: Role::Admin,
                });
            }
        }
        let Some(secret) = presented_token(headers)? else {
            return Err(ApiError::unauthorized(
                "an API token is required (Authorization: Bearer TOKEN, or Basic with the token as password)",
            ));
        };
        let hash = hash_token(&secret);
        let found = match self.lookup(&hash) {
            Some(f) => Some(f),
            None => {
                self.refresh(store).await;
                self.lookup(&hash)
            }
        };
        let Some((name, role)) = found else {
            return Err(ApiError::unauthorized("unknown API token"));
        };
        if !role.allows(need) {
            return Err(ApiError::forbidden(format!(
                "token `{name}` has role {role}; this needs {}",
                need.roles()
            )));
        }
        Ok(Caller { name, role })
    }
}

/// The token of an `Authorization` header (Bearer, or Basic with it as password);
/// None without the header; 401 for a header that is neither.
fn presented_token(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::unauthorized(
            "Authorization must be `Bearer TOKEN` or `Basic` with the token as password",
        )
    };
    let v = v.to_str().map_err(|_| bad())?.trim();
    let (scheme, rest) = v.split_once(' ').ok_or_else(bad)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if rest.is_empty() {
            return Err(bad());
        }
        return Ok(Some(rest.to_string()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let (_, password) = text.split_once(':').ok_or_else(bad)?;
        if password.is_empty() {
            return Err(bad());
        }
        return Ok(Some(password.to_string()));
    }
    Err(bad())
}

/// The stored form of a token: hex SHA-256 of its text.
pub fn hash_token(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A new token: `vigie_` and 64 hex digits of 256 random bits (from the OS).
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut s = String::from("vigie_");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn row(name: &str, role: &str, secret: &str) -> TokenRow {
        TokenRow {
            name: name.into(),
            role: role.into(),
            hash: hash_token(secret),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn roles_allow_what_the_conventions_say() {
        let table = [
            (Role::Viewer, [true, false, false, false]),
            (Role::Analyst, [true, true, false, false]),
            (Role::Ingest, [false, false, true, false]),
            (Role::Admin, [true, true, true, true]),
        ];
        let needs = [Need::Read, Need::Change, Need::Ingest, Need::Admin];
        for (role, allowed) in table {
            for (need, ok) in needs.into_iter().zip(allowed) {
                assert_eq!(role.allows(need), ok, "{role} {need:?}");
            }
        }
    }

    #[test]
    fn bearer_and_basic_carry_the_token() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(presented_token(&h).ok().flatten().as_deref(), Some("abc"));
        let b = base64::engine::general_purpose::STANDARD.encode("taxii:s3cret");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("basic {b}")).unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(
            presented_token(&h).ok().flatten().as_deref(),
            Some("s3cret")
        );
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Digest x"));
        assert_eq!(presented_token(&h).map_err(|e| e.status.as_u16()), Err(401));
    }

    #[test]
    fn tokens_are_256_bit_and_hashed() {
        let t = new_token();
        assert_eq!(t.len(), 6 + 64);
        assert_ne!(t, new_token());
        let h = hash_token(&t);
        assert_eq!(h.len(), 64);
        let auth = Auth::new(&[row("ci", "ingest", &t), row("odd", "root", "x")]);
        assert!(!auth.is_open());
        assert_eq!(auth.lookup(&h), Some(("ci".into(), Role::Ingest)));
        assert_eq!(auth.lookup(&hash_token("x")), None, "unknown role skipped");
    }

    #[test]
    fn open_only_on_loopback() {
        let open = Auth::default();
        assert!(open.is_open());
        assert!(open
            .check_listen(
                "127.0.0.1:8080"
                    .parse()
                    .unwrap_or(([127, 0, 0, 1], 0).into())
            )
            .is_ok());
        assert!(open.check_listen(([0, 0, 0, 0], 8080).into()).is_err());
        let closed = Auth::new(&[row("a", "admin", "s")]);
        assert!(closed.check_listen(([0, 0, 0, 0], 8080).into()).is_ok());
    }
}
