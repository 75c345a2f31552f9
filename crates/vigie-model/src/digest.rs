//! The stable identity of a model: `sha256:` over its canonical JSON. Reports, stored
//! incidents and wire messages name a model by this digest and its assets by their ids,
//! never by positions (node numbers change when an asset is added).

use sha2::{Digest, Sha256};

use crate::Model;

/// `sha256:<hex>` of the model's canonical JSON (fields in declaration order, no
/// whitespace): the same model, whether read from YAML or JSON, with or without
/// defaults spelt out, gives the same digest; any change to it changes the digest.
pub fn digest(model: &Model) -> String {
    let mut h = Sha256::new();
    {
        // Buffered: serde writes token by token, and one hasher update per token costs
        // more than the hashing itself (0.31 s -> see bench/RESULTS.md, 1M assets).
        let mut w = std::io::BufWriter::with_capacity(1 << 16, HashWriter(&mut h));
        // Serializing plain data into a hasher cannot fail: no maps with non-string keys.
        let ok = serde_json::to_writer(&mut w, model).is_ok();
        if !ok || std::io::Write::flush(&mut w).is_err() {
            tracing::warn!("model digest: serialization failed; digest covers a prefix");
        }
    }
    let bytes = h.finalize();
    use std::fmt::Write as _;
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.update(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_model_same_digest_any_change_changes_it() {
        let a = crate::demo();
        let d = digest(&a);
        assert!(d.starts_with("sha256:") && d.len() == 71, "{d}");
        // Through YAML and back: same model, same digest.
        let again = crate::load_str(crate::DEMO_YAML, "demo.yaml", crate::Format::Yaml)
            .expect("demo loads");
        assert_eq!(digest(&again.model), d);
        let json = serde_json::to_string(&a).expect("json");
        let from_json =
            crate::load_str(&json, "demo.json", crate::Format::Json).expect("json loads");
        assert_eq!(digest(&from_json.model), d);
        let mut b = a.clone();
        b.assets[0].id.push('x');
        assert_ne!(digest(&b), d);
    }
}
