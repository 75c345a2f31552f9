//! The operator model as written in a file (YAML or JSON).
//!
//! Every entity has an `id` unique across the whole model (zones, flows, assets, services and
//! segments share one namespace) so that a command line can name any of them unambiguously.
//! Field spelling is snake_case in both YAML and JSON; unknown fields are refused.
//! The meaning of each field is fixed by `docs/model.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole operator model: its estate, the services it runs and the customers who use them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Who the model describes.
    #[serde(default)]
    pub operator: Operator,
    /// Global parameters (durations, default times-to-compromise).
    #[serde(default)]
    pub settings: Settings,
    /// Network zones.
    #[serde(default)]
    pub zones: Vec<Zone>,
    /// Allowed zone-to-zone communication.
    #[serde(default)]
    pub flows: Vec<Flow>,
    /// Hosts, applications, databases, network devices and identities.
    #[serde(default)]
    pub assets: Vec<Asset>,
    /// Attacker movements stated explicitly, on top of the derived ones.
    #[serde(default)]
    pub attack_edges: Vec<AttackEdgeSpec>,
    /// Services delivered to customers (or to other services).
    #[serde(default)]
    pub services: Vec<Service>,
    /// Customer segments.
    #[serde(default)]
    pub segments: Vec<Segment>,
}

/// Description of the operator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Country (free text or ISO code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Global parameters. Every field has a default, so `settings` may be omitted.
///
/// A rule's distribution `<rule>_ttc`, when given, stands for the rule's `<rule>_hours`
/// too: read from a file, `<rule>_hours` is set to its mean (the file may not give both:
/// the loader refuses it, with the position), and written out, `<rule>_hours` is left out
/// so the text reads back to the same settings. Without any `_ttc` the settings serialize
/// exactly as before distributions existed (the model digest depends on it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "SettingsFile", into = "SettingsFile")]
pub struct Settings {
    /// Expected duration of a containment action, in hours (default 48).
    pub containment_hours: f64,
    /// Time-to-compromise of a vulnerability without `ttc_hours`, in hours (default 24).
    pub exploit_ttc_hours: f64,
    /// Time to steal credentials exposed on an asset, in hours (default 1).
    pub credential_theft_hours: f64,
    /// Multiplier on credential theft when the asset has EDR (default 4).
    pub edr_factor: f64,
    /// Time to log on with a held identity to an asset it administers, in hours (default 0.5).
    pub valid_account_hours: f64,
    /// Multiplier on that logon when the target asset enforces MFA (default 8).
    pub mfa_factor: f64,
    /// Time to gain a group's rights from one of its members, in hours (default 0).
    pub membership_hours: f64,
    /// Time to take over what runs on a compromised host, in hours (default 0.1).
    pub host_to_hosted_hours: f64,
    /// Time to escape from a compromised application/database to its host, in hours (default 0.5).
    pub hosted_to_host_hours: f64,
    /// Fraction of a service's weight lost when only a soft dependency fails (default 0.25).
    pub soft_dependency_factor: f64,
    /// Distribution of a vulnerability's time to compromise (rule 1); exclusive with
    /// `exploit_ttc_hours` (see `docs/model.md`, "Time to compromise").
    pub exploit_ttc: Option<Ttc>,
    /// Distribution of credential theft (rule 2); exclusive with `credential_theft_hours`.
    pub credential_theft_ttc: Option<Ttc>,
    /// Distribution of a valid-account logon (rule 3); exclusive with `valid_account_hours`.
    pub valid_account_ttc: Option<Ttc>,
    /// Distribution of gaining a group's rights (rule 4); exclusive with `membership_hours`.
    pub membership_ttc: Option<Ttc>,
    /// Distribution of host → hosted (rule 5); exclusive with `host_to_hosted_hours`.
    pub host_to_hosted_ttc: Option<Ttc>,
    /// Distribution of hosted → host (rule 5); exclusive with `hosted_to_host_hours`.
    pub hosted_to_host_ttc: Option<Ttc>,
}

/// [`Settings`] as written in a file: each `<rule>_hours` optional, so that giving both it
/// and `<rule>_ttc` can be told from giving only the distribution.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SettingsFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    containment_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exploit_ttc_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_theft_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edr_factor: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_account_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa_factor: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    membership_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_to_hosted_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hosted_to_host_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    soft_dependency_factor: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exploit_ttc: Option<Ttc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_theft_ttc: Option<Ttc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_account_ttc: Option<Ttc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    membership_ttc: Option<Ttc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_to_hosted_ttc: Option<Ttc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hosted_to_host_ttc: Option<Ttc>,
}

/// A rule's mean: the hours written, else the distribution's mean, else the default.
fn rule_hours(hours: Option<f64>, ttc: Option<Ttc>, default: f64) -> f64 {
    hours.or(ttc.map(|t| t.mean_hours)).unwrap_or(default)
}

/// The hours to write: none when the distribution is written (it carries the mean).
fn hours_out(hours: f64, ttc: Option<Ttc>) -> Option<f64> {
    ttc.is_none().then_some(hours)
}

impl From<SettingsFile> for Settings {
    fn from(f: SettingsFile) -> Settings {
        let d = Settings::default();
        Settings {
            containment_hours: f.containment_hours.unwrap_or(d.containment_hours),
            exploit_ttc_hours: rule_hours(f.exploit_ttc_hours, f.exploit_ttc, d.exploit_ttc_hours),
            credential_theft_hours: rule_hours(
                f.credential_theft_hours,
                f.credential_theft_ttc,
                d.credential_theft_hours,
            ),
            edr_factor: f.edr_factor.unwrap_or(d.edr_factor),
            valid_account_hours: rule_hours(
                f.valid_account_hours,
                f.valid_account_ttc,
                d.valid_account_hours,
            ),
            mfa_factor: f.mfa_factor.unwrap_or(d.mfa_factor),
            membership_hours: rule_hours(f.membership_hours, f.membership_ttc, d.membership_hours),
            host_to_hosted_hours: rule_hours(
                f.host_to_hosted_hours,
                f.host_to_hosted_ttc,
                d.host_to_hosted_hours,
            ),
            hosted_to_host_hours: rule_hours(
                f.hosted_to_host_hours,
                f.hosted_to_host_ttc,
                d.hosted_to_host_hours,
            ),
            soft_dependency_factor: f.soft_dependency_factor.unwrap_or(d.soft_dependency_factor),
            exploit_ttc: f.exploit_ttc,
            credential_theft_ttc: f.credential_theft_ttc,
            valid_account_ttc: f.valid_account_ttc,
            membership_ttc: f.membership_ttc,
            host_to_hosted_ttc: f.host_to_hosted_ttc,
            hosted_to_host_ttc: f.hosted_to_host_ttc,
        }
    }
}

impl From<Settings> for SettingsFile {
    fn from(s: Settings) -> SettingsFile {
        SettingsFile {
            containment_hours: Some(s.containment_hours),
            exploit_ttc_hours: hours_out(s.exploit_ttc_hours, s.exploit_ttc),
            credential_theft_hours: hours_out(s.credential_theft_hours, s.credential_theft_ttc),
            edr_factor: Some(s.edr_factor),
            valid_account_hours: hours_out(s.valid_account_hours, s.valid_account_ttc),
            mfa_factor: Some(s.mfa_factor),
            membership_hours: hours_out(s.membership_hours, s.membership_ttc),
            host_to_hosted_hours: hours_out(s.host_to_hosted_hours, s.host_to_hosted_ttc),
            hosted_to_host_hours: hours_out(s.hosted_to_host_hours, s.hosted_to_host_ttc),
            soft_dependency_factor: Some(s.soft_dependency_factor),
            exploit_ttc: s.exploit_ttc,
            credential_theft_ttc: s.credential_theft_ttc,
            valid_account_ttc: s.valid_account_ttc,
            membership_ttc: s.membership_ttc,
            host_to_hosted_ttc: s.host_to_hosted_ttc,
            hosted_to_host_ttc: s.hosted_to_host_ttc,
        }
    }
}

impl Settings {
    /// The (hours key, distribution key, distribution) of each derivation rule's setting:
    /// what validation and the loader's "given twice" check walk.
    pub fn rule_ttcs(&self) -> [(&'static str, &'static str, Option<Ttc>); 6] {
        [
            ("exploit_ttc_hours", "exploit_ttc", self.exploit_ttc),
            (
                "credential_theft_hours",
                "credential_theft_ttc",
                self.credential_theft_ttc,
            ),
            (
                "valid_account_hours",
                "valid_account_ttc",
                self.valid_account_ttc,
            ),
            ("membership_hours", "membership_ttc", self.membership_ttc),
            (
                "host_to_hosted_hours",
                "host_to_hosted_ttc",
                self.host_to_hosted_ttc,
            ),
            (
                "hosted_to_host_hours",
                "hosted_to_host_ttc",
                self.hosted_to_host_ttc,
            ),
        ]
    }
}

/// Shape of a time-to-compromise distribution. Every shape is given by its mean and
/// coefficient of variation (`cv` = standard deviation / mean); `docs/model.md` maps each
/// to its textbook parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TtcDist {
    /// Memoryless (cv is 1 by definition; a given `cv` must be 1).
    #[default]
    Exponential,
    /// Gamma with shape 1/cv² and scale mean·cv².
    Gamma,
    /// Log-normal with σ² = ln(1 + cv²) and μ = ln(mean) − σ²/2.
    Lognormal,
    /// Always exactly the mean (cv must be 0).
    Fixed,
}

impl TtcDist {
    /// Every shape, in declaration order.
    pub const ALL: [TtcDist; 4] = [
        TtcDist::Exponential,
        TtcDist::Gamma,
        TtcDist::Lognormal,
        TtcDist::Fixed,
    ];

    /// The name used in model files.
    pub fn as_str(self) -> &'static str {
        match self {
            TtcDist::Exponential => "exponential",
            TtcDist::Gamma => "gamma",
            TtcDist::Lognormal => "lognormal",
            TtcDist::Fixed => "fixed",
        }
    }
}

/// A time to compromise as a distribution, with the chance the attempt succeeds at all.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ttc {
    /// Shape (default exponential).
    #[serde(default)]
    pub dist: TtcDist,
    /// Mean, in hours (finite, >= 0).
    pub mean_hours: f64,
    /// Coefficient of variation (default: 1 for exponential, 0 for fixed, 1 otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<f64>,
    /// Probability that the attempt can succeed at all (default 1): with probability
    /// 1 − p_success the step is impossible in that sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_success: Option<f64>,
}

impl Ttc {
    /// An exponential with this mean that always succeeds: what a bare `ttc_hours` means.
    pub fn exponential(mean_hours: f64) -> Ttc {
        Ttc {
            dist: TtcDist::Exponential,
            mean_hours,
            cv: None,
            p_success: None,
        }
    }

    /// Always exactly `hours`, always succeeds (the default of deterministic steps).
    pub fn fixed(hours: f64) -> Ttc {
        Ttc {
            dist: TtcDist::Fixed,
            mean_hours: hours,
            cv: None,
            p_success: None,
        }
    }

    /// The coefficient of variation in force (the shape's default when not given).
    pub fn cv(&self) -> f64 {
        match (self.cv, self.dist) {
            (Some(c), _) => c,
            (None, TtcDist::Fixed) => 0.0,
            (None, _) => 1.0,
        }
    }

    /// Probability of success in force (1 when not given).
    pub fn p_success(&self) -> f64 {
        self.p_success.unwrap_or(1.0)
    }

    /// The same distribution with its mean multiplied by `factor` (EDR, MFA slow-downs).
    pub fn scaled(&self, factor: f64) -> Ttc {
        Ttc {
            mean_hours: self.mean_hours * factor,
            ..*self
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            containment_hours: 48.0,
            exploit_ttc_hours: 24.0,
            credential_theft_hours: 1.0,
            edr_factor: 4.0,
            valid_account_hours: 0.5,
            mfa_factor: 8.0,
            membership_hours: 0.0,
            host_to_hosted_hours: 0.1,
            hosted_to_host_hours: 0.5,
            soft_dependency_factor: 0.25,
            exploit_ttc: None,
            credential_theft_ttc: None,
            valid_account_ttc: None,
            membership_ttc: None,
            host_to_hosted_ttc: None,
            hosted_to_host_ttc: None,
        }
    }
}

/// A network zone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// Unique id.
    pub id: String,
    /// Display name (defaults to the id when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// This zone is the Internet: the attacker's origin. Holds no assets.
    #[serde(default, skip_serializing_if = "is_false")]
    pub internet: bool,
    /// Free labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Transport protocol of a flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    /// Any protocol (the default).
    #[default]
    Any,
}

/// Allowed communication from one zone to another.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// Unique id; defaults to `"<from>-><to>"` (see [`Flow::id`]).
    #[serde(default, rename = "id", skip_serializing_if = "Option::is_none")]
    pub explicit_id: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Source zone id.
    pub from: String,
    /// Destination zone id.
    pub to: String,
    /// Protocol (default any).
    #[serde(default)]
    pub protocol: Protocol,
    /// Destination ports; empty means every port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// Services whose traffic crosses this flow: blocking it takes them down.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Free labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Flow {
    /// The flow's id: the explicit one, or `"<from>-><to>"`.
    pub fn id(&self) -> String {
        match &self.explicit_id {
            Some(id) => id.clone(),
            None => format!("{}->{}", self.from, self.to),
        }
    }
}

/// What an asset is. Accounts and groups are the identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Host,
    Application,
    Database,
    NetworkDevice,
    Account,
    Group,
}

impl AssetKind {
    /// All kinds, in declaration order.
    pub const ALL: [AssetKind; 6] = [
        AssetKind::Host,
        AssetKind::Application,
        AssetKind::Database,
        AssetKind::NetworkDevice,
        AssetKind::Account,
        AssetKind::Group,
    ];

    /// Accounts and groups.
    pub fn is_identity(self) -> bool {
        matches!(self, AssetKind::Account | AssetKind::Group)
    }

    /// The spelling used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Host => "host",
            AssetKind::Application => "application",
            AssetKind::Database => "database",
            AssetKind::NetworkDevice => "network_device",
            AssetKind::Account => "account",
            AssetKind::Group => "group",
        }
    }

    /// Default time to restore an asset of this kind, in hours, when it has a backup
    /// (without backup it is [`NO_BACKUP_FACTOR`] times longer: rebuilt from scratch).
    pub fn default_recovery_hours(self) -> f64 {
        match self {
            AssetKind::Host => 8.0,
            AssetKind::Application => 4.0,
            AssetKind::Database => 12.0,
            AssetKind::NetworkDevice => 6.0,
            AssetKind::Account | AssetKind::Group => 1.0,
        }
    }
}

/// Multiplier on the default recovery time of an asset without backup.
pub const NO_BACKUP_FACTOR: f64 = 3.0;

/// Business criticality of an asset.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    Low,
    /// The default.
    #[default]
    Medium,
    High,
    Critical,
}

impl Criticality {
    /// The spelling used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }
}

/// Security and resilience controls on an asset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controls {
    /// An EDR agent watches the asset (credential theft on it is slower).
    #[serde(default, skip_serializing_if = "is_false")]
    pub edr: bool,
    /// Logons to the asset require MFA (valid-account movement to it is slower).
    #[serde(default, skip_serializing_if = "is_false")]
    pub mfa: bool,
    /// The asset is backed up (restoring it is faster; see [`Asset::recovery_hours`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub backup: bool,
    /// Time to restore the asset once taken down or rebuilt, in hours
    /// (default: by kind, see [`AssetKind::default_recovery_hours`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_hours: Option<f64>,
}

/// A known weakness of an asset that an attacker reaching it over the network can exploit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vulnerability {
    /// Identifier (a CVE id or any label); unique within the asset.
    pub id: String,
    /// ATT&CK technique id (default T1210 from inside, T1190 from the Internet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technique: Option<String>,
    /// Ports on which it is reachable; empty means the asset's `listens` ports (or any port
    /// when `listens` is empty too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// Time to compromise, in hours (default `settings.exploit_ttc_hours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttc_hours: Option<f64>,
    /// Time to compromise as a distribution; exclusive with `ttc_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttc: Option<Ttc>,
}

/// A host, application, database, network device, account or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// What it is.
    pub kind: AssetKind,
    /// Zone id; required for non-identities, forbidden for identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Business criticality (default medium).
    #[serde(default)]
    pub criticality: Criticality,
    /// A crown jewel: protected by default during containment.
    #[serde(default, skip_serializing_if = "is_false")]
    pub crown_jewel: bool,
    /// Reachable from the Internet.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exposed: bool,
    /// Ports it listens on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listens: Vec<u16>,
    /// Security and resilience controls.
    #[serde(default, skip_serializing_if = "is_default_controls")]
    pub controls: Controls,
    /// Host this application/database runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_on: Option<String>,
    /// Exploitable weaknesses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<Vulnerability>,
    /// Accounts whose credentials can be stolen on this asset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<String>,
    /// Identities (accounts or groups) that can log on to / administer this asset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<String>,
    /// Groups only: member accounts or groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// Free labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Names this asset goes by in logs: hostnames (FQDN or short NetBIOS name),
    /// IPv4/IPv6 addresses or CIDRs, account names (`DOMAIN\user`, `user@domain`,
    /// `user`), SIDs. Detections' entities resolve to assets through them
    /// (see `identity.rs` and `docs/model.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<String>,
    /// Holds or processes personal data (a compromise may be a GDPR Art. 33 breach).
    #[serde(default, skip_serializing_if = "is_false")]
    pub personal_data: bool,
    /// Log sources the asset ships to the SOC, named as the logsource mapping names them
    /// (`sysmon`, `security`, `powershell`, `linux`, `auditd`...): a rule whose logsource
    /// the asset does not send cannot detect anything on it (`vigie exercise`).
    /// Absent: not stated, every log source is assumed shipped (and counted as such);
    /// `[]`: the asset ships nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<Vec<String>>,
}

impl Asset {
    /// A minimal asset of this kind (handy for building models in code).
    pub fn new(id: impl Into<String>, kind: AssetKind) -> Self {
        Asset {
            id: id.into(),
            name: String::new(),
            kind,
            zone: None,
            criticality: Criticality::Medium,
            crown_jewel: false,
            exposed: false,
            listens: Vec::new(),
            controls: Controls::default(),
            runs_on: None,
            vulnerabilities: Vec::new(),
            credentials: Vec::new(),
            admins: Vec::new(),
            members: Vec::new(),
            tags: Vec::new(),
            identifiers: Vec::new(),
            personal_data: false,
            telemetry: None,
        }
    }

    /// Time to restore the asset, in hours: `controls.recovery_hours`, else the kind's
    /// default, times [`NO_BACKUP_FACTOR`] for non-identities without backup.
    pub fn recovery_hours(&self) -> f64 {
        if let Some(h) = self.controls.recovery_hours {
            return h;
        }
        let base = self.kind.default_recovery_hours();
        if self.kind.is_identity() || self.controls.backup {
            base
        } else {
            base * NO_BACKUP_FACTOR
        }
    }

    /// Display name, or the id when no name is given.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }
}

/// An attacker movement stated explicitly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackEdgeSpec {
    /// Asset id, or the id of the Internet zone.
    pub from: String,
    /// Asset id.
    pub to: String,
    /// ATT&CK technique id.
    pub technique: String,
    /// Time to compromise, in hours (default `settings.exploit_ttc_hours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttc_hours: Option<f64>,
    /// Time to compromise as a distribution; exclusive with `ttc_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttc: Option<Ttc>,
}

/// Whether a failed dependency takes the service down (hard) or only degrades it (soft).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepKind {
    /// The default.
    #[default]
    Hard,
    Soft,
}

/// What a service depends on.
#[derive(Debug, Clone, PartialEq)]
pub enum DepTarget {
    /// One asset.
    Asset(String),
    /// Another service.
    Service(String),
    /// Redundancy: holds while at least `k` of `of` (assets or services) are up.
    AnyOf { k: u32, of: Vec<String> },
}

/// One dependency of a service. Written `{asset: ID}`, `{service: ID}` or
/// `{any_of: [ID, ...], k: K}` (k defaults to 1), each with optional `kind: hard|soft`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawDependency", into = "RawDependency")]
pub struct Dependency {
    /// What is depended on.
    pub target: DepTarget,
    /// Hard (default) or soft.
    pub kind: DepKind,
}

impl Dependency {
    /// The ids this dependency names (one for asset/service, the members for any_of).
    pub fn ids(&self) -> &[String] {
        match &self.target {
            DepTarget::Asset(id) | DepTarget::Service(id) => std::slice::from_ref(id),
            DepTarget::AnyOf { of, .. } => of,
        }
    }

    /// How many of [`Dependency::ids`] must be up.
    pub fn k(&self) -> u32 {
        match &self.target {
            DepTarget::AnyOf { k, .. } => *k,
            _ => 1,
        }
    }
}

/// The file form of a [`Dependency`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDependency {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    asset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any_of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<u32>,
    #[serde(default, skip_serializing_if = "is_hard")]
    kind: DepKind,
}

impl TryFrom<RawDependency> for Dependency {
    type Error = String;

    fn try_from(raw: RawDependency) -> Result<Self, String> {
        let target = match (raw.asset, raw.service, raw.any_of) {
            (Some(a), None, None) if raw.k.is_none() => DepTarget::Asset(a),
            (None, Some(s), None) if raw.k.is_none() => DepTarget::Service(s),
            (None, None, Some(of)) => DepTarget::AnyOf {
                k: raw.k.unwrap_or(1),
                of,
            },
            (None, None, None) => {
                return Err("a dependency needs one of `asset`, `service` or `any_of`".into())
            }
            (a, s, o) if a.is_some() as u8 + s.is_some() as u8 + o.is_some() as u8 == 1 => {
                return Err("`k` only applies to `any_of`".into())
            }
            _ => {
                return Err("a dependency has exactly one of `asset`, `service` or `any_of`".into())
            }
        };
        Ok(Dependency {
            target,
            kind: raw.kind,
        })
    }
}

impl From<Dependency> for RawDependency {
    fn from(d: Dependency) -> Self {
        let mut raw = RawDependency {
            kind: d.kind,
            ..Default::default()
        };
        match d.target {
            DepTarget::Asset(a) => raw.asset = Some(a),
            DepTarget::Service(s) => raw.service = Some(s),
            DepTarget::AnyOf { k, of } => {
                raw.any_of = Some(of);
                raw.k = Some(k);
            }
        }
        raw
    }
}

/// A service delivered to customers or to other services.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// What it needs to run.
    #[serde(default)]
    pub depends_on: Vec<Dependency>,
    /// Time to restart the service once its dependencies are back, in hours (default 1).
    #[serde(default = "default_service_recovery")]
    pub recovery_hours: f64,
    /// Free labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Default restart time of a service, in hours.
pub const DEFAULT_SERVICE_RECOVERY_HOURS: f64 = 1.0;

fn default_service_recovery() -> f64 {
    DEFAULT_SERVICE_RECOVERY_HOURS
}

/// A customer segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Number of customers (subscribers or users).
    pub customers: u64,
    /// Service-level weight multiplying this segment's customer-hours (default 1.0).
    #[serde(default = "default_sla_weight")]
    pub sla_weight: f64,
    /// Service id -> weight in [0,1]: the fraction of these customers' service lost when
    /// that service is down.
    #[serde(default)]
    pub uses: BTreeMap<String, f64>,
    /// Free labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Countries these customers are in (ISO 3166-1 alpha-2 codes, e.g. `FR`); an
    /// incident touching segments in more than one country is cross-border (NIS2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
}

fn default_sla_weight() -> f64 {
    1.0
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_hard(k: &DepKind) -> bool {
    *k == DepKind::Hard
}

fn is_default_controls(c: &Controls) -> bool {
    *c == Controls::default()
}
