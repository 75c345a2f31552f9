//! TLP 2.0 markings: the marking-definition objects OASIS publishes for them
//! (`cti-stix-common-objects`, `extension-definition-specifications/tlp-2.0`), with their
//! fixed ids, creation time and the TLP 2.0 property extension.

use serde_json::{json, Value};

/// The TLP 2.0 property extension every TLP 2.0 marking-definition carries.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// A TLP 2.0 level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// `clear`, `green`, `amber`, `amber+strict`, `red` (the extension's `tlp_2_0`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Reads `clear`, `green`, `amber`, `amber+strict` (or `amber-strict`), `red`, with
    /// or without a `tlp:` prefix, any case.
    pub fn parse(s: &str) -> Option<Tlp> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_prefix("tlp:").unwrap_or(&t);
        Tlp::ALL
            .into_iter()
            .find(|l| l.as_str() == t || (t == "amber-strict" && *l == Tlp::AmberStrict))
    }

    /// The published marking-definition id.
    pub fn marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// `TLP:AMBER+STRICT` and so on.
    pub fn name(self) -> String {
        format!("TLP:{}", self.as_str().to_ascii_uppercase())
    }

    /// The published marking-definition object.
    pub fn marking_definition(self) -> Value {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.marking_id(),
            "created": "2022-10-01T00:00:00.000Z",
            "name": self.name(),
            "extensions": {
                TLP2_EXTENSION: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.as_str(),
                }
            }
        })
    }
}

impl std::fmt::Display for Tlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips() {
        for l in Tlp::ALL {
            assert_eq!(Tlp::parse(l.as_str()), Some(l));
            assert_eq!(Tlp::parse(&l.name()), Some(l));
        }
        assert_eq!(Tlp::parse("white"), None);
    }
}
