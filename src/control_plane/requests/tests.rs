//! Every constructor's limits at their edges (0, 1, the most, one more),
//! the names it refuses, and that a refusal names the field the wire gave.

use super::*;
use crate::domain::{
    BusinessStatus, DomainError, JobSchedule, LifeCycleState, ReplicationJobStatus,
    ReplicationType, SourceServerId,
};

const PAGE: PageFields = PageFields {
    size: "maxResults",
    token: "nextToken",
};

const SERVERS: DescribeSourceServersFields = DescribeSourceServersFields {
    ids: "ids",
    life_cycle_states: "states",
    application_ids: "apps",
};

const JOBS: JobFilterFields = JobFilterFields {
    job_ids: "jobs",
    source_ids: "sources",
};

const NUMBERED: NumberedPageFields = NumberedPageFields {
    number: "PageNumber",
    size: "PageSize",
};

const SPEC: CreateReplicationJobFields = CreateReplicationJobFields {
    name: "Name",
    description: "Description",
    run_once: "RunOnce",
    frequency: "Frequency",
    images_to_keep: "Images",
};

/// The field of a refusal's one violation; panics on anything else.
fn refused<T: std::fmt::Debug>(result: Result<T, DomainError>) -> String {
    match result {
        Err(DomainError::Validation(violations)) if violations.len() == 1 => {
            violations[0].field.clone()
        }
        other => panic!("expected one field violation, got {other:?}"),
    }
}

fn server_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("s-{i:017}")).collect()
}

fn job_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("j-{i:020}")).collect()
}

fn strs(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}

fn first_page() -> PageRequest {
    PageRequest::new(PAGE, None, "").expect("the first page")
}

#[test]
fn page_sizes_are_1_to_1000_and_absent_is_1000() {
    let size = |n| PageRequest::new(PAGE, n, "").map(|page| page.size());
    assert_eq!(size(None), Ok(PageRequest::DEFAULT_SIZE));
    assert_eq!(size(Some(1)), Ok(1));
    assert_eq!(size(Some(1000)), Ok(PageRequest::MAX_SIZE));
    for bad in [0, 1001, -1, i64::MIN, i64::MAX] {
        assert_eq!(refused(size(Some(bad))), "maxResults", "{bad}");
    }
}

#[test]
fn page_tokens_are_at_most_2048_characters() {
    let token = |text: &str| PageRequest::new(PAGE, None, text);
    assert_eq!(token("").map(|p| p.token().to_owned()), Ok(String::new()));
    assert!(token("a").is_ok());
    assert!(token(&"a".repeat(PageRequest::MAX_TOKEN_CHARS)).is_ok());
    assert_eq!(refused(token(&"a".repeat(2049))), "nextToken");
    // Characters, not bytes: a token is refused for its length alone only
    // when it is too long however it is encoded.
    assert!(token(&"é".repeat(2048)).is_ok());
    assert_eq!(
        token("t").map(|p| p.token_field()),
        Ok("nextToken"),
        "a forged token is refused under the wire's name too"
    );
}

#[test]
fn numbered_pages_are_from_1_and_1_to_50_items() {
    let page = |number, size| NumberedPageRequest::new(NUMBERED, number, size);
    let default = page(None, None).expect("defaults");
    assert_eq!((default.number(), default.size()), (1, 10));
    let edges = page(Some(i64::from(u32::MAX)), Some(50)).expect("the largest");
    assert_eq!((edges.number(), edges.size()), (u32::MAX as usize, 50));
    assert!(page(Some(1), Some(1)).is_ok());
    for bad in [0, -1, i64::from(u32::MAX) + 1] {
        assert_eq!(refused(page(Some(bad), None)), "PageNumber", "{bad}");
    }
    for bad in [0, 51, -1] {
        assert_eq!(refused(page(None, Some(bad))), "PageSize", "{bad}");
    }
}

#[test]
fn server_filters_list_at_most_200_ids_10_states_and_200_applications() {
    let describe = |filters: ServerFilterInput<'_>| {
        DescribeSourceServers::new(&SERVERS, filters, first_page())
    };
    let everything = describe(ServerFilterInput::default()).expect("no filter");
    assert_eq!(everything.filter(), &Default::default());
    assert!(!everything.names_applications());
    for n in [1, 200] {
        let ids = server_ids(n);
        let listed = describe(ServerFilterInput {
            ids: strs(&ids),
            ..Default::default()
        });
        assert_eq!(listed.map(|r| r.filter().ids.len()), Ok(n));
    }
    let ids = server_ids(201);
    let too_many = ServerFilterInput {
        ids: strs(&ids),
        ..Default::default()
    };
    assert_eq!(refused(describe(too_many)), "ids");
    let malformed = ServerFilterInput {
        ids: vec!["s-1"],
        ..Default::default()
    };
    assert_eq!(refused(describe(malformed)), "ids");

    let states = |n| ServerFilterInput {
        life_cycle_states: vec![LifeCycleState::Testing; n],
        replication_types: vec![ReplicationType::AgentBased],
        is_archived: Some(true),
        ..Default::default()
    };
    assert!(describe(states(1)).is_ok());
    assert!(describe(states(10)).is_ok());
    assert_eq!(refused(describe(states(11))), "states");

    let apps = |n| ServerFilterInput {
        application_ids: vec!["app-1"; n],
        ..Default::default()
    };
    assert!(describe(apps(1)).expect("one").names_applications());
    assert!(describe(apps(200)).is_ok());
    assert_eq!(refused(describe(apps(201))), "apps");
}

#[test]
fn job_filters_list_at_most_200_ids_of_either_kind() {
    fn filter<'a>(jobs: &'a [String], sources: &'a [String]) -> JobFilterInput<'a> {
        JobFilterInput {
            job_ids: strs(jobs),
            source_ids: strs(sources),
            statuses: vec![ReplicationJobStatus::Waiting],
            business_statuses: vec![BusinessStatus::Syncing],
        }
    }
    let by_token = |jobs: &[String], sources: &[String]| {
        DescribeReplicationJobs::new(&JOBS, filter(jobs, sources), first_page())
    };
    let by_number = |jobs: &[String], sources: &[String]| {
        let page = NumberedPageRequest::new(NUMBERED, None, None).expect("the first page");
        DescribeReplicationJobsByNumber::new(&JOBS, filter(jobs, sources), None, false, page)
    };
    for n in [0, 1, 200] {
        let listed = by_token(&job_ids(n), &server_ids(n)).expect("in range");
        assert_eq!(
            (listed.filter().ids.len(), listed.filter().source_ids.len()),
            (n, n)
        );
        assert!(by_number(&job_ids(n), &server_ids(n)).is_ok());
    }
    assert_eq!(refused(by_token(&job_ids(201), &[])), "jobs");
    assert_eq!(refused(by_token(&[], &server_ids(201))), "sources");
    assert_eq!(refused(by_number(&job_ids(201), &[])), "jobs");
    assert_eq!(refused(by_number(&[], &server_ids(201))), "sources");
    assert_eq!(refused(by_token(&server_ids(1), &[])), "jobs");
    assert_eq!(refused(by_token(&[], &job_ids(1))), "sources");

    let page = NumberedPageRequest::new(NUMBERED, Some(2), Some(5)).expect("a page");
    let named = DescribeReplicationJobsByNumber::new(
        &JOBS,
        JobFilterInput::default(),
        Some("n"),
        true,
        page,
    )
    .expect("a listing");
    assert_eq!(named.name(), Some("n"));
    assert!(named.on_unkept_attributes());
    assert_eq!(named.page(), page);
}

#[test]
fn launches_take_1_to_200_servers_each_once() {
    let launch = |ids: &[String]| LaunchServers::new("sourceServerIDs", &strs(ids));
    assert_eq!(refused(launch(&[])), "sourceServerIDs");
    assert_eq!(launch(&server_ids(1)).map(|l| l.ids().len()), Ok(1));
    assert_eq!(launch(&server_ids(200)).map(|l| l.ids().len()), Ok(200));
    assert_eq!(refused(launch(&server_ids(201))), "sourceServerIDs");
    assert_eq!(refused(launch(&["s-1".to_owned()])), "sourceServerIDs");
    // Repeats count towards the limit as sent, and launch once.
    let twice: Vec<String> = server_ids(2).into_iter().cycle().take(200).collect();
    let launched = launch(&twice).expect("200 ids");
    assert_eq!(launched.ids().len(), 2);
    assert_eq!(launched.ids()[0].as_str(), twice[0]);
    let over: Vec<String> = server_ids(1).into_iter().cycle().take(201).collect();
    assert_eq!(refused(launch(&over)), "sourceServerIDs");
}

#[test]
fn life_cycle_targets_are_ready_for_test_and_ready_for_cutover() {
    let id = SourceServerId::parse("id", "s-0123456789abcdefG").expect("an id");
    for &target in ChangeServerLifeCycleState::TARGETS {
        let change = ChangeServerLifeCycleState::new("lifeCycle.state", id.clone(), target);
        assert_eq!(change.map(|c| c.target()), Ok(target));
    }
    for &state in LifeCycleState::ALL {
        if !ChangeServerLifeCycleState::TARGETS.contains(&state) {
            let change = ChangeServerLifeCycleState::new("lifeCycle.state", id.clone(), state);
            assert_eq!(refused(change), "lifeCycle.state", "{state:?}");
        }
    }
}

#[test]
fn cloud_names_are_read_exactly_and_only_among_the_allowed() {
    let targets = ChangeServerLifeCycleState::TARGETS;
    assert_eq!(
        by_cloud_name("state", "READY_FOR_TEST", targets),
        Ok(LifeCycleState::ReadyForTest)
    );
    for bad in ["TESTING", "ready_for_test", "DONE", "", " READY_FOR_TEST"] {
        let Err(DomainError::Validation(v)) = by_cloud_name("state", bad, targets) else {
            panic!("{bad:?} was accepted");
        };
        assert_eq!(v[0].field, "state");
        assert!(
            v[0].description
                .ends_with("is not one of READY_FOR_TEST, READY_FOR_CUTOVER"),
            "{v:?}"
        );
    }
    for &status in ReplicationJobStatus::ALL {
        let name = status.as_str();
        assert_eq!(
            by_cloud_name("Status", name, ReplicationJobStatus::ALL),
            Ok(status)
        );
    }
    assert_eq!(
        all_by_cloud_name(
            "types",
            &["SNAPSHOT_SHIPPING", "AGENT_BASED"],
            ReplicationType::ALL
        ),
        Ok(vec![
            ReplicationType::SnapshotShipping,
            ReplicationType::AgentBased
        ])
    );
    assert_eq!(
        refused(all_by_cloud_name(
            "types",
            &["AGENT_BASED", "agent_based"],
            ReplicationType::ALL
        )),
        "types"
    );
    assert_eq!(
        all_by_cloud_name::<BusinessStatus>("b", &[], BusinessStatus::ALL),
        Ok(vec![])
    );
}

#[test]
fn job_specs_hold_smc_limits_under_the_wire_names() {
    let source = SourceServerId::parse("id", "s-0123456789abcdefG").expect("an id");
    let create = |name: &str, description: &str, schedule| {
        CreateReplicationJob::new(
            &SPEC,
            source.clone(),
            JobSpecInput {
                name,
                description,
                schedule,
            },
        )
    };
    let every = |frequency_hours, images_to_keep| ScheduleInput::Incremental {
        frequency_hours,
        images_to_keep,
    };
    let once = create("", "", ScheduleInput::RunOnce).expect("a one-off job");
    assert_eq!(once.spec().schedule, JobSchedule::RunOnce);
    assert_eq!(once.source_id(), &source);
    for (frequency, images) in [(1, 1), (168, 10)] {
        let job = create("n", "d", every(frequency, images)).expect("in range");
        assert_eq!(
            job.spec().schedule,
            JobSchedule::Incremental {
                frequency_hours: frequency as u32,
                max_images: images as u32,
            }
        );
    }
    for bad in [0, 169, -1, i64::MAX] {
        assert_eq!(refused(create("", "", every(bad, 1))), "Frequency", "{bad}");
        assert_eq!(refused(create("", "", every(1, bad))), "Images", "{bad}");
    }
    assert!(create(&"n".repeat(128), &"d".repeat(256), ScheduleInput::RunOnce).is_ok());
    assert_eq!(
        refused(create(&"n".repeat(129), "", ScheduleInput::RunOnce)),
        "Name"
    );
    assert_eq!(
        refused(create("", &"d".repeat(257), ScheduleInput::RunOnce)),
        "Description"
    );
    let Err(DomainError::Validation(v)) = create("", "", every(0, 1)) else {
        panic!("frequency 0 was accepted");
    };
    assert!(
        v[0].description.contains("when RunOnce is false"),
        "the wire's names in the message: {v:?}"
    );
}
