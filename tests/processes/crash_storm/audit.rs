//! What must hold after a wave, storm or not: the log is contiguous from
//! revision 1; every acknowledged mutation is in it; every data-plane step
//! ran once (each task completed once, each job finished once, no run
//! recorded twice); and progress was resumed, never redone.

use std::collections::{HashMap, HashSet};

use cutover::pb::v1::{
    lifecycle_event::Resource, lifecycle_service_client::LifecycleServiceClient,
    watch_lifecycle_events_response::Kind, InitiationStepStatus, LifeCycleState, LifecycleEvent,
    LifecycleEventType, ReplicationJob, ReplicationJobBusinessStatus, ReplicationJobStatus,
    SourceServer, WatchLifecycleEventsRequest,
};

use super::{
    driver::{Step, Wave},
    storm::Storm,
};

/// Checks every promise of the module doc against the whole log.
pub(crate) async fn check(storm: &Storm, wave: &Wave) {
    let log = whole_log(storm).await;
    let revisions: Vec<u64> = log.iter().map(|e| e.revision).collect();
    let expected: Vec<u64> = (1..=revisions.len() as u64).collect();
    assert!(revisions == expected, "revisions are not contiguous from 1");

    let mut history: HashMap<&str, Vec<&LifecycleEvent>> = HashMap::new();
    for event in &log {
        history.entry(&event.resource_id).or_default().push(event);
    }
    for (id, step) in &wave.acknowledged {
        let events = history.get(id.as_str()).map_or(&[][..], Vec::as_slice);
        assert!(
            events.iter().any(|e| records(e, *step)),
            "acknowledged {step:?} of {id} is not in the log"
        );
    }
    for id in &wave.servers {
        let events = &history[id.as_str()];
        check_server(id, events);
    }
    for (_, job) in &wave.jobs {
        check_job(job, &history[job.as_str()]);
    }
}

fn server(event: &LifecycleEvent) -> Option<&SourceServer> {
    match event.resource.as_ref()? {
        Resource::SourceServer(server) => Some(server),
        Resource::ReplicationJob(_) => None,
    }
}

fn job(event: &LifecycleEvent) -> Option<&ReplicationJob> {
    match event.resource.as_ref()? {
        Resource::ReplicationJob(job) => Some(job),
        Resource::SourceServer(_) => None,
    }
}

/// True when `event` is the one that records `step`.
fn records(event: &LifecycleEvent, step: Step) -> bool {
    let state = server(event)
        .and_then(|s| s.life_cycle.as_ref())
        .map(|l| l.state);
    let entered = |target: LifeCycleState| state == Some(target as i32);
    match step {
        Step::Registered => event.event_type == LifecycleEventType::SourceServerRegistered as i32,
        Step::StartTest => entered(LifeCycleState::Testing),
        Step::ReadyForCutover => entered(LifeCycleState::ReadyForCutover),
        Step::StartCutover => entered(LifeCycleState::CuttingOver),
        Step::Finalize => entered(LifeCycleState::Cutover),
        Step::JobCreated => event.event_type == LifecycleEventType::ReplicationJobCreated as i32,
        Step::JobStarted => {
            job(event).is_some_and(|j| j.status == ReplicationJobStatus::Running as i32)
        }
        Step::JobCutOver => job(event).is_some_and(|j| j.cut_over.is_some()),
    }
}

/// Each task completed once; initiation steps, bytes and task progress
/// never went back.
fn check_server(id: &str, events: &[&LifecycleEvent]) {
    let mut completions: HashMap<String, usize> = HashMap::new();
    for event in events {
        if event.event_type == LifecycleEventType::FollowUpTaskCompleted as i32 {
            let task = event.follow_up_task.as_ref().map(|t| t.task_id.clone());
            *completions.entry(task.unwrap_or_default()).or_default() += 1;
        }
    }
    assert_eq!(
        completions.len(),
        2,
        "{id}: tasks completed {completions:?}"
    );
    assert!(
        completions.values().all(|&n| n == 1),
        "{id}: {completions:?}"
    );

    let servers: Vec<&SourceServer> = events.iter().filter_map(|e| server(e)).collect();
    let steps_done = |s: &SourceServer| {
        s.data_replication_info
            .as_ref()
            .and_then(|i| i.data_replication_initiation.as_ref())
            .map_or(0, |init| {
                init.steps
                    .iter()
                    .filter(|step| step.status == InitiationStepStatus::Succeeded as i32)
                    .count()
            })
    };
    let replicated = |s: &SourceServer| -> i64 {
        s.data_replication_info.as_ref().map_or(0, |i| {
            i.replicated_disks
                .iter()
                .map(|d| d.replicated_storage_bytes)
                .sum()
        })
    };
    let initial_sync = cutover::pb::v1::DataReplicationState::InitialSync as i32;
    for pair in servers.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        assert!(
            steps_done(after) >= steps_done(before),
            "{id}: initiation steps went from {} back to {}",
            steps_done(before),
            steps_done(after)
        );
        let syncing = |s: &SourceServer| {
            s.data_replication_info
                .as_ref()
                .map(|i| i.data_replication_state)
                == Some(initial_sync)
        };
        if syncing(before) && syncing(after) {
            assert!(
                replicated(after) >= replicated(before),
                "{id}: the initial sync went back from {} to {} bytes",
                replicated(before),
                replicated(after)
            );
        }
        for task in &after.follow_up_tasks {
            let earlier = before
                .follow_up_tasks
                .iter()
                .find(|t| t.task_id == task.task_id);
            assert!(
                earlier.is_none_or(|t| task.progress >= t.progress),
                "{id}: task {} went back from {:?} to {}",
                task.task_id,
                earlier.map(|t| t.progress),
                task.progress
            );
        }
    }
}

/// The job finished once, recorded no run twice, and its final sync's
/// progress never went back.
fn check_job(id: &str, events: &[&LifecycleEvent]) {
    let jobs: Vec<&ReplicationJob> = events.iter().filter_map(|e| job(e)).collect();
    let finished = ReplicationJobStatus::Finished as i32;
    let finishes = jobs
        .windows(2)
        .filter(|pair| pair[0].status != finished && pair[1].status == finished)
        .count();
    assert_eq!(finishes, 1, "{id} finished {finishes} times");
    let last = jobs.last().expect("the job's events");
    let starts: HashSet<_> = last
        .replication_job_runs
        .iter()
        .map(|run| run.start_time.as_ref().map(|t| (t.seconds, t.nanos)))
        .collect();
    assert_eq!(
        starts.len(),
        last.replication_job_runs.len(),
        "{id}: a run was recorded twice"
    );
    assert!(
        last.replication_job_runs.len() >= 2,
        "{id}: the first run and the final sync are both recorded"
    );
    let syncing = ReplicationJobBusinessStatus::Syncing as i32;
    for pair in jobs.windows(2) {
        if pair[0].business_status == syncing && pair[1].business_status == syncing {
            assert!(
                pair[1].progress >= pair[0].progress,
                "{id}: a sync went back from {}% to {}%",
                pair[0].progress,
                pair[1].progress
            );
        }
    }
}

/// Every event from revision 1 to the head, read through the watch.
async fn whole_log(storm: &Storm) -> Vec<LifecycleEvent> {
    let mut lifecycle = LifecycleServiceClient::new(storm.channel());
    let snapshot = WatchLifecycleEventsRequest {
        send_initial_snapshot: true,
        ..Default::default()
    };
    let mut stream = lifecycle
        .watch_lifecycle_events(snapshot)
        .await
        .expect("watch")
        .into_inner();
    let head = loop {
        match stream
            .message()
            .await
            .expect("snapshot")
            .and_then(|m| m.kind)
        {
            Some(Kind::SnapshotEnd(end)) => break end.revision,
            Some(_) => {}
            None => panic!("the snapshot ended early"),
        }
    };
    let from_start = WatchLifecycleEventsRequest {
        start_revision: 1,
        ..Default::default()
    };
    let mut stream = lifecycle
        .watch_lifecycle_events(from_start)
        .await
        .expect("watch")
        .into_inner();
    let mut events = Vec::new();
    while events.last().map_or(0, |e: &LifecycleEvent| e.revision) < head {
        match stream
            .message()
            .await
            .expect("the log")
            .and_then(|m| m.kind)
        {
            Some(Kind::Event(event)) => events.push(event),
            Some(_) => {}
            None => panic!("the log ended before revision {head}"),
        }
    }
    events
}
