//! What the processor runs with, loaded at start and on reload: rules (configured paths,
//! else the binary's embedded pack), the operator model with its graph, attack edges
//! and identity index (configured file, else the binary's demo operator), the entity
//! mapping, the indicators (`intel` paths and the TAXII `shared` collection's
//! indicators, registered as rules of kind indicator: `vigie_intel::detect`). Loading is
//! the same as `vigie respond`'s: the same engine calls, the same refusal of clashing
//! identifiers.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use vigie_incident::EntityMapping;
use vigie_model::{AttackGraph, IdentityIndex, Model};
use vigie_response::Graph;
use vigie_sigma::{LoadReport, RuleSet};

use crate::config::Config;
use crate::state::Loaded;
use crate::ServeError;

/// What the binary embeds and hands in (vigie-serve does not depend on the binary).
#[derive(Clone, Copy)]
pub struct Defaults {
    /// The embedded rule pack: `(name, yaml)`.
    pub rules: &'static [(&'static str, &'static str)],
    /// The demo operator.
    pub model: fn() -> Model,
}

/// Rules, model and mapping, compiled.
pub struct Engines {
    pub rules: Arc<RuleSet>,
    pub report: LoadReport,
    pub model: Arc<Model>,
    pub graph: Arc<Graph>,
    pub attack: Arc<AttackGraph>,
    pub identities: Arc<IdentityIndex>,
    pub mapping: Arc<EntityMapping>,
    pub model_digest: String,
    /// The indicators' matcher (None: no indicator configured or shared).
    pub intel: Option<Arc<vigie_intel::detect::IntelMatcher>>,
    /// What loading the indicators said: `{"indicators": n, "refused": n}`.
    pub intel_summary: serde_json::Value,
}

impl Engines {
    /// Loads what `config` names, else the defaults.
    pub fn load(config: &Config, defaults: &Defaults) -> Result<Engines, ServeError> {
        Engines::load_with(config, defaults, &[])
    }

    /// [`Engines::load`] plus the indicators of the TAXII `shared` collection as `store`
    /// holds them now (what start and every reload use). Blocking (a store read).
    pub fn load_current(
        config: &Config,
        defaults: &Defaults,
        store: &vigie_store::Store,
    ) -> Result<Engines, ServeError> {
        let shared = crate::taxii::Taxii::shared_indicators(store)?;
        Engines::load_with(config, defaults, &shared)
    }

    /// [`Engines::load`] plus `shared`: STIX objects of the TAXII `shared` collection
    /// (its indicators are matched like those of the `intel` paths).
    pub fn load_with(
        config: &Config,
        defaults: &Defaults,
        shared: &[serde_json::Value],
    ) -> Result<Engines, ServeError> {
        let (mut rules, report) = load_rules(&config.rules, defaults)?;
        let model = match &config.model {
            Some(p) => vigie_model::load(p).map_err(|diags| {
                let lines: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
                ServeError::Model(format!(
                    "{} problem(s) in {}:\n{}",
                    lines.len(),
                    p.display(),
                    lines.join("\n")
                ))
            })?,
            None => (defaults.model)(),
        };
        let graph = vigie_response::from_model(&model)
            .map_err(|e| ServeError::Model(format!("building the graph: {e}")))?;
        let (identities, clashes) = IdentityIndex::build(&model);
        if let Some(c) = clashes.first() {
            return Err(ServeError::Model(format!(
                "{} clashing identifier(s); first: {:?} is on both {} and {}",
                clashes.len(),
                c.identifier,
                c.first,
                c.second
            )));
        }
        let attack = vigie_model::derive_attack_edges(&model.index());
        let mapping = match &config.entity_mapping {
            Some(p) => EntityMapping::load(p)
                .map_err(|e| ServeError::Option(format!("entity mapping: {e}")))?,
            None => EntityMapping::default(),
        };
        let (intel, intel_summary) = if config.intel.is_empty() && shared.is_empty() {
            (None, json!({"indicators": 0, "refused": 0}))
        } else {
            let loaded = vigie_intel::detect::load(
                &config.intel,
                config.warning_lists.as_deref(),
                shared,
                &mapping,
                &mut rules,
            )
            .map_err(|e| ServeError::Option(format!("intel: {e}")))?;
            for r in &loaded.refused {
                tracing::warn!("indicator refused: {r}");
            }
            let n = loaded.matcher.stats().indicators;
            tracing::info!(
                indicators = n,
                refused = loaded.refused.len(),
                "indicators loaded"
            );
            (
                Some(Arc::new(loaded.matcher)),
                json!({"indicators": n, "refused": loaded.refused.len()}),
            )
        };
        let model_digest = vigie_model::digest(&model);
        tracing::info!(
            rules = rules.len(),
            refused = report.refused.len(),
            assets = model.assets.len(),
            "rules and model loaded"
        );
        Ok(Engines {
            rules: Arc::new(rules),
            report,
            model: Arc::new(model),
            graph: Arc::new(graph),
            attack: Arc::new(attack),
            identities: Arc::new(identities),
            mapping: Arc::new(mapping),
            model_digest,
            intel,
            intel_summary,
        })
    }

    /// The matchers the detection session runs after the Sigma matcher (the indicators).
    pub fn extra(&self) -> Vec<Arc<dyn vigie_hunt::ExtraMatcher>> {
        self.intel
            .iter()
            .map(|m| m.clone() as Arc<dyn vigie_hunt::ExtraMatcher>)
            .collect()
    }

    /// What the API shows of it.
    pub fn loaded(&self, load_s: f64) -> Loaded {
        let rules = vigie_wire::v1::rules::RulesCheck::from_engine(
            &self.report,
            self.rules.digest(),
            load_s,
        );
        Loaded {
            rules: serde_json::to_value(rules).unwrap_or_default(),
            rules_digest: self.rules.digest().to_string(),
            model_summary: json!({
                "id": self.model.operator.name,
                "digest": self.model_digest,
                "assets": self.model.assets.len(),
                "zones": self.model.zones.len(),
                "flows": self.model.flows.len(),
                "services": self.model.services.len(),
            }),
            model: self.model.clone(),
            loaded_at: vigie_wire::rfc3339(&chrono::Utc::now()),
            rule_metas: self
                .rules
                .rule_ids()
                .map(|id| self.rules.meta(id).clone())
                .collect(),
        }
    }
}

fn load_rules(paths: &[PathBuf], defaults: &Defaults) -> Result<(RuleSet, LoadReport), ServeError> {
    let load =
        vigie_hunt::load_options(None, None).map_err(|e| ServeError::Rules(e.to_string()))?;
    let (rules, report) = if paths.is_empty() {
        RuleSet::load_files(defaults.rules, &load)
    } else {
        RuleSet::load(paths, &load).map_err(|e| ServeError::Rules(e.to_string()))?
    };
    vigie_hunt::log_load_report(&report);
    Ok((rules, report))
}
