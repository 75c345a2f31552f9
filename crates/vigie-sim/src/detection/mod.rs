//! The detection model: per (asset, ATT&CK technique), how likely an attack step is to
//! be detected and how long that takes (docs/detection-model.md).
//!
//! A step (technique T on target asset A) is watched by independent *detectors*, each
//! with its own probability q, and is detected with p = 1 − Π(1 − q):
//!
//! - every loaded Sigma rule tagged `attack.tXXXX` for T that can see A: a rule counts
//!   for T when it is tagged T, T's parent, or a sub-technique of T (as respond matches
//!   detections to edges, `vigie_incident::attack::technique_matches`; siblings do not
//!   count), when it reports (not a correlation-only input), and when A ships one of the
//!   telemetry names of its logsource (`vigie_sigma::Mapping::telemetry_of`; an asset
//!   without `telemetry:` ships everything, `[]` nothing; a correlation rule has no
//!   logsource of its own and counts on every asset that ships anything). Its q is
//!   the table's weight of its level × the weight of its status;
//! - an EDR agent on A, with the technique's `edr_p`;
//! - the technique's baseline (`baseline_p`: users, IDS, providers), everywhere.
//!
//! The delay from step to detection is the technique's `delay` distribution whichever
//! detector fires. Detector indices are stable: rules in rule-set order, then the EDR,
//! then one baseline per technique (sorted), then hypothetical rules added by
//! [`DetectionModel::with_rule_for`] in the order added.

mod table;

pub use table::{is_technique_id, DetectionTable, TableError, TechniqueEntry, DEFAULT_TABLE};

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use vigie_model::{Model, Ttc};
use vigie_sigma::{Level, Mapping, RuleKind, RuleSet};

/// Something that can detect an attack step.
#[derive(Debug, Clone, PartialEq)]
pub enum Detector {
    /// A Sigma rule (or a hypothetical one, key `hypothetical:<technique>`).
    Rule {
        key: String,
        title: String,
        level: Level,
    },
    /// An EDR agent on the step's target.
    Edr,
    /// Detection without rules for this technique (the table's `baseline_p`).
    Baseline { technique: String },
}

/// How one attack step is detected.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDetection {
    /// Probability that the step is detected: 1 − Π(1 − q) over `detectors`.
    pub p: f64,
    /// Time from the step to its detection.
    pub delay: Ttc,
    /// (detector index, its own probability q), q > 0, by index.
    pub detectors: Vec<(u32, f64)>,
}

/// A rule counted for a technique (for the JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct CountedRule {
    pub key: String,
    pub title: String,
    pub level: Level,
    /// Lowercased Sigma status, None when absent.
    pub status: Option<String>,
    /// Its own detection probability on an asset that ships its telemetry.
    pub q: f64,
    /// Telemetry names any one of which lets it see an asset (empty: every asset that
    /// ships anything, for correlations; `*` for hypothetical rules: every asset).
    pub telemetry: Vec<String>,
}

/// Per technique: what can detect it.
#[derive(Debug, Clone, PartialEq)]
pub struct TechniqueDetection {
    /// ATT&CK id, uppercase.
    pub technique: String,
    /// Its ATT&CK name, when the embedded ATT&CK table knows it.
    pub name: Option<String>,
    /// Rules counted for it (tagged with it, its parent or a sub-technique), with q > 0
    /// or not (a deprecated rule is listed with q = 0), in rule-set order.
    pub rules: Vec<CountedRule>,
    /// The table's entry in force for it.
    pub entry: TechniqueEntry,
}

/// One rule as the model sees it.
#[derive(Debug, Clone)]
struct RuleDet {
    detector: u32,
    q: f64,
    /// Uppercased technique tags.
    techniques: Vec<String>,
    status: Option<String>,
    /// Telemetry names; see [`CountedRule::telemetry`].
    telemetry: Vec<String>,
    /// Counted on every asset (hypothetical rules).
    everywhere: bool,
}

/// Per asset: what it ships and whether an EDR watches it.
#[derive(Debug, Clone)]
struct AssetDet {
    /// Lowercased telemetry names; None: not stated (everything).
    telemetry: Option<Vec<String>>,
    edr: bool,
}

/// Detection of every (asset, technique) of a model. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DetectionModel {
    detectors: Vec<Detector>,
    rules: Vec<RuleDet>,
    /// Technique (uppercase, exact tag) → indexes into `rules`.
    by_tag: FxHashMap<String, Vec<u32>>,
    /// Parent technique → indexes into `rules` of every rule tagged with it or one of
    /// its sub-techniques.
    by_parent: FxHashMap<String, Vec<u32>>,
    assets: Vec<AssetDet>,
    table: DetectionTable,
    edr: u32,
    /// Technique → its baseline detector.
    baselines: BTreeMap<String, u32>,
    /// Techniques of the model's attack edges (and the table's, and the rules'), sorted.
    techniques: BTreeSet<String>,
}

/// Uppercased ATT&CK technique ids among Sigma tags (`attack.t1059.001` → `T1059.001`),
/// in tag order, without repeats.
pub fn technique_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let Some(rest) = t.strip_prefix("attack.") else {
            continue;
        };
        let id = rest.to_ascii_uppercase();
        if is_technique_id(&id) && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

impl DetectionModel {
    /// Builds the detection of `model` from `rules` (None: no rules) and `table`.
    /// Logsources are named with the default mapping.
    pub fn build(model: &Model, rules: Option<&RuleSet>, table: &DetectionTable) -> DetectionModel {
        let mapping = Mapping::default();
        let mut detectors = Vec::new();
        let mut dets = Vec::new();
        if let Some(rs) = rules {
            for id in rs.rule_ids() {
                let m = rs.meta(id);
                if !m.report {
                    continue;
                }
                let techniques = technique_tags(&m.tags);
                if techniques.is_empty() {
                    continue;
                }
                let telemetry = match (&m.kind, &m.logsource) {
                    (RuleKind::Detection, Some(ls)) => mapping.telemetry_of(ls),
                    _ => Vec::new(),
                };
                dets.push(RuleDet {
                    detector: detectors.len() as u32,
                    q: table.rule_q(m.level, m.status.as_deref()),
                    techniques,
                    status: m.status.clone(),
                    telemetry,
                    everywhere: false,
                });
                detectors.push(Detector::Rule {
                    key: m.key.to_string(),
                    title: m.title.clone(),
                    level: m.level,
                });
            }
        }
        let edr = detectors.len() as u32;
        detectors.push(Detector::Edr);
        let mut techniques: BTreeSet<String> = table.techniques().map(str::to_string).collect();
        let ix = model.index();
        let graph = vigie_model::derive_attack_edges(&ix);
        techniques.extend(
            graph
                .techniques
                .iter()
                .map(|t| t.trim().to_ascii_uppercase()),
        );
        for d in &dets {
            techniques.extend(d.techniques.iter().cloned());
        }
        let mut baselines = BTreeMap::new();
        for t in &techniques {
            baselines.insert(t.clone(), detectors.len() as u32);
            detectors.push(Detector::Baseline {
                technique: t.clone(),
            });
        }
        let assets = model
            .assets
            .iter()
            .map(|a: &vigie_model::Asset| AssetDet {
                telemetry: lowered(a.telemetry.as_deref()),
                edr: a.controls.edr,
            })
            .collect();
        let mut dm = DetectionModel {
            detectors,
            rules: dets,
            by_tag: FxHashMap::default(),
            by_parent: FxHashMap::default(),
            assets,
            table: table.clone(),
            edr,
            baselines,
            techniques,
        };
        dm.reindex();
        dm
    }

    fn reindex(&mut self) {
        self.by_tag.clear();
        self.by_parent.clear();
        for (i, r) in self.rules.iter().enumerate() {
            for t in &r.techniques {
                self.by_tag.entry(t.clone()).or_default().push(i as u32);
                let p = vigie_incident::attack::parent(t).to_string();
                let v = self.by_parent.entry(p).or_default();
                if v.last() != Some(&(i as u32)) {
                    v.push(i as u32);
                }
            }
        }
    }

    /// Indexes into `rules` of the rules counted for `technique` (uppercase), sorted.
    fn rules_for(&self, technique: &str) -> Vec<u32> {
        let parent = vigie_incident::attack::parent(technique);
        let mut out: Vec<u32> = if parent == technique {
            self.by_parent.get(technique).cloned().unwrap_or_default()
        } else {
            let mut v = self.by_tag.get(technique).cloned().unwrap_or_default();
            v.extend(self.by_tag.get(parent).into_iter().flatten());
            v
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether rule `r` can see asset `a`.
    fn sees(&self, r: &RuleDet, a: Option<&AssetDet>) -> bool {
        if r.everywhere {
            return true;
        }
        let Some(shipped) = a.and_then(|a| a.telemetry.as_ref()) else {
            return true;
        };
        if r.telemetry.is_empty() {
            return !shipped.is_empty();
        }
        r.telemetry.iter().any(|t| shipped.contains(t))
    }

    /// How a step of `technique` against the asset at `asset_index` is detected.
    pub fn step(&self, asset_index: usize, technique: &str) -> StepDetection {
        let t = technique.trim().to_ascii_uppercase();
        let entry = self.table.entry(&t);
        let asset = self.assets.get(asset_index);
        let mut detectors: Vec<(u32, f64)> = Vec::new();
        for i in self.rules_for(&t) {
            let r = &self.rules[i as usize];
            if r.q > 0.0 && self.sees(r, asset) {
                detectors.push((r.detector, r.q));
            }
        }
        if asset.is_some_and(|a| a.edr) && entry.edr_p > 0.0 {
            detectors.push((self.edr, entry.edr_p));
        }
        if entry.baseline_p > 0.0 {
            let b = self
                .baselines
                .get(&t)
                .copied()
                .unwrap_or_else(|| self.default_baseline());
            detectors.push((b, entry.baseline_p));
        }
        detectors.sort_by_key(|d| d.0);
        StepDetection {
            p: combine(detectors.iter().map(|d| d.1)),
            delay: entry.delay,
            detectors,
        }
    }

    /// The baseline detector of a technique the model did not list at build time: the
    /// first baseline (techniques are sorted), or the EDR index when there is none —
    /// never reached in practice, since every edge's technique is listed.
    fn default_baseline(&self) -> u32 {
        self.baselines.values().next().copied().unwrap_or(self.edr)
    }

    /// Detector `i` (as found in [`StepDetection::detectors`]).
    pub fn detector(&self, i: u32) -> &Detector {
        // Indices come from this model; a foreign one gets the EDR rather than a panic.
        self.detectors
            .get(i as usize)
            .unwrap_or(&self.detectors[self.edr as usize])
    }

    /// Number of detectors.
    pub fn detector_count(&self) -> usize {
        self.detectors.len()
    }

    /// This model plus a hypothetical rule for `technique` (level high, status stable,
    /// seen on every asset): what writing a rule for an uncovered technique would buy.
    pub fn with_rule_for(&self, technique: &str) -> DetectionModel {
        let t = technique.trim().to_ascii_uppercase();
        let mut dm = self.clone();
        dm.rules.push(RuleDet {
            detector: dm.detectors.len() as u32,
            q: dm.table.rule_q(Level::High, Some("stable")),
            techniques: vec![t.clone()],
            status: Some("stable".into()),
            telemetry: vec!["*".into()],
            everywhere: true,
        });
        dm.detectors.push(Detector::Rule {
            key: format!("hypothetical:{t}"),
            title: format!("Hypothetical rule for {t}"),
            level: Level::High,
        });
        dm.techniques.insert(t);
        dm.reindex();
        dm
    }

    /// Per technique of the model's edges, the table and the rules, sorted: the rules
    /// counted and the table entry.
    pub fn techniques(&self) -> Vec<TechniqueDetection> {
        self.techniques
            .iter()
            .map(|t| TechniqueDetection {
                technique: t.clone(),
                name: vigie_incident::attack::technique(t).map(|i| i.name.to_string()),
                rules: self
                    .rules_for(t)
                    .into_iter()
                    .map(|i| self.counted(&self.rules[i as usize]))
                    .collect(),
                entry: self.table.entry(t),
            })
            .collect()
    }

    fn counted(&self, r: &RuleDet) -> CountedRule {
        let (key, title, level) = match self.detector(r.detector) {
            Detector::Rule { key, title, level } => (key.clone(), title.clone(), *level),
            _ => (String::new(), String::new(), Level::Informational),
        };
        CountedRule {
            key,
            title,
            level,
            status: r.status.clone(),
            q: r.q,
            telemetry: r.telemetry.clone(),
        }
    }

    /// The table in force.
    pub fn table(&self) -> &DetectionTable {
        &self.table
    }
}

fn lowered(names: Option<&[String]>) -> Option<Vec<String>> {
    names.map(|t| t.iter().map(|s| s.trim().to_ascii_lowercase()).collect())
}

/// 1 − Π(1 − q), folded as p ← p + q·(1 − p) so that one detector gives exactly its q.
pub fn combine(qs: impl IntoIterator<Item = f64>) -> f64 {
    qs.into_iter().fold(0.0, |p, q| p + q * (1.0 - p))
}
