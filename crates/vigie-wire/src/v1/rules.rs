//! `vigie rules check --format json`: which rules loaded, and why the others did not.
//!
//! `files`, `loaded` (`detection_rules + correlation_rules + filters`), `refused_count`,
//! `refused_by_kind` (kind → count), `refused[]` and `warnings[]` (each `file`, `line`,
//! `column` when known, `rule`, `kind`, `reason`), `unrouted_logsources` and
//! `partially_routed_logsources` (`[logsource, rules]` pairs), `routing[]` (one
//! [`RoutingRow`] per distinct logsource: its rules fully, partly or not routed, the
//! mapping entry used and why), `digest` of the rule set and `load_s`. Kinds: `syntax`, `schema`, `condition`, `modifier`, `value`,
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
    /// One row per distinct logsource of the detection rules, sorted by product,
    /// category, service.
    #[serde(default)]
    pub routing: Vec<RoutingRow>,
    pub load_s: f64,
    /// What the compiled-rule cache did: `disabled` (`--no-cache`, embedded rules),
    /// `hit` (rules from the cache), `miss` (no entry: compiled and stored) or
    /// `rejected` (an entry that failed its checks: ignored, compiled and stored again).
    #[serde(default)]
    pub cache: String,
}

/// A rule logsource's keys (lowercased), as in `routing[].logsource`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LogsourceKeys {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

impl LogsourceKeys {
    /// `product:linux category:file_event`, as the `*_logsources` lists name it.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}:{v}"));
            }
        }
        if parts.is_empty() {
            "(empty)".into()
        } else {
            parts.join(" ")
        }
    }
}

/// The mapping entry a logsource is routed by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingEntry {
    /// 0-based position among the mapping's logsource entries (same-key entries merged).
    pub index: usize,
    /// 1-based line in the mapping file, when known.
    pub line: Option<usize>,
    /// `product: linux, service: auditd`.
    pub label: String,
    pub product: Option<Vec<String>>,
    pub category: Option<Vec<String>>,
    pub service: Option<Vec<String>>,
    /// Number of `when` alternatives.
    pub alternatives: usize,
}

/// How the rules of one logsource are routed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRow {
    pub logsource: LogsourceKeys,
    /// Detection rules with this logsource.
    pub rules: usize,
    /// Of them: routed by an entry naming all their keys.
    pub fully: usize,
    /// Routed by an entry naming part of their keys (e.g. the product only).
    pub partly: usize,
    /// Matched by no entry: their detection runs on every event.
    pub unrouted: usize,
    /// The mapping entry used (absent when unrouted).
    pub entry: Option<RoutingEntry>,
    /// Why the logsource is partly routed or unrouted; `null` when fully routed.
    pub reason: Option<String>,
}

impl From<&vigie_sigma::LogsourceRouting> for RoutingRow {
    fn from(r: &vigie_sigma::LogsourceRouting) -> Self {
        RoutingRow {
            logsource: LogsourceKeys {
                product: r.product.clone(),
                category: r.category.clone(),
                service: r.service.clone(),
            },
            rules: r.rules,
            fully: r.fully,
            partly: r.partly,
            unrouted: r.unrouted,
            entry: r.entry.as_ref().map(|e| RoutingEntry {
                index: e.index,
                line: e.line,
                label: e.label.clone(),
                product: e.product.clone(),
                category: e.category.clone(),
                service: e.service.clone(),
                alternatives: e.alternatives,
            }),
            reason: r.reason.clone(),
        }
    }
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
            routing: r.routing.iter().map(RoutingRow::from).collect(),
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
