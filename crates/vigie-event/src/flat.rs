//! A JSON object whose members are scalars (or lists of scalars), kept as a list instead
//! of a map.
//!
//! Most structured logs (Sysmon or Windows events exported with flat Sigma names,
//! syslog-to-JSON, CSV-to-JSON) are such objects. Matching only ever walks their members
//! in order, so building a `serde_json::Map` for them (a hash table per record, a hash
//! per key) is work nobody uses: reading keeps them as this list, and a `Map` is built
//! only when a caller asks for the whole document ([`crate::Event::doc`]).

use serde_json::{Map, Value};

/// The members of one flat JSON object, in document order, with distinct keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatDoc {
    /// Every key, one after the other.
    keys: String,
    /// Per member: where its key ends in `keys` (it starts where the previous one ends)
    /// and its value (never an object; a list only of scalars, as the auditd reader
    /// gives a field several records share).
    members: Vec<(u32, Value)>,
}

impl FlatDoc {
    pub(crate) fn with_capacity(members: usize, key_bytes: usize) -> FlatDoc {
        FlatDoc {
            keys: String::with_capacity(key_bytes),
            members: Vec::with_capacity(members),
        }
    }

    /// The buffer the next key is appended to, before [`FlatDoc::push`].
    pub(crate) fn key_buf(&mut self) -> &mut String {
        &mut self.keys
    }

    /// Adds a member whose key was just appended to [`FlatDoc::key_buf`]. `false` when
    /// the keys have outgrown the offsets (over 4 GiB), which readers never allow.
    pub(crate) fn push(&mut self, value: Value) -> bool {
        match u32::try_from(self.keys.len()) {
            Ok(end) => {
                self.members.push((end, value));
                true
            }
            Err(_) => false,
        }
    }

    /// The key of member `i` (in document order).
    pub(crate) fn key_at(&self, i: usize) -> Option<&str> {
        let end = self.members.get(i)?.0 as usize;
        let start = match i {
            0 => 0,
            _ => self.members.get(i - 1)?.0 as usize,
        };
        self.keys.get(start..end)
    }

    /// The value of member `i` (in document order), to change it in place.
    pub(crate) fn value_mut(&mut self, i: usize) -> Option<&mut Value> {
        self.members.get_mut(i).map(|(_, v)| v)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let mut start = 0usize;
        self.members.iter().map(move |(end, v)| {
            let end = *end as usize;
            let k = self.keys.get(start..end).unwrap_or("");
            start = end;
            (k, v)
        })
    }

    /// Every key, one after the other (with [`FlatDoc::key_ends`], the key list: two
    /// records with equal lists have the same keys in the same order).
    pub fn key_text(&self) -> &str {
        &self.keys
    }

    /// Where each key ends in [`FlatDoc::key_text`].
    pub fn key_ends(&self) -> impl Iterator<Item = u32> + '_ {
        self.members.iter().map(|(end, _)| *end)
    }

    /// The value of a member.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Whether two members share a key (a JSON object keeps the last value of such a
    /// key at the place of the first, which this list does not model).
    pub(crate) fn has_duplicate_keys(&self) -> bool {
        // Records of one source mostly have one of a few key lists (one per event
        // type): the last key lists found distinct are remembered per thread, and
        // comparing with them settles most records.
        const KEPT: usize = 16;
        type Seen = (Vec<(String, Vec<u32>)>, usize);
        thread_local! {
            static SEEN: std::cell::RefCell<Seen> = Default::default();
        }
        let same = |(keys, ends): &(String, Vec<u32>)| {
            *keys == self.keys
                && ends.len() == self.members.len()
                && ends.iter().zip(&self.members).all(|(a, (b, _))| a == b)
        };
        if SEEN.with(|s| s.try_borrow().is_ok_and(|s| s.0.iter().any(same))) {
            return false;
        }
        let dup = self.search_duplicate_keys();
        if !dup {
            SEEN.with(|s| {
                if let Ok(mut s) = s.try_borrow_mut() {
                    let entry = (
                        self.keys.clone(),
                        self.members.iter().map(|(end, _)| *end).collect(),
                    );
                    let (lists, next) = &mut *s;
                    if lists.len() < KEPT {
                        lists.push(entry);
                    } else {
                        lists[*next % KEPT] = entry;
                        *next = next.wrapping_add(1);
                    }
                }
            });
        }
        dup
    }

    fn search_duplicate_keys(&self) -> bool {
        const SMALL: usize = 32;
        if self.members.len() > SMALL {
            let mut seen = rustc_hash::FxHashSet::default();
            return !self.iter().all(|(k, _)| seen.insert(k));
        }
        // A signature per key (length, first, middle and last byte); keys are compared
        // only when their signatures are equal, which distinct keys rarely have.
        let mut sigs = [0u64; SMALL];
        for (n, (k, _)) in self.iter().enumerate() {
            let kb = k.as_bytes();
            let at = |i: usize| u64::from(kb.get(i).copied().unwrap_or(0));
            let sig = kb.len() as u64
                | at(0) << 32
                | at(kb.len() / 2) << 40
                | at(kb.len().wrapping_sub(1)) << 48;
            if let Some(j) = sigs[..n].iter().position(|s| *s == sig) {
                if self.iter().skip(j).take(n - j).any(|(other, _)| other == k) {
                    return true;
                }
            }
            sigs[n] = sig;
        }
        false
    }

    /// The object as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        let mut m = Map::with_capacity(self.members.len());
        for (k, v) in self.iter() {
            m.insert(k.to_owned(), v.clone());
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(members: &[(&str, Value)]) -> FlatDoc {
        let mut d = FlatDoc::default();
        for (k, v) in members {
            d.key_buf().push_str(k);
            assert!(d.push(v.clone()));
        }
        d
    }

    #[test]
    fn members_in_order_with_their_keys() {
        let d = doc(&[
            ("a", Value::from(1)),
            ("", Value::Null),
            ("bc", Value::from("x")),
        ]);
        let got: Vec<(&str, &Value)> = d.iter().collect();
        assert_eq!(
            got,
            vec![
                ("a", &Value::from(1)),
                ("", &Value::Null),
                ("bc", &Value::from("x"))
            ]
        );
        assert_eq!(d.get("bc"), Some(&Value::from("x")));
        assert_eq!(d.get("b"), None);
        assert_eq!(d.to_value().to_string(), r#"{"a":1,"":null,"bc":"x"}"#);
        assert!(!d.has_duplicate_keys());
    }

    #[test]
    fn duplicate_keys_are_seen_in_small_and_big_objects() {
        assert!(
            doc(&[("a", Value::Null), ("b", Value::Null), ("a", Value::Null)]).has_duplicate_keys()
        );
        let mut big: Vec<(String, Value)> =
            (0..100).map(|i| (format!("k{i}"), Value::Null)).collect();
        let refs: Vec<(&str, Value)> = big.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert!(!doc(&refs).has_duplicate_keys());
        big.push(("k7".into(), Value::Null));
        let refs: Vec<(&str, Value)> = big.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert!(doc(&refs).has_duplicate_keys());
    }
}
