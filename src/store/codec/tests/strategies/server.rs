//! Arbitrary source servers.

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};

use super::*;

fn tags() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(text(), text(), 0..4)
}

fn launched_instance() -> BoxedStrategy<LaunchedInstance> {
    (instance_id(), launch_job_id(), select(FirstBoot::ALL))
        .prop_map(|(ec2_instance_id, job_id, first_boot)| LaunchedInstance {
            ec2_instance_id,
            job_id,
            first_boot,
        })
        .boxed()
}

fn source_properties() -> BoxedStrategy<SourceProperties> {
    let cpu = (count(), text()).prop_map(|(cores, model_name)| Cpu { cores, model_name });
    let disk = (text(), count()).prop_map(|(device_name, bytes)| SourceDisk { device_name, bytes });
    let nic =
        (text(), vec(text(), 0..3), any::<bool>()).prop_map(|(mac_address, ips, is_primary)| {
            NetworkInterface {
                mac_address,
                ips,
                is_primary,
            }
        });
    let facts = (
        vec(cpu, 0..3),
        vec(disk, 0..3),
        text(),
        text(),
        text(),
        text(),
        text(),
        vec(nic, 0..3),
        text(),
        count(),
        text(),
        option::of(timestamp()),
    )
        .prop_map(
            |(
                cpus,
                disks,
                hostname,
                fqdn,
                vm_ware_uuid,
                aws_instance_id,
                vm_path,
                nics,
                os,
                ram_bytes,
                recommended_instance_type,
                last_updated,
            )| {
                SourceProperties {
                    cpus,
                    disks,
                    hostname,
                    fqdn,
                    vm_ware_uuid,
                    aws_instance_id,
                    vm_path,
                    network_interfaces: nics,
                    os,
                    ram_bytes,
                    recommended_instance_type,
                    last_updated,
                }
            },
        );
    // The empty facts of a registration are stored apart (no message).
    prop_oneof![1 => Just(SourceProperties::default()), 3 => facts].boxed()
}

fn replicated_disk() -> BoxedStrategy<ReplicatedDisk> {
    (text(), count(), count(), count(), count())
        .prop_map(
            |(device_name, total, replicated, rescanned, backlogged)| ReplicatedDisk {
                device_name,
                total_storage_bytes: total,
                replicated_storage_bytes: replicated,
                rescanned_storage_bytes: rescanned,
                backlogged_storage_bytes: backlogged,
            },
        )
        .boxed()
}

fn initiation() -> BoxedStrategy<DataReplicationInitiation> {
    let step = (
        select(InitiationStepName::ALL),
        select(InitiationStepStatus::ALL),
    );
    (timestamp(), option::of(timestamp()), vec(step, 0..12))
        .prop_map(|(start, next_attempt, steps)| DataReplicationInitiation {
            start,
            next_attempt,
            steps,
        })
        .boxed()
}

fn data_replication_info() -> BoxedStrategy<DataReplicationInfo> {
    let error =
        (text(), text()).prop_map(|(error, raw_error)| DataReplicationError { error, raw_error });
    (
        select(DataReplicationState::ALL),
        option::of(millis()),
        option::of(timestamp()),
        option::of(timestamp()),
        vec(replicated_disk(), 0..3),
        option::of(initiation()),
        option::of(error),
    )
        .prop_map(
            |(state, lag, eta, last_snapshot, replicated_disks, initiation, error)| {
                DataReplicationInfo {
                    state,
                    lag,
                    eta,
                    last_snapshot,
                    replicated_disks,
                    initiation,
                    error,
                }
            },
        )
        .boxed()
}

fn last_action() -> BoxedStrategy<LastAction> {
    (
        timestamp(),
        launch_job_id(),
        option::of(timestamp()),
        option::of(timestamp()),
    )
        .prop_map(|(initiated, job_id, reverted, finalized)| LastAction {
            initiated,
            job_id,
            reverted,
            finalized,
        })
        .boxed()
}

fn life_cycle() -> BoxedStrategy<LifeCycle> {
    (
        select(LifeCycleState::ALL),
        timestamp(),
        option::of(timestamp()),
        option::of(millis()),
        option::of(timestamp()),
        option::of(last_action()),
        option::of(last_action()),
    )
        .prop_map(
            |(
                state,
                added_to_service,
                first_byte,
                elapsed_replication,
                last_seen_by_service,
                last_test,
                last_cutover,
            )| {
                LifeCycle {
                    state,
                    added_to_service,
                    first_byte,
                    elapsed_replication,
                    last_seen_by_service,
                    last_test,
                    last_cutover,
                }
            },
        )
        .boxed()
}

fn follow_up_task() -> BoxedStrategy<FollowUpTask> {
    (
        task_id(),
        select(FollowUpTaskKind::ALL),
        timestamp(),
        timestamp(),
        option::of(timestamp()),
        small(),
        any::<bool>(),
        0u8..=4,
    )
        .prop_map(
            |(id, kind, created, deadline, completed, attempts, overdue, steps)| FollowUpTask {
                id,
                kind,
                created,
                deadline,
                completed,
                attempts,
                overdue,
                progress: f64::from(steps) * 25.0,
            },
        )
        .boxed()
}

/// Any source server.
pub(in crate::store::codec::tests) fn source_server() -> BoxedStrategy<SourceServer> {
    (
        account(),
        server_id(),
        any::<bool>(),
        tags(),
        select(ReplicationType::ALL),
        option::of(launched_instance()),
        source_properties(),
        data_replication_info(),
        life_cycle(),
        vec(follow_up_task(), 0..3),
    )
        .prop_map(
            |(
                account_id,
                id,
                is_archived,
                tags,
                replication_type,
                launched_instance,
                source_properties,
                data_replication_info,
                life_cycle,
                follow_up_tasks,
            )| {
                SourceServer {
                    account_id,
                    id,
                    is_archived,
                    tags,
                    replication_type,
                    launched_instance,
                    source_properties,
                    data_replication_info,
                    life_cycle,
                    follow_up_tasks,
                }
            },
        )
        .boxed()
}
