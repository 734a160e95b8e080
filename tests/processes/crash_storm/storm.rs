//! The server under test, calm or in a storm: a thread kills it with
//! SIGKILL at seeded random intervals and restarts it at once on the same
//! socket (held by the test, as systemd's socket activation would), so
//! clients keep one address and their connections queue while it is down.

use std::{
    net::TcpListener,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, PoisonError,
    },
    thread::JoinHandle,
    time::Duration,
};

use rand::{rngs::StdRng, Rng, SeedableRng};
use tempfile::TempDir;
use tonic::transport::{Channel, Endpoint};

use cutover_testkit::TestServer;

/// A `cutoverd` on a held socket, perhaps in a storm.
pub(crate) struct Storm {
    endpoint: String,
    server: Arc<Mutex<Option<TestServer>>>,
    stop: Arc<AtomicBool>,
    killer: Mutex<Option<JoinHandle<u32>>>,
    socket: Arc<TcpListener>,
    dir: Arc<TempDir>,
    args: Arc<Vec<String>>,
}

impl Storm {
    /// A server left alone.
    pub(crate) fn calm(speed: &str) -> Storm {
        Storm::start(speed)
    }

    /// A server killed every `mean` on average (uniformly between a third
    /// and five thirds of it), restarted at once, until [`Storm::stop`].
    pub(crate) fn raging(speed: &str, mean: Duration, seed: u64) -> Storm {
        let storm = Storm::start(speed);
        let (server, stop) = (Arc::clone(&storm.server), Arc::clone(&storm.stop));
        let (socket, dir, args) = (
            Arc::clone(&storm.socket),
            Arc::clone(&storm.dir),
            Arc::clone(&storm.args),
        );
        let killer = std::thread::spawn(move || {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut kills = 0;
            let low = mean.as_millis() as u64 / 3;
            while !stop.load(Ordering::SeqCst) {
                let pause = rng.gen_range(low..=low * 5);
                std::thread::sleep(Duration::from_millis(pause));
                let mut slot = server.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(mut running) = slot.take() {
                    running.kill();
                    kills += 1;
                }
                *slot = Some(launch(&socket, dir.path(), &args));
            }
            kills
        });
        *storm.killer.lock().unwrap_or_else(PoisonError::into_inner) = Some(killer);
        storm
    }

    fn start(speed: &str) -> Storm {
        let socket = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", socket.local_addr().expect("address"));
        let dir = TempDir::new().expect("temp dir");
        let args: Vec<String> = ["--sim-speed", speed, "--shutdown-grace-seconds", "0"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let server = launch(&socket, dir.path(), &args);
        Storm {
            endpoint,
            server: Arc::new(Mutex::new(Some(server))),
            stop: Arc::new(AtomicBool::new(false)),
            killer: Mutex::new(None),
            socket: Arc::new(socket),
            dir: Arc::new(dir),
            args: Arc::new(args),
        }
    }

    /// A channel that reconnects by itself after each restart; calls time
    /// out rather than wait on a dead process.
    pub(crate) fn channel(&self) -> Channel {
        Endpoint::from_shared(self.endpoint.clone())
            .expect("endpoint")
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            .connect_lazy()
    }

    /// Ends the storm, leaving the server running; returns how many times
    /// it was killed.
    pub(crate) fn stop(&self) -> u32 {
        self.stop.store(true, Ordering::SeqCst);
        let killer = self
            .killer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        killer.map_or(0, |k| k.join().expect("the killer thread"))
    }
}

impl Drop for Storm {
    fn drop(&mut self) {
        self.stop();
    }
}

fn launch(socket: &TcpListener, dir: &std::path::Path, args: &[String]) -> TestServer {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    TestServer::start_on(socket, dir, &args)
}
