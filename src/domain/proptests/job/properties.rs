//! Generated command sequences on a replication job, checked at every step
//! and against contract §3's table.

use std::cell::RefCell;

use proptest::collection::vec;

use super::*;

/// A generated job command; `Natural` is what the data plane or a user
/// would do next, so sequences reach the later rows.
#[derive(Debug, Clone)]
enum JobCmd {
    Natural { flip: bool, pick: u8 },
    Start,
    Stop,
    StartScheduled,
    CutOver(bool),
    Step(RunStep),
    ProgressBy(f64),
}

#[derive(Debug, Clone)]
struct JobCase {
    scale: f64,
    seed: u64,
    start: i64,
    name_len: usize,
    description_len: usize,
    schedule: JobSchedule,
    steps: Vec<(i64, JobCmd)>,
}

fn progress_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => 0.0..=100.0f64,
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(100.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => -1_000.0..0.0f64,
        1 => 100.0..1e9f64,
        1 => Just(100.000_000_000_1),
    ]
}

fn run_step() -> impl Strategy<Value = RunStep> {
    prop_oneof![
        Just(RunStep::Syncing),
        progress_value().prop_map(RunStep::Progress),
        Just(RunStep::Processing),
        Just(RunStep::Succeeded),
        select(vec!["ImageBuildFailed", "SourceUnreachable", ""])
            .prop_map(|code| RunStep::Failed(code.into())),
        Just(RunStep::Cleaning),
        Just(RunStep::Released),
    ]
}

fn job_cmd() -> impl Strategy<Value = JobCmd> {
    prop_oneof![
        12 => (any::<bool>(), any::<u8>()).prop_map(|(flip, pick)| JobCmd::Natural { flip, pick }),
        1 => Just(JobCmd::Start),
        1 => Just(JobCmd::Stop),
        1 => Just(JobCmd::StartScheduled),
        1 => any::<bool>().prop_map(JobCmd::CutOver),
        5 => run_step().prop_map(JobCmd::Step),
        1 => prop_oneof![3 => 0.0..=40.0f64, 1 => -5.0..0.0f64].prop_map(JobCmd::ProgressBy),
    ]
}

fn schedule() -> impl Strategy<Value = JobSchedule> {
    let incremental = |frequency: std::ops::RangeInclusive<u32>,
                       images: std::ops::RangeInclusive<u32>| {
        (frequency, images).prop_map(|(frequency_hours, max_images)| JobSchedule::Incremental {
            frequency_hours,
            max_images,
        })
    };
    prop_oneof![
        3 => Just(JobSchedule::RunOnce),
        5 => incremental(1..=3, 1..=3),
        2 => incremental(1..=168, 1..=10),
        1 => incremental(0..=200, 0..=12),
    ]
}

fn job_case() -> impl Strategy<Value = JobCase> {
    (
        scale_factor(),
        any::<u64>(),
        T0..T0 + 1_000_000_000,
        prop_oneof![30 => 0..=20usize, 1 => 127..=130usize],
        prop_oneof![30 => 0..=20usize, 1 => 255..=258usize],
        schedule(),
        vec((advance(), job_cmd()), 1..=MAX_STEPS),
    )
        .prop_map(
            |(scale, seed, start, name_len, description_len, schedule, steps)| JobCase {
                scale,
                seed,
                start,
                name_len,
                description_len,
                schedule,
                steps,
            },
        )
}

fn resolve_job(cmd: &JobCmd, j: &ReplicationJob) -> JobOp {
    match cmd {
        JobCmd::Natural { flip, pick } => match (j.status, j.business_status) {
            (S::Waiting, _) if pick % 4 == 0 => JobOp::CutOver(*flip),
            (S::Waiting, _) => JobOp::StartScheduled,
            // The data plane fails now and then, at any step.
            (S::Running, _) if pick % 8 == 7 => JobOp::Step(RunStep::Failed("AgentLost".into())),
            (S::Running, Some(B::Preparing)) => JobOp::Step(RunStep::Syncing),
            (S::Running, Some(B::Syncing)) if *flip && j.progress < 100.0 => {
                JobOp::Step(RunStep::Progress((j.progress + 30.0).min(100.0)))
            }
            (S::Running, Some(B::Syncing)) if j.cut_over.is_some() => {
                JobOp::Step(RunStep::Cleaning)
            }
            (S::Running, Some(B::Syncing)) => JobOp::Step(RunStep::Processing),
            (S::Running, Some(B::Processing)) => JobOp::Step(RunStep::Succeeded),
            (S::Running, _) => JobOp::Step(RunStep::Released),
            _ => JobOp::Start,
        },
        JobCmd::Start => JobOp::Start,
        JobCmd::Stop => JobOp::Stop,
        JobCmd::StartScheduled => JobOp::StartScheduled,
        JobCmd::CutOver(sync_data) => JobOp::CutOver(*sync_data),
        JobCmd::Step(step) => JobOp::Step(step.clone()),
        JobCmd::ProgressBy(delta) => JobOp::Step(RunStep::Progress(j.progress + delta)),
    }
}

/// Runs one generated case; `extra` is a further check of every step.
fn run_job_case(case: &JobCase, edges: &mut JobEdges, extra: &dyn Fn(&ReplicationJob)) {
    let scale = TimeScale::new(case.scale);
    let mut rng = StdRng::seed_from_u64(case.seed);
    let mut now = Timestamp(case.start);
    let spec = JobSpec {
        // Multi-byte characters: limits count characters, not bytes.
        name: "é".repeat(case.name_len),
        description: "d".repeat(case.description_len),
        schedule: case.schedule,
    };
    let invalid = predict_spec(&spec);
    let mut job = match new_job(&mut rng, &spec, now) {
        Err(err) => {
            let field = invalid.unwrap_or_else(|| panic!("{spec:?} was refused: {err:?}"));
            check_error_code(&err, Expect::Invalid(field));
            return;
        }
        Ok(job) => {
            assert_eq!(invalid, None, "{spec:?} was accepted");
            job
        }
    };
    for (millis, cmd) in &case.steps {
        now = now.plus(Millis(*millis));
        let op = resolve_job(cmd, &job);
        if let Ok(t) = step(&job, &op, scale, now) {
            edges.record(&job, &t.resource, op.name());
            extra(&t.resource);
            job = t.resource;
        }
    }
}

#[test]
fn replication_job_state_machine_follows_spec() {
    let edges = RefCell::new(JobEdges::default());
    run_property(CASES, job_case(), |case| {
        run_job_case(&case, &mut edges.borrow_mut(), &|_| {})
    });
    let seen = edges.into_inner();
    assert_all_taken(JOB_STATUS_EDGES, &seen.status, "the contract status edges");
    assert_all_taken(JOB_BUSINESS_EDGES, &seen.business, "business status edges");
}

/// contract §3, CutOverReplicationJob: "each step ... resumes after a restart;
/// none runs twice". The final full sync must be recorded at most once.
#[test]
fn cutover_final_sync_runs_at_most_once() {
    run_property(CASES, job_case(), |case| {
        run_job_case(&case, &mut JobEdges::default(), &|job| {
            let finals = finals(job);
            assert!(finals <= 1, "the final sync ran {finals} times: {job:#?}");
        })
    });
}
