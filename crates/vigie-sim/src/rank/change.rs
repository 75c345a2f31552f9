//! One single change to the model or the detection model, and how it is applied.

use serde::Serialize;
use vigie_model::Model;

/// The families of change `rank` tries, in the order they are listed and tie-broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Turn on EDR on an asset (`controls.edr`).
    Edr,
    /// Enforce MFA on logons to an asset (`controls.mfa`).
    Mfa,
    /// Ship one more log source from an asset (`telemetry`).
    Telemetry,
    /// Write a detection rule for a technique no loaded rule covers.
    Rule,
    /// Patch (remove) one vulnerability of an asset.
    Patch,
    /// Remove a zone-to-zone flow.
    Flow,
}

impl ChangeKind {
    /// Every kind, in order.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Edr,
        ChangeKind::Mfa,
        ChangeKind::Telemetry,
        ChangeKind::Rule,
        ChangeKind::Patch,
        ChangeKind::Flow,
    ];

    /// The spelling of `--kinds`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Edr => "edr",
            ChangeKind::Mfa => "mfa",
            ChangeKind::Telemetry => "telemetry",
            ChangeKind::Rule => "rule",
            ChangeKind::Patch => "patch",
            ChangeKind::Flow => "flow",
        }
    }

    /// Parse the spelling of `--kinds` (case-insensitive).
    pub fn parse(s: &str) -> Option<ChangeKind> {
        let s = s.trim().to_ascii_lowercase();
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One single change. Ids are the model's (assets, flows) and ATT&CK technique ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// `controls.edr = true` on the asset: credential theft there is `edr_factor` times
    /// slower and the EDR detector watches the steps into it.
    Edr { asset: String },
    /// `controls.mfa = true` on the asset: valid-account logons to it are `mfa_factor`
    /// times slower.
    Mfa { asset: String },
    /// The asset ships `source` too (it is added to its `telemetry` list).
    Telemetry { asset: String, source: String },
    /// A rule detecting `technique` is added to the loaded ones
    /// (`DetectionModel::with_rule_for`).
    Rule { technique: String },
    /// The vulnerability is patched: removed from the asset.
    Patch {
        asset: String,
        vulnerability: String,
    },
    /// The flow is removed from the model.
    Flow { flow: String },
}

impl Change {
    /// Its family.
    pub fn kind(&self) -> ChangeKind {
        match self {
            Change::Edr { .. } => ChangeKind::Edr,
            Change::Mfa { .. } => ChangeKind::Mfa,
            Change::Telemetry { .. } => ChangeKind::Telemetry,
            Change::Rule { .. } => ChangeKind::Rule,
            Change::Patch { .. } => ChangeKind::Patch,
            Change::Flow { .. } => ChangeKind::Flow,
        }
    }

    /// What a person reads: "EDR on dc-1", "patch CVE-2024-1 on vpn-1"...
    pub fn describe(&self) -> String {
        match self {
            Change::Edr { asset } => format!("EDR on {asset}"),
            Change::Mfa { asset } => format!("MFA on {asset}"),
            Change::Telemetry { asset, source } => format!("{source} telemetry from {asset}"),
            Change::Rule { technique } => format!("a rule for {technique}"),
            Change::Patch {
                asset,
                vulnerability,
            } => format!("patch {vulnerability} on {asset}"),
            Change::Flow { flow } => format!("remove flow {flow}"),
        }
    }

    /// Whether the change edits the operator model (all but [`Change::Rule`], which
    /// edits the detection model only).
    pub fn edits_model(&self) -> bool {
        !matches!(self, Change::Rule { .. })
    }

    /// The model with the change applied (a clone; a rule leaves the model as it is).
    /// `None` when the change does not apply: an unknown id, or nothing to change (EDR
    /// already there, the source already shipped...), so a no-op is never simulated.
    pub fn apply(&self, model: &Model) -> Option<Model> {
        let asset_pos = |id: &str| model.assets.iter().position(|a| a.id == id);
        let mut m = model.clone();
        match self {
            Change::Edr { asset } => {
                let a = &mut m.assets[asset_pos(asset)?];
                if a.controls.edr {
                    return None;
                }
                a.controls.edr = true;
            }
            Change::Mfa { asset } => {
                let a = &mut m.assets[asset_pos(asset)?];
                if a.controls.mfa || a.kind.is_identity() {
                    return None;
                }
                a.controls.mfa = true;
            }
            Change::Telemetry { asset, source } => {
                let a = &mut m.assets[asset_pos(asset)?];
                // Telemetry not stated means every source is assumed shipped already.
                let list = a.telemetry.as_mut()?;
                if list.iter().any(|s| s.eq_ignore_ascii_case(source)) {
                    return None;
                }
                list.push(source.clone());
            }
            Change::Rule { .. } => {}
            Change::Patch {
                asset,
                vulnerability,
            } => {
                let a = &mut m.assets[asset_pos(asset)?];
                let v = a
                    .vulnerabilities
                    .iter()
                    .position(|v| &v.id == vulnerability)?;
                a.vulnerabilities.remove(v);
            }
            Change::Flow { flow } => {
                let f = m.flows.iter().position(|f| &f.id() == flow)?;
                m.flows.remove(f);
            }
        }
        Some(m)
    }
}
