//! The service inside the test process: the library's own `serve` on a
//! runtime thread of its own, answering on loopback ports exactly as
//! `cutoverd` does (real listeners, a real store, every wire), without a
//! process to spawn. For the tests where the process is not the point;
//! crashes, signals, logs and socket activation need [`crate::TestServer`]
//! as a process.

use std::{
    sync::mpsc,
    thread::{self, JoinHandle},
    time::Duration,
};

use cutover::{
    config::Config,
    server::{serve, Listeners},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The addresses a started service answers on.
pub(crate) struct Bound {
    /// gRPC, `127.0.0.1:PORT`.
    pub(crate) grpc: String,
    /// Prometheus metrics, when asked for.
    pub(crate) metrics: Option<String>,
    /// The MGN endpoint, when asked for.
    pub(crate) mgn: Option<String>,
    /// The SMC endpoint, when asked for.
    pub(crate) smc: Option<String>,
}

/// A running in-process service. [`InProcess::stop`] stops it as SIGTERM
/// would; dropped, it is abandoned at once instead: a graceful stop would
/// wait out the shutdown grace for the test's own connections, which its
/// runtime, blocked in the drop, cannot close.
pub(crate) struct InProcess {
    shutdown: CancellationToken,
    abandon: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl InProcess {
    /// Starts the service `cutoverd ARGS` would; panics with the reason if
    /// it cannot start, as a test's setup should.
    pub(crate) fn start(args: Vec<String>) -> (InProcess, Bound) {
        let (shutdown, abandon) = (CancellationToken::new(), CancellationToken::new());
        let (bound_tx, bound_rx) = mpsc::channel();
        let ends = (shutdown.clone(), abandon.clone());
        let thread = thread::Builder::new()
            .name("in-process cutoverd".into())
            .spawn(move || run(args, ends, bound_tx))
            .expect("a thread for the in-process service");
        let bound = match bound_rx.recv() {
            Ok(Ok(bound)) => bound,
            Ok(Err(why)) => panic!("the in-process service did not start: {why}"),
            Err(_) => panic!("the in-process service stopped before it listened"),
        };
        let service = InProcess {
            shutdown,
            abandon,
            thread: Some(thread),
        };
        (service, bound)
    }

    /// Stops the service the way SIGTERM does and waits until it has.
    pub(crate) fn stop(&mut self) {
        self.shutdown.cancel();
        self.join();
    }

    fn join(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.abandon.cancel();
        self.join();
    }
}

/// The service's thread: its runtime (two workers, like cutoverd on this
/// machine's two cores), its listeners, then `serve` until `shutdown`, or
/// until `abandon`, which drops the service and its runtime where they
/// stand.
fn run(
    args: Vec<String>,
    (shutdown, abandon): (CancellationToken, CancellationToken),
    bound: mpsc::Sender<Result<Bound, String>>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            let _ = bound.send(Err(format!("no runtime: {err}")));
            return;
        }
    };
    runtime.block_on(async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let config = match Config::from_args(&args) {
            Ok(config) => config,
            Err(err) => {
                let _ = bound.send(Err(err.to_string()));
                return;
            }
        };
        let listeners = match listen(&config).await {
            Ok((listeners, addresses)) => {
                let _ = bound.send(Ok(addresses));
                listeners
            }
            Err(why) => {
                let _ = bound.send(Err(why));
                return;
            }
        };
        tokio::select! {
            served = serve(config, listeners, shutdown) => {
                if let Err(err) = served {
                    panic!("the in-process service failed: {err}");
                }
            }
            () = abandon.cancelled() => {}
        }
    });
    // Waits until every task is dropped, so the store, and the lock on
    // its data directory, are released before a restart opens them again.
    runtime.shutdown_timeout(RELEASE_WAIT);
}

/// Longest wait for the service's tasks and blocking work to end once it
/// stopped: they end at once unless one is stuck.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

async fn listen(config: &Config) -> Result<(Listeners, Bound), String> {
    let grpc = TcpListener::bind(config.listen.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", config.listen.listen))?;
    let listeners = Listeners::bind(config, grpc).await?;
    let address = |listener: Option<&TcpListener>| {
        listener
            .and_then(|listener| listener.local_addr().ok())
            .map(|addr| addr.to_string())
    };
    let bound = Bound {
        grpc: address(Some(&listeners.grpc)).ok_or("the gRPC listener has no address")?,
        metrics: address(listeners.metrics.as_ref()),
        mgn: address(listeners.mgn.as_ref()),
        smc: address(listeners.smc.as_ref()),
    };
    Ok((listeners, bound))
}
