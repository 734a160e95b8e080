//! Generated command sequences on a source server, checked at every step
//! and against contract §2's table.

use std::cell::RefCell;

use proptest::collection::vec;

use super::*;

/// A generated command; `Natural` takes the step that moves the server on
/// along the contract's table, so long sequences reach the later rows.
#[derive(Debug, Clone)]
enum ServerCmd {
    Natural {
        flip: bool,
        pick: usize,
    },
    Report(Box<ReplicationReport>),
    StartTest,
    Change(LifeCycleState),
    StartCutover,
    Finalize,
    Disconnect,
    Archive,
    Complete {
        pick: usize,
        unknown: bool,
    },
    Overdue {
        pick: usize,
        unknown: bool,
    },
    Progress {
        pick: usize,
        unknown: bool,
        percent: f64,
    },
}

#[derive(Debug, Clone)]
struct ServerCase {
    scale: f64,
    seed: u64,
    start: i64,
    tags: usize,
    empty_tag_key: bool,
    steps: Vec<(i64, ServerCmd)>,
}

fn valid_counters() -> impl Strategy<Value = (i64, i64, i64, i64)> {
    (0..=1_000_000_000_000i64).prop_flat_map(|total| (Just(total), 0..=total, 0..=total, 0..=total))
}

fn any_counters() -> impl Strategy<Value = (i64, i64, i64, i64)> {
    prop_oneof![
        6 => valid_counters(),
        // replicated > total, negative counters, ...
        1 => (-3..=3_000i64, -3..=3_000i64, -3..=3i64, -3..=3i64),
    ]
}

fn disks_of(
    counters: impl Strategy<Value = (i64, i64, i64, i64)>,
    len: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<ReplicatedDisk>> {
    vec(counters, len).prop_map(|counters| {
        counters
            .into_iter()
            .enumerate()
            .map(
                |(i, (total, replicated, rescanned, backlogged))| ReplicatedDisk {
                    rescanned_storage_bytes: rescanned,
                    backlogged_storage_bytes: backlogged,
                    ..disk(&format!("/dev/xvd{i}"), total, replicated)
                },
            )
            .collect()
    })
}

fn report_strategy() -> impl Strategy<Value = ReplicationReport> {
    (
        prop_oneof![
            3 => Just(R::Continuous),
            1 => Just(R::Disconnected),
            8 => select(R::ALL),
        ],
        prop_oneof![
            8 => disks_of(any_counters(), 0..=3),
            // Around MGN's limit of 60 disks.
            1 => disks_of(valid_counters(), 59..=62),
        ],
        prop_oneof![
            2 => Just(None),
            3 => (0..3_600_000i64).prop_map(Some),
            1 => (i64::MIN..0).prop_map(Some),
        ],
        proptest::option::of(T0..T0 + 100_000_000),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(
            |(state, disks, lag, eta, (steps, error, properties))| ReplicationReport {
                state,
                replicated_disks: disks,
                lag: lag.map(Millis),
                eta: eta.map(Timestamp),
                initiation_steps: steps.then(|| {
                    vec![
                        (InitiationStepName::Wait, InitiationStepStatus::Succeeded),
                        (
                            InitiationStepName::StartDataTransfer,
                            InitiationStepStatus::InProgress,
                        ),
                    ]
                }),
                error: error.then(|| DataReplicationError {
                    error: "AGENT_NOT_SEEN".into(),
                    raw_error: "the agent was not seen".into(),
                }),
                source_properties: properties.then(|| SourceProperties {
                    hostname: "web-1".into(),
                    ram_bytes: 8 << 30,
                    ..SourceProperties::default()
                }),
            },
        )
}

fn server_cmd() -> impl Strategy<Value = ServerCmd> {
    let task = || (any::<usize>(), prop::bool::weighted(0.2));
    prop_oneof![
        12 => (any::<bool>(), any::<usize>()).prop_map(|(flip, pick)| ServerCmd::Natural { flip, pick }),
        5 => report_strategy().prop_map(|r| ServerCmd::Report(Box::new(r))),
        1 => Just(ServerCmd::StartTest),
        3 => prop_oneof![
            2 => Just(L::ReadyForCutover),
            1 => Just(L::ReadyForTest),
            2 => select(L::ALL),
        ]
        .prop_map(ServerCmd::Change),
        1 => Just(ServerCmd::StartCutover),
        1 => Just(ServerCmd::Finalize),
        1 => Just(ServerCmd::Disconnect),
        1 => Just(ServerCmd::Archive),
        2 => task().prop_map(|(pick, unknown)| ServerCmd::Complete { pick, unknown }),
        2 => task().prop_map(|(pick, unknown)| ServerCmd::Overdue { pick, unknown }),
        2 => (task(), prop_oneof![Just(25.0), Just(50.0), Just(100.0), -10.0..110.0])
            .prop_map(|((pick, unknown), percent)| ServerCmd::Progress { pick, unknown, percent }),
    ]
}

fn server_case() -> impl Strategy<Value = ServerCase> {
    (
        scale_factor(),
        any::<u64>(),
        T0..T0 + 1_000_000_000,
        prop_oneof![30 => 0..=3usize, 1 => 49..=52usize],
        prop::bool::weighted(0.02),
        vec((advance(), server_cmd()), 1..=MAX_STEPS),
    )
        .prop_map(
            |(scale, seed, start, tags, empty_tag_key, steps)| ServerCase {
                scale,
                seed,
                start,
                tags,
                empty_tag_key,
                steps,
            },
        )
}

fn pick_task(s: &SourceServer, pick: usize, unknown: bool, rng: &mut StdRng) -> FollowUpTaskId {
    if unknown || s.follow_up_tasks.is_empty() {
        FollowUpTaskId::generate(rng)
    } else {
        s.follow_up_tasks[pick % s.follow_up_tasks.len()].id.clone()
    }
}

fn resolve_server(cmd: &ServerCmd, s: &SourceServer, now: Timestamp, rng: &mut StdRng) -> ServerOp {
    match cmd {
        ServerCmd::Natural { flip, pick } => match s.life_cycle.state {
            L::NotReady if !flip => {
                report_op(R::InitialSync, vec![disk("/dev/xvda", 1_000, 500)], None)
            }
            L::ReadyForTest if *flip => ServerOp::Change(L::ReadyForCutover),
            L::Testing if *flip => ServerOp::Change(L::ReadyForTest),
            L::ReadyForCutover if *flip && pick % 4 == 0 => ServerOp::Change(L::ReadyForTest),
            L::CuttingOver if *flip && pick % 3 == 0 => ServerOp::Change(L::ReadyForCutover),
            L::Cutover | L::Disconnected if *flip && !s.is_archived => ServerOp::Archive,
            L::Cutover | L::Disconnected => {
                let id = pick_task(s, *pick, false, rng);
                match pending_task(s, &id) {
                    Some(task) if pick % 2 == 0 && !task.overdue && now >= task.deadline => {
                        ServerOp::Overdue(id)
                    }
                    _ => ServerOp::Complete(id),
                }
            }
            _ => forward(s, rng),
        },
        ServerCmd::Report(r) => ServerOp::Report(r.clone()),
        ServerCmd::StartTest => ServerOp::StartTest(launch(rng)),
        ServerCmd::Change(target) => ServerOp::Change(*target),
        ServerCmd::StartCutover => ServerOp::StartCutover(launch(rng)),
        ServerCmd::Finalize => ServerOp::Finalize(task_ids(rng)),
        ServerCmd::Disconnect => ServerOp::Disconnect,
        ServerCmd::Archive => ServerOp::Archive,
        ServerCmd::Complete { pick, unknown } => {
            ServerOp::Complete(pick_task(s, *pick, *unknown, rng))
        }
        ServerCmd::Overdue { pick, unknown } => {
            ServerOp::Overdue(pick_task(s, *pick, *unknown, rng))
        }
        ServerCmd::Progress {
            pick,
            unknown,
            percent,
        } => ServerOp::Progress(pick_task(s, *pick, *unknown, rng), *percent),
    }
}

/// Runs one generated case, recording the contract edges it takes.
fn run_server_case(case: &ServerCase, edges: &mut BTreeSet<ServerEdge>) {
    let scale = TimeScale::new(case.scale);
    let mut rng = StdRng::seed_from_u64(case.seed);
    let mut now = Timestamp(case.start);
    let tags = tags_of(case.tags, case.empty_tag_key);
    let tags_valid = case.tags <= 50 && !case.empty_tag_key;
    let mut server = match register_server(&mut rng, &tags, now) {
        Err(err) => {
            assert!(!tags_valid, "registration failed: {err:?}");
            check_error_code(&err, Expect::Invalid("tags"));
            return;
        }
        Ok(server) => {
            assert!(tags_valid, "{} tags were accepted", tags.len());
            server
        }
    };
    for (millis, cmd) in &case.steps {
        now = now.plus(Millis(*millis));
        let op = resolve_server(cmd, &server, now, &mut rng);
        if let Ok(t) = step(&server, &op, scale, now) {
            if let Some(edge) = server_edge(&server, &t.resource, op.name()) {
                assert!(
                    server_spec_edges().contains(&edge) || SERVER_COMPOSITE_EDGES.contains(&edge),
                    "{edge:?} is not an edge of contract §2"
                );
                edges.insert(edge);
            }
            server = t.resource;
        }
    }
}

#[test]
fn source_server_state_machine_follows_spec() {
    let edges = RefCell::new(BTreeSet::new());
    run_property(CASES, server_case(), |case| {
        run_server_case(&case, &mut edges.borrow_mut())
    });
    assert_all_taken(&server_spec_edges(), &edges.into_inner(), "contract edges");
}
