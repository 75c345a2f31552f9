//! `vigie intel match --format json` (documented in `docs/stix-patterns.md`): whether a
//! STIX 2.1 pattern matched a file of observed-data, and which observed-data it bound.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntelMatch {
    /// The pattern as given.
    pub pattern: String,
    pub matched: bool,
    /// The observed-data the first match found binds, by STIX id (`#N`, N counted from
    /// 0 in file order, for an observed-data without an id). Empty when not matched.
    pub matched_observed_data: Vec<String>,
    /// Observed-data read from the file.
    pub observed_data: usize,
    /// `object_refs` that named no object of the file (ignored when matching, as the
    /// reference matcher does), as `observed-data id -> ref`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved_refs: Vec<UnresolvedRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnresolvedRef {
    pub observed_data: String,
    pub object_ref: String,
}
