//! Source servers (MGN): the resource outbound; registration, source facts
//! and agent reports inbound.

use crate::{
    domain::{
        source_server::{Registration, ReplicationReport},
        Cpu, DataReplicationError, DataReplicationInfo, DataReplicationInitiation, DomainError,
        FollowUpTask, LastAction, LaunchedInstance, LifeCycle, NetworkInterface, ReplicatedDisk,
        SourceDisk, SourceProperties, SourceServer, SourceState,
    },
    pb::v1 as pb,
};

use super::{
    decode, decode_optional, duration, encode, encode_optional, optional_duration,
    optional_millis_from, optional_timestamp, optional_timestamp_from, saturating_i32, timestamp,
};

/// A source server as the API shows it, with what the stored resource does
/// not hold, computed by the caller: its ARN (from the deployment's
/// partition and region) and SMC's derived source state (`None` where it is
/// not derived, shown as UNSPECIFIED). `request_id` is left empty for the
/// caller to set when the message is a whole response.
pub fn source_server(
    server: &SourceServer,
    arn: String,
    source_state: Option<SourceState>,
) -> pb::SourceServer {
    pb::SourceServer {
        source_server_id: server.id.to_string(),
        arn,
        is_archived: server.is_archived,
        tags: server
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        replication_type: encode(server.replication_type),
        launched_instance: server.launched_instance.as_ref().map(launched_instance),
        source_properties: Some(source_properties(&server.source_properties)),
        data_replication_info: Some(data_replication_info(&server.data_replication_info)),
        life_cycle: Some(life_cycle(&server.life_cycle)),
        source_state: encode_optional(source_state),
        follow_up_tasks: server.follow_up_tasks.iter().map(follow_up_task).collect(),
        account_id: server.account_id.to_string(),
        request_id: String::new(),
    }
}

fn launched_instance(instance: &LaunchedInstance) -> pb::LaunchedInstance {
    pb::LaunchedInstance {
        ec2_instance_id: instance.ec2_instance_id.to_string(),
        job_id: instance.job_id.to_string(),
        first_boot: encode(instance.first_boot),
    }
}

/// Source facts as the API shows them.
pub fn source_properties(props: &SourceProperties) -> pb::SourceProperties {
    pb::SourceProperties {
        cpus: props
            .cpus
            .iter()
            .map(|c| pb::Cpu {
                cores: c.cores,
                model_name: c.model_name.clone(),
            })
            .collect(),
        disks: props
            .disks
            .iter()
            .map(|d| pb::SourceDisk {
                device_name: d.device_name.clone(),
                bytes: d.bytes,
            })
            .collect(),
        identification_hints: Some(pb::IdentificationHints {
            fqdn: props.fqdn.clone(),
            hostname: props.hostname.clone(),
            vm_ware_uuid: props.vm_ware_uuid.clone(),
            aws_instance_id: props.aws_instance_id.clone(),
            vm_path: props.vm_path.clone(),
        }),
        network_interfaces: props
            .network_interfaces
            .iter()
            .map(|n| pb::NetworkInterface {
                mac_address: n.mac_address.clone(),
                ips: n.ips.clone(),
                is_primary: n.is_primary,
            })
            .collect(),
        os: Some(pb::OperatingSystem {
            full_string: props.os.clone(),
        }),
        ram_bytes: props.ram_bytes,
        recommended_instance_type: props.recommended_instance_type.clone(),
        last_updated_date_time: optional_timestamp(props.last_updated),
    }
}

fn data_replication_info(info: &DataReplicationInfo) -> pb::DataReplicationInfo {
    pb::DataReplicationInfo {
        data_replication_state: encode(info.state),
        lag_duration: optional_duration(info.lag),
        eta_date_time: optional_timestamp(info.eta),
        last_snapshot_date_time: optional_timestamp(info.last_snapshot),
        replicated_disks: info.replicated_disks.iter().map(replicated_disk).collect(),
        data_replication_initiation: info.initiation.as_ref().map(initiation),
        data_replication_error: info.error.as_ref().map(|e| pb::DataReplicationError {
            error: e.error.clone(),
            raw_error: e.raw_error.clone(),
        }),
    }
}

fn replicated_disk(disk: &ReplicatedDisk) -> pb::ReplicatedDisk {
    pb::ReplicatedDisk {
        device_name: disk.device_name.clone(),
        total_storage_bytes: Some(disk.total_storage_bytes),
        replicated_storage_bytes: disk.replicated_storage_bytes,
        rescanned_storage_bytes: disk.rescanned_storage_bytes,
        backlogged_storage_bytes: disk.backlogged_storage_bytes,
    }
}

fn initiation(init: &DataReplicationInitiation) -> pb::DataReplicationInitiation {
    pb::DataReplicationInitiation {
        start_date_time: Some(timestamp(init.start)),
        next_attempt_date_time: optional_timestamp(init.next_attempt),
        steps: init
            .steps
            .iter()
            .map(|&(name, status)| pb::DataReplicationInitiationStep {
                name: encode(name),
                status: encode(status),
            })
            .collect(),
    }
}

fn life_cycle(life: &LifeCycle) -> pb::LifeCycle {
    pb::LifeCycle {
        state: encode(life.state),
        added_to_service_date_time: Some(timestamp(life.added_to_service)),
        first_byte_date_time: optional_timestamp(life.first_byte),
        elapsed_replication_duration: life.elapsed_replication.map(duration),
        last_seen_by_service_date_time: optional_timestamp(life.last_seen_by_service),
        last_test: life.last_test.as_ref().map(last_action),
        last_cutover: life.last_cutover.as_ref().map(last_action),
    }
}

fn last_action(action: &LastAction) -> pb::LifeCycleLastAction {
    let api_call = |t| pb::LifeCycleApiCall {
        api_call_date_time: Some(timestamp(t)),
    };
    pb::LifeCycleLastAction {
        initiated: Some(pb::LifeCycleInitiated {
            api_call_date_time: Some(timestamp(action.initiated)),
            job_id: action.job_id.to_string(),
        }),
        reverted: action.reverted.map(api_call),
        finalized: action.finalized.map(api_call),
    }
}

/// A follow-up task as callers see it.
pub fn follow_up_task(task: &FollowUpTask) -> pb::FollowUpTask {
    let state = if task.is_pending() {
        pb::FollowUpTaskState::Pending
    } else {
        pb::FollowUpTaskState::Completed
    };
    pb::FollowUpTask {
        task_id: task.id.to_string(),
        kind: encode(task.kind),
        state: state.into(),
        created_date_time: Some(timestamp(task.created)),
        deadline_date_time: Some(timestamp(task.deadline)),
        completed_date_time: optional_timestamp(task.completed),
        attempts: saturating_i32(task.attempts),
        progress: task.progress,
        overdue: task.overdue,
    }
}

/// Source facts from a request (registration or agent report), validated:
/// no negative sizes, a valid `last_updated_date_time`. Errors name fields
/// under `source_properties.`.
pub fn source_properties_from(
    props: &pb::SourceProperties,
) -> Result<SourceProperties, DomainError> {
    let non_negative = |field: &str, value: i64| {
        if value < 0 {
            Err(DomainError::invalid_field(
                field,
                format!("must not be negative, got {value}"),
            ))
        } else {
            Ok(value)
        }
    };
    let hints = props.identification_hints.clone().unwrap_or_default();
    Ok(SourceProperties {
        cpus: props
            .cpus
            .iter()
            .map(|c| {
                Ok(Cpu {
                    cores: non_negative("source_properties.cpus.cores", c.cores)?,
                    model_name: c.model_name.clone(),
                })
            })
            .collect::<Result<_, DomainError>>()?,
        disks: props
            .disks
            .iter()
            .map(|d| {
                Ok(SourceDisk {
                    device_name: d.device_name.clone(),
                    bytes: non_negative("source_properties.disks.bytes", d.bytes)?,
                })
            })
            .collect::<Result<_, DomainError>>()?,
        hostname: hints.hostname,
        fqdn: hints.fqdn,
        vm_ware_uuid: hints.vm_ware_uuid,
        aws_instance_id: hints.aws_instance_id,
        vm_path: hints.vm_path,
        network_interfaces: props
            .network_interfaces
            .iter()
            .map(|n| NetworkInterface {
                mac_address: n.mac_address.clone(),
                ips: n.ips.clone(),
                is_primary: n.is_primary,
            })
            .collect(),
        os: props
            .os
            .as_ref()
            .map(|os| os.full_string.clone())
            .unwrap_or_default(),
        ram_bytes: non_negative("source_properties.ram_bytes", props.ram_bytes)?,
        recommended_instance_type: props.recommended_instance_type.clone(),
        last_updated: optional_timestamp_from(
            "source_properties.last_updated_date_time",
            props.last_updated_date_time.as_ref(),
        )?,
    })
}

/// RegisterSourceServer's request as a registration. An UNSPECIFIED
/// replication type is `None` (AGENT_BASED); tags are checked by the
/// domain.
pub fn registration(req: &pb::RegisterSourceServerRequest) -> Result<Registration, DomainError> {
    Ok(Registration {
        tags: req
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        replication_type: decode_optional("replication_type", req.replication_type)?,
        source_properties: req
            .source_properties
            .as_ref()
            .map(source_properties_from)
            .transpose()?
            .unwrap_or_default(),
    })
}

/// An agent's ReportReplication as a domain report (the caller parses
/// `source_server_id`). The replication state is required; no initiation
/// steps means "unchanged"; absent source properties mean "unchanged".
pub fn replication_report(
    req: &pb::ReportReplicationRequest,
) -> Result<ReplicationReport, DomainError> {
    let initiation_steps = req
        .initiation_steps
        .iter()
        .map(|step| {
            Ok((
                decode("initiation_steps.name", step.name)?,
                decode("initiation_steps.status", step.status)?,
            ))
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    Ok(ReplicationReport {
        state: decode("data_replication_state", req.data_replication_state)?,
        replicated_disks: req
            .replicated_disks
            .iter()
            .map(|d| ReplicatedDisk {
                device_name: d.device_name.clone(),
                total_storage_bytes: d.total_storage_bytes.unwrap_or(0),
                replicated_storage_bytes: d.replicated_storage_bytes,
                rescanned_storage_bytes: d.rescanned_storage_bytes,
                backlogged_storage_bytes: d.backlogged_storage_bytes,
            })
            .collect(),
        lag: optional_millis_from("lag_duration", req.lag_duration.as_ref())?,
        eta: optional_timestamp_from("eta_date_time", req.eta_date_time.as_ref())?,
        initiation_steps: (!initiation_steps.is_empty()).then_some(initiation_steps),
        error: req
            .data_replication_error
            .as_ref()
            .map(|e| DataReplicationError {
                error: e.error.clone(),
                raw_error: e.raw_error.clone(),
            }),
        source_properties: req
            .source_properties
            .as_ref()
            .map(source_properties_from)
            .transpose()?,
    })
}
