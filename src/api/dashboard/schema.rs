//! The page's view of the contract: every message's fields and every
//! enum's names, taken from the descriptor set the binary serves for
//! reflection. The page decodes the watch stream with it, so a field added
//! to the protos reaches the page without touching its code.

use std::collections::BTreeMap;

use prost::Message as _;
use prost_types::{field_descriptor_proto::Type, DescriptorProto, FileDescriptorSet};
use serde::Serialize;

/// One field: `[number, jsonName, kind, typeName, repeated]`, with
/// `typeName` the fully qualified message or enum name (empty for
/// scalars).
type Field = (i32, String, &'static str, String, bool);

/// Messages and enums by fully qualified name (without the leading dot).
#[derive(Debug, Default, Serialize)]
struct Schema {
    /// Fields of each message.
    messages: BTreeMap<String, Vec<Field>>,
    /// Map-entry messages (`map<K, V>` fields decode to objects).
    maps: Vec<String>,
    /// Names of each enum's values by number.
    enums: BTreeMap<String, BTreeMap<i32, String>>,
}

/// The schema of `descriptor_sets` (encoded `FileDescriptorSet`s) as JSON.
pub fn schema_json(descriptor_sets: &[&[u8]]) -> Result<String, String> {
    let mut schema = Schema::default();
    for encoded in descriptor_sets {
        let set = FileDescriptorSet::decode(*encoded).map_err(|e| e.to_string())?;
        for file in set.file {
            let package = file.package().to_owned();
            for message in &file.message_type {
                schema.add_message(&package, message);
            }
            for kind in &file.enum_type {
                schema.add_enum(&package, kind);
            }
        }
    }
    serde_json::to_string(&schema).map_err(|e| e.to_string())
}

impl Schema {
    fn add_message(&mut self, scope: &str, message: &DescriptorProto) {
        let name = qualified(scope, message.name());
        let fields = message
            .field
            .iter()
            .map(|field| {
                let type_name = field.type_name().trim_start_matches('.').to_owned();
                (
                    field.number(),
                    field.json_name().to_owned(),
                    kind(field.r#type()),
                    type_name,
                    field.label() == prost_types::field_descriptor_proto::Label::Repeated,
                )
            })
            .collect();
        if message.options.as_ref().is_some_and(|o| o.map_entry()) {
            self.maps.push(name.clone());
        }
        for nested in &message.nested_type {
            self.add_message(&name, nested);
        }
        for kind in &message.enum_type {
            self.add_enum(&name, kind);
        }
        self.messages.insert(name, fields);
    }

    fn add_enum(&mut self, scope: &str, kind: &prost_types::EnumDescriptorProto) {
        let values = kind
            .value
            .iter()
            .map(|v| (v.number(), v.name().to_owned()))
            .collect();
        self.enums.insert(qualified(scope, kind.name()), values);
    }
}

fn qualified(scope: &str, name: &str) -> String {
    match scope {
        "" => name.to_owned(),
        scope => format!("{scope}.{name}"),
    }
}

/// How the page decodes a field of type `t` off the wire.
fn kind(t: Type) -> &'static str {
    match t {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 | Type::Uint64 => "uint64",
        Type::Sint64 => "sint64",
        Type::Int32 => "int32",
        Type::Uint32 => "uint32",
        Type::Sint32 => "sint32",
        Type::Fixed64 | Type::Sfixed64 => "fixed64",
        Type::Fixed32 | Type::Sfixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Bytes => "bytes",
        Type::Enum => "enum",
        Type::Message | Type::Group => "message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_names_the_watch_messages_and_the_well_known_types() {
        let json = schema_json(&[crate::pb::FILE_DESCRIPTOR_SET]).expect("schema");
        let schema: serde_json::Value = serde_json::from_str(&json).expect("json");
        let event = &schema["messages"]["cutover.v1.LifecycleEvent"];
        assert!(
            event
                .as_array()
                .expect("fields")
                .iter()
                .any(|f| f[0] == 9 && f[1] == "sourceServer" && f[3] == "cutover.v1.SourceServer"),
            "{event}"
        );
        assert_eq!(
            schema["enums"]["cutover.v1.LifeCycleState"]["0"],
            "LIFE_CYCLE_STATE_UNSPECIFIED"
        );
        assert!(schema["maps"]
            .as_array()
            .expect("maps")
            .contains(&serde_json::json!("cutover.v1.SourceServer.TagsEntry")));
        assert!(schema["messages"]["google.protobuf.Timestamp"].is_array());
    }
}
