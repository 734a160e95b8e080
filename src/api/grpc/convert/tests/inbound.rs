//! Proto → domain: source server requests and agent reports, validated,
//! never panicking.

use super::{full_server, violated_field, SERVER};
use crate::{
    api::grpc::convert::{
        describe_source_servers, registration, replication_report, source_properties,
        source_properties_from,
    },
    domain::{
        DataReplicationState, InitiationStepName, InitiationStepStatus, LifeCycleState, Millis,
        ReplicationType, Timestamp,
    },
    pb::v1 as pb,
};

/// A test's way of spoiling a valid request.
type Spoil<T> = fn(&mut T);

#[test]
fn source_properties_round_trip() {
    let props = full_server().source_properties;
    assert_eq!(
        source_properties_from(&source_properties(&props)),
        Ok(props)
    );
    assert_eq!(
        source_properties_from(&pb::SourceProperties::default()),
        Ok(Default::default())
    );
}

#[test]
fn invalid_source_properties_name_the_field() {
    let valid = source_properties(&full_server().source_properties);
    let cases: [(&str, Spoil<pb::SourceProperties>); 4] = [
        ("source_properties.ram_bytes", |p| p.ram_bytes = -1),
        ("source_properties.cpus.cores", |p| p.cpus[0].cores = -2),
        ("source_properties.disks.bytes", |p| {
            p.disks[0].bytes = i64::MIN
        }),
        ("source_properties.last_updated_date_time", |p| {
            p.last_updated_date_time = Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -1,
            })
        }),
    ];
    for (field, spoil) in cases {
        let mut props = valid.clone();
        spoil(&mut props);
        assert_eq!(violated_field(source_properties_from(&props)), field);
    }
}

#[test]
fn registration_defaults_and_validates_the_replication_type() {
    let mut req = pb::RegisterSourceServerRequest::default();
    req.tags.insert("env".into(), "prod".into());
    let reg = registration(&req).unwrap();
    assert_eq!(reg.replication_type, None);
    assert_eq!(reg.tags.get("env").map(String::as_str), Some("prod"));
    assert_eq!(reg.source_properties, Default::default());

    req.replication_type = pb::ReplicationType::SnapshotShipping as i32;
    req.source_properties = Some(source_properties(&full_server().source_properties));
    let reg = registration(&req).unwrap();
    assert_eq!(
        reg.replication_type,
        Some(ReplicationType::SnapshotShipping)
    );
    assert_eq!(reg.source_properties, full_server().source_properties);

    for bad in [3, -1, i32::MAX] {
        req.replication_type = bad;
        assert_eq!(violated_field(registration(&req)), "replication_type");
    }
}

fn server_filters(filters: pb::DescribeSourceServersFilters) -> pb::DescribeSourceServersRequest {
    pb::DescribeSourceServersRequest {
        filters: Some(filters),
        ..Default::default()
    }
}

#[test]
fn source_server_filters() {
    let everything = describe_source_servers(&pb::DescribeSourceServersRequest::default()).unwrap();
    assert_eq!(everything.filter(), &Default::default());
    assert_eq!(
        everything.page().size(),
        1000,
        "max_results 0 is the default"
    );
    let request = describe_source_servers(&server_filters(pb::DescribeSourceServersFilters {
        source_server_ids: vec![SERVER.into()],
        is_archived: Some(false),
        replication_types: vec![0, 2],
        life_cycle_states: vec![7, 8],
    }))
    .unwrap();
    let filter = request.filter();
    assert_eq!(filter.ids.len(), 1);
    assert_eq!(filter.ids[0].as_str(), SERVER);
    assert_eq!(filter.is_archived, Some(false));
    assert_eq!(
        filter.replication_types,
        vec![
            ReplicationType::AgentBased,
            ReplicationType::SnapshotShipping
        ]
    );
    assert_eq!(
        filter.life_cycle_states,
        vec![LifeCycleState::CuttingOver, LifeCycleState::Cutover]
    );

    let ids = |n| vec![SERVER.to_string(); n];
    let with = |f: pb::DescribeSourceServersFilters| describe_source_servers(&server_filters(f));
    let base = pb::DescribeSourceServersFilters::default;
    assert!(with(pb::DescribeSourceServersFilters {
        source_server_ids: ids(200),
        ..base()
    })
    .is_ok());
    assert!(with(pb::DescribeSourceServersFilters {
        life_cycle_states: vec![1; 10],
        ..base()
    })
    .is_ok());
    let cases = [
        (
            "filters.source_server_ids",
            pb::DescribeSourceServersFilters {
                source_server_ids: ids(201),
                ..base()
            },
        ),
        (
            "filters.source_server_ids",
            pb::DescribeSourceServersFilters {
                source_server_ids: vec!["s-1".into()],
                ..base()
            },
        ),
        (
            "filters.life_cycle_states",
            pb::DescribeSourceServersFilters {
                life_cycle_states: vec![1; 11],
                ..base()
            },
        ),
        (
            "filters.life_cycle_states",
            pb::DescribeSourceServersFilters {
                life_cycle_states: vec![1, 0],
                ..base()
            },
        ),
        (
            "filters.life_cycle_states",
            pb::DescribeSourceServersFilters {
                life_cycle_states: vec![11],
                ..base()
            },
        ),
        (
            "filters.replication_types",
            pb::DescribeSourceServersFilters {
                replication_types: vec![-7],
                ..base()
            },
        ),
    ];
    for (field, filters) in cases {
        assert_eq!(violated_field(with(filters)), field);
    }
}

fn report() -> pb::ReportReplicationRequest {
    pb::ReportReplicationRequest {
        source_server_id: SERVER.into(),
        data_replication_state: pb::DataReplicationState::InitialSync as i32,
        replicated_disks: vec![pb::ReplicatedDisk {
            device_name: "/dev/sda".into(),
            total_storage_bytes: Some(10),
            replicated_storage_bytes: 4,
            rescanned_storage_bytes: 1,
            backlogged_storage_bytes: 2,
        }],
        lag_duration: Some(prost_types::Duration {
            seconds: 2,
            nanos: 0,
        }),
        eta_date_time: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        initiation_steps: vec![pb::DataReplicationInitiationStep { name: 1, status: 3 }],
        data_replication_error: Some(pb::DataReplicationError {
            error: "E".into(),
            raw_error: "r".into(),
        }),
        source_properties: Some(source_properties(&full_server().source_properties)),
        agent_instance_id: String::new(),
    }
}

#[test]
fn replication_reports() {
    let r = replication_report(&report()).unwrap();
    assert_eq!(r.state, DataReplicationState::InitialSync);
    assert_eq!(r.replicated_disks.len(), 1);
    assert_eq!(
        (
            r.replicated_disks[0].total_storage_bytes,
            r.replicated_disks[0].replicated_storage_bytes
        ),
        (10, 4)
    );
    assert_eq!(
        (
            r.replicated_disks[0].rescanned_storage_bytes,
            r.replicated_disks[0].backlogged_storage_bytes
        ),
        (1, 2)
    );
    assert_eq!(r.lag, Some(Millis(2_000)));
    assert_eq!(r.eta, Some(Timestamp(1_700_000_000_000)));
    assert_eq!(
        r.initiation_steps,
        Some(vec![(
            InitiationStepName::Wait,
            InitiationStepStatus::Succeeded
        )])
    );
    assert_eq!(
        r.error.map(|e| (e.error, e.raw_error)),
        Some(("E".into(), "r".into()))
    );
    assert_eq!(r.source_properties, Some(full_server().source_properties));

    let bare = pb::ReportReplicationRequest {
        data_replication_state: 6,
        ..Default::default()
    };
    let r = replication_report(&bare).unwrap();
    assert_eq!(
        (
            r.lag,
            r.eta,
            r.initiation_steps,
            r.error,
            r.source_properties
        ),
        (None, None, None, None, None)
    );

    let cases: [(&str, Spoil<pb::ReportReplicationRequest>); 7] = [
        ("data_replication_state", |r| r.data_replication_state = 0),
        ("data_replication_state", |r| r.data_replication_state = 13),
        ("lag_duration", |r| {
            r.lag_duration = Some(prost_types::Duration {
                seconds: -1,
                nanos: 0,
            })
        }),
        ("eta_date_time", |r| {
            r.eta_date_time = Some(prost_types::Timestamp {
                seconds: 0,
                nanos: 1_000_000_000,
            })
        }),
        ("initiation_steps.name", |r| r.initiation_steps[0].name = 12),
        ("initiation_steps.status", |r| {
            r.initiation_steps[0].status = 0
        }),
        ("source_properties.ram_bytes", |r| {
            if let Some(p) = r.source_properties.as_mut() {
                p.ram_bytes = -1;
            }
        }),
    ];
    for (field, spoil) in cases {
        let mut req = report();
        spoil(&mut req);
        assert_eq!(violated_field(replication_report(&req)), field);
    }
}
