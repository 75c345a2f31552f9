//! Deterministic STIX identifiers.
//!
//! - SDOs, SROs and the bundle: `<type>--` + the UUIDv5 of `"<type>:<stable key>"` in
//!   [`VIGIE_NAMESPACE`] with its version nibble set to 4 ([`sdo_id`]). STIX 2.1 says
//!   these objects SHOULD use UUIDv4 (section 2.9) and `stix2-validator --strict`
//!   rejects any other version; a v4 UUID is 122 bits that are meant to be random, and
//!   the 122 bits of a SHA-1 name hash are as good as random while staying the same for
//!   the same key. (Never the SCO namespace: the spec forbids it for these objects.)
//! - Cyber-observables (SCOs): STIX 2.1 section 2.9, "Identifier" of SCOs: UUIDv5 with the
//!   namespace [`SCO_NAMESPACE`] over the canonical JSON (RFC 8785) of the object's ID
//!   contributing properties for its type ([`id_contributing`]); of `hashes`, a single
//!   hash, chosen in the order MD5, SHA-1, SHA-256, SHA-512 (then the first name in
//!   canonical order); a type with no ID contributing property present gets no
//!   deterministic id ([`sco_id`] returns `None`: vigie builds no such SCO).

use serde_json::Value;
use uuid::Uuid;

use super::VIGIE_NAMESPACE;

/// The namespace STIX 2.1 gives for SCO identifiers (section 2.9).
pub const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);

/// `<type>--` + `uuid5(VIGIE_NAMESPACE, "<type>:<key>")` in version-4 form (see the
/// module docs).
pub fn sdo_id(ty: &str, key: &str) -> String {
    let mut name = String::with_capacity(ty.len() + 1 + key.len());
    name.push_str(ty);
    name.push(':');
    name.push_str(key);
    let v5 = Uuid::new_v5(&VIGIE_NAMESPACE, name.as_bytes());
    let v4 = uuid::Builder::from_bytes(*v5.as_bytes())
        .with_version(uuid::Version::Random)
        .with_variant(uuid::Variant::RFC4122)
        .into_uuid();
    format!("{ty}--{v4}")
}

/// The ID contributing properties of an SCO type (STIX 2.1, each object's
/// "ID Contributing Properties"); empty for types that have none (e.g. `process`).
pub fn id_contributing(ty: &str) -> &'static [&'static str] {
    match ty {
        "artifact" => &["hashes", "payload_bin"],
        "autonomous-system" => &["number"],
        "directory" => &["path"],
        "domain-name" | "email-addr" | "ipv4-addr" | "ipv6-addr" | "mac-addr" | "url" => &["value"],
        "email-message" => &["from_ref", "subject", "body"],
        "file" => &["hashes", "name", "extensions", "parent_directory_ref"],
        "mutex" => &["name"],
        "network-traffic" => &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
        "software" => &["name", "cpe", "swid", "vendor", "version"],
        "user-account" => &["account_type", "user_id", "account_login"],
        "windows-registry-key" => &["key", "values"],
        "x509-certificate" => &["hashes", "serial_number"],
        _ => &[],
    }
}

/// Order in which one hash of a `hashes` dictionary is picked for an id.
const HASH_ORDER: [&str; 4] = ["MD5", "SHA-1", "SHA-256", "SHA-512"];

/// The id of SCO `obj` (a JSON object with its `type`): `None` when the type has no
/// ID contributing property present (STIX then asks for a UUIDv4, which would not be
/// deterministic) or `obj` has no string `type`.
pub fn sco_id(obj: &Value) -> Option<String> {
    let ty = obj.get("type")?.as_str()?;
    let mut contributing = serde_json::Map::new();
    for &p in id_contributing(ty) {
        let Some(v) = obj.get(p) else { continue };
        if p == "hashes" {
            if let Some(one) = one_hash(v) {
                contributing.insert(p.to_string(), one);
            }
            continue;
        }
        contributing.insert(p.to_string(), v.clone());
    }
    if contributing.is_empty() {
        return None;
    }
    let text = canonical_json(&Value::Object(contributing));
    Some(format!(
        "{ty}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, text.as_bytes())
    ))
}

fn one_hash(v: &Value) -> Option<Value> {
    let m = v.as_object()?;
    let pick = HASH_ORDER
        .iter()
        .find_map(|k| m.get_key_value(*k))
        .or_else(|| m.iter().min_by(|a, b| utf16_cmp(a.0, b.0)))?;
    let mut one = serde_json::Map::new();
    one.insert(pick.0.clone(), pick.1.clone());
    Some(Value::Object(one))
}

/// RFC 8785 (JSON Canonicalization Scheme) text of `v`: members sorted by the UTF-16
/// code units of their names, no white space, strings with the minimal escapes, numbers
/// as ECMAScript prints them (integers exactly; other finite numbers in the shortest
/// round-trip form).
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(&mut out, v);
    out
}

fn write_canonical(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| utf16_cmp(a, b));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                if let Some(x) = m.get(*k) {
                    write_canonical(out, x);
                }
            }
            out.push('}');
        }
    }
}

fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&es_number(f));
    }
}

/// ECMAScript `Number.prototype.toString` of a finite double (RFC 8785 section 3.2.2.3).
fn es_number(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    // Shortest round-trip digits and exponent, from Rust's `{:e}` (also shortest).
    let sci = format!("{f:e}");
    let (mant, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(&digits);
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-n) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if n > 0 { '+' } else { '-' });
        s.push_str(&(n - 1).abs().to_string());
    }
    s
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{09}' => out.push_str("\\t"),
            '\u{0a}' => out.push_str("\\n"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{0d}' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_and_escapes() {
        let v = json!({"b": [1, "x\n\"y\""], "a": {"z": true, "é": null, "A": 1.5}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"A":1.5,"z":true,"é":null},"b":[1,"x\n\"y\""]}"#
        );
    }

    #[test]
    fn es_numbers() {
        for (f, s) in [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (123.456, "123.456"),
            (-0.5, "-0.5"),
        ] {
            assert_eq!(es_number(f), s, "{f}");
        }
    }

    #[test]
    fn sdo_ids_are_stable_v4() {
        let a = sdo_id("incident", "inc-0123456789abcdef");
        assert_eq!(a, sdo_id("incident", "inc-0123456789abcdef"));
        assert_ne!(a, sdo_id("incident", "inc-0123456789abcdee"));
        let u = Uuid::parse_str(a.trim_start_matches("incident--")).unwrap();
        assert_eq!(u.get_version(), Some(uuid::Version::Random));
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
    }

    #[test]
    fn hash_choice_follows_the_order() {
        let f = json!({"type": "file", "hashes": {"SHA-256": "ab", "MD5": "cd"}});
        let g = json!({"type": "file", "hashes": {"MD5": "cd"}});
        assert_eq!(sco_id(&f), sco_id(&g));
        assert!(sco_id(&json!({"type": "process", "pid": 4})).is_none());
    }
}
