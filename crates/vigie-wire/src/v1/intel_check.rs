//! `vigie intel check --format json` (documented in `docs/intel.md`): what indicator
//! sources gave, what they refused and why.
//!
//! `loaded` indicators (`patterns` of them kept as STIX patterns, the others typed
//! values counted in `by_type`: `ipv4`, `ipv6`, `domain`, `url`, `md5`, `sha1`,
//! `sha256`, `file-name`), `refused_count`, `refused_by_reason` (`[reason, count]`,
//! quoted values elided, most frequent first), `refused[]` (`file`, `position` as text
//! and, when it is one, `line` + `column` or `pointer`; `reason`), `sources[]` (one per
//! path given: `source`, `format`, counts), `index` (the typed index sizes), and with
//! `--warninglists`, `warninglists` (lists loaded, entries, the indicators whose value a
//! list applying to its type hits, by list).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntelCheck {
    pub schema: String,
    pub loaded: usize,
    pub patterns: usize,
    pub by_type: BTreeMap<String, usize>,
    pub refused_count: usize,
    pub refused_by_reason: Vec<(String, usize)>,
    pub refused: Vec<IntelRefusal>,
    pub sources: Vec<IntelSource>,
    pub index: BTreeMap<String, usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warninglists: Option<WarningListCheck>,
    /// Pattern indicators loaded (valid STIX, counted in `patterns`) that detection
    /// refuses because they can never match one event: `FILE: indicator ID: pattern
    /// TEXT: why` (docs/intel.md, "Pattern indicators").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatchable_patterns: Vec<String>,
    /// Seconds to read the sources and build the index.
    pub load_s: f64,
}

/// One thing that did not become an indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelRefusal {
    pub file: String,
    /// `line L, column C`, a JSON pointer, or `file`.
    pub position: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub reason: String,
}

/// What one source (path given on the command line) gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelSource {
    /// As given: `[TYPE:]PATH`.
    pub source: String,
    /// `stix`, `misp-feed`, `misp-event`, `csv`, `list`; none when the path is missing.
    pub format: Option<String>,
    pub loaded: usize,
    pub patterns: usize,
    pub refused: usize,
    pub by_type: BTreeMap<String, usize>,
}

/// `--warninglists`: known-benign values among the indicators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningListCheck {
    pub lists: usize,
    pub entries: usize,
    /// Lists or entries that could not be used.
    pub refused: Vec<IntelRefusal>,
    /// Indicators with a value hit by a list that applies to its type.
    pub suppressed: usize,
    /// List name -> indicators it hits.
    pub suppressed_by_list: BTreeMap<String, usize>,
    /// Up to 20 (indicator id, value, list).
    pub examples: Vec<(String, String, String)>,
}
