//! `vigie serve token add|list`: the service's API tokens, kept in its store.
//!
//! A token is 256 random bits (`vigie_` + 64 hex digits), printed once on stdout and
//! stored only as its SHA-256 (hex); a running server picks new tokens up within a
//! second (`vigie_serve::api::auth`). Adding one is recorded in the audit log (actor
//! `cli`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use vigie_serve::api::auth::{hash_token, new_token, Role};
use vigie_store::{AuditEntry, Store, StoreSpec, TokenRow};

const AFTER_HELP: &str = "\
Roles: viewer (read everything but the audit log), analyst (viewer + change incidents:
state, assignee, verdict, comment), ingest (POST /api/v1/events only), admin
(everything: audit log, reload, committer).

The token is printed once on stdout and stored hashed (SHA-256): keep it, it cannot be
shown again. Use it as `Authorization: Bearer TOKEN`, or with HTTP Basic as the
password (any user name). With no token in the store the API is open, on loopback only.

Examples:
  vigie serve token add soc-dashboard --role viewer
  vigie serve token add collector --role ingest --data /var/lib/vigie
  vigie serve token add ops --role admin --store postgres://vigie@db/vigie
  vigie serve token list";

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a token with a role; prints the new token once.
    #[command(after_help = AFTER_HELP)]
    Add(AddArgs),
    /// List tokens (name, role, created), never their secrets.
    List(StoreArgs),
}

#[derive(clap::Args)]
pub struct StoreArgs {
    /// The service's state directory (its store is DIR/vigie.db unless --store).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "vigie-data",
        env = "VIGIE_DATA"
    )]
    data: PathBuf,
    /// `sqlite:PATH` or `postgres://...` (default: DIR/vigie.db).
    #[arg(long, value_name = "URL", env = "VIGIE_STORE")]
    store: Option<String>,
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The token's name, recorded in the audit log for each change made with it
    /// (letters, digits, `.`, `_`, `-`, `@`; at most 64).
    name: String,
    /// viewer, analyst, ingest or admin.
    #[arg(long, value_parser = ["viewer", "analyst", "ingest", "admin"])]
    role: String,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(c: Command) -> anyhow::Result<ExitCode> {
    match c {
        Command::Add(a) => {
            let store = open(&a.store)?;
            let token = add(&store, &a.name, &a.role)?;
            println!("{token}");
            eprintln!(
                "token `{}` ({}) added; it is shown only this once",
                a.name, a.role
            );
        }
        Command::List(s) => {
            let store = open(&s)?;
            for t in store.tokens().context("reading tokens")? {
                println!(
                    "{}\t{}\t{}",
                    t.name,
                    t.role,
                    vigie_wire::rfc3339(&t.created_at)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn open(s: &StoreArgs) -> anyhow::Result<Store> {
    let spec = match &s.store {
        Some(u) => StoreSpec::parse(u)?,
        None => StoreSpec::Sqlite(default_db(&s.data)),
    };
    Store::open(&spec).with_context(|| format!("opening the store {spec:?}"))
}

fn default_db(data: &Path) -> PathBuf {
    data.join("vigie.db")
}

/// Adds a token named `name` with `role` to `store`; returns the secret.
pub fn add(store: &Store, name: &str, role: &str) -> anyhow::Result<String> {
    let ok_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !ok_name {
        bail!("token name `{name}`: letters, digits, `.`, `_`, `-`, `@`, 1 to 64 of them");
    }
    let Some(role) = Role::parse(role) else {
        bail!("role `{role}`: expected viewer, analyst, ingest or admin");
    };
    let token = new_token();
    let now = chrono::Utc::now();
    store
        .add_token(&TokenRow {
            name: name.to_string(),
            role: role.as_str().to_string(),
            hash: hash_token(&token),
            created_at: now,
        })
        .with_context(|| format!("adding token `{name}`"))?;
    store
        .record_audit(&AuditEntry {
            at: now,
            actor: "cli".into(),
            action: "token.add".into(),
            target: name.to_string(),
            detail: serde_json::json!({ "role": role.as_str() }),
        })
        .context("recording the token in the audit log")?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_stores_only_the_hash_and_audits() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = open(&StoreArgs {
            data: dir.path().to_path_buf(),
            store: None,
        })
        .unwrap_or_else(|e| panic!("{e:#}"));
        let token = add(&store, "ops@soc", "admin").unwrap_or_else(|e| panic!("{e:#}"));
        assert!(token.starts_with("vigie_") && token.len() == 70, "{token}");
        let rows = store.tokens().unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].name.as_str(), rows[0].role.as_str()),
            ("ops@soc", "admin")
        );
        assert_eq!(rows[0].hash, hash_token(&token));
        assert!(
            !rows[0].hash.contains(&token[6..]),
            "the secret is not stored"
        );
        let audit = store.audit(10, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(audit
            .items
            .iter()
            .any(|a| a.action == "token.add" && a.target == "ops@soc"));
        assert!(
            add(&store, "ops@soc", "viewer").is_err(),
            "names are unique"
        );
        assert!(add(&store, "two words", "viewer").is_err());
        assert!(add(&store, "x", "root").is_err());
        assert!(
            dir.path().join("vigie.db").exists(),
            "default store under --data"
        );
    }
}
