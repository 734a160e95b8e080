//! Source server commands: the oracle of contract §2, the reference
//! model of each command's effect, and the checks of its error or event.

use super::*;

/// A source server command with the caller's arguments resolved.
#[derive(Debug, Clone)]
pub(super) enum ServerOp {
    Report(Box<ReplicationReport>),
    StartTest(Launch),
    Change(LifeCycleState),
    StartCutover(Launch),
    Finalize([FollowUpTaskId; 2]),
    Disconnect,
    Archive,
    Complete(FollowUpTaskId),
    Overdue(FollowUpTaskId),
    Progress(FollowUpTaskId, f64),
}

impl ServerOp {
    pub(super) fn name(&self) -> &'static str {
        match self {
            ServerOp::Report(_) => "report",
            ServerOp::StartTest(_) => "start_test",
            ServerOp::Change(_) => "change",
            ServerOp::StartCutover(_) => "start_cutover",
            ServerOp::Finalize(_) => "finalize",
            ServerOp::Disconnect => "disconnect",
            ServerOp::Archive => "archive",
            ServerOp::Complete(_) => "complete_task",
            ServerOp::Overdue(_) => "overdue_task",
            ServerOp::Progress(..) => "task_progress",
        }
    }
}

impl Command for ServerOp {
    type Resource = SourceServer;

    fn apply(
        &self,
        s: &SourceServer,
        scale: TimeScale,
        now: Timestamp,
    ) -> Result<Transition<SourceServer>, DomainError> {
        match self {
            ServerOp::Report(r) => s.report_replication((**r).clone(), now),
            ServerOp::StartTest(l) => s.start_test(l.clone(), now),
            ServerOp::Change(target) => s.change_life_cycle_state(*target, now),
            ServerOp::StartCutover(l) => s.start_cutover(l.clone(), now),
            ServerOp::Finalize(ids) => s.finalize_cutover(ids.clone(), scale, now),
            ServerOp::Disconnect => s.disconnect(now),
            ServerOp::Archive => s.mark_as_archived(now),
            ServerOp::Complete(id) => s.complete_follow_up(id, now),
            ServerOp::Overdue(id) => s.mark_follow_up_overdue(id, now),
            ServerOp::Progress(id, percent) => s.record_follow_up_progress(id, *percent, now),
        }
    }

    fn predict(&self, s: &SourceServer, now: Timestamp) -> Expect {
        predict_server(s, self, now)
    }

    /// A conflict names the server and its current lifecycle state.
    fn check_error(&self, s: &SourceServer, err: &DomainError, _: Expect) {
        if let DomainError::Conflict {
            kind,
            id,
            current_state,
            ..
        } = err
        {
            let state = s.life_cycle.state.as_str();
            assert_eq!(
                (*kind, id.as_str()),
                (ResourceKind::SourceServer, s.id.as_str())
            );
            assert_eq!(current_state, state, "a conflict names the current state");
            assert!(err.to_string().contains(state), "{err}");
        }
    }

    fn check_event(&self, before: &SourceServer, t: &Transition<SourceServer>, now: Timestamp) {
        let after = &t.resource;
        assert_eq!(t.event.time, now);
        assert_eq!(t.event.previous, Some(StateSummary::of_server(before)));
        assert_eq!(t.event.new, StateSummary::of_server(after));
        let lifecycle_changed = before.life_cycle.state != after.life_cycle.state;
        let replication_changed =
            before.data_replication_info.state != after.data_replication_info.state;
        let expected = match self {
            ServerOp::Report(_) if lifecycle_changed => EventType::LifeCycleStateChanged,
            ServerOp::Report(_) if replication_changed => EventType::DataReplicationStateChanged,
            ServerOp::Report(_) => EventType::ReplicationProgress,
            ServerOp::StartTest(_)
            | ServerOp::Change(_)
            | ServerOp::StartCutover(_)
            | ServerOp::Finalize(_)
            | ServerOp::Disconnect => EventType::LifeCycleStateChanged,
            ServerOp::Archive => EventType::SourceServerArchived,
            ServerOp::Complete(_) => EventType::FollowUpTaskCompleted,
            ServerOp::Overdue(_) => EventType::FollowUpTaskOverdue,
            ServerOp::Progress(..) => EventType::FollowUpTaskProgress,
        };
        assert_eq!(t.event.event_type, expected, "{self:?}");
        assert_eq!(
            lifecycle_changed,
            t.event.event_type == EventType::LifeCycleStateChanged
        );
        let task = match self {
            ServerOp::Complete(id) | ServerOp::Overdue(id) | ServerOp::Progress(id, _) => Some(id),
            _ => None,
        };
        assert_eq!(
            t.event.task.as_ref(),
            task,
            "a task's event names it: {self:?}"
        );
    }

    fn expected(
        &self,
        before: &SourceServer,
        scale: TimeScale,
        now: Timestamp,
        actual: &SourceServer,
    ) -> SourceServer {
        expected_server_after(before, self, scale, now, actual)
    }

    fn check_after(before: &SourceServer, after: &SourceServer, scale: TimeScale) {
        check_server_history(before, after);
        assert_server_invariants(after, scale);
    }
}

pub(super) fn pending_task<'a>(
    s: &'a SourceServer,
    id: &FollowUpTaskId,
) -> Option<&'a FollowUpTask> {
    s.follow_up_tasks
        .iter()
        .find(|t| &t.id == id && t.is_pending())
}

pub(super) fn disk_is_valid(d: &ReplicatedDisk) -> bool {
    d.total_storage_bytes >= 0
        && d.replicated_storage_bytes >= 0
        && d.rescanned_storage_bytes >= 0
        && d.backlogged_storage_bytes >= 0
        && d.replicated_storage_bytes <= d.total_storage_bytes
}

/// The oracle: what contract §2 (and the domain's documented argument
/// checks) say `op` does on `s` at `now`.
fn predict_server(s: &SourceServer, op: &ServerOp, now: Timestamp) -> Expect {
    let state = s.life_cycle.state;
    let live = !s.is_archived;
    let when = |ok: bool| if ok { Expect::Ok } else { Expect::Conflict };
    match op {
        ServerOp::Report(r) => {
            if !live || matches!(state, L::Cutover | L::Disconnected) {
                Expect::Conflict
            } else if r.state == R::Disconnected {
                Expect::Invalid("data_replication_state")
            } else if r.lag.is_some_and(|lag| lag.0 < 0) {
                Expect::Invalid("lag_duration")
            } else if r.replicated_disks.len() > 60 || !r.replicated_disks.iter().all(disk_is_valid)
            {
                Expect::Invalid("replicated_disks")
            } else {
                Expect::Ok
            }
        }
        ServerOp::StartTest(_) => when(live && state == L::ReadyForTest),
        ServerOp::Change(L::ReadyForCutover) => when(
            live && matches!(state, L::Testing | L::ReadyForTest | L::CuttingOver)
                && s.data_replication_info.lag.is_some(),
        ),
        ServerOp::Change(L::ReadyForTest) => {
            when(live && matches!(state, L::Testing | L::ReadyForCutover))
        }
        ServerOp::Change(_) => Expect::Invalid("state"),
        ServerOp::StartCutover(_) => when(live && state == L::ReadyForCutover),
        ServerOp::Finalize(_) => when(live && state == L::CuttingOver),
        ServerOp::Disconnect => when(!matches!(state, L::Cutover | L::Disconnected)),
        ServerOp::Archive => when(live && matches!(state, L::Cutover | L::Disconnected)),
        ServerOp::Complete(id) => match pending_task(s, id) {
            Some(_) => Expect::Ok,
            None => Expect::Invalid("task_id"),
        },
        ServerOp::Overdue(id) => match pending_task(s, id) {
            Some(task) => when(!task.overdue && now >= task.deadline),
            None => Expect::Invalid("task_id"),
        },
        // Acknowledged progress only moves forward, up to 100.
        ServerOp::Progress(id, percent) => match pending_task(s, id) {
            Some(task) => when(percent.clamp(0.0, 100.0) > task.progress),
            None => Expect::Invalid("task_id"),
        },
    }
}

/// The reference model: the server `op` must produce from `before`. Fields
/// The contract leaves to the implementation (first boot, delivery attempts) are
/// taken from `actual` and checked separately.
fn expected_server_after(
    before: &SourceServer,
    op: &ServerOp,
    scale: TimeScale,
    now: Timestamp,
    actual: &SourceServer,
) -> SourceServer {
    let mut next = before.clone();
    let launched = |l: &Launch| LaunchedInstance {
        ec2_instance_id: l.ec2_instance_id.clone(),
        job_id: l.job_id.clone(),
        first_boot: actual
            .launched_instance
            .as_ref()
            .map_or(FirstBoot::Unknown, |i| i.first_boot),
    };
    let action = |l: &Launch| LastAction {
        initiated: now,
        job_id: l.job_id.clone(),
        reverted: None,
        finalized: None,
    };
    let task_index = |id: &FollowUpTaskId| {
        before
            .follow_up_tasks
            .iter()
            .position(|t| &t.id == id)
            .expect("the task")
    };
    match op {
        ServerOp::Report(r) => apply_report(&mut next, r, now),
        ServerOp::StartTest(l) => {
            next.life_cycle.state = L::Testing;
            next.life_cycle.last_test = Some(action(l));
            next.launched_instance = Some(launched(l));
        }
        ServerOp::Change(target) => {
            if *target == L::ReadyForCutover && before.life_cycle.state == L::CuttingOver {
                if let Some(cutover) = next.life_cycle.last_cutover.as_mut() {
                    cutover.reverted = Some(now);
                }
            }
            if *target == L::ReadyForCutover && before.life_cycle.state == L::Testing {
                if let Some(test) = next.life_cycle.last_test.as_mut() {
                    test.finalized = Some(now);
                }
            }
            if *target == L::ReadyForTest {
                if let Some(test) = next.life_cycle.last_test.as_mut() {
                    test.reverted = Some(now);
                }
            }
            next.life_cycle.state = *target;
        }
        ServerOp::StartCutover(l) => {
            next.life_cycle.state = L::CuttingOver;
            next.life_cycle.last_cutover = Some(action(l));
            next.launched_instance = Some(launched(l));
        }
        ServerOp::Finalize(ids) => {
            next.life_cycle.state = L::Cutover;
            if let Some(cutover) = next.life_cycle.last_cutover.as_mut() {
                cutover.finalized = Some(now);
            }
            disconnect_replication(&mut next);
            for (id, (kind, deadline)) in ids.iter().zip(FOLLOW_UPS) {
                // An agentless server has no agent to uninstall.
                if kind == FollowUpTaskKind::AgentUninstall
                    && before.replication_type == ReplicationType::SnapshotShipping
                {
                    continue;
                }
                next.follow_up_tasks.push(FollowUpTask {
                    id: id.clone(),
                    kind,
                    created: now,
                    deadline: now.plus(scale.compress(deadline)),
                    completed: None,
                    attempts: 0,
                    overdue: false,
                    progress: 0.0,
                });
            }
        }
        ServerOp::Disconnect => {
            next.life_cycle.state = L::Disconnected;
            disconnect_replication(&mut next);
        }
        ServerOp::Archive => next.is_archived = true,
        ServerOp::Complete(id) => {
            let index = task_index(id);
            next.follow_up_tasks[index].completed = Some(now);
            next.follow_up_tasks[index].attempts = actual.follow_up_tasks[index].attempts;
            assert!(
                next.follow_up_tasks[index].attempts >= 1,
                "a completed task was delivered at least once"
            );
        }
        ServerOp::Overdue(id) => next.follow_up_tasks[task_index(id)].overdue = true,
        ServerOp::Progress(id, percent) => {
            next.follow_up_tasks[task_index(id)].progress = percent.clamp(0.0, 100.0);
        }
    }
    next
}

/// An agent's report: replication facts as reported, lifecycle moved on.
fn apply_report(next: &mut SourceServer, r: &ReplicationReport, now: Timestamp) {
    let info = &mut next.data_replication_info;
    info.state = r.state;
    info.replicated_disks = r.replicated_disks.clone();
    // lagDuration is set once CONTINUOUS, and never unset while replicating.
    info.lag = if r.state == R::Continuous {
        Some(r.lag.unwrap_or(Millis(0)))
    } else {
        r.lag.or(info.lag)
    };
    info.eta = if r.state == R::InitialSync {
        r.eta
    } else {
        None
    };
    info.error = r.error.clone();
    if let Some(steps) = &r.initiation_steps {
        let start = info.initiation.as_ref().map_or(now, |i| i.start);
        info.initiation = Some(DataReplicationInitiation {
            start,
            next_attempt: None,
            steps: steps.clone(),
        });
    }
    if r.state == R::Continuous {
        info.last_snapshot = Some(now);
    }
    if let Some(properties) = &r.source_properties {
        next.source_properties = SourceProperties {
            last_updated: Some(now),
            ..properties.clone()
        };
    }
    let life = &mut next.life_cycle;
    life.last_seen_by_service = Some(now);
    if life.first_byte.is_none()
        && r.replicated_disks
            .iter()
            .any(|d| d.replicated_storage_bytes > 0)
    {
        life.first_byte = Some(now);
    }
    if let Some(first) = life.first_byte {
        life.elapsed_replication = Some(now.since(first));
    }
    if life.state == L::PendingInstallation {
        life.state = L::NotReady;
    }
    if life.state == L::NotReady && r.state == R::Continuous {
        life.state = L::ReadyForTest;
    }
}

/// FinalizeCutover's and DisconnectFromService's effect on replication:
/// DISCONNECTED, totals 0 (replicated bytes kept), lag and ETA null.
fn disconnect_replication(s: &mut SourceServer) {
    let info = &mut s.data_replication_info;
    info.state = R::Disconnected;
    info.lag = None;
    info.eta = None;
    for d in &mut info.replicated_disks {
        d.total_storage_bytes = 0;
    }
}
