//! `vigie rules coverage`: the ATT&CK Navigator layer it writes (`--navigator FILE`) and
//! its report (`--format json`). Documented in docs/detection-model.md ("Coverage").
//!
//! The layer is Navigator layer format 4.5: `name`, `versions` {`attack`, `navigator`,
//! `layer`}, `domain` (`enterprise-attack`), `description`, `techniques[]` (each
//! `techniqueID`, `score` = rules tagging it as `sigma analyze attack count` counts
//! them, `comment`, `enabled`, `metadata[]` of {`name`, `value`}, `showSubtechniques`),
//! `gradient` {`colors`, `minValue`, `maxValue`}, `legendItems`.
//!
//! The report: `schema`, `digest` of the rule set, `rules` loaded, `techniques[]` (each
//! `technique`, `name` when ATT&CK knows it, `status` in ATT&CK: `active`, `deprecated`,
//! `revoked` or `unknown`, `rules` counted, `rule_keys`, and with `--model` `attack_share`:
//! the share of simulated attacks that attempt it), `navigator` (the layer's path) and,
//! with `--model`, `model` {`samples`, `seed`, `horizon_hours`, `uncovered[]`: per
//! technique on the attack paths that some attempted edge carries with no counted rule
//! able to see it: `technique`, `name`, `attack_share`, `edges`, `uncovered_edges`,
//! `examples` (`from -> to`)}.

use serde::{Deserialize, Serialize};

/// Layer format written.
pub const LAYER_VERSION: &str = "4.5";
/// Navigator version the layer is written for (layer format 4.5 is Navigator 5's).
pub const NAVIGATOR_VERSION: &str = "5.1.0";

/// An ATT&CK Navigator layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    pub name: String,
    pub versions: LayerVersions,
    pub domain: String,
    pub description: String,
    pub techniques: Vec<LayerTechnique>,
    pub gradient: Gradient,
    pub legend_items: Vec<LegendItem>,
}

/// `versions` of a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerVersions {
    pub attack: String,
    pub navigator: String,
    pub layer: String,
}

/// One technique of a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerTechnique {
    #[serde(rename = "techniqueID")]
    pub technique_id: String,
    pub score: u32,
    pub comment: String,
    pub enabled: bool,
    pub metadata: Vec<Metadata>,
    pub show_subtechniques: bool,
}

/// A `metadata` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub name: String,
    pub value: String,
}

/// The colour scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gradient {
    pub colors: Vec<String>,
    pub min_value: u32,
    pub max_value: u32,
}

/// A legend entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegendItem {
    pub label: String,
    pub color: String,
}

/// What `rules coverage --format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesCoverage {
    pub schema: String,
    pub digest: String,
    pub rules: usize,
    pub techniques: Vec<TechniqueCoverage>,
    pub navigator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelCoverage>,
}

/// One tagged technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueCoverage {
    pub technique: String,
    pub name: Option<String>,
    pub status: String,
    pub rules: u32,
    pub rule_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_share: Option<f64>,
}

/// What the model's simulated attacks say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCoverage {
    pub samples: u64,
    pub seed: u64,
    pub horizon_hours: f64,
    pub uncovered: Vec<UncoveredTechnique>,
}

/// A technique on the attack paths that some attempted edge carries undetected by rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UncoveredTechnique {
    pub technique: String,
    pub name: Option<String>,
    pub attack_share: f64,
    pub edges: u32,
    pub uncovered_edges: u32,
    pub examples: Vec<String>,
}
