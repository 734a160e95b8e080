//! Output formats: human tables, the proto3 JSON mapping (what grpcurl
//! prints) and the same data as YAML. JSON and YAML come from a
//! `prost_reflect::DynamicMessage` decoded from the message's bytes with the
//! descriptors in `cutover_proto::FILE_DESCRIPTOR_SET`. As grpcurl prints
//! them: fields in field-number order, map keys sorted, whole floating-point
//! numbers without a fraction.

use std::{
    io::{self, Write},
    sync::OnceLock,
};

use clap::ValueEnum;
use cutover_proto::{v1 as pb, FILE_DESCRIPTOR_SET};
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage};
use serde_json::ser::{CompactFormatter, PrettyFormatter};

use crate::{errors::CliError, json, tree::Node};

/// How results are printed (`-o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    Table,
    /// The proto3 JSON mapping (lowerCamelCase names, enums by full name).
    Json,
    /// The JSON mapping's data as YAML.
    Yaml,
}

/// A generated message and its full proto name.
pub(crate) trait Proto: prost::Message {
    /// `cutover.v1.Name`.
    const FULL_NAME: &'static str;
}

/// Implements [`Proto`] for generated messages of `cutover.v1`.
macro_rules! proto_names {
    ($($name:ident),* $(,)?) => {
        $(impl Proto for pb::$name {
            const FULL_NAME: &'static str = concat!("cutover.v1.", stringify!($name));
        })*
    };
}

proto_names!(
    InitializeServiceResponse,
    SourceServer,
    DescribeSourceServersResponse,
    StartTestResponse,
    StartCutoverResponse,
    ReplicationJob,
    DescribeReplicationJobsResponse,
    CreateReplicationJobResponse,
    StartReplicationJobResponse,
    StopReplicationJobResponse,
    CutOverReplicationJobResponse,
    WatchLifecycleEventsResponse,
);

/// The descriptor pool of the cutover protos, decoded once.
fn pool() -> Result<&'static DescriptorPool, CliError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|err| CliError::Other(format!("the embedded descriptor set: {err}")))
}

/// `message` as a dynamic message of its proto type.
fn dynamic<M: Proto>(message: &M) -> Result<DynamicMessage, CliError> {
    let descriptor = pool()?
        .get_message_by_name(M::FULL_NAME)
        .ok_or_else(|| CliError::Other(format!("no descriptor for {}", M::FULL_NAME)))?;
    DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|err| CliError::Other(format!("decoding {}: {err}", M::FULL_NAME)))
}

/// The proto3 JSON mapping of `message` as an order-preserving tree, map
/// fields sorted by key.
fn tree<M: Proto>(message: &M) -> Result<Node, CliError> {
    let dynamic = dynamic(message)?;
    let text = serde_json::to_string(&dynamic)
        .map_err(|err| CliError::Other(format!("JSON encoding: {err}")))?;
    let mut node: Node = serde_json::from_str(&text)
        .map_err(|err| CliError::Other(format!("JSON re-reading: {err}")))?;
    node.sort_maps(&dynamic.descriptor());
    Ok(node)
}

/// The proto3 JSON mapping of `message`, indented as grpcurl does.
pub(crate) fn json_pretty<M: Proto>(message: &M) -> Result<String, CliError> {
    json::to_string(&tree(message)?, PrettyFormatter::new())
        .map_err(|err| CliError::Other(format!("JSON encoding: {err}")))
}

/// The proto3 JSON mapping of `message` on one line.
pub(crate) fn json_line<M: Proto>(message: &M) -> Result<String, CliError> {
    json::to_string(&tree(message)?, CompactFormatter)
        .map_err(|err| CliError::Other(format!("JSON encoding: {err}")))
}

/// The JSON mapping's data as a YAML document (without the `---` marker).
pub(crate) fn yaml<M: Proto>(message: &M) -> Result<String, CliError> {
    serde_yaml_ng::to_string(&tree(message)?)
        .map_err(|err| CliError::Other(format!("YAML encoding: {err}")))
}

/// Prints `message` as `format` says; `table` renders the human form.
pub(crate) fn print_message<M: Proto>(
    format: Format,
    message: &M,
    table: impl FnOnce(&M) -> String,
) -> Result<(), CliError> {
    let text = match format {
        Format::Table => table(message),
        Format::Json => json_pretty(message)? + "\n",
        Format::Yaml => yaml(message)?,
    };
    write_stdout(&text)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(CliError::Other(format!("writing to stdout: {err}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> pb::SourceServer {
        pb::SourceServer {
            source_server_id: "s-0123456789abcdefg".into(),
            life_cycle: Some(pb::LifeCycle {
                state: pb::LifeCycleState::ReadyForTest as i32,
                ..Default::default()
            }),
            data_replication_info: Some(pb::DataReplicationInfo {
                replicated_disks: vec![pb::ReplicatedDisk {
                    device_name: "/dev/sda".into(),
                    total_storage_bytes: Some(10),
                    ..Default::default()
                }],
                lag_duration: Some(prost_types::Duration {
                    seconds: 1,
                    nanos: 500_000_000,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn json_is_the_proto3_mapping() {
        let text = json_pretty(&server()).expect("json");
        let value: serde_json::Value = serde_json::from_str(&text).expect("parses");
        assert_eq!(value["sourceServerId"], "s-0123456789abcdefg");
        assert_eq!(
            value["lifeCycle"]["state"],
            "LIFE_CYCLE_STATE_READY_FOR_TEST"
        );
        let info = &value["dataReplicationInfo"];
        assert_eq!(info["replicatedDisks"][0]["totalStorageBytes"], "10");
        assert_eq!(info["lagDuration"], "1.500s");
        assert!(value.get("isArchived").is_none(), "defaults are omitted");
        assert!(text.starts_with("{\n  \"sourceServerId\""), "{text}");
        let job = pb::ReplicationJob {
            progress: 75.0,
            ..Default::default()
        };
        assert_eq!(json_line(&job).expect("json"), r#"{"progress":75}"#);
        let mut tagged = server();
        for key in ["zeta", "alpha", "mid", "beta", "omega", "kappa"] {
            tagged.tags.insert(key.to_owned(), "v".to_owned());
        }
        for _ in 0..5 {
            let text = json_line(&tagged).expect("json");
            assert!(
                text.contains(r#""tags":{"alpha":"v","beta":"v","kappa":"v","mid":"v","omega":"v","zeta":"v"}"#),
                "{text}"
            );
            assert!(text.starts_with(r#"{"sourceServerId":"#), "{text}");
        }
    }

    #[test]
    fn yaml_carries_the_same_data() {
        let text = yaml(&server()).expect("yaml");
        let value: serde_json::Value = serde_yaml_ng::from_str(&text).expect("parses");
        assert_eq!(
            value["lifeCycle"]["state"],
            "LIFE_CYCLE_STATE_READY_FOR_TEST"
        );
    }
}
