//! The service's configuration: a TOML file (`--config`), each key also a flag and an
//! environment variable (`VIGIE_<SECTION>_<KEY>`); flags win over the environment,
//! which wins over the file, which wins over the embedded defaults. Documented in
//! `docs/serve.md` (every key, its default, its flag and variable). (Core engineer:
//! loading with positioned errors; the fields below are the contract.)

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
        }
    }
}
