//! `cutoverd`: serves the cutover API on its embedded defaults.

use std::process::ExitCode;

use cutover::{
    config::{Config, LogFormat},
    server::Listeners,
};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's allocator: `malloc`/`free` were a fifth of
/// a replica's samples under load (perf), most of it glibc's bin
/// management (`_int_malloc`, `unlink_chunk`, `malloc_consolidate`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The config file's values are applied to the environment, which is
    // only sound before the runtime starts its threads.
    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("cutoverd: {err}");
            return ExitCode::FAILURE;
        }
    };
    let filter = EnvFilter::try_from_env("CUTOVER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.logging.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    // With the LIFO slot, a watch stream that sends a frame wakes its
    // connection task, which runs at once and flushes that one frame: one
    // syscall and one TCP segment per event per watcher. Without it the
    // connection batches the frames of every stream that woke it (measured:
    // a third less CPU per delivery, half the p99 at 10,000 watchers).
    #[cfg(tokio_unstable)]
    runtime.disable_lifo_slot();
    match runtime.enable_all().build() {
        Ok(runtime) => runtime.block_on(run(config)),
        Err(err) => {
            eprintln!("cutoverd: cannot start the runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> ExitCode {
    let listener = match grpc_listener(&config).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cutoverd: cannot listen on {}: {err}", config.listen.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("cutoverd: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = cutover::server::check_exposure(&config.auth, addr) {
        eprintln!("cutoverd: {err}");
        return ExitCode::FAILURE;
    }
    let listeners = match Listeners::bind(&config, listener).await {
        Ok(listeners) => listeners,
        Err(err) => {
            eprintln!("cutoverd: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {addr}");
    for (name, listener) in [
        ("metrics", &listeners.metrics),
        ("mgn", &listeners.mgn),
        ("smc", &listeners.smc),
    ] {
        if let Some(Ok(bound)) = listener.as_ref().map(TcpListener::local_addr) {
            println!("{name} on {bound}");
        }
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(signal_shutdown(shutdown.clone()));
    match cutover::server::serve(config, listeners, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cutoverd: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The gRPC listener: the socket a service manager passed (systemd socket
/// activation, `LISTEN_FDS`), else a new one on `--listen`. A passed socket
/// outlives the process, so a restart never refuses a connection (the
/// kernel queues it until the new process accepts) and the address can
/// never be taken by another process in between.
async fn grpc_listener(config: &Config) -> std::io::Result<TcpListener> {
    match listenfd::ListenFd::from_env().take_tcp_listener(0)? {
        Some(passed) => {
            passed.set_nonblocking(true)?;
            TcpListener::from_std(passed)
        }
        None => TcpListener::bind(config.listen.listen).await,
    }
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn signal_shutdown(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(err) => {
                    tracing::error!(%err, "cannot watch SIGTERM");
                    let _ = interrupt.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    shutdown.cancel();
}
