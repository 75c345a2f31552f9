//! The service's configuration: a TOML file (`--config`), each key also a flag and an
//! environment variable (`VIGIE_<SECTION>_<KEY>`); flags win over the environment,
//! which wins over the file, which wins over the embedded defaults. Documented in
//! `docs/serve.md` (every key, its default, its flag and variable).
//!
//! Loading ([`Config::load`]): the file is read with `deny_unknown_fields`, so a typo is
//! an error, and every error names `file:line:column` (the toml crate's span); then the
//! environment's `VIGIE_<SECTION>_<KEY>` values ([`ENV_KEYS`]) and the command line's
//! [`Overrides`] are laid over it; [`Config::check`] refuses values that cannot run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::ServeError;

/// Which raw events the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepEvents {
    /// Only events a detection matched or that feed an open correlation (default).
    #[default]
    Matched,
    All,
}

/// Everything `vigie serve` runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `127.0.0.1:8080`; port 0 picks a free port (the bound address is printed).
    pub listen: SocketAddr,
    /// State directory (`./vigie-data`): the SQLite store, tokens.
    pub data: PathBuf,
    /// `sqlite:PATH` or `postgres://...` (default: `<data>/vigie.db`).
    pub store: Option<String>,
    /// Rule files or directories (default: the embedded pack).
    pub rules: Vec<PathBuf>,
    /// Operator model (default: the demo operator).
    pub model: Option<PathBuf>,
    /// Entity mapping file (default: the embedded one).
    pub entity_mapping: Option<PathBuf>,
    /// Indicator files or directories (STIX 2.1 bundles, MISP feeds, CSV, plain lists):
    /// their hits are detections; reloaded with the rules (SIGHUP, admin reload) and
    /// whenever the TAXII `shared` collection changes (its indicators are added).
    pub intel: Vec<PathBuf>,
    /// Directory of MISP warning lists: indicator hits on known-benign values are not
    /// reported.
    pub warning_lists: Option<PathBuf>,
    pub events: KeepEvents,
    pub ingest: IngestConfig,
    pub correlation: CorrelationConfig,
    pub incidents: IncidentsConfig,
    pub tls: Option<TlsConfig>,
    pub syslog: SyslogConfig,
    pub files: Vec<PathBuf>,
    pub nats: Option<NatsConfig>,
    pub webhooks: Vec<WebhookConfig>,
    pub retention: vigie_store::Retention,
    /// `--worker`: consume the JetStream stream instead of serving inputs directly.
    pub worker: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Queue capacity in events (full: HTTP 429).
    pub queue_events: u32,
    /// Most events in one commit (group commit takes what is queued, up to this).
    pub max_batch_events: u32,
    /// Largest accepted HTTP body, bytes (after gzip decoding).
    pub max_body_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorrelationConfig {
    /// Allowed lateness (`30s`, `5m`): the watermark trails the newest event time by
    /// this much; correlation inputs older than the watermark are late (counted).
    pub allowed_lateness: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentsConfig {
    /// Grouping window (respond's `--window`, default `24h`).
    pub window: String,
    pub max_assets_per_entity: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyslogConfig {
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsConfig {
    /// `nats://127.0.0.1:4222`.
    pub url: String,
    /// Stream name (`VIGIE_EVENTS`).
    pub stream: String,
    /// Subject events are published on and consumed from (`vigie.events`).
    pub subject: String,
    /// Durable consumer name (`vigie`).
    pub consumer: String,
    /// Seconds a fetched message may stay unacked before JetStream redelivers it (60):
    /// how soon the messages of a crashed node or worker come again.
    pub ack_wait_secs: u64,
    /// `--worker`: correlation partitions (16; every worker must agree).
    pub partitions: u32,
    /// `--worker`: milliseconds a lease (partition, incident leadership) lasts without
    /// renewal (10000): how soon a dead worker's work is taken over.
    pub lease_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// `incident.opened`, `incident.changed` (default: both).
    #[serde(default)]
    pub events: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("vigie-data"),
            store: None,
            rules: Vec::new(),
            model: None,
            entity_mapping: None,
            intel: Vec::new(),
            warning_lists: None,
            events: KeepEvents::Matched,
            ingest: IngestConfig::default(),
            correlation: CorrelationConfig::default(),
            incidents: IncidentsConfig::default(),
            tls: None,
            syslog: SyslogConfig::default(),
            files: Vec::new(),
            nats: None,
            webhooks: Vec::new(),
            retention: vigie_store::Retention {
                events_days: 30,
                closed_incidents_days: 365,
                audit_days: 365,
            },
            worker: false,
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            queue_events: 100_000,
            max_batch_events: 20_000,
            max_body_bytes: 64 << 20,
        }
    }
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig {
            allowed_lateness: "30s".into(),
        }
    }
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        IncidentsConfig {
            window: "24h".into(),
            max_assets_per_entity: 20,
        }
    }
}

impl Default for NatsConfig {
    fn default() -> Self {
        NatsConfig {
            url: "nats://127.0.0.1:4222".into(),
            stream: "VIGIE_EVENTS".into(),
            subject: "vigie.events".into(),
            consumer: "vigie".into(),
            ack_wait_secs: 60,
            partitions: 16,
            lease_ms: 10_000,
        }
    }
}

/// What the command line gives (each flag also has its environment variable, resolved
/// by clap before this): laid over the file and the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub store: Option<String>,
    /// Non-empty: replaces the configured rules.
    pub rules: Vec<PathBuf>,
    pub model: Option<PathBuf>,
    pub entity_mapping: Option<PathBuf>,
    /// Non-empty: replaces the configured indicator paths.
    pub intel: Vec<PathBuf>,
    pub warning_lists: Option<PathBuf>,
    /// `--worker` given.
    pub worker: bool,
}

/// Config keys read from the environment (flags' variables are clap's): variable, key.
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("VIGIE_EVENTS", "events"),
    ("VIGIE_INGEST_QUEUE_EVENTS", "ingest.queue_events"),
    ("VIGIE_INGEST_MAX_BATCH_EVENTS", "ingest.max_batch_events"),
    ("VIGIE_INGEST_MAX_BODY_BYTES", "ingest.max_body_bytes"),
    (
        "VIGIE_CORRELATION_ALLOWED_LATENESS",
        "correlation.allowed_lateness",
    ),
    ("VIGIE_INCIDENTS_WINDOW", "incidents.window"),
    (
        "VIGIE_INCIDENTS_MAX_ASSETS_PER_ENTITY",
        "incidents.max_assets_per_entity",
    ),
    ("VIGIE_SYSLOG_UDP", "syslog.udp"),
    ("VIGIE_SYSLOG_TCP", "syslog.tcp"),
    ("VIGIE_TLS_CERT", "tls.cert"),
    ("VIGIE_TLS_KEY", "tls.key"),
    ("VIGIE_NATS_URL", "nats.url"),
];

impl Config {
    /// Parses a TOML config; errors name `file:line:column`.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ServeError> {
        toml::from_str::<Config>(text).map_err(|e| {
            let (line, column) = e.span().map(|r| line_col(text, r.start)).unwrap_or((1, 1));
            ServeError::Config {
                file: file.to_path_buf(),
                line,
                column,
                message: e.message().to_string(),
            }
        })
    }

    /// The file (when given), then the environment (`env` looks a variable up), then
    /// the command line, over the defaults; checked.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        over: &Overrides,
    ) -> Result<Config, ServeError> {
        let mut c = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ServeError::Option(format!("--config {}: {e}", p.display())))?;
                Config::parse(&text, p)?
            }
            None => Config::default(),
        };
        for (var, key) in ENV_KEYS {
            if let Some(v) = env(var).filter(|v| !v.is_empty()) {
                c.set(key, &v)
                    .map_err(|e| ServeError::Option(format!("{var}={v:?} ({key}): {e}")))?;
            }
        }
        c.apply(over);
        c.check()?;
        Ok(c)
    }

    fn apply(&mut self, o: &Overrides) {
        if let Some(l) = o.listen {
            self.listen = l;
        }
        if let Some(d) = &o.data {
            self.data = d.clone();
        }
        if let Some(s) = &o.store {
            self.store = Some(s.clone());
        }
        if !o.rules.is_empty() {
            self.rules = o.rules.clone();
        }
        if let Some(m) = &o.model {
            self.model = Some(m.clone());
        }
        if let Some(m) = &o.entity_mapping {
            self.entity_mapping = Some(m.clone());
        }
        if !o.intel.is_empty() {
            self.intel = o.intel.clone();
        }
        if let Some(w) = &o.warning_lists {
            self.warning_lists = Some(w.clone());
        }
        self.worker |= o.worker;
    }

    /// Sets one key of [`ENV_KEYS`] from text.
    fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        fn num<T: std::str::FromStr>(v: &str) -> Result<T, String>
        where
            T::Err: std::fmt::Display,
        {
            v.trim().parse::<T>().map_err(|e| e.to_string())
        }
        let addr = |v: &str| num::<SocketAddr>(v);
        match key {
            "events" => {
                self.events = match v.trim() {
                    "matched" => KeepEvents::Matched,
                    "all" => KeepEvents::All,
                    _ => return Err("expected `matched` or `all`".into()),
                }
            }
            "ingest.queue_events" => self.ingest.queue_events = num(v)?,
            "ingest.max_batch_events" => self.ingest.max_batch_events = num(v)?,
            "ingest.max_body_bytes" => self.ingest.max_body_bytes = num(v)?,
            "correlation.allowed_lateness" => self.correlation.allowed_lateness = v.into(),
            "incidents.window" => self.incidents.window = v.into(),
            "incidents.max_assets_per_entity" => self.incidents.max_assets_per_entity = num(v)?,
            "syslog.udp" => self.syslog.udp = Some(addr(v)?),
            "syslog.tcp" => self.syslog.tcp = Some(addr(v)?),
            "tls.cert" | "tls.key" => {
                let tls = self.tls.get_or_insert_with(|| TlsConfig {
                    cert: PathBuf::new(),
                    key: PathBuf::new(),
                });
                if key == "tls.cert" {
                    tls.cert = v.into();
                } else {
                    tls.key = v.into();
                }
            }
            "nats.url" => self.nats.get_or_insert_with(NatsConfig::default).url = v.into(),
            _ => return Err(format!("unknown key {key}")),
        }
        Ok(())
    }

    /// Refuses values that cannot run (each error names its key).
    pub fn check(&self) -> Result<(), ServeError> {
        let bad = |m: String| Err(ServeError::Option(m));
        self.allowed_lateness()?;
        self.incident_window()?;
        if self.ingest.queue_events == 0 {
            return bad("ingest.queue_events must be at least 1".into());
        }
        if self.ingest.max_batch_events == 0 {
            return bad("ingest.max_batch_events must be at least 1".into());
        }
        if self.incidents.max_assets_per_entity == 0 {
            return bad("incidents.max_assets_per_entity must be at least 1".into());
        }
        if let Some(t) = &self.tls {
            if t.cert.as_os_str().is_empty() || t.key.as_os_str().is_empty() {
                return bad("tls: both `cert` and `key` are needed".into());
            }
        }
        self.store_spec()?;
        Ok(())
    }

    /// `correlation.allowed_lateness` read (`30s`, `5m`, `0s`...).
    pub fn allowed_lateness(&self) -> Result<TimeDelta, ServeError> {
        duration(
            &self.correlation.allowed_lateness,
            "correlation.allowed_lateness",
            true,
        )
    }

    /// `incidents.window` read.
    pub fn incident_window(&self) -> Result<TimeDelta, ServeError> {
        duration(&self.incidents.window, "incidents.window", false)
    }

    /// Where the store is: `store`, else `<data>/vigie.db`.
    pub fn store_spec(&self) -> Result<vigie_store::StoreSpec, ServeError> {
        match &self.store {
            Some(s) => vigie_store::StoreSpec::parse(s).map_err(ServeError::Store),
            None => Ok(vigie_store::StoreSpec::Sqlite(self.data.join("vigie.db"))),
        }
    }
}

fn duration(text: &str, key: &str, zero_ok: bool) -> Result<TimeDelta, ServeError> {
    let d = vigie_incident::parse_window(text)
        .map_err(|e| ServeError::Option(format!("{key}: {e}")))?;
    if d < TimeDelta::zero() || (!zero_ok && d == TimeDelta::zero()) {
        return Err(ServeError::Option(format!(
            "{key}: {text:?} must be longer than zero"
        )));
    }
    Ok(d)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<Config, ServeError> {
        Config::parse(t, Path::new("vigie.toml"))
    }

    #[test]
    fn defaults_and_a_full_file() {
        assert_eq!(parse("").expect("empty"), Config::default());
        let c = parse(
            "listen = \"0.0.0.0:9000\"\nevents = \"all\"\nrules = [\"r\"]\n\
             [ingest]\nqueue_events = 10\n[correlation]\nallowed_lateness = \"2m\"\n\
             [incidents]\nwindow = \"48h\"\n[syslog]\nudp = \"127.0.0.1:5514\"\n\
             [[webhooks]]\nurl = \"http://x/\"\n",
        )
        .expect("full");
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.events, KeepEvents::All);
        assert_eq!(c.ingest.queue_events, 10);
        assert_eq!(
            c.ingest.max_batch_events, 20_000,
            "unset keys keep defaults"
        );
        assert_eq!(
            c.allowed_lateness().expect("lateness"),
            TimeDelta::minutes(2)
        );
        assert_eq!(c.incident_window().expect("window"), TimeDelta::hours(48));
        assert_eq!(c.webhooks.len(), 1);
    }

    #[test]
    fn errors_are_positioned_and_unknown_keys_refused() {
        let e = parse("listen = \"127.0.0.1:1\"\n[ingest]\nqueue_event = 5\n").expect_err("typo");
        let text = e.to_string();
        assert!(text.starts_with("vigie.toml:3:1: "), "{text}");
        assert!(text.contains("queue_event"), "{text}");
        let e = parse("listen = 5\n").expect_err("type");
        assert!(e.to_string().starts_with("vigie.toml:1:10: "), "{e}");
    }

    #[test]
    fn flags_over_environment_over_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("v.toml");
        std::fs::write(
            &f,
            "data = \"from-file\"\nstore = \"sqlite:file.db\"\n[ingest]\nqueue_events = 7\n",
        )
        .expect("write");
        let env = |k: &str| match k {
            "VIGIE_INGEST_QUEUE_EVENTS" => Some("9".to_string()),
            "VIGIE_CORRELATION_ALLOWED_LATENESS" => Some("1m".to_string()),
            _ => None,
        };
        let over = Overrides {
            data: Some("from-flag".into()),
            ..Overrides::default()
        };
        let c = Config::load(Some(&f), &env, &over).expect("load");
        assert_eq!(c.data, PathBuf::from("from-flag"));
        assert_eq!(c.store.as_deref(), Some("sqlite:file.db"));
        assert_eq!(c.ingest.queue_events, 9);
        assert_eq!(c.allowed_lateness().expect("l"), TimeDelta::minutes(1));
        let bad = |k: &str| (k == "VIGIE_EVENTS").then(|| "some".to_string());
        let e = Config::load(None, &bad, &Overrides::default()).expect_err("bad env");
        assert!(e.to_string().contains("VIGIE_EVENTS"), "{e}");
    }

    #[test]
    fn intel_paths_from_file_and_flags() {
        let c = parse("intel = [\"feeds/peers.json\", \"iocs.txt\"]\nwarning_lists = \"wl\"\n")
            .expect("intel");
        assert_eq!(
            c.intel,
            vec![PathBuf::from("feeds/peers.json"), PathBuf::from("iocs.txt")]
        );
        assert_eq!(c.warning_lists, Some(PathBuf::from("wl")));
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("v.toml");
        std::fs::write(&f, "intel = [\"a\"]\n").expect("write");
        let over = Overrides {
            intel: vec!["b".into()],
            ..Overrides::default()
        };
        let c = Config::load(Some(&f), &|_| None, &over).expect("load");
        assert_eq!(
            c.intel,
            vec![PathBuf::from("b")],
            "the flag replaces the file"
        );
        let e = parse("intel = \"a\"\n").expect_err("a list");
        assert!(e.to_string().starts_with("vigie.toml:1:9: "), "{e}");
    }

    #[test]
    fn bad_values_are_refused() {
        let c = parse("[correlation]\nallowed_lateness = \"soon\"\n").expect("parses");
        assert!(c.check().is_err());
        let c = parse("[ingest]\nqueue_events = 0\n").expect("parses");
        assert!(c.check().is_err());
    }
}
