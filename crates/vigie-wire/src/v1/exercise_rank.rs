//! `vigie exercise rank --format json`: single changes ranked by the expected
//! customer-hours they save. Documented field by field in `docs/exercise.md` ("rank").
//!
//! Like the run report, a function of the model, the rules, the detection table and the
//! options only (no wall-clock time, no thread count): the same inputs give the same
//! bytes. Quantities are customer-hours and probabilities as plain numbers, rounded to
//! 12 significant digits (`vigie_response::report::tidy`).

use serde::{Deserialize, Serialize};
use vigie_response::report::tidy;
use vigie_sim::rank::{Change, RankReport};

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankDocument {
    /// `vigie/v1`.
    pub schema: String,
    /// The model's digest (`vigie_model::digest`).
    pub model: String,
    /// The rule set's digest (`RuleSet::digest`).
    pub rules: String,
    pub seed: u64,
    pub samples: u64,
    pub horizon_hours: f64,
    /// `--entry` asset ids, or empty for the Internet.
    pub entry: Vec<String>,
    /// Kinds of change tried (`--kinds`).
    pub kinds: Vec<String>,
    /// `--max-candidates`.
    pub max_candidates: usize,
    /// The model as it is.
    pub baseline: Baseline,
    /// How many candidates were enumerated and what became of them.
    pub candidates: Candidates,
    /// The best changes (`--top`), largest reduction first.
    pub ranked: Vec<RankedChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Expected customer-hours of an incident.
    pub customer_hours: f64,
    /// Normal 95 % interval of that mean.
    pub customer_hours_ci95: [f64; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidates {
    /// Candidates of the requested kinds.
    pub enumerated: usize,
    /// Touching only assets no baseline sample reaches.
    pub screened_out: usize,
    /// Changing nothing a sample sees (same attack edges, same detection).
    pub no_ops: usize,
    /// Left out by `max_candidates` (lowest screening scores).
    pub capped: usize,
    /// Simulated.
    pub evaluated: usize,
    /// Of those, the ones that moved no sample's customer-hours (not ranked).
    pub no_effect: usize,
}

/// One change, its kind and what it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRef {
    /// `edr`, `mfa`, `telemetry`, `rule`, `patch` or `flow`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// Telemetry: the log source added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Rule: the ATT&CK technique it detects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technique: Option<String>,
    /// Patch: the vulnerability removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// Flow: the flow removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
}

impl From<&Change> for ChangeRef {
    fn from(c: &Change) -> Self {
        let mut r = ChangeRef {
            kind: c.kind().as_str().to_string(),
            asset: None,
            source: None,
            technique: None,
            vulnerability: None,
            flow: None,
        };
        match c {
            Change::Edr { asset } | Change::Mfa { asset } => r.asset = Some(asset.clone()),
            Change::Telemetry { asset, source } => {
                r.asset = Some(asset.clone());
                r.source = Some(source.clone());
            }
            Change::Rule { technique } => r.technique = Some(technique.clone()),
            Change::Patch {
                asset,
                vulnerability,
            } => {
                r.asset = Some(asset.clone());
                r.vulnerability = Some(vulnerability.clone());
            }
            Change::Flow { flow } => r.flow = Some(flow.clone()),
        }
        r
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedChange {
    /// 1 for the best.
    pub rank: usize,
    pub change: ChangeRef,
    /// In words ("EDR on dc-1").
    pub description: String,
    /// Mean of (baseline − variant) customer-hours over the paired samples.
    pub reduction_customer_hours: f64,
    /// Normal 95 % interval of the reduction, from the paired differences.
    pub reduction_ci95: [f64; 2],
    /// Expected customer-hours with the change.
    pub customer_hours: f64,
    /// How often the baseline reaches what it touches (the screening's order).
    pub screening_score: f64,
    /// Crown jewels whose chance of being reached before detection changes, largest
    /// drop first.
    pub crown_jewels: Vec<JewelShift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JewelShift {
    pub id: String,
    pub name: String,
    /// p_reached_before_detection without the change.
    pub baseline: f64,
    /// p_reached_before_detection with it.
    pub p_reached_before_detection: f64,
}

/// What the document is built from.
pub struct RankSource<'a> {
    pub model_digest: &'a str,
    pub rules_digest: &'a str,
    pub entry: &'a [String],
    pub kinds: &'a [vigie_sim::rank::ChangeKind],
    pub max_candidates: usize,
    pub report: &'a RankReport,
}

fn pair(c: [f64; 2]) -> [f64; 2] {
    [tidy(c[0]), tidy(c[1])]
}

impl RankDocument {
    pub fn from_engine(s: &RankSource<'_>) -> RankDocument {
        let r = s.report;
        RankDocument {
            schema: crate::SCHEMA_VERSION.to_string(),
            model: s.model_digest.to_string(),
            rules: s.rules_digest.to_string(),
            seed: r.seed,
            samples: r.samples,
            horizon_hours: tidy(r.horizon_hours),
            entry: s.entry.to_vec(),
            kinds: s.kinds.iter().map(|k| k.as_str().to_string()).collect(),
            max_candidates: s.max_candidates,
            baseline: Baseline {
                customer_hours: tidy(r.baseline_customer_hours),
                customer_hours_ci95: pair(r.baseline_ci95),
            },
            candidates: Candidates {
                enumerated: r.enumerated,
                screened_out: r.screened_out,
                no_ops: r.no_ops,
                capped: r.capped,
                evaluated: r.evaluated,
                no_effect: r.no_effect,
            },
            ranked: r
                .ranked
                .iter()
                .enumerate()
                .map(|(i, x)| RankedChange {
                    rank: i + 1,
                    change: ChangeRef::from(&x.change),
                    description: x.change.describe(),
                    reduction_customer_hours: tidy(x.paired.reduction),
                    reduction_ci95: pair(x.paired.ci95),
                    customer_hours: tidy(x.paired.customer_hours),
                    screening_score: tidy(x.score),
                    crown_jewels: x
                        .crown_jewels
                        .iter()
                        .map(|j| JewelShift {
                            name: j.name.clone(),
                            id: j.id.clone(),
                            baseline: tidy(j.before),
                            p_reached_before_detection: tidy(j.after),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
