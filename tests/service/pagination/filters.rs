//! Filters select exactly their servers at any page size, and a next
//! token only resumes the filter it was issued for.

use std::collections::BTreeSet;

use cutover::pb::v1::{
    DescribeReplicationJobsRequest, DescribeSourceServersFilters, LifeCycleState,
    RegisterSourceServerRequest, ReplicationType,
};

use cutover_testkit::{archive, disconnect, expect_violation, TestServer};

use super::{describe, page, register_many, union, walk, NO_SIMULATOR};

#[tokio::test]
async fn filters_select_and_tokens_are_bound_to_their_filter() {
    let server = TestServer::in_process(NO_SIMULATOR);
    let mut client = server.servers().await;
    let ids = register_many(&client, 30, 4).await;
    let mut snapshot = Vec::new();
    for _ in 0..5 {
        snapshot.push(
            client
                .register_source_server(RegisterSourceServerRequest {
                    replication_type: ReplicationType::SnapshotShipping as i32,
                    ..Default::default()
                })
                .await
                .expect("register snapshot shipping")
                .into_inner()
                .source_server_id,
        );
    }
    let all: BTreeSet<String> = ids.iter().chain(&snapshot).cloned().collect();
    let disconnected: BTreeSet<String> = ids[..10].iter().cloned().collect();
    let archived: BTreeSet<String> = ids[..4].iter().cloned().collect();
    for id in &disconnected {
        disconnect(&mut client, id).await;
    }
    for id in &archived {
        archive(&mut client, id).await;
    }
    let pending: BTreeSet<String> = all.difference(&disconnected).cloned().collect();
    let unarchived: BTreeSet<String> = all.difference(&archived).cloned().collect();

    let filter = |f: DescribeSourceServersFilters| Some(f);
    let listed = |pages: Vec<Vec<String>>| union(&pages);

    // No filter: everything, archived included.
    assert_eq!(listed(walk(&mut client, None, 4).await), all);
    assert_eq!(
        listed(
            walk(
                &mut client,
                filter(DescribeSourceServersFilters::default()),
                4
            )
            .await
        ),
        all,
        "empty filters match everything"
    );

    // is_archived.
    let archived_only = filter(DescribeSourceServersFilters {
        is_archived: Some(true),
        ..Default::default()
    });
    assert_eq!(
        listed(walk(&mut client, archived_only.clone(), 3).await),
        archived
    );
    let unarchived_only = filter(DescribeSourceServersFilters {
        is_archived: Some(false),
        ..Default::default()
    });
    let pages = walk(&mut client, unarchived_only.clone(), 3).await;
    assert_eq!(pages.len(), unarchived.len().div_ceil(3));
    assert_eq!(listed(pages), unarchived);

    // life_cycle_states.
    let states = |states: &[LifeCycleState]| {
        filter(DescribeSourceServersFilters {
            life_cycle_states: states.iter().map(|s| *s as i32).collect(),
            ..Default::default()
        })
    };
    assert_eq!(
        listed(walk(&mut client, states(&[LifeCycleState::Disconnected]), 3).await),
        disconnected
    );
    assert_eq!(
        listed(
            walk(
                &mut client,
                states(&[LifeCycleState::PendingInstallation]),
                7
            )
            .await
        ),
        pending
    );
    assert_eq!(
        listed(
            walk(
                &mut client,
                states(&[
                    LifeCycleState::PendingInstallation,
                    LifeCycleState::Disconnected
                ]),
                7
            )
            .await
        ),
        all
    );
    assert!(
        walk(&mut client, states(&[LifeCycleState::Cutover]), 7).await
            == vec![Vec::<String>::new()],
        "no server is CUTOVER: one empty page without a token"
    );

    // Combined: disconnected but not archived.
    let combined = filter(DescribeSourceServersFilters {
        is_archived: Some(false),
        life_cycle_states: vec![LifeCycleState::Disconnected as i32],
        ..Default::default()
    });
    let expected: BTreeSet<String> = disconnected.difference(&archived).cloned().collect();
    assert_eq!(listed(walk(&mut client, combined, 2).await), expected);

    // replication_types.
    let types = |t: ReplicationType| {
        filter(DescribeSourceServersFilters {
            replication_types: vec![t as i32],
            ..Default::default()
        })
    };
    assert_eq!(
        listed(walk(&mut client, types(ReplicationType::SnapshotShipping), 2).await),
        snapshot.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        listed(walk(&mut client, types(ReplicationType::AgentBased), 100).await),
        ids.iter().cloned().collect::<BTreeSet<_>>()
    );

    // source_server_ids: the listed ones that exist; an unknown one is
    // simply absent.
    let chosen: Vec<String> = vec![
        ids[0].clone(),
        ids[15].clone(),
        ids[29].clone(),
        snapshot[2].clone(),
    ];
    let by_id = filter(DescribeSourceServersFilters {
        source_server_ids: chosen
            .iter()
            .cloned()
            .chain(["s-00000000000000000".to_owned()])
            .collect(),
        ..Default::default()
    });
    let pages = walk(&mut client, by_id.clone(), 3).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 1]);
    assert_eq!(
        listed(pages),
        chosen.iter().cloned().collect::<BTreeSet<_>>()
    );
    let by_id_unarchived = filter(DescribeSourceServersFilters {
        source_server_ids: chosen.clone(),
        is_archived: Some(false),
        ..Default::default()
    });
    assert_eq!(
        listed(walk(&mut client, by_id_unarchived, 10).await),
        chosen[1..].iter().cloned().collect::<BTreeSet<_>>(),
        "ids[0] is archived"
    );

    // A token only resumes the query it was issued for.
    let (_, token) = page(&mut client, unarchived_only.clone(), 3, "").await;
    assert!(!token.is_empty());
    for other in [
        None,
        archived_only.clone(),
        states(&[LifeCycleState::PendingInstallation]),
        by_id.clone(),
        filter(DescribeSourceServersFilters::default()),
    ] {
        let status = client
            .describe_source_servers(describe(other.clone(), 3, &token))
            .await
            .expect_err("a token sent with another filter");
        expect_violation(status, "next_token");
    }
    // The same filter with another page size resumes fine.
    let (resumed, next_token) = page(&mut client, unarchived_only.clone(), 50, &token).await;
    assert_eq!(resumed.len(), unarchived.len() - 3);
    assert!(next_token.is_empty());

    // A server's token is no job token.
    let mut jobs = server.jobs().await;
    let status = jobs
        .describe_replication_jobs(DescribeReplicationJobsRequest {
            next_token: token,
            ..Default::default()
        })
        .await
        .expect_err("a source server token for jobs");
    expect_violation(status, "next_token");
}
