//! A control plane on a real SQLite store and a manual clock, for the
//! tests of the use cases and of the background work that drives them.

use std::sync::Arc;

use tempfile::TempDir;

use super::{
    requests::{
        ChangeServerLifeCycleState, CreateReplicationJob, CreateReplicationJobFields, JobSpecInput,
        LaunchServers,
    },
    Caller, ControlPlane, ManualClock, ServerView, Settings, Tenant,
};
use crate::{
    domain::{
        source_server::{Registration, ReplicationReport},
        AccountId, DataReplicationState, LifeCycleState, Millis, ReplicatedDisk, SourceServer,
        SourceServerId, Timestamp,
    },
    store::SqliteStore,
};

/// 2023-11-14T22:13:20Z: any fixed instant does.
pub(crate) const START: Timestamp = Timestamp(1_700_000_000_000);
pub(crate) const ONE_MS: Millis = Millis(1);

/// StartTest's or StartCutover's request for `ids`.
pub(crate) fn launch(ids: &[&SourceServerId]) -> LaunchServers {
    let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
    LaunchServers::new("source_server_id", &ids).expect("1 to 200 servers")
}

/// CreateReplicationJob's request for a job of `spec` on `source`.
pub(crate) fn create_job(source: &SourceServerId, spec: JobSpecInput<'_>) -> CreateReplicationJob {
    const FIELDS: CreateReplicationJobFields = CreateReplicationJobFields {
        name: "name",
        description: "description",
        run_once: "run_once",
        frequency: "frequency",
        images_to_keep: "max_number_of_image_to_keep",
    };
    CreateReplicationJob::new(&FIELDS, source.clone(), spec).expect("a valid job")
}

/// A control plane on a fresh SQLite store and a manual clock, with one
/// initialised account.
pub(crate) struct Harness {
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) plane: Arc<ControlPlane>,
    pub(crate) tenant: Tenant,
    /// Holds the database until the test ends.
    _dir: TempDir,
}

impl Harness {
    pub(crate) async fn start() -> Harness {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&dir.path().join("cutover.db")).expect("the store opens");
        let clock = Arc::new(ManualClock::new(START));
        let plane = Arc::new(ControlPlane::new(
            Arc::new(store),
            Arc::clone(&clock) as _,
            Settings::default(),
        ));
        let caller = Caller {
            account_id: AccountId::parse("account", "111122223333").expect("a valid account"),
        };
        plane
            .initialize_service(&caller)
            .await
            .expect("InitializeService");
        let tenant = plane.tenant(caller).await.expect("an initialised account");
        Harness {
            clock,
            plane,
            tenant,
            _dir: dir,
        }
    }

    /// A registered server whose agent reported continuous replication now.
    pub(crate) async fn replicating_server(&self) -> SourceServerId {
        let view = self
            .plane
            .register_source_server(&self.tenant, Registration::default(), None)
            .await
            .expect("RegisterSourceServer");
        let id = view.server.id.clone();
        self.report(&id).await;
        id
    }

    pub(crate) async fn report(&self, id: &SourceServerId) {
        let report = ReplicationReport {
            state: DataReplicationState::Continuous,
            replicated_disks: vec![ReplicatedDisk {
                device_name: "/dev/xvda".into(),
                total_storage_bytes: 8 << 30,
                replicated_storage_bytes: 8 << 30,
                rescanned_storage_bytes: 0,
                backlogged_storage_bytes: 0,
            }],
            lag: None,
            eta: None,
            initiation_steps: None,
            error: None,
            source_properties: None,
        };
        self.plane
            .agent_report(&self.tenant, Some(id), None, report)
            .await
            .expect("the agent's report");
    }

    /// A server finalised now: CUTOVER with both follow-up tasks pending.
    pub(crate) async fn finalized_server(&self) -> ServerView {
        let id = self.replicating_server().await;
        let (plane, tenant) = (&self.plane, &self.tenant);
        let ready =
            ChangeServerLifeCycleState::new("state", id.clone(), LifeCycleState::ReadyForCutover)
                .expect("a target");
        plane
            .change_life_cycle_state(tenant, &ready, None)
            .await
            .expect("READY_FOR_CUTOVER");
        plane
            .start_cutover(tenant, &launch(&[&id]), None)
            .await
            .expect("StartCutover");
        plane
            .finalize_cutover(tenant, &id, None)
            .await
            .expect("FinalizeCutover")
    }

    pub(crate) async fn server(&self, id: &SourceServerId) -> Arc<SourceServer> {
        self.plane
            .get_source_server(&self.tenant, id)
            .await
            .expect("GetSourceServer")
            .server
    }
}
