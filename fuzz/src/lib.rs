//! What the cutover fuzz targets share: one tokio runtime and one real
//! control plane over a real SQLite store per process, a clock that stands
//! at a fixed instant (so that signatures in a fixed corpus are current),
//! and the ids the service handed out, which inputs name as `@N` (source
//! servers), `#N` (replication jobs) and `$N` (agent commands).

pub mod http_input;

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard, OnceLock, PoisonError,
    },
};

use cutover::{
    api::grpc::{Api, Authenticator},
    control_plane::{Caller, ControlPlane, Listener, ManualClock, Settings, Tenant},
    domain::{SourceServerId, Timestamp},
    metrics::Metrics,
    pb::v1 as pb,
    store::SqliteStore,
};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

/// The instant the clock shows: 2026-11-30T00:01:15Z, the signing time of
/// the signature tests' requests and of the corpus's signed seeds.
pub const NOW: Timestamp = Timestamp(1_795_996_875_000);

/// True when `CUTOVER_FUZZ_DEBUG` is set: targets then print what each
/// input got, to see where seeds lead.
pub fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("CUTOVER_FUZZ_DEBUG").is_some())
}

/// The runtime every target blocks on.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// Ids the service handed out, most recent last, a few of each kind.
#[derive(Debug, Default)]
pub struct Known {
    /// Source server ids (`@N`).
    pub servers: Vec<String>,
    /// Replication job ids (`#N`).
    pub jobs: Vec<String>,
    /// Agent command ids (`$N`).
    pub commands: Vec<String>,
}

/// How many ids of each kind are remembered.
const REMEMBERED: usize = 16;

impl Known {
    /// Remembers `id` in `list`, forgetting the oldest past the bound.
    pub fn remember(list: &mut Vec<String>, id: String) {
        if list.contains(&id) {
            return;
        }
        if list.len() >= REMEMBERED {
            list.remove(0);
        }
        list.push(id);
    }

    /// `text` with each `@N`, `#N` (or `%23N`) and `$N` (N one digit)
    /// replaced by the N-th most recent id of that kind (`@0` is the
    /// server registered last), modulo how many are known.
    pub fn substitute(&self, text: &str) -> String {
        static NONE: Vec<String> = Vec::new();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(['@', '#', '$', '%']) {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            let (marker, list) = match tail.as_bytes()[0] {
                b'@' => (1, &self.servers),
                b'#' => (1, &self.jobs),
                b'$' => (1, &self.commands),
                _ if tail.starts_with("%23") => (3, &self.jobs),
                _ => (1, &NONE),
            };
            match tail.as_bytes().get(marker).filter(|b| b.is_ascii_digit()) {
                Some(digit) if !list.is_empty() => {
                    let back = usize::from(digit - b'0') % list.len();
                    out.push_str(&list[list.len() - 1 - back]);
                    rest = &tail[marker + 1..];
                }
                // Markers are ASCII: one byte is one character.
                _ => {
                    out.push_str(&tail[..1]);
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// [`Known::substitute`] in place.
    pub fn fill(&self, text: &mut String) {
        if text.contains(['@', '#', '$', '%']) {
            *text = self.substitute(text);
        }
    }
}

/// The service under test.
pub struct World {
    /// The control plane.
    pub plane: Arc<ControlPlane>,
    /// The gRPC handlers over it.
    pub api: Api,
    /// Its clock, standing at [`NOW`] until a target moves it.
    pub clock: Arc<ManualClock>,
    /// The built-in account, initialised.
    pub tenant: Tenant,
    known: Mutex<Known>,
    /// Servers and jobs inputs created in it.
    created: AtomicUsize,
    /// The native endpoints' routers, built on first use.
    routers: [OnceLock<axum::Router>; 2],
}

/// How many servers and jobs inputs create in one world before the next
/// input gets a fresh one: every tick and listing costs in proportion to
/// them, so a world that only grows slows a run down for no new code.
const MAX_CREATED: usize = 400;

impl World {
    /// The ids handed out so far.
    pub fn known(&self) -> MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a server or job an input created.
    pub fn created(&self) {
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    /// The router of a native endpoint over this world.
    pub fn router(&self, slot: usize, build: impl FnOnce(&World) -> axum::Router) -> &axum::Router {
        self.routers[slot].get_or_init(|| build(self))
    }

    /// Remembers the commands pending for the known servers and for the
    /// replication infrastructure.
    pub async fn learn_commands(&self) {
        let servers = self.known().servers.clone();
        let mut listeners = vec![Listener::Infrastructure];
        for id in servers {
            if let Ok(id) = SourceServerId::parse("id", &id) {
                listeners.push(Listener::Agent(id));
            }
        }
        for listener in listeners {
            if let Ok(commands) = self.plane.pending_commands(&self.tenant, &listener).await {
                let mut known = self.known();
                for command in commands {
                    Known::remember(&mut known.commands, command.id.to_string());
                }
            }
        }
    }
}

/// The current world and how many were built before it.
static WORLD: Mutex<Option<(Arc<World>, usize)>> = Mutex::new(None);

/// The current world, built on first use.
pub fn world() -> Arc<World> {
    let mut current = WORLD.lock().unwrap_or_else(PoisonError::into_inner);
    let (world, _) = current.get_or_insert_with(|| (Arc::new(runtime().block_on(build(0))), 0));
    Arc::clone(world)
}

/// The world for the next input: a fresh one, in a fresh database, once
/// inputs created [`MAX_CREATED`] servers and jobs in the current one.
/// Called between inputs only, so no input sees two worlds.
pub fn next_world() -> Arc<World> {
    let mut current = WORLD.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((world, generation)) = current.take() {
        if world.created.load(Ordering::Relaxed) < MAX_CREATED {
            *current = Some((world, generation));
        } else {
            // The last reference: dropping it closes the store.
            drop(world);
            let _ = std::fs::remove_dir_all(generation_dir(generation));
            *current = Some((
                Arc::new(runtime().block_on(build(generation + 1))),
                generation + 1,
            ));
        }
    }
    drop(current);
    world()
}

async fn build(generation: usize) -> World {
    let dir = generation_dir(generation);
    std::fs::create_dir_all(&dir).expect("creating the world's directory");
    let path = dir.join("cutover.db");
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
        .await
        .expect("opening the store")
        .expect("a SQLite store");
    let clock = Arc::new(ManualClock::new(NOW));
    let plane = Arc::new(ControlPlane::new(
        Arc::new(store),
        Arc::clone(&clock) as _,
        Settings::default(),
    ));
    let auth = Authenticator::disabled().expect("the built-in account");
    let caller: Caller = auth.built_in().expect("built in").clone();
    plane
        .initialize_service(&caller)
        .await
        .expect("initialising the built-in account");
    let tenant = plane.tenant(caller).await.expect("an initialised tenant");
    let api = Api::new(
        Arc::clone(&plane),
        Arc::new(auth),
        CancellationToken::new(),
        Metrics::new(),
    );
    let world = World {
        plane,
        api,
        clock,
        tenant,
        known: Mutex::new(Known::default()),
        created: AtomicUsize::new(0),
        routers: [OnceLock::new(), OnceLock::new()],
    };
    seed(&world).await;
    world
}

/// The directory of the `generation`-th world's database.
fn generation_dir(generation: usize) -> PathBuf {
    data_dir().join(generation.to_string())
}

/// A few servers, one of them replicating with a job, so that inputs
/// naming `@N` and `#N` reach past the lookups.
async fn seed(world: &World) {
    use pb::{
        replication_job_service_server::ReplicationJobService,
        source_server_service_server::SourceServerService,
    };
    for _ in 0..4 {
        let request = tonic::Request::new(pb::RegisterSourceServerRequest::default());
        if let Ok(server) = world.api.register_source_server(request).await {
            let id = server.into_inner().source_server_id;
            Known::remember(&mut world.known().servers, id);
        }
    }
    let first = world.known().servers.first().cloned().unwrap_or_default();
    let report = pb::ReportReplicationRequest {
        source_server_id: first.clone(),
        data_replication_state: pb::DataReplicationState::Continuous as i32,
        ..Default::default()
    };
    let _ = cutover::pb::v1::agent_service_server::AgentService::report_replication(
        &world.api,
        tonic::Request::new(report),
    )
    .await;
    let create = pb::CreateReplicationJobRequest {
        source_id: first,
        name: "seed".into(),
        ..Default::default()
    };
    if let Ok(job) = world
        .api
        .create_replication_job(tonic::Request::new(create))
        .await
    {
        Known::remember(&mut world.known().jobs, job.into_inner().job_id);
    }
    world.learn_commands().await;
}

/// This process's directory for its databases, removed at exit; the
/// directories of fuzzers that died are removed on the next start. Under
/// `$CUTOVER_FUZZ_DIR`, else `/dev/shm` (no disk flushes), else the
/// temporary directory.
fn data_dir() -> &'static Path {
    DATA_DIR.get_or_init(|| {
        let base = std::env::var_os("CUTOVER_FUZZ_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| match Path::new("/dev/shm").is_dir() {
                true => PathBuf::from("/dev/shm"),
                false => std::env::temp_dir(),
            });
        sweep(&base);
        let dir = base.join(format!("cutover-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the fuzz data directory");
        // SAFETY: registers a function without arguments that only removes
        // a directory; libFuzzer leaves through exit(), which runs it.
        unsafe {
            libc::atexit(remove_data_dir);
        }
        dir
    })
}

static DATA_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_data_dir() {
    if let Some(dir) = DATA_DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes the data directories of fuzz processes that no longer run.
fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("cutover-fuzz-"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
