//! Source servers (contract §2): the fixtures shared by the model, the
//! properties and the examples.

mod agent_examples;
mod full_path;
mod invariants;
mod lifecycle_examples;
mod model;
mod properties;

use self::invariants::*;
use self::model::*;
use super::*;

/// MGN's follow-up tasks and their deadlines, from contract §2 (not from
/// the domain), in the order FinalizeCutover records them.
const FOLLOW_UPS: [(FollowUpTaskKind, Millis); 2] = [
    (FollowUpTaskKind::AgentUninstall, Millis::minutes(10)),
    (
        FollowUpTaskKind::ReplicationResourcesTeardown,
        Millis::minutes(90),
    ),
];

fn launch(rng: &mut StdRng) -> Launch {
    Launch {
        job_id: LaunchJobId::generate(rng),
        ec2_instance_id: Ec2InstanceId::generate(rng),
    }
}

fn task_ids(rng: &mut StdRng) -> [FollowUpTaskId; 2] {
    [FollowUpTaskId::generate(rng), FollowUpTaskId::generate(rng)]
}

fn disk(name: &str, total: i64, replicated: i64) -> ReplicatedDisk {
    ReplicatedDisk {
        device_name: name.to_owned(),
        total_storage_bytes: total,
        replicated_storage_bytes: replicated,
        rescanned_storage_bytes: 0,
        backlogged_storage_bytes: 0,
    }
}

fn report(
    state: DataReplicationState,
    disks: Vec<ReplicatedDisk>,
    lag: Option<i64>,
) -> ReplicationReport {
    ReplicationReport {
        state,
        replicated_disks: disks,
        lag: lag.map(Millis),
        eta: None,
        initiation_steps: None,
        error: None,
        source_properties: None,
    }
}

/// An agent's report as a command.
fn report_op(
    state: DataReplicationState,
    disks: Vec<ReplicatedDisk>,
    lag: Option<i64>,
) -> ServerOp {
    ServerOp::Report(Box::new(report(state, disks, lag)))
}

fn tags_of(count: usize, empty_key: bool) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, String> = (0..count)
        .map(|i| (format!("key-{i}"), format!("value-{i}")))
        .collect();
    if empty_key {
        tags.insert(String::new(), "value".into());
    }
    tags
}

/// RegisterSourceServer with `tags`; a success is checked against the contract.
fn register_server(
    rng: &mut StdRng,
    tags: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<SourceServer, DomainError> {
    let id = SourceServerId::generate(rng);
    let registration = Registration {
        tags: tags.clone(),
        ..Registration::default()
    };
    let t = register(account(), id.clone(), registration, now)?;
    check_registration(&t, &id, tags, now);
    Ok(t.resource)
}

/// The command that moves a server one row on along the contract's main path, from
/// registration to CUTOVER.
fn forward(s: &SourceServer, rng: &mut StdRng) -> ServerOp {
    match s.life_cycle.state {
        L::PendingInstallation | L::Discovered | L::Stopped => {
            report_op(R::Initiating, vec![disk("/dev/xvda", 1_000, 0)], None)
        }
        L::NotReady => report_op(
            R::Continuous,
            vec![disk("/dev/xvda", 1_000, 1_000)],
            Some(100),
        ),
        L::ReadyForTest => ServerOp::StartTest(launch(rng)),
        L::Testing => ServerOp::Change(L::ReadyForCutover),
        L::ReadyForCutover => ServerOp::StartCutover(launch(rng)),
        L::CuttingOver => ServerOp::Finalize(task_ids(rng)),
        last @ (L::Cutover | L::Disconnected) => panic!("{last:?} is the end of the path"),
    }
}

/// The lifecycle state a `ConflictException` names; any other error fails.
fn conflict_state(err: DomainError) -> String {
    match err {
        DomainError::Conflict { current_state, .. } => current_state,
        other => panic!("expected a ConflictException, got {other:?}"),
    }
}

/// Fixed setting of the examples.
struct Mgn {
    rng: StdRng,
    scale: TimeScale,
    now: Timestamp,
}

impl Mgn {
    fn new() -> Self {
        Mgn {
            rng: StdRng::seed_from_u64(7),
            scale: TimeScale::new(60.0),
            now: Timestamp(T0),
        }
    }

    /// Advances the clock by `millis` and returns the new `now`.
    fn tick(&mut self, millis: i64) -> Timestamp {
        self.now = self.now.plus(Millis(millis));
        self.now
    }

    fn register(&mut self) -> SourceServer {
        register_server(&mut self.rng, &BTreeMap::new(), self.now).expect("registration")
    }

    fn ok(&mut self, s: &SourceServer, op: ServerOp) -> (SourceServer, EventType) {
        let now = self.tick(1_000);
        let t = step_ok(s, &op, self.scale, now);
        (t.resource, t.event.event_type)
    }

    fn err(&mut self, s: &SourceServer, op: ServerOp) -> DomainError {
        let now = self.tick(1_000);
        step_err(s, &op, self.scale, now)
    }

    /// The state the `ConflictException` of `op` names.
    fn conflict(&mut self, s: &SourceServer, op: ServerOp) -> String {
        conflict_state(self.err(s, op))
    }

    fn launch(&mut self) -> Launch {
        launch(&mut self.rng)
    }

    fn task_ids(&mut self) -> [FollowUpTaskId; 2] {
        task_ids(&mut self.rng)
    }

    /// A server driven along the contract's table to `target`.
    fn server_in(&mut self, target: LifeCycleState) -> SourceServer {
        let mut s = self.register();
        if target == L::Disconnected {
            return self.ok(&s, ServerOp::Disconnect).0;
        }
        while s.life_cycle.state != target {
            let op = forward(&s, &mut self.rng);
            s = self.ok(&s, op).0;
        }
        s
    }
}
