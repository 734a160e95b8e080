//! Tests of the storage encoding: round trips of arbitrary values, corrupt
//! input, and golden files that pin format version 1.

mod corrupt;
mod fixtures;
mod golden;
mod round_trip;
mod speed;
mod strategies;

use super::*;
use crate::domain::{
    AccountId, Ec2InstanceId, FollowUpTaskId, LaunchJobId, ReplicationJobId, SourceServerId,
};
use crate::store::Outcome;

fn account() -> AccountId {
    AccountId::parse("account_id", "123456789012").unwrap()
}

fn server_id(value: &str) -> SourceServerId {
    SourceServerId::parse("id", value).unwrap()
}

fn job_id(value: &str) -> ReplicationJobId {
    ReplicationJobId::parse("id", value).unwrap()
}

fn launch_job_id(value: &str) -> LaunchJobId {
    LaunchJobId::parse("job_id", value).unwrap()
}

fn instance_id(value: &str) -> Ec2InstanceId {
    Ec2InstanceId::parse("ec2_instance_id", value).unwrap()
}

fn task_id(value: &str) -> FollowUpTaskId {
    FollowUpTaskId::parse("id", value).unwrap()
}

fn encoded_server(server: &SourceServer) -> Vec<u8> {
    let mut out = Vec::new();
    encode_source_server(server, &mut out);
    out
}

fn encoded_job(job: &ReplicationJob) -> Vec<u8> {
    let mut out = Vec::new();
    encode_replication_job(job, &mut out);
    out
}

fn encoded_event(event: &LifecycleEvent) -> Vec<u8> {
    let mut out = Vec::new();
    encode_event(event, &mut out);
    out
}

fn encoded_outcome(outcome: &Outcome) -> Vec<u8> {
    let mut out = Vec::new();
    encode_outcome(outcome, &mut out);
    out
}

#[test]
fn reflection_never_lists_the_storage_protos() {
    let set = prost_types::FileDescriptorSet::decode(crate::pb::FILE_DESCRIPTOR_SET).unwrap();
    assert!(set.file.iter().any(|file| file.package() == "cutover.v1"));
    for file in &set.file {
        assert!(
            !file.package().starts_with("cutover.storage"),
            "{} is in the public descriptor set",
            file.name()
        );
    }
}
