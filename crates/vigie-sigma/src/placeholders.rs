//! Values for `|expand` placeholders (`%name%`), from a user YAML file:
//!
//! ```yaml
//! Administrators: ['adm_*', 'Administrator']
//! DomainControllers: dc01.corp.example
//! ```
//!
//! Each value is a Sigma string (wildcards allowed); a list means "any of".

use std::collections::BTreeMap;
use std::path::Path;

use crate::types::LoadError;
use crate::yaml::Y;

/// Placeholder name (without `%`) → values.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    map: BTreeMap<String, Vec<String>>,
}

impl Placeholders {
    /// Reads a placeholders file; errors name the file and, for YAML errors, the line.
    pub fn from_file(path: &Path) -> Result<Placeholders, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Placeholders::from_str(&text).map_err(|message| LoadError::Config {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses placeholders from YAML text.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Placeholders, String> {
        let doc = crate::yaml::parse(text, &crate::yaml::default_limits())
            .map_err(|e| e.to_string())?
            .unwrap_or(Y::Null);
        let mut map = BTreeMap::new();
        let Y::Mapping(m) = doc else {
            return Err("expected a mapping of placeholder name to value(s)".into());
        };
        for (k, v) in m {
            let Some(k) = k.as_str() else {
                return Err(format!("placeholder name {k:?} is not a string"));
            };
            let name = k.trim_matches('%').to_string();
            let vals = match v {
                Y::Sequence(s) => s
                    .iter()
                    .map(|x| scalar(x).ok_or_else(|| format!("{name}: values must be scalars")))
                    .collect::<Result<Vec<_>, _>>()?,
                x => vec![scalar(&x)
                    .ok_or_else(|| format!("{name}: value must be a scalar or a list"))?],
            };
            if vals.is_empty() {
                return Err(format!("{name}: empty list of values"));
            }
            map.insert(name, vals);
        }
        Ok(Placeholders { map })
    }

    /// Values of one placeholder.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.map.get(name).map(|v| v.as_slice())
    }

    /// Adds or replaces a placeholder (for callers building them in code).
    pub fn insert(&mut self, name: &str, values: Vec<String>) {
        self.map.insert(name.to_string(), values);
    }
}

fn scalar(v: &Y) -> Option<String> {
    match v {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_scalars() {
        let p = Placeholders::from_str("Admins: [a, 'b*']\n'%Servers%': srv01\nN: 3\n").unwrap();
        assert_eq!(
            p.get("Admins").unwrap(),
            &["a".to_string(), "b*".to_string()]
        );
        assert_eq!(p.get("Servers").unwrap(), &["srv01".to_string()]);
        assert_eq!(p.get("N").unwrap(), &["3".to_string()]);
        assert!(p.get("x").is_none());
        assert!(Placeholders::from_str("- a").is_err());
        assert!(Placeholders::from_str("a: {b: c}").is_err());
        assert!(Placeholders::from_str("a: [").unwrap_err().contains("line"));
    }
}
