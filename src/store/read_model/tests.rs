//! Tests of the read model: its indexes against a brute-force reference
//! over random histories, snapshots against later writes, and the order
//! it applies the log in.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::ReadModel;
use crate::domain::{
    BusinessStatus, FollowUpTask, FollowUpTaskId, FollowUpTaskKind, LifeCycleState, Millis,
    ReplicationJob, ReplicationJobStatus, ReplicationType, Resource, SourceServer, Timestamp,
};
use crate::store::fixtures::{account, event, jid, job, server, sid};
use crate::store::{ReplicationJobFilter, SourceServerFilter};

/// One change of the random history.
#[derive(Debug, Clone)]
enum Change {
    Server {
        account: u64,
        n: u64,
        state: LifeCycleState,
        kind: ReplicationType,
        archived: bool,
        /// A pending task due at this time, if any.
        task_due: Option<i64>,
    },
    Job {
        account: u64,
        n: u64,
        source: u64,
        status: ReplicationJobStatus,
        business: Option<BusinessStatus>,
    },
}

fn change() -> impl Strategy<Value = Change> {
    let server = (
        0..2u64,
        0..30u64,
        proptest::sample::select(LifeCycleState::ALL),
        proptest::sample::select(ReplicationType::ALL),
        any::<bool>(),
        proptest::option::of(0..100i64),
    )
        .prop_map(
            |(account, n, state, kind, archived, task_due)| Change::Server {
                account,
                n,
                state,
                kind,
                archived,
                task_due,
            },
        );
    let job = (
        0..2u64,
        0..20u64,
        0..10u64,
        proptest::sample::select(ReplicationJobStatus::ALL),
        proptest::option::of(proptest::sample::select(BusinessStatus::ALL)),
    )
        .prop_map(|(account, n, source, status, business)| Change::Job {
            account,
            n,
            source,
            status,
            business,
        });
    prop_oneof![3 => server, 2 => job]
}

fn resource_of(change: &Change) -> Resource {
    match *change {
        Change::Server {
            account: a,
            n,
            state,
            kind,
            archived,
            task_due,
        } => {
            let mut s = server(&account(a), n);
            s.life_cycle.state = state;
            s.replication_type = kind;
            s.is_archived = archived;
            if let Some(due) = task_due {
                let id = FollowUpTaskId::parse("task", &format!("task-{n:020}")).expect("task id");
                let kind = FollowUpTaskKind::AgentUninstall;
                let mut task = FollowUpTask::record(id, kind, Timestamp(0), Millis(due));
                task.overdue = due % 7 == 0;
                s.follow_up_tasks.push(task);
            }
            Resource::SourceServer(s)
        }
        Change::Job {
            account: a,
            n,
            source,
            status,
            business,
        } => {
            let mut j = job(&account(a), n, source, status);
            j.business_status = business;
            Resource::ReplicationJob(j)
        }
    }
}

/// What the read model should hold: the last write of every resource.
#[derive(Default)]
struct Reference {
    servers: BTreeMap<(u64, String), SourceServer>,
    jobs: BTreeMap<(u64, String), ReplicationJob>,
}

impl Reference {
    fn apply(&mut self, account_n: u64, resource: &Resource) {
        match resource {
            Resource::SourceServer(s) => {
                self.servers
                    .insert((account_n, s.id.to_string()), s.clone());
            }
            Resource::ReplicationJob(j) => {
                self.jobs.insert((account_n, j.id.to_string()), j.clone());
            }
        }
    }
}

fn account_of(change: &Change) -> u64 {
    match change {
        Change::Server { account, .. } | Change::Job { account, .. } => *account,
    }
}

fn model_after(changes: &[Change]) -> (ReadModel, Reference) {
    let model = ReadModel::load(0, []);
    let mut reference = Reference::default();
    for (i, change) in changes.iter().enumerate() {
        let resource = resource_of(change);
        reference.apply(account_of(change), &resource);
        model
            .apply(vec![event(i as u64 + 1, resource)])
            .expect("in order");
    }
    (model, reference)
}

fn server_filter() -> impl Strategy<Value = SourceServerFilter> {
    (
        proptest::collection::vec(0..30u64, 0..4),
        proptest::option::of(any::<bool>()),
        proptest::sample::subsequence(ReplicationType::ALL.to_vec(), 0..=2),
        proptest::sample::subsequence(LifeCycleState::ALL.to_vec(), 0..=3),
    )
        .prop_map(|(ids, is_archived, types, states)| SourceServerFilter {
            ids: ids.into_iter().map(sid).collect(),
            is_archived,
            replication_types: types,
            life_cycle_states: states,
        })
}

fn job_filter() -> impl Strategy<Value = ReplicationJobFilter> {
    (
        proptest::collection::vec(0..20u64, 0..3),
        proptest::collection::vec(0..10u64, 0..3),
        proptest::sample::subsequence(ReplicationJobStatus::ALL.to_vec(), 0..=3),
        proptest::sample::subsequence(BusinessStatus::ALL.to_vec(), 0..=2),
    )
        .prop_map(|(ids, sources, statuses, business)| ReplicationJobFilter {
            ids: ids.into_iter().map(jid).collect(),
            source_ids: sources.into_iter().map(sid).collect(),
            statuses,
            business_statuses: business,
        })
}

fn server_matches(filter: &SourceServerFilter, s: &SourceServer) -> bool {
    (filter.ids.is_empty() || filter.ids.contains(&s.id))
        && filter.is_archived.is_none_or(|a| a == s.is_archived)
        && (filter.replication_types.is_empty()
            || filter.replication_types.contains(&s.replication_type))
        && (filter.life_cycle_states.is_empty()
            || filter.life_cycle_states.contains(&s.life_cycle.state))
}

fn job_matches(filter: &ReplicationJobFilter, j: &ReplicationJob) -> bool {
    (filter.ids.is_empty() || filter.ids.contains(&j.id))
        && (filter.source_ids.is_empty() || filter.source_ids.contains(&j.source_id))
        && (filter.statuses.is_empty() || filter.statuses.contains(&j.status))
        && (filter.business_statuses.is_empty()
            || j.business_status
                .is_some_and(|b| filter.business_statuses.contains(&b)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every page of every filter, walked to the end, is exactly the
    /// matching resources in id order.
    #[test]
    fn pages_match_a_brute_force_scan(
        changes in proptest::collection::vec(change(), 0..120),
        servers in server_filter(),
        jobs in job_filter(),
        page in 1..7usize,
    ) {
        let (model, reference) = model_after(&changes);
        for a in 0..2 {
            let expected: Vec<String> = reference.servers.iter()
                .filter(|((acct, _), s)| *acct == a && server_matches(&servers, s))
                .map(|((_, id), _)| id.clone())
                .collect();
            let mut got = Vec::new();
            let mut after = None;
            loop {
                let items = model.list_source_servers(&account(a), &servers, after.as_ref(), page).items;
                prop_assert!(items.len() <= page);
                let Some(last) = items.last() else { break };
                after = Some(last.server.value.id.clone());
                got.extend(items.iter().map(|e| e.server.value.id.to_string()));
            }
            prop_assert_eq!(got, expected);

            let expected: Vec<String> = reference.jobs.iter()
                .filter(|((acct, _), j)| *acct == a && job_matches(&jobs, j))
                .map(|((_, id), _)| id.clone())
                .collect();
            let mut got = Vec::new();
            let mut after = None;
            loop {
                let items = model.list_replication_jobs(&account(a), &jobs, after.as_ref(), page).items;
                prop_assert!(items.len() <= page);
                let Some(last) = items.last() else { break };
                after = Some(last.value.id.clone());
                got.extend(items.iter().map(|e| e.value.id.to_string()));
            }
            prop_assert_eq!(got, expected);
        }
    }

    /// The indexes of the service's own work and SMC's InUse agree with
    /// the resources they index.
    #[test]
    fn work_indexes_match_the_resources(changes in proptest::collection::vec(change(), 0..120)) {
        let (model, reference) = model_after(&changes);
        let pending: Vec<&FollowUpTask> = reference.servers.values()
            .flat_map(|s| s.follow_up_tasks.iter())
            .filter(|t| t.is_pending())
            .collect();
        let overdue = pending.iter().filter(|t| t.overdue).count() as u64;
        prop_assert_eq!(model.follow_up_task_counts(), (pending.len() as u64, overdue));
        let mut due: Vec<String> = pending.iter()
            .filter(|t| !t.overdue && t.deadline <= Timestamp(50))
            .map(|t| t.id.to_string())
            .collect();
        due.sort();
        let mut got: Vec<String> = model.overdue_follow_up_tasks(Timestamp(50), usize::MAX)
            .into_iter()
            .map(|(_, _, task)| task.to_string())
            .collect();
        got.sort();
        prop_assert_eq!(got, due);

        let active = reference.servers.values().filter(|s| {
            !(matches!(s.life_cycle.state, LifeCycleState::Cutover | LifeCycleState::Disconnected)
                || s.is_archived)
                || s.follow_up_tasks.iter().any(FollowUpTask::is_pending)
        }).count();
        prop_assert_eq!(model.active_source_servers(usize::MAX).len(), active);
        let active_jobs = reference.jobs.values().filter(|j| matches!(
            j.status, ReplicationJobStatus::Running | ReplicationJobStatus::Waiting
        )).count();
        prop_assert_eq!(model.active_replication_jobs(usize::MAX).len(), active_jobs);

        for ((a, _), s) in &reference.servers {
            let running = reference.jobs.iter().any(|((b, _), j)| {
                b == a && j.source_id == s.id && j.status == ReplicationJobStatus::Running
            });
            let entry = model.source_server(&account(*a), &s.id).expect("present");
            prop_assert_eq!(entry.has_running_job, running, "{}", s.id);
            prop_assert_eq!(&*entry.server.value, s);
        }
    }

    /// A snapshot keeps showing its revision while later writes change,
    /// add and re-index resources.
    #[test]
    fn a_snapshot_is_unchanged_by_later_writes(
        before in proptest::collection::vec(change(), 0..60),
        after in proptest::collection::vec(change(), 0..60),
    ) {
        let (model, reference) = model_after(&before);
        let snapshot = model.snapshot(&account(0));
        let at = before.len() as u64;
        for (i, change) in after.iter().enumerate() {
            model.apply(vec![event(at + i as u64 + 1, resource_of(change))]).expect("in order");
        }
        prop_assert_eq!(snapshot.revision(), at);
        let servers: Vec<String> = snapshot.source_servers_after(None, usize::MAX).iter()
            .map(|e| e.server.value.id.to_string()).collect();
        let expected: Vec<String> = reference.servers.keys()
            .filter(|(a, _)| *a == 0).map(|(_, id)| id.clone()).collect();
        prop_assert_eq!(servers, expected);
        for entry in snapshot.source_servers_after(None, usize::MAX) {
            let id = entry.server.value.id.to_string();
            prop_assert_eq!(&*entry.server.value, &reference.servers[&(0, id)]);
        }
        let jobs: Vec<String> = snapshot.replication_jobs_after(None, usize::MAX).iter()
            .map(|e| e.value.id.to_string()).collect();
        let expected: Vec<String> = reference.jobs.keys()
            .filter(|(a, _)| *a == 0).map(|(_, id)| id.clone()).collect();
        prop_assert_eq!(jobs, expected);
    }
}

#[test]
fn the_log_is_applied_in_order_without_gaps() {
    let model = ReadModel::load(5, []);
    let a = account(1);
    let resource = |n| Resource::SourceServer(server(&a, n));
    let err = model.apply(vec![event(7, resource(1))]).unwrap_err();
    assert_eq!((err.applied, err.got), (5, 7));
    assert_eq!(model.revision(), 5);
    let mut events = model.subscribe();
    model
        .apply(vec![event(6, resource(1)), event(7, resource(1))])
        .unwrap();
    assert_eq!(model.revision(), 7);
    let entry = model.source_server(&a, &sid(1)).unwrap();
    assert_eq!((entry.server.version, entry.server.revision), (2, 7));
    assert_eq!(events.try_recv().unwrap().revision, 6);
    assert_eq!(events.try_recv().unwrap().revision, 7);
    // A replayed revision is refused and changes nothing.
    assert!(model.apply(vec![event(7, resource(2))]).is_err());
    assert!(model.source_server(&a, &sid(2)).is_none());
}

#[tokio::test(start_paused = true)]
async fn a_wait_for_a_revision_ends_when_it_is_applied_or_at_its_limit() {
    let model = std::sync::Arc::new(ReadModel::load(5, []));
    let limit = std::time::Duration::from_secs(5);
    assert!(model.until_applied(5, limit).await, "already applied");
    assert!(!model.until_applied(6, limit).await, "nothing applies it");
    let waiting = tokio::spawn({
        let model = std::sync::Arc::clone(&model);
        async move { model.until_applied(7, limit).await }
    });
    let a = account(1);
    model
        .apply(vec![event(6, Resource::SourceServer(server(&a, 1)))])
        .expect("in order");
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished(), "6 is not 7");
    model
        .apply(vec![event(7, Resource::SourceServer(server(&a, 1)))])
        .expect("in order");
    assert!(waiting.await.expect("the waiter"), "7 applied");
}
