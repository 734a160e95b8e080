//! Source servers as `StoredSourceServer`, and back.

use crate::domain::{
    Cpu, DataReplicationError, DataReplicationInfo, DataReplicationInitiation, Ec2InstanceId,
    FollowUpTask, FollowUpTaskId, InitiationStepName, InitiationStepStatus, LastAction,
    LaunchJobId, LaunchedInstance, LifeCycle, Millis, NetworkInterface, ReplicatedDisk, SourceDisk,
    SourceProperties, SourceServer, SourceServerId, Timestamp,
};
use crate::pb::storage::v1 as pb;
use crate::store::StoreError;

use super::enums::{enum_value, StoredEnum};
use super::{account_id, id, required, within};

/// The storage message of `server`.
pub(super) fn to_message(server: &SourceServer) -> pb::StoredSourceServer {
    pb::StoredSourceServer {
        account_id: server.account_id.as_str().to_owned(),
        id: server.id.as_str().to_owned(),
        is_archived: server.is_archived,
        tags: server.tags.clone(),
        replication_type: server.replication_type.to_stored(),
        launched_instance: server
            .launched_instance
            .as_ref()
            .map(|launched| pb::LaunchedInstance {
                ec2_instance_id: launched.ec2_instance_id.as_str().to_owned(),
                job_id: launched.job_id.as_str().to_owned(),
                first_boot: launched.first_boot.to_stored(),
            }),
        // Registered servers mostly have no facts yet: two bytes saved each.
        source_properties: has_facts(&server.source_properties)
            .then(|| properties_message(&server.source_properties)),
        data_replication_info: Some(replication_message(&server.data_replication_info)),
        life_cycle: Some(life_cycle_message(&server.life_cycle)),
        follow_up_tasks: server.follow_up_tasks.iter().map(task_message).collect(),
    }
}

/// The source server stored as `message`.
pub(super) fn from_message(message: pb::StoredSourceServer) -> Result<SourceServer, StoreError> {
    Ok(SourceServer {
        account_id: account_id(&message.account_id)?,
        id: id(SourceServerId::parse, &message.id, "id")?,
        is_archived: message.is_archived,
        tags: message.tags,
        replication_type: enum_value(message.replication_type, "replication_type")?,
        launched_instance: message
            .launched_instance
            .map(launched_instance)
            .transpose()
            .map_err(|err| within("launched_instance", err))?,
        source_properties: message
            .source_properties
            .map(properties)
            .unwrap_or_default(),
        data_replication_info: replication(required(
            message.data_replication_info,
            "data_replication_info",
        )?)
        .map_err(|err| within("data_replication_info", err))?,
        life_cycle: life_cycle(required(message.life_cycle, "life_cycle")?)
            .map_err(|err| within("life_cycle", err))?,
        follow_up_tasks: message
            .follow_up_tasks
            .into_iter()
            .enumerate()
            .map(|(i, stored)| {
                task(stored).map_err(|err| within(&format!("follow_up_tasks[{i}]"), err))
            })
            .collect::<Result<_, _>>()?,
    })
}

fn launched_instance(message: pb::LaunchedInstance) -> Result<LaunchedInstance, StoreError> {
    Ok(LaunchedInstance {
        ec2_instance_id: id(
            Ec2InstanceId::parse,
            &message.ec2_instance_id,
            "ec2_instance_id",
        )?,
        job_id: id(LaunchJobId::parse, &message.job_id, "job_id")?,
        first_boot: enum_value(message.first_boot, "first_boot")?,
    })
}

/// False for the empty facts of a registration.
fn has_facts(properties: &SourceProperties) -> bool {
    // Field by field rather than `!= SourceProperties::default()`: comparing
    // empty strings calls `bcmp`, which measured ten times slower than the
    // whole encoding of a registered server. Destructured, so that a fact
    // added later must be counted here.
    let SourceProperties {
        cpus,
        disks,
        hostname,
        fqdn,
        vm_ware_uuid,
        aws_instance_id,
        vm_path,
        network_interfaces,
        os,
        ram_bytes,
        recommended_instance_type,
        last_updated,
    } = properties;
    !(cpus.is_empty()
        && disks.is_empty()
        && hostname.is_empty()
        && fqdn.is_empty()
        && vm_ware_uuid.is_empty()
        && aws_instance_id.is_empty()
        && vm_path.is_empty()
        && network_interfaces.is_empty()
        && os.is_empty()
        && *ram_bytes == 0
        && recommended_instance_type.is_empty()
        && last_updated.is_none())
}

fn properties_message(properties: &SourceProperties) -> pb::SourceProperties {
    pb::SourceProperties {
        cpus: properties
            .cpus
            .iter()
            .map(|cpu| pb::Cpu {
                cores: cpu.cores,
                model_name: cpu.model_name.clone(),
            })
            .collect(),
        disks: properties
            .disks
            .iter()
            .map(|disk| pb::SourceDisk {
                device_name: disk.device_name.clone(),
                bytes: disk.bytes,
            })
            .collect(),
        hostname: properties.hostname.clone(),
        fqdn: properties.fqdn.clone(),
        vm_ware_uuid: properties.vm_ware_uuid.clone(),
        aws_instance_id: properties.aws_instance_id.clone(),
        vm_path: properties.vm_path.clone(),
        network_interfaces: properties
            .network_interfaces
            .iter()
            .map(|nic| pb::NetworkInterface {
                mac_address: nic.mac_address.clone(),
                ips: nic.ips.clone(),
                is_primary: nic.is_primary,
            })
            .collect(),
        os: properties.os.clone(),
        ram_bytes: properties.ram_bytes,
        recommended_instance_type: properties.recommended_instance_type.clone(),
        last_updated_ms: properties.last_updated.map(|t| t.0),
    }
}

fn properties(message: pb::SourceProperties) -> SourceProperties {
    SourceProperties {
        cpus: message
            .cpus
            .into_iter()
            .map(|cpu| Cpu {
                cores: cpu.cores,
                model_name: cpu.model_name,
            })
            .collect(),
        disks: message
            .disks
            .into_iter()
            .map(|disk| SourceDisk {
                device_name: disk.device_name,
                bytes: disk.bytes,
            })
            .collect(),
        hostname: message.hostname,
        fqdn: message.fqdn,
        vm_ware_uuid: message.vm_ware_uuid,
        aws_instance_id: message.aws_instance_id,
        vm_path: message.vm_path,
        network_interfaces: message
            .network_interfaces
            .into_iter()
            .map(|nic| NetworkInterface {
                mac_address: nic.mac_address,
                ips: nic.ips,
                is_primary: nic.is_primary,
            })
            .collect(),
        os: message.os,
        ram_bytes: message.ram_bytes,
        recommended_instance_type: message.recommended_instance_type,
        last_updated: message.last_updated_ms.map(Timestamp),
    }
}

fn replication_message(info: &DataReplicationInfo) -> pb::DataReplicationInfo {
    pb::DataReplicationInfo {
        state: info.state.to_stored(),
        lag_ms: info.lag.map(|lag| lag.0),
        eta_ms: info.eta.map(|t| t.0),
        last_snapshot_ms: info.last_snapshot.map(|t| t.0),
        replicated_disks: info
            .replicated_disks
            .iter()
            .map(|disk| pb::ReplicatedDisk {
                device_name: disk.device_name.clone(),
                total_storage_bytes: disk.total_storage_bytes,
                replicated_storage_bytes: disk.replicated_storage_bytes,
                rescanned_storage_bytes: disk.rescanned_storage_bytes,
                backlogged_storage_bytes: disk.backlogged_storage_bytes,
            })
            .collect(),
        initiation: info
            .initiation
            .as_ref()
            .map(|initiation| pb::DataReplicationInitiation {
                start_ms: initiation.start.0,
                next_attempt_ms: initiation.next_attempt.map(|t| t.0),
                steps: initiation
                    .steps
                    .iter()
                    .map(|&(name, status)| pb::InitiationStep {
                        name: name.to_stored(),
                        status: status.to_stored(),
                    })
                    .collect(),
            }),
        error: info.error.as_ref().map(|error| pb::DataReplicationError {
            error: error.error.clone(),
            raw_error: error.raw_error.clone(),
        }),
    }
}

fn replication(message: pb::DataReplicationInfo) -> Result<DataReplicationInfo, StoreError> {
    Ok(DataReplicationInfo {
        state: enum_value(message.state, "state")?,
        lag: message.lag_ms.map(Millis),
        eta: message.eta_ms.map(Timestamp),
        last_snapshot: message.last_snapshot_ms.map(Timestamp),
        replicated_disks: message
            .replicated_disks
            .into_iter()
            .map(|disk| ReplicatedDisk {
                device_name: disk.device_name,
                total_storage_bytes: disk.total_storage_bytes,
                replicated_storage_bytes: disk.replicated_storage_bytes,
                rescanned_storage_bytes: disk.rescanned_storage_bytes,
                backlogged_storage_bytes: disk.backlogged_storage_bytes,
            })
            .collect(),
        initiation: message
            .initiation
            .map(initiation)
            .transpose()
            .map_err(|err| within("initiation", err))?,
        error: message.error.map(|error| DataReplicationError {
            error: error.error,
            raw_error: error.raw_error,
        }),
    })
}

fn initiation(
    message: pb::DataReplicationInitiation,
) -> Result<DataReplicationInitiation, StoreError> {
    Ok(DataReplicationInitiation {
        start: Timestamp(message.start_ms),
        next_attempt: message.next_attempt_ms.map(Timestamp),
        steps: message
            .steps
            .into_iter()
            .enumerate()
            .map(|(i, step)| {
                initiation_step(step).map_err(|err| within(&format!("steps[{i}]"), err))
            })
            .collect::<Result<_, _>>()?,
    })
}

fn initiation_step(
    step: pb::InitiationStep,
) -> Result<(InitiationStepName, InitiationStepStatus), StoreError> {
    Ok((
        enum_value(step.name, "name")?,
        enum_value(step.status, "status")?,
    ))
}

fn life_cycle_message(life_cycle: &LifeCycle) -> pb::LifeCycle {
    pb::LifeCycle {
        state: life_cycle.state.to_stored(),
        added_to_service_ms: life_cycle.added_to_service.0,
        first_byte_ms: life_cycle.first_byte.map(|t| t.0),
        elapsed_replication_ms: life_cycle.elapsed_replication.map(|span| span.0),
        last_seen_by_service_ms: life_cycle.last_seen_by_service.map(|t| t.0),
        last_test: life_cycle.last_test.as_ref().map(last_action_message),
        last_cutover: life_cycle.last_cutover.as_ref().map(last_action_message),
    }
}

fn life_cycle(message: pb::LifeCycle) -> Result<LifeCycle, StoreError> {
    Ok(LifeCycle {
        state: enum_value(message.state, "state")?,
        added_to_service: Timestamp(message.added_to_service_ms),
        first_byte: message.first_byte_ms.map(Timestamp),
        elapsed_replication: message.elapsed_replication_ms.map(Millis),
        last_seen_by_service: message.last_seen_by_service_ms.map(Timestamp),
        last_test: message
            .last_test
            .map(last_action)
            .transpose()
            .map_err(|err| within("last_test", err))?,
        last_cutover: message
            .last_cutover
            .map(last_action)
            .transpose()
            .map_err(|err| within("last_cutover", err))?,
    })
}

fn last_action_message(action: &LastAction) -> pb::LastAction {
    pb::LastAction {
        initiated_ms: action.initiated.0,
        job_id: action.job_id.as_str().to_owned(),
        reverted_ms: action.reverted.map(|t| t.0),
        finalized_ms: action.finalized.map(|t| t.0),
    }
}

fn last_action(message: pb::LastAction) -> Result<LastAction, StoreError> {
    Ok(LastAction {
        initiated: Timestamp(message.initiated_ms),
        job_id: id(LaunchJobId::parse, &message.job_id, "job_id")?,
        reverted: message.reverted_ms.map(Timestamp),
        finalized: message.finalized_ms.map(Timestamp),
    })
}

fn task_message(task: &FollowUpTask) -> pb::FollowUpTask {
    pb::FollowUpTask {
        id: task.id.as_str().to_owned(),
        kind: task.kind.to_stored(),
        created_ms: task.created.0,
        deadline_ms: task.deadline.0,
        completed_ms: task.completed.map(|t| t.0),
        attempts: task.attempts,
        progress: task.progress,
        overdue: task.overdue,
    }
}

fn task(message: pb::FollowUpTask) -> Result<FollowUpTask, StoreError> {
    Ok(FollowUpTask {
        id: id(FollowUpTaskId::parse, &message.id, "id")?,
        kind: enum_value(message.kind, "kind")?,
        created: Timestamp(message.created_ms),
        deadline: Timestamp(message.deadline_ms),
        completed: message.completed_ms.map(Timestamp),
        attempts: message.attempts,
        progress: message.progress,
        overdue: message.overdue,
    })
}
