//! The documents the field walk reads, behind one trait: a `serde_json::Value`, or a
//! [`Node`] tree, the lighter form the EVTX reader builds.
//!
//! A `Node` object is a list of members, where a `serde_json::Map` is a hash table with a
//! hashed key per member: building and dropping those tables was a third of reading an
//! EVTX record, and matching only ever walks members in order. The walk in `event.rs` is
//! written once over [`Tree`], so both forms give the same names by construction.

use serde_json::{Map, Value};

/// A JSON document whose objects are member lists (keys distinct) and whose other values
/// are `serde_json::Value` scalars. Arrays are not represented: the reader leaves
/// records with arrays to the `Value` path.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Leaf(Value),
    Object(Vec<(Box<str>, Node)>),
}

impl Node {
    /// The document as a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Node::Leaf(v) => v.clone(),
            Node::Object(members) => {
                let mut m = Map::with_capacity(members.len());
                for (k, c) in members {
                    m.insert(k.to_string(), c.to_value());
                }
                Value::Object(m)
            }
        }
    }
}

/// What the field walk needs of a document node.
pub(crate) trait Tree<'a>: Copy + 'a {
    /// The members, when the node is an object.
    fn members(self) -> Option<impl Iterator<Item = (&'a str, Self)>>;
    /// The node as a value; only asked of nodes that are not objects.
    fn value(self) -> &'a Value;

    fn get(self, key: &str) -> Option<Self> {
        self.members()?.find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

impl<'a> Tree<'a> for &'a Value {
    fn members(self) -> Option<impl Iterator<Item = (&'a str, Self)>> {
        match self {
            Value::Object(m) => Some(m.iter().map(|(k, v)| (k.as_str(), v))),
            _ => None,
        }
    }

    fn value(self) -> &'a Value {
        self
    }
}

/// What [`Tree::value`] answers for a `Node` object (never asked by the walk).
static NULL: Value = Value::Null;

impl<'a> Tree<'a> for &'a Node {
    fn members(self) -> Option<impl Iterator<Item = (&'a str, Self)>> {
        match self {
            Node::Object(m) => Some(m.iter().map(|(k, v)| (&**k, v))),
            Node::Leaf(_) => None,
        }
    }

    fn value(self) -> &'a Value {
        match self {
            Node::Leaf(v) => v,
            Node::Object(_) => &NULL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_value_keeps_order_and_leaves() {
        let n = Node::Object(vec![
            ("b".into(), Node::Leaf(Value::from(1))),
            (
                "a".into(),
                Node::Object(vec![("x".into(), Node::Leaf(Value::from("y")))]),
            ),
        ]);
        assert_eq!(n.to_value().to_string(), r#"{"b":1,"a":{"x":"y"}}"#);
        assert_eq!((&n).get("b").map(Tree::value), Some(&Value::from(1)));
        assert!((&n).get("a").is_some_and(|a| a.members().is_some()));
        assert!((&n).get("c").is_none());
    }
}
