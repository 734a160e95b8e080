//! ValidationException naming the field: malformed ids on every call that
//! takes one, and values out of range (page sizes, enums, filter sizes).

use cutover::pb::v1::{
    DescribeReplicationJobsRequest, DescribeSourceServersFilters, DescribeSourceServersRequest,
    LifeCycleState, RegisterSourceServerRequest,
};

use cutover_testkit::{expect_violation, state_of, TestServer};

use super::{
    api::{by_ids, refuse_each, Api, JOB_ID_CALLS, SERVER_ID_CALLS},
    NO_SIMULATOR,
};

/// Malformed source server ids: empty, prefix only, wrong prefix, 16 and
/// 18 characters after the prefix, and characters outside `[0-9a-zA-Z]`.
const BAD_SERVER_IDS: &[&str] = &[
    "",
    "s-",
    "x-0123456789abcdefg",
    "S-0123456789abcdefg",
    "s_0123456789abcdefg",
    "s-0123456789abcdef",
    "s-0123456789abcdefgh",
    "s-0123456789abcdef!",
    "s-0123456789abcdef_",
    "s-01234567 9abcdefg",
    "s-0123456789abcdefé",
    " s-0123456789abcdefg",
    "s-0123456789abcdefg\n",
    "0123456789abcdefgh",
];

/// Malformed replication job ids.
const BAD_JOB_IDS: &[&str] = &[
    "",
    "j-",
    "J-0123456789abcdefghij",
    "s-0123456789abcdefghij",
    "j-0123456789abcdefghi",
    "j-0123456789abcdefghijk",
    "j-0123456789abcdefghiJ",
    "j-0123456789abcdefgh!j",
    "j-0123456789abcdefgh j",
];

/// `n` well-formed source server ids that do not exist.
fn unknown_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("s-{i:017}")).collect()
}

#[tokio::test]
async fn malformed_ids_are_validation_errors_naming_the_field() {
    let server = TestServer::in_process(NO_SIMULATOR);
    let api = Api::new(&server).await;
    let id = api.new_server().await;

    for (bad_ids, calls) in [
        (BAD_SERVER_IDS, SERVER_ID_CALLS),
        (BAD_JOB_IDS, JOB_ID_CALLS),
    ] {
        for &bad in bad_ids {
            for &(call, field) in calls {
                expect_violation(api.refused(call, bad).await, field);
            }
        }
    }

    // None of this touched the one real server.
    assert_eq!(
        state_of(&api.server(&id).await),
        Some(LifeCycleState::PendingInstallation)
    );
}

#[tokio::test]
async fn out_of_range_values_are_validation_errors_naming_the_field() {
    let server = TestServer::in_process(NO_SIMULATOR);
    let api = Api::new(&server).await;
    let id = api.new_server().await;

    // max_results: 1 to 1000, 0 for the default.
    const BAD_MAX_RESULTS: [i32; 4] = [-1, 1001, i32::MIN, i32::MAX];
    for max_results in [0, 1, 1000] {
        let page = api
            .describe_servers(DescribeSourceServersRequest {
                max_results,
                ..Default::default()
            })
            .await
            .expect("max_results in range")
            .into_inner();
        assert_eq!(page.items.len(), 1);
        api.describe_jobs(DescribeReplicationJobsRequest {
            max_results,
            ..Default::default()
        })
        .await
        .expect("max_results in range");
    }

    // Server listings: page size, enums in filters, and filter sizes (at
    // most 200 ids and 10 lifecycle states).
    let filtered = |filters: DescribeSourceServersFilters| DescribeSourceServersRequest {
        filters: Some(filters),
        ..Default::default()
    };
    let states = |life_cycle_states: Vec<i32>| {
        filtered(DescribeSourceServersFilters {
            life_cycle_states,
            ..Default::default()
        })
    };
    let page_sizes = BAD_MAX_RESULTS.map(|max_results| {
        let request = DescribeSourceServersRequest {
            max_results,
            ..Default::default()
        };
        ("max_results", request)
    });
    let state_filters = [
        vec![42],
        vec![LifeCycleState::Cutover as i32, 42],
        vec![0],
        vec![-3],
        (1..=10).chain([1]).collect(),
    ]
    .map(|bad| ("filters.life_cycle_states", states(bad)));
    let types = filtered(DescribeSourceServersFilters {
        replication_types: vec![7],
        ..Default::default()
    });
    refuse_each(
        |request| api.describe_servers(request),
        page_sizes.into_iter().chain(state_filters).chain([
            ("filters.replication_types", types),
            ("filters.source_server_ids", by_ids(unknown_ids(201))),
        ]),
    )
    .await;
    let two_hundred = unknown_ids(199).into_iter().chain([id.clone()]).collect();
    assert_eq!(
        api.describe_servers(by_ids(two_hundred))
            .await
            .expect("200 ids are fine")
            .into_inner()
            .items
            .len(),
        1
    );

    // Job listings: page size, enums, at most 200 ids of either kind.
    let page_sizes = BAD_MAX_RESULTS.map(|max_results| {
        let request = DescribeReplicationJobsRequest {
            max_results,
            ..Default::default()
        };
        ("max_results", request)
    });
    refuse_each(
        |request| api.describe_jobs(request),
        page_sizes.into_iter().chain([
            (
                "statuses",
                DescribeReplicationJobsRequest {
                    statuses: vec![42],
                    ..Default::default()
                },
            ),
            (
                "business_statuses",
                DescribeReplicationJobsRequest {
                    business_statuses: vec![9],
                    ..Default::default()
                },
            ),
            (
                "job_ids",
                DescribeReplicationJobsRequest {
                    job_ids: (0..201).map(|i| format!("j-{i:020}")).collect(),
                    ..Default::default()
                },
            ),
            (
                "source_ids",
                DescribeReplicationJobsRequest {
                    source_ids: unknown_ids(201),
                    ..Default::default()
                },
            ),
        ]),
    )
    .await;

    // ChangeServerLifeCycleState: unknown numbers, UNSPECIFIED, and states
    // that are no target.
    let no_targets = [
        LifeCycleState::Cutover,
        LifeCycleState::CuttingOver,
        LifeCycleState::Testing,
        LifeCycleState::Disconnected,
        LifeCycleState::Discovered,
        LifeCycleState::PendingInstallation,
        LifeCycleState::NotReady,
        LifeCycleState::Stopped,
    ]
    .map(|state| state as i32);
    refuse_each(
        |state| api.change_state(&id, state),
        [99, -1, 0]
            .into_iter()
            .chain(no_targets)
            .map(|state| ("state", state)),
    )
    .await;

    refuse_each(
        |request| api.register(request),
        [(
            "replication_type",
            RegisterSourceServerRequest {
                replication_type: 9,
                ..Default::default()
            },
        )],
    )
    .await;

    // Nothing was registered by the refused calls, and the server did not
    // move.
    assert_eq!(api.list_servers(&[]).await, vec![id.clone()]);
    assert_eq!(
        state_of(&api.server(&id).await),
        Some(LifeCycleState::PendingInstallation)
    );
}
