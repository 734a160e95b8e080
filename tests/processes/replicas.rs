//! Several `cutoverd` replicas on one PostgreSQL database: one answer per
//! contested cutover, one gap-free revision order seen by every replica's
//! watchers, background duties that move to a live replica when theirs
//! dies or pauses (and run each step once), and a database restart that
//! loses nothing acknowledged.

use std::{collections::HashMap, time::Duration};

use cutover::pb::v1::{
    watch_lifecycle_events_response::Kind, LifecycleEvent, LifecycleEventType, ReplicationJobStatus,
};
use cutover_testkit::*;
use tonic::Code;

/// A lease lasts one second: a dead replica's duties move within about
/// that.
const LEASE: &[&str] = &["--lease-ttl-ms", "1000"];

/// Starts `count` replicas on `database`, named r0, r1, ...; r0 starts
/// first and so takes the background duties.
fn replicas(database: &Database, count: usize, args: &[&str]) -> Vec<TestServer> {
    (0..count)
        .map(|n| {
            let name = format!("r{n}");
            let mut all = vec!["--database-url", &database.url, "--replica-id", &name];
            all.extend_from_slice(LEASE);
            all.extend_from_slice(args);
            let replica = TestServer::start(&all);
            if n == 0 {
                wait_for_lease_owner(database, "data-plane", "r0");
            }
            replica
        })
        .collect()
}

/// The replica holding `lease` (empty before the schema exists).
fn lease_owner(database: &Database, lease: &str) -> String {
    database
        .try_query(&format!(
            "SELECT owner FROM leases WHERE name = '{lease}' AND valid_until > now()"
        ))
        .unwrap_or_default()
}

fn wait_for_lease_owner(database: &Database, lease: &str, owner: &str) {
    eventually_blocking(DEADLINE, &format!("{owner} to hold {lease}"), || {
        (lease_owner(database, lease) == owner).then_some(())
    });
}

/// Every event of `resource_id` from the start of the log until `done`
/// says it is the last one needed.
async fn history_until(
    server: &TestServer,
    resource_id: &str,
    done: impl Fn(&LifecycleEvent) -> bool,
) -> Vec<LifecycleEvent> {
    let mut lifecycle = server.lifecycle().await;
    let mut request = watch_from(1);
    request.resource_ids = vec![resource_id.to_owned()];
    let mut watch = open_watch(&mut lifecycle, request).await;
    let mut events = Vec::new();
    loop {
        if let Kind::Event(event) = next_message(&mut watch).await {
            let last = done(&event);
            events.push(event);
            if last {
                return events;
            }
        }
    }
}

fn job_status(event: &LifecycleEvent) -> Option<i32> {
    match event.new_state.as_ref()?.state.as_ref()? {
        cutover::pb::v1::resource_state::State::ReplicationJob(job) => Some(job.status),
        cutover::pb::v1::resource_state::State::SourceServer(_) => None,
    }
}

fn job_progress(event: &LifecycleEvent) -> Option<f64> {
    match event.new_state.as_ref()?.state.as_ref()? {
        cutover::pb::v1::resource_state::State::ReplicationJob(job) => Some(job.progress),
        cutover::pb::v1::resource_state::State::SourceServer(_) => None,
    }
}

/// The progress each step of a job's last run reported, in order: the
/// progress events since it last left Waiting.
fn final_sync_progress(history: &[LifecycleEvent]) -> Vec<f64> {
    let mut progress: Vec<f64> = history
        .iter()
        .rev()
        .take_while(|e| job_status(e) != Some(ReplicationJobStatus::Waiting as i32))
        .filter(|e| e.event_type == LifecycleEventType::ReplicationJobProgress as i32)
        .filter_map(job_progress)
        .collect();
    progress.reverse();
    assert!(!progress.is_empty(), "the final sync reported progress");
    progress
}

fn pending_tasks(event: &LifecycleEvent) -> Option<i32> {
    match event.new_state.as_ref()?.state.as_ref()? {
        cutover::pb::v1::resource_state::State::SourceServer(server) => {
            Some(server.pending_follow_up_tasks)
        }
        cutover::pb::v1::resource_state::State::ReplicationJob(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contested_cutovers_spread_over_three_replicas_have_exactly_one_winner_each() {
    let database = Database::fresh();
    let replicas = replicas(&database, 3, &["--sim-speed", "600"]);
    let mut servers = replicas[0].servers().await;
    let mut cutting_over = Vec::new();
    for _ in 0..5 {
        let id = register(&mut servers).await;
        take_to_cutting_over(&mut servers, &id).await;
        cutting_over.push(id);
    }
    let mut waiting = Vec::new();
    for _ in 0..5 {
        waiting.push(waiting_job(&replicas[1], 1, 2).await.1);
    }

    // 50 FinalizeCutover and 50 CutOverReplicationJob calls at once, each
    // resource's ten calls spread over the three replicas.
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..50 {
        let replica = &replicas[n % 3];
        let (mut servers, mut jobs) = (replica.servers().await, replica.jobs().await);
        let (server, job) = (cutting_over[n % 5].clone(), waiting[n % 5].clone());
        calls.spawn(async move {
            let finalized = servers
                .finalize_cutover(cutover::pb::v1::FinalizeCutoverRequest {
                    source_server_id: server.clone(),
                    ..Default::default()
                })
                .await;
            let cut = cut_over_job(&mut jobs, &job, n % 2 == 0).await;
            (server, finalized.map(drop), job, cut.map(drop))
        });
    }
    let mut wins: HashMap<String, usize> = HashMap::new();
    while let Some(outcome) = calls.join_next().await {
        let (server, finalized, job, cut) = outcome.expect("call task");
        for (id, result) in [(server, finalized), (job, cut)] {
            match result {
                Ok(()) => *wins.entry(id).or_default() += 1,
                Err(status) => assert!(
                    matches!(status.code(), Code::FailedPrecondition | Code::Aborted),
                    "a losing call says why: {status:?}"
                ),
            }
        }
    }
    for id in cutting_over.iter().chain(&waiting) {
        assert_eq!(wins.get(id), Some(&1), "{id} has exactly one winner");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watchers_on_every_replica_see_the_same_gap_free_sequence() {
    let database = Database::fresh();
    let replicas = replicas(&database, 3, &["--simulator", "none"]);
    let mut watches = Vec::new();
    for replica in &replicas {
        let mut lifecycle = replica.lifecycle().await;
        watches.push(open_watch(&mut lifecycle, watch_from(1)).await);
    }
    // Writers on every replica at once.
    let mut writers = tokio::task::JoinSet::new();
    for replica in &replicas {
        let mut servers = replica.servers().await;
        writers.spawn(async move { churn(&mut servers, 10).await });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    // Three writers, ten servers each, three events per server.
    let head = 90;
    let mut seen = Vec::new();
    for watch in &mut watches {
        let events = events_until(watch, head).await;
        let revisions: Vec<u64> = events.iter().map(|e| e.revision).collect();
        assert_eq!(
            revisions,
            (1..=head).collect::<Vec<_>>(),
            "gap-free, in order"
        );
        seen.push(
            events
                .iter()
                .map(|e| (e.resource_id.clone(), e.event_type))
                .collect::<Vec<_>>(),
        );
    }
    assert!(
        seen.windows(2).all(|pair| pair[0] == pair[1]),
        "every replica's watchers see the same events at the same revisions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_final_sync_whose_replica_is_killed_finishes_on_another_with_no_step_run_twice() {
    let database = Database::fresh();
    let mut replicas = replicas(&database, 2, &["--sim-speed", "4"]);
    let (_, job) = waiting_job(&replicas[1], 1, 2).await;
    let mut jobs = replicas[1].jobs().await;
    cut_over_job(&mut jobs, &job, true)
        .await
        .expect("CutOverReplicationJob");
    eventually(DEADLINE, "the final sync to be under way", || {
        let mut jobs = jobs.clone();
        let job = job.clone();
        async move {
            let job = get_job(&mut jobs, &job).await;
            (job.progress > 0.0 && job.progress < 100.0).then_some(())
        }
    })
    .await;
    replicas[0].kill();
    wait_for_lease_owner(&database, "data-plane", "r1");
    wait_for_job_status(&mut jobs, &job, ReplicationJobStatus::Finished).await;

    let history = history_until(&replicas[1], &job, |event| {
        job_status(event) == Some(ReplicationJobStatus::Finished as i32)
    })
    .await;
    let finished = history
        .iter()
        .filter(|e| job_status(e) == Some(ReplicationJobStatus::Finished as i32))
        .count();
    assert_eq!(finished, 1, "the job finished once");
    let progress = final_sync_progress(&history);
    assert!(
        progress.windows(2).all(|pair| pair[0] < pair[1]),
        "each step of the final sync applied once, in order: {progress:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_teardown_whose_replica_is_killed_completes_on_another_exactly_once() {
    let database = Database::fresh();
    let mut replicas = replicas(&database, 2, &["--sim-speed", "10"]);
    let mut servers = replicas[1].servers().await;
    let id = register(&mut servers).await;
    take_to_cutover(&mut servers, &id).await;
    // The teardown takes six scaled seconds on r0's infrastructure.
    tokio::time::sleep(Duration::from_millis(500)).await;
    replicas[0].kill();
    wait_for_lease_owner(&database, "data-plane", "r1");
    wait_for_follow_ups(&servers, &id).await;

    let history = history_until(&replicas[1], &id, |event| {
        event.event_type == LifecycleEventType::FollowUpTaskCompleted as i32
            && pending_tasks(event) == Some(0)
    })
    .await;
    let mut completions: HashMap<String, usize> = HashMap::new();
    for event in history
        .iter()
        .filter(|e| e.event_type == LifecycleEventType::FollowUpTaskCompleted as i32)
    {
        let task = event.follow_up_task.as_ref().expect("the task is named");
        *completions.entry(task.task_id.clone()).or_default() += 1;
    }
    assert_eq!(
        completions.len(),
        2,
        "uninstall and teardown both completed"
    );
    assert!(
        completions.values().all(|&n| n == 1),
        "each completed once: {completions:?}"
    );
}

/// The store refuses a stale fence (`store::postgres::tests`); this is the
/// whole path: a replica frozen mid-step wakes while another carries the
/// step on, and the job still moves through each step once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paused_replica_that_wakes_with_an_old_fence_cannot_apply_a_step() {
    let database = Database::fresh();
    // A tick is half a second: the final sync takes two.
    let replicas = replicas(&database, 2, &["--sim-speed", "2"]);
    let (_, job) = waiting_job(&replicas[1], 1, 2).await;
    let mut jobs = replicas[1].jobs().await;
    cut_over_job(&mut jobs, &job, true)
        .await
        .expect("CutOverReplicationJob");
    let progress_now =
        |jobs: &cutover::pb::v1::replication_job_service_client::ReplicationJobServiceClient<
            tonic::transport::Channel,
        >| {
            let (mut jobs, job) = (jobs.clone(), job.clone());
            async move { get_job(&mut jobs, &job).await.progress }
        };
    let paused_at = eventually(DEADLINE, "r0's agent to start the final sync", || async {
        let progress = progress_now(&jobs).await;
        (progress > 0.0).then_some(progress)
    })
    .await;
    replicas[0].pause();
    wait_for_lease_owner(&database, "data-plane", "r1");
    // r1 carries on; r0 wakes in the middle of it, its agent a step
    // behind and its fence stale.
    eventually(DEADLINE, "r1 to take the final sync further", || async {
        (progress_now(&jobs).await > paused_at).then_some(())
    })
    .await;
    replicas[0].resume();
    wait_for_job_status(&mut jobs, &job, ReplicationJobStatus::Finished).await;
    let mut servers = replicas[0].servers().await;
    register(&mut servers).await;
    assert_eq!(
        lease_owner(&database, "data-plane"),
        "r1",
        "the woken replica gave the duty up"
    );

    let history = history_until(&replicas[0], &job, |event| {
        job_status(event) == Some(ReplicationJobStatus::Finished as i32)
    })
    .await;
    let progress = final_sync_progress(&history);
    assert!(
        progress.windows(2).all(|pair| pair[0] < pair[1]),
        "each step of the final sync applied once, in order: {progress:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_restart_is_unavailable_meanwhile_and_loses_nothing_acknowledged() {
    let cluster = OwnCluster::start();
    let database = cluster.database();
    let replicas = replicas(&database, 2, &["--simulator", "none"]);
    let mut acknowledged = Vec::new();
    for replica in &replicas {
        let mut servers = replica.servers().await;
        for _ in 0..10 {
            acknowledged.push(register(&mut servers).await);
        }
    }

    cluster.pause();
    let mut servers = replicas[1].servers().await;
    let refused = servers
        .register_source_server(cutover::pb::v1::RegisterSourceServerRequest::default())
        .await
        .expect_err("no database, no durable write");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    // Reads are served from the read model meanwhile.
    get_server(&mut servers, &acknowledged[0]).await;
    cluster.resume();

    let after = eventually(DEADLINE, "writes to succeed again", || {
        let mut servers = servers.clone();
        async move {
            servers
                .register_source_server(cutover::pb::v1::RegisterSourceServerRequest::default())
                .await
                .ok()
                .map(|r| r.into_inner().source_server_id)
        }
    })
    .await;
    acknowledged.push(after);
    for replica in &replicas {
        let servers = replica.servers().await;
        for id in &acknowledged {
            eventually(DEADLINE, &format!("{id} on every replica"), || {
                let mut servers = servers.clone();
                let request = cutover::pb::v1::GetSourceServerRequest {
                    source_server_id: id.clone(),
                };
                async move { servers.get_source_server(request).await.ok().map(drop) }
            })
            .await;
        }
    }
}
