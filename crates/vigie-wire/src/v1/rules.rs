//! `vigie rules check --format json`: which rules loaded, and why the others did not.
//!
//! `files`, `loaded` (`detection_rules + correlation_rules + filters`), `refused_count`,
//! `refused_by_kind` (kind → count), `refused[]` and `warnings[]` (each `file`, `line`,
//! `column` when known, `rule`, `kind`, `reason`), `unrouted_logsources` and
//! `partially_routed_logsources` (`[logsource, rules]` pairs), `digest` of the rule set
//! and `load_s`. Kinds: `syntax`, `schema`, `condition`, `modifier`, `value`,
//! `placeholder`, `reference`, `logsource`, `limit`, `empty`, `unreadable`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigie_sigma::LoadReport;

/// A rule (or file) refused, or loaded with a warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub file: String,
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub rule: Option<String>,
    pub kind: String,
    pub reason: String,
}

/// What `rules check` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesCheck {
    pub schema: String,
    pub digest: String,
    pub files: usize,
    pub loaded: usize,
    pub detection_rules: usize,
    pub correlation_rules: usize,
    pub filters: usize,
    pub refused_count: usize,
    pub refused_by_kind: BTreeMap<String, usize>,
    pub refused: Vec<Refusal>,
    pub warnings_count: usize,
    pub warnings_by_kind: BTreeMap<String, usize>,
    pub warnings: Vec<Refusal>,
    pub unrouted_logsources: Vec<(String, usize)>,
    pub partially_routed_logsources: Vec<(String, usize)>,
    pub load_s: f64,
    /// What the compiled-rule cache did: `disabled` (`--no-cache`, embedded rules),
    /// `hit` (rules from the cache), `miss` (no entry: compiled and stored) or
    /// `rejected` (an entry that failed its checks: ignored, compiled and stored again).
    #[serde(default)]
    pub cache: String,
}

impl From<&vigie_sigma::Refusal> for Refusal {
    fn from(r: &vigie_sigma::Refusal) -> Self {
        Refusal {
            file: r.file.to_string(),
            line: r.line,
            column: r.column,
            rule: r.rule.clone(),
            kind: crate::snake_name(&r.kind),
            reason: r.reason.clone(),
        }
    }
}

/// Refusals (or warnings) counted by kind name.
pub fn by_kind(v: &[vigie_sigma::Refusal]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in v {
        *m.entry(crate::snake_name(&r.kind)).or_insert(0) += 1;
    }
    m
}

impl RulesCheck {
    /// The wire form of a load report; `digest` is the rule set's, `load_s` the time
    /// the load took.
    pub fn from_engine(r: &LoadReport, digest: &str, load_s: f64) -> RulesCheck {
        RulesCheck {
            schema: crate::SCHEMA_VERSION.to_string(),
            digest: digest.to_string(),
            files: r.files,
            loaded: r.detection_rules + r.correlation_rules + r.filters,
            detection_rules: r.detection_rules,
            correlation_rules: r.correlation_rules,
            filters: r.filters,
            refused_count: r.refused.len(),
            refused_by_kind: by_kind(&r.refused),
            refused: r.refused.iter().map(Refusal::from).collect(),
            warnings_count: r.warnings.len(),
            warnings_by_kind: by_kind(&r.warnings),
            warnings: r.warnings.iter().map(Refusal::from).collect(),
            unrouted_logsources: r.unrouted_logsources.clone(),
            partially_routed_logsources: r.partially_routed_logsources.clone(),
            load_s,
            cache: match r.cache {
                vigie_sigma::CacheStatus::Disabled => "disabled",
                vigie_sigma::CacheStatus::Hit => "hit",
                vigie_sigma::CacheStatus::Miss => "miss",
                vigie_sigma::CacheStatus::Rejected(_) => "rejected",
            }
            .to_string(),
        }
    }
}
