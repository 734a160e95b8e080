//! An order-preserving JSON tree, so that proto map fields can be printed
//! with sorted keys (as grpcurl prints them) while message fields keep
//! their field-number order. prost-reflect keeps map fields in a hash map,
//! whose order changes from run to run.

use std::fmt;

use prost_reflect::{Kind, MessageDescriptor};
use serde::{
    de::{self, MapAccess, SeqAccess, Visitor},
    ser::{SerializeMap, SerializeSeq},
    Deserialize, Deserializer, Serialize, Serializer,
};

/// A JSON value whose objects keep their key order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object, in its original key order.
    Object(Vec<(String, Node)>),
}

impl Node {
    /// Sorts the keys of every proto map field below a message of type
    /// `message` (string keys as strings, integer keys by value, as Go's
    /// protojson orders them).
    pub(crate) fn sort_maps(&mut self, message: &MessageDescriptor) {
        let Node::Object(fields) = self else {
            return;
        };
        for (name, value) in fields.iter_mut() {
            let Some(field) = message.get_field_by_json_name(name) else {
                continue;
            };
            let Kind::Message(field_type) = field.kind() else {
                continue;
            };
            if field.is_map() {
                let Node::Object(entries) = value else {
                    continue;
                };
                entries.sort_by(
                    |(a, _), (b, _)| match (a.parse::<i128>(), b.parse::<i128>()) {
                        (Ok(a), Ok(b)) => a.cmp(&b),
                        _ => a.cmp(b),
                    },
                );
                if let Kind::Message(value_type) = field_type.map_entry_value_field().kind() {
                    for (_, entry) in entries.iter_mut() {
                        entry.sort_maps(&value_type);
                    }
                }
            } else if let Node::Array(items) = value {
                for item in items {
                    item.sort_maps(&field_type);
                }
            } else {
                value.sort_maps(&field_type);
            }
        }
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => serializer.serialize_unit(),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Number(n) => n.serialize(serializer),
            Node::String(s) => serializer.serialize_str(s),
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// Builds a [`Node`] from any self-describing format.
struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        serde_json::Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom("a non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            entries.push((key, value));
        }
        Ok(Node::Object(entries))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_their_order() {
        let node: Node = serde_json::from_str(r#"{"b":1,"a":[true,null,"x",2.5]}"#).expect("ok");
        assert_eq!(
            serde_json::to_string(&node).expect("json"),
            r#"{"b":1,"a":[true,null,"x",2.5]}"#
        );
    }
}
